// @ts-check
// The language choice of the pages before the app (landing, enrollment): a link per language.
import { h } from "./dom.js";
import { LANG_KEY } from "./storage.js";

/** A link per language (`hrefOf(code)`); following one makes it this device's language. */
export function languageLinks(languages, hrefOf) {
  return languages.map(({ code, name }) => h("a", {
    href: hrefOf(code), lang: code, class: "button small",
    "aria-current": code === document.documentElement.lang ? "page" : null,
    onclick: () => localStorage.setItem(LANG_KEY, code),
  }, name));
}
