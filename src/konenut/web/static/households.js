// The operator's household panels: accountability (who is safe, who needs help, who has not
// answered), what residents saw outside (confirm or dismiss), and the hostage / barricade board.
import { api, uuid } from "./api.js";
import { $, h } from "./dom.js";
import { num, shortTime, t } from "./i18n.js";
import * as outbox from "./outbox.js";

const DANGER = new Set(["intruder", "smoke"]);

/** Why a silent household is high on the list, in the operator's language. */
function reasonText(reason) {
  if (reason.code === "near_sighting") return t("household.reason.near_sighting", { m: num(reason.distance_m) });
  return t(`household.reason.${reason.code}`);
}

/** The panels, fed by the operator's picture and stream; `act(sighting, status)` confirms. */
export function householdsBoard({ picture, canCommand, act }) {
  let incidentId = null;
  let hostages = [];
  let accountability = null; // the server's answer; null: counted here from the picture
  let timer = null;

  const path = (rest) => `/api/v1/incidents/${incidentId}${rest}`;

  async function refresh() {
    if (!incidentId) return;
    const [situations, board] = await Promise.all([
      api(path("/hostage-situations")).catch(() => []),
      api(path("/accountability")).catch(() => null),
    ]);
    hostages = situations;
    accountability = board;
    render();
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(() => {}), 300);
  }

  function counts() {
    if (accountability && accountability.counts) return accountability.counts;
    const tally = { safe: 0, need_help: 0, danger: 0, no_answer: 0, not_home: 0 };
    for (const household of picture.households.values()) {
      const checkin = picture.checkins.get(household.household_id);
      if (!checkin) tally.no_answer += 1;
      else if (DANGER.has(checkin.status)) tally.danger += 1;
      else if (checkin.status === "need_medic") tally.need_help += 1;
      else tally[checkin.status] = (tally[checkin.status] || 0) + 1;
    }
    return tally;
  }

  function renderCounts() {
    const c = counts();
    $("#acc-counts").replaceChildren(...["danger", "need_help", "no_answer", "safe", "not_home"].map((key) =>
      h("span", { class: `count ${key === "danger" || key === "need_help" ? "bad" : key === "safe" ? "ok" : ""}`, dataset: { count: key } },
        h("b", {}, num(c[key] || 0)), ` ${t(`household.acc.${key}`)}`)));
    const silent = accountability && accountability.households
      ? accountability.households.filter((row) => row.state === "no_answer")
      : [...picture.households.values()].filter((hh) => !picture.checkins.get(hh.household_id));
    $("#acc-silent").replaceChildren(...silent.slice(0, 50).map((row) => h("li", { class: "row", dataset: { household: row.household_id } },
      h("span", { dir: "auto" }, `${row.ref} · ${row.name}`),
      row.reasons && row.reasons.length ? h("small", { class: "muted" }, ` · ${row.reasons.map(reasonText).join(" · ")}`) : null)));
    $("#acc-reping").hidden = !canCommand || !silent.length;
  }

  /** What residents reported seeing: the squad confirms or dismisses it. */
  function renderResidentSightings() {
    const rows = [...picture.sightings.values()].filter((s) => s.source === "resident" && s.status === "reported");
    $("#resident-sightings").replaceChildren(...rows.map((s) => h("li", { class: "row bad", dataset: { sighting: s.sighting_id } },
      h("span", { class: "st" }, `${t("sighting.hostile")} · ${num(s.count || 1)}${s.text ? ` (${s.text})` : ""}`,
        s.vehicle ? ` · ${t("sighting.vehicle")}` : ""),
      h("small", { class: "from-resident" }, t("sighting.from_resident")),
      h("time", { datetime: s.reported_at }, shortTime(s.reported_at)),
      canCommand ? h("button", { type: "button", class: "small", onclick: () => act(s, "confirmed") }, t("sighting.action.confirmed")) : null,
      canCommand ? h("button", { type: "button", class: "small", onclick: () => act(s, "dismissed") }, t("sighting.action.dismissed")) : null)));
    $("#resident-sightings-box").hidden = !rows.length;
  }

  function renderHostages() {
    const held = new Set(hostages.filter((s) => s.status !== "resolved").map((s) => s.household_id));
    // One tap from a household's "someone is in the house" to the hostage board.
    const intruded = [...picture.households.values()].filter((hh) => {
      const checkin = picture.checkins.get(hh.household_id);
      return checkin && checkin.status === "intruder" && !held.has(hh.household_id);
    });
    $("#hostage-raise").replaceChildren(...(canCommand ? intruded : []).map((hh) => h("li", { class: "row bad", dataset: { household: hh.household_id } },
      h("span", { dir: "auto" }, `${hh.ref} · ${hh.name} · ${t("household.intruder")}`),
      h("button", { type: "button", class: "small danger", onclick: () => raise(hh) }, t("hostage.raise")))));
    $("#hostage-list").replaceChildren(...(hostages.length ? hostages.map(situationRow) : [h("li", { class: "empty" }, t("hostage.none"))]));
  }

  function situationRow(s) {
    const household = s.household_id ? picture.households.get(s.household_id) : null;
    const place = household ? `${household.ref} · ${household.name}` : s.building_ref;
    return h("li", { class: `row hostage ${s.status === "resolved" ? "" : "bad"}`, dataset: { situation: s.situation_id } },
      h("div", {},
        h("strong", { dir: "auto" }, place),
        " ",
        s.people_inside != null || s.attackers_inside != null
          ? h("span", {}, t("hostage.inside", { people: s.people_inside ?? "?", attackers: s.attackers_inside ?? "?" })) : null,
        s.status === "resolved" ? h("span", { class: "muted" }, ` · ${t("hostage.resolved")}`) : null,
        s.source === "resident" ? h("small", { class: "muted" }, ` · ${t("hostage.from_resident")}`) : null,
        s.contact_channel ? h("small", { dir: "auto" }, ` · ${s.contact_channel}`) : null,
        s.text ? h("p", { dir: "auto" }, s.text) : null,
        h("ol", { class: "updates" }, ...(s.updates || []).map((u) => h("li", {},
          h("time", { datetime: u.at }, shortTime(u.at)), " ", h("span", { dir: "auto" }, u.text))))),
      canCommand && s.status !== "resolved" ? h("div", { class: "actions" },
        h("button", { type: "button", class: "small", onclick: () => update(s, "ongoing") }, t("hostage.update")),
        h("button", { type: "button", class: "small", onclick: () => update(s, "resolved") }, t("hostage.resolve"))) : null);
  }

  function raise(household) {
    outbox.send({
      path: path("/hostage-situations"),
      body: { household_id: household.household_id, building_ref: household.building_ref || household.ref },
      label: t("hostage.raise"),
      kind: "hostage",
    });
  }

  function update(situation, status) {
    const text = status === "resolved" ? t("hostage.resolved") : (window.prompt(t("hostage.update_prompt")) || "").trim();
    if (!text) return;
    outbox.send({ path: path(`/hostage-situations/${situation.situation_id}/updates`), body: { text, status }, label: t("hostage.update"), kind: "hostage" });
  }

  async function reping(button) {
    button.disabled = true;
    try {
      const answer = await api(path("/accountability/reping"), { method: "POST", body: {}, key: uuid() });
      const n = answer && answer.pinged;
      $("#acc-reping-done").textContent = t("household.acc.repinged", { n: num(n || 0) });
    } catch {
      $("#acc-reping-done").textContent = t("common.error");
    } finally {
      button.disabled = false;
    }
  }

  function render() {
    const box = $("#household-panels");
    box.hidden = !incidentId;
    if (!incidentId) return;
    renderCounts();
    renderResidentSightings();
    renderHostages();
  }

  $("#acc-reping").addEventListener("click", (e) => reping(e.currentTarget));

  return {
    show(incident) {
      const id = incident && !incident.closed_at ? incident.incident_id : null;
      if (id !== incidentId) {
        incidentId = id;
        hostages = [];
        accountability = null;
        later();
      }
      render();
    },
    onEvent(event) {
      if (!incidentId || event.incident_id !== incidentId) return;
      if (event.type.startsWith("hostage.") || event.type === "household.checked_in") later();
    },
  };
}
