// @ts-check
// The page's catalogue and configuration, embedded by the server (web/routes.py): one
// language per page, chosen in the URL (/{lang}/{page}).
const read = (id) => JSON.parse(document.getElementById(id).textContent);

export const messages = read("messages");
export const config = read("config");
export const lang = config.lang;
// Arabic speakers here write Western digits; other languages use their CLDR defaults.
const locale = lang === "ar" ? "ar-u-nu-latn" : lang;

/**
 * The message `key`, with {name} placeholders filled from `vars`. Each value is wrapped in
 * Unicode first-strong isolates, so an English house name inside an Arabic sentence (or a
 * Hebrew one inside Thai) keeps its own direction and does not scramble the sentence.
 */
export function t(key, vars) {
  let text = messages[key];
  if (text === undefined) {
    console.warn("konenut: no message", key);
    text = key;
  }
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? `\u2068${vars[name]}\u2069` : whole));
}

const clock = new Intl.DateTimeFormat(locale, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const shortClock = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const numbers = new Intl.NumberFormat(locale);

/** A device-local wall-clock time ("14:03:27") of an RFC 3339 stamp or epoch ms. */
export const time = (when) => (when ? clock.format(new Date(when)) : "");
export const shortTime = (when) => (when ? shortClock.format(new Date(when)) : "");
export const num = (n) => numbers.format(n);

/** "45 sec", "3 min", "2 hr" in the page's language. */
export function duration(secs) {
  const s = Math.max(0, Math.floor(secs));
  const [value, unit] = s < 60 ? [s, "second"] : s < 3600 ? [Math.floor(s / 60), "minute"] : [Math.floor(s / 3600), "hour"];
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" }).format(value);
}

/**
 * Free text inside a sentence of the page's language keeps its own direction.
 * @param {string} text
 */
export const isolate = (text) => `\u2068${text}\u2069`;

/** Seconds since a stamp. */
export const ageSecs = (when) => (Date.now() - new Date(when).getTime()) / 1000;
