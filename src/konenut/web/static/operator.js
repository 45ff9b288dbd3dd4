// @ts-check
// The operator console (war room, big screen; commanders and liaisons use it too): the site
// map with friends, threats and households, the boards, the timeline and the command bar.
// One store (console-store.js) holds what the console knows; each board is a component that
// subscribes to it. This page loads the store, feeds it the stream and wires the command bar.
// Every command goes through the outbox.
import { activation } from "./activation.js";
import { api, readLog } from "./api.js";
import { broadcastPanel } from "./broadcast-panel.js";
import { casualtyList } from "./casualties.js";
import { challengeConsole } from "./challenge-console.js";
import { ConsoleStore } from "./console-store.js";
import { $, $$, field } from "./dom.js";
import { num, t } from "./i18n.js";
import { guestsBoard } from "./guests-board.js";
import { householdsBoard } from "./households.js";
import { householdRows, householdsSummary } from "./households-summary.js";
import { mapLayers } from "./layers.js";
import { liaisonPanel } from "./liaison-panel.js";
import { createSiteMap } from "./map.js";
import { boardFeed, shareTokenWithServiceWorker, subscribePush } from "./muster.js";
import { musterBoard } from "./muster-board.js";
import * as outbox from "./outbox.js";
import { logisticsBoard } from "./logistics-board.js";
import { ordersBoard } from "./orders-board.js";
import { passesDialog } from "./passes-dialog.js";
import { setupTabs, showTab } from "./tabs.js";
import { sitrepDialog } from "./sitrep-dialog.js";
import { timeline } from "./timeline.js";
import { boot, loadOrRestore, pickIncident, showDrill, showOutbox, siteHead, snapshot, startStream } from "./ui.js";
import { volunteersPanel } from "./volunteers-panel.js";

/** @typedef {import("./timeline.js").TimelineEvent & {incident_id?: string}} StreamEvent */

const AGES_REDRAWN_MS = 30000; // lists that say "N min ago" are redrawn this often
const COMMAND_ROLES = ["commander", "operator"];
const OPEN_ROLES = ["commander", "operator", "admin"];
const CASUALTY_ROLES = ["commander", "operator", "liaison"]; // never the admin desk (docs/casualties.md)
// Who may read the registry (people, households); a liaison sees the picture only (contracts §4).
const REGISTRY_ROLES = [...OPEN_ROLES, "responder", "medic"];

const store = new ConsoleStore();
const picture = store.picture;
const feed = boardFeed(() => (picture.incident && picture.musters.length ? picture.incident.incident_id : null), (board) => {
  store.set({ board }); // the timeline names keys from the board too
});

async function main() {
  shareTokenWithServiceWorker().catch((err) => console.warn("konenut: token for the service worker", err));
  const me = await boot();
  if (!me) return;
  /** @param {string[]} roles */
  const holds = (roles) => me.roles.some((r) => roles.includes(r));
  const canCommand = holds(COMMAND_ROLES);
  // A commander is called by a muster too: Web Push, asked for at the first tap.
  if (me.roles.includes("commander") && "Notification" in self && Notification.permission !== "denied") {
    addEventListener("pointerdown", () => subscribePush().catch((err) => console.warn("konenut: push", err)), { once: true, capture: true });
  }
  $("#commands").hidden = !holds([...OPEN_ROLES, "liaison"]); // a liaison: the challenge only
  showOutbox($("#outbox"), {
    onChange: (entries) => {
      const waiting = entries.filter((e) => e.state === "pending").length;
      $("#pending-count").hidden = waiting === 0;
      $("#pending-count").textContent = num(waiting);
    },
  });
  const map = await createSiteMap($("#map"), { sightingActions: canCommand ? (sighting, status, mergedInto) => updateSighting(map, sighting, status, mergedInto) : null });
  setupTabs((name) => { if (name === "map") setTimeout(() => map.invalidate(), 0); });
  showHeader(me, canCommand);
  musterBoard(store);
  const volunteers = volunteersPanel(store, { canCommand });
  const liaison = liaisonPanel(store, me); // the arriving unit's first questions, read-only
  householdsSummary(store, { map });
  const lines = timeline(store, { map });
  activation(store);
  const layers = mapLayers(map, {
    picture, canPlace: canCommand, changed: () => { picture.bump("sightings", "households"); store.changed(); },
  });
  showMap(map, layers);
  const orders = ordersBoard({ picture });
  const logistics = logisticsBoard({ picture, canCommand, incidentPath: (suffix) => store.incidentPath(suffix) });
  const boards = [
    guestsBoard(map),
    householdsBoard({ picture, canCommand, act: (sighting, status, mergedInto) => updateSighting(map, sighting, status, mergedInto) }),
    orders,
    logistics,
    broadcastPanel({ map, picture, canCommand, showTab }),
    layers,
    casualtyList($("#casualty-list"), {
      incidentId: () => (holds(CASUALTY_ROLES) && picture.incident && !picture.incident.closed_at ? picture.incident.incident_id : null),
      canTreat: false,
      canAssign: canCommand,
      people: () => picture.people,
      siteMap: map,
    }),
  ];
  store.subscribe(() => { for (const board of boards) board.show(picture.incident); });
  setupCommands(me, map, canCommand, orders);

  /** Read the whole picture over REST; resolves with the site head it is as new as. */
  async function load() {
    const head = await siteHead();
    const readsRegistry = holds(REGISTRY_ROLES);
    const [incidents, people, sitePlan, templates] = await Promise.all([
      api("/api/v1/incidents"),
      readsRegistry ? api("/api/v1/site/people").catch(() => []) : [],
      api("/api/v1/site/plan").catch(() => null),
      canCommand ? api("/api/v1/muster-templates").catch(() => null) : null,
    ]);
    if (templates) store.set({ templates });
    if (sitePlan && JSON.stringify(sitePlan) !== JSON.stringify(store.plan)) showPlan(map, sitePlan);
    const chosen = pickIncident(incidents);
    let households;
    let incident = null;
    let events = [];
    if (chosen) {
      const base = `/api/v1/incidents/${chosen.incident_id}`;
      const [log, full, states] = await Promise.all([
        readLog(`${base}/events`, 0),
        api(base),
        api(`${base}/households`).catch(() => []),
      ]);
      incident = full;
      events = log.events;
      households = states.map(({ checkin, ...household }) => household);
    } else {
      households = readsRegistry ? await api("/api/v1/site/households").catch(() => []) : [];
    }
    picture.load({ incident, people, households, timeline: events });
    store.set({ board: null });
    feed.refresh();
    volunteers.refresh();
    logistics.refresh();
    liaison.refresh();
    lines.seenAll();
    snapshot.save("operator", { plan: store.plan, incident, people, households, timeline: events }, head);
    store.render();
    return head;
  }

  /** Show the picture cached on this device when the server cannot be reached. */
  function restore(data) {
    if (data.plan) showPlan(map, data.plan);
    picture.load(data);
    store.render();
  }

  /** @type {ReturnType<typeof startStream> | null} */
  let stream = null;
  async function reload() {
    try {
      const head = stream ? await stream.holdWhile(load) : await load();
      if (stream && head > stream.since) stream.since = head;
    } catch (err) {
      console.warn("konenut: reload failed", err);
    }
  }

  /** @param {StreamEvent} event */
  function onEvent(event) {
    if (!picture.apply(event)) return;
    if (event.type === "incident.opened" && (!picture.incident || picture.incident.closed_at)) {
      reload();
      return;
    }
    if (event.type === "site.configured" && event.payload.plan) showPlan(map, event.payload.plan);
    feed.onEvent(event);
    volunteers.onEvent(event);
    liaison.onEvent(event);
    for (const board of boards) board.onEvent?.(event);
    store.changed();
  }

  outbox.onConfirmed((entry) => {
    for (const event of (entry.result && entry.result.events) || []) picture.apply(event);
    const opened = entry.kind === "activate" && entry.result && (!picture.incident || entry.result.incident_id !== picture.incident.incident_id);
    if (entry.kind === "open_incident" || opened) reload();
    else {
      if (entry.kind === "activate" || entry.kind === "asset_request") feed.refresh();
      store.changed();
    }
  });
  const loaded = await loadOrRestore("operator", load, restore);
  if (!loaded) return;
  /** A broadcast's counts moved (the stream's `progress`, docs/stream.md): the boards that show them. */
  const onProgress = (/** @type {any} */ message) => { for (const board of boards) board.onProgress?.(message); };
  stream = startStream({ view: "operator", ...loaded, onEvent, onResync: reload, onProgress });
  setInterval(() => store.changed(), AGES_REDRAWN_MS); // units age in place (positions.js), not by a redraw
}

/**
 * A new site plan: the basemap, the rally points, the households drawn on it.
 * @param {any} map
 * @param {import("./console-store.js").SitePlan} plan
 */
function showPlan(map, plan) {
  map.setPlan(plan);
  picture.bump("households");
  store.set({ plan });
}

/**
 * The header and the command bar: the incident's title, the drill mark, which commands show.
 * @param {{roles: string[]}} me
 * @param {boolean} canCommand
 */
function showHeader(me, canCommand) {
  const el = {
    title: $("#incident-title"),
    open: $("#cmd-open"),
    incidentCommands: ["#cmd-broadcast", "#cmd-order", "#cmd-sighting"].map((id) => $(id)),
    challenge: $("#cmd-challenge"),
    sitrep: $("#cmd-sitrep"),
    activate: $(".activate-group"),
  };
  store.subscribe(() => {
    const incident = picture.incident;
    el.title.textContent = incident
      ? `${incident.title}${incident.closed_at ? ` · ${t("operator.closed")}` : ""}`
      : t("operator.no_incident");
    showDrill(incident);
    const open = Boolean(store.openIncident());
    el.open.hidden = open || !me.roles.some((r) => OPEN_ROLES.includes(r));
    for (const button of el.incidentCommands) button.hidden = !open || !canCommand;
    // The arriving unit's liaison reads the challenge too (read-only): they must answer it.
    el.challenge.hidden = !open || !(canCommand || me.roles.includes("liaison"));
    // The SITREP: those who run the squad, and the liaison reads its incident's.
    el.sitrep.hidden = !open || !(canCommand || me.roles.includes("liaison"));
    // Calling the squad opens an incident when none is open (the API does).
    el.activate.hidden = !canCommand;
  });
}

/**
 * The map's layers, each redrawn only when its data changed (an open popup on a sighting
 * survives a stream of positions).
 * @param {any} map
 * @param {any} layers
 */
function showMap(map, layers) {
  const drawn = { positions: -1, sightings: -1, households: -1 };
  store.subscribe(() => {
    const v = picture.versions;
    if (drawn.positions !== v.positions) {
      map.showPositions([...picture.positions.values()], { stateOf: (/** @type {string} */ id) => (picture.responders.get(id) || {}).status });
    }
    if (drawn.sightings !== v.sightings) map.showSightings(layers.sightings([...picture.sightings.values()]));
    if (drawn.households !== v.households) map.showHouseholds(layers.households(householdRows(picture)));
    Object.assign(drawn, v);
  });
}

// --- commands ------------------------------------------------------------------------------
/**
 * Open a dialog; resolves with it when confirmed, null when cancelled.
 * @param {string} id
 * @returns {Promise<HTMLDialogElement | null>}
 */
function ask(id) {
  const dialog = /** @type {HTMLDialogElement} */ ($(id));
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? dialog : null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

/**
 * The command bar: open an incident, order, mark a sighting (calling the squad: activation.js;
 * broadcasts: broadcast-panel.js).
 * @param {{roles: string[]}} me
 * @param {any} map
 * @param {boolean} canCommand
 * @param {ReturnType<typeof ordersBoard>} orders
 */
function setupCommands(me, map, canCommand, orders) {
  $("#cmd-open").addEventListener("click", async () => {
    const dialog = await ask("#dlg-open");
    if (!dialog) return;
    const title = field("#open-title", dialog).value.trim() || t("operator.default_incident_title");
    const drill = /** @type {HTMLInputElement} */ ($("#open-drill", dialog)).checked;
    outbox.send({ path: "/api/v1/incidents", body: { title, drill }, label: t("operator.cmd.open_incident"), kind: "open_incident" });
  });
  challengeConsole({ incidentPath: (/** @type {string} */ suffix) => store.incidentPath(suffix), isCommander: me.roles.includes("commander"), canCommand });
  passesDialog({ roles: me.roles, plan: () => store.plan, incident: () => picture.incident });
  sitrepDialog({ incidentPath: (/** @type {string} */ suffix) => store.incidentPath(suffix), canSend: canCommand });
  $("#cmd-order").addEventListener("click", async () => {
    orders.fillTargets();
    const dialog = await ask("#dlg-order");
    if (!dialog) return;
    const field = /** @type {HTMLInputElement} */ ($("#order-text"));
    const text = field.value.trim();
    if (!text) return;
    outbox.send({ path: store.incidentPath("/orders"), body: { text, ...orders.target() }, label: t("operator.cmd.order"), kind: "order" });
    field.value = "";
  });
  const categories = $$("#sighting-category button");
  categories.forEach((button) => button.addEventListener("click", () => {
    categories.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }));
  $("#cmd-sighting").addEventListener("click", async () => {
    showTab("map");
    $("#pick-hint").hidden = false;
    const location = await map.pick();
    $("#pick-hint").hidden = true;
    if (!location) return;
    const dialog = await ask("#dlg-sighting");
    if (!dialog) return;
    const category = /** @type {HTMLElement} */ ($("#sighting-category [aria-pressed=true]")).dataset.value;
    const text = /** @type {HTMLInputElement} */ ($("#sighting-text"));
    const body = {
      location, category,
      count: Math.max(1, Math.min(500, Number(field("#sighting-count").value) || 1)),
      armed: /** @type {HTMLInputElement} */ ($("#sighting-armed")).checked || null,
      text: text.value.trim(),
    };
    outbox.send({ path: store.incidentPath("/sightings"), body, label: `${t("operator.cmd.sighting")}: ${t(`sighting.${category}`)}`, kind: "sighting" });
    text.value = "";
  });
  $("#pick-cancel").addEventListener("click", () => map.cancelPick());
}

/**
 * Triage from the map: "moved" asks for the new place, "merged" names the group it joins.
 * @param {any} map
 * @param {{sighting_id: string, category: string}} sighting
 * @param {string} status
 * @param {string} [mergedInto]
 */
async function updateSighting(map, sighting, status, mergedInto) {
  /** @type {Record<string, any>} */
  const body = { status };
  if (status === "merged") body.merged_into = mergedInto;
  if (status === "moved") {
    $("#pick-hint").hidden = false;
    body.location = await map.pick();
    $("#pick-hint").hidden = true;
    if (!body.location) return;
  }
  outbox.send({
    path: store.incidentPath(`/sightings/${sighting.sighting_id}`),
    body,
    label: `${t(`sighting.${sighting.category}`)}: ${t(`sighting.action.${status}`)}`,
    kind: "sighting_update",
  });
}

main().catch((err) => {
  console.error(err);
  $("#incident-title").textContent = t("common.error");
});
