// @ts-check
// The console's orders: to the whole squad, a team or one person; and for each order who has
// acknowledged it and who not yet ("3/5 acknowledged · not yet: ...").
import { $, field, h } from "./dom.js";
import { num, t, time } from "./i18n.js";
import { personName } from "./ui.js";

const SHOWN = 8;

export function ordersBoard({ picture }) {
  /** Who an order is for: the people it names, else the whole squad but its sender. */
  const recipients = (order) => (order.to_person_ids.length
    ? order.to_person_ids
    : picture.squad().map((p) => p.person_id).filter((id) => id !== order.sent_by));

  const targetLabel = (order) => {
    if (order.to_teams && order.to_teams.length) return order.to_teams.map((team) => t("operator.order_team", { team })).join(", ");
    if (!order.to_person_ids.length) return t("operator.order_everyone");
    return order.to_person_ids.map((id) => personName(picture.people.get(id))).join(", ");
  };

  return {
    /** The choices of the order dialog's "To" list: everyone, each team, each squad member. */
    fillTargets() {
      const squad = picture.squad().sort((a, b) => personName(a).localeCompare(personName(b)));
      const teams = [...new Set(squad.flatMap((p) => p.teams || []))].sort();
      $("#order-to").replaceChildren(
        h("option", { value: "" }, t("operator.order_everyone")),
        ...teams.map((team) => h("option", { value: `team:${team}` }, t("operator.order_team", { team }))),
        ...squad.map((p) => h("option", { value: `person:${p.person_id}` }, personName(p))),
      );
    },
    /** The body fields for the chosen target. */
    target() {
      const [kind, value] = field("#order-to").value.split(/:(.*)/s);
      if (kind === "team") return { to_teams: [value] };
      if (kind === "person") return { to_person_ids: [value] };
      return {};
    },
    show(incident) {
      const orders = incident ? [...picture.orders.values()].sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1)).slice(0, SHOWN) : [];
      $("#orders-box").hidden = !orders.length;
      $("#order-board").replaceChildren(...orders.map((order) => {
        const wanted = recipients(order);
        const acked = wanted.filter((id) => order.acknowledged_by[id]);
        const waiting = wanted.filter((id) => !order.acknowledged_by[id]).map((id) => personName(picture.people.get(id)));
        return h("li", { class: "order-row", dataset: { order: order.order_id } },
          h("p", { class: "order-what" },
            h("strong", { dir: "auto" }, order.text), " · ",
            h("span", { class: "muted" }, targetLabel(order)), " · ",
            h("time", { datetime: order.sent_at }, time(order.sent_at))),
          h("p", { class: `order-acks${waiting.length ? "" : " all"}` },
            t("operator.order_acks", { n: num(acked.length), total: num(wanted.length) }),
            waiting.length ? ` · ${t("operator.order_not_yet", { names: waiting.join(", ") })}` : ""));
      }));
    },
  };
}
