// @ts-check
// The offline outbox (contracts §3): every command a page sends goes into IndexedDB first,
// with its Idempotency-Key and its original device time, and is resent — with the same key —
// until the server answers. A reload or a browser restart does not lose it.
//
// Entry: {n, key, method, path, body, occurred_at, label, kind, coalesce, state, attempts,
//         error, problem, result, created_at, answered_at}
// state: "pending" (not confirmed yet) -> "sent" (2xx) | "rejected" (4xx but 408/429).
import { problemOf, request, uuid } from "./api.js";
import { OUTBOX_DB } from "./storage.js";

const DB_VERSION = 1;
const STORE = "outbox";
const LOCK = "konenut.outbox"; // one tab sends at a time (the key makes a double send harmless)
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000; // even after a long outage, retry at least every ~30 s
const KEEP_SENT_MS = 15 * 60 * 1000; // confirmed entries stay visible for a while, then go

let database = null;
const listeners = new Set();
const confirmListeners = new Set();
const channel = "BroadcastChannel" in self ? new BroadcastChannel(LOCK) : null;
let flushing = false;
let again = false;
let timer = null;
let backoffMs = RETRY_MIN_MS;

function open() {
  if (database) return database;
  database = new Promise((resolve, reject) => {
    const req = indexedDB.open(OUTBOX_DB, DB_VERSION);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "n", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return database;
}

async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Every entry, oldest first. */
export const entries = () => run("readonly", (store) => store.getAll());
const get = (n) => run("readonly", (store) => store.get(n));
const put = (entry) => run("readwrite", (store) => store.put(entry));
const remove = (n) => run("readwrite", (store) => store.delete(n));

function changed(broadcast = true) {
  entries().then((all) => listeners.forEach((fn) => fn(all)));
  if (broadcast && channel) channel.postMessage("changed");
}
if (channel) channel.onmessage = () => changed(false);

/** Call `fn(entries)` now and whenever the outbox changes (also in another tab). */
export function subscribe(fn) {
  listeners.add(fn);
  entries().then(fn);
  return () => listeners.delete(fn);
}

/** Call `fn(entry)` when this tab gets the server's confirmation of an entry. */
export function onConfirmed(fn) {
  confirmListeners.add(fn);
}

/**
 * Queue a command and start sending. `body.occurred_at` is set to now unless given, so a
 * resend hours later still says when it happened. `coalesce`: a newer entry with the same
 * tag replaces the older ones still waiting (positions: only the latest matters).
 * @param {{method?: string, path: string, body?: Record<string, any>, label?: string, kind?: string, coalesce?: string | null}} command
 */
export async function send({ method = "POST", path, body = {}, label = "", kind = "", coalesce = null }) {
  const occurred_at = body.occurred_at || new Date().toISOString();
  const entry = {
    key: uuid(), method, path, body: { ...body, occurred_at }, occurred_at, label, kind, coalesce,
    state: "pending", attempts: 0, created_at: Date.now(),
  };
  if (coalesce) {
    for (const old of await entries()) {
      if (old.coalesce === coalesce && old.state === "pending") await remove(old.n);
    }
  }
  entry.n = await put(entry);
  changed();
  flush();
  return entry;
}

/** Forget a rejected (or confirmed) entry once the user has seen it. */
export async function dismiss(n) {
  await remove(n);
  changed();
}

/** Try to send everything pending now (after "online", a reconnect, a new entry). */
export function flush({ now = false } = {}) {
  if (now) backoffMs = RETRY_MIN_MS;
  if (flushing) {
    again = true;
    return;
  }
  flushing = true;
  clearTimeout(timer);
  const work = () => drain().catch((err) => console.error("konenut outbox", err));
  const locked = navigator.locks ? navigator.locks.request(LOCK, work) : work();
  locked.finally(() => {
    flushing = false;
    if (again) {
      again = false;
      flush();
    }
  });
}

async function drain() {
  for (;;) {
    const all = await entries();
    await purge(all);
    const next = all.find((e) => e.state === "pending");
    if (!next) {
      backoffMs = RETRY_MIN_MS;
      return;
    }
    let response;
    try {
      response = await request(next.method, next.path, { body: next.body, key: next.key });
    } catch (err) {
      return retryLater(next, String(err.message || err));
    }
    const status = response.status;
    if (status >= 500 || status === 408 || status === 429) {
      const after = Number(response.headers.get("Retry-After"));
      return retryLater(next, `HTTP ${status}`, after > 0 ? after * 1000 : undefined);
    }
    const current = await get(next.n);
    if (!current) continue; // replaced by a newer coalesced entry meanwhile
    current.attempts += 1;
    current.answered_at = new Date().toISOString();
    if (response.ok) {
      current.state = "sent";
      current.replayed = response.headers.get("Idempotent-Replayed") === "true";
      current.result = await response.json().catch(() => null);
      delete current.error;
    } else {
      current.state = "rejected";
      current.problem = await problemOf(response);
    }
    await put(current);
    backoffMs = RETRY_MIN_MS;
    changed();
    if (current.state === "sent") confirmListeners.forEach((fn) => fn(current));
  }
}

async function retryLater(entry, error, afterMs) {
  const current = await get(entry.n);
  if (current) {
    current.attempts += 1;
    current.error = error;
    current.last_try_at = new Date().toISOString();
    await put(current);
    changed();
  }
  // Jitter, so that phones coming back from one outage do not all knock at once.
  const delay = afterMs ?? backoffMs * (0.5 + Math.random());
  backoffMs = Math.min(RETRY_MAX_MS, backoffMs * 2);
  clearTimeout(timer);
  timer = setTimeout(flush, delay);
}

async function purge(all) {
  const old = Date.now() - KEEP_SENT_MS;
  for (const e of all) {
    if (e.state === "sent" && Date.parse(e.answered_at) < old) await remove(e.n);
  }
}

addEventListener("online", () => flush({ now: true }));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") flush({ now: true });
});
flush();
