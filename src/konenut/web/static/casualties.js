// @ts-check
// The casualty list: on a medic's phone the unassigned and their own, on the console every
// casualty with "send a medic". Most urgent first (the server's order: category, then time
// waiting); a tourniquet shows the minutes since it was applied; the open ones on the map by
// their tag. Read over REST and read again when a casualty event arrives on the stream; every
// tap goes through the outbox.
import { api } from "./api.js";
import { h } from "./dom.js";
import { ageSecs, num, t } from "./i18n.js";
import * as outbox from "./outbox.js";

const CATEGORIES = ["immediate", "delayed", "minor", "expectant", "dead"];
const ENDINGS = ["treating", "handed_over", "died"]; // what a medic marks (evacuated: item 3)
const AGES_REDRAWN_MS = 30000; // "waiting N min" and a tourniquet's minutes move on
const minutesSince = (when) => num(Math.max(0, Math.floor(ageSecs(when) / 60)));
const isOpen = (c) => !["handed_over", "evacuated", "died"].includes(c.state);

/**
 * @param {HTMLElement} list where the rows go
 * @param {{incidentId: () => string | null, canTreat: boolean, canAssign: boolean,
 *   listed?: boolean, people?: () => Map<string, any>, siteMap?: any, here?: () => Promise<any>,
 *   collectionPoints?: () => string[]}} options
 *   `siteMap`: the page's map (map.js) to mark the open casualties on; `here`: where this phone
 *   is, for "a casualty here" (the squad's one-tap report); `listed` false: the map and that
 *   button only (a responder's phone keeps its own things first); `collectionPoints`: the site
 *   plan's collection points a medic may say a casualty was carried to.
 */
export function casualtyList(list, { incidentId, canTreat, canAssign, listed = true, people = () => new Map(), siteMap = null, here = null, collectionPoints = () => [] }) {
  /** @type {any[]} */
  let rows = [];
  let shownFor = null;
  let layer = null; // the map's casualty markers

  async function reload() {
    const id = incidentId();
    shownFor = id;
    rows = id ? await api(`/api/v1/incidents/${id}/casualties`).catch(() => rows) : [];
    render();
  }

  const send = (c, what, body) => outbox.send({
    path: `/api/v1/incidents/${incidentId()}/casualties/${c.casualty_id}/${what}`,
    body, label: c.tag, kind: "casualty",
  });
  const nameOf = (id) => ((people().get(id) || {}).name || "—");

  function medics() {
    return [...people().values()].filter((p) => (p.roles || []).includes("medic"));
  }

  function assign(c) {
    const select = h("select", { "aria-label": t("casualty.send_medic") },
      ...medics().map((p) => h("option", { value: p.person_id, selected: p.person_id === c.medic_id }, p.name)));
    const tell = h("input", { type: "checkbox" });
    return h("div", { class: "cas-assign" }, select,
      h("label", { class: "check" }, tell, " ", t("casualty.tell_household")),
      h("button", { type: "button", class: "primary", onclick: () => send(c, "assignment", { medic_id: select.value, tell_household: tell.checked }) }, t("casualty.send_medic")));
  }

  /** START in one tap; what the medic typed of the injuries goes with it. */
  function treat(c) {
    const seen = (c.triage || []).at(-1);
    const injuries = h("input", {
      type: "text", class: "cas-injuries", maxlength: 200, dir: "auto",
      placeholder: t("casualty.injuries"), "aria-label": t("casualty.injuries"), value: seen ? seen.injuries.join(", ") : "",
    });
    const triage = (cat) => send(c, "triage", { category: cat, injuries: injuries.value.trim() ? [injuries.value.trim()] : [] });
    return h("div", { class: "cas-actions" },
      injuries,
      h("div", { class: "cas-cats", role: "group" }, ...CATEGORIES.map((cat) => h("button", {
        type: "button", class: `cat-${cat}`, "aria-pressed": String(c.category === cat), onclick: () => triage(cat),
      }, t(`casualty.category.${cat}`)))),
      h("button", { type: "button", class: "danger", onclick: () => send(c, "treatments", { treatment: "tourniquet", applied_at: new Date().toISOString() }) }, t("casualty.tourniquet_now")),
      ...ENDINGS.filter((s) => s !== c.state).map((s) => h("button", { type: "button", onclick: () => send(c, "state", { state: s }) }, t(`casualty.state.${s}`))),
      ...collectionPoints().filter((ref) => ref !== c.collection_point_ref).map((ref) => h("button", {
        type: "button", class: "cas-point", onclick: () => send(c, "place", { collection_point_ref: ref }),
      }, t("casualty.at_point", { ref }))));
  }

  function row(c) {
    const tourniquet = (c.treatments || []).filter((x) => x.treatment === "tourniquet").pop();
    const place = c.collection_point_ref ? t("casualty.at_point", { ref: c.collection_point_ref })
      : c.building_ref ? t("casualty.house", { ref: c.building_ref }) : "";
    const open = isOpen(c);
    return h("li", { class: `casualty cat-${c.category || "none"}${open ? "" : " done"}`, dataset: { casualty: c.casualty_id } },
      h("p", { class: "cas-head" },
        h("strong", { class: "cas-tag" }, c.tag),
        h("span", { class: "cas-cat" }, c.category ? t(`casualty.category.${c.category}`) : t("casualty.untriaged")),
        c.count > 1 ? h("span", {}, `×${num(c.count)}`) : null,
        h("span", { class: "cas-state" }, t(`casualty.state.${c.state}`))),
      h("p", { class: "cas-where" }, [place, c.name, open ? t("casualty.waiting", { n: minutesSince(c.reported_at) }) : ""].filter(Boolean).join(" · ")),
      c.text ? h("p", { class: "cas-text", dir: "auto" }, c.text) : null,
      (c.triage || []).length && c.triage.at(-1).injuries.length ? h("p", { class: "cas-text", dir: "auto" }, c.triage.at(-1).injuries.join(", ")) : null,
      tourniquet ? h("p", { class: "cas-tourniquet" }, t("casualty.tourniquet_since", { n: minutesSince(tourniquet.applied_at) })) : null,
      h("p", { class: "cas-medic" }, c.medic_id ? t("casualty.medic", { name: nameOf(c.medic_id) }) : t("casualty.unassigned")),
      open && canAssign ? assign(c) : null,
      open && canTreat ? treat(c) : null);
  }

  /** "A casualty here": one tap, at this phone's position (details follow from the medic). */
  async function reportHere() {
    const id = incidentId();
    const location = here ? await here() : null;
    if (!id || !location) return;
    outbox.send({ path: `/api/v1/incidents/${id}/casualties`, body: { location, count: 1 }, label: t("casualty.report_here"), kind: "casualty" });
  }

  function marker(c) {
    const L = siteMap.L;
    const at = c.location ? [c.location.lat, c.location.lon] : c.building_ref ? siteMap.buildingCentre(c.building_ref) : null;
    if (!at) return null;
    return L.marker(at, {
      icon: L.divIcon({ className: `mk mk-casualty cat-${c.category || "none"}`, html: h("span", { class: "mk-cas" }, c.tag), iconSize: [44, 24] }),
      zIndexOffset: 800,
      title: [c.tag, c.category ? t(`casualty.category.${c.category}`) : t("casualty.untriaged"), t(`casualty.state.${c.state}`)].join(" · "),
    });
  }

  function drawOnMap() {
    if (!siteMap) return;
    layer = layer || siteMap.L.layerGroup().addTo(siteMap.map);
    layer.clearLayers();
    for (const c of rows.filter(isOpen)) marker(c)?.addTo(layer);
  }

  function render() {
    const report = here && incidentId() ? [h("li", { class: "cas-report" }, h("button", { type: "button", class: "danger", onclick: reportHere }, t("casualty.report_here")))] : [];
    const shown = !listed ? [] : rows.length ? rows.map(row) : [h("li", { class: "muted" }, t("casualty.none"))];
    list.replaceChildren(...report, ...shown);
    drawOnMap();
  }

  setInterval(render, AGES_REDRAWN_MS);
  return {
    reload,
    /** The page's incident changed (or was loaded). */
    show() { if (incidentId() !== shownFor) reload(); },
    /** @param {{type: string}} event */
    onEvent(event) { if (event.type.startsWith("casualty.")) reload(); },
  };
}
