// @ts-check
// What every app page shares: start-up (token, /me, service worker), the connection
// indicator, the outbox list, the menu (views, languages, sign out), cached snapshots.
import { ApiError, api, getToken } from "./api.js";
import { $, h } from "./dom.js";
import { config, duration, lang, t, time } from "./i18n.js";
import * as outbox from "./outbox.js";
import { Stream } from "./stream.js";
import { DEVICE_DB, HOME_KEY, LANG_KEY, ME_KEY, SEQ_PREFIX, SNAPSHOT_PREFIX, forgetDevice, readJson, writeJson } from "./storage.js";
import { viewsFor } from "./views.js";

const SHOW_AGE_AFTER_SECS = 5; // younger data needs no warning

/** Show a full-page notice instead of the app (not enrolled, revoked). */
export function notice(title, text) {
  const main = $("main");
  main.replaceChildren(h("section", { class: "notice", role: "alert" }, h("h1", {}, title), h("p", {}, text)));
  document.body.classList.add("has-notice");
}

/**
 * Start a page: the token, who this device is (cached for offline starts), the menu, the
 * service worker. Resolves with /me, or null when the page cannot run.
 */
export async function boot() {
  registerServiceWorker();
  if (!getToken()) {
    notice(t("common.not_enrolled"), t("common.not_enrolled_help"));
    return null;
  }
  let me = null;
  try {
    me = await api("/api/v1/me");
    writeJson(ME_KEY, me);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      revoked();
      return null;
    }
    me = readJson(ME_KEY, null);
    if (!me) {
      notice(t("conn.offline"), t("common.offline_first_start"));
      addEventListener("online", () => location.reload(), { once: true });
      return null;
    }
  }
  const views = viewsFor(me);
  if (!views.includes(config.page)) {
    location.replace(`/${lang}/${views[0] || "resident"}`);
    return null;
  }
  localStorage.setItem(HOME_KEY, location.pathname);
  buildMenu(me, views);
  return me;
}

export function revoked() {
  notice(t("common.revoked"), t("common.not_enrolled_help"));
}

function buildMenu(me, views) {
  const nav = $("#menu");
  if (!nav) return;
  const who = h("p", { class: "who" }, me.name || "", " · ", t(`role.${me.primary_role}`));
  const viewLinks = views.length > 1
    ? h("div", { class: "menu-group" }, h("h2", {}, t("view.switch")),
      ...views.map((view) => h("a", { href: `/${lang}/${view}`, class: "menu-item", "aria-current": view === config.page ? "page" : null }, t(`view.${view}`))))
    : null;
  const langLinks = h("div", { class: "menu-group" }, h("h2", {}, t("lang.choose")),
    ...config.languages.map(({ code, name }) => h("a", {
      href: `/${code}/${config.page}`, lang: code, class: "menu-item", hreflang: code,
      "aria-current": code === lang ? "page" : null,
      onclick: () => localStorage.setItem(LANG_KEY, code),
    }, name)));
  const signOut = h("button", {
    type: "button", class: "menu-item danger",
    onclick: () => {
      if (!confirm(t("common.sign_out_confirm"))) return;
      forgetDevice();
      // The service worker's copy of the token (muster.js) goes too, before leaving the page.
      const leave = () => location.replace(`/${lang}/enroll`);
      const forget = indexedDB.deleteDatabase(DEVICE_DB);
      forget.onsuccess = forget.onerror = forget.onblocked = leave;
    },
  }, t("common.sign_out"));
  nav.replaceChildren(who, viewLinks || "", langLinks, signOut);
}

/** Keep #conn showing live / reconnecting / offline and how old the data is. */
/**
 * The page's state from the server (`load` returns the seq it is as of) or, offline, from the
 * copy cached on this device (`restore` takes it). Null when this device's access was revoked.
 */
export async function loadOrRestore(view, load, restore) {
  const cached = snapshot.load(view);
  try {
    return { since: await load(), cached };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      revoked();
      return null;
    }
    if (!cached) throw err;
    restore(cached.data);
    return { since: cached.seq, cached };
  }
}

/**
 * Open the page's live stream from `since`: resend the outbox whenever it goes live, show the
 * connection state, and keep the age of cached data when starting offline.
 * @param {{view: string, since: number, onEvent: Function, onResync: Function, onProgress?: Function, cached?: any}} options
 */
export function startStream({ view, since, onEvent, onResync, onProgress, cached }) {
  const stream = new Stream({
    since,
    seqKey: SEQ_PREFIX + view,
    onEvent,
    onResync,
    onProgress,
    onUnauthorized: revoked,
    onState: (state) => {
      if (state === "live") outbox.flush({ now: true });
    },
  });
  if (cached && !navigator.onLine) stream.lastDataAt = cached.at;
  showConnection(stream);
  stream.start();
  return stream;
}

export function showConnection(stream) {
  const el = $("#conn");
  const label = h("span", { class: "conn-label" });
  const age = h("span", { class: "conn-age" });
  el.replaceChildren(h("span", { class: "dot", "aria-hidden": "true" }), label, age);
  const render = () => {
    const state = stream.state;
    el.dataset.state = state;
    label.textContent = t(`conn.${state}`);
    const secs = stream.ageSecs();
    const stale = state !== "live" && secs !== null && secs >= SHOW_AGE_AFTER_SECS;
    age.textContent = stale ? t("conn.age", { age: duration(secs) }) : "";
  };
  render();
  setInterval(render, 1000);
  const onState = stream.onState;
  stream.onState = (state) => {
    render();
    onState(state);
  };
  return render;
}

/**
 * Keep `el` listing what is waiting in the outbox (with its original time) and what the
 * server refused; `onChange(entries)` hears every change.
 * @param {HTMLElement} el
 * @param {{onChange?: (entries: Array<Record<string, any>>) => void, quiet?: string[]}} [options]
 */
export function showOutbox(el, { onChange, quiet = ["position"] } = {}) {
  outbox.subscribe((entries) => {
    const shown = entries.filter((e) => !quiet.includes(e.kind));
    const waiting = shown.filter((e) => e.state === "pending");
    const rejected = shown.filter((e) => e.state === "rejected");
    el.hidden = waiting.length + rejected.length === 0;
    el.replaceChildren(
      ...waiting.map((e) => h("li", { class: "ob ob-pending", dataset: { key: e.key } },
        h("span", { class: "ob-state" }, t("outbox.pending")),
        h("span", { class: "ob-label" }, e.label),
        h("time", { datetime: e.occurred_at }, time(e.occurred_at)))),
      ...rejected.map((e) => h("li", { class: "ob ob-rejected", dataset: { key: e.key } },
        h("span", { class: "ob-state" }, t("outbox.rejected")),
        h("span", { class: "ob-label" }, e.label),
        h("time", { datetime: e.occurred_at }, time(e.occurred_at)),
        h("span", { class: "ob-why" }, (e.problem && (e.problem.detail || e.problem.title)) || ""),
        h("button", { type: "button", class: "ob-dismiss", onclick: () => outbox.dismiss(e.n) }, t("outbox.dismiss")))),
    );
    if (onChange) onChange(entries);
  });
}

/** The incident a page follows: the open real one, else the newest open drill. */
export function pickIncident(incidents) {
  const open = incidents.filter((i) => !i.closed_at);
  return open.find((i) => !i.drill) || open.sort((a, b) => (a.opened_at < b.opened_at ? 1 : -1))[0] || null;
}

/** The site head: where a stream starts after a REST snapshot (events after it are news). */
export async function siteHead() {
  try {
    const ready = await api("/readyz");
    return ready.seq || 0;
  } catch {
    return 0;
  }
}

export const snapshot = {
  save(name, data, seq) {
    try {
      writeJson(SNAPSHOT_PREFIX + name, { data, seq, at: Date.now() });
    } catch {
      /* storage full: the snapshot is a convenience */
    }
  },
  load(name) {
    return readJson(SNAPSHOT_PREFIX + name, null);
  },
};

/** Ask the service worker to keep this page and everything it loaded for offline starts. */
export async function cacheForOffline(extra = []) {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  const urls = [
    location.pathname,
    ...performance.getEntriesByType("resource").map((entry) => entry.name),
    ...extra,
  ].filter((url) => {
    const u = new URL(url, location.href);
    return u.origin === location.origin && !u.pathname.startsWith("/api/") && u.pathname !== "/readyz";
  });
  const channel = new MessageChannel();
  const done = new Promise((resolve) => { channel.port1.onmessage = resolve; });
  registration.active.postMessage({ type: "cache", urls: [...new Set(urls)] }, [channel.port2]);
  await done;
  document.documentElement.dataset.offline = "ready";
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((err) => console.warn("konenut sw", err));
  addEventListener("load", () => cacheForOffline().catch((err) => console.warn("konenut cache", err)));
}

/** A drill is always marked as one (brief §3.6). */
export function showDrill(incident) {
  const banner = $("#drill");
  if (banner) banner.hidden = !(incident && incident.drill);
}

/** The person's display name: callsign for the squad, else name. */
export function personName(person) {
  if (!person) return "?";
  return person.callsign || person.name;
}
