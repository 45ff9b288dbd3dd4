// @ts-check
// The challenge and password on a squad member's phone: hidden until an explicit tap, hidden
// again after 30 s or as soon as the page is hidden. The words are fetched at each unlock and
// never kept on the device (no snapshot, no title, no notification).
import { api } from "./api.js";
import { $, h } from "./dom.js";
import { t, time } from "./i18n.js";

const SHOWN_FOR_MS = 30000;
let hideTimer = null;
let incidentOf = () => null;

/** `incidentId()`: the open incident the page shows, or null. */
export function setupChallenge(incidentId) {
  incidentOf = incidentId;
  $("#challenge-unlock").addEventListener("click", () => unlock().catch((err) => console.warn("konenut: challenge", err)));
  $("#challenge-hide").addEventListener("click", lock);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState !== "visible") lock(); });
  addEventListener("pagehide", lock);
}

/** A new pair: shown at once if the words are on screen (still only until the timer), else
 * announced by its time (the words stay behind the tap). */
export function onChallengeEvent(event) {
  if (event.type !== "challenge.set") return;
  if (!$("#challenge-words").hidden) unlock().catch(() => lock());
  else $("#challenge-changed").textContent = t("responder.challenge.changed", { time: time(event.occurred_at) });
}

export function renderChallenge(open) {
  $("#challenge").hidden = !open;
  if (!open) lock();
}

async function unlock() {
  const incidentId = incidentOf();
  if (!incidentId) return;
  const shown = await api(`/api/v1/incidents/${incidentId}/challenge`);
  const pair = shown.current;
  const previous = shown.previous;
  $("#challenge-words").replaceChildren(...(pair
    ? [
      h("p", { class: "pair" },
        h("span", { class: "label" }, t("responder.challenge.challenge")),
        h("strong", { class: "word", id: "challenge-word", dir: "auto" }, pair.challenge)),
      h("p", { class: "pair" },
        h("span", { class: "label" }, t("responder.challenge.password")),
        h("strong", { class: "word", id: "password-word", dir: "auto" }, pair.password)),
      previous
        ? h("p", { class: "previous" }, t("responder.challenge.previous", { time: time(previous.until), challenge: previous.challenge, password: previous.password }))
        : null,
    ]
    : [h("p", { class: "muted" }, t("responder.challenge.none"))]).filter(Boolean));
  $("#challenge-words").hidden = false;
  $("#challenge-changed").textContent = "";
  $("#challenge-unlock").hidden = true;
  $("#challenge-hide").hidden = false;
  clearTimeout(hideTimer);
  hideTimer = setTimeout(lock, SHOWN_FOR_MS);
}

function lock() {
  clearTimeout(hideTimer);
  hideTimer = null;
  $("#challenge-words").replaceChildren(); // gone from the page, not just out of sight
  $("#challenge-words").hidden = true;
  $("#challenge-unlock").hidden = false;
  $("#challenge-hide").hidden = true;
}
