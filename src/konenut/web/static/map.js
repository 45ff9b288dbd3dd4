// @ts-check
// The site map: the GeoJSON site plan is the basemap (works with no internet), online tiles
// only when the server is configured with them; friends, threats and households on top.
// Leaflet (from the xstatic-leaflet package) is loaded only when a map is opened.
import { h } from "./dom.js";
import { AGE_TICK_MS, ageClass, seenAgo } from "./aging.js";
import { ageSecs, config, duration, lang, t, time } from "./i18n.js";
import { photoStrip } from "./photos.js";
import * as units from "./positions.js";

const LABEL_MIN_ZOOM = 18; // house numbers appear from street level on
const SMALL_MAP_PX = 600; // on a phone, place names wait for a closer zoom too
const DANGER = new Set(["need_medic", "intruder", "smoke"]);
const HIDDEN_SIGHTINGS = new Set(["dismissed", "neutralised", "merged"]);

let leaflet = null;
/** @type {{L?: any}} where Leaflet's script puts itself */
const global = /** @type {any} */ (window);

/** Load Leaflet's script and stylesheet once. */
export function loadLeaflet() {
  if (global.L) return Promise.resolve(global.L);
  leaflet ||= new Promise((resolve, reject) => {
    document.head.append(h("link", { rel: "stylesheet", href: `${config.leaflet}/leaflet.css` }));
    document.head.append(h("link", { rel: "stylesheet", href: `${config.static}/map.css` }));
    document.head.append(h("script", {
      src: `${config.leaflet}/leaflet.js`, onload: () => resolve(global.L), onerror: reject,
    }));
  });
  return leaflet;
}

/**
 * The site map in `element`, once Leaflet is loaded.
 * @param {HTMLElement} element
 * @param {{onPick?: Function, sightingActions?: Function | null}} [options]
 */
export async function createSiteMap(element, options = {}) {
  const L = await loadLeaflet();
  return new SiteMap(L, element, options);
}

const STYLE = {
  boundary: { color: "#8b949e", weight: 2, dashArray: "6 6", fill: false },
  zone: { color: "#30363d", weight: 1, fillColor: "#161b22", fillOpacity: 0.35 },
  field: { color: "#2e4d2e", weight: 1, fillColor: "#1c2e1c", fillOpacity: 0.6 },
  building: { color: "#6e7681", weight: 1, fillColor: "#2d333b", fillOpacity: 0.9 },
  shelter: { color: "#3fb950", weight: 2, fillColor: "#1a4d2a", fillOpacity: 0.9 },
  armory: { color: "#d29922", weight: 2, fillColor: "#4d3800", fillOpacity: 0.9 },
  war_room: { color: "#a371f7", weight: 2, fillColor: "#3b2466", fillOpacity: 0.9 },
  path: { color: "#484f58", weight: 4, opacity: 0.9 },
  fence: { color: "#d29922", weight: 2, dashArray: "2 6", opacity: 0.9 },
};
const CHECKIN_FILL = {
  safe: "#1f6f3a", need_medic: "#b62324", intruder: "#da3633", smoke: "#bd561d", not_home: "#3d444d",
  no_answer: "#7a5c0f", // an incident is open and the household has not checked in
};
const POINT_GLYPH = { camera: "◉", rally_point: "⚑", collection_point: "✚" };

export function featureName(props) {
  return props[`name_${lang}`] || props.name_en || props.name || props.ref || "";
}

function centre(layer) {
  return layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
}

class SiteMap {
  /**
   * @param {any} L Leaflet
   * @param {HTMLElement} element
   * @param {{onPick?: Function, sightingActions?: Function | null}} [options]
   */
  constructor(L, element, { onPick, sightingActions } = {}) {
    this.L = L;
    this.element = element;
    element.dir = "ltr"; // Leaflet's panes assume a left-to-right container; labels set their own
    element.classList.add("site-map");
    this.map = L.map(element, { zoomSnap: 0.25, attributionControl: Boolean(config.tiles), worldCopyJump: false });
    if (config.tiles) {
      L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: 21, maxNativeZoom: 19 }).addTo(this.map);
    }
    this.map.setView([31.4, 34.8], 9);
    this.buildings = new Map(); // building ref -> polygon layer
    this.plan = null;
    this.layers = {
      households: L.layerGroup().addTo(this.map),
      positions: L.layerGroup().addTo(this.map),
      sightings: L.layerGroup().addTo(this.map),
      me: L.layerGroup().addTo(this.map),
    };
    this.sightingMarkers = new Map();
    this.sightingActions = sightingActions || null;
    this.sightingsShown = [];
    setInterval(() => this.reage(), AGE_TICK_MS);
    this.unitsDrawn = []; // [{marker, position, label}]: their ages move on without a redraw
    setInterval(() => units.reage(this.unitsDrawn), units.AGE_TICK_MS);
    this.onPick = onPick || null;
    this.picking = null;
    this.map.on("zoomend", () => this.zoomClass());
    this.map.on("click", (event) => this.clicked(event));
    this.zoomClass();
  }

  zoomClass() {
    const close = this.map.getZoom() >= LABEL_MIN_ZOOM;
    this.element.classList.toggle("zoom-labels", close);
    this.element.classList.toggle("zoom-names", close || this.element.clientWidth >= SMALL_MAP_PX);
  }

  /** Draw the site plan (contracts §5a) and frame the site. */
  setPlan(plan) {
    const L = this.L;
    if (this.plan) this.plan.remove();
    this.buildings.clear();
    const order = ["boundary", "zone", "field", "path", "fence", "building", "shelter", "armory", "war_room"];
    const features = [...(plan.features || [])].sort(
      (a, b) => order.indexOf(a.properties.kind) - order.indexOf(b.properties.kind),
    );
    this.plan = L.geoJSON({ type: "FeatureCollection", features }, {
      // The kind as a class, so a layer control can hide a kind (layers.js).
      style: (feature) => ({ ...(STYLE[feature.properties.kind] || STYLE.building), className: `plan-${feature.properties.kind}` }),
      pointToLayer: (feature, latlng) => L.marker(latlng, {
        icon: L.divIcon({
          className: `mk mk-plan mk-${feature.properties.kind}`,
          html: h("span", { class: "mk-glyph" }, feature.properties.kind === "gate" ? String(feature.properties.ref) : POINT_GLYPH[feature.properties.kind] || "•"),
          iconSize: [24, 24],
        }),
        keyboard: false,
        interactive: true,
      }),
      onEachFeature: (feature, layer) => this.describe(feature, layer),
    }).addTo(this.map);
    this.plan.bringToBack();
    const boundary = (plan.features || []).find((f) => f.properties.kind === "boundary");
    const frame = boundary ? L.geoJSON(boundary).getBounds() : this.plan.getBounds();
    if (frame.isValid()) this.map.fitBounds(frame, { padding: [8, 8] });
    this.zoomClass();
  }

  describe(feature, layer) {
    const props = feature.properties;
    const name = featureName(props);
    if (props.kind === "building") {
      this.buildings.set(String(props.ref), layer);
      layer.bindTooltip(h("span", { dir: "auto" }, props.ref), {
        permanent: true, direction: "center", className: "lbl lbl-building",
      });
      if (name && name !== props.ref) layer.bindPopup(h("span", { dir: "auto" }, name));
      return;
    }
    if (["shelter", "armory", "war_room"].includes(props.kind)) {
      this.buildings.set(String(props.ref), layer);
      layer.bindTooltip(h("span", { dir: "auto" }, name), { permanent: true, direction: "center", className: `lbl lbl-name lbl-${props.kind}` });
      return;
    }
    if (["gate", "rally_point", "collection_point", "camera"].includes(props.kind)) {
      layer.bindTooltip(h("span", { dir: "auto" }, props.kind === "camera" ? props.ref : name), {
        permanent: props.kind !== "camera", direction: "right", offset: [10, 0], className: `lbl lbl-name lbl-${props.kind}`,
      });
    } else if (name && ["zone", "field", "path"].includes(props.kind)) {
      layer.bindTooltip(h("span", { dir: "auto" }, name), { sticky: true, className: "lbl" });
    }
  }

  /** The centre of a building (or shelter...) of the plan by its ref. */
  buildingCentre(ref) {
    const layer = this.buildings.get(String(ref));
    return layer ? centre(layer) : null;
  }

  focusBuilding(ref) {
    const layer = this.buildings.get(String(ref));
    if (!layer) return;
    this.map.flyTo(centre(layer), Math.max(this.map.getZoom(), LABEL_MIN_ZOOM), { duration: 0.5 });
    layer.setStyle({ weight: 4, color: "#f0f6fc" });
    setTimeout(() => this.plan && this.plan.resetStyle(layer), 2500);
  }

  focus(location) {
    this.map.flyTo([location.lat, location.lon], Math.max(this.map.getZoom(), LABEL_MIN_ZOOM - 1), { duration: 0.5 });
  }

  /** Friendly units: callsign, muster state and age; faded in steps when not heard from.
   * `stateOf(subject_id)`: the unit's muster answer, if the page knows it.
   * @param {Array<Record<string, any>>} positions
   * @param {{self?: string | null, stateOf?: (subjectId: string) => string | undefined}} [options] */
  showPositions(positions, { self, stateOf } = {}) {
    const L = this.L;
    this.layers.positions.clearLayers();
    this.unitsDrawn = [];
    for (const p of positions) {
      if (!p.location || p.subject_id === self) continue;
      const classes = units.unitClasses(p, stateOf ? stateOf(p.subject_id) : null);
      const marker = L.marker([p.location.lat, p.location.lon], {
        icon: L.divIcon({
          className: `mk mk-friend ${classes}${p.source === "manual" ? " manual" : ""}`,
          html: h("span", { class: "mk-dot", dataset: { id: p.subject_id } }),
          iconSize: [22, 22],
        }),
        zIndexOffset: 500,
      });
      const label = h("span", { dir: "auto", class: `pos-label ${units.ageStep(p.at)}` }, units.positionLabel(p));
      marker.bindTooltip(label, {
        permanent: true, direction: "top", offset: [0, -10], className: "lbl lbl-friend",
      });
      this.unitsDrawn.push({ marker, position: p, label });
      const heard = p.source === "manual"
        ? t("map.placed_by_hand", { ago: duration(ageSecs(p.at)) })
        : t("map.last_heard", { time: time(p.at) });
      marker.bindPopup(h("div", { dir: config.dir }, h("strong", { dir: "auto" }, p.callsign || ""), h("br"), heard));
      marker.addTo(this.layers.positions);
    }
  }

  /** Threats and unknowns, with their count; the operator may confirm or dismiss them. */
  showSightings(sightings) {
    const L = this.L;
    this.layers.sightings.clearLayers();
    this.sightingMarkers.clear();
    this.sightingsShown = sightings.filter((s) => !HIDDEN_SIGHTINGS.has(s.status) && s.location);
    for (const s of this.sightingsShown) this.drawTrack(s);
    for (const s of sightings) {
      if (HIDDEN_SIGHTINGS.has(s.status) || !s.location) continue;
      const marker = L.marker([s.location.lat, s.location.lon], {
        icon: L.divIcon({
          className: `mk mk-sighting mk-${s.category} st-${s.status} age-${ageClass(s)}`,
          html: h("span", { class: "mk-shape", dataset: { id: s.sighting_id } }, h("b", {}, String(s.count || 1))),
          iconSize: [34, 34],
        }),
        zIndexOffset: 1000,
      });
      marker.bindPopup(() => this.sightingPopup(s));
      marker.bindTooltip(h("span", { class: "seen-ago" }, seenAgo(s)), {
        permanent: true, direction: "bottom", offset: [0, 14], className: "lbl lbl-age",
      });
      marker.sighting = s;
      marker.addTo(this.layers.sightings);
      this.sightingMarkers.set(s.sighting_id, marker);
    }
    this.reage();
  }

  /** Where a group was seen before: a line from dot to dot, ending at the marker. */
  drawTrack(s) {
    const points = (s.track || []).map((p) => [p.location.lat, p.location.lon]);
    if (points.length < 2) return;
    const L = this.L;
    L.polyline(points, { className: `track track-${s.category}`, weight: 3, dashArray: "4 6", interactive: false }).addTo(this.layers.sightings);
    for (const point of points.slice(0, -1)) {
      L.circleMarker(point, { className: `track-dot track-${s.category}`, radius: 4, weight: 1, fillOpacity: 0.8, interactive: false }).addTo(this.layers.sightings);
    }
  }

  /** Markers fade as they age and their "seen N min ago" labels move on, without a redraw. */
  reage() {
    for (const marker of this.sightingMarkers.values()) {
      const element = marker.getElement();
      if (!element) continue;
      const age = ageClass(marker.sighting);
      for (const name of ["fresh", "recent", "old"]) element.classList.toggle(`age-${name}`, name === age);
      const label = marker.getTooltip();
      if (label) label.setContent(h("span", { class: "seen-ago" }, seenAgo(marker.sighting)));
    }
  }

  sightingPopup(s) {
    const lines = [
      h("strong", {}, `${t(`sighting.${s.category}`)} ×${s.count || 1}`),
      h("div", {}, t(`sighting.status.${s.status}`), " · ", time(s.reported_at)),
      h("div", { class: "seen-ago" }, seenAgo(s)),
      s.armed ? h("div", {}, t("sighting.armed")) : null,
      s.vehicle ? h("div", {}, t("sighting.vehicle")) : null,
      s.text ? h("div", { dir: "auto" }, s.text) : null,
    ];
    const act = (status, extra) => { this.map.closePopup(); this.sightingActions(s, status, extra); };
    const actions = this.sightingActions
      ? h("div", { class: "popup-actions" }, ...["confirmed", "moved", "neutralised", "dismissed"].map((status) => h("button", {
        type: "button", class: `button small act-${status}`, onclick: () => act(status),
      }, t(`sighting.action.${status}`))))
      : null;
    return h("div", { class: "popup", dir: config.dir }, ...lines, photoStrip(s.photo_ids, t("sighting.photo")), actions, this.sightingActions ? this.mergeRow(s, act) : null);
  }

  /** "Same group as…": the other sightings on the map, nearest first. */
  mergeRow(s, act) {
    const here = this.L.latLng(s.location.lat, s.location.lon);
    const others = this.sightingsShown.filter((o) => o.sighting_id !== s.sighting_id)
      .map((o) => ({ o, m: here.distanceTo([o.location.lat, o.location.lon]) }))
      .sort((a, b) => a.m - b.m);
    if (!others.length) return null;
    const select = h("select", { class: "merge-into", "aria-label": t("sighting.merge_into") },
      ...others.map(({ o, m }) => h("option", { value: o.sighting_id }, `${t(`sighting.${o.category}`)} ×${o.count || 1} · ${Math.round(m)} m · ${time(o.reported_at)}`)));
    return h("div", { class: "popup-actions merge-row" }, h("label", {}, t("sighting.merge_into"), " ", select),
      h("button", { type: "button", class: "button small act-merged", onclick: () => act("merged", select.value) }, t("sighting.action.merged")));
  }

  focusSighting(id) {
    const marker = this.sightingMarkers.get(id);
    if (marker) {
      this.map.flyTo(marker.getLatLng(), Math.max(this.map.getZoom(), LABEL_MIN_ZOOM - 1), { duration: 0.5 });
      marker.openPopup();
    }
  }

  /** Households coloured by their latest check-in; those in danger get a marker too. */
  showHouseholds(rows) {
    const L = this.L;
    this.layers.households.clearLayers();
    for (const layer of this.buildings.values()) {
      if (layer.feature.properties.kind === "building") this.plan.resetStyle(layer);
    }
    for (const { household, checkin } of rows) {
      const layer = this.buildings.get(String(household.building_ref));
      if (!layer || !checkin) continue;
      layer.setStyle({ fillColor: CHECKIN_FILL[checkin.status] || STYLE.building.fillColor });
      if (!DANGER.has(checkin.status)) continue;
      L.marker(centre(layer), {
        icon: L.divIcon({
          className: `mk mk-household mk-${checkin.status}`,
          html: h("span", { class: "mk-shape", dataset: { id: household.household_id } }, checkin.status === "need_medic" ? "✚" : "!"),
          iconSize: [30, 30],
        }),
        zIndexOffset: 800,
      }).bindPopup(h("div", { class: "popup", dir: config.dir },
        h("strong", { dir: "auto" }, `${household.ref} · ${household.name}`),
        h("div", {}, t(`household.${checkin.status}`), " · ", time(checkin.at)),
        checkin.people_count != null ? h("div", {}, t("household.people", { n: checkin.people_count })) : null,
        checkin.text ? h("div", { dir: "auto" }, checkin.text) : null,
      )).addTo(this.layers.households);
    }
  }

  /** This device's own position. */
  showMe(location) {
    const L = this.L;
    this.layers.me.clearLayers();
    if (!location) return;
    const at = [location.lat, location.lon];
    if (location.accuracy_m) L.circle(at, { radius: location.accuracy_m, color: "#2f81f7", weight: 1, fillOpacity: 0.1, interactive: false }).addTo(this.layers.me);
    L.marker(at, {
      icon: L.divIcon({ className: "mk mk-me", html: h("span", { class: "mk-dot" }), iconSize: [20, 20] }),
      zIndexOffset: 900, interactive: false,
    }).addTo(this.layers.me);
  }

  /** The next tap on the map, as {lat, lon} (null if cancelled). */
  pick() {
    this.cancelPick();
    this.element.classList.add("picking");
    return new Promise((resolve) => { this.picking = resolve; });
  }

  cancelPick() {
    if (this.picking) this.picking(null);
    this.picking = null;
    this.element.classList.remove("picking");
  }

  clicked(event) {
    if (!this.picking) return;
    const resolve = this.picking;
    this.picking = null;
    this.element.classList.remove("picking");
    resolve({ lat: Number(event.latlng.lat.toFixed(7)), lon: Number(event.latlng.lng.toFixed(7)) });
  }

  invalidate() {
    this.map.invalidateSize();
  }
}
