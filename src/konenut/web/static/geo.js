// @ts-check
// When this phone tells the squad where it is (issue 6): every few seconds while moving, once a
// minute while still, at once on a big move or a turn, half as often on a low battery that is
// not charging. `shouldSend` is the whole rule, pure, so a test can ask it directly.
export const MOVING_EVERY_SECS = 3;
export const STILL_EVERY_SECS = 60;
export const STILL_WITHIN_M = 10; // moved less than this (or than the fix's accuracy): still
export const MOVING_SPEED_MPS = 1; // a device that says it moves this fast is moving
export const BIG_MOVE_M = 25;
export const TURN_DEG = 45;
export const LOW_BATTERY = 0.2;
export const RECHECK_MS = 15000; // a still phone gets no new fixes: ask the rule again anyway

/** Metres between two {lat, lon} (equirectangular: exact enough within a site). */
export function metres(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.hypot(x, y) * 6371000;
}

/** Compass bearing from a to b, 0 <= deg < 360. */
export function bearing(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * Math.cos(((a.lat + b.lat) / 2) * rad);
  const deg = Math.atan2(x, b.lat - a.lat) / rad;
  return (deg + 360) % 360;
}

function turn(a, b) {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/** The fix with a heading: the device's own, else the bearing from the previous fix when the
 * move between them is more than the noise. */
export function withHeading(previous, fix) {
  if (fix.heading_deg != null || !previous) return fix;
  const noise = Math.max(STILL_WITHIN_M, fix.accuracy_m || 0);
  if (metres(previous, fix) < noise) return { ...fix, heading_deg: previous.heading_deg ?? null };
  return { ...fix, heading_deg: Math.round(bearing(previous, fix)) % 360 };
}

/** Whether to send `fix` now. `last`: the fix last sent (or null), `now` in ms, `battery`:
 * {level 0..1, charging} or null when the browser does not tell. Fixes: {lat, lon, accuracy_m,
 * heading_deg, speed_mps, at}. */
export function shouldSend(last, fix, now, battery = null) {
  if (!last) return true;
  const moved = metres(last, fix);
  if (moved > BIG_MOVE_M) return true;
  const secs = (now - last.at) / 1000;
  const slower = battery && !battery.charging && battery.level <= LOW_BATTERY ? 2 : 1;
  const moving = (fix.speed_mps || 0) >= MOVING_SPEED_MPS || moved >= Math.max(STILL_WITHIN_M, fix.accuracy_m || 0);
  if (!moving) return secs >= STILL_EVERY_SECS * slower;
  if (last.heading_deg != null && fix.heading_deg != null && turn(last.heading_deg, fix.heading_deg) >= TURN_DEG) return true;
  return secs >= MOVING_EVERY_SECS * slower;
}

/** The battery as the rule wants it, kept current; {level, charging} or null. */
export function watchBattery() {
  /** @type {{now: {level: number, charging: boolean} | null}} */
  const state = { now: null };
  // The Battery Status API: Chromium's, not in every browser (nor in TypeScript's DOM types).
  const nav = /** @type {Navigator & {getBattery?: () => Promise<any>}} */ (navigator);
  if (typeof nav.getBattery !== "function") return state;
  nav.getBattery().then((battery) => {
    const read = () => { state.now = { level: battery.level, charging: battery.charging }; };
    read();
    battery.addEventListener("levelchange", read);
    battery.addEventListener("chargingchange", read);
  }).catch(() => {});
  return state;
}
