// @ts-check
// The resident's phone in a safe room: the current instruction in the household's language,
// and big silent buttons for the household's own status. Nothing about the squad is asked
// for or shown here; the map library loads only if the resident opens the map.
import { api } from "./api.js";
import { $, $$, field } from "./dom.js";
import { config, lang, num, t, time } from "./i18n.js";
import { subscribePush } from "./muster.js";
import * as outbox from "./outbox.js";
import { boot, cacheForOffline, loadOrRestore, pickIncident, showDrill, showOutbox, siteHead, snapshot, startStream } from "./ui.js";

const MAX_PEOPLE = 500;
const SEVERITIES = ["minor", "serious", "critical"];

let injured = 1;
let armed = { count: 1, label: "1", deg: null }; // the "armed people outside" report being made
let sightingSent = null; // "pending" | "received": all a resident learns of its report

let me = null;
let state = { incident: null, household: null, checkin: null, broadcasts: [] };
let people = null;
let pending = null; // the newest check-in still waiting in the outbox
let stream = null; // the live stream (stream.js)
const seen = new Set();
const readSent = new Set(); // broadcasts this page reported as read
// A guest by a poster (no household): the same page, its own check-in, its building's name.
const isGuest = () => !me.household_id && (me.roles || []).includes("guest");

async function main() {
  me = await boot();
  if (!me) return;
  setupButtons();
  // Broadcasts also come by Web Push (silent); the permission prompt needs a user gesture.
  if (me.household_id) addEventListener("pointerdown", () => subscribePush().catch((err) => console.warn("konenut: push", err)), { once: true, capture: true });
  showOutbox($("#outbox"), {
    onChange: (entries) => {
      const waiting = entries.filter((e) => e.state === "pending" && e.kind === "checkin");
      pending = waiting.length ? waiting[waiting.length - 1] : null;
      render();
    },
  });
  outbox.onConfirmed((entry) => {
    if (entry.kind === "sighting") showSighting("received");
    for (const event of (entry.result && entry.result.events) || []) apply(event);
  });
  const loaded = await loadOrRestore("resident", load, (data) => {
    state = data;
    render();
  });
  if (!loaded) return;
  stream = startStream({ view: "resident", ...loaded, onEvent: apply, onResync: reload });
}

async function load() {
  const head = await siteHead();
  const [incidents, household, guest] = await Promise.all([
    api("/api/v1/incidents"),
    me.household_id ? api(`/api/v1/site/households/${me.household_id}`).catch(() => null) : null,
    isGuest() ? api("/api/v1/guests/me").catch(() => null) : null,
  ]);
  const chosen = pickIncident(incidents);
  const [incident, casualties] = chosen ? await Promise.all([
    api(`/api/v1/incidents/${chosen.incident_id}`),
    me.household_id ? api(`/api/v1/incidents/${chosen.incident_id}/casualties`).catch(() => []) : [],
  ]) : [null, []];
  state = {
    incident: incident && { incident_id: incident.incident_id, kind: incident.kind, drill: incident.drill, closed_at: incident.closed_at },
    household: household && { household_id: household.household_id, ref: household.building_ref || household.ref, name: household.name, languages: household.languages, members: (household.members || []).length },
    checkin: (guest && guest.status && { ...guest }) || (incident && incident.checkin) || null,
    guest: guest && { building_ref: guest.building_ref, people_count: guest.people_count },
    broadcasts: (incident && incident.broadcasts) || [],
    safe_word: (incident && incident.safe_word) || null,
    // The household's own casualty: only that a medic was asked for and is coming (the name
    // when the commander allows it), never how it ended (docs/casualties.md).
    casualty: casualties.length ? { state: casualties[0].state, medic_name: casualties[0].medic_name || null } : null,
  };
  snapshot.save("resident", state, head);
  render();
  return head;
}

/** Re-read the household's picture, the events that arrive meanwhile held back until it is in. */
function reload() {
  (stream ? stream.holdWhile(load) : load()).catch(() => {});
}

function apply(event) {
  if (seen.has(event.seq)) return;
  seen.add(event.seq);
  const p = event.payload || {};
  if (event.type === "incident.opened" || (event.type === "incident.closed" && state.incident && p.incident_id === state.incident.incident_id)) {
    reload();
    return;
  }
  if (!state.incident || event.incident_id !== state.incident.incident_id) return;
  if (event.type === "broadcast.sent") {
    const targets = p.household_ids || [];
    if (targets.length && !targets.includes(me.household_id)) return; // meant for another house
    if (!state.broadcasts.some((b) => b.broadcast_id === p.broadcast_id)) state.broadcasts.push({ ...p, sent_at: event.occurred_at });
  } else if (event.type === "guest.checked_in" && isGuest() && p.guest_id === me.subject_id) {
    if (!state.checkin || state.checkin.at <= event.occurred_at) state.checkin = { ...p, at: event.occurred_at };
  } else if (event.type === "casualty.reported" && p.household_id === me.household_id) {
    state.casualty = { state: "reported", medic_name: null };
  } else if (event.type === "casualty.assigned" && p.household_id === me.household_id) {
    state.casualty = { state: "assigned", medic_name: p.medic_name || null };
  } else if (event.type === "safe_word.set") {
    state.safe_word = p.word;
  } else if (event.type === "household.checked_in" && p.household_id === me.household_id) {
    if (!state.checkin || state.checkin.at <= event.occurred_at) state.checkin = { ...p, at: event.occurred_at };
  } else {
    return;
  }
  snapshot.save("resident", state, event.seq);
  render();
}

/** The instruction's text in the best language we have for this household. */
function inLanguage(texts) {
  const wanted = [lang, ...((state.household && state.household.languages) || []), "en", "he"];
  const code = wanted.find((c) => texts[c]) || Object.keys(texts)[0];
  return { code, text: texts[code] };
}

/** "A medic is coming" once the commander has sent one; until then, that the call was received. */
function renderMedicStatus(open) {
  const casualty = state.casualty;
  const line = $("#medic-status");
  line.hidden = !open || !casualty;
  if (!casualty) return;
  const coming = casualty.medic_name ? t("resident.medic_coming_named", { name: casualty.medic_name }) : t("resident.medic_coming");
  line.textContent = casualty.state === "assigned" ? coming : t("resident.medic_asked");
}

function render() {
  const { incident, household, checkin, broadcasts } = state;
  const open = Boolean(incident && !incident.closed_at);
  showDrill(incident);
  const latest = broadcasts.slice().sort((a, b) => (a.sent_at < b.sent_at ? -1 : 1)).pop();
  const box = $("#instruction");
  const text = $("#instruction-text");
  if (latest) {
    const { code, text: words } = inLanguage(latest.texts);
    text.textContent = words;
    text.lang = code;
    // Custom words not written in this reader's language are shown as written, and say so.
    const untranslated = latest.translated && (code !== lang || !latest.translated.includes(code));
    $("#instruction-title").textContent = t("resident.instruction") + (untranslated ? ` · ${t("resident.not_translated")}` : "");
    markRead(latest);
    $("#instruction-time").textContent = t("resident.sent_at", { time: time(latest.sent_at) });
    box.classList.remove("none");
  } else {
    const guidance = incident && incident.kind === "hostile_infiltration" ? "resident.default_instruction" : "resident.wait_instruction";
    text.textContent = open ? t(guidance) : t("resident.no_incident");
    text.lang = lang;
    $("#instruction-title").textContent = open ? t("resident.no_instruction_yet") : t("resident.all_quiet");
    $("#instruction-time").textContent = "";
    box.classList.add("none");
  }
  // The word the squad says at the door (never their challenge/password, which is theirs).
  $("#safe-word").hidden = !open || !state.safe_word;
  $("#safe-word-text").textContent = state.safe_word ? t("resident.safe_word", { word: `\u2068${state.safe_word}\u2069` }) : "";
  $("#report").hidden = !open || !(me.household_id || isGuest());
  $("#seen").hidden = !open || !me.household_id;
  renderMedicStatus(open);
  // A guest's check-in (app/guests.py) has no place for how many are hurt.
  $("#medic").hidden = !open || isGuest() || (pending ? pending.body.status : checkin && checkin.status) !== "need_medic";
  if (!open && sightingSent) $("#seen-last").textContent = "";
  if (state.guest) {
    const ref = state.guest.building_ref;
    $("#household-name").textContent = ref ? t("guest.here", { ref }) : t("guest.here_site");
    if (people === null) people = state.guest.people_count || 1;
  }
  if (household) {
    $("#household-name").textContent = t("resident.household", { name: household.name, ref: household.ref });
    if (people === null) people = Math.max(1, household.members || 1);
  }
  $("#people").textContent = num(people || 1);
  const shown = pending ? pending.body.status : checkin && checkin.status;
  $$("#statuses button").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.status === shown));
    b.classList.toggle("pending", Boolean(pending) && b.dataset.status === pending.body.status);
  });
  const last = $("#last");
  if (pending) {
    last.textContent = t("resident.pending", { status: t(`resident.button.${pending.body.status}`), time: time(pending.occurred_at) });
    last.className = "last pending";
  } else if (checkin) {
    last.textContent = t("resident.received", { status: t(`resident.button.${checkin.status}`), time: time(checkin.at) });
    last.className = "last sent";
  } else {
    last.textContent = "";
    last.className = "last";
  }
}

/** Tell the war room this household's screen showed the broadcast (once per broadcast). */
function markRead(broadcast) {
  if (!me.household_id || !state.incident || document.visibilityState !== "visible" || readSent.has(broadcast.broadcast_id)) return;
  readSent.add(broadcast.broadcast_id);
  api(`/api/v1/incidents/${state.incident.incident_id}/broadcasts/${broadcast.broadcast_id}/read`, { method: "POST", key: `read-${broadcast.broadcast_id}`, body: {} })
    .catch(() => readSent.delete(broadcast.broadcast_id));
}

function setupButtons() {
  $$("#statuses button").forEach((button) => button.addEventListener("click", () => {
    checkIn(button.dataset.status);
  }));
  $("#people-less").addEventListener("click", () => { people = Math.max(0, (people || 1) - 1); render(); });
  $("#people-more").addEventListener("click", () => { people = Math.min(MAX_PEOPLE, (people || 0) + 1); render(); });
  $("#open-map").addEventListener("click", openMap);
  setupMedic();
  setupSighting();
}

/** One check-in into the outbox; the note goes with it once. */
function checkIn(status, more = {}) {
  const { incident } = state;
  if (!incident || !(me.household_id || isGuest())) return;
  const who = isGuest() ? `guests/${me.subject_id}` : `households/${me.household_id}`;
  const note = field("#note").value.trim();
  field("#note").value = "";
  outbox.send({
    path: `/api/v1/incidents/${incident.incident_id}/${who}/check-ins`,
    body: { status, people_count: people || 1, ...(note ? { text: note } : {}), ...more },
    label: t(`resident.button.${status}`),
    kind: "checkin",
  });
}

/** "Need a medic" goes at once; how many and how bad follow if the resident can say. */
function setupMedic() {
  $("#injured-less").addEventListener("click", () => { injured = Math.max(1, injured - 1); $("#injured").textContent = num(injured); });
  $("#injured-more").addEventListener("click", () => { injured = Math.min(MAX_PEOPLE, injured + 1); $("#injured").textContent = num(injured); });
  $$("#severity button").forEach((button) => button.addEventListener("click", () => {
    if (!SEVERITIES.includes(button.dataset.severity)) return;
    checkIn("need_medic", { injured_count: injured, severity: button.dataset.severity });
    $$("#severity button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }));
}

/** Armed people outside: how many, which way from the house, a vehicle; the squad decides. */
function setupSighting() {
  $("#armed").addEventListener("click", () => {
    const form = $("#armed-form");
    form.hidden = !form.hidden;
    $("#armed").setAttribute("aria-expanded", String(!form.hidden));
  });
  $$("#armed-count button").forEach((button) => button.addEventListener("click", () => {
    armed.count = Number(button.dataset.count);
    armed.label = button.dataset.label || button.dataset.count;
    $$("#armed-count button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }));
  $$("#compass button").forEach((button) => button.addEventListener("click", () => {
    armed.deg = button.dataset.deg === "" ? null : Number(button.dataset.deg);
    $$("#compass button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }));
  $("#armed-send").addEventListener("click", () => {
    const { incident } = state;
    if (!incident || !me.household_id) return;
    outbox.send({
      path: `/api/v1/incidents/${incident.incident_id}/sightings`,
      body: {
        category: "hostile", armed: true, count: armed.count, vehicle: /** @type {HTMLInputElement} */ ($("#armed-vehicle")).checked,
        ...(armed.deg === null ? {} : { direction_deg: armed.deg }),
        ...(armed.count > 1 ? { text: armed.label } : {}),
      },
      label: t("resident.armed"),
      kind: "sighting",
    });
    $("#armed-form").hidden = true;
    $("#armed").setAttribute("aria-expanded", "false");
    showSighting("pending");
  });
}

function showSighting(stage) {
  sightingSent = stage;
  const line = $("#seen-last");
  line.textContent = t(stage === "received" ? "resident.armed_received" : "resident.armed_pending");
  line.className = `last ${stage === "received" ? "sent" : "pending"}`;
}

/** The map only on request: its library is most of a page's weight. */
async function openMap() {
  const button = /** @type {HTMLButtonElement} */ ($("#open-map"));
  button.disabled = true;
  const { createSiteMap } = await import("./map.js");
  const element = $("#map");
  element.hidden = false;
  button.hidden = true;
  const map = await createSiteMap(element);
  try {
    map.setPlan(await api("/api/v1/site/plan"));
  } catch {
    /* residents may not be shown the plan; the map then shows where they are */
  }
  if ("geolocation" in navigator) {
    navigator.geolocation.getCurrentPosition((p) => {
      const here = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy };
      map.showMe(here);
      map.focus(here);
    }, () => {}, { enableHighAccuracy: true, timeout: 10000 });
  }
  cacheForOffline([`${config.leaflet}/leaflet.js`, `${config.leaflet}/leaflet.css`]).catch(() => {});
}

main().catch((err) => {
  console.error(err);
  $("#instruction-text").textContent = t("common.error");
});
