// @ts-check
// How the console colours and orders states — a responder's answer, a household's check-in —
// shared by its boards and its timeline.
import { h } from "./dom.js";
import { num } from "./i18n.js";

export const RESPONDER_ORDER = ["wounded", "in_position", "at_rally_point", "en_route", "coming", "seen", "notified", "cannot", "out"];
/** @type {Record<string, string>} */
export const STATUS_TONE = {
  wounded: "bad", in_position: "ok", at_rally_point: "ok", en_route: "warn", coming: "warn",
  seen: "none", notified: "none", cannot: "none", out: "none", not_reached: "bad",
};
export const HOUSEHOLD_ORDER = ["intruder", "need_medic", "smoke", "safe", "not_home"];
/** @type {Record<string, string>} */
export const HOUSEHOLD_TONE = { intruder: "bad", need_medic: "bad", smoke: "bad", safe: "ok", not_home: "none" };

/**
 * Where a state with a `status` comes in `order` (unknown or none: last).
 * @param {string[]} order
 * @param {{status: string} | null} state
 */
export function rank(order, state) {
  const i = state ? order.indexOf(state.status) : -1;
  return i === -1 ? order.length : i;
}

/**
 * A tally chip: "Coming 3".
 * @param {string} label
 * @param {number} value
 * @param {string} [tone]
 */
export function countChip(label, value, tone) {
  return h("span", { class: `count ${tone || ""}` }, label, h("b", { class: "num" }, num(value)));
}
