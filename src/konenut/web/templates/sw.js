// Konenut service worker (served at /sw.js, scope "/"). It keeps the app shell — the pages a
// device has opened and the assets they loaded — so that a page opens with no connection.
// Live data (/api/...) never comes from a cache: the pages keep their own last snapshot.
const BUILD = "__BUILD__";
const CACHE = `konenut-${BUILD}`;
const STATIC = "__STATIC__";
const LEAFLET = "__LEAFLET__";
const NAVIGATION_TIMEOUT_MS = 6000; // a page slower than this on 3G comes from the cache

self.addEventListener("install", (event) => {
  // The start page and its two scripts; a failure here must not stop the worker installing.
  const shell = ["/", `${STATIC}/start.js`, `${STATIC}/views.js`];
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
