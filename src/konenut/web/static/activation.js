// @ts-check
// "Call the squad": one big button that says what it will send (default: the template's text,
// its rally point, the whole squad); the first tap arms it, a second within 3 s sends it
// through the outbox. "More…" unfolds the choices: template, rally point, text, whom to call.
import { $, $$, field, h } from "./dom.js";
import { lang, num, t } from "./i18n.js";
import { featureName } from "./map.js";
import { templateText } from "./muster.js";
import * as outbox from "./outbox.js";
import { showTab } from "./tabs.js";
import { personName } from "./ui.js";

/** @typedef {import("./console-store.js").ConsoleStore} ConsoleStore */

const CONFIRM_WINDOW_MS = 3000; // the second tap on "Call the squad" must come this soon
const DEFAULT_TEMPLATE = "hostile_infiltration";

/**
 * The activation button and its choices, refilled when the store's plan, templates or people
 * change.
 * @param {ConsoleStore} store
 */
export function activation(store) {
  const el = {
    button: $("#cmd-muster"),
    label: $("#activate-label"),
    what: $("#activate-what"),
    more: $("#cmd-muster-more"),
    options: /** @type {HTMLFormElement} */ ($("#muster-options")),
    template: /** @type {HTMLSelectElement} */ ($("#muster-template")),
    point: /** @type {HTMLSelectElement} */ ($("#muster-point")),
    text: /** @type {HTMLInputElement} */ ($("#muster-text")),
    team: /** @type {HTMLSelectElement} */ ($("#muster-team")),
    people: $("#muster-people"),
  };
  const picture = store.picture;
  /** @type {{plan: any, templates: any, people: any}} what the choices were filled from */
  const filled = { plan: undefined, templates: undefined, people: undefined };

  function fillRallyPoints() {
    const points = store.plan ? store.plan.features.filter((f) => f.properties.kind === "rally_point") : [];
    const chosen = el.point.value;
    el.point.replaceChildren(...(points.length ? points : [{ properties: { ref: "R1" } }]).map((f) =>
      h("option", { value: f.properties.ref }, `${featureName(f.properties) || f.properties.ref} (${f.properties.ref})`)));
    if (chosen) el.point.value = chosen;
  }

  function fillTemplates() {
    const chosen = el.template.value || DEFAULT_TEMPLATE;
    el.template.replaceChildren(...store.templates.map((tpl) => h("option", { value: tpl.id }, templateText(tpl, lang))));
    el.template.value = store.template(chosen) ? chosen : (store.templates[0] || { id: "" }).id;
  }

  function fillPeople() {
    const squad = picture.squad().sort((a, b) => personName(a).localeCompare(personName(b), lang, { numeric: true }));
    const checked = new Set(checkedPeople());
    el.people.replaceChildren(...squad.map((p) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: p.person_id, checked: checked.has(p.person_id) }), ` ${personName(p)}`)));
    /** @type {string[]} */
    const teams = [...new Set(squad.flatMap((p) => p.teams || []))].sort();
    const team = el.team.value;
    el.team.replaceChildren(...teams.map((ref) => h("option", { value: ref }, ref)));
    if (team) el.team.value = team;
    $("[value=team]", el.options).closest("label").hidden = !teams.length;
    el.team.hidden = !teams.length;
  }

  const checkedPeople = () => $$("input:checked", el.people).map((i) => /** @type {HTMLInputElement} */ (i).value);

  /** What the big button will send, as the commander chose it (the default: everything). */
  function chosen() {
    const template = store.template(el.template.value);
    /** @type {Record<string, any>} */
    const body = { template: template ? template.id : DEFAULT_TEMPLATE };
    const text = el.text.value.trim();
    if (text) body.text = text;
    const point = el.point.value;
    if (point && (!template || point !== template.rally_point_ref)) body.rally_point_ref = point;
    const who = field("input[name=who]:checked", el.options).value;
    if (who === "team" && el.team.value) body.team = el.team.value;
    if (who === "people") body.person_ids = checkedPeople();
    const incident = store.openIncident();
    if (incident) body.incident_id = incident.incident_id;
    return { body, template, who };
  }

  function describe() {
    const { body, template, who } = chosen();
    const target = who === "team" && body.team ? t("operator.muster_team_named", { team: body.team })
      : who === "people" ? t("operator.muster_people_n", { n: num((body.person_ids || []).length) })
        : t("operator.muster_whole_squad");
    const point = store.rallyName(body.rally_point_ref || (template ? template.rally_point_ref : "R1"));
    el.what.textContent = `${templateText(template, lang) || ""} · ${point} · ${target}`;
  }

  /** @param {boolean} open */
  function showOptions(open) {
    el.options.hidden = !open;
    el.more.setAttribute("aria-expanded", String(open));
  }

  /** @type {ReturnType<typeof setTimeout> | null} */
  let armed = null;
  const disarm = () => {
    if (armed) clearTimeout(armed);
    armed = null;
    el.button.classList.remove("armed");
    el.label.textContent = t("operator.cmd.muster");
  };
  el.button.addEventListener("click", () => {
    if (!armed) {
      el.button.classList.add("armed");
      el.label.textContent = t("operator.activate_confirm");
      armed = setTimeout(disarm, CONFIRM_WINDOW_MS);
      return;
    }
    disarm();
    const { body, who } = chosen();
    if (who === "people" && !body.person_ids.length) return;
    outbox.send({ path: "/api/v1/squad/activate", body, label: t("operator.cmd.muster"), kind: "activate" });
    showOptions(false);
    showTab("muster");
  });
  el.more.addEventListener("click", () => showOptions(el.options.hidden));
  $("#muster-options-close").addEventListener("click", () => showOptions(false));
  el.template.addEventListener("change", () => {
    const template = store.template(el.template.value);
    if (template) el.point.value = template.rally_point_ref;
    describe();
  });
  el.options.addEventListener("input", describe);
  el.options.addEventListener("change", describe);
  el.options.addEventListener("submit", (e) => e.preventDefault());

  store.subscribe(() => {
    if (filled.plan !== store.plan) fillRallyPoints();
    if (filled.templates !== store.templates) fillTemplates();
    if (filled.people !== picture.people) fillPeople();
    if (filled.plan !== store.plan || filled.templates !== store.templates) describe();
    Object.assign(filled, { plan: store.plan, templates: store.templates, people: picture.people });
  });
}
