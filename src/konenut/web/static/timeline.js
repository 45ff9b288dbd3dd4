// @ts-check
// The console's timeline: the incident's log told in words in the page's language, newest
// first, each line tappable to its place on the map; and the alarm for cautions the server
// could not raise (the war room must warn by radio).
import { $, h } from "./dom.js";
import { isolate, lang, num, t, time } from "./i18n.js";
import { cautionText } from "./caution.js";
import { supplyLabel } from "./logistics.js";
import { failureText } from "./muster.js";
import { showTab } from "./tabs.js";
import { HOUSEHOLD_TONE, STATUS_TONE } from "./tones.js";
import { personName } from "./ui.js";

/** @typedef {import("./console-store.js").ConsoleStore} ConsoleStore */
/** @typedef {{seq: number, type: string, payload?: Record<string, any>, occurred_at: string, recorded_at: string, location?: any}} TimelineEvent */

const TIMELINE_MAX = 300; // rows drawn; the whole log stays in the export
// Every delivery attempt is on the muster board, person by person, and every household's
// copy of a broadcast on the broadcasts board; in the timeline a dozen lines per escalation
// step, or one per household per broadcast, would bury what happened.
const UNTOLD = /^(notification\.|broadcast\.(delivery_sent|delivery_settled|read)$)/;

/**
 * The timeline and the failed-cautions alarm, redrawn from `store`; `map` shows what a line
 * points at.
 * @param {ConsoleStore} store
 * @param {{map: any}} options
 */
export function timeline(store, { map }) {
  const el = { list: $("#timeline"), failed: $("#caution-failed") };
  const picture = store.picture;
  let newestSeen = 0; // lines newer than this are marked fresh

  /** @param {string} subjectId */
  function who(subjectId) {
    return personName(picture.people.get(subjectId)) || t("operator.someone");
  }

  /** @param {string} assetId */
  function assetName(assetId) {
    const asset = store.board && (store.board.assets || []).find((/** @type {Record<string, any>} */ a) => a.asset_id === assetId);
    return asset ? `${asset.name} (${asset.ref})` : "?";
  }

  /**
   * What a supply request asked for, from its event in the timeline.
   * @param {string} supplyId
   */
  function requested(supplyId) {
    const asked = picture.timeline.find((e) => e.type === "supply.requested" && e.payload.supply_id === supplyId);
    return asked ? supplyLabel(asked.payload) : "?";
  }

  /** @param {string} taskId */
  function taskTitle(taskId) {
    const given = picture.timeline.find((e) => e.type === "task.created" && e.payload.task_id === taskId);
    return given ? given.payload.title : "?";
  }

  /** @param {string} volunteerId */
  function volunteerName(volunteerId) {
    const listed = store.volunteers.find((v) => v.volunteer_id === volunteerId);
    if (listed) return listed.name;
    const joined = picture.timeline.find((e) => e.type === "volunteer.joined" && e.payload.volunteer_id === volunteerId);
    return joined ? joined.payload.name : "?";
  }

  /**
   * One line of the timeline: what happened, how bad, where to look.
   * @param {TimelineEvent} event
   * @returns {{text: string, tone?: string | null, focus?: (() => void) | null}}
   */
  function describe(event) {
    /** @type {Record<string, any>} */
    const p = event.payload || {};
    switch (event.type) {
      case "incident.opened":
        return { text: t("event.incident.opened", { title: p.title }), tone: "mid" };
      case "incident.closed":
        return { text: t("event.incident.closed"), tone: "ok" };
      case "muster.called":
        return { text: t("event.muster.called", { point: store.rallyName(p.rally_point_ref) }) + (p.text ? ` — ${isolate(p.text)}` : ""), tone: "mid" };
      case "responder.status_changed":
        return {
          text: t("event.responder.status_changed", { who: who(p.person_id), status: t(`status.${p.status}`) }),
          tone: p.status === "wounded" ? "high" : STATUS_TONE[p.status] === "ok" ? "ok" : null,
          focus: event.location ? () => map.focus(event.location) : null,
        };
      case "sighting.reported":
        return {
          text: t("event.sighting.reported", { what: t(`sighting.${p.category}`), n: num(p.count || 1) })
            + (p.armed ? ` · ${t("sighting.armed")}` : "") + (p.text ? ` — ${isolate(p.text)}` : "")
            + (p.source === "resident" ? ` · ${t("sighting.from_resident")}` : ""),
          tone: p.category === "hostile" ? "high" : "mid",
          focus: () => map.focusSighting(p.sighting_id),
        };
      case "sighting.updated":
        return { text: t("event.sighting.updated", { status: t(`sighting.status.${p.status}`) }), tone: p.status === "confirmed" ? "high" : null, focus: () => map.focusSighting(p.sighting_id) };
      case "household.checked_in": {
        const household = picture.households.get(p.household_id);
        return {
          text: t("event.household.checked_in", { house: household ? `${household.ref} · ${household.name}` : "?", status: t(`household.${p.status}`) })
            + (p.people_count != null ? ` · ${t("household.people", { n: num(p.people_count) })}` : ""),
          tone: HOUSEHOLD_TONE[p.status] === "bad" ? "high" : HOUSEHOLD_TONE[p.status] === "ok" ? "ok" : null,
          focus: household ? () => map.focusBuilding(household.building_ref) : null,
        };
      }
      case "broadcast.sent":
        return { text: t("event.broadcast.sent", { text: (p.texts && (p.texts[lang] || Object.values(p.texts)[0])) || "" }) };
      case "order.sent":
        return { text: t("event.order.sent", { text: p.text }), tone: "mid" };
      case "order.acknowledged":
        return { text: t("event.order.acknowledged", { who: who(p.person_id) }) };
      case "muster.seen":
        return { text: t("event.muster.seen", { who: who(p.person_id) }) };
      case "notification.sent":
        return { text: t("event.notification.sent", { who: who(p.person_id), channel: t(`operator.channel.${p.channel}`) }) };
      case "notification.delivered":
        return { text: t("event.notification.delivered", { who: who(p.person_id) }) };
      case "notification.failed":
        return { text: t("event.notification.failed", { who: who(p.person_id), reason: failureText(p.reason) }), tone: "mid" };
      case "asset.requested":
        return { text: t("event.asset.requested", { who: who(p.person_id), asset: assetName(p.asset_id) }), tone: "mid" };
      case "pass.issued":
        return { text: t("event.pass.issued", { what: t(`operator.pass.purpose.${p.purpose}`) }) };
      case "volunteer.joined":
        return { text: t("event.volunteer.joined", { name: p.name }), tone: "mid" };
      case "volunteer.approved":
        return { text: t("event.volunteer.approved", { name: volunteerName(p.volunteer_id) }), tone: "ok" };
      case "volunteer.declined":
        return { text: t("event.volunteer.declined", { name: volunteerName(p.volunteer_id) }) };
      case "hostage.reported": {
        const household = p.household_id ? picture.households.get(p.household_id) : null;
        return { text: t("event.hostage.reported", { place: household ? `${household.ref} · ${household.name}` : p.building_ref }), tone: "high" };
      }
      case "hostage.updated":
        return { text: t("event.hostage.updated", { text: isolate(p.text || t(`hostage.${p.status === "resolved" ? "resolved" : "update"}`)) }), tone: p.status === "resolved" ? null : "high" };
      case "challenge.set": // the words stay out of the timeline: it is on the big screen
        return { text: t("event.challenge.set") };
      case "safe_word.set":
        return { text: t("event.safe_word.set", { word: isolate(p.word) }) };
      case "accountability.recheck_set":
        return { text: p.every_mins ? t("event.accountability.recheck_set", { minutes: p.every_mins }) : t("event.accountability.recheck_off") };
      case "caution.raised":
        return {
          text: t("event.caution.raised", { text: cautionText(p, null), who: (p.to_person_ids || []).map(who).join(", ") || t("operator.someone") }),
          tone: "high",
          focus: p.sighting_id ? () => map.focusSighting(p.sighting_id) : null,
        };
      case "caution.failed":
        return { text: t("event.caution.failed"), tone: "high" };
      case "intruder.cleared":
        return {
          text: t("event.intruder.cleared", { place: t("caution.house", { ref: p.building_ref }) }) + (p.text ? ` — ${isolate(p.text)}` : ""),
          tone: "ok",
          focus: () => map.focusBuilding(p.building_ref),
        };
      case "responder.entering":
        return { text: t("event.responder.entering", { who: who(p.person_id), place: t("caution.house", { ref: p.building_ref }) }), tone: "mid", focus: () => map.focusBuilding(p.building_ref) };
      case "casualty.reported":
        return { text: t("event.casualty.reported", { tag: p.tag, n: num(p.count || 1) }), tone: "high" };
      case "casualty.triaged":
        return { text: t("event.casualty.triaged", { category: t(`casualty.category.${p.category}`) }), tone: p.category === "immediate" ? "high" : "mid" };
      case "casualty.treated":
        return { text: t("event.casualty.treated", { treatment: t(`casualty.treatment.${p.treatment}`) }) };
      case "casualty.assigned":
        return { text: t("event.casualty.assigned", { who: who(p.medic_id) }), tone: "mid" };
      case "casualty.status_changed":
        return { text: t("event.casualty.status_changed", { state: t(`casualty.state.${p.state}`) }) };
      case "casualty.moved":
        return { text: t("event.casualty.moved", { ref: p.collection_point_ref }) };
      case "guest.checked_in":
        return {
          text: [
            t("event.guest.checked_in"),
            p.building_ref ? t("guest.row", { ref: p.building_ref, count: num(p.people_count) }) : t("guest.here_site"),
            t(`household.${p.status}`),
          ].join(" · "),
          tone: HOUSEHOLD_TONE[p.status] === "bad" ? "high" : null,
          focus: p.building_ref ? () => map.focusBuilding(p.building_ref) : null,
        };
      case "supply.requested":
        return { text: t("event.supply.requested", { what: supplyLabel(p) }), tone: p.urgency === "critical" ? "high" : "mid", focus: event.location ? () => map.focus(event.location) : null };
      case "supply.assigned":
        return { text: t("event.supply.assigned", { who: who(p.runner_person_id) }) };
      case "supply.delivered":
        return { text: t("event.supply.delivered", { what: requested(p.supply_id) }), tone: "ok" };
      case "supply.cancelled":
        return { text: t("event.supply.cancelled", { what: requested(p.supply_id) }) };
      case "task.created":
        return { text: t("event.task.created", { title: p.title }), tone: "mid" };
      case "task.accepted":
      case "task.completed":
      case "task.failed":
        return { text: t(`event.${event.type}`, { who: who(p.person_id), title: taskTitle(p.task_id) }), tone: event.type === "task.failed" ? "high" : event.type === "task.completed" ? "ok" : null };
      default: // every registered type has its words (tests/web/test_i18n.py)
        return { text: t(`event.${event.type}`) };
    }
  }

  /** Cautions the server could not raise (caution.failed): the war room must warn by radio. */
  function showCautionFailures() {
    const failed = picture.timeline.filter((e) => e.type === "caution.failed").length;
    el.failed.hidden = failed === 0;
    el.failed.textContent = failed ? t("operator.caution_failed", { n: num(failed) }) : "";
  }

  function show() {
    /** @type {TimelineEvent[]} */
    const events = picture.timeline.filter((e) => !UNTOLD.test(e.type)).slice(-TIMELINE_MAX).reverse();
    const fresh = newestSeen;
    el.list.replaceChildren(...(events.length
      ? events.map((event) => {
        const { text, tone, focus } = describe(event);
        return h("li", { class: `tl ${tone ? `sev-${tone}` : ""}${event.seq > fresh ? " fresh" : ""}`, dataset: { seq: event.seq, type: event.type } },
          h("time", { datetime: event.occurred_at, title: t("operator.recorded_at", { time: time(event.recorded_at) }) }, time(event.occurred_at)),
          focus ? h("button", { type: "button", class: "link", onclick: () => { showTab("map"); focus(); } }, text) : h("span", {}, text));
      })
      : [h("li", { class: "empty" }, t("operator.timeline_empty"))]));
    newestSeen = Math.max(newestSeen, ...events.map((e) => e.seq));
  }

  store.subscribe(() => {
    show();
    showCautionFailures();
  });
  return {
    /** What is in the log now counts as seen: a fresh load marks nothing new. */
    seenAll() {
      newestSeen = Math.max(0, ...picture.timeline.map((e) => e.seq));
    },
  };
}
