// @ts-check
// The muster, shared by the commander's console and the responder's phone: the board read
// over REST (GET /incidents/{id}/muster) and re-read, debounced, when the stream says
// something changed; counts grouped the way a squad leader reads them; the device token
// copied where the service worker can read it (its push actions answer with it).
import { api, getToken } from "./api.js";
import { lang, messages, num, t } from "./i18n.js";
import { DEVICE_DB } from "./storage.js";

const REFETCH_DEBOUNCE_MS = 300; // a burst of answers costs one read
const NOT_REACHED_MARGIN_MS = 1000; // read a little after "not reached" is due, never before
// Stream events after which the board is stale.
const BOARD_EVENTS = /^(muster\.|responder\.status_changed|notification\.|asset\.|volunteer\.|position\.reported|person\.added)/;

// The board's states, grouped into what a leader decides on. "Not reached": the escalation
// chain is over and they have not seen the call; "wounded" feeds the casualties, not "cannot".
export const GROUPS = {
  coming: ["coming", "en_route"],
  arrived: ["at_rally_point", "in_position"],
  seen: ["seen"],
  unseen: ["not_notified", "notified", "delivered"],
  not_reached: ["not_reached"],
  cannot: ["cannot", "out"],
  wounded: ["wounded"],
};
export const UNSEEN = new Set(GROUPS.unseen);
// Who has not seen the call, with every channel tried on them.
export const NOT_SEEN = new Set([...GROUPS.unseen, ...GROUPS.not_reached]);
export const ARRIVING = new Set([...GROUPS.coming, ...GROUPS.arrived]);

/** The words for a board state (answers share the status.* words). */
export function stateLabel(state) {
  if (state === "not_notified") return t("muster.state.not_notified");
  if (state === "notified") return t("muster.state.notified");
  if (state === "delivered") return t("muster.state.delivered");
  if (state === "not_reached") return t("muster.state.not_reached");
  return t(`status.${state}`);
}

/** How many people are in each group of `GROUPS`. */
export function groupCounts(board) {
  const counts = {};
  for (const [group, states] of Object.entries(GROUPS)) {
    counts[group] = states.reduce((sum, s) => sum + ((board && board.counts[s]) || 0), 0);
  }
  return counts;
}

/** "5 coming · 2 cannot · 4 not answered · 1 wounded" — what everyone in the squad sees. */
export function squadLine(board) {
  const n = groupCounts(board);
  const line = t("muster.ui.squad_line", {
    coming: num(n.coming + n.arrived), cannot: num(n.cannot), waiting: num(n.unseen + n.seen + n.not_reached),
  });
  return n.wounded ? `${line} · ${t("muster.ui.squad_wounded", { n: num(n.wounded) })}` : line;
}

/** A delivery failure's reason in the page's language when it is one the server words the same
 * every time ("no push subscription"); a provider's own words as they came. */
export function failureText(reason) {
  const key = `muster.ui.reason.${reason.toLowerCase().replace(/[^a-z]+/g, "_").replace(/^_|_$/g, "")}`;
  return key in messages ? messages[key] : reason;
}

/** The template's text in the page's language (else English, else any). */
export function templateText(template, lang) {
  if (!template) return "";
  const texts = template.texts || {};
  return texts[lang] || texts.en || Object.values(texts)[0] || template.id;
}

/**
 * Keep the board of `incidentId()` fresh: `refresh()` reads it now, `onEvent(event)` reads it
 * again shortly after a relevant event. `show(board)` gets every new board.
 */
export function boardFeed(incidentId, show) {
  let timer = null;
  let running = null;
  let again = false;
  const refresh = async () => {
    const id = incidentId();
    if (!id) return show(null);
    if (running) {
      again = true;
      return running;
    }
    running = api(`/api/v1/incidents/${id}/muster`)
      .then((b) => {
        show(b);
        rereadWhenNotReached(b);
      })
      .catch((err) => console.warn("konenut: muster board", err))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          refresh();
        }
      });
    return running;
  };
  const onEvent = (event) => {
    if (!BOARD_EVENTS.test(event.type)) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, REFETCH_DEBOUNCE_MS);
  };
  // "Not reached" comes with time, not with an event: read the board again when it is due
  // (counted on the server's clock: from the board's as_of, not the device's time).
  let notReachedTimer = null;
  const rereadWhenNotReached = (b) => {
    clearTimeout(notReachedTimer);
    const dueMs = b && b.not_reached_at ? Date.parse(b.not_reached_at) - Date.parse(b.as_of) : -1;
    if (dueMs > 0) notReachedTimer = setTimeout(refresh, dueMs + NOT_REACHED_MARGIN_MS);
  };
  return { refresh, onEvent };
}

// --- the token, for the service worker ----------------------------------------------------
// localStorage is out of a service worker's reach; IndexedDB is not. The copy follows the
// page's token: written while enrolled, removed when the device has none.
const DEVICE_STORE = "kv";

function deviceDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DEVICE_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(DEVICE_STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function shareTokenWithServiceWorker() {
  const token = getToken();
  const db = await deviceDb();
  await new Promise((resolve, reject) => {
    const tx = db.transaction(DEVICE_STORE, "readwrite");
    if (token) tx.objectStore(DEVICE_STORE).put(token, "token");
    else tx.objectStore(DEVICE_STORE).delete("token");
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

// --- Web Push ---------------------------------------------------------------------------------
function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/**
 * Ask for notification permission (call from a user gesture) and subscribe this device to
 * Web Push with the site's VAPID key; the server learns the endpoint and keys. Resolves with
 * true when subscribed.
 */
export async function subscribePush() {
  if (!("serviceWorker" in navigator) || !("PushManager" in self) || !("Notification" in self)) return false;
  const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  if (permission !== "granted") return false;
  const registration = await navigator.serviceWorker.ready;
  const { application_server_key: key } = await api("/api/v1/push/key");
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription = subscription || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  const json = subscription.toJSON();
  // The page's language goes with it: pushes to this device are written in it.
  await api("/api/v1/push/subscription", {
    method: "PUT",
    key: `push-${json.endpoint.slice(-48)}-${json.keys.p256dh.slice(0, 16)}-${lang}`,
    body: { endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth, lang },
  });
  return true;
}

function sameKey(subscription, key) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true;
  const a = new Uint8Array(current);
  const b = keyBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
