// @ts-check
// Posters and passes from the console: a guest poster for a building's door (commanders,
// operators, admins) and a liaison pass for the arriving police or army unit (commanders,
// admins), each shown as a QR, a code read out in fours and a link, ready to print; a liaison
// pass also has a 12-digit code to read out over the radio, and the incident's liaison passes
// are listed with a button to withdraw each (docs/liaison.md). Issued online, not through the
// outbox: a code is shown once, and means nothing until it is seen.
import { api, bareCode, uuid } from "./api.js";
import { $, field, h } from "./dom.js";
import { config, lang, num, shortTime, t } from "./i18n.js";
import { featureName } from "./map.js";

const GUEST_ROLES = ["commander", "operator", "admin"];
const LIAISON_ROLES = ["commander", "admin"]; // who may make liaison passes
const byRef = (a, b) => String(a.properties.ref).localeCompare(String(b.properties.ref), lang, { numeric: true });

/** Fill a pass's QR, code (in groups of four, to read out) and link into `box`. */
export function showPass(box, pass) {
  /** @type {HTMLImageElement} */ ($("[data-pass=qr]", box)).src = pass.qr_data_url;
  const code = bareCode(pass.code || "");
  $("[data-pass=code]", box).textContent = (code.match(/.{1,4}/g) || []).join(" ");
  const link = /** @type {HTMLAnchorElement} */ ($("[data-pass=link]", box));
  link.textContent = pass.link;
  link.href = pass.link;
  const radio = $("[data-pass=radio]", box);
  if (radio) {
    radio.textContent = pass.radio_code || "";
    /** @type {HTMLElement} */ (radio.parentElement).hidden = !pass.radio_code;
  }
}

/** `roles`: the device's; `plan()`: the site plan; `incident()`: the incident shown. */
export function passesDialog({ roles, plan, incident }) {
  const dialog = /** @type {HTMLDialogElement} */ ($("#dlg-passes"));
  const mayGuest = roles.some((r) => GUEST_ROLES.includes(r));
  const mayLiaison = roles.some((r) => LIAISON_ROLES.includes(r));
  $("#cmd-passes").hidden = !mayGuest;
  $("#pass-lang").replaceChildren(...config.languages.map(({ code, name }) => h("option", { value: code, selected: code === lang }, name)));

  const openIncident = () => {
    const shown = incident();
    return shown && !shown.closed_at ? shown : null;
  };

  function choosing() {
    $("#pass-choose").hidden = false;
    $("#pass-shown").hidden = true;
    $("#pass-print").hidden = true;
    $("#pass-another").hidden = true;
    $("#pass-error").textContent = "";
    $("#pass-liaison-box").hidden = !mayLiaison || !openIncident();
    if (mayLiaison && openIncident()) listLiaisonPasses();
  }

  /** The incident's liaison passes: unit, devices used of the cap, until when; withdraw each. */
  async function listLiaisonPasses() {
    const shown = openIncident();
    if (!shown) return;
    const passes = await api(`/api/v1/incidents/${shown.incident_id}/liaison-passes`).catch(() => []);
    $("#liaison-passes-box").hidden = !passes.length;
    $("#liaison-passes").replaceChildren(...passes.map((pass) => h("li", null,
      h("span", { dir: "auto" }, `${pass.unit_name} · `, pass.revoked_at ? t("operator.pass.withdrawn")
        : t("operator.pass.devices_used", { used: num(pass.redeemed), max: num(pass.max_devices), until: shortTime(pass.expires_at) })),
      pass.revoked_at ? null : h("button", { type: "button", class: "small danger", onclick: (/** @type {Event} */ e) => withdraw(e.currentTarget, pass) }, t("operator.pass.withdraw")),
    )));
  }

  async function withdraw(button, pass) {
    button.disabled = true;
    try {
      await api(`/api/v1/passes/${pass.pass_id}/revoke`, { method: "POST", body: { reason: "withdrawn from the console" }, key: uuid() });
    } catch (err) {
      $("#pass-error").textContent = err.message;
    }
    listLiaisonPasses();
  }

  function fillBuildings() {
    const chosen = field("#pass-building").value;
    const buildings = ((plan() || {}).features || []).filter((f) => f.properties.kind === "building").sort(byRef);
    $("#pass-building").replaceChildren(
      h("option", { value: "" }, t("operator.pass.whole_site")),
      ...buildings.map((f) => {
        const name = featureName(f.properties);
        const ref = String(f.properties.ref);
        return h("option", { value: ref }, name && name !== ref ? `${ref} · ${name}` : ref);
      }),
    );
    field("#pass-building").value = chosen;
  }

  async function issue(button, path, body, describe) {
    button.disabled = true;
    $("#pass-error").textContent = "";
    try {
      const pass = await api(path, { method: "POST", body, key: uuid() });
      const box = $("#pass-shown");
      showPass(box, pass);
      const { title, intro, note } = describe(pass);
      $("#pass-what").textContent = title;
      $("#pass-intro").textContent = intro;
      $("#pass-note").textContent = note;
      /** @type {HTMLImageElement} */ ($("[data-pass=qr]", box)).alt = title;
      $("#pass-choose").hidden = true;
      box.hidden = false;
      $("#pass-print").hidden = false;
      $("#pass-another").hidden = false;
    } catch (err) {
      $("#pass-error").textContent = err.message;
    } finally {
      button.disabled = false;
    }
  }

  $("#pass-guest").addEventListener("click", (e) => {
    const ref = field("#pass-building").value;
    const body = { language: field("#pass-lang").value, ...(ref ? { building_ref: ref } : {}) };
    issue(e.currentTarget, "/api/v1/site/guest-posters", body, () => ({
      title: ref ? t("guest.here", { ref }) : t("guest.here_site"),
      intro: t("guest.intro"),
      note: t("operator.pass.guest_note"),
    }));
  });
  $("#pass-liaison").addEventListener("click", (e) => {
    const shown = openIncident();
    if (!shown) return;
    const unit = field("#pass-unit").value.trim();
    if (!unit) {
      $("#pass-error").textContent = t("operator.pass.need_unit");
      $("#pass-unit").focus();
      return;
    }
    const devices = Math.max(1, Math.min(20, Number(field("#pass-devices").value) || 1));
    const body = { unit_name: unit, max_devices: devices, language: lang };
    issue(e.currentTarget, `/api/v1/incidents/${shown.incident_id}/liaison-passes`, body, (pass) => ({
      title: `${t("operator.pass.liaison_title")} · ${pass.unit_name}`,
      intro: shown.title,
      note: t("operator.pass.liaison_note", { devices: num(pass.max_devices), until: shortTime(pass.expires_at) }),
    }));
    field("#pass-unit").value = "";
  });
  $("#pass-another").addEventListener("click", choosing);
  $("#pass-print").addEventListener("click", () => print());
  $("#cmd-passes").addEventListener("click", () => {
    fillBuildings();
    choosing();
    dialog.showModal();
  });
  // A code on the screen is a key to the site: it leaves the page when the dialog closes.
  dialog.addEventListener("close", () => {
    const box = $("#pass-shown");
    box.hidden = true;
    $("[data-pass=qr]", box).removeAttribute("src");
    for (const el of [$("[data-pass=code]", box), $("[data-pass=link]", box), $("[data-pass=radio]", box)]) el.textContent = "";
    $("[data-pass=link]", box).removeAttribute("href");
  });
}
