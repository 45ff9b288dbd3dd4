// @ts-check
// How old a sighting is, in one place: fresh (< 2 min), recent (< 10 min), old. The map
// fades markers by these classes and labels them "seen N min ago" (issue 6).
import { ageSecs, duration, t } from "./i18n.js";

export const FRESH_SECS = 120;
export const RECENT_SECS = 600;
export const AGE_TICK_MS = 15000; // labels move on every 15 s; markers are not redrawn

/** When the group was last seen: its track's last point, else its report. */
export const lastSeen = (s) => s.last_seen_at || s.updated_at || s.reported_at;

/** "fresh", "recent" or "old". */
export function ageClass(s) {
  const secs = ageSecs(lastSeen(s));
  return secs < FRESH_SECS ? "fresh" : secs < RECENT_SECS ? "recent" : "old";
}

/** "seen 3 min ago" in the page's language. */
export const seenAgo = (s) => t("sighting.seen_ago", { ago: duration(ageSecs(lastSeen(s))) });
