// @ts-check
// Guests who checked in by a poster, on the operator console: a short list (building, people,
// status, phone) grouped by the poster they came by, each poster with a one-tap "Void" for a
// flood of false check-ins, and their buildings marked occupied on the map. Kept apart from
// operator.js: it only needs the incident, the map and the events of type guest(s).*.
import { api } from "./api.js";
import { $, h } from "./dom.js";
import { num, t, time } from "./i18n.js";
import * as outbox from "./outbox.js";

const REFRESH_DELAY_MS = 300; // a burst of check-ins is one read

export function guestsBoard(map) {
  let incidentId = null;
  let guests = [];
  let layer = null;
  let timer = null;

  function guestRow(g) {
    return h("li", { class: `row guest s-${g.status}`, dataset: { guest: g.guest_id } },
      h("span", { class: "who" }, t("guest.row", { ref: g.building_ref || "?", count: num(g.people_count) })),
      h("span", { class: "st" }, t(`household.${g.status}`), g.phone ? ` · ${g.phone}` : ""),
      h("time", { datetime: g.at }, time(g.at)));
  }

  function posterRow(passId, shown) {
    const people = shown.reduce((sum, g) => sum + g.people_count, 0);
    const ref = shown[0].poster_ref;
    const what = ref ? t("guest.poster", { ref }) : t("guest.poster_site");
    return h("li", { class: "row poster", dataset: { poster: passId } },
      h("span", { class: "who" }, what),
      h("span", { class: "st" }, t("guest.poster_count", { devices: num(shown.length), people: num(people) })),
      h("button", { type: "button", class: "void", onclick: () => voidPoster(passId, what) }, t("guest.void")));
  }

  function voidPoster(passId, what) {
    // One tap: the guests leave the board at once; the outbox resends until the server confirms.
    guests = guests.filter((g) => g.pass_id !== passId);
    draw();
    outbox.send({
      path: `/api/v1/incidents/${incidentId}/guest-posters/${passId}/void`,
      body: {}, label: `${t("guest.void")}: ${what}`, kind: "guests_void",
    });
  }

  function draw() {
    const shown = guests.filter((g) => !g.merged_into);
    $("#guests").hidden = !incidentId || shown.length === 0;
    const byPoster = new Map();
    for (const g of shown) byPoster.set(g.pass_id, [...(byPoster.get(g.pass_id) || []), g]);
    $("#guest-list").replaceChildren(...[...byPoster].flatMap(([passId, group]) => [
      ...(passId ? [posterRow(passId, group)] : []), ...group.map(guestRow)]));
    if (!map || !map.L) return;
    if (!layer) layer = map.L.layerGroup().addTo(map.map);
    layer.clearLayers();
    for (const g of shown) {
      const building = map.buildings.get(String(g.building_ref));
      if (!building) continue;
      map.L.marker(building.getBounds().getCenter(), {
        icon: map.L.divIcon({ className: "mk mk-guests", html: `<span class="mk-shape" data-guests="${g.guest_id}">👥</span>`, iconSize: [26, 26] }),
        zIndexOffset: 700,
        title: t("guest.row", { ref: g.building_ref, count: num(g.people_count) }),
      }).addTo(layer);
    }
  }

  async function refresh() {
    if (!incidentId) {
      guests = [];
      draw();
      return;
    }
    try {
      guests = await api(`/api/v1/incidents/${incidentId}/guests`);
    } catch (err) {
      console.warn("konenut: guests", err);
    }
    draw();
  }

  return {
    /** The incident shown changed (or was loaded): read its guests. */
    show(incident) {
      const id = incident && !incident.closed_at ? incident.incident_id : null;
      if (id === incidentId) return;
      incidentId = id;
      refresh();
    },
    onEvent(event) {
      if (!/^guests?\./.test(event.type) || event.incident_id !== incidentId) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, REFRESH_DELAY_MS);
    },
  };
}
