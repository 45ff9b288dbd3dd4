// @ts-check
// The page's copy of the server's sighting fold (domain/state/sightings.py): a report starts a track,
// a move extends it, a merge folds a duplicate into its group.
const THREAT = { friendly_unknown: 0, unknown: 1, hostile: 2 };

/** A sighting as a sighting.reported event makes it. */
export function reportedSighting(p, location, at, reporter) {
  return {
    ...p, photo_ids: p.photo_ids || [], status: "reported", location, reported_at: at, updated_at: at,
    reporter, track: [{ location, at }], last_seen_at: at, merged_from: [],
  };
}

function retrack(s, points) {
  s.track = [...(s.track || []), ...points].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const last = s.track[s.track.length - 1];
  s.location = last.location;
  s.last_seen_at = last.at;
}

function merge(duplicate, into) {
  into.merged_from = [...(into.merged_from || []), duplicate.sighting_id, ...(duplicate.merged_from || [])];
  into.count = Math.max(into.count || 1, duplicate.count || 1);
  if ((THREAT[duplicate.category] || 0) > (THREAT[into.category] || 0)) into.category = duplicate.category;
  if (duplicate.armed) into.armed = true;
  into.vehicle = Boolean(into.vehicle || duplicate.vehicle);
  into.photo_ids = [...(into.photo_ids || []), ...(duplicate.photo_ids || []).filter((id) => !(into.photo_ids || []).includes(id))];
  retrack(into, duplicate.track || []);
}

/** Apply a sighting.updated event to the map of sightings; false if it names none. */
export function applySightingUpdate(sightings, p, location, at) {
  const sighting = sightings.get(p.sighting_id);
  if (!sighting) return false;
  Object.assign(sighting, { status: p.status, updated_at: at });
  if (p.merged_into) sighting.merged_into = p.merged_into;
  if (p.count) sighting.count = p.count;
  if (location) retrack(sighting, [{ location, at }]);
  const into = p.status === "merged" ? sightings.get(p.merged_into) : null;
  if (into && into !== sighting) merge(sighting, into);
  return true;
}
