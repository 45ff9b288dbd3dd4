// @ts-check
// Printable household cards. A printed page carries no token of its own: this page runs on an
// admin's enrolled device, asks the API for fresh cards (each household's previous card is
// revoked) and lays them out for printing. `?households=12,14` prints some; default: all.
import { api, uuid } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";

function card(c) {
  return h("article", { class: "card", lang: c.texts[0].lang, dir: c.texts[0].dir },
    h("p", { class: "house" }, t("card.house", { ref: c.building_ref || c.ref })),
    h("p", { class: "name", dir: "auto" }, c.name),
    h("img", { class: "qr", src: c.qr_data_url, alt: c.link }),
    h("p", { class: "code", dir: "ltr" }, `${t("card.code")}: ${c.code}`),
    h("p", { class: "link", dir: "ltr" }, c.link),
    ...c.texts.map((x) => h("p", { class: "text", lang: x.lang, dir: x.dir }, h("b", {}, x.title), x.instructions)),
  );
}

async function main() {
  const wanted = new URLSearchParams(location.search).get("households");
  const households = !wanted || wanted === "all" ? "all" : wanted.split(",").map((r) => r.trim()).filter(Boolean);
  let answer;
  try {
    answer = await api("/api/v1/site/households/cards", { method: "POST", body: { households }, key: uuid() });
  } catch (err) {
    $("#status").textContent = err.status === 401 || err.status === 403 ? t("card.need_admin") : `${t("card.failed")}: ${err.message}`;
    return;
  }
  $("#cards").replaceChildren(...answer.cards.map(card));
  $("#status").textContent = t("card.ready", { count: answer.cards.length });
  $("#print").hidden = false;
  $("#print").addEventListener("click", () => print());
}

main();
