// @ts-check
// The console's one store: the incident picture (picture.js) and what the console reads beside
// it — the site plan, the latest call's muster board, the muster templates, the pending
// volunteers. Components subscribe; a change redraws them once, in the next animation frame.
import { featureName } from "./map.js";
import { Picture } from "./picture.js";

/** @typedef {{type: string, features: Array<{properties: Record<string, any>, geometry?: any}>}} SitePlan */
/** @typedef {Record<string, any>} MusterBoard GET /incidents/{id}/muster */
/** @typedef {{id: string, texts: Record<string, string>, rally_point_ref: string}} MusterTemplate */
/** @typedef {{volunteer_id: string, name: string, status: string, affiliation?: string, armed?: boolean, phone?: string}} Volunteer */
/** @typedef {(store: ConsoleStore) => void} Listener */

export class ConsoleStore {
  constructor() {
    this.picture = new Picture();
    /** @type {SitePlan | null} */
    this.plan = null;
    /** @type {MusterBoard | null} the board of the latest call, as last read */
    this.board = null;
    /** @type {MusterTemplate[]} */
    this.templates = [];
    /** @type {Volunteer[]} */
    this.volunteers = [];
    /** @type {Set<Listener>} */
    this.listeners = new Set();
    this.queued = false;
  }

  /**
   * Call `listener` after every change; returns the unsubscribe.
   * @param {Listener} listener
   * @returns {() => void}
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /**
   * Change what the store holds and tell the subscribers (in the next frame).
   * @param {{plan?: SitePlan | null, board?: MusterBoard | null, templates?: MusterTemplate[], volunteers?: Volunteer[]}} changes
   */
  set(changes) {
    Object.assign(this, changes);
    this.changed();
  }

  /** The picture or the store changed: redraw once, in the next animation frame. */
  changed() {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.render();
    });
  }

  /** Redraw every subscriber now (a snapshot just loaded). */
  render() {
    for (const listener of this.listeners) listener(this);
  }

  /** The incident shown, when it is open. */
  openIncident() {
    const incident = this.picture.incident;
    return incident && !incident.closed_at ? incident : null;
  }

  /**
   * The API path of the shown incident, with `suffix`.
   * @param {string} [suffix]
   */
  incidentPath(suffix = "") {
    return `/api/v1/incidents/${this.picture.incident.incident_id}${suffix}`;
  }

  /**
   * A rally point's name from the site plan ("Squad rally point (armory)"), else its ref.
   * @param {string} ref
   * @returns {string}
   */
  rallyName(ref) {
    const feature = this.plan && this.plan.features.find((f) => f.properties.kind === "rally_point" && f.properties.ref === ref);
    return feature ? featureName(feature.properties) : ref;
  }

  /**
   * The template of a call, by id.
   * @param {string} id
   */
  template(id) {
    return this.templates.find((tpl) => tpl.id === id);
  }
}
