// @ts-check
// The console's challenge dialog: the commander sets or rotates the squad's challenge and
// password; commanders and operators set the safe word residents are told. The words are read
// when the dialog opens and removed from the page when it closes.
import { api, uuid } from "./api.js";
import { $, field } from "./dom.js";
import { t, time } from "./i18n.js";

/** `incidentPath(suffix)`: the open incident's API path; `isCommander`: may set the pair;
 * `canCommand`: may set the safe word (a liaison only reads). */
export function challengeConsole({ incidentPath, isCommander, canCommand }) {
  const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-challenge"));
  $("#challenge-controls").hidden = !isCommander;
  $("#safe-word-set").hidden = !canCommand;
  /** @type {HTMLInputElement} */ ($("#safe-word-input")).readOnly = !canCommand;
  let opening = false; // the words are read before the dialog shows them
  const show = async () => {
    const shown = await api(incidentPath("/challenge"));
    if (!dialog.open && !opening) return; // closed meanwhile: the words stay off the page
    const pair = shown.current;
    $("#challenge-now").textContent = pair
      ? t("operator.challenge.current", { challenge: pair.challenge, password: pair.password })
      : t("operator.challenge.none");
    const previous = shown.previous;
    $("#challenge-previous").textContent = previous
      ? `${time(previous.until)} · ${previous.challenge} / ${previous.password}`
      : "";
    field("#safe-word-input").value = shown.safe_word || "";
  };
  const run = async (method, suffix, body) => {
    try {
      await api(incidentPath(suffix), { method, body, key: uuid() });
      $("#challenge-error").textContent = "";
    } catch (err) {
      $("#challenge-error").textContent = err.message;
    }
    await show();
  };
  $("#cmd-challenge").addEventListener("click", async () => {
    $("#challenge-error").textContent = "";
    opening = true;
    await show().catch((err) => { $("#challenge-error").textContent = err.message; });
    opening = false;
    dialog.showModal();
  });
  $("#challenge-generate").addEventListener("click", () => run("POST", "/challenge/rotate", {}));
  $("#challenge-set").addEventListener("click", () => {
    const challenge = field("#challenge-input").value.trim();
    const password = field("#password-input").value.trim();
    if (challenge && password) run("PUT", "/challenge", { challenge, password });
  });
  $("#safe-word-set").addEventListener("click", () => {
    const word = field("#safe-word-input").value.trim();
    if (word) run("PUT", "/safe-word", { word });
  });
  dialog.addEventListener("close", () => {
    for (const id of ["#challenge-now", "#challenge-previous"]) $(id).textContent = "";
    for (const id of ["#challenge-input", "#password-input"]) field(id).value = "";
  });
}
