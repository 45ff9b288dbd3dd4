// @ts-check
// The console's squad board: before a call, the squad and their last status; after one, the
// call's board — big counts, the keys needed (and "ask X to bring it"), who has not seen it and
// how we tried, the ETAs, and everyone called.
import { $, h } from "./dom.js";
import { duration, isolate, lang, num, shortTime, t, time } from "./i18n.js";
import { GROUPS, NOT_SEEN, failureText, groupCounts, stateLabel, templateText } from "./muster.js";
import * as outbox from "./outbox.js";
import { RESPONDER_ORDER, STATUS_TONE, countChip, rank } from "./tones.js";
import { personName } from "./ui.js";

/** @typedef {import("./console-store.js").ConsoleStore} ConsoleStore */
/** @typedef {import("./console-store.js").MusterBoard} MusterBoard */
/** @typedef {Record<string, any>} BoardRow a person on the board */

const UNANSWERED = new Set(["notified", "seen"]); // "notified" and "saw the call" are not answers yet
const BIG_GROUPS = ["coming", "arrived", "seen", "unseen", "not_reached", "cannot", "wounded"];
/** @type {Record<string, string>} */
const GROUP_TONE = { coming: "warn", arrived: "ok", seen: "none", unseen: "bad", not_reached: "bad", cannot: "none", wounded: "bad" };
/** @type {Record<string, string>} */
const OUTCOME_MARK = { delivered: "✓", failed: "✗", sending: "…" };
// Keys first whose holder will not come (or was not reached), then those not confirmed yet,
// then coming, then in place.
/** @type {Record<string, number>} */
const KEY_ORDER = { bad: 0, unknown: 0, warn: 1, ok: 2, none: 3 };

/** @param {BoardRow} row */
const boardName = (row) => row.callsign || row.name;

/**
 * The group a board state belongs to ("coming", "unseen", ...).
 * @param {string} state
 */
function groupOf(state) {
  return Object.keys(GROUPS).find((group) => GROUPS[group].includes(state)) || "unseen";
}

/** @param {BoardRow} p */
function volunteerMark(p) {
  if (!p.volunteer) return null;
  const parts = [t("operator.volunteer"), p.affiliation ? t(`operator.affiliation.${p.affiliation}`) : null, p.armed ? t("sighting.armed") : null];
  return h("small", { class: "volunteer-mark" }, ` ${parts.filter(Boolean).join(" · ")}`);
}

/**
 * "push ✓ 07:31", "SMS ✗ no SMS gateway configured": every way we tried, and what came of it.
 * @param {Array<{channel: string, outcome: string, at: string, to?: string, reason?: string}>} channels
 */
function channelChips(channels) {
  if (!channels.length) return [h("span", { class: "chip muted" }, t("operator.not_tried_yet"))];
  return channels.map((c) => h("span", { class: `chip ${c.outcome}`, title: c.to || "" },
    `${t(`operator.channel.${c.channel}`)} ${OUTCOME_MARK[c.outcome] || c.outcome} ${shortTime(c.at)}`,
    c.outcome === "failed" && c.reason ? h("span", { class: "why", dir: "auto" }, ` ${failureText(c.reason)}`) : null));
}

/**
 * The squad board, redrawn from `store`.
 * @param {ConsoleStore} store
 */
export function musterBoard(store) {
  const el = {
    called: $("#muster-called"),
    big: $("#muster-big"),
    keysBox: $("#muster-keys-box"),
    keys: $("#muster-keys"),
    unseenBox: $("#muster-unseen-box"),
    unseen: $("#muster-unseen"),
    etaBox: $("#muster-eta-box"),
    eta: $("#muster-eta"),
    summary: $("#muster-summary"),
    listHeading: $("#muster-list-h"),
    counts: $("#muster-counts"),
    list: $("#muster-list"),
  };
  const picture = store.picture;

  /** Before any call: the squad and their last status. */
  function showSquadWithoutCall() {
    const rows = picture.squad().map((person) => ({ person, state: picture.responders.get(person.person_id) || null }));
    /** @type {Record<string, number>} */
    const tally = {};
    for (const { state } of rows) if (state) tally[state.status] = (tally[state.status] || 0) + 1;
    const answered = rows.filter((r) => r.state && !UNANSWERED.has(r.state.status)).length;
    el.summary.textContent = picture.musters.length
      ? t("operator.muster_summary", { n: num(answered), total: num(rows.length) })
      : "";
    el.counts.replaceChildren(
      ...RESPONDER_ORDER.filter((s) => tally[s]).map((s) => countChip(t(`status.${s}`), tally[s], STATUS_TONE[s])),
      countChip(t("operator.no_answer"), rows.filter((r) => !r.state).length, "none"),
    );
    rows.sort((a, b) => rank(RESPONDER_ORDER, a.state) - rank(RESPONDER_ORDER, b.state)
      || personName(a.person).localeCompare(personName(b.person), lang, { numeric: true }));
    el.list.replaceChildren(...rows.map(({ person, state }) => h("li", {
      class: `row ${state ? STATUS_TONE[state.status] || "" : "none"}`, dataset: { person: person.person_id },
    },
    h("span", { class: "who", dir: "auto" }, personName(person), person.callsign ? h("small", { class: "muted" }, ` ${person.name}`) : null),
    h("span", { class: "st" }, state ? t(`status.${state.status}`) : t("operator.no_answer")),
    h("time", { datetime: state ? state.changed_at : "" }, state ? time(state.changed_at) : ""))));
  }

  /**
   * The call's board: big counts, missing keys, who has not seen it (and how we tried), ETAs.
   * @param {MusterBoard} b
   */
  function showBoard(b) {
    const muster = b.muster;
    const what = templateText(store.template(muster.template), lang) || t("operator.cmd.muster");
    el.called.textContent = [
      t("operator.called_at", { time: shortTime(muster.called_at) }),
      what,
      store.rallyName(muster.rally_point_ref),
      muster.text ? isolate(muster.text) : null,
    ].filter(Boolean).join(" · ");
    const groups = groupCounts(b);
    /** @type {BoardRow[]} */
    const people = b.people;
    const answered = people.filter((p) => !NOT_SEEN.has(p.state) && p.state !== "seen").length;
    el.summary.textContent = t("operator.muster_summary", { n: num(answered), total: num(people.length) });
    el.big.replaceChildren(...BIG_GROUPS.map((group) => h("div", { class: `big ${groups[group] ? GROUP_TONE[group] : "zero"}`, dataset: { group } },
      h("b", { class: "num" }, num(groups[group])), h("span", {}, t(`operator.group.${group}`)))));
    showKeys(b);
    const unseen = people.filter((p) => NOT_SEEN.has(p.state));
    el.unseen.replaceChildren(...(unseen.length
      ? unseen.map((p) => h("li", { class: "row unseen-row", dataset: { person: p.person_id } },
        h("span", { class: "who", dir: "auto" }, boardName(p), volunteerMark(p)),
        h("span", { class: "st" }, stateLabel(p.state)),
        h("span", { class: "channels" }, ...channelChips(p.channels || []))))
      : [h("li", { class: "empty" }, t("operator.everyone_saw"))]));
    const byId = new Map(people.map((p) => [p.person_id, p]));
    /** @type {Array<{person_id: string, eta_secs: number}>} */
    const etas = b.eta || [];
    el.etaBox.hidden = !etas.length;
    el.eta.replaceChildren(...etas.map(({ person_id, eta_secs }) => h("li", { class: "row warn", dataset: { person: person_id } },
      h("span", { class: "who", dir: "auto" }, byId.has(person_id) ? boardName(byId.get(person_id)) : "?"),
      h("span", { class: "st" }, byId.has(person_id) ? stateLabel(byId.get(person_id).state) : ""),
      h("b", { class: "eta" }, duration(eta_secs)))));
    el.counts.replaceChildren();
    /** @param {string} id */
    const changed = (id) => picture.responders.get(id);
    el.list.replaceChildren(...people.map((p) => h("li", {
      class: `row ${STATUS_TONE[p.state] || "none"}`, dataset: { person: p.person_id, state: p.state },
    },
    h("span", { class: "who", dir: "auto" }, boardName(p), p.callsign ? h("small", { class: "muted" }, ` ${p.name}`) : null, volunteerMark(p),
      p.carrying && p.carrying.length ? h("small", { class: "carrying" }, ` 🔑 ${p.carrying.join(", ")}`) : null),
    h("span", { class: "st" }, stateLabel(p.state)),
    h("time", { datetime: changed(p.person_id) ? changed(p.person_id).changed_at : "" },
      p.eta_secs != null ? duration(p.eta_secs) : changed(p.person_id) && !NOT_SEEN.has(p.state) ? time(changed(p.person_id).changed_at) : ""))));
  }

  /**
   * Each key needed at the muster: coming with whom, or not (yet), and who holds it.
   * @param {MusterBoard} b
   */
  function showKeys(b) {
    /** @type {Array<Record<string, any>>} */
    const assets = b.assets || [];
    el.keysBox.hidden = !assets.length;
    const rows = assets.map((a) => {
      const holder = a.holder_person_id ? b.people.find((/** @type {BoardRow} */ p) => p.person_id === a.holder_person_id) : null;
      const who = holder ? boardName(holder) : a.holder_name;
      const group = a.holder_state ? groupOf(a.holder_state) : null;
      const tone = a.coming ? "ok" : !a.holder_person_id ? (a.holder_ref ? "unknown" : "none") : a.missing ? "bad" : "warn";
      return { a, who, group, tone };
    }).sort((x, y) => KEY_ORDER[x.tone] - KEY_ORDER[y.tone] || x.a.name.localeCompare(y.a.name, lang, { numeric: true }));
    el.keys.replaceChildren(...rows.map(({ a, who, group, tone }) => {
      const state = group ? t(`operator.group.${group}`) : "?";
      const line = tone === "ok" ? t("operator.key_coming", { name: who })
        : tone === "none" ? t("operator.key_in_armory")
          : tone === "unknown" ? t("operator.key_holder_unknown", { ref: a.holder_ref })
            : t(tone === "bad" ? "operator.key_missing" : "operator.key_waiting", { name: who, state });
      return h("li", { class: `row key ${tone}`, dataset: { asset: a.asset_id } },
        h("span", { class: "key-what" },
          h("b", { dir: "auto", title: a.ref }, a.name),
          h("span", { class: "st", dir: "auto" }, line),
          a.requested_at ? h("small", { class: "muted" }, t("operator.key_asked", { time: shortTime(a.requested_at) })) : null),
        tone === "bad" || tone === "warn"
          ? h("button", { type: "button", class: "small ask", onclick: (/** @type {MouseEvent} */ e) => askForKey(a, who, /** @type {HTMLButtonElement} */ (e.currentTarget)) }, t("operator.key_ask", { name: who }))
          : h("span", {}));
    }));
  }

  /**
   * @param {Record<string, any>} asset
   * @param {string} who
   * @param {HTMLButtonElement} button
   */
  function askForKey(asset, who, button) {
    button.disabled = true;
    outbox.send({ path: store.incidentPath(`/assets/${asset.asset_id}/request`), body: {}, label: t("operator.key_ask", { name: who }), kind: "asset_request" });
  }

  store.subscribe(() => {
    const b = store.board;
    const current = b && b.muster && picture.musters.some((m) => m.muster_id === b.muster.muster_id) ? b : null;
    for (const box of [el.called, el.big, el.keysBox, el.unseenBox, el.etaBox]) box.hidden = !current;
    // "Everyone called" is the board's list: the people the call went to, as the escalator
    // sends it. Without it (no call, or its board not read yet) the list is the squad's members.
    el.listHeading.textContent = t(current ? "operator.everyone" : "operator.squad_members");
    if (current) showBoard(current);
    else showSquadWithoutCall();
  });
}
