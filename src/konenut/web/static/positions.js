// @ts-check
// Friendly units on the map as the squad reads them (issue 6): callsign, muster state, how long
// ago; a unit not heard from fades in steps (> 2 min faded, > 10 min grey, "10 min ago").
// Ages move on every 15 s by editing the markers in place, never by redrawing the layer.
import { ageSecs, duration, t } from "./i18n.js";

export const FADED_SECS = 120;
export const GREY_SECS = 600;
export const AGE_TICK_MS = 15000;
// Muster answers as three colours: on the way or there, out of it, hurt.
const STATE_CLASS = {
  coming: "ms-go", en_route: "ms-go", at_rally_point: "ms-go", in_position: "ms-go",
  cannot: "ms-out", out: "ms-out", wounded: "ms-hurt",
};
const STEPS = ["age-live", "age-faded", "age-grey"];

/** "age-live", "age-faded" or "age-grey". */
export function ageStep(at) {
  const secs = ageSecs(at);
  return secs > GREY_SECS ? "age-grey" : secs > FADED_SECS ? "age-faded" : "age-live";
}

/** "alpha-1 · 2 min", or "alpha-1 · 12 min ago" once grey. */
export function positionLabel(p) {
  const secs = ageSecs(p.at);
  const age = secs > GREY_SECS ? t("map.heard_ago", { ago: duration(secs) }) : duration(secs);
  return `${p.callsign || ""} · ${age}`;
}

/** The marker's classes for a unit and its muster state (or none). */
export function unitClasses(p, state) {
  return [ageStep(p.at), STATE_CLASS[state] || ""].filter(Boolean).join(" ");
}

/** Bring each drawn unit's fading and label up to date: [{marker, position, label}]. */
export function reage(drawn) {
  for (const { marker, position, label } of drawn) {
    const element = marker.getElement();
    if (element) {
      element.classList.remove(...STEPS);
      element.classList.add(ageStep(position.at));
    }
    label.className = `pos-label ${ageStep(position.at)}`;
    label.textContent = positionLabel(position);
  }
}
