// @ts-check
// Everything this app keeps on the device, named once: localStorage keys and IndexedDB
// databases. The service worker cannot import modules and names the two databases again
// (templates/sw.js).
export const TOKEN_KEY = "konenut.token"; // the device token
export const ME_KEY = "konenut.me"; // /me as last read, for a start without a connection
export const HOME_KEY = "konenut.home"; // the page this device opens at start
export const LANG_KEY = "konenut.lang"; // the language the user chose
export const ENROLL_KEY_PREFIX = "konenut.enroll-key."; // + code: a retried enrollment reuses its key
export const JOIN_KEY = "konenut.join-key"; // {body, key}: a retried join form reuses its key
export const CAUTIONS_DISMISSED_KEY = "konenut.cautions-dismissed"; // caution ids swiped away
export const MAP_LAYERS_KEY = "konenut.map.layers"; // what the map shows, as chosen
export const MUSTER_SEEN_KEY = "konenut.muster-seen"; // muster ids this responder has seen
export const SHARE_LOCATION_KEY = "konenut.share-location"; // "on" | "off"
export const SNAPSHOT_PREFIX = "konenut.snapshot."; // + view: the picture last read
export const SEQ_PREFIX = "konenut.seq."; // + view: the last seq of the live stream
export const DEVICE_DB = "konenut-device"; // IndexedDB: the token's copy for the service worker
export const OUTBOX_DB = "konenut"; // IndexedDB: the outbox of commands not yet confirmed

/**
 * The JSON value stored under `key`, or `fallback` when there is none.
 * @template T
 * @param {string} key
 * @param {T} fallback
 * @returns {T}
 */
export function readJson(key, fallback) {
  const text = localStorage.getItem(key);
  return text === null ? fallback : JSON.parse(text);
}

/**
 * Store `value` as JSON under `key`.
 * @param {string} key
 * @param {unknown} value
 */
export function writeJson(key, value) {
  localStorage.setItem(key, JSON.stringify(value));
}

/** Forget who this device is (sign-out): its token, identity, start page and snapshots. */
export function forgetDevice() {
  for (const key of [TOKEN_KEY, ME_KEY, HOME_KEY]) localStorage.removeItem(key);
  Object.keys(localStorage).filter((k) => k.startsWith(SNAPSHOT_PREFIX)).forEach((k) => localStorage.removeItem(k));
}
