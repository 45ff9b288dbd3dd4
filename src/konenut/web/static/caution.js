// Don't shoot our own, on the responder's phone: a red caution banner that arrives live from
// the stream and stays until dismissed, and "I am entering house N" with who is known inside.
// A caution carries parts (houses, counts, units), not a sentence: it is told here in the
// page's language.
import { ApiError, api, uuid } from "./api.js";
import { $, h } from "./dom.js";
import { num, shortTime, t, time } from "./i18n.js";

const VIBRATE_MS = [400, 150, 400, 150, 400];
const SHOWN = 4; // the newest cautions on the banner

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
    parts.push(t(c.status === "intruder" ? "caution.intruder_at" : "caution.civilians", { place, n: num(c.people) }));
  }
  for (const f of friendlies) {
    parts.push(f.near_ref
      ? t("caution.friendly_at", { place: t(f.near_kind === "gate" ? "caution.gate" : "caution.house", { ref: f.near_ref }) })
      : t("caution.friendly_near", { who: unitName(f) }));
  }
  return parts.join(" ");
}

const unitName = (f) => f.callsign || t("caution.a_unit");

/** The banner and the "entering" form on a responder page; `onEvent` takes stream events. */
export function mountCautions({ me, incidentId, anchor }) {
  const list = h("ul", { class: "caution-list" });
  const banner = h("section", { id: "caution", class: "caution", role: "alert", hidden: true },
    h("p", { class: "caution-head" }, t("caution.title")),
    list,
    h("button", { type: "button", id: "caution-dismiss", class: "caution-dismiss", onclick: dismiss }, t("caution.dismiss")));
  const house = h("input", { id: "entering-house", inputmode: "text", maxlength: 32, autocomplete: "off", "aria-label": t("caution.house_number") });
  const answer = h("p", { id: "entering-answer", class: "entering-answer", "aria-live": "assertive", hidden: true });
  const form = h("form", { id: "entering", class: "entering", onsubmit: (e) => { e.preventDefault(); enter(); } },
    h("label", { for: "entering-house" }, t("caution.entering")), house,
    h("button", { type: "submit", class: "danger" }, t("caution.enter")), answer);
  anchor.before(banner);
  anchor.after(form);
  let shown = [];

  function dismiss() {
    shown = [];
    list.replaceChildren();
    banner.hidden = true;
  }

  function onEvent(event) {
    // The server sends a caution only to the units it warns (and those who run the squad).
    if (event.type !== "caution.raised" || shown.some((c) => c.seq === event.seq)) return;
    shown = [{ seq: event.seq, at: event.occurred_at, text: cautionText(event.payload, me.subject_id) }, ...shown].slice(0, SHOWN);
    list.replaceChildren(...shown.map((c) => h("li", {}, h("time", { datetime: c.at }, time(c.at)), " ", c.text)));
    banner.hidden = false;
    if (navigator.vibrate) navigator.vibrate(VIBRATE_MS);
  }

  async function enter() {
    const ref = house.value.trim();
    const id = incidentId();
    if (!ref || !id) return;
    answer.hidden = false;
    answer.className = "entering-answer";
    try {
      const result = await api(`/api/v1/incidents/${id}/entering`, { method: "POST", body: { building_ref: ref }, key: uuid() });
      showInside(result.inside);
    } catch (err) {
      answer.textContent = err instanceof ApiError && err.status === 404 ? t("caution.no_such_house", { ref }) : t("caution.enter_failed");
    }
  }

  function showInside(inside) {
    if (!inside.occupied) {
      answer.textContent = t("caution.inside_none");
      return;
    }
    const who = inside.adults != null
      ? t("caution.people_split", { adults: num(inside.adults), children: num(inside.children) })
      : t("caution.people", { n: num(inside.people) });
    const text = t("caution.inside", { who, time: shortTime(inside.checked_in_at), status: t(`household.${inside.status}`) });
    answer.textContent = inside.intruder ? `${t("caution.inside_intruder")} ${text}` : text;
    answer.className = `entering-answer ${inside.intruder ? "bad" : "occupied"}`;
  }

  return { onEvent };
}
