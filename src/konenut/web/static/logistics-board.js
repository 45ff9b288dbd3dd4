// @ts-check
// The console's supplies and tasks (in the squad tab on a phone): requests from the field,
// open ones first and the most urgent first, with a runner to send, "delivered" and "cancel";
// the inventory's "low" warnings; the tasks with their assignees, deadline, state and the
// overdue mark, and the new-task dialog (the commander's phone is this page too).
import { $, field, h } from "./dom.js";
import { num, t } from "./i18n.js";
import { URGENCY_RANK, dueLabel, isLive, logisticsReader, placeLabel, supplyLabel } from "./logistics.js";
import * as outbox from "./outbox.js";
import { personName } from "./ui.js";

const STATE_RANK = { open: 0, assigned: 1, delivered: 2, cancelled: 3 };
const SHOWN = 12;

/**
 * @param {{picture: any, canCommand: boolean, incidentPath: (suffix: string) => string}} options
 */
export function logisticsBoard({ picture, canCommand, incidentPath }) {
  /** @type {Record<string, any[]>} */
  let data = {};
  /** @type {[Record<string, any[]>, any] | null} what was drawn last, and for which incident */
  let drawn = null;
  const name = (/** @type {string | null | undefined} */ id) => (id ? personName(picture.people.get(id)) || "?" : "");
  const reader = logisticsReader(() => {
    const incident = picture.incident;
    const base = incident ? `/api/v1/incidents/${incident.incident_id}` : null;
    return {
      supplies: base && `${base}/supplies`,
      tasks: base && `${base}/tasks`,
      inventory: canCommand ? "/api/v1/site/inventory" : null,
    };
  }, (read) => { data = read; show(); });

  /** @param {string} suffix @param {Record<string, any>} body @param {string} label */
  const send = (suffix, body, label) => outbox.send({ path: incidentPath(suffix), body, label, kind: "logistics" });

  /** @param {any} supply */
  function supplyActions(supply) {
    if (!canCommand || !["open", "assigned"].includes(supply.state)) return null;
    const runner = h("select", { class: "runner", "aria-label": t("supply.runner") },
      ...picture.squad().map((/** @type {any} */ p) => h("option", { value: p.person_id, selected: p.person_id === supply.runner_person_id }, personName(p))));
    return h("p", { class: "actions" }, runner,
      h("button", { type: "button", class: "small send", onclick: () => send(`/supplies/${supply.supply_id}/runner`, { runner_person_id: /** @type {HTMLSelectElement} */ (runner).value }, t("supply.send")) }, t("supply.send")),
      supply.state === "assigned" ? h("button", { type: "button", class: "small primary delivered", onclick: () => send(`/supplies/${supply.supply_id}/delivered`, {}, t("supply.delivered")) }, t("supply.delivered")) : null,
      h("button", { type: "button", class: "small cancel", onclick: () => send(`/supplies/${supply.supply_id}/cancel`, {}, t("supply.cancel")) }, t("supply.cancel")));
  }

  function showSupplies() {
    const supplies = [...(data.supplies || [])].sort((a, b) => STATE_RANK[a.state] - STATE_RANK[b.state]
      || URGENCY_RANK[a.urgency] - URGENCY_RANK[b.urgency] || (a.requested_at < b.requested_at ? -1 : 1)).slice(0, SHOWN);
    $("#supply-board").replaceChildren(...(supplies.length ? supplies.map((s) => h("li", {
      class: `row supply ${s.state}${s.urgency === "critical" && s.state === "open" ? " bad" : ""}`, dataset: { supply: s.supply_id, state: s.state },
    },
    h("p", {}, h("strong", {}, supplyLabel(s)), " · ", t(`supply.urgency.${s.urgency}`),
      placeLabel(s) ? ` · ${placeLabel(s)}` : "", " · ", h("span", { class: "muted" }, t("supply.from", { name: name(s.requested_by) }))),
    h("p", { class: "st" }, t(`supply.state.${s.state}`), s.runner_person_id ? ` · ${t("supply.runner_is", { name: name(s.runner_person_id) })}` : ""),
    supplyActions(s)))
      : [h("li", { class: "empty" }, t("supply.none"))]));
    const low = (data.inventory || []).filter((item) => item.low);
    $("#inventory-low").replaceChildren(...low.map((item) => h("li", { class: "row bad low", dataset: { item: item.item } },
      t("supply.low", { item: item.calibre ? `${t(`supply.kind.${item.kind}`)} ${item.calibre}` : t(`supply.kind.${item.kind}`), n: num(item.quantity) }))));
  }

  function showTasks() {
    const tasks = [...(data.tasks || [])].sort((a, b) => Number(isLive(b)) - Number(isLive(a)) || Number(b.overdue) - Number(a.overdue)
      || (a.created_at < b.created_at ? 1 : -1)).slice(0, SHOWN);
    $("#task-board").replaceChildren(...(tasks.length ? tasks.map((task) => h("li", {
      class: `row task ${task.state}${task.overdue ? " bad" : ""}`, dataset: { task: task.task_id, state: task.state },
    },
    h("p", {}, h("strong", { dir: "auto" }, task.title), placeLabel(task) ? ` · ${placeLabel(task)}` : "",
      " · ", h("span", { class: "muted" }, task.assignee_ids.map(name).join(", "))),
    h("p", { class: "st" }, t(`task.state.${task.state}`), dueLabel(task) ? ` · ${dueLabel(task)}` : "",
      task.overdue ? h("strong", { class: "overdue" }, ` · ${t("task.overdue")}`) : null)))
      : [h("li", { class: "empty" }, t("task.none"))]));
  }

  function show() {
    drawn = [data, picture.incident];
    const open = Boolean(picture.incident && !picture.incident.closed_at);
    $("#logistics").hidden = !picture.incident || !(data.supplies || data.tasks);
    $("#task-new").hidden = !open || !canCommand;
    showSupplies();
    showTasks();
  }

  /** The new-task dialog: what, for whom, which house, minutes to the deadline. */
  function setupDialog() {
    const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-task"));
    $("#task-new").addEventListener("click", () => {
      $("#task-to").replaceChildren(...picture.squad().sort((a, b) => personName(a).localeCompare(personName(b)))
        .map((/** @type {any} */ p) => h("option", { value: p.person_id }, personName(p))));
      dialog.returnValue = "";
      dialog.showModal();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok") return;
      const title = field("#task-title").value.trim();
      const to = field("#task-to").value;
      if (!title || !to) return;
      const minutes = Number(field("#task-minutes").value);
      const house = field("#task-house").value.trim();
      /** @type {Record<string, any>} */
      const body = { title, assignee_ids: [to] };
      if (minutes > 0) body.deadline = new Date(Date.now() + minutes * 60000).toISOString();
      if (house) body.building_ref = house;
      send("/tasks", body, `${t("task.new")}: ${title}`);
      field("#task-title").value = "";
    });
  }

  setupDialog();
  return {
    /**
     * Redraw when the lists or the incident changed, not on every change of the store (a
     * stream of positions must not reset a runner being chosen).
     * @param {any} incident
     */
    show(incident) {
      if (drawn && drawn[0] === data && drawn[1] === incident) return;
      show();
    },
    refresh: reader.refresh,
    onEvent: reader.onEvent,
  };
}
