// Konenut service worker (served at /sw.js, scope "/"). It keeps the app shell — the pages a
// device has opened and the assets they loaded — so that a page opens with no connection.
// Live data (/api/...) never comes from a cache: the pages keep their own last snapshot.
const BUILD = "__BUILD__";
const CACHE = `konenut-${BUILD}`;
const STATIC = "__STATIC__";
const LEAFLET = "__LEAFLET__";
const NAVIGATION_TIMEOUT_MS = 6000; // a page slower than this on 3G comes from the cache

self.addEventListener("install", (event) => {
  // The start page and its scripts; a failure here must not stop the worker installing.
  const shell = ["/", `${STATIC}/start.js`, `${STATIC}/views.js`, `${STATIC}/storage.js`];
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.allSettled(shell.map((url) => cache.add(url)))));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("konenut-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// A page asks: "keep these URLs" (itself and what it loaded), then hears back when done.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "cache") return;
  const port = event.ports[0];
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all((data.urls || []).map(async (url) => {
      const path = new URL(url, self.location.origin).pathname;
      if (!path.startsWith(STATIC) && !path.startsWith(LEAFLET) && (await cache.match(url))) return;
      try {
        await cache.add(new Request(url, { credentials: "same-origin" }));
      } catch (err) {
        console.warn("konenut sw: could not keep", url, err);
      }
    }));
    if (port) port.postMessage("cached");
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/readyz" || url.pathname === "/sw.js") return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(request, response.clone());
    return response;
  });
  const slow = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), NAVIGATION_TIMEOUT_MS));
  try {
    return await Promise.race([network, slow]);
  } catch {
    const copy = await cache.match(request, { ignoreSearch: true });
    return copy || network; // no copy: wait for the network after all, or fail as it fails
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

// --- Web Push: the squad call on a locked phone ----------------------------------------------
// Payload (notify/webpush.py): {title, body, lang, ack_url, tag, data: {kind: "muster",
// incident_id, muster_id}}. The "Coming" / "Cannot come" buttons are labelled from the
// catalogues, embedded here by the server in every language (web/routes.py), so the payload
// stays small and a button is in the language of the text above it.
const ANSWER_LABELS = __ANSWER_LABELS__;
const ANSWER_ACTIONS = ["coming", "cannot"];
const RTL = ["he", "ar"];
const DEVICE_DB = "konenut-device"; // the page keeps a copy of its token here (static/storage.js)
const OUTBOX_DB = "konenut"; // the pages' outbox (static/storage.js)

/** waitUntil, which a synthetic event (a test's dispatchEvent) does not allow. */
function keepAlive(event, promise) {
  try {
    event.waitUntil(promise);
  } catch {
    /* not a browser-dispatched event: the work runs all the same */
  }
  return promise;
}

function readPayload(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch {
    return { body: event.data.text() };
  }
}

self.addEventListener("push", (event) => {
  const payload = readPayload(event);
  const lang = ANSWER_LABELS[payload.lang] ? payload.lang : "en";
  const labels = ANSWER_LABELS[lang];
  const data = { ...(payload.data || {}), ack_url: payload.ack_url || "/" };
  const answerable = data.kind === "muster" && Boolean(data.incident_id);
  keepAlive(event, self.registration.showNotification(payload.title || labels.app, {
    body: payload.body || "",
    lang,
    dir: RTL.includes(lang) ? "rtl" : "ltr",
    tag: payload.tag || undefined,
    renotify: Boolean(payload.tag),
    requireInteraction: true,
    icon: `${STATIC}/icons/icon-192.png`,
    // A broadcast reaches a household hiding in a safe room: it must make no sound.
    silent: data.kind === "broadcast",
    vibrate: data.kind === "broadcast" ? [] : [300, 100, 300, 100, 300],
    data,
    actions: answerable ? ANSWER_ACTIONS.map((action) => ({ action, title: labels[action] })) : [],
  }));
});

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  const data = notification.data || {};
  notification.close();
  keepAlive(event, (async () => {
    if (data.kind === "muster" && data.incident_id) {
      const base = `/api/v1/incidents/${data.incident_id}/muster`;
      const title = (action) => (ANSWER_LABELS[notification.lang] || ANSWER_LABELS.en)[action];
      // Seen first: once answered, the server has no use for "seen".
      await command(`${base}/seen`, { muster_id: data.muster_id, via: "notification" }, "seen", title("seen"));
      if (ANSWER_ACTIONS.includes(event.action)) {
        await command(`${base}/status`, { status: event.action, via: "push" }, "status", title(event.action));
      }
    }
    await openPage(data.ack_url || "/");
  })().catch((err) => console.warn("konenut sw: notification click", err)));
});

function idb(name, upgrade) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => upgrade(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function deviceToken() {
  const db = await idb(DEVICE_DB, (d) => d.createObjectStore("kv"));
  try {
    return await new Promise((resolve, reject) => {
      const req = db.transaction("kv").objectStore("kv").get("token");
      req.onsuccess = () => resolve(req.result || null);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

async function forgetToken() {
  const db = await idb(DEVICE_DB, (d) => d.createObjectStore("kv"));
  await new Promise((resolve) => {
    const tx = db.transaction("kv", "readwrite");
    tx.objectStore("kv").delete("token");
    tx.oncomplete = resolve;
    tx.onerror = resolve;
  });
  db.close();
}

/**
 * POST a command with the device's token. Without an answer (no signal, server restarting)
 * it goes into the pages' outbox with the same Idempotency-Key, and the page sends it when
 * it opens; a refusal (4xx) is dropped, as the page would show it rejected.
 */
async function command(path, body, kind, label) {
  const token = await deviceToken();
  if (!token) return;
  const key = self.crypto.randomUUID();
  const occurred_at = new Date().toISOString();
  const full = { ...body, occurred_at };
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key },
      body: JSON.stringify(full),
    });
    if (response.status === 401) await forgetToken(); // revoked: this copy is useless now
    if (response.status < 500 && response.status !== 408 && response.status !== 429) return;
  } catch {
    /* no answer: queue it below */
  }
  const db = await idb(OUTBOX_DB, (d) => d.createObjectStore("outbox", { keyPath: "n", autoIncrement: true }));
  await new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", "readwrite");
    tx.objectStore("outbox").add({
      key, method: "POST", path, body: full, occurred_at, label: label || kind, kind, coalesce: null,
      state: "pending", attempts: 0, created_at: Date.now(),
    });
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

async function openPage(url) {
  const target = new URL(url, self.location.origin);
  const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = open.find((c) => new URL(c.url).pathname === target.pathname);
  try {
    if (same) await same.focus();
    else await self.clients.openWindow(target.href);
  } catch {
    /* only a user's click may open or focus a window */
  }
}
