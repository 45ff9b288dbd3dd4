// @ts-check
// Sighting photos: upload the picture itself (the server strips EXIF and keeps it by its hash)
// and show stored ones; both need the device token, so images load through fetch.
import { getToken } from "./api.js";
import { h } from "./dom.js";

const UPLOAD_TIMEOUT_MS = 60000; // 5 MB over a weak 3G link
const loaded = new Map(); // photo id -> Promise of an object URL

function authorised(extra = {}) {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** Upload one image file; resolves with its photo id. */
export async function uploadPhoto(path, file) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), UPLOAD_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      method: "POST", body: file, signal: controller.signal,
      headers: authorised({ "Content-Type": file.type || "application/octet-stream", Accept: "application/json" }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
    return body.photo_id;
  } finally {
    clearTimeout(timer);
  }
}

function photoUrl(id) {
  if (!loaded.has(id)) {
    loaded.set(id, fetch(`/api/v1/photos/${id}`, { headers: authorised() })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((blob) => URL.createObjectURL(blob))
      .catch((err) => { loaded.delete(id); throw err; }));
  }
  return loaded.get(id);
}

/** A row of thumbnails (each opens full size in a new tab); null when there are none. */
export function photoStrip(ids, alt) {
  if (!ids || !ids.length) return null;
  return h("div", { class: "photo-strip" }, ...ids.map((id) => {
    const img = h("img", { class: "photo", alt, dataset: { photo: id }, loading: "lazy" });
    const link = h("a", { target: "_blank", rel: "noopener" }, img);
    photoUrl(id).then((url) => { img.src = url; link.href = url; }).catch(() => img.classList.add("missing"));
    return link;
  }));
}
