// @ts-check
// The console's volunteers (commanders and operators, while an incident is open): the join QR
// to show a stranger, and the volunteers waiting for Approve / Decline.
import { api, uuid } from "./api.js";
import { $, h } from "./dom.js";
import { lang, shortTime, t } from "./i18n.js";
import { showPass } from "./passes-dialog.js";

/** @typedef {import("./console-store.js").ConsoleStore} ConsoleStore */
/** @typedef {import("./console-store.js").Volunteer} Volunteer */

const VOLUNTEER_EVENTS = /^volunteer\./;
const REFRESH_DEBOUNCE_MS = 300; // a burst of joins costs one read

/**
 * The volunteers panel; `refresh()` reads the list again, `onEvent(event)` after volunteer.*.
 * @param {ConsoleStore} store
 * @param {{canCommand: boolean}} options
 */
export function volunteersPanel(store, { canCommand }) {
  const el = {
    panel: $("#volunteers"),
    list: $("#volunteer-list"),
    qr: /** @type {HTMLButtonElement} */ ($("#volunteer-qr")),
    pass: $("#volunteer-pass"),
    expires: $("#volunteer-expires"),
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  async function refresh() {
    if (!canCommand || !store.openIncident()) {
      store.set({ volunteers: [] });
      return;
    }
    try {
      store.set({ volunteers: await api(store.incidentPath("/volunteers")) });
    } catch (err) {
      store.set({ volunteers: [] });
      console.warn("konenut: volunteers", err);
    }
  }

  /**
   * Approve or decline at once (not through the outbox: the decision means nothing offline).
   * @param {Volunteer} volunteer
   * @param {"approve" | "decline"} decision
   * @param {HTMLButtonElement} button
   */
  async function decide(volunteer, decision, button) {
    button.disabled = true;
    try {
      await api(store.incidentPath(`/volunteers/${volunteer.volunteer_id}/${decision}`), { method: "POST", body: {}, key: uuid() });
      await refresh();
    } catch (err) {
      button.disabled = false;
      button.title = err.message;
    }
  }

  async function showVolunteerPass() {
    el.qr.disabled = true;
    try {
      const pass = await api(store.incidentPath("/volunteer-pass"), { method: "POST", body: { language: lang }, key: uuid() });
      showPass(el.pass, pass);
      el.expires.textContent = pass.expires_at ? t("operator.volunteer_expires", { time: shortTime(pass.expires_at) }) : "";
      el.pass.hidden = false;
      el.pass.scrollIntoView({ block: "nearest" });
    } catch (err) {
      el.expires.textContent = err.message;
      el.pass.hidden = false;
    } finally {
      el.qr.disabled = false;
    }
  }

  /**
   * @param {Volunteer} v
   * @param {"approve" | "decline"} decision
   * @param {string} className
   * @param {string} label
   */
  const decideButton = (v, decision, className, label) => h("button", {
    type: "button", class: `small ${className}`, onclick: (/** @type {MouseEvent} */ e) => decide(v, decision, /** @type {HTMLButtonElement} */ (e.currentTarget)),
  }, label);

  el.qr.addEventListener("click", showVolunteerPass);
  $("#volunteer-pass-close").addEventListener("click", () => { el.pass.hidden = true; });
  store.subscribe(() => {
    el.panel.hidden = !canCommand || !store.openIncident();
    const pending = store.volunteers.filter((v) => v.status === "pending");
    el.list.replaceChildren(...pending.map((v) => h("li", { class: "row volunteer warn", dataset: { volunteer: v.volunteer_id } },
      h("span", { class: "who", dir: "auto" }, v.name,
        h("small", { class: "muted" }, ` ${[v.affiliation ? t(`operator.affiliation.${v.affiliation}`) : null, v.armed ? t("sighting.armed") : null, v.phone].filter(Boolean).join(" · ")}`)),
      decideButton(v, "approve", "primary approve", t("operator.volunteer_approve")),
      decideButton(v, "decline", "decline", t("operator.volunteer_decline")))));
  });

  return {
    refresh,
    /** @param {{type: string}} event */
    onEvent(event) {
      if (!VOLUNTEER_EVENTS.test(event.type)) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
    },
  };
}
