// @ts-check
// The responder's phone: "my tasks" with one big Accept and Done each (and the overdue mark),
// the runs given to this phone with one tap Delivered, my own requests with their state, and
// "Request supplies": what, how many, how urgent, here or on the map.
import { $, $$, h } from "./dom.js";
import { t } from "./i18n.js";
import { dueLabel, isLive, logisticsReader, placeLabel, supplyLabel } from "./logistics.js";
import * as outbox from "./outbox.js";

const LIVE_SUPPLY = new Set(["open", "assigned"]);

/**
 * @param {{me: {subject_id: string}, incidentId: () => string | null,
 *   here: () => Promise<any>, pick: (send: (location: any) => void) => void}} options
 */
export function fieldLogistics({ me, incidentId, here, pick }) {
  /** @type {Record<string, any[]>} */
  let data = {};
  const path = (/** @type {string} */ suffix) => `/api/v1/incidents/${incidentId()}${suffix}`;
  const reader = logisticsReader(() => ({
    supplies: incidentId() ? path("/supplies") : null,
    tasks: incidentId() ? path("/tasks") : null,
  }), (read) => { data = read; show(); });
  /** @param {string} suffix @param {string} label */
  const send = (suffix, label, body = {}) => outbox.send({ path: path(suffix), body, label, kind: "logistics" });

  /** @param {any} task */
  function taskRow(task) {
    const live = isLive(task);
    return h("li", { class: `task ${task.state}${task.overdue ? " overdue" : ""}`, dataset: { task: task.task_id, state: task.state } },
      h("strong", { class: "text", dir: "auto" }, task.title),
      h("span", { class: "where" }, [placeLabel(task), dueLabel(task)].filter(Boolean).join(" · ")),
      task.overdue ? h("strong", { class: "overdue-mark" }, t("task.overdue")) : null,
      h("span", { class: "st" }, t(`task.state.${task.state}`)),
      live ? h("span", { class: "task-actions" },
        task.state === "open" ? h("button", { type: "button", class: "accept", onclick: () => send(`/tasks/${task.task_id}/accept`, t("task.accept")) }, t("task.accept")) : null,
        h("button", { type: "button", class: "done primary", onclick: () => send(`/tasks/${task.task_id}/done`, t("task.done")) }, t("task.done"))) : null);
  }

  /** @param {any} supply */
  function runRow(supply) {
    return h("li", { class: `run ${supply.state}`, dataset: { supply: supply.supply_id, state: supply.state } },
      h("strong", {}, supplyLabel(supply)), h("span", { class: "where" }, placeLabel(supply)),
      supply.state === "assigned"
        ? h("button", { type: "button", class: "delivered primary", onclick: () => send(`/supplies/${supply.supply_id}/delivered`, t("supply.delivered")) }, t("supply.delivered"))
        : h("span", { class: "st" }, t(`supply.state.${supply.state}`)));
  }

  function show() {
    const tasks = (data.tasks || []).filter((task) => task.assignee_ids.includes(me.subject_id));
    $("#tasks-box").hidden = !tasks.length;
    $("#tasks").replaceChildren(...tasks.map(taskRow));
    const supplies = data.supplies || [];
    const runs = supplies.filter((s) => s.runner_person_id === me.subject_id && (LIVE_SUPPLY.has(s.state) || s.state === "delivered"));
    $("#runs-box").hidden = !runs.length;
    $("#runs").replaceChildren(...runs.map(runRow));
    const mine = supplies.filter((s) => s.requested_by === me.subject_id);
    $("#my-supplies").replaceChildren(...mine.map((s) => h("li", { class: `mine ${s.state}`, dataset: { supply: s.supply_id, state: s.state } },
      h("strong", {}, supplyLabel(s)), h("span", { class: "st" }, t(`supply.state.${s.state}`)))));
    /** @type {HTMLButtonElement} */ ($("#request-supply")).disabled = !incidentId();
  }

  function setupDialog() {
    const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-supply"));
    const choose = (/** @type {string} */ group, /** @type {Element | null} */ button) => $$(`${group} [data-value]`)
      .forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    const pressed = (/** @type {string} */ group) => $(`${group} [aria-pressed=true]`)?.dataset.value;
    for (const group of ["#supply-kind", "#supply-calibre", "#supply-quantity", "#supply-urgency"]) {
      $$(`${group} [data-value]`).forEach((b) => b.addEventListener("click", () => {
        choose(group, b);
        if (group === "#supply-kind") $("#supply-calibre-box").hidden = b.dataset.value !== "ammunition";
      }));
    }
    $("#request-supply").addEventListener("click", () => {
      choose("#supply-kind", $("#supply-kind [data-value=ammunition]"));
      $("#supply-calibre-box").hidden = false;
      dialog.showModal();
    });
    /** @param {any} location */
    const request = (location) => {
      const kind = pressed("#supply-kind") || "ammunition";
      /** @type {Record<string, any>} */
      const body = { kind, quantity: Number(pressed("#supply-quantity")), urgency: pressed("#supply-urgency"), location };
      if (kind === "ammunition") body.calibre = pressed("#supply-calibre");
      send("/supplies", `${t("supply.request")}: ${supplyLabel(body)}`, body);
    };
    $("#supply-here").addEventListener("click", async () => {
      dialog.close();
      const location = await here();
      if (location) request(location);
      else pick(request);
    });
    $("#supply-pick").addEventListener("click", () => {
      dialog.close();
      pick(request);
    });
  }

  setupDialog();
  return { refresh: reader.refresh, onEvent: reader.onEvent, show };
}
