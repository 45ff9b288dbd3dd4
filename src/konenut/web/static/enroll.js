// @ts-check
// Redeem the one-time code in the link's #fragment (never sent to servers or logs) for a
// device token kept on this device, then open the page of the token's most capable role in the
// link's language. Retries with the same Idempotency-Key until answered.
import { bareCode, getToken, uuid } from "./api.js";
import { config, lang, t } from "./i18n.js";
import { languageLinks } from "./langs.js";
import { ENROLL_KEY_PREFIX, HOME_KEY, LANG_KEY, TOKEN_KEY } from "./storage.js";
import { homeFor } from "./views.js";

const RETRY_MS = 3000;
const REDIRECT_MS = 600; // a glance at "enrolled as ..." before the app opens
const status = document.getElementById("status");
const code = bareCode(decodeURIComponent(location.hash.slice(1)));
const keyName = ENROLL_KEY_PREFIX + code;

function show(text, kind) {
  status.textContent = text;
  status.className = `status ${kind || ""}`;
}

async function whoAmI(token) {
  const response = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  return response.ok ? response.json() : null;
}

function showWho(me) {
  const name = document.getElementById("who-name");
  name.textContent = me.name || "";
  name.hidden = /** @type {HTMLElement} */ (name.previousElementSibling).hidden = !me.name; // a guest or liaison has no name
  document.getElementById("who-role").textContent = t(`role.${me.primary_role}`);
  document.getElementById("who").hidden = false;
  const home = homeFor(me, lang);
  localStorage.setItem(HOME_KEY, home);
  /** @type {HTMLAnchorElement} */ (document.getElementById("open-app")).href = home;
  document.getElementById("next").hidden = false;
  return home;
}

async function enroll() {
  if (!code) {
    const token = getToken();
    const me = token && (await whoAmI(token).catch(() => null));
    if (me) {
      show(t("enroll.already"), "ok");
      showWho(me);
    } else {
      show(t("enroll.no_code"), "bad");
    }
    return;
  }
  let key = localStorage.getItem(keyName);
  if (!key) {
    key = uuid();
    localStorage.setItem(keyName, key);
  }
  let response;
  try {
    response = await fetch("/api/v1/enroll", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ code, device_name: navigator.userAgent.slice(0, 100) }),
    });
  } catch {
    show(t("enroll.offline"), "bad");
    setTimeout(enroll, RETRY_MS);
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (response.status >= 500) {
    show(t("enroll.offline"), "bad");
    setTimeout(enroll, RETRY_MS);
    return;
  }
  if (!response.ok) {
    show(`${t("enroll.failed")}: ${body.detail || response.status}`, "bad");
    return;
  }
  localStorage.setItem(TOKEN_KEY, body.token);
  localStorage.removeItem(keyName);
  localStorage.setItem(LANG_KEY, lang); // the link's language is this device's until changed
  history.replaceState(null, "", location.pathname); // the code is spent: drop it from the URL
  show(t("enroll.done"), "ok");
  const me = await whoAmI(body.token).catch(() => null);
  if (!me) return;
  const home = showWho(me);
  setTimeout(() => location.replace(home), REDIRECT_MS);
}

document.getElementById("langs").replaceChildren(
  ...languageLinks(config.languages, (c) => `/${c}/enroll${location.hash}`),
);
enroll();
