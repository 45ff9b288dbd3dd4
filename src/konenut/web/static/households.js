// @ts-check
// The operator's household panels: accountability (who is safe, who needs help, who has not
// answered), what residents saw outside (confirm or dismiss), and the hostage / barricade board.
import { api, uuid } from "./api.js";
import { $, field, h } from "./dom.js";
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
    const cleared = new Map(picture.timeline.filter((e) => e.type === "intruder.cleared").map((e) => [e.payload.building_ref, e.occurred_at]));
    // One tap from a household's "someone is in the house" to the hostage board, or to "the
    // squad checked it: no threat" (it stops warning the units that come near: docs/caution.md).
    const intruded = [...picture.households.values()].filter((hh) => {
      const checkin = picture.checkins.get(hh.household_id);
      return checkin && checkin.status === "intruder" && !held.has(hh.household_id) && !(cleared.get(hh.building_ref) >= checkin.at);
    });
    $("#hostage-raise").replaceChildren(...(canCommand ? intruded : []).map((hh) => h("li", { class: "row bad", dataset: { household: hh.household_id } },
      h("span", { dir: "auto" }, `${hh.ref} · ${hh.name} · ${t("household.intruder")}`),
      h("button", { type: "button", class: "small danger", onclick: () => raise(hh) }, t("hostage.raise")),
      hh.building_ref ? h("button", { type: "button", class: "small", dataset: { clear: hh.building_ref }, onclick: () => clearIntruder(hh) }, t("caution.clear_intruder")) : null)));
    $("#hostage-list").replaceChildren(...(hostages.length ? hostages.map(situationRow) : [h("li", { class: "empty" }, t("hostage.none"))]));
  }

  function situationRow(s) {
    const place = placeOf(s);
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
        h("ol", { class: "updates" }, ...[...(s.updates || [])].reverse().map(updateRow))),
      canCommand && s.status !== "resolved" ? h("div", { class: "actions" },
        h("button", { type: "button", class: "small", onclick: () => update(s) }, t("hostage.update"))) : null);
  }

  /** One timestamped update, newest first: what changed, and the note. */
  function updateRow(u) {
    const known = [
      u.people_inside != null || u.attackers_inside != null
        ? t("hostage.inside", { people: u.people_inside ?? "?", attackers: u.attackers_inside ?? "?" }) : null,
      u.contact_channel ? `${t("hostage.contact_channel")}: ${u.contact_channel}` : null,
      u.status === "resolved" ? t("hostage.resolved") : null,
    ].filter(Boolean).join(" · ");
    return h("li", { class: "update" }, h("time", { datetime: u.at }, shortTime(u.at)), " ",
      known ? h("span", {}, known, u.text ? " · " : "") : null, u.text ? h("span", { dir: "auto" }, u.text) : null);
  }

  /** The hostage dialog: an update of `situation`, or (null) a new one in a household chosen. */
  function ask(situation) {
    const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-hostage"));
    const choose = !situation;
    $("#hostage-dlg-title").textContent = t(situation ? "hostage.update" : "hostage.mark");
    $("#hostage-dlg-place").textContent = situation ? placeOf(situation) : "";
    $("#hostage-dlg-place").hidden = choose;
    $("#hostage-household").hidden = $("#hostage-household-label").hidden = !choose;
    if (choose) {
      const all = [...picture.households.values()].sort((a, b) => String(a.ref).localeCompare(String(b.ref), undefined, { numeric: true }));
      $("#hostage-household").replaceChildren(...all.map((hh) => h("option", { value: hh.household_id }, `${hh.ref} · ${hh.name}`)));
    }
    field("#hostage-people").value = situation && situation.people_inside != null ? situation.people_inside : "";
    field("#hostage-attackers").value = situation && situation.attackers_inside != null ? situation.attackers_inside : "";
    field("#hostage-contact").value = situation ? situation.contact_channel || "" : "";
    field("#hostage-text").value = "";
    /** @type {HTMLInputElement} */ ($("#hostage-resolved")).checked = false;
    $("#hostage-resolved-label").hidden = !situation;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  /** The dialog's numbers and text; a field left empty is not sent (nothing new known). */
  function known(before) {
    const count = (id) => {
      const raw = field(id).value.trim();
      const n = Number(raw);
      return raw === "" || !Number.isInteger(n) ? null : Math.max(0, Math.min(500, n));
    };
    const body = { people_inside: count("#hostage-people"), attackers_inside: count("#hostage-attackers") };
    const contact = field("#hostage-contact").value.trim();
    if (!before || contact !== (before.contact_channel || "")) body.contact_channel = contact;
    const text = field("#hostage-text").value.trim();
    if (text) body.text = text;
    for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
    return body;
  }

  const placeOf = (s) => {
    const household = s.household_id ? picture.households.get(s.household_id) : null;
    return household ? `${household.ref} · ${household.name}` : s.building_ref;
  };

  /** From a household's "someone is in the house": one tap, details come as updates. Else the
   * dialog: which household, and what is known. */
  async function raise(household) {
    if (!household && !(await ask(null))) return;
    const chosen = household || picture.households.get(field("#hostage-household").value);
    if (!chosen) return;
    outbox.send({
      path: path("/hostage-situations"),
      body: { household_id: chosen.household_id, building_ref: chosen.building_ref || chosen.ref, ...(household ? {} : known(null)) },
      label: t("hostage.raise"),
      kind: "hostage",
    });
  }

  function clearIntruder(household) {
    outbox.send({ path: path("/intruder-clearances"), body: { building_ref: household.building_ref }, label: t("caution.clear_intruder"), kind: "intruder" });
  }

  async function update(situation) {
    if (!(await ask(situation))) return;
    const body = { ...known(situation), status: /** @type {HTMLInputElement} */ ($("#hostage-resolved")).checked ? "resolved" : "ongoing" };
    outbox.send({ path: path(`/hostage-situations/${situation.situation_id}/updates`), body, label: t("hostage.update"), kind: "hostage" });
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
  $("#hostage-new").hidden = !canCommand;
  $("#hostage-new").addEventListener("click", () => raise(null));

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
