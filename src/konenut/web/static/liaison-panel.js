// @ts-check
// What an arriving unit's liaison asks first, on the console it opens read-only (docs/liaison.md):
// its pass (unit, until when), threats by age, occupied houses and their state, hostages, gates
// and who holds their keys; casualties and open tasks once the server has their boards (a read
// that is not there yet leaves its slot hidden). Everything here is a read: a liaison writes nothing.
import { api } from "./api.js";
import { lastSeen, seenAgo } from "./aging.js";
import { $, h } from "./dom.js";
import { num, shortTime, t } from "./i18n.js";
import { featureName } from "./map.js";

const REREAD_MS = 30000; // the reads below are refreshed this often, and after their events
const REREAD_AFTER = /^(household\.checked_in|guest\.|hostage\.|intruder\.|asset\.|casualty\.|task\.)/;
const GONE = ["merged", "dismissed", "neutralised"]; // a sighting no longer standing
const LIVE_TASKS = ["open", "accepted"]; // domain/tasks.py LIVE

/** Hide `box` or fill its list with `rows` (an empty array shows the `none` text). */
function fill(box, rows, none) {
  box.hidden = rows === null;
  if (rows === null) return;
  $("ul", box).replaceChildren(...(rows.length ? rows : [h("li", { class: "muted" }, none)]));
}

/** A read of the incident that may not exist on this server yet (casualties, tasks): null then. */
async function optional(path) {
  try {
    return await api(path);
  } catch {
    return null;
  }
}

/**
 * @param {import("./console-store.js").ConsoleStore} store
 * @param {{roles: string[]}} me
 */
export function liaisonPanel(store, me) {
  const board = $("#liaison-board");
  const isLiaison = me.roles.includes("liaison");
  board.hidden = !isLiaison;
  const picture = store.picture;
  let reads = { occupancy: [], hostages: [], assets: [], casualties: null, tasks: null };
  let timer = 0;

  async function showPass() {
    const pass = await api("/api/v1/liaison/me").catch(() => null);
    if (!pass || !pass.unit_name) return;
    const banner = $("#liaison-unit");
    banner.textContent = t("liaison.banner", { unit: pass.unit_name, until: shortTime(pass.expires_at) });
    banner.hidden = false;
  }

  async function reread() {
    const incident = picture.incident;
    if (!incident) return;
    const base = `/api/v1/incidents/${incident.incident_id}`;
    const [occupancy, hostages, assets, casualties, tasks] = await Promise.all([
      api(`${base}/occupancy`).then((o) => o.buildings).catch(() => []),
      api(`${base}/hostage-situations`).catch(() => []),
      api("/api/v1/assets").catch(() => []),
      optional(`${base}/casualties`),
      optional(`${base}/tasks`),
    ]);
    reads = { occupancy, hostages, assets, casualties, tasks };
    show();
  }

  function threats() {
    return [...picture.sightings.values()]
      .filter((s) => !GONE.includes(s.status) && s.category !== "friendly_unknown")
      .sort((a, b) => (lastSeen(a) < lastSeen(b) ? 1 : -1))
      .map((s) => h("li", { class: `threat ${s.category}` },
        `${t(`sighting.${s.category}`)} × ${num(s.count || 1)}${s.armed ? ` · ${t("sighting.armed")}` : ""} · ${seenAgo(s)}`));
  }

  function occupied() {
    return reads.occupancy.map((b) => h("li", null,
      `${b.building_ref}${b.name ? ` · ${b.name}` : ""} · ${t("household.people", { n: num(b.people || 0) })}`,
      b.status ? ` · ${t(`household.${b.status}`)}` : "",
      b.intruder ? ` · ${t("household.intruder")}` : ""));
  }

  function hostages() {
    return reads.hostages.filter((s) => s.status !== "resolved").map((s) => h("li", { class: "danger" },
      `${s.building_ref} · ${t("hostage.people_inside")}: ${s.people_inside ?? "?"} · ${t("hostage.attackers_inside")}: ${s.attackers_inside ?? "?"}`));
  }

  function gates() {
    const plan = store.plan;
    const list = ((plan && plan.features) || []).filter((f) => f.properties.kind === "gate");
    return list.map((f) => {
      const ref = String(f.properties.ref);
      const keys = reads.assets.filter((a) => a.opens_ref === ref);
      const holders = keys.map((a) => a.holder_name || a.holder_ref).filter(Boolean);
      const name = featureName(f.properties);
      return h("li", null, `${name && name !== ref ? `${ref} · ${name}` : ref} · `,
        holders.length ? t("liaison.key_with", { who: holders.join(", ") }) : t("liaison.key_unknown"));
    });
  }

  function casualties() {
    if (!Array.isArray(reads.casualties)) return null;
    return reads.casualties.map((c) => h("li", null, [
      c.tag, c.category && t(`casualty.category.${c.category}`), t(`casualty.state.${c.state}`),
      c.collection_point_ref || c.building_ref,
    ].filter(Boolean).join(" · ")));
  }

  function tasks() {
    if (!Array.isArray(reads.tasks)) return null;
    return reads.tasks.filter((task) => LIVE_TASKS.includes(task.state)).map((task) => h("li", { dir: "auto" }, task.title));
  }

  function show() {
    if (!isLiaison) return;
    fill($("#liaison-threats-box"), threats(), t("liaison.none"));
    fill($("#liaison-occupied-box"), occupied(), t("liaison.none"));
    fill($("#liaison-hostages-box"), hostages(), t("liaison.none"));
    fill($("#liaison-gates-box"), gates(), t("liaison.none"));
    fill($("#liaison-casualties-box"), casualties(), t("liaison.none"));
    fill($("#liaison-tasks-box"), tasks(), t("liaison.none"));
  }

  if (isLiaison) {
    showPass();
    store.subscribe(show);
    setInterval(reread, REREAD_MS);
  }
  return {
    /** The picture was (re)loaded: read the rest again. */
    refresh() { if (isLiaison) reread(); },
    /** @param {{type: string}} event */
    onEvent(event) {
      if (!isLiaison || !REREAD_AFTER.test(event.type)) return;
      clearTimeout(timer);
      timer = setTimeout(reread, 500); // a burst of check-ins is one read
    },
  };
}
