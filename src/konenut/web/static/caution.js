// @ts-check
// Don't shoot our own, on the responder's phone: a red caution banner that arrives live from
// the stream, or with the page (the cautions that still stand, GET .../cautions), and stays
// until dismissed — on this device for good: a reload does not bring back what was dismissed.
// Also "I am entering house N" with who is known inside. A caution carries parts (houses,
// counts, units), not a sentence: it is told here in the page's language. A caution told
// again (the same caution_id: what is inside changed) replaces its line, without a new buzz.
import { ApiError, api, uuid } from "./api.js";
import { $, h } from "./dom.js";
import { num, shortTime, t, time } from "./i18n.js";
import { CAUTIONS_DISMISSED_KEY, readJson, writeJson } from "./storage.js";

const VIBRATE_MS = [400, 150, 400, 150, 400];
const SHOWN = 4; // the newest cautions on the banner
const DISMISSED_KEPT = 200; // event ids remembered as dismissed (they stand 10 min at most)

function dismissedIds() {
  try {
    const ids = readJson(CAUTIONS_DISMISSED_KEY, []);
    return Array.isArray(ids) ? ids : [];
  } catch {
    return [];
  }
}

function rememberDismissed(ids) {
  const kept = [...dismissedIds().filter((id) => !ids.includes(id)), ...ids].slice(-DISMISSED_KEPT);
  writeJson(CAUTIONS_DISMISSED_KEY, kept);
}

/** One caution in words, for the reader `selfId` (their own unit is not "a friendly team"). */
export function cautionText(p, selfId) {
  const friendlies = (p.friendlies || []).filter((f) => f.subject_id !== selfId);
  if (p.kind === "converging") {
    return t("caution.converging", { who: friendlies.map(unitName).join(", ") || t("caution.a_unit") });
  }
  const parts = [];
  if (p.category) parts.push(t("caution.threat", { what: t(`sighting.${p.category}`), n: num(p.count || 1) }));
  for (const c of p.civilians || []) {
    const place = t("caution.house", { ref: c.building_ref });
    parts.push(c.status === "intruder" ? intruderText(c, place) : t("caution.civilians", { place, n: num(c.people) }));
  }
  for (const f of friendlies) {
    parts.push(f.near_ref
      ? t("caution.friendly_at", { place: t(f.near_kind === "gate" ? "caution.gate" : "caution.house", { ref: f.near_ref }) })
      : t("caution.friendly_near", { who: unitName(f) }));
  }
  return parts.join(" ");
}

const unitName = (f) => f.callsign || t("caution.a_unit");

/** "Intruder reported inside house 31; 2 guests and 2 residents checked in there at 07:10." */
function intruderText(c, place) {
  const residents = c.residents ? t("caution.who_residents", { n: num(c.residents) }) : "";
  const guests = c.guests ? t("caution.who_guests", { n: num(c.guests) }) : "";
  const who = residents && guests ? t("caution.who_both", { guests, residents }) : residents || guests;
  if (!who) return t("caution.intruder_alone", { place });
  return t("caution.intruder_inside", { place, who, time: shortTime(c.checked_in_at) });
}

/** The banner and the "entering" form on a responder page; `onEvent` takes stream events. */
export function mountCautions({ me, incidentId, anchor }) {
  const list = h("ul", { class: "caution-list" });
  const banner = h("section", { id: "caution", class: "caution", role: "alert", hidden: true },
    h("p", { class: "caution-head" }, t("caution.title")),
    list,
    h("button", { type: "button", id: "caution-dismiss", class: "caution-dismiss", onclick: dismiss }, t("caution.dismiss")));
  // House refs are short and mostly digits ("14", "W2"): a text box with the plan's refs as
  // suggestions, not a number pad that cannot type the W.
  const refs = h("datalist", { id: "entering-refs" });
  const house = h("input", {
    id: "entering-house", type: "text", inputmode: "text", enterkeyhint: "go", autocapitalize: "characters",
    maxlength: 32, size: 6, autocomplete: "off", list: "entering-refs", placeholder: t("caution.house_number"),
  });
  const answer = h("p", { id: "entering-answer", class: "entering-answer", "aria-live": "assertive", hidden: true });
  const form = h("form", { id: "entering", class: "entering", onsubmit: (e) => { e.preventDefault(); enter(); } },
    h("label", { for: "entering-house" }, t("caution.entering")), house, refs,
    h("button", { type: "submit", class: "danger" }, t("caution.enter")), answer);
  anchor.before(banner);
  anchor.after(form);
  let shown = []; // [{id, eventId, seq, at, text}], newest first, one per caution_id

  function dismiss() {
    rememberDismissed(shown.map((c) => c.eventId));
    shown = [];
    list.replaceChildren();
    banner.hidden = true;
  }

  /** Add cautions (stream events, or the standing ones) to the banner, a caution told again
   * in place of what it said before; true if any caution is new to this page. */
  function show(events) {
    const dismissed = new Set(dismissedIds());
    const fresh = events.filter((e) => e.type === "caution.raised" && !dismissed.has(e.id)
      && !shown.some((c) => c.id === e.payload.caution_id && c.seq >= e.seq));
    if (!fresh.length) return false;
    const isNew = fresh.some((e) => !shown.some((c) => c.id === e.payload.caution_id));
    const added = fresh.map((e) => ({ id: e.payload.caution_id, eventId: e.id, seq: e.seq, at: e.occurred_at, text: cautionText(e.payload, me.subject_id) }));
    const newest = new Map([...shown, ...added].sort((a, b) => a.seq - b.seq).map((c) => [c.id, c]));
    shown = [...newest.values()].sort((a, b) => b.seq - a.seq).slice(0, SHOWN);
    list.replaceChildren(...shown.map((c) => h("li", { "data-caution": c.id }, h("time", { datetime: c.at }, time(c.at)), " ", c.text)));
    banner.hidden = false;
    return isNew;
  }

  function onEvent(event) {
    // The server sends a caution only to the units it warns (and those who run the squad).
    if (event.type === "caution.raised" && show([event]) && navigator.vibrate) navigator.vibrate(VIBRATE_MS);
  }

  /** The cautions that still stand for me in this incident: on page load and after a resync. */
  async function refresh() {
    const id = incidentId();
    if (!id) return;
    const { cautions } = await api(`/api/v1/incidents/${id}/cautions`);
    if (show(cautions) && navigator.vibrate) navigator.vibrate(VIBRATE_MS);
    banner.dataset.standing = "loaded"; // the page has asked (pages and tests can tell)
  }

  /** Suggest the plan's building refs in the "entering" box. */
  function setPlan(plan) {
    const found = ((plan && plan.features) || [])
      .filter((f) => f.properties && f.properties.kind === "building" && f.properties.ref != null)
      .map((f) => String(f.properties.ref));
    const sorted = [...new Set(found)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    refs.replaceChildren(...sorted.map((ref) => h("option", { value: ref })));
  }

  async function enter() {
    const ref = house.value.trim();
    const id = incidentId();
    if (!ref || !id) return;
    answer.hidden = false;
    answer.className = "entering-answer";
    answer.textContent = "…";
    try {
      const result = await api(`/api/v1/incidents/${id}/entering`, { method: "POST", body: { building_ref: ref }, key: uuid() });
      showInside(result.inside);
    } catch (err) {
      answer.textContent = err instanceof ApiError && err.status === 404 ? t("caution.no_such_house", { ref }) : t("caution.enter_failed");
      answer.className = "entering-answer failed";
    }
  }

  function showInside(inside) {
    if (!inside.occupied) {
      answer.textContent = t("caution.inside_none");
      answer.className = "entering-answer none";
      return;
    }
    const who = inside.adults != null
      ? t("caution.people_split", { adults: num(inside.adults), children: num(inside.children) })
      : t("caution.people", { n: num(inside.people) });
    const said = t("caution.inside", { who, time: shortTime(inside.checked_in_at), status: t(`household.${inside.status}`) });
    // Guests scanned a poster anyone can scan: the responder at the door knows which are theirs.
    const text = inside.guest_people ? `${said} · ${t("map.guest_reported", { n: num(inside.guest_people) })}` : said;
    answer.textContent = inside.intruder ? `${t("caution.inside_intruder")} ${text}` : text;
    answer.className = `entering-answer ${inside.intruder ? "bad" : "occupied"}`;
  }

  return { onEvent, refresh, setPlan };
}
