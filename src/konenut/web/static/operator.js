// The operator console (war room, big screen; commanders and liaisons use it too): the site
// map with friends, threats and households, the muster and households boards, the timeline,
// and the command bar. Every command goes through the outbox.
import { api, readLog } from "./api.js";
import { $, $$, h } from "./dom.js";
import { config, lang, num, t, time } from "./i18n.js";
import { createSiteMap, featureName } from "./map.js";
import * as outbox from "./outbox.js";
import { Picture } from "./picture.js";
import { boot, loadOrRestore, personName, pickIncident, showDrill, showOutbox, siteHead, snapshot, startStream } from "./ui.js";

const TIMELINE_MAX = 300; // rows drawn; the whole log stays in the export
const FADE_CHECK_MS = 30000; // how often quiet units are redrawn (faded when stale)
const RESPONDER_ORDER = ["wounded", "in_position", "at_rally_point", "en_route", "coming", "seen", "notified", "cannot", "out"];
const STATUS_TONE = {
  wounded: "bad", in_position: "ok", at_rally_point: "ok", en_route: "warn", coming: "warn",
  seen: "none", notified: "none", cannot: "none", out: "none",
};
const UNANSWERED = new Set(["notified", "seen"]);
const HOUSEHOLD_ORDER = ["intruder", "need_medic", "smoke", "safe", "not_home"];
const HOUSEHOLD_TONE = { intruder: "bad", need_medic: "bad", smoke: "bad", safe: "ok", not_home: "none" };
const COMMAND_ROLES = ["commander", "operator"];
const OPEN_ROLES = ["commander", "operator", "admin"];

const picture = new Picture();
let me = null;
let map = null;
let stream = null;
let plan = null;
let canCommand = false;
let renderQueued = false;
let newestSeen = 0;

async function main() {
  me = await boot();
  if (!me) return;
  canCommand = me.roles.some((r) => COMMAND_ROLES.includes(r));
  $("#commands").hidden = !me.roles.some((r) => OPEN_ROLES.includes(r));
  setupTabs();
  setupCommands();
  showOutbox($("#outbox"), {
    onChange: (entries) => {
      const waiting = entries.filter((e) => e.state === "pending").length;
      $("#pending-count").hidden = waiting === 0;
      $("#pending-count").textContent = num(waiting);
    },
  });
  outbox.onConfirmed((entry) => {
    for (const event of (entry.result && entry.result.events) || []) picture.apply(event);
    if (entry.kind === "open_incident") reload();
    else queueRender();
  });
  map = await createSiteMap($("#map"), { sightingActions: canCommand ? updateSighting : null });
  const loaded = await loadOrRestore("operator", load, restore);
  if (!loaded) return;
  stream = startStream({ view: "operator", ...loaded, onEvent, onResync: reload });
  setInterval(() => {
    picture.bump("positions");
    queueRender();
  }, FADE_CHECK_MS);
}

/** Show the picture cached on this device when the server cannot be reached. */
function restore(data) {
  plan = data.plan;
  if (plan) map.setPlan(plan);
  picture.load(data);
  render();
}

/** Read the whole picture over REST; resolves with the site head it is as new as. */
async function load() {
  const head = await siteHead();
  const [incidents, people, sitePlan] = await Promise.all([
    api("/api/v1/incidents"),
    api("/api/v1/site/people").catch(() => []),
    api("/api/v1/site/plan").catch(() => null),
  ]);
  if (sitePlan && JSON.stringify(sitePlan) !== JSON.stringify(plan)) {
    plan = sitePlan;
    map.setPlan(plan);
    fillRallyPoints();
    picture.bump("households");
  }
  const chosen = pickIncident(incidents);
  let households;
  let incident = null;
  let timeline = [];
  if (chosen) {
    const base = `/api/v1/incidents/${chosen.incident_id}`;
    const [log, full, states] = await Promise.all([
      readLog(`${base}/events`, 0),
      api(base),
      api(`${base}/households`).catch(() => []),
    ]);
    incident = full;
    timeline = log.events;
    households = states.map(({ checkin, ...household }) => household);
  } else {
    households = await api("/api/v1/site/households").catch(() => []);
  }
  picture.load({ incident, people, households, timeline });
  newestSeen = Math.max(0, ...timeline.map((e) => e.seq));
  snapshot.save("operator", { plan, incident, people, households, timeline }, head);
  render();
  return head;
}

async function reload() {
  try {
    const head = await load();
    if (stream && head > stream.since) stream.since = head;
  } catch (err) {
    console.warn("konenut: reload failed", err);
  }
}

function onEvent(event) {
  if (!picture.apply(event)) return;
  if (event.type === "incident.opened" && (!picture.incident || picture.incident.closed_at)) {
    reload();
    return;
  }
  if (event.type === "site.configured" && event.payload.plan) {
    plan = event.payload.plan;
    map.setPlan(plan);
    fillRallyPoints();
    picture.bump("households");
  }
  queueRender();
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  const incident = picture.incident;
  $("#incident-title").textContent = incident
    ? `${incident.title}${incident.closed_at ? ` · ${t("operator.closed")}` : ""}`
    : t("operator.no_incident");
  showDrill(incident);
  const open = Boolean(incident && !incident.closed_at);
  $("#cmd-open").hidden = open || !me.roles.some((r) => OPEN_ROLES.includes(r));
  for (const id of ["#cmd-muster", "#cmd-broadcast", "#cmd-order", "#cmd-sighting"]) $(id).hidden = !open || !canCommand;
  renderMap();
  renderMuster();
  renderHouseholds();
  renderTimeline();
}

const drawn = { positions: -1, sightings: -1, households: -1 };

function renderMap() {
  const v = picture.versions;
  if (drawn.positions !== v.positions) map.showPositions([...picture.positions.values()]);
  if (drawn.sightings !== v.sightings) map.showSightings([...picture.sightings.values()]);
  if (drawn.households !== v.households) map.showHouseholds(householdRows());
  Object.assign(drawn, v);
}

function householdRows() {
  return [...picture.households.values()].map((household) => ({
    household, checkin: picture.checkins.get(household.household_id) || null,
  }));
}

function count(label, value, tone) {
  return h("span", { class: `count ${tone || ""}` }, label, h("b", { class: "num" }, num(value)));
}

function renderMuster() {
  const squad = picture.squad();
  const rows = squad.map((person) => ({ person, state: picture.responders.get(person.person_id) || null }));
  const tally = {};
  for (const { state } of rows) if (state) tally[state.status] = (tally[state.status] || 0) + 1;
  // "Notified" and "saw the call" are not answers yet.
  const answered = rows.filter((r) => r.state && !UNANSWERED.has(r.state.status)).length;
  $("#muster-summary").textContent = picture.musters.length
    ? t("operator.muster_summary", { n: num(answered), total: num(rows.length) })
    : "";
  $("#muster-counts").replaceChildren(
    ...RESPONDER_ORDER.filter((s) => tally[s]).map((s) => count(t(`status.${s}`), tally[s], STATUS_TONE[s])),
    count(t("operator.no_answer"), rows.filter((r) => !r.state).length, "none"),
  );
  rows.sort((a, b) => rank(RESPONDER_ORDER, a.state) - rank(RESPONDER_ORDER, b.state)
    || personName(a.person).localeCompare(personName(b.person), lang, { numeric: true }));
  $("#muster-list").replaceChildren(...rows.map(({ person, state }) => h("li", {
    class: `row ${state ? STATUS_TONE[state.status] || "" : "none"}`, dataset: { person: person.person_id },
  },
  h("span", { class: "who", dir: "auto" }, personName(person), person.callsign ? h("small", { class: "muted" }, ` ${person.name}`) : null),
  h("span", { class: "st" }, state ? t(`status.${state.status}`) : t("operator.no_answer")),
  h("time", { datetime: state ? state.changed_at : "" }, state ? time(state.changed_at) : ""))));
}

function rank(order, state) {
  const i = state ? order.indexOf(state.status) : -1;
  return i === -1 ? order.length : i;
}

function renderHouseholds() {
  const rows = householdRows();
  const tally = {};
  for (const { checkin } of rows) if (checkin) tally[checkin.status] = (tally[checkin.status] || 0) + 1;
  const silent = rows.filter((r) => !r.checkin).length;
  $("#household-counts").replaceChildren(
    ...HOUSEHOLD_ORDER.filter((s) => tally[s]).map((s) => count(t(`household.${s}`), tally[s], HOUSEHOLD_TONE[s])),
    count(t("operator.no_answer"), silent, "none"),
  );
  const attention = rows
    .filter((r) => r.checkin && HOUSEHOLD_TONE[r.checkin.status] === "bad")
    .sort((a, b) => rank(HOUSEHOLD_ORDER, a.checkin) - rank(HOUSEHOLD_ORDER, b.checkin) || (a.checkin.at < b.checkin.at ? 1 : -1));
  $("#household-list").replaceChildren(...(attention.length
    ? attention.map(({ household, checkin }) => h("li", { class: "row bad", dataset: { household: household.household_id } },
      h("button", { type: "button", class: "link", dir: "auto", onclick: () => showTab("map") || map.focusBuilding(household.building_ref) },
        `${household.ref} · ${household.name}`),
      h("span", { class: "st" }, t(`household.${checkin.status}`),
        checkin.people_count != null ? ` · ${t("household.people", { n: num(checkin.people_count) })}` : ""),
      h("time", { datetime: checkin.at }, time(checkin.at))))
    : [h("li", { class: "empty" }, t("operator.no_households_in_danger"))]));
}

function renderTimeline() {
  const events = picture.timeline.slice(-TIMELINE_MAX).reverse();
  const fresh = newestSeen;
  $("#timeline").replaceChildren(...(events.length
    ? events.map((event) => {
      const { text, tone, focus } = describe(event);
      return h("li", { class: `tl ${tone ? `sev-${tone}` : ""}${event.seq > fresh ? " fresh" : ""}`, dataset: { seq: event.seq, type: event.type } },
        h("time", { datetime: event.occurred_at, title: t("operator.recorded_at", { time: time(event.recorded_at) }) }, time(event.occurred_at)),
        focus ? h("button", { type: "button", class: "link", onclick: () => showTab("map") || focus() }, text) : h("span", {}, text));
    })
    : [h("li", { class: "empty" }, t("operator.timeline_empty"))]));
  newestSeen = Math.max(newestSeen, ...events.map((e) => e.seq));
}

/** Free text inside a sentence of the page's language keeps its own direction. */
const isolate = (text) => `\u2068${text}\u2069`;

function who(subjectId) {
  return personName(picture.people.get(subjectId)) || t("operator.someone");
}

/** One line of the timeline: what happened, how bad, where to look. */
function describe(event) {
  const p = event.payload || {};
  switch (event.type) {
    case "incident.opened":
      return { text: t("event.incident.opened", { title: p.title }), tone: "mid" };
    case "incident.closed":
      return { text: t("event.incident.closed"), tone: "ok" };
    case "muster.called":
      return { text: t("event.muster.called", { point: rallyName(p.rally_point_ref) }) + (p.text ? ` — ${isolate(p.text)}` : ""), tone: "mid" };
    case "responder.status_changed":
      return {
        text: t("event.responder.status_changed", { who: who(p.person_id), status: t(`status.${p.status}`) }),
        tone: p.status === "wounded" ? "high" : STATUS_TONE[p.status] === "ok" ? "ok" : null,
        focus: event.location ? () => map.focus(event.location) : null,
      };
    case "sighting.reported":
      return {
        text: t("event.sighting.reported", { what: t(`sighting.${p.category}`), n: num(p.count || 1) })
          + (p.armed ? ` · ${t("sighting.armed")}` : "") + (p.text ? ` — ${isolate(p.text)}` : ""),
        tone: p.category === "hostile" ? "high" : "mid",
        focus: () => map.focusSighting(p.sighting_id),
      };
    case "sighting.updated":
      return { text: t("event.sighting.updated", { status: t(`sighting.status.${p.status}`) }), tone: p.status === "confirmed" ? "high" : null, focus: () => map.focusSighting(p.sighting_id) };
    case "household.checked_in": {
      const household = picture.households.get(p.household_id);
      return {
        text: t("event.household.checked_in", { house: household ? `${household.ref} · ${household.name}` : "?", status: t(`household.${p.status}`) })
          + (p.people_count != null ? ` · ${t("household.people", { n: num(p.people_count) })}` : ""),
        tone: HOUSEHOLD_TONE[p.status] === "bad" ? "high" : HOUSEHOLD_TONE[p.status] === "ok" ? "ok" : null,
        focus: household ? () => map.focusBuilding(household.building_ref) : null,
      };
    }
    case "broadcast.sent":
      return { text: t("event.broadcast.sent", { text: (p.texts && (p.texts[lang] || Object.values(p.texts)[0])) || "" }) };
    case "order.sent":
      return { text: t("event.order.sent", { text: p.text }), tone: "mid" };
    case "order.acknowledged":
      return { text: t("event.order.acknowledged", { who: who(p.person_id) }) };
    default:
      return { text: event.type };
  }
}

function rallyName(ref) {
  const feature = plan && plan.features.find((f) => f.properties.kind === "rally_point" && f.properties.ref === ref);
  return feature ? featureName(feature.properties) : ref;
}

// --- commands ------------------------------------------------------------------------------
function incidentPath(suffix = "") {
  return `/api/v1/incidents/${picture.incident.incident_id}${suffix}`;
}

function ask(id) {
  const dialog = $(id);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? dialog : null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

function fillRallyPoints() {
  const points = plan ? plan.features.filter((f) => f.properties.kind === "rally_point") : [];
  $("#muster-point").replaceChildren(...(points.length ? points : [{ properties: { ref: "R1" } }]).map((f) =>
    h("option", { value: f.properties.ref }, `${f.properties.ref} · ${featureName(f.properties)}`)));
}

function setupCommands() {
  fillRallyPoints();
  const templates = config.instructions || {};
  $("#broadcast-template").replaceChildren(
    h("option", { value: "" }, t("operator.template_none")),
    ...Object.keys(templates).map((key) => h("option", { value: key }, templates[key][lang])),
  );
  $("#broadcast-template").addEventListener("change", (e) => {
    const key = e.target.value;
    $("#broadcast-text").value = key ? templates[key][lang] : "";
    $("#broadcast-text").readOnly = Boolean(key);
  });

  $("#cmd-open").addEventListener("click", async () => {
    const dialog = await ask("#dlg-open");
    if (!dialog) return;
    const title = $("#open-title", dialog).value.trim() || t("operator.default_incident_title");
    outbox.send({ path: "/api/v1/incidents", body: { title, drill: $("#open-drill", dialog).checked }, label: t("operator.cmd.open_incident"), kind: "open_incident" });
  });
  $("#cmd-muster").addEventListener("click", async () => {
    const dialog = await ask("#dlg-muster");
    if (!dialog) return;
    const body = { rally_point_ref: $("#muster-point").value || "R1", text: $("#muster-text").value.trim() };
    outbox.send({ path: incidentPath("/muster"), body, label: t("operator.cmd.muster"), kind: "muster" });
  });
  $("#cmd-broadcast").addEventListener("click", async () => {
    const dialog = await ask("#dlg-broadcast");
    if (!dialog) return;
    const key = $("#broadcast-template").value;
    const text = $("#broadcast-text").value.trim();
    if (!key && !text) return;
    const body = key ? { texts: templates[key], template: key.slice("instruction.".length) } : { texts: { [lang]: text } };
    outbox.send({ path: incidentPath("/broadcasts"), body, label: t("operator.cmd.broadcast"), kind: "broadcast" });
    $("#broadcast-template").value = "";
    $("#broadcast-text").value = "";
    $("#broadcast-text").readOnly = false;
  });
  $("#cmd-order").addEventListener("click", async () => {
    const dialog = await ask("#dlg-order");
    if (!dialog) return;
    const text = $("#order-text").value.trim();
    if (!text) return;
    outbox.send({ path: incidentPath("/orders"), body: { text }, label: t("operator.cmd.order"), kind: "order" });
    $("#order-text").value = "";
  });
  $$("#sighting-category button").forEach((button) => button.addEventListener("click", () => {
    $$("#sighting-category button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }));
  $("#cmd-sighting").addEventListener("click", async () => {
    showTab("map");
    $("#pick-hint").hidden = false;
    const location = await map.pick();
    $("#pick-hint").hidden = true;
    if (!location) return;
    const dialog = await ask("#dlg-sighting");
    if (!dialog) return;
    const category = $("#sighting-category [aria-pressed=true]").dataset.value;
    const body = {
      location, category,
      count: Math.max(1, Math.min(500, Number($("#sighting-count").value) || 1)),
      armed: $("#sighting-armed").checked || null,
      text: $("#sighting-text").value.trim(),
    };
    outbox.send({ path: incidentPath("/sightings"), body, label: `${t("operator.cmd.sighting")}: ${t(`sighting.${category}`)}`, kind: "sighting" });
    $("#sighting-text").value = "";
  });
  $("#pick-cancel").addEventListener("click", () => map.cancelPick());
}

function updateSighting(sighting, status) {
  outbox.send({
    path: incidentPath(`/sightings/${sighting.sighting_id}`),
    body: { status },
    label: `${t(`sighting.${sighting.category}`)}: ${t(`sighting.action.${status}`)}`,
    kind: "sighting_update",
  });
}

// --- tabs on narrow screens ----------------------------------------------------------------
function showTab(name) {
  document.body.dataset.tab = name;
  if (name === "map" && map) setTimeout(() => map.invalidate(), 0);
}

function setupTabs() {
  $$(".tabs button").forEach((button) => button.addEventListener("click", () => showTab(button.dataset.tab)));
}

main().catch((err) => {
  console.error(err);
  $("#incident-title").textContent = t("common.error");
});
