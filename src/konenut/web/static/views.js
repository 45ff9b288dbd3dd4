// @ts-check
// Which page each role opens; a token with several roles gets a switcher (contracts §4).
import { LANG_KEY } from "./storage.js";

export const VIEWS = ["operator", "responder", "resident", "registry"]; // most capable first
const VIEW_OF_ROLE = {
  commander: "operator",
  operator: "operator",
  admin: "operator",
  liaison: "operator",
  medic: "responder",
  responder: "responder",
  volunteer: "responder",
  resident: "resident",
  guest: "resident",
};
export const LANGUAGES = ["he", "ar", "en", "th", "ne"];

/** The pages a token may open, most capable first. */
export function viewsFor(me) {
  const views = new Set((me.roles || []).map((role) => VIEW_OF_ROLE[role]).filter(Boolean));
  if (me.household_id) views.add("resident"); // a responder checks in their own household
  if ((me.roles || []).includes("admin")) views.add("registry"); // the household editor
  return VIEWS.filter((view) => views.has(view));
}

/** The language to show: the user's choice, else the person's/household's, else `fallback`. */
export function languageFor(me, fallback) {
  const chosen = localStorage.getItem(LANG_KEY);
  if (LANGUAGES.includes(chosen)) return chosen;
  const own = (me && me.languages) || [];
  return own.find((code) => LANGUAGES.includes(code)) || fallback;
}

export function homeFor(me, fallbackLang) {
  const view = viewsFor(me)[0] || "resident";
  return `/${languageFor(me, fallbackLang)}/${view}`;
}
