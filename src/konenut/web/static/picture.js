// @ts-check
// The incident picture a squad page shows, kept up to date event by event (the same folds
// as domain/state/). Loaded from a REST snapshot, then fed the stream; an event seen twice
// (snapshot and stream, stream and poll) changes nothing.
import { applySightingUpdate, reportedSighting } from "./sightings.js";

export class Picture {
  constructor() {
    this.incident = null;
    this.people = new Map();
    this.households = new Map();
    this.responders = new Map();
    this.positions = new Map();
    this.sightings = new Map();
    this.checkins = new Map();
    this.orders = new Map();
    this.musters = [];
    this.broadcasts = [];
    this.timeline = []; // this incident's events, oldest first
    this.seen = new Set();
    // Bumped when a layer's data changes, so a page redraws only that layer (an open popup
    // on a sighting survives a stream of positions).
    this.versions = { positions: 0, sightings: 0, households: 0 };
  }

  bump(...layers) {
    for (const layer of layers) this.versions[layer] += 1;
  }

  /** Replace everything with a snapshot read over REST. */
  load({ incident, people = [], households = [], timeline = [] }) {
    this.incident = incident;
    this.people = new Map(people.map((p) => [p.person_id, p]));
    this.households = new Map(households.map((h) => [h.household_id, h]));
    this.responders = new Map(Object.entries((incident && incident.responders) || {}));
    this.positions = new Map(Object.entries((incident && incident.positions) || {}));
    this.sightings = new Map(Object.entries((incident && incident.sightings) || {}));
    this.checkins = new Map(Object.entries((incident && incident.checkins) || {}));
    this.orders = new Map(Object.entries((incident && incident.orders) || {}));
    this.musters = (incident && incident.musters) || [];
    this.broadcasts = (incident && incident.broadcasts) || [];
    this.timeline = [];
    this.seen = new Set();
    this.bump("positions", "sightings", "households");
    // The snapshot already holds these events' effects: list them, do not fold them again.
    for (const event of timeline) this.remember(event);
  }

  remember(event) {
    if (this.seen.has(event.seq)) return false;
    this.seen.add(event.seq);
    if (this.incident && event.incident_id === this.incident.incident_id && event.type !== "position.reported") {
      this.timeline.push(event);
      if (this.timeline.length > 1 && this.timeline[this.timeline.length - 2].seq > event.seq) {
        this.timeline.sort((a, b) => a.seq - b.seq);
      }
    }
    return true;
  }

  /** Fold one event in. Returns true when it was news. */
  apply(event) {
    if (!this.remember(event)) return false;
    const p = event.payload || {};
    const at = event.occurred_at;
    switch (event.type) {
      case "person.added":
        this.people.set(p.person_id, p);
        return true;
      case "household.added":
        this.households.set(p.household_id, p);
        this.bump("households");
        return true;
      case "incident.opened":
        return true; // the page decides whether to follow the new incident
      default:
        break;
    }
    if (!this.incident || event.incident_id !== this.incident.incident_id) return true;
    switch (event.type) {
      case "incident.closed":
        this.incident = { ...this.incident, closed_at: at, summary: p.summary || "" };
        break;
      case "muster.called":
        if (!this.musters.some((m) => m.muster_id === p.muster_id)) this.musters.push({ ...p, called_at: at, by: event.actor });
        break;
      case "responder.status_changed":
        this.responders.set(p.person_id, {
          person_id: p.person_id, status: p.status, eta_secs: p.eta_secs, changed_at: at, location: event.location,
        });
        break;
      case "position.reported": {
        const previous = this.positions.get(p.subject_id);
        if (event.location && (!previous || previous.at <= at)) {
          this.positions.set(p.subject_id, {
            subject_id: p.subject_id, callsign: p.callsign, location: event.location, at, seq: event.seq,
            source: p.source || "app", by: event.actor,
          });
          this.bump("positions");
        }
        break;
      }
      case "sighting.reported":
        if (event.location) {
          this.sightings.set(p.sighting_id, reportedSighting(p, event.location, at, event.actor));
          this.bump("sightings");
        }
        break;
      case "sighting.updated": {
        if (applySightingUpdate(this.sightings, p, event.location, at)) this.bump("sightings");
        break;
      }
      case "household.checked_in": {
        const previous = this.checkins.get(p.household_id);
        if (!previous || previous.at <= at) {
          this.checkins.set(p.household_id, { ...p, at });
          this.bump("households");
        }
        break;
      }
      case "broadcast.sent":
        if (!this.broadcasts.some((b) => b.broadcast_id === p.broadcast_id)) this.broadcasts.push({ ...p, sent_at: at, by: event.actor });
        break;
      case "order.sent":
        if (this.orders.has(p.order_id)) break;
        this.orders.set(p.order_id, {
          order_id: p.order_id, text: p.text, to_person_ids: p.to_person_ids || [], to_teams: p.to_teams || [], sent_at: at, sent_by: event.actor, acknowledged_by: {},
        });
        break;
      case "order.acknowledged": {
        const order = this.orders.get(p.order_id);
        if (order && !order.acknowledged_by[p.person_id]) order.acknowledged_by[p.person_id] = at;
        break;
      }
      default:
        break;
    }
    return true;
  }

  /** Sightings still on the board (not dismissed, neutralised or merged). */
  activeSightings() {
    return [...this.sightings.values()].filter((s) => !["dismissed", "neutralised", "merged"].includes(s.status));
  }

  /** The squad: people who hold a squad role. */
  squad() {
    const roles = new Set(["commander", "operator", "responder", "medic", "volunteer"]);
    return [...this.people.values()].filter((p) => (p.roles || []).some((r) => roles.has(r)));
  }
}
