// @ts-check
// "/" (the installed app's start): open this device's page, or the landing page.
import { HOME_KEY, LANG_KEY, TOKEN_KEY } from "./storage.js";
import { LANGUAGES } from "./views.js";

const home = localStorage.getItem(HOME_KEY);
if (home && localStorage.getItem(TOKEN_KEY)) {
  location.replace(home);
} else {
  const wanted = [localStorage.getItem(LANG_KEY), ...(navigator.languages || [])]
    .filter(Boolean)
    .map((code) => code.slice(0, 2));
  const lang = wanted.find((code) => LANGUAGES.includes(code)) || "he";
  location.replace(`/${lang}/`);
}
