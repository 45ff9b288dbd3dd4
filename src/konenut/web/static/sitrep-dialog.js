// @ts-check
// The console's SITREP dialog: the situation as of now in one tap. It shows the short text (to
// read out over the radio), opens the printable page, downloads the PDF, and sends the text
// through a configured channel to someone who may receive it (docs/sitrep.md).
import { api, request, problemOf, uuid } from "./api.js";
import { $, field } from "./dom.js";
import { lang, t } from "./i18n.js";

const CHANNELS = ["sms", "email", "telegram", "signal", "whatsapp", "voice"];
const RECIPIENT_ROLES = ["commander", "operator", "admin"]; // app/permissions.SITREP_RECIPIENTS

/**
 * @param {{incidentPath: (suffix: string) => string, canSend: boolean}} options
 */
export function sitrepDialog({ incidentPath, canSend }) {
  const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-sitrep"));
  const say = (/** @type {string} */ message) => { $("#sitrep-error").textContent = message; };
  /** The report in one format, as a Blob (the token goes in the header, not in a URL). */
  const fetchReport = async (/** @type {string} */ format) => {
    const response = await request("GET", incidentPath(`/sitrep.${format}?lang=${lang}`));
    if (!response.ok) throw new Error((await problemOf(response)).detail || response.statusText);
    return response.blob();
  };
  const fillSend = async () => {
    const channels = /** @type {HTMLSelectElement} */ ($("#sitrep-channel"));
    channels.replaceChildren(...CHANNELS.map((c) => new Option(t(`operator.channel.${c}`), c)));
    const people = /** @type {any[]} */ (await api("/api/v1/site/people"));
    const receivers = people.filter((p) => p.roles.some((r) => RECIPIENT_ROLES.includes(r)));
    /** @type {HTMLSelectElement} */ ($("#sitrep-to")).replaceChildren(
      new Option(t("sitrep.own_target"), ""),
      ...receivers.map((p) => new Option(p.name, p.person_id)),
    );
  };
  $("#cmd-sitrep").addEventListener("click", async () => {
    say("");
    $("#sitrep-text").textContent = "";
    $("#sitrep-result").textContent = "";
    $("#sitrep-making").hidden = false;
    $("#sitrep-send-box").hidden = !canSend;
    dialog.showModal();
    try {
      $("#sitrep-text").textContent = await (await fetchReport("txt")).text();
      if (canSend) await fillSend();
    } catch (err) {
      say(err.message);
    }
    $("#sitrep-making").hidden = true;
  });
  $("#sitrep-print").addEventListener("click", async () => {
    try {
      window.open(URL.createObjectURL(await fetchReport("html")), "_blank");
    } catch (err) {
      say(err.message);
    }
  });
  $("#sitrep-pdf").addEventListener("click", async () => {
    try {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await fetchReport("pdf"));
      link.download = "sitrep.pdf";
      link.click();
    } catch (err) {
      say(err.message);
    }
  });
  $("#sitrep-send").addEventListener("click", async () => {
    const person = field("#sitrep-to").value;
    const body = { channel: field("#sitrep-channel").value, ...(person ? { person_id: person } : {}) };
    try {
      const sent = await api(incidentPath("/sitrep/send"), { method: "POST", body, key: uuid() });
      $("#sitrep-result").textContent = sent.sent
        ? `${t("sitrep.sent")} · ${sent.to}`
        : t("sitrep.not_sent", { reason: sent.detail });
    } catch (err) {
      say(err.message);
    }
  });
}
