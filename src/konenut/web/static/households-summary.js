// @ts-check
// The console's households board: how many checked in with each status, and the households
// in danger first (tap one: the map shows its building).
import { $, h } from "./dom.js";
import { num, t, time } from "./i18n.js";
import { showTab } from "./tabs.js";
import { HOUSEHOLD_ORDER, HOUSEHOLD_TONE, countChip, rank } from "./tones.js";

/** @typedef {import("./console-store.js").ConsoleStore} ConsoleStore */

/**
 * Every household with its latest check-in (null: not heard from).
 * @param {import("./picture.js").Picture} picture
 */
export function householdRows(picture) {
  return [...picture.households.values()].map((household) => ({
    household, checkin: picture.checkins.get(household.household_id) || null,
  }));
}

/**
 * The households board, redrawn from `store`; `map` shows a household's building.
 * @param {ConsoleStore} store
 * @param {{map: any}} options
 */
export function householdsSummary(store, { map }) {
  const el = { counts: $("#household-counts"), list: $("#household-list") };
  store.subscribe(() => {
    const rows = householdRows(store.picture);
    /** @type {Record<string, number>} */
    const tally = {};
    for (const { checkin } of rows) if (checkin) tally[checkin.status] = (tally[checkin.status] || 0) + 1;
    const silent = rows.filter((r) => !r.checkin).length;
    el.counts.replaceChildren(
      ...HOUSEHOLD_ORDER.filter((s) => tally[s]).map((s) => countChip(t(`household.${s}`), tally[s], HOUSEHOLD_TONE[s])),
      countChip(t("operator.no_answer"), silent, "none"),
    );
    const attention = rows
      .filter((r) => r.checkin && HOUSEHOLD_TONE[r.checkin.status] === "bad")
      .sort((a, b) => rank(HOUSEHOLD_ORDER, a.checkin) - rank(HOUSEHOLD_ORDER, b.checkin) || (a.checkin.at < b.checkin.at ? 1 : -1));
    el.list.replaceChildren(...(attention.length
      ? attention.map(({ household, checkin }) => h("li", { class: "row bad", dataset: { household: household.household_id } },
        h("button", { type: "button", class: "link", dir: "auto", onclick: () => { showTab("map"); map.focusBuilding(household.building_ref); } },
          `${household.ref} · ${household.name}`),
        h("span", { class: "st" }, t(`household.${checkin.status}`),
          checkin.people_count != null ? ` · ${t("household.people", { n: num(checkin.people_count) })}` : "",
          checkin.injured_count ? ` · ${t("household.injured", { n: num(checkin.injured_count) })}` : "",
          checkin.severity ? ` · ${t(`household.severity.${checkin.severity}`)}` : ""),
        h("time", { datetime: checkin.at }, time(checkin.at))))
      : [h("li", { class: "empty" }, t("operator.no_households_in_danger"))]));
  });
}
