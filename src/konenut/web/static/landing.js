// @ts-check
// The landing page (/{lang}/): a code typed as printed opens its enrollment (8 characters) or
// its standing pass (16, a household card or a poster; 12 digits, a liaison pass's radio
// code); the language links keep the choice.
import { bareCode } from "./api.js";
import { $, field } from "./dom.js";
import { config, lang } from "./i18n.js";
import { languageLinks } from "./langs.js";

const PAGE_OF_CODE_CHARS = { 8: "enroll", 12: "p", 16: "p" }; // contracts §4, docs/liaison.md

$("#code-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = bareCode(field("#code").value);
  const page = PAGE_OF_CODE_CHARS[code.length];
  $("#code-error").hidden = Boolean(page);
  if (page) location.assign(`/${lang}/${page}#${code}`);
});
$("#langs").replaceChildren(...languageLinks(config.languages, (code) => `/${code}/`));
