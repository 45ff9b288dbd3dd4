// @ts-check
// The console's boards as tabs on a narrow screen (map, squad, households, timeline).
import { $$ } from "./dom.js";

/** @type {Set<(name: string) => void>} */
const listeners = new Set();

/**
 * Show the tab `name` (a wide screen shows every board anyway).
 * @param {string} name
 */
export function showTab(name) {
  document.body.dataset.tab = name;
  for (const listener of listeners) listener(name);
}

/**
 * Make the tab buttons work; `onShow(name)` hears every tab shown.
 * @param {(name: string) => void} onShow
 */
export function setupTabs(onShow) {
  listeners.add(onShow);
  $$(".tabs button").forEach((button) => button.addEventListener("click", () => showTab(button.dataset.tab || "map")));
}
