// The operator console (war room, big screen; commanders and liaisons use it too): the site
// map with friends, threats and households, the muster and households boards, the timeline,
// and the command bar. Every command goes through the outbox.
import { api, readLog, uuid } from "./api.js";
import { cautionText } from "./caution.js";
import { challengeConsole } from "./challenge-console.js";
import { ordersBoard } from "./orders-board.js";
import { $, $$, h } from "./dom.js";
import { duration, lang, messages, num, shortTime, t, time } from "./i18n.js";
import { createSiteMap, featureName } from "./map.js";
import { GROUPS, NOT_SEEN, boardFeed, groupCounts, shareTokenWithServiceWorker, stateLabel, subscribePush, templateText } from "./muster.js";
import * as outbox from "./outbox.js";
import { Picture } from "./picture.js";
import { guestsBoard } from "./guests-board.js";
import { broadcastPanel } from "./broadcast-panel.js";
import { householdsBoard } from "./households.js";
import { passesDialog, showPass } from "./passes-dialog.js";
import { mapLayers } from "./layers.js";
import { boot, loadOrRestore, personName, pickIncident, showDrill, showOutbox, siteHead, snapshot, startStream } from "./ui.js";

const AGES_REDRAWN_MS = 30000; // lists that say "N min ago" are redrawn this often
const TIMELINE_MAX = 300; // rows drawn; the whole log stays in the export
const RESPONDER_ORDER = ["wounded", "in_position", "at_rally_point", "en_route", "coming", "seen", "notified", "cannot", "out"];
const STATUS_TONE = {
  wounded: "bad", in_position: "ok", at_rally_point: "ok", en_route: "warn", coming: "warn",
  seen: "none", notified: "none", cannot: "none", out: "none", not_reached: "bad",
};
const UNANSWERED = new Set(["notified", "seen"]);
const HOUSEHOLD_ORDER = ["intruder", "need_medic", "smoke", "safe", "not_home"];
const HOUSEHOLD_TONE = { intruder: "bad", need_medic: "bad", smoke: "bad", safe: "ok", not_home: "none" };
const COMMAND_ROLES = ["commander", "operator"];
const OPEN_ROLES = ["commander", "operator", "admin"];
// Who may read the registry (people, households); a liaison sees the picture only (contracts §4).
const REGISTRY_ROLES = [...OPEN_ROLES, "responder", "medic"];
const CONFIRM_WINDOW_MS = 3000; // the second tap on "Call the squad" must come this soon
const DEFAULT_TEMPLATE = "hostile_infiltration";
const BIG_GROUPS = ["coming", "arrived", "seen", "unseen", "not_reached", "cannot", "wounded"];
const GROUP_TONE = { coming: "warn", arrived: "ok", seen: "none", unseen: "bad", not_reached: "bad", cannot: "none", wounded: "bad" };
const OUTCOME_MARK = { delivered: "✓", failed: "✗", sending: "…" };
const VOLUNTEER_EVENTS = /^volunteer\./;

const picture = new Picture();
let me = null;
let map = null;
let guests = null; // guests-board.js
let householdPanels = null; // households.js
let orders = null; // orders-board.js
let broadcasts = null; // broadcast-panel.js
let layers = null; // layers.js: what the map shows, search, ruler, placing units
let stream = null;
let plan = null;
let canCommand = false;
let renderQueued = false;
let newestSeen = 0;
let board = null; // the muster board of the latest call (GET .../muster)
let musterTemplates = []; // [{id, texts, rally_point_ref, ...}]
let volunteers = [];
let volunteerTimer = null;
const feed = boardFeed(() => (picture.incident && picture.musters.length ? picture.incident.incident_id : null), (b) => {
  board = b;
  queueRender(); // the timeline names keys from the board too
});

async function main() {
  shareTokenWithServiceWorker().catch((err) => console.warn("konenut: token for the service worker", err));
  me = await boot();
  if (!me) return;
  canCommand = me.roles.some((r) => COMMAND_ROLES.includes(r));
  // A commander is called by a muster too: Web Push, asked for at the first tap.
  if (me.roles.includes("commander") && "Notification" in self && Notification.permission !== "denied") {
    addEventListener("pointerdown", () => subscribePush().catch((err) => console.warn("konenut: push", err)), { once: true, capture: true });
  }
  $("#commands").hidden = !me.roles.some((r) => [...OPEN_ROLES, "liaison"].includes(r)); // a liaison: the challenge only
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
    const opened = entry.kind === "activate" && entry.result && (!picture.incident || entry.result.incident_id !== picture.incident.incident_id);
    if (entry.kind === "open_incident" || opened) reload();
    else {
      if (entry.kind === "activate" || entry.kind === "asset_request") feed.refresh();
      queueRender();
    }
  });
  map = await createSiteMap($("#map"), { sightingActions: canCommand ? updateSighting : null });
  guests = guestsBoard(map);
  householdPanels = householdsBoard({ picture, canCommand, act: updateSighting });
  orders = ordersBoard({ picture });
  broadcasts = broadcastPanel({ map, picture, canCommand, showTab });
  layers = mapLayers(map, {
    picture, canPlace: canCommand, changed: () => { picture.bump("sightings", "households"); queueRender(); },
  });
  const loaded = await loadOrRestore("operator", load, restore);
  if (!loaded) return;
  const onProgress = (message) => broadcasts && broadcasts.onProgress(message);
  stream = startStream({ view: "operator", ...loaded, onEvent, onResync: reload, onProgress });
  setInterval(queueRender, AGES_REDRAWN_MS); // units age in place (positions.js), not by a redraw
}

/** Show the picture cached on this device when the server cannot be reached. */
function restore(data) {
  plan = data.plan;
  if (plan) map.setPlan(plan);
  picture.load(data);
  render();
}

function readsRegistry() {
  return me.roles.some((r) => REGISTRY_ROLES.includes(r));
}

/** Read the whole picture over REST; resolves with the site head it is as new as. */
async function load() {
  const head = await siteHead();
  const [incidents, people, sitePlan, templates] = await Promise.all([
    api("/api/v1/incidents"),
    readsRegistry() ? api("/api/v1/site/people").catch(() => []) : [],
    api("/api/v1/site/plan").catch(() => null),
    canCommand ? api("/api/v1/muster-templates").catch(() => null) : null,
  ]);
  if (templates) {
    musterTemplates = templates;
    fillTemplates();
  }
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
    households = readsRegistry() ? await api("/api/v1/site/households").catch(() => []) : [];
  }
  picture.load({ incident, people, households, timeline });
  board = null;
  feed.refresh();
  refreshVolunteers();
  fillPeople();
  newestSeen = Math.max(0, ...timeline.map((e) => e.seq));
  snapshot.save("operator", { plan, incident, people, households, timeline }, head);
  render();
  return head;
}

async function reload() {
  try {
    const head = stream ? await stream.holdWhile(load) : await load();
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
  feed.onEvent(event);
  if (guests) guests.onEvent(event);
  if (householdPanels) householdPanels.onEvent(event);
  if (broadcasts) broadcasts.onEvent(event);
  if (layers) layers.onEvent(event);
  if (VOLUNTEER_EVENTS.test(event.type)) {
    clearTimeout(volunteerTimer);
    volunteerTimer = setTimeout(refreshVolunteers, 300);
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
  for (const id of ["#cmd-broadcast", "#cmd-order", "#cmd-sighting"]) $(id).hidden = !open || !canCommand;
  // The arriving unit's liaison reads the challenge too (read-only): they must answer it.
  $("#cmd-challenge").hidden = !open || !(canCommand || me.roles.includes("liaison"));
  // Calling the squad opens an incident when none is open (the API does).
  $(".activate-group").hidden = !canCommand;
  renderMap();
  renderMuster();
  renderHouseholds();
  renderTimeline();
  renderCautionFailures();
  if (guests) guests.show(incident);
  if (householdPanels) householdPanels.show(incident);
  if (orders) orders.show(incident);
  if (broadcasts) broadcasts.show(incident);
  if (layers) layers.show(incident);
}

const drawn = { positions: -1, sightings: -1, households: -1 };

function renderMap() {
  const v = picture.versions;
  if (drawn.positions !== v.positions) {
    map.showPositions([...picture.positions.values()], { stateOf: (id) => (picture.responders.get(id) || {}).status });
  }
  if (drawn.sightings !== v.sightings) map.showSightings(layers.sightings([...picture.sightings.values()]));
  if (drawn.households !== v.households) map.showHouseholds(layers.households(householdRows()));
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
  const current = board && board.muster && picture.musters.some((m) => m.muster_id === board.muster.muster_id) ? board : null;
  for (const id of ["#muster-called", "#muster-big", "#muster-keys-box", "#muster-unseen-box", "#muster-eta-box"]) $(id).hidden = !current;
  renderVolunteers();
  // "Everyone called" is the board's list: the people the call went to, as the escalator
  // sends it. Without it (no call, or its board not read yet) the list is the squad's members.
  $("#muster-list-h").textContent = t(current ? "operator.everyone" : "operator.squad_members");
  if (current) renderBoard(current);
  else renderSquadWithoutCall();
}

/** Before any call: the squad and their last status. */
function renderSquadWithoutCall() {
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

// --- the muster board ----------------------------------------------------------------------
function boardName(row) {
  return row.callsign || row.name;
}

/** The call's board: big counts, missing keys, who has not seen it (and how we tried), ETAs. */
function renderBoard(b) {
  const muster = b.muster;
  const template = musterTemplates.find((tpl) => tpl.id === muster.template);
  const what = templateText(template, lang) || t("operator.cmd.muster");
  $("#muster-called").textContent = [
    t("operator.called_at", { time: shortTime(muster.called_at) }),
    what,
    rallyName(muster.rally_point_ref),
    muster.text ? isolate(muster.text) : null,
  ].filter(Boolean).join(" · ");
  const groups = groupCounts(b);
  const answered = b.people.filter((p) => !NOT_SEEN.has(p.state) && p.state !== "seen").length;
  $("#muster-summary").textContent = t("operator.muster_summary", { n: num(answered), total: num(b.people.length) });
  $("#muster-big").replaceChildren(...BIG_GROUPS.map((group) => h("div", { class: `big ${groups[group] ? GROUP_TONE[group] : "zero"}`, dataset: { group } },
    h("b", { class: "num" }, num(groups[group])), h("span", {}, t(`operator.group.${group}`)))));
  renderKeys(b);
  const unseen = b.people.filter((p) => NOT_SEEN.has(p.state));
  $("#muster-unseen").replaceChildren(...(unseen.length
    ? unseen.map((p) => h("li", { class: "row unseen-row", dataset: { person: p.person_id } },
      h("span", { class: "who", dir: "auto" }, boardName(p), volunteerMark(p)),
      h("span", { class: "st" }, stateLabel(p.state)),
      h("span", { class: "channels" }, ...channelChips(p.channels || []))))
    : [h("li", { class: "empty" }, t("operator.everyone_saw"))]));
  const byId = new Map(b.people.map((p) => [p.person_id, p]));
  $("#muster-eta-box").hidden = !(b.eta && b.eta.length);
  $("#muster-eta").replaceChildren(...(b.eta || []).map(({ person_id, eta_secs }) => h("li", { class: "row warn", dataset: { person: person_id } },
    h("span", { class: "who", dir: "auto" }, byId.has(person_id) ? boardName(byId.get(person_id)) : "?"),
    h("span", { class: "st" }, byId.has(person_id) ? stateLabel(byId.get(person_id).state) : ""),
    h("b", { class: "eta" }, duration(eta_secs)))));
  $("#muster-counts").replaceChildren();
  const changed = (id) => picture.responders.get(id);
  $("#muster-list").replaceChildren(...b.people.map((p) => h("li", {
    class: `row ${STATUS_TONE[p.state] || "none"}`, dataset: { person: p.person_id, state: p.state },
  },
  h("span", { class: "who", dir: "auto" }, boardName(p), p.callsign ? h("small", { class: "muted" }, ` ${p.name}`) : null, volunteerMark(p),
    p.carrying && p.carrying.length ? h("small", { class: "carrying" }, ` 🔑 ${p.carrying.join(", ")}`) : null),
  h("span", { class: "st" }, stateLabel(p.state)),
  h("time", { datetime: changed(p.person_id) ? changed(p.person_id).changed_at : "" },
    p.eta_secs != null ? duration(p.eta_secs) : changed(p.person_id) && !NOT_SEEN.has(p.state) ? time(changed(p.person_id).changed_at) : ""))));
}

function volunteerMark(p) {
  if (!p.volunteer) return null;
  const parts = [t("operator.volunteer"), p.affiliation ? t(`operator.affiliation.${p.affiliation}`) : null, p.armed ? t("sighting.armed") : null];
  return h("small", { class: "volunteer-mark" }, ` ${parts.filter(Boolean).join(" · ")}`);
}

/** "push ✓ 07:31", "SMS ✗ no SMS gateway configured": every way we tried, and what came of it. */
function channelChips(channels) {
  if (!channels.length) return [h("span", { class: "chip muted" }, t("operator.not_tried_yet"))];
  return channels.map((c) => h("span", { class: `chip ${c.outcome}`, title: c.to || "" },
    `${t(`operator.channel.${c.channel}`)} ${OUTCOME_MARK[c.outcome] || c.outcome} ${shortTime(c.at)}`,
    c.outcome === "failed" && c.reason ? h("span", { class: "why", dir: "auto" }, ` ${reasonText(c.reason)}`) : null));
}

/** A failure reason in the page's language when it is one the server words the same every
 * time ("no push subscription"); a provider's own words as they came. */
function reasonText(reason) {
  const key = `muster.ui.reason.${reason.toLowerCase().replace(/[^a-z]+/g, "_").replace(/^_|_$/g, "")}`;
  return key in messages ? messages[key] : reason;
}

/** The group a board state belongs to ("coming", "unseen", ...). */
function groupOf(state) {
  return Object.keys(GROUPS).find((group) => GROUPS[group].includes(state)) || "unseen";
}

// Keys first whose holder will not come (or was not reached), then those not confirmed yet,
// then coming, then in place.
const KEY_ORDER = { bad: 0, unknown: 0, warn: 1, ok: 2, none: 3 };

/** Each key needed at the muster: coming with whom, or not (yet), and who holds it. */
function renderKeys(b) {
  const assets = b.assets || [];
  $("#muster-keys-box").hidden = !assets.length;
  const rows = assets.map((a) => {
    const holder = a.holder_person_id ? b.people.find((p) => p.person_id === a.holder_person_id) : null;
    const who = holder ? boardName(holder) : a.holder_name;
    const group = a.holder_state ? groupOf(a.holder_state) : null;
    const tone = a.coming ? "ok" : !a.holder_person_id ? (a.holder_ref ? "unknown" : "none") : a.missing ? "bad" : "warn";
    return { a, who, group, tone };
  }).sort((x, y) => KEY_ORDER[x.tone] - KEY_ORDER[y.tone] || x.a.name.localeCompare(y.a.name, lang, { numeric: true }));
  $("#muster-keys").replaceChildren(...rows.map(({ a, who, group, tone }) => {
    const state = group ? t(`operator.group.${group}`) : "?";
    const line = tone === "ok" ? t("operator.key_coming", { name: who })
      : tone === "none" ? t("operator.key_in_armory")
        : tone === "unknown" ? t("operator.key_holder_unknown", { ref: a.holder_ref })
        : t(tone === "bad" ? "operator.key_missing" : "operator.key_waiting", { name: who, state });
    return h("li", { class: `row key ${tone}`, dataset: { asset: a.asset_id } },
      h("span", { class: "key-what" },
        h("b", { dir: "auto", title: a.ref }, a.name),
        h("span", { class: "st", dir: "auto" }, line),
        a.requested_at ? h("small", { class: "muted" }, t("operator.key_asked", { time: shortTime(a.requested_at) })) : null),
      tone === "bad" || tone === "warn"
        ? h("button", { type: "button", class: "small ask", onclick: (e) => askForKey(a, who, e.currentTarget) }, t("operator.key_ask", { name: who }))
        : h("span", {}));
  }));
}

function askForKey(asset, who, button) {
  button.disabled = true;
  outbox.send({ path: incidentPath(`/assets/${asset.asset_id}/request`), body: {}, label: t("operator.key_ask", { name: who }), kind: "asset_request" });
}

// --- volunteers ----------------------------------------------------------------------------
async function refreshVolunteers() {
  const incident = picture.incident;
  if (!canCommand || !incident || incident.closed_at) {
    volunteers = [];
    renderVolunteers();
    return;
  }
  try {
    volunteers = await api(incidentPath("/volunteers"));
  } catch (err) {
    volunteers = [];
    console.warn("konenut: volunteers", err);
  }
  renderVolunteers();
}

function renderVolunteers() {
  const incident = picture.incident;
  $("#volunteers").hidden = !canCommand || !incident || Boolean(incident.closed_at);
  const pending = volunteers.filter((v) => v.status === "pending");
  $("#volunteer-list").replaceChildren(...pending.map((v) => h("li", { class: "row volunteer warn", dataset: { volunteer: v.volunteer_id } },
    h("span", { class: "who", dir: "auto" }, v.name,
      h("small", { class: "muted" }, ` ${[v.affiliation ? t(`operator.affiliation.${v.affiliation}`) : null, v.armed ? t("sighting.armed") : null, v.phone].filter(Boolean).join(" · ")}`)),
    h("button", { type: "button", class: "small primary approve", onclick: (e) => decideVolunteer(v, "approve", e.currentTarget) }, t("operator.volunteer_approve")),
    h("button", { type: "button", class: "small decline", onclick: (e) => decideVolunteer(v, "decline", e.currentTarget) }, t("operator.volunteer_decline")))));
}

/** Approve or decline at once (not through the outbox: the decision means nothing offline). */
async function decideVolunteer(volunteer, decision, button) {
  button.disabled = true;
  try {
    await api(incidentPath(`/volunteers/${volunteer.volunteer_id}/${decision}`), { method: "POST", body: {}, key: uuid() });
    await refreshVolunteers();
  } catch (err) {
    button.disabled = false;
    button.title = err.message;
  }
}

async function showVolunteerPass() {
  const button = $("#volunteer-qr");
  button.disabled = true;
  try {
    const pass = await api(incidentPath("/volunteer-pass"), { method: "POST", body: { language: lang }, key: uuid() });
    showPass($("#volunteer-pass"), pass);
    $("#volunteer-expires").textContent = pass.expires_at ? t("operator.volunteer_expires", { time: shortTime(pass.expires_at) }) : "";
    $("#volunteer-pass").hidden = false;
    $("#volunteer-pass").scrollIntoView({ block: "nearest" });
  } catch (err) {
    $("#volunteer-expires").textContent = err.message;
    $("#volunteer-pass").hidden = false;
  } finally {
    button.disabled = false;
  }
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
        checkin.people_count != null ? ` · ${t("household.people", { n: num(checkin.people_count) })}` : "",
        checkin.injured_count ? ` · ${t("household.injured", { n: num(checkin.injured_count) })}` : "",
        checkin.severity ? ` · ${t(`household.severity.${checkin.severity}`)}` : ""),
      h("time", { datetime: checkin.at }, time(checkin.at))))
    : [h("li", { class: "empty" }, t("operator.no_households_in_danger"))]));
}

// Every delivery attempt is on the muster board, person by person, and every household's
// copy of a broadcast on the broadcasts board; in the timeline a dozen lines per escalation
// step, or one per household per broadcast, would bury what happened.
const UNTOLD = /^(notification\.|broadcast\.(delivery_sent|delivery_settled|read)$)/;

/** Cautions the server could not raise (caution.failed): the war room must warn by radio. */
function renderCautionFailures() {
  const failed = picture.timeline.filter((e) => e.type === "caution.failed").length;
  $("#caution-failed").hidden = failed === 0;
  $("#caution-failed").textContent = failed ? t("operator.caution_failed", { n: num(failed) }) : "";
}

function renderTimeline() {
  const events = picture.timeline.filter((e) => !UNTOLD.test(e.type)).slice(-TIMELINE_MAX).reverse();
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
          + (p.armed ? ` · ${t("sighting.armed")}` : "") + (p.text ? ` — ${isolate(p.text)}` : "")
          + (p.source === "resident" ? ` · ${t("sighting.from_resident")}` : ""),
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
    case "muster.seen":
      return { text: t("event.muster.seen", { who: who(p.person_id) }) };
    case "notification.sent":
      return { text: t("event.notification.sent", { who: who(p.person_id), channel: t(`operator.channel.${p.channel}`) }) };
    case "notification.delivered":
      return { text: t("event.notification.delivered", { who: who(p.person_id) }) };
    case "notification.failed":
      return { text: t("event.notification.failed", { who: who(p.person_id), reason: reasonText(p.reason) }), tone: "mid" };
    case "asset.requested":
      return { text: t("event.asset.requested", { who: who(p.person_id), asset: assetName(p.asset_id) }), tone: "mid" };
    case "pass.issued":
      return { text: t("event.pass.issued", { what: t(`operator.pass.purpose.${p.purpose}`) }) };
    case "volunteer.joined":
      return { text: t("event.volunteer.joined", { name: p.name }), tone: "mid" };
    case "volunteer.approved":
      return { text: t("event.volunteer.approved", { name: volunteerName(p.volunteer_id) }), tone: "ok" };
    case "volunteer.declined":
      return { text: t("event.volunteer.declined", { name: volunteerName(p.volunteer_id) }) };
    case "hostage.reported": {
      const household = p.household_id ? picture.households.get(p.household_id) : null;
      return { text: t("event.hostage.reported", { place: household ? `${household.ref} · ${household.name}` : p.building_ref }), tone: "high" };
    }
    case "hostage.updated":
      return { text: t("event.hostage.updated", { text: isolate(p.text || t(`hostage.${p.status === "resolved" ? "resolved" : "update"}`)) }), tone: p.status === "resolved" ? null : "high" };
    case "challenge.set": // the words stay out of the timeline: it is on the big screen
      return { text: t("event.challenge.set") };
    case "safe_word.set":
      return { text: t("event.safe_word.set", { word: isolate(p.word) }) };
    case "accountability.recheck_set":
      return { text: p.every_mins ? t("event.accountability.recheck_set", { minutes: p.every_mins }) : t("event.accountability.recheck_off") };
    case "caution.raised":
      return {
        text: t("event.caution.raised", { text: cautionText(p, null), who: (p.to_person_ids || []).map(who).join(", ") || t("operator.someone") }),
        tone: "high",
        focus: p.sighting_id ? () => map.focusSighting(p.sighting_id) : null,
      };
    case "caution.failed":
      return { text: t("event.caution.failed"), tone: "high" };
    case "intruder.cleared":
      return {
        text: t("event.intruder.cleared", { place: t("caution.house", { ref: p.building_ref }) }) + (p.text ? ` — ${isolate(p.text)}` : ""),
        tone: "ok",
        focus: () => map.focusBuilding(p.building_ref),
      };
    case "responder.entering":
      return { text: t("event.responder.entering", { who: who(p.person_id), place: t("caution.house", { ref: p.building_ref }) }), tone: "mid", focus: () => map.focusBuilding(p.building_ref) };
    case "guest.checked_in":
      return {
        text: [
          t("event.guest.checked_in"),
          p.building_ref ? t("guest.row", { ref: p.building_ref, count: num(p.people_count) }) : t("guest.here_site"),
          t(`household.${p.status}`),
        ].join(" · "),
        tone: HOUSEHOLD_TONE[p.status] === "bad" ? "high" : null,
        focus: p.building_ref ? () => map.focusBuilding(p.building_ref) : null,
      };
    default: // every registered type has its words (tests/web/test_i18n.py)
      return { text: t(`event.${event.type}`) };
  }
}

function assetName(assetId) {
  const asset = board && (board.assets || []).find((a) => a.asset_id === assetId);
  return asset ? `${asset.name} (${asset.ref})` : "?";
}

function volunteerName(volunteerId) {
  const listed = volunteers.find((v) => v.volunteer_id === volunteerId);
  if (listed) return listed.name;
  const joined = picture.timeline.find((e) => e.type === "volunteer.joined" && e.payload.volunteer_id === volunteerId);
  return joined ? joined.payload.name : "?";
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
  const chosen = $("#muster-point").value;
  $("#muster-point").replaceChildren(...(points.length ? points : [{ properties: { ref: "R1" } }]).map((f) =>
    h("option", { value: f.properties.ref }, `${featureName(f.properties) || f.properties.ref} (${f.properties.ref})`)));
  if (chosen) $("#muster-point").value = chosen;
  describeActivation();
}

// --- "Call the squad": one tap for the default, a second tap within 3 s sends it -----------
function fillTemplates() {
  const select = $("#muster-template");
  const chosen = select.value || DEFAULT_TEMPLATE;
  select.replaceChildren(...musterTemplates.map((tpl) => h("option", { value: tpl.id }, templateText(tpl, lang))));
  select.value = musterTemplates.some((tpl) => tpl.id === chosen) ? chosen : (musterTemplates[0] || {}).id || "";
  describeActivation();
}

function fillPeople() {
  const squad = picture.squad().sort((a, b) => personName(a).localeCompare(personName(b), lang, { numeric: true }));
  const checked = new Set($$("#muster-people input:checked").map((i) => i.value));
  $("#muster-people").replaceChildren(...squad.map((p) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: p.person_id, checked: checked.has(p.person_id) }), ` ${personName(p)}`)));
  const teams = [...new Set(squad.flatMap((p) => p.teams || []))].sort();
  const team = $("#muster-team").value;
  $("#muster-team").replaceChildren(...teams.map((ref) => h("option", { value: ref }, ref)));
  if (team) $("#muster-team").value = team;
  $("#muster-options [value=team]").closest("label").hidden = !teams.length;
  $("#muster-team").hidden = !teams.length;
}

/** What the big button will send, as the commander chose it (the default: everything). */
function activation() {
  const template = musterTemplates.find((tpl) => tpl.id === $("#muster-template").value);
  const body = { template: template ? template.id : DEFAULT_TEMPLATE };
  const text = $("#muster-text").value.trim();
  if (text) body.text = text;
  const point = $("#muster-point").value;
  if (point && (!template || point !== template.rally_point_ref)) body.rally_point_ref = point;
  const who = $("#muster-options input[name=who]:checked").value;
  if (who === "team" && $("#muster-team").value) body.team = $("#muster-team").value;
  if (who === "people") body.person_ids = $$("#muster-people input:checked").map((i) => i.value);
  const incident = picture.incident;
  if (incident && !incident.closed_at) body.incident_id = incident.incident_id;
  return { body, template, who };
}

function describeActivation() {
  if (!$("#activate-what")) return;
  const { body, template, who } = activation();
  const target = who === "team" && body.team ? t("operator.muster_team_named", { team: body.team })
    : who === "people" ? t("operator.muster_people_n", { n: num((body.person_ids || []).length) })
      : t("operator.muster_whole_squad");
  const point = rallyName(body.rally_point_ref || (template ? template.rally_point_ref : "R1"));
  $("#activate-what").textContent = `${templateText(template, lang) || ""} · ${point} · ${target}`;
}

function setupActivation() {
  const button = $("#cmd-muster");
  let armed = null;
  const disarm = () => {
    clearTimeout(armed);
    armed = null;
    button.classList.remove("armed");
    $("#activate-label").textContent = t("operator.cmd.muster");
  };
  button.addEventListener("click", () => {
    if (!armed) {
      button.classList.add("armed");
      $("#activate-label").textContent = t("operator.activate_confirm");
      armed = setTimeout(disarm, CONFIRM_WINDOW_MS);
      return;
    }
    disarm();
    const { body, who } = activation();
    if (who === "people" && !body.person_ids.length) return;
    outbox.send({ path: "/api/v1/squad/activate", body, label: t("operator.cmd.muster"), kind: "activate" });
    $("#muster-options").hidden = true;
    $("#cmd-muster-more").setAttribute("aria-expanded", "false");
    showTab("muster");
  });
  $("#cmd-muster-more").addEventListener("click", () => {
    const form = $("#muster-options");
    form.hidden = !form.hidden;
    $("#cmd-muster-more").setAttribute("aria-expanded", String(!form.hidden));
  });
  $("#muster-options-close").addEventListener("click", () => {
    $("#muster-options").hidden = true;
    $("#cmd-muster-more").setAttribute("aria-expanded", "false");
  });
  $("#muster-template").addEventListener("change", () => {
    const template = musterTemplates.find((tpl) => tpl.id === $("#muster-template").value);
    if (template) $("#muster-point").value = template.rally_point_ref;
    describeActivation();
  });
  $("#muster-options").addEventListener("input", describeActivation);
  $("#muster-options").addEventListener("change", describeActivation);
  $("#muster-options").addEventListener("submit", (e) => e.preventDefault());
}

function setupCommands() {
  fillRallyPoints();
  // The broadcast dialog is broadcast-panel.js's.

  $("#cmd-open").addEventListener("click", async () => {
    const dialog = await ask("#dlg-open");
    if (!dialog) return;
    const title = $("#open-title", dialog).value.trim() || t("operator.default_incident_title");
    outbox.send({ path: "/api/v1/incidents", body: { title, drill: $("#open-drill", dialog).checked }, label: t("operator.cmd.open_incident"), kind: "open_incident" });
  });
  setupActivation();
  challengeConsole({ incidentPath, isCommander: me.roles.includes("commander"), canCommand });
  passesDialog({ roles: me.roles, plan: () => plan, incident: () => picture.incident });
  $("#volunteer-qr").addEventListener("click", showVolunteerPass);
  $("#volunteer-pass-close").addEventListener("click", () => { $("#volunteer-pass").hidden = true; });
  $("#cmd-order").addEventListener("click", async () => {
    orders.fillTargets();
    const dialog = await ask("#dlg-order");
    if (!dialog) return;
    const text = $("#order-text").value.trim();
    if (!text) return;
    outbox.send({ path: incidentPath("/orders"), body: { text, ...orders.target() }, label: t("operator.cmd.order"), kind: "order" });
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

/** Triage from the map: "moved" asks for the new place, "merged" names the group it joins. */
async function updateSighting(sighting, status, mergedInto) {
  const body = { status };
  if (status === "merged") body.merged_into = mergedInto;
  if (status === "moved") {
    $("#pick-hint").hidden = false;
    body.location = await map.pick();
    $("#pick-hint").hidden = true;
    if (!body.location) return;
  }
  outbox.send({
    path: incidentPath(`/sightings/${sighting.sighting_id}`),
    body,
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
