// @ts-check
// Broadcasts from the war room: the dialog (a template or custom words, what each language
// gets, to whom — all, an area drawn on the map, a group, chosen households — and how many
// households that is before sending) and the status of each broadcast sent, per household,
// kept live from the stream.
import { api } from "./api.js";
import { $, $$, field, h, values } from "./dom.js";
import { config, lang, num, shortTime, t } from "./i18n.js";
import * as outbox from "./outbox.js";

const REFRESH_DELAY_MS = 300; // a burst of delivery events is one read
const SHOWN_BROADCASTS = 10; // the newest; older ones are in the timeline
const MIN_CORNERS = 3;
const byRef = (a, b) => String(a.ref).localeCompare(String(b.ref), lang, { numeric: true });

export function broadcastPanel({ map, picture, canCommand, showTab }) {
  const templates = config.instructions || {};
  const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-broadcast"));
  let incidentId = null;
  let area = null; // the GeoJSON Polygon drawn, or null
  let drawing = null; // {points, layer} while the operator taps corners
  let drawn = null; // the closed area on the map
  let countAsked = 0;
  let timer = null;

  // --- the dialog ----------------------------------------------------------------------------
  $("#broadcast-template").replaceChildren(
    h("option", { value: "" }, t("operator.template_none")),
    ...Object.keys(templates).map((key) => h("option", { value: key }, templates[key][lang])),
  );
  $("#broadcast-template").addEventListener("change", (e) => {
    const key = /** @type {HTMLSelectElement} */ (e.target).value;
    field("#broadcast-text").value = key ? templates[key][lang] : "";
    /** @type {HTMLTextAreaElement} */ ($("#broadcast-text")).readOnly = Boolean(key);
    preview();
  });
  $("#broadcast-text").addEventListener("input", preview);
  $$("[name=bc-target]").forEach((radio) => radio.addEventListener("change", count));
  $("#bc-group").addEventListener("change", () => choose("group"));
  $("#bc-households").addEventListener("change", () => choose("households"));
  $("#bc-draw").addEventListener("click", () => {
    dialog.close("draw");
    startDrawing();
  });
  $("#bc-draw-close").addEventListener("click", finishDrawing);
  $("#bc-draw-cancel").addEventListener("click", () => stopDrawing(true));
  $("#cmd-broadcast").addEventListener("click", () => open());
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "ok") send();
    else if (dialog.returnValue !== "draw") clearArea();
  });

  const target = () => field("[name=bc-target]:checked").value;

  function choose(value) {
    /** @type {HTMLInputElement} */ ($(`[name=bc-target][value=${value}]`)).checked = true;
    count();
  }

  function open() {
    const households = [...picture.households.values()].sort(byRef);
    const chosen = new Set(values("#bc-households option:checked"));
    $("#bc-households").replaceChildren(...households.map((hh) => h("option", { value: hh.household_id, selected: chosen.has(hh.household_id) }, `${hh.ref} · ${hh.name}`)));
    preview();
    count();
    dialog.returnValue = "";
    dialog.showModal();
  }

  /** Every language's text: the template's translation, or the custom words marked. */
  function preview() {
    const key = field("#broadcast-template").value;
    const text = field("#broadcast-text").value.trim();
    $("#bc-preview").replaceChildren(...config.languages.flatMap(({ code, name }) => {
      const words = key ? templates[key][code] : text;
      const marked = !key && code !== lang && text;
      return [
        h("dt", { lang: code }, name),
        h("dd", { lang: key ? code : lang, dir: "auto", dataset: { lang: code } }, words || "—",
          marked ? h("small", { class: "not-translated" }, ` (${t("operator.bc.not_translated")})`) : null),
      ];
    }));
  }

  function audience() {
    switch (target()) {
      case "area": return area ? { area } : null;
      case "group": return { group: field("#bc-group").value };
      case "households": {
        const ids = values("#bc-households option:checked");
        return ids.length ? { household_ids: ids } : null;
      }
      default: return {};
    }
  }

  /** How many households the chosen audience holds, as the server counts it. */
  async function count() {
    const body = audience();
    const asked = ++countAsked;
    /** @type {HTMLButtonElement} */ ($("#bc-send")).disabled = body === null;
    if (body === null) {
      $("#bc-count").textContent = target() === "area" ? t("operator.bc.draw_hint") : "";
      return;
    }
    try {
      const answer = await api("/api/v1/broadcast-audience", { method: "POST", body });
      if (asked !== countAsked) return;
      $("#bc-count").textContent = t("operator.bc.inside", { n: num(answer.households) });
      $("#bc-count").dataset.households = answer.households;
      /** @type {HTMLButtonElement} */ ($("#bc-send")).disabled = answer.households === 0;
    } catch (err) {
      if (asked === countAsked) $("#bc-count").textContent = err.message;
    }
  }

  function send() {
    const key = field("#broadcast-template").value;
    const text = field("#broadcast-text").value.trim();
    const who = audience();
    if ((!key && !text) || who === null || !incidentId) return;
    const words = key ? { template: key.slice("instruction.".length) } : { texts: { [lang]: text } };
    outbox.send({ path: `/api/v1/incidents/${incidentId}/broadcasts`, body: { ...words, ...who }, label: t("operator.cmd.broadcast"), kind: "broadcast" });
    field("#broadcast-template").value = "";
    field("#broadcast-text").value = "";
    /** @type {HTMLTextAreaElement} */ ($("#broadcast-text")).readOnly = false;
    /** @type {HTMLInputElement} */ ($("[name=bc-target][value=all]")).checked = true;
    clearArea();
  }

  // --- drawing the area on the map -------------------------------------------------------------
  function startDrawing() {
    clearArea();
    showTab("map");
    const L = map.L;
    drawing = { points: [], layer: L.layerGroup().addTo(map.map) };
    map.element.classList.add("picking", "drawing-area");
    map.map.on("click", addCorner);
    $("#bc-draw-hint").hidden = false;
  }

  function addCorner(event) {
    if (!drawing) return;
    map.map.closePopup(); // a tap on a house opens its popup; while drawing it is a corner
    drawing.points.push(event.latlng);
    drawing.layer.clearLayers();
    map.L.polyline(drawing.points, { color: "#58a6ff", weight: 2, dashArray: "4 4", interactive: false }).addTo(drawing.layer);
    for (const point of drawing.points) map.L.circleMarker(point, { radius: 4, color: "#58a6ff", interactive: false }).addTo(drawing.layer);
  }

  function stopDrawing(reopen) {
    if (!drawing) return;
    map.map.off("click", addCorner);
    map.element.classList.remove("picking", "drawing-area");
    drawing.layer.remove();
    drawing = null;
    $("#bc-draw-hint").hidden = true;
    if (reopen) open();
  }

  function finishDrawing() {
    if (!drawing || drawing.points.length < MIN_CORNERS) return;
    const ring = drawing.points.map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
    ring.push(ring[0]);
    area = { type: "Polygon", coordinates: [ring] };
    drawn = map.L.polygon(drawing.points, { color: "#58a6ff", weight: 2, fillOpacity: 0.12, interactive: false }).addTo(map.map);
    stopDrawing(false);
    /** @type {HTMLInputElement} */ ($("[name=bc-target][value=area]")).checked = true;
    open();
  }

  function clearArea() {
    area = null;
    if (drawn) drawn.remove();
    drawn = null;
  }

  // --- what became of each broadcast -----------------------------------------------------------
  async function refresh() {
    if (!incidentId || !canCommand) return;
    const base = `/api/v1/incidents/${incidentId}/broadcasts`;
    try {
      const sent = (await api(base)).slice(-SHOWN_BROADCASTS).reverse();
      const statuses = await Promise.all(sent.map((b) => api(`${base}/${b.broadcast_id}/status`).catch(() => null)));
      renderStatus(sent.map((b, i) => ({ ...b, status: statuses[i] })));
    } catch (err) {
      console.warn("konenut: broadcasts", err);
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_DELAY_MS);
  }

  function renderStatus(broadcasts) {
    $("#bc-status").hidden = !broadcasts.length;
    $("#bc-list").replaceChildren(...broadcasts.map((b) => {
      const c = (b.status && b.status.counts) || { households: 0, delivered: 0, read: 0, not_reached: 0 };
      const words = b.texts[lang] || Object.values(b.texts)[0] || "";
      return h("li", { class: "bc-row", dataset: { broadcast: b.broadcast_id } },
        h("div", {}, h("time", { datetime: b.sent_at }, shortTime(b.sent_at)), " ", h("span", { dir: "auto" }, words)),
        h("p", { class: "bc-counts" }, t("operator.bc.counts", {
          households: num(c.households), delivered: num(c.delivered), read: num(c.read), failed: num(c.not_reached),
        })),
        b.status ? h("details", {}, h("summary", {}, sentTo(b, b.status.households.length)),
          h("ul", { class: "bc-households" }, ...b.status.households.map(householdRow))) : null);
    }));
  }

  /** To whom it went, as it was chosen: every household, an area, a group, chosen ones. */
  function sentTo(b, households) {
    // Broadcasts logged before the audience was recorded: chosen ones named their households.
    const audience = b.audience || ((b.household_ids || []).length ? "households" : "all");
    const group = audience === "group" ? t(`operator.bc.group.${b.group}`) : "";
    return t(`operator.bc.sent_to.${audience}`, { n: num(households), group });
  }

  function householdRow(row) {
    const channels = Object.entries(row.channels);
    const failed = channels.length > 0 && channels.every(([, ch]) => ch.state === "failed");
    const state = row.read_at ? "read" : row.delivered_via.length ? "delivered" : failed ? "failed" : "waiting";
    return h("li", { class: `bc-household s-${state}`, dataset: { household: row.household_id, state } },
      h("span", { dir: "auto" }, `${row.ref} · ${row.name}`), " ",
      h("b", {}, t(`operator.bc.${state}`)),
      row.read_at ? h("time", { datetime: row.read_at }, ` ${shortTime(row.read_at)}`) : null,
      channels.length ? h("small", { class: "muted" }, ` · ${channels.map(([name, ch]) => `${t(`operator.channel.${name}`)} ${ch.state === "delivered" ? "✓" : ch.state === "failed" ? "✗" : "…"}`).join(" ")}`) : null);
  }

  return {
    show(incident) {
      const id = incident && !incident.closed_at ? incident.incident_id : null;
      if (id === incidentId) return;
      incidentId = id;
      later();
    },
    onEvent(event) {
      if (incidentId && event.incident_id === incidentId && event.type.startsWith("broadcast.")) later();
    },
    /**
     * A broadcast's counts moved (the stream's `progress`: its households' deliveries and reads).
     * @param {{ incident_id: string }} message
     */
    onProgress(message) {
      if (incidentId && message.incident_id === incidentId) later();
    },
  };
}
