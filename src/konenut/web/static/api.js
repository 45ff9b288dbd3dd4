// @ts-check
// REST calls with the device token, and RFC 9457 problems turned into errors.
import { TOKEN_KEY } from "./storage.js";

const REQUEST_TIMEOUT_MS = 15000; // a 3G request that takes longer is retried, not awaited

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** The request never got an answer (offline, timeout, server down). */
export class NetworkError extends Error {}

export const getToken = () => localStorage.getItem(TOKEN_KEY);

/** An enrollment or pass code as printed or typed ("abcd-efgh") in its canonical form. */
export const bareCode = (text) => text.replace(/[^A-Za-z0-9]/g, "").toUpperCase();

/**
 * One HTTP request; resolves with the Response (any status), rejects with NetworkError.
 * @param {string} method
 * @param {string} path
 * @param {{body?: unknown, key?: string, timeoutMs?: number}} [options]
 * @returns {Promise<Response>}
 */
export async function request(method, path, { body, key, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) headers["Idempotency-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (err) {
    throw new NetworkError(String(err && err.message ? err.message : err));
  } finally {
    clearTimeout(timer);
  }
}

export async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText || `HTTP ${response.status}`, status: response.status };
  }
}

/** GET (or another method) and parse JSON; ApiError for a 4xx/5xx answer. */
export async function api(path, options = {}) {
  const response = await request(options.method || "GET", path, options);
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response.status === 204 ? null : response.json();
}

/** All pages of a log read (`/events?since=`), in seq order: every page is full but the last
 * (`next_since` null), which says how far the log was read. */
export async function readLog(path, since) {
  const events = [];
  let cursor = since;
  for (;;) {
    const page = await api(`${path}?since=${cursor}&limit=1000`);
    events.push(...page.events);
    if (page.next_since === null) return { events, next: Math.max(cursor, page.read_to_seq) };
    if (page.next_since <= cursor) return { events, next: cursor };
    cursor = page.next_since;
  }
}

/** A random UUID, also outside secure contexts (plain HTTP on a LAN). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
