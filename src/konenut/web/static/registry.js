// @ts-check
// The admin's household registry: find a household, edit it and its members, save. The
// server stores only the differences; a field it refuses is shown next to that field.
import { ApiError, api, uuid } from "./api.js";
import { $, $$, field, h, values } from "./dom.js";
import { config, lang, t } from "./i18n.js";
import { boot } from "./ui.js";

const SHOWN_MAX = 200; // rows listed; the search narrows a town's thousands
let households = [];
let people = [];
let buildings = [];
let current = null; // the household open in the editor (GET /site/households/{id})
let saveKey = null; // one idempotency key per edit: a retried save is not stored twice

async function main() {
  const me = await boot();
  if (!me) return;
  const [site, list, persons, plan] = await Promise.all([
    api("/api/v1/site").catch(() => ({})),
    api("/api/v1/site/households"),
    api("/api/v1/site/people").catch(() => []),
    api("/api/v1/site/plan").catch(() => null),
  ]);
  $("#site-name").textContent = site.name || "";
  households = list;
  people = persons;
  buildings = plan ? plan.features.filter((f) => f.properties.kind === "building").map((f) => String(f.properties.ref)) : [];
  $("#reg-search").addEventListener("input", renderList);
  $("#reg-add-member").addEventListener("click", () => $("#reg-members").append(memberRow({})));
  $("#reg-cancel").addEventListener("click", () => current && open(current.household_id));
  $("#reg-form").addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });
  renderList();
}

const byRef = (a, b) => String(a.ref).localeCompare(String(b.ref), lang, { numeric: true });

function renderList() {
  const query = field("#reg-search").value.trim().toLowerCase();
  const names = new Map();
  for (const p of people) if (p.household_id) names.set(p.household_id, `${names.get(p.household_id) || ""} ${p.name} ${p.phone || ""}`);
  const found = households.filter((hh) => !query || `${hh.ref} ${hh.name} ${hh.building_ref || ""} ${names.get(hh.household_id) || ""}`.toLowerCase().includes(query)).sort(byRef);
  $("#reg-count").textContent = t("registry.count", { n: found.length });
  $("#reg-households").replaceChildren(...found.slice(0, SHOWN_MAX).map((hh) => h("li", {},
    h("button", {
      type: "button", class: "reg-row", dataset: { household: hh.household_id, ref: hh.ref },
      "aria-current": current && current.household_id === hh.household_id ? "true" : null,
      onclick: () => open(hh.household_id),
    }, h("b", {}, hh.ref), " ", h("span", { dir: "auto" }, hh.name), hh.building_ref ? h("small", { class: "muted" }, ` · ${t("registry.building_short", { ref: hh.building_ref })}`) : null))));
}

function langBoxes(fieldset, chosen) {
  $$("label", fieldset).forEach((label) => label.remove());
  fieldset.append(...config.languages.map(({ code, name }) => h("label", { class: "check", lang: code },
    h("input", { type: "checkbox", value: code, checked: chosen.includes(code) }), ` ${name}`)));
  fieldset.dataset.others = chosen.filter((code) => !config.languages.some((l) => l.code === code)).join(",");
}

function checked(fieldset) {
  const codes = values("input:checked", fieldset);
  return [...codes, ...(fieldset.dataset.others ? fieldset.dataset.others.split(",") : [])];
}

/** The household's form, its fields by name. */
function registryForm() {
  return /** @type {HTMLFormElement & {elements: Record<string, HTMLInputElement>}} */ ($("#reg-form"));
}

function memberRow(member) {
  const row = /** @type {HTMLElement} */ (/** @type {HTMLTemplateElement} */ ($("#member-template")).content.firstElementChild.cloneNode(true));
  row.dataset.person = member.person_id || "";
  row.dataset.ref = member.ref || "";
  field("[data-field=name]", row).value = member.name || "";
  field("[data-field=age_group]", row).value = member.age_group || "adult";
  field("[data-field=phone]", row).value = member.phone || "";
  langBoxes($("[data-langs=member]", row), member.languages || []);
  $$(".reg-needs input", row).forEach((el) => {
    const box = /** @type {HTMLInputElement} */ (el);
    box.checked = (member.special_needs || []).includes(box.value);
  });
  $(".reg-remove", row).addEventListener("click", () => row.remove());
  return row;
}

async function open(householdId) {
  current = await api(`/api/v1/site/households/${householdId}`);
  saveKey = uuid();
  const form = registryForm();
  form.hidden = false;
  $("#reg-empty").hidden = true;
  $("#reg-ref").textContent = t("registry.household", { ref: current.ref });
  form.elements.name.value = current.name;
  const refs = [...new Set([...buildings, current.building_ref].filter(Boolean))];
  form.elements.building_ref.replaceChildren(h("option", { value: "" }, t("registry.no_building")),
    ...refs.map((ref) => h("option", { value: ref }, ref)));
  form.elements.building_ref.value = current.building_ref || "";
  form.elements.safe_room.value = current.safe_room;
  const foremen = [...people].sort(byRef);
  form.elements.foreman_person_ref.replaceChildren(h("option", { value: "" }, t("registry.no_foreman")),
    ...foremen.map((p) => h("option", { value: p.ref }, `${p.name} (${p.ref})`)));
  form.elements.foreman_person_ref.value = current.foreman_person_ref || "";
  form.elements.pets.value = current.pets || "";
  langBoxes($("[data-langs=household]"), current.languages);
  $("#reg-members").replaceChildren(...current.members.map(memberRow));
  showErrors([]);
  $("#reg-status").textContent = "";
  renderList();
}

function body() {
  const form = registryForm();
  const value = (/** @type {string} */ name) => form.elements[name].value.trim() || null;
  return {
    name: form.elements.name.value.trim(),
    building_ref: value("building_ref"),
    safe_room: form.elements.safe_room.value,
    languages: checked($("[data-langs=household]")),
    foreman_person_ref: value("foreman_person_ref"),
    pets: value("pets"),
    members: $$("#reg-members > li").map((row) => ({
      person_id: row.dataset.person || null,
      ref: row.dataset.ref || null,
      name: field("[data-field=name]", row).value.trim(),
      age_group: field("[data-field=age_group]", row).value,
      languages: checked($("[data-langs=member]", row)),
      phone: field("[data-field=phone]", row).value.trim() || null,
      special_needs: values(".reg-needs input:checked", row),
    })),
  };
}

/** Each error next to its field: "body.members.2.phone" is the third member's phone. */
function showErrors(errors) {
  $$(".field-error").forEach((el) => { el.textContent = ""; });
  $$(".invalid").forEach((el) => el.classList.remove("invalid"));
  const rows = $$("#reg-members > li");
  const unplaced = [];
  for (const { loc, msg } of errors) {
    const parts = String(loc).split(".").slice(1); // without "body"
    let root = $("#reg-form");
    if (parts[0] === "members" && rows[Number(parts[1])]) {
      root = rows[Number(parts[1])];
      parts.splice(0, 2);
    }
    const slot = parts[0] && [...root.querySelectorAll(`.field-error[data-for="${parts[0]}"]`)].find((el) => el.closest("li.reg-member") === (root.matches("li") ? root : null));
    if (!slot) {
      unplaced.push(msg);
      continue;
    }
    slot.textContent = msg;
    const input = slot.parentElement.querySelector("input, select");
    if (input && slot.parentElement.tagName === "LABEL") input.classList.add("invalid");
  }
  return unplaced;
}

async function save() {
  const button = /** @type {HTMLButtonElement} */ ($("#reg-save"));
  button.disabled = true;
  $("#reg-status").textContent = t("registry.saving");
  try {
    const answer = await api(`/api/v1/site/households/${current.household_id}`, { method: "PUT", body: body(), key: saveKey });
    showErrors([]);
    const changed = answer && answer.changed ? answer.changed : 0;
    [households, people] = await Promise.all([api("/api/v1/site/households"), api("/api/v1/site/people").catch(() => people)]);
    await open(current.household_id);
    $("#reg-status").textContent = changed ? t("registry.saved", { n: changed }) : t("registry.unchanged");
  } catch (err) {
    if (err instanceof ApiError && err.problem && err.problem.errors) {
      const rest = showErrors(err.problem.errors);
      $("#reg-status").textContent = [t("registry.fix_errors"), ...rest].join(" ");
      saveKey = uuid(); // the corrected body is another request
    } else {
      $("#reg-status").textContent = `${t("common.error")}: ${err.message}`;
    }
  } finally {
    button.disabled = false;
  }
}

main().catch((err) => {
  console.error(err);
  $("#reg-status").textContent = t("common.error");
});
