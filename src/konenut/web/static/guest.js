// @ts-check
// The pass page's other purposes: a household card enrols this phone for its household and
// opens the resident page; a guest poster asks "how many, which building, a phone" and opens
// the resident page in guest mode; a liaison pass enrols the arriving unit's device
// (liaison-join.js). The volunteer's form stays in join.js.
import { getToken, uuid } from "./api.js";
import { $, field } from "./dom.js";
import { lang, num, t } from "./i18n.js";
import { HOME_KEY, TOKEN_KEY } from "./storage.js";
import { RADIO_CODE, joinAsLiaison } from "./liaison-join.js";

const SQUAD_ROLES = ["admin", "commander", "operator", "responder", "medic", "volunteer", "liaison"];

async function post(path, body, key) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key },
    body: JSON.stringify(body),
  });
  return { response, answer: await response.json().catch(() => ({})) };
}

/** True when this device already serves the squad: a card or poster must not replace it. */
async function squadDevice() {
  const token = getToken();
  if (!token) return false;
  const response = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
  if (!response || !response.ok) return false;
  const me = await response.json();
  return (me.roles || []).some((role) => SQUAD_ROLES.includes(role));
}

function enrolled(answer, roles) {
  localStorage.setItem(TOKEN_KEY, answer.token);
  const home = `/${lang}/resident`;
  localStorage.setItem(HOME_KEY, home);
  history.replaceState(null, "", location.pathname); // the code stays on the card, not in history
  location.replace(home);
}

async function redeemCard(code, { show }) {
  show(t("join.sending"));
  const { response, answer } = await post("/api/v1/passes/redeem-card", { code }, uuid());
  if (!response.ok) {
    show(`${t("join.failed")}: ${answer.detail || response.status}`, "bad");
    return;
  }
  enrolled(answer, ["resident"]);
}

function guestForm(code, poster, { show, refusal }) {
  const form = $("#guest");
  form.hidden = false;
  $("main > h2").textContent = t("guest.title");
  field("#guest-building").value = poster.building_ref || "";
  const most = poster.max_people || 500; // the site's cap of people per check-in
  /** @type {HTMLInputElement} */ ($("#guest-people")).max = String(most);
  const tooMany = () => t("guest.bad_people", { max: num(most) });
  const key = uuid(); // one key while this form is retried
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const people = Number(field("#guest-people").value);
    const phone = field("#guest-phone").value.trim();
    if (!Number.isInteger(people) || people < 1 || people > most) {
      show(tooMany(), "bad");
      $("#guest-people").focus();
      return;
    }
    const building = field("#guest-building").value.trim();
    const body = { code, people_count: people, language: lang, ...(building ? { building_ref: building } : {}), ...(phone ? { phone } : {}) };
    /** @type {HTMLButtonElement} */ ($("#guest-submit")).disabled = true;
    show(t("join.sending"));
    const { response, answer } = await post("/api/v1/passes/redeem-guest", body, key).catch(() => ({ response: null, answer: {} }));
    /** @type {HTMLButtonElement} */ ($("#guest-submit")).disabled = false;
    if (!response) show(t("join.offline"), "bad");
    else if (!response.ok) show(guestRefusal(answer, response.status) || refusal(answer, response.status, "#guest-phone"), "bad");
    else enrolled(answer, ["guest"]);
  });

  /** The poster's caps said in the guest's language (docs/residents.md, guest posters). */
  function guestRefusal(answer, status) {
    if ((answer.errors || []).some((e) => e.loc === "body.people_count")) return tooMany();
    if (status === 429) return t("guest.busy");
    if (answer.type === "urn:konenut:problem:pass-used-up") return t("guest.used_up");
    return null;
  }
}

/** What a pass's code is for (a 12-digit code is a liaison pass's radio code); null if unknown. */
async function purposeOf(code) {
  if (RADIO_CODE.test(code)) return { purpose: "liaison" };
  const { response, answer } = await post("/api/v1/passes/inspect", { code }, uuid());
  return response.ok ? answer : null;
}

/** Handles a card, a poster or a liaison pass (its radio code too); false when the code is for
 * the volunteer's form (or unknown). */
export async function passPurpose(code, ui) {
  let found;
  try {
    found = await purposeOf(code);
  } catch {
    found = null;
  }
  if (!found || !["household_card", "guest_poster", "liaison"].includes(found.purpose)) return false;
  if (await squadDevice()) {
    ui.show(t("join.already"), "ok");
    $("#next").hidden = false;
    return true;
  }
  if (found.purpose === "household_card") redeemCard(code, ui);
  else if (found.purpose === "liaison") joinAsLiaison(code, ui);
  else if (!found.incident_open) ui.show(t("guest.no_incident"), "wait");
  else guestForm(code, found, ui);
  return true;
}
