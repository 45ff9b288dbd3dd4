// @ts-check
// The operator map's tools: which layers show (units, sightings by age, households by state,
// civilians in hiding, cameras, gates, shelters, zones), a ruler, a search box, and placing a
// unit by hand. Choices persist on this device.
import { FRESH_SECS, RECENT_SECS, lastSeen } from "./aging.js";
import { api } from "./api.js";
import { $, h } from "./dom.js";
import { ageSecs, config, duration, lang, num, t, time } from "./i18n.js";
import { featureName } from "./map.js";
import * as outbox from "./outbox.js";
import { MAP_LAYERS_KEY, readJson, writeJson } from "./storage.js";
import { personName } from "./ui.js";

const PLAN_LAYERS = ["camera", "gate", "shelter", "zone"];
// The households' states the operator can show or hide, and the check-in statuses in each.
export const HOUSEHOLD_GROUPS = {
  safe: ["safe"], need_help: ["need_medic"], danger: ["intruder", "smoke"], no_answer: ["no_answer"], not_home: ["not_home"],
};
const AGES = { all: Infinity, "10m": RECENT_SECS, "2m": FRESH_SECS }; // as the markers age (aging.js)
const DEFAULTS = {
  units: true, sightings: true, age: "all", households: true, occupancy: true,
  camera: true, gate: true, shelter: true, zone: true,
  states: Object.fromEntries(Object.keys(HOUSEHOLD_GROUPS).map((g) => [g, true])),
};
const OCCUPANCY_EVENTS = /^(household\.checked_in|guests?\.)/;
const REFRESH_MS = 500; // check-ins come in bursts: one occupancy read per burst
const AGE_CHECK_MS = 15000; // an age filter drops sightings as they grow old
const SEARCH_RESULTS = 8;
const FOCUS_ZOOM = 18;

function loadChoices() {
  try {
    const saved = readJson(MAP_LAYERS_KEY, /** @type {Record<string, any>} */ ({}));
    return { ...DEFAULTS, ...saved, states: { ...DEFAULTS.states, ...(saved.states || {}) } };
  } catch {
    return { ...DEFAULTS, states: { ...DEFAULTS.states } };
  }
}

/** "1,234 m" in the page's digits. */
export function metres(distance) {
  return t("map.metres", { n: num(Math.round(distance)) });
}

/**
 * Attach the tools to a SiteMap. `changed()` asks the page to redraw its layers; the page
 * passes its sightings and households through `sightings()` and `households()`.
 */
export function mapLayers(siteMap, { picture, canPlace, changed }) {
  const L = siteMap.L;
  const map = siteMap.map;
  const choices = loadChoices();
  const hiding = L.layerGroup().addTo(map);
  const ruler = L.layerGroup().addTo(map);
  let occupancy = [];
  let occupancyFor = null;
  let refreshTimer = null;
  let measuring = null; // the points of the line being measured
  let squadShown = null;
  let occupancyDenied = false;

  const save = () => writeJson(MAP_LAYERS_KEY, choices);

  // --- the panel ----------------------------------------------------------------------------
  const check = (key, label, onchange, wide) => h("label", { class: `check${wide ? " wide" : ""}` },
    h("input", { type: "checkbox", name: key, checked: Boolean(choices[key]), onchange }), ` ${label}`);
  const toggle = (key) => (event) => {
    choices[key] = event.target.checked;
    save();
    apply();
  };
  const ageSelect = h("select", {
    id: "layer-age",
    onchange: (event) => { choices.age = event.target.value; save(); changed(); },
  }, ...Object.keys(AGES).map((age) => h("option", { value: age, selected: choices.age === age }, t(`map.age.${age}`))));
  const states = h("div", { class: "layer-states wide" }, ...Object.keys(HOUSEHOLD_GROUPS).map((group) => h("label", { class: "check" },
    h("input", {
      type: "checkbox", name: `state-${group}`, checked: Boolean(choices.states[group]),
      onchange: (event) => { choices.states[group] = event.target.checked; save(); changed(); },
    }),
    h("span", { class: `swatch st-${group}` }), ` ${t(`map.state.${group}`)}`)));
  const layerList = h("fieldset", { id: "layer-list", class: "layer-list", hidden: true },
    h("legend", {}, t("map.layers")),
    check("units", t("map.layer.units"), toggle("units")),
    check("sightings", t("map.layer.sightings"), toggle("sightings")),
    h("label", { class: "layer-age wide" }, h("span", {}, t("map.layer.age")), ageSelect),
    check("households", t("map.layer.households"), toggle("households"), "wide"),
    states,
    check("occupancy", t("map.layer.occupancy"), toggle("occupancy"), "wide"),
    ...PLAN_LAYERS.map((kind) => check(kind, t(`map.layer.${kind}`), toggle(kind))));
  const layersButton = h("button", {
    type: "button", id: "layers-toggle", class: "small", "aria-expanded": "false", "aria-controls": "layer-list",
    onclick: () => {
      layerList.hidden = !layerList.hidden;
      layersButton.setAttribute("aria-expanded", String(!layerList.hidden));
    },
  }, t("map.layers"));
  const measureButton = h("button", { type: "button", id: "measure-toggle", class: "small", "aria-pressed": "false", onclick: () => (measuring ? stopMeasuring() : startMeasuring()) }, t("map.measure"));
  const measureOut = h("output", { id: "measure-out", class: "measure-out", hidden: true, "aria-live": "polite" });
  const searchBox = h("input", {
    type: "search", id: "map-search", dir: "auto", placeholder: t("map.search"), "aria-label": t("map.search"), autocomplete: "off",
    oninput: () => showResults(), onkeydown: (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        const [first] = search(searchBox.value);
        if (first) choose(first);
      } else if (event.key === "Escape") {
        searchBox.value = "";
        showResults();
      }
    },
  });
  const results = h("ul", { id: "map-search-results", class: "search-results", role: "listbox", hidden: true });
  const placeSelect = h("select", { id: "place-who", "aria-label": t("map.place.who") });
  const placeButton = h("button", { type: "button", id: "place-unit", class: "small", onclick: () => placeUnit() }, t("map.place.button"));
  const placeRow = h("div", { class: "layer-row place-row", hidden: !canPlace }, placeSelect, placeButton);
  const panel = h("div", { class: "map-tools", dir: config.dir },
    h("div", { class: "search" }, searchBox, results),
    h("div", { class: "layer-row" }, layersButton, measureButton),
    measureOut, layerList, placeRow);
  const Control = L.Control.extend({ onAdd: () => panel });
  // On the side where the page's lines start (the outbox floats at the other end).
  new Control({ position: config.dir === "rtl" ? "topright" : "topleft" }).addTo(map);
  L.DomEvent.disableClickPropagation(panel);
  L.DomEvent.disableScrollPropagation(panel);
  document.head.append(h("link", { rel: "stylesheet", href: `${config.static}/layers.css` }));

  /** Show or hide whole layers; the page redraws filtered ones. */
  function apply() {
    for (const [key, layer] of [["units", siteMap.layers.positions], ["sightings", siteMap.layers.sightings], ["occupancy", hiding]]) {
      if (choices[key]) layer.addTo(map);
      else layer.remove();
    }
    for (const kind of PLAN_LAYERS) siteMap.element.classList.toggle(`hide-${kind}`, !choices[kind]);
    states.hidden = !choices.households;
    ageSelect.disabled = !choices.sightings;
    changed();
  }

  // --- filters the page applies before drawing ----------------------------------------------
  function sightings(list) {
    const limit = AGES[choices.age] || Infinity;
    return list.filter((s) => ageSecs(lastSeen(s)) < limit);
  }

  /** Households shown by state; with an incident open, those who did not answer too. */
  function households(rows) {
    if (!choices.households) return [];
    const open = picture.incident && !picture.incident.closed_at;
    const shown = new Set(Object.entries(HOUSEHOLD_GROUPS).filter(([group]) => choices.states[group]).flatMap(([, s]) => s));
    return rows
      .map((row) => (row.checkin || !open ? row : { ...row, checkin: { status: "no_answer" } }))
      .filter((row) => row.checkin && shown.has(row.checkin.status));
  }

  setInterval(() => { if (choices.age !== "all") changed(); }, AGE_CHECK_MS);

  // --- civilians in hiding --------------------------------------------------------------------
  async function loadOccupancy() {
    const incident = picture.incident;
    occupancyFor = incident ? incident.incident_id : null;
    if (!incident || occupancyDenied) {
      occupancy = [];
    } else {
      try {
        const body = await api(`/api/v1/incidents/${incident.incident_id}/occupancy?lang=${lang}`);
        occupancy = body.buildings || [];
      } catch (err) {
        // Not this role's to see (an admin): do not ask again, each refusal is audited.
        if (err.status === 403) occupancyDenied = true;
        else console.warn("konenut: occupancy", err);
        occupancy = [];
      }
    }
    drawOccupancy();
  }

  function drawOccupancy() {
    hiding.clearLayers();
    for (const b of occupancy) {
      const at = b.location ? [b.location.lat, b.location.lon] : siteMap.buildingCentre(b.building_ref);
      if (!at || !b.people) continue;
      L.marker(at, {
        icon: L.divIcon({
          className: `mk mk-occupied${b.intruder ? " intruder" : ""}`,
          html: h("span", { class: "mk-badge", dataset: { ref: b.building_ref } }, num(b.people)),
          iconSize: [24, 24], iconAnchor: [-4, 28],
        }),
        zIndexOffset: 700,
      }).bindPopup(() => h("div", { class: "popup", dir: config.dir }, ...occupancyLines(b))).addTo(hiding);
    }
  }

  function occupancyLines(b) {
    return [
      h("strong", { dir: "auto" }, b.name || b.building_ref),
      h("div", {}, t("map.occupied", { n: num(b.people), time: time(b.checked_in_at) })),
      // Guests scanned a poster anyone can scan: their counts are theirs, unverified.
      b.guest_people ? h("div", { class: "guest-reported" }, t("map.guest_reported", { n: num(b.guest_people) })) : null,
      b.status ? h("div", {}, t(`household.${b.status}`)) : null,
      b.intruder ? h("div", { class: "bad" }, t("household.intruder")) : null,
    ];
  }

  function show(incident) {
    const id = incident ? incident.incident_id : null;
    if (id !== occupancyFor) loadOccupancy();
    fillPeople();
  }

  function onEvent(event) {
    if (!OCCUPANCY_EVENTS.test(event.type)) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(loadOccupancy, REFRESH_MS);
  }

  // --- measuring ------------------------------------------------------------------------------
  function startMeasuring() {
    siteMap.cancelPick();
    measuring = [];
    siteMap.element.classList.add("measuring");
    measureButton.setAttribute("aria-pressed", "true");
    measureOut.hidden = false;
    measureOut.textContent = t("map.measure_hint");
    map.on("click", measureClick);
  }

  function stopMeasuring() {
    map.off("click", measureClick);
    measuring = null;
    ruler.clearLayers();
    siteMap.element.classList.remove("measuring");
    measureButton.setAttribute("aria-pressed", "false");
    measureOut.hidden = true;
  }

  function measureClick(event) {
    map.closePopup(); // a click on a house while measuring is a point, not a question
    measuring.push(event.latlng);
    let total = 0;
    for (let i = 1; i < measuring.length; i += 1) total += map.distance(measuring[i - 1], measuring[i]);
    ruler.clearLayers();
    L.polyline(measuring, { color: "#f0f6fc", weight: 3, dashArray: "8 6", interactive: false }).addTo(ruler);
    for (const point of measuring) L.circleMarker(point, { radius: 4, color: "#f0f6fc", fillOpacity: 1, interactive: false }).addTo(ruler);
    const text = measuring.length > 1 ? metres(total) : t("map.measure_hint");
    measureOut.textContent = text;
    if (measuring.length > 1) {
      L.tooltip({ permanent: true, direction: "top", offset: [0, -6], className: "lbl lbl-measure" })
        .setLatLng(measuring[measuring.length - 1]).setContent(h("span", { dir: config.dir }, text)).addTo(ruler);
    }
  }

  // --- search ---------------------------------------------------------------------------------
  function candidates() {
    const found = [];
    for (const [ref, layer] of siteMap.buildings) {
      const props = layer.feature.properties;
      const names = Object.keys(props).filter((k) => k.startsWith("name")).map((k) => props[k]);
      found.push({ kind: "building", ref, label: featureName(props) || ref, terms: [ref, ...names], ref_exact: ref });
    }
    for (const household of picture.households.values()) {
      found.push({
        kind: "household", ref: household.building_ref, label: `${household.name} · ${household.building_ref}`,
        terms: [household.name, household.ref], household,
      });
    }
    for (const position of picture.positions.values()) {
      const person = picture.people.get(position.subject_id);
      const callsign = position.callsign || (person && person.callsign) || "";
      found.push({ kind: "unit", label: callsign || personName(person), terms: [callsign, person ? person.name : ""], position });
    }
    return found;
  }

  /** Matches, best first: an exact house number, then names that start with it, then any. */
  function search(query) {
    const q = query.trim().toLocaleLowerCase(lang);
    if (!q) return [];
    const scored = [];
    for (const item of candidates()) {
      const terms = item.terms.filter(Boolean).map((term) => String(term).toLocaleLowerCase(lang));
      const score = terms.some((term) => term === q) ? 0
        : terms.some((term) => term.startsWith(q) || term.split(/\s+/).some((word) => word === q)) ? 1
          : terms.some((term) => term.includes(q)) ? 2 : -1;
      if (score >= 0) scored.push({ score, item });
    }
    const kindRank = { building: 0, household: 1, unit: 2 };
    scored.sort((a, b) => a.score - b.score || kindRank[a.item.kind] - kindRank[b.item.kind]
      || a.item.label.localeCompare(b.item.label, lang, { numeric: true }));
    return scored.slice(0, SEARCH_RESULTS).map((s) => s.item);
  }

  function showResults() {
    const found = search(searchBox.value);
    results.hidden = !found.length;
    results.replaceChildren(...found.map((item) => h("li", { role: "option" },
      h("button", { type: "button", class: "link", dir: "auto", onclick: () => choose(item) },
        h("small", { class: "muted" }, t(`map.found.${item.kind}`)), ` ${item.label}`))));
  }

  function choose(item) {
    results.hidden = true;
    // Out of the way of what was found (on a phone the open list covers most of the map).
    layerList.hidden = true;
    layersButton.setAttribute("aria-expanded", "false");
    searchBox.blur();
    if (item.kind === "unit") {
      const { location } = item.position;
      openAt([location.lat, location.lon], unitLines(item.position));
      return;
    }
    const layer = siteMap.buildings.get(String(item.ref));
    if (!layer) return;
    // Outlined while its popup is open; its fill (the household's state) stays.
    const { weight, color } = layer.options;
    layer.setStyle({ weight: 4, color: "#f0f6fc" });
    const popup = openAt(layer.getBounds().getCenter(), buildingLines(item.ref));
    popup.once("remove", () => layer.setStyle({ weight, color }));
  }

  /** Fly there, then open a popup (after the flight, so the popup is not panned away). */
  function openAt(latlng, lines) {
    map.closePopup();
    const popup = L.popup({ className: "found" }).setLatLng(latlng).setContent(h("div", { class: "popup", dir: config.dir }, ...lines));
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      popup.openOn(map);
    };
    map.once("moveend", open);
    setTimeout(open, 1000); // no move needed (already there): open anyway
    map.flyTo(latlng, Math.max(map.getZoom(), FOCUS_ZOOM), { duration: 0.5 });
    return popup;
  }

  function buildingLines(ref) {
    const layer = siteMap.buildings.get(String(ref));
    const props = layer.feature.properties;
    const name = featureName(props);
    const lines = [h("strong", { dir: "auto" }, !name ? ref : name.includes(ref) ? name : `${name} (${ref})`)];
    for (const household of picture.households.values()) {
      if (String(household.building_ref) !== String(ref)) continue;
      const checkin = picture.checkins.get(household.household_id);
      lines.push(h("div", { dir: "auto" }, household.name, " · ",
        checkin ? `${t(`household.${checkin.status}`)} ${time(checkin.at)}` : t("map.state.no_answer")));
    }
    const inside = occupancy.find((b) => String(b.building_ref) === String(ref));
    if (inside) lines.push(...occupancyLines(inside).slice(1));
    return lines;
  }

  function unitLines(position) {
    return [
      h("strong", { dir: "auto" }, position.callsign || personName(picture.people.get(position.subject_id))),
      h("div", {}, position.source === "manual"
        ? t("map.placed_by_hand", { ago: duration(ageSecs(position.at)) })
        : t("map.last_heard", { time: time(position.at) })),
    ];
  }

  // --- placing a unit by hand -----------------------------------------------------------------
  function fillPeople() {
    if (!canPlace) return;
    const squad = picture.squad().sort((a, b) => personName(a).localeCompare(personName(b), lang, { numeric: true }));
    const names = squad.map((p) => `${p.person_id}:${personName(p)}`).join("|");
    if (names !== squadShown) { // redrawing the options would close the list under the operator's mouse
      squadShown = names;
      const chosen = placeSelect.value;
      placeSelect.replaceChildren(...squad.map((p) => h("option", { value: p.person_id }, personName(p))));
      if (chosen) placeSelect.value = chosen;
    }
    const open = Boolean(picture.incident && !picture.incident.closed_at);
    placeRow.hidden = !open || !squad.length;
  }

  async function placeUnit() {
    const incident = picture.incident;
    const person = picture.people.get(placeSelect.value);
    if (!incident || !person) return;
    if (measuring) stopMeasuring();
    $("#pick-hint").hidden = false;
    const location = await siteMap.pick();
    $("#pick-hint").hidden = true;
    if (!location) return;
    const body = { location, subject_id: person.person_id };
    if (person.callsign) body.callsign = person.callsign;
    outbox.send({
      path: `/api/v1/incidents/${incident.incident_id}/positions`, body,
      label: t("map.place.done", { who: personName(person) }), kind: "place_unit",
    });
  }

  apply();
  return { sightings, households, show, onEvent, search };
}
