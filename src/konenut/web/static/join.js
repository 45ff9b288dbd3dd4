// @ts-check
// Join an incident as a volunteer with a standing pass: the code comes in the link's #fragment
// (never sent to servers or logs) or is typed as read out. A short form, then "waiting for the
// commander's approval" (polled) and, once approved, the responder view of that incident.
import { bareCode, getToken, uuid } from "./api.js";
import { $, $$, field, h } from "./dom.js";
import { config, lang, t } from "./i18n.js";
import { HOME_KEY, JOIN_KEY, LANG_KEY, TOKEN_KEY, readJson, writeJson } from "./storage.js";
import { passPurpose } from "./guest.js";
import { RADIO_CODE } from "./liaison-join.js";

const POLL_MS = 3000;
const RETRY_MS = 3000;
const CODE_CHARS = 16;

const form = $("#join");
const status = $("#status");
const bare = (text) => bareCode(decodeURIComponent(text));
let code = bare(location.hash.slice(1));

function show(text, kind = "") {
  status.textContent = text;
  status.className = `status ${kind}`;
}

function pick(group, value) {
  $$(`#${group} button`).forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.value === value)));
}

const picked = (group) => {
  const button = $(`#${group} button[aria-pressed=true]`);
  return button ? button.dataset.value : null;
};

/** Why the server refused a form: the phone's own words (focused) when it could not read the
 * number, as typed and read with the site's country code; else its detail. */
function refusal(answer, status, phoneField) {
  if ((answer.errors || []).some((e) => e.loc === "body.phone")) {
    $(phoneField).focus();
    return t("join.bad_phone");
  }
  return `${t("join.failed")}: ${answer.detail || status}`;
}

function showForm() {
  form.hidden = false;
  $("#code-box").hidden = code.length === CODE_CHARS;
  show("");
}

function formBody() {
  const typed = code.length === CODE_CHARS ? code : bare(field("#code").value);
  const name = field("#name").value.trim();
  const phone = field("#phone").value.trim();
  const affiliation = picked("affiliation");
  const armed = picked("armed");
  /** @type {[boolean, string, string][]} what is wrong, its words, where to fix it */
  const checks = [
    [typed.length !== CODE_CHARS, "join.need_code", "#code"],
    [!name, "join.need_name", "#name"],
    [!affiliation, "join.need_affiliation", "#affiliation button"],
    [!armed, "join.need_armed", "#armed button"],
  ];
  const missing = checks.find(([wrong]) => wrong);
  if (missing) {
    show(t(missing[1]), "bad");
    $(missing[2]).focus();
    return null;
  }
  return { code: typed, name, ...(phone ? { phone } : {}), affiliation, armed: armed === "true", language: lang };
}

/** The Idempotency-Key for this body: the same one while the same form is retried. */
function keyFor(body) {
  const text = JSON.stringify(body);
  const stored = readJson(JOIN_KEY, null);
  if (stored && stored.body === text) return stored.key;
  const key = uuid();
  writeJson(JOIN_KEY, { body: text, key });
  return key;
}

async function redeem(body) {
  /** @type {HTMLButtonElement} */ ($("#submit")).disabled = true;
  show(t("join.sending"));
  let response;
  try {
    response = await fetch("/api/v1/passes/redeem", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": keyFor(body) },
      body: JSON.stringify(body),
    });
  } catch {
    response = null;
  }
  if (!response || response.status >= 500) {
    show(t("join.offline"), "bad");
    setTimeout(() => redeem(body), RETRY_MS);
    return;
  }
  const answer = await response.json().catch(() => ({}));
  /** @type {HTMLButtonElement} */ ($("#submit")).disabled = false;
  if (!response.ok) {
    show(refusal(answer, response.status, "#phone"), "bad");
    return;
  }
  localStorage.setItem(TOKEN_KEY, answer.token);
  localStorage.setItem(HOME_KEY, `/${lang}/p`); // the app's start comes back here until approved
  localStorage.removeItem(JOIN_KEY);
  history.replaceState(null, "", location.pathname); // the code stays on the wall, not in history
  code = "";
  form.hidden = true;
  wait();
}

/** My standing: {status} from the server, {gone: slug} when the token no longer works. */
async function standing(token) {
  const response = await fetch("/api/v1/volunteers/me", {
    headers: { Authorization: `Bearer ${token}` },
    cache: "no-store",
  });
  if (response.status === 401) {
    const problem = await response.json().catch(() => ({}));
    return { gone: String(problem.type || "").split(":").pop() };
  }
  if (!response.ok) return { other: response.status };
  return response.json();
}

function ended(slug) {
  show(t(slug === "token-revoked" ? "join.declined" : "join.ended"), "bad");
}

function approved() {
  show(t("join.approved"), "ok");
  const home = `/${lang}/responder`;
  localStorage.setItem(HOME_KEY, home);
  location.replace(home);
}

async function wait() {
  show(t("join.waiting"), "wait");
  let me;
  try {
    me = await standing(getToken());
  } catch {
    setTimeout(wait, POLL_MS); // offline: keep waiting
    return;
  }
  if (me.gone) ended(me.gone);
  else if (me.status === "approved") approved();
  else if (me.status === "declined") ended("token-revoked");
  else setTimeout(wait, POLL_MS);
}

async function start() {
  // A household card, a guest poster or a liaison pass has its own short way in (guest.js).
  if ((code.length === CODE_CHARS || RADIO_CODE.test(code)) && (await passPurpose(code, { show, refusal }))) return;
  const token = getToken();
  if (!token) {
    showForm();
    return;
  }
  let me;
  try {
    me = await standing(token);
  } catch {
    me = null;
  }
  if (me && me.status) {
    if (me.status === "approved") approved();
    else wait();
  } else if (me && me.other === 403) {
    // A squad member's device: a volunteer pass must not replace its token.
    show(t("join.already"), "ok");
    /** @type {HTMLAnchorElement} */ ($("#open-app")).href = localStorage.getItem(HOME_KEY) || "/";
    $("#next").hidden = false;
  } else if (code || !me) {
    showForm(); // a new pass, or this device's old token is spent
  } else {
    ended(me.gone);
  }
}

for (const group of ["affiliation", "armed"]) {
  $$(`#${group} button`).forEach((b) => b.addEventListener("click", () => pick(group, b.dataset.value)));
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = formBody();
  if (body) redeem(body);
});
$("#langs").replaceChildren(...config.languages.map(({ code: c, name }) => h("a", {
  href: `/${c}/p${location.hash}`, lang: c, class: "button small", "aria-current": c === lang ? "page" : null,
  onclick: () => localStorage.setItem(LANG_KEY, c),
}, name)));
start();
