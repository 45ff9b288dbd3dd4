// @ts-check
// The responder's phone: own status in one tap, a sighting in three, friends and threats on
// the map, the latest orders. Every command goes through the outbox; the position is shared
// while an incident is open (only the newest waiting position is kept).
import { api } from "./api.js";
import { onChallengeEvent, renderChallenge, setupChallenge } from "./challenge.js";
import { casualtyList } from "./casualties.js";
import { mountCautions } from "./caution.js";
import { $, $$, h } from "./dom.js";
import { duration, lang, num, t, time } from "./i18n.js";
import { RECHECK_MS, shouldSend, watchBattery, withHeading } from "./geo.js";
import { fieldLogistics } from "./field-logistics.js";
import { createSiteMap, featureName } from "./map.js";
import { ARRIVING, boardFeed, shareTokenWithServiceWorker, squadLine, subscribePush, templateText } from "./muster.js";
import * as outbox from "./outbox.js";
import { uploadPhoto } from "./photos.js";
import { Picture } from "./picture.js";
import { MUSTER_SEEN_KEY, SHARE_LOCATION_KEY, readJson, writeJson } from "./storage.js";
import { boot, loadOrRestore, pickIncident, showDrill, showOutbox, siteHead, snapshot, startStream } from "./ui.js";

const FIX_MAX_AGE_SECS = 60; // an older fix is not "here"
const AGES_REDRAWN_MS = 30000; // lists that say "N min ago" are redrawn this often
const ORDERS_SHOWN = 4;
const THREATS_SHOWN = 3;
const UNDO_FOR_MS = 10000; // how long a mistaken answer can be taken back in one tap
const ANSWERED = new Set(["coming", "cannot", "en_route", "at_rally_point", "in_position", "wounded", "out"]);
const COMING_NAMES_SHOWN = 12;
const PHOTO_WAIT_MS = 3000; // a report waits this long at most for its photo's upload

const picture = new Picture();
let me = null;
let map = null;
let plan = null;
let fix = null; // {lat, lon, accuracy_m, at}
let lastSent = null;
const battery = watchBattery();
let pendingStatus = null;
let board = null; // the muster board of the latest call (GET .../muster)
let templates = {}; // muster templates by id
let undo = null; // {status, timer}: what an "Undo" tap sends back
let cautions = null; // the caution banner and "entering house N" (caution.js)
let stream = null; // the live stream (stream.js)
let casualties = null; // a medic's casualty list (casualties.js)
let logistics = null; // my tasks, my runs, my supply requests (field-logistics.js)
const feed = boardFeed(() => (currentMuster() ? picture.incident.incident_id : null), (b) => {
  board = b;
  renderMuster();
});

async function main() {
  shareTokenWithServiceWorker().catch((err) => console.warn("konenut: token for the service worker", err));
  me = await boot();
  if (!me) return;
  setupPush();
  map = await createSiteMap($("#map"));
  showOutbox($("#outbox"), {
    onChange: (entries) => {
      const waiting = entries.filter((e) => e.state === "pending" && e.kind === "status");
      pendingStatus = waiting.length ? waiting[waiting.length - 1].body.status : null;
      renderStatus();
      if (picture.incident) renderMuster();
    },
  });
  outbox.onConfirmed((entry) => {
    for (const event of (entry.result && entry.result.events) || []) picture.apply(event);
    render();
  });
  setupStatus();
  setupMuster();
  setupSighting();
  setupLocation();
  cautions = mountCautions({ me, incidentId: () => picture.incident && !picture.incident.closed_at && picture.incident.incident_id, anchor: $(".map-box") });
  setupChallenge(() => (picture.incident && !picture.incident.closed_at ? picture.incident.incident_id : null));
  setupCasualties();
  logistics = fieldLogistics({
    me,
    incidentId: () => (picture.incident && !picture.incident.closed_at ? picture.incident.incident_id : null),
    here: async () => here() || (await freshFix()),
    pick: pickAndReport,
  });
  const loaded = await loadOrRestore("responder", load, restore);
  if (!loaded) return;
  stream = startStream({ view: "responder", ...loaded, onEvent, onResync: reload });
  setInterval(render, AGES_REDRAWN_MS); // units age in place (positions.js), not by a redraw
}

/** Show the picture cached on this device when the server cannot be reached. */
function restore(data) {
  plan = data.plan;
  if (plan) map.setPlan(plan);
  cautions.setPlan(plan);
  picture.load(data);
  render();
}

async function load() {
  const head = await siteHead();
  const [incidents, sitePlan] = await Promise.all([
    api("/api/v1/incidents"),
    api("/api/v1/site/plan").catch(() => null),
  ]);
  if (sitePlan && JSON.stringify(sitePlan) !== JSON.stringify(plan)) {
    plan = sitePlan;
    map.setPlan(plan);
    cautions.setPlan(plan);
  }
  const chosen = pickIncident(incidents);
  const [incident, list] = await Promise.all([
    chosen ? api(`/api/v1/incidents/${chosen.incident_id}`) : null,
    api("/api/v1/muster-templates").catch(() => null),
  ]);
  if (list) templates = Object.fromEntries(list.map((tpl) => [tpl.id, tpl]));
  picture.load({ incident });
  board = null;
  feed.refresh();
  logistics.refresh();
  // Friends' positions are not kept on the phone: a lost phone must not tell where they were.
  const { positions, ...kept } = incident || {};
  snapshot.save("responder", { plan, incident: incident ? kept : null }, head);
  render();
  // Cautions raised before this page opened (or while its stream was away) that still stand.
  cautions.refresh().catch((err) => console.warn("konenut: standing cautions", err));
  return head;
}

/** Re-read the picture, the events that arrive meanwhile held back until it is in. */
function reload() {
  (stream ? stream.holdWhile(load) : load()).catch(() => {});
}

function onEvent(event) {
  cautions.onEvent(event);
  casualties?.onEvent(event);
  logistics.onEvent(event);
  onChallengeEvent(event);
  if (!picture.apply(event)) return;
  if (event.type === "incident.opened" && (!picture.incident || picture.incident.closed_at)) {
    reload();
    return;
  }
  feed.onEvent(event);
  render();
}

/** A medic's list of casualties (the unassigned and their own, most urgent first); for the
 * squad, "a casualty here" in one tap and the open casualties on the map (no names). */
function setupCasualties() {
  const roles = me.roles || [];
  if (!roles.includes("medic") && !roles.includes("responder")) return;
  $("#casualties").hidden = false;
  casualties = casualtyList($("#casualty-list"), {
    incidentId: () => (picture.incident && !picture.incident.closed_at ? picture.incident.incident_id : null),
    canTreat: roles.includes("medic"),
    listed: roles.includes("medic"),
    canAssign: false,
    people: () => new Map([...picture.people, [me.subject_id, me]]), // "Medic: <me>" on my own
    siteMap: map,
    here: async () => here() || (await freshFix()),
    collectionPoints: () => ((plan && plan.features) || []).filter((f) => f.properties.kind === "collection_point").map((f) => f.properties.ref),
  });
}

function render() {
  const incident = picture.incident;
  const open = Boolean(incident && !incident.closed_at);
  $("#incident-title").textContent = incident ? incident.title : "";
  showDrill(incident);
  $("#standby").hidden = open;
  renderChallenge(open);
  casualties?.show();
  $$("#status-buttons button, #report-sighting").forEach((b) => { /** @type {HTMLButtonElement} */ (b).disabled = !open; });
  renderMuster();
  renderStatus();
  renderOrders();
  renderThreats();
  const v = picture.versions;
  if (drawn.positions !== v.positions) {
    const stateOf = (id) => (picture.responders.get(id) || {}).status;
    map.showPositions([...picture.positions.values()], { self: me.subject_id, stateOf });
  }
  if (drawn.sightings !== v.sightings) map.showSightings([...picture.sightings.values()]);
  Object.assign(drawn, v);
  if (fix) map.showMe(fix);
}

const drawn = { positions: -1, sightings: -1 };

/** The latest call, when it is for me and its incident is open. */
function currentMuster() {
  const incident = picture.incident;
  const muster = picture.musters[picture.musters.length - 1];
  if (!muster || !incident || incident.closed_at) return null;
  const forMe = !muster.targets || muster.targets.length === 0 || muster.targets.includes(me.subject_id);
  return forMe ? muster : null;
}

/** My answer to `muster` (a pending one first): null until I answer. */
function myAnswer(muster) {
  if (pendingStatus) return ANSWERED.has(pendingStatus) ? pendingStatus : null;
  const mine = picture.responders.get(me.subject_id);
  return mine && mine.changed_at >= muster.called_at && ANSWERED.has(mine.status) ? mine.status : null;
}

function renderMuster() {
  const muster = currentMuster();
  $("#muster").hidden = !muster;
  document.body.classList.toggle("called", Boolean(muster));
  if (!muster) return;
  const point = plan && plan.features.find((f) => ["rally_point", "armory"].includes(f.properties.kind) && f.properties.ref === muster.rally_point_ref);
  $("#muster-what").textContent = templateText(templates[muster.template], lang) || t("responder.muster_call");
  $("#muster-text").textContent = muster.text || "";
  $("#muster-text").hidden = !muster.text;
  $("#muster-point").textContent = t("responder.muster_at", { point: point ? featureName(point.properties) : muster.rally_point_ref });
  $("#muster-time").textContent = time(muster.called_at);
  $("#muster-time").setAttribute("datetime", muster.called_at);
  const answer = myAnswer(muster);
  $("#muster-answer").hidden = Boolean(answer);
  $("#muster-next").hidden = !answer || !ARRIVING.has(answer);
  $$("#muster-next [data-answer]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.answer === answer)));
  const row = board && board.muster && board.muster.muster_id === muster.muster_id
    ? board.people.find((p) => p.person_id === me.subject_id) : null;
  const eta = row && row.eta_secs != null ? ` · ${t("responder.eta", { eta: duration(row.eta_secs) })}` : "";
  $("#muster-mine").hidden = !answer;
  $("#muster-mine").textContent = answer
    ? `${t("responder.my_answer", { status: t(`status.${answer}`) })}${pendingStatus ? ` · ${t("outbox.pending")}` : ""}${eta}`
    : "";
  renderSquad(muster);
  markSeen(muster);
}

/** Everyone in the squad sees who answered: whether to wait for others or go. */
function renderSquad(muster) {
  const current = board && board.muster && board.muster.muster_id === muster.muster_id ? board : null;
  $("#muster-squad").textContent = current ? squadLine(current) : "";
  const coming = current ? current.people.filter((p) => ARRIVING.has(p.state)) : [];
  const names = coming.slice(0, COMING_NAMES_SHOWN).map((p) => p.callsign || p.name);
  if (coming.length > names.length) names.push(`+${num(coming.length - names.length)}`);
  $("#muster-coming").textContent = names.length ? t("responder.coming_names", { names: names.join(", ") }) : "";
}

/** Tell the war room the call is on this screen (contracts §5: muster "seen"), once. */
function markSeen(muster) {
  const seen = readJson(MUSTER_SEEN_KEY, []);
  if (seen.includes(muster.muster_id) || document.visibilityState !== "visible" || myAnswer(muster)) return;
  writeJson(MUSTER_SEEN_KEY, [...seen.slice(-20), muster.muster_id]);
  outbox.send({
    path: incidentPath("/muster/seen"),
    body: { muster_id: muster.muster_id, via: "app" },
    label: t("status.seen"),
    kind: "seen",
  });
}

function renderStatus() {
  const mine = picture.responders.get(me.subject_id);
  const shown = pendingStatus || (mine && mine.status);
  $("#my-status").textContent = shown
    ? `${t(`status.${shown}`)}${pendingStatus ? ` · ${t("outbox.pending")}` : mine ? ` · ${time(mine.changed_at)}` : ""}`
    : "—";
  $$("#status-buttons button").forEach((button) => {
    button.setAttribute("aria-pressed", String(button.dataset.status === shown));
    button.classList.toggle("pending", button.dataset.status === pendingStatus);
  });
}

function renderOrders() {
  const orders = [...picture.orders.values()]
    .filter((o) => !o.to_person_ids.length || o.to_person_ids.includes(me.subject_id))
    .sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1))
    .slice(0, ORDERS_SHOWN);
  $("#orders").replaceChildren(...(orders.length
    ? orders.map((order) => {
      const acked = order.acknowledged_by[me.subject_id];
      return h("li", { class: `order${acked ? " acked" : ""}`, dataset: { order: order.order_id } },
        h("span", { class: "text", dir: "auto" }, order.text),
        h("time", { datetime: order.sent_at }, time(order.sent_at)),
        acked
          ? h("span", { class: "acked-at" }, t("responder.acknowledged", { time: time(acked) }))
          : h("button", { type: "button", class: "ack primary", onclick: (e) => acknowledge(order, e.currentTarget) }, t("responder.acknowledge")));
    })
    : [h("li", { class: "empty" }, t("responder.no_orders"))]));
}

function renderThreats() {
  const threats = picture.activeSightings()
    .sort((a, b) => Number(a.category === "hostile") - Number(b.category === "hostile") || (a.updated_at < b.updated_at ? -1 : 1))
    .reverse()
    .slice(0, THREATS_SHOWN);
  $("#threats").replaceChildren(...threats.map((s) => h("li", {},
    h("button", { type: "button", class: `threat ${s.category}`, onclick: () => map.focusSighting(s.sighting_id) },
      h("strong", {}, `${t(`sighting.${s.category}`)} ×${num(s.count || 1)}`),
      s.armed ? h("span", {}, t("sighting.armed")) : null,
      h("time", { datetime: s.updated_at }, time(s.updated_at))))));
}

// --- commands ------------------------------------------------------------------------------
function incidentPath(suffix) {
  return `/api/v1/incidents/${picture.incident.incident_id}${suffix}`;
}

function here() {
  return fix && (Date.now() - fix.at) / 1000 < FIX_MAX_AGE_SECS
    ? { lat: fix.lat, lon: fix.lon, ...(fix.accuracy_m != null ? { accuracy_m: fix.accuracy_m } : {}) }
    : null;
}

function sendStatus(status) {
  if (!picture.incident) return;
  const location = here();
  outbox.send({
    path: incidentPath("/muster/status"),
    body: { status, ...(location ? { location } : {}) },
    label: t(`status.${status}`),
    kind: "status",
  });
}

function setupStatus() {
  // During a call a status is an answer to it, and can be undone like one.
  $$("#status-buttons button").forEach((button) => button.addEventListener("click", () => {
    if (currentMuster()) answer(button.dataset.status);
    else sendStatus(button.dataset.status);
  }));
}

/** The call's buttons: an answer in one tap, and "Undo" for a few seconds after it. */
function setupMuster() {
  $$("#muster [data-answer]").forEach((button) => button.addEventListener("click", () => answer(button.dataset.answer)));
  $("#undo").addEventListener("click", () => {
    if (!undo) return;
    const previous = undo.status;
    hideUndo();
    sendStatus(previous);
  });
  // A phone taken out of a pocket: the call is on screen now.
  document.addEventListener("visibilitychange", () => {
    const muster = currentMuster();
    if (muster && document.visibilityState === "visible") markSeen(muster);
  });
}

function answer(status) {
  const muster = currentMuster();
  if (!muster) return;
  const previous = myAnswer(muster) || "seen";
  if (previous === status) return;
  sendStatus(status);
  hideUndo();
  $("#muster-undo-text").textContent = t("responder.answered", { status: t(`status.${status}`) });
  $("#muster-undo").hidden = false;
  undo = { status: previous, timer: setTimeout(hideUndo, UNDO_FOR_MS) };
}

function hideUndo() {
  if (undo) clearTimeout(undo.timer);
  undo = null;
  $("#muster-undo").hidden = true;
}

/** Web Push: asked for at the first tap (browsers allow the question only after a gesture). */
function setupPush() {
  if (!("Notification" in self) || Notification.permission === "denied") return;
  const ask = () => subscribePush().catch((err) => console.warn("konenut: push", err));
  if (Notification.permission === "granted") ask();
  else addEventListener("pointerdown", ask, { once: true, capture: true });
}

function acknowledge(order, button) {
  button.disabled = true;
  outbox.send({ path: incidentPath(`/orders/${order.order_id}/acknowledge`), body: {}, label: t("responder.acknowledge"), kind: "ack" });
}

function setupSighting() {
  const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-sighting"));
  const pressed = (group) => $(`${group} [aria-pressed=true]`);
  const choose = (group, button) => $$(`${group} [data-value]`).forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  const toggle = (button) => button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
  $$("#sighting-category button").forEach((b) => b.addEventListener("click", () => {
    choose("#sighting-category", b);
    /** @type {HTMLButtonElement} */ ($("#send-here")).disabled = false;
    /** @type {HTMLButtonElement} */ ($("#send-pick")).disabled = false;
  }));
  $$("#sighting-count [data-value]").forEach((b) => b.addEventListener("click", () => choose("#sighting-count", b)));
  $("#sighting-armed").addEventListener("click", (e) => toggle(e.currentTarget));
  $("#sighting-vehicle").addEventListener("click", (e) => toggle(e.currentTarget));
  const photo = setupPhoto();
  $("#report-sighting").addEventListener("click", () => {
    photo.reset();
    choose("#sighting-category", null);
    choose("#sighting-count", $("#sighting-count [data-value='1']"));
    $("#sighting-armed").setAttribute("aria-pressed", "false");
    $("#sighting-vehicle").setAttribute("aria-pressed", "false");
    /** @type {HTMLButtonElement} */ ($("#send-here")).disabled = true;
    /** @type {HTMLButtonElement} */ ($("#send-pick")).disabled = true;
    dialog.showModal();
  });
  const report = async (location) => {
    const category = pressed("#sighting-category").dataset.value;
    const body = {
      location, category,
      count: Number(pressed("#sighting-count").dataset.value),
      armed: $("#sighting-armed").getAttribute("aria-pressed") === "true" ? true : null,
      vehicle: $("#sighting-vehicle").getAttribute("aria-pressed") === "true",
    };
    const photoIds = await photo.ids();
    if (photoIds.length) body.photo_ids = photoIds;
    outbox.send({ path: incidentPath("/sightings"), body, label: `${t(`sighting.${category}`)} ×${num(body.count)}`, kind: "sighting" });
  };
  $("#send-here").addEventListener("click", async () => {
    const category = pressed("#sighting-category");
    if (!category) return;
    const location = here() || (await freshFix());
    dialog.close();
    if (location) report(location);
    else pickAndReport(report);
  });
  $("#send-pick").addEventListener("click", () => {
    if (!pressed("#sighting-category")) return;
    dialog.close();
    pickAndReport(report);
  });
  $("#pick-cancel").addEventListener("click", () => map.cancelPick());
}

/**
 * The optional photo: uploaded as soon as it is chosen, so the report never waits long for
 * it; one still uploading when the place is tapped gets PHOTO_WAIT_MS, then the report goes
 * without it.
 */
function setupPhoto() {
  const input = /** @type {HTMLInputElement} */ ($("#sighting-photo"));
  const state = $("#photo-state");
  let upload = null;
  const show = (key, tone) => { state.textContent = t(key); $("#photo-pick").dataset.state = tone; };
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file) return;
    show("sighting.photo_uploading", "busy");
    upload = uploadPhoto(incidentPath("/photos"), file).then(
      (id) => { show("sighting.photo_attached", "done"); return id; },
      (err) => { console.warn("konenut: photo", err); show("sighting.photo_failed", "failed"); return null; },
    );
  });
  return {
    reset() { input.value = ""; upload = null; show("sighting.add_photo", ""); },
    async ids() {
      if (!upload) return [];
      const late = new Promise((resolve) => setTimeout(() => resolve(null), PHOTO_WAIT_MS));
      const id = await Promise.race([upload, late]);
      return id ? [id] : [];
    },
  };
}

async function pickAndReport(report) {
  $("#pick-hint").hidden = false;
  $(".map-box").scrollIntoView({ block: "center" });
  const location = await map.pick();
  $("#pick-hint").hidden = true;
  if (location) report(location);
}

// --- own position ----------------------------------------------------------------------------
function freshFix() {
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (p) => { gotFix(p); resolve(here()); },
    () => resolve(null),
    { enableHighAccuracy: true, timeout: 5000, maximumAge: 10000 },
  ));
}

function gotFix(position) {
  const c = position.coords;
  const previous = fix;
  fix = {
    lat: Number(c.latitude.toFixed(7)), lon: Number(c.longitude.toFixed(7)),
    accuracy_m: Number.isFinite(c.accuracy) ? Math.min(100000, Math.round(c.accuracy)) : null,
    heading_deg: Number.isFinite(c.heading) && c.heading >= 0 && c.heading < 360 ? c.heading : null,
    speed_mps: Number.isFinite(c.speed) && c.speed >= 0 ? c.speed : null,
    at: Date.now(),
  };
  fix = withHeading(previous, fix);
  if (map) map.showMe(fix);
  sharePosition();
}

function sharePosition() {
  const incident = picture.incident;
  if (!fix || !incident || incident.closed_at || !/** @type {HTMLInputElement} */ ($("#share-location")).checked) return;
  const now = Date.now();
  if (document.hidden || !shouldSend(lastSent, fix, now, battery.now)) return;
  lastSent = { ...fix, at: now };
  const location = { lat: fix.lat, lon: fix.lon };
  for (const field of ["accuracy_m", "heading_deg", "speed_mps"]) if (fix[field] != null) location[field] = fix[field];
  outbox.send({ path: incidentPath("/positions"), body: { location }, label: t("responder.position"), kind: "position", coalesce: "position" });
}

function setupLocation() {
  const share = /** @type {HTMLInputElement} */ ($("#share-location"));
  share.checked = localStorage.getItem(SHARE_LOCATION_KEY) !== "off";
  share.addEventListener("change", () => localStorage.setItem(SHARE_LOCATION_KEY, share.checked ? "on" : "off"));
  $("#follow").addEventListener("click", async () => {
    const location = here() || (await freshFix());
    if (location) map.focus(location);
  });
  if ("geolocation" in navigator) {
    navigator.geolocation.watchPosition(gotFix, () => {}, { enableHighAccuracy: true, maximumAge: 5000 });
  }
  // A still phone gets no new fixes, and a hidden page none at all: ask the rule again.
  setInterval(sharePosition, RECHECK_MS);
  document.addEventListener("visibilitychange", sharePosition);
}

main().catch((err) => {
  console.error(err);
  $("#incident-title").textContent = t("common.error");
});
