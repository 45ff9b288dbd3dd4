// @ts-check
// The live stream client (docs/stream.md): one WebSocket, token in the first message, resume
// from the last seq, reconnect with backoff and jitter, pong to every ping. When the WebSocket
// cannot be had (a proxy that drops upgrades, an older server), it polls
// /api/v1/site/events?since= instead, and keeps trying the WebSocket now and then.
import { ApiError, api, getToken } from "./api.js";

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000; // 5,000 phones back from an outage spread over ~30 s
const POLL_INTERVAL_MS = 3000; // REST fallback: how often to ask for news
const FAILURES_BEFORE_POLLING = 2; // WebSocket attempts that never said hello
const DEFAULT_HEARTBEAT_SECS = 25;
const MISSED_HEARTBEATS = 2.5; // silent this many heartbeats: the connection is dead
const SEQ_SAVE_MS = 1000;
const UNAUTHORIZED = 4401;

export class Stream {
  /**
   * since: the seq of the data the page shows; onEvent(event); onResync(); onState(state)
   * with state one of "connecting", "live", "reconnecting", "offline", "unauthorized";
   * onProgress(message): a broadcast's delivery counts (docs/stream.md), not an event.
   * @param {{since?: number, seqKey?: string, onEvent?: Function, onResync?: Function, onState?: Function, onUnauthorized?: Function, onProgress?: Function}} options
   */
  constructor({ since, seqKey, onEvent, onResync, onState, onUnauthorized, onProgress }) {
    this.since = since || 0;
    this.seqKey = seqKey;
    this.onEvent = onEvent || (() => {});
    this.onProgress = onProgress || (() => {});
    this.onResync = onResync || (() => {});
    this.onState = onState || (() => {});
    this.onUnauthorized = onUnauthorized || (() => {});
    this.state = "connecting";
    this.mode = "ws";
    this.lastDataAt = null;
    this.ws = null;
    this.wsLive = false; // the open WebSocket has said "live"
    this.failures = 0;
    this.delayMs = RECONNECT_MIN_MS;
    this.heartbeatMs = DEFAULT_HEARTBEAT_SECS * 1000;
    this.timers = {};
    this.stopped = false;
    this.held = null; // events held back while the page reloads (holdWhile)
  }

  start() {
    addEventListener("online", () => {
      // A WebSocket that stayed up through the outage is still live; anything else retries.
      if (this.ws && this.ws.readyState === WebSocket.OPEN && this.wsLive) this.setState("live");
      else this.retryNow();
    });
    addEventListener("offline", () => this.setState("offline"));
    if (!navigator.onLine) this.setState("offline");
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    Object.values(this.timers).forEach(clearTimeout);
    if (this.ws) this.ws.close(1000);
  }

  /** The age of the newest data, in seconds (null: never had any). */
  ageSecs() {
    return this.lastDataAt === null ? null : (Date.now() - this.lastDataAt) / 1000;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  advance(seq) {
    if (typeof seq !== "number" || seq <= this.since) return;
    this.since = seq;
    if (this.seqKey && !this.timers.save) {
      this.timers.save = setTimeout(() => {
        delete this.timers.save;
        localStorage.setItem(this.seqKey, String(this.since));
      }, SEQ_SAVE_MS);
    }
  }

  deliver(event) {
    if (this.held) this.held.push(event);
    else this.onEvent(event);
  }

  /**
   * Run `load` (the page re-reading its picture over REST) with the live events held back, and
   * hand them over once it is done. Events that arrive while the snapshot is read would
   * otherwise be folded into the old picture that the snapshot then replaces: a check-in or an
   * instruction sent in the same second as "incident opened" would be lost from the page.
   * Pages fold an event twice harmlessly, so those the snapshot already holds do no harm.
   */
  async holdWhile(load) {
    if (this.held) return load(); // the outer hold hands over what arrives
    this.held = [];
    try {
      return await load();
    } finally {
      const held = this.held;
      this.held = null;
      for (const event of held) this.onEvent(event);
    }
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timers.reconnect);
    if (this.state !== "live" && this.state !== "offline") this.setState(this.lastDataAt ? "reconnecting" : "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/api/v1/stream?since=${this.since}`);
    } catch {
      this.closed(null, false);
      return;
    }
    this.ws = ws;
    let greeted = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: getToken() }));
    ws.onmessage = (message) => {
      let msg;
      try {
        msg = JSON.parse(message.data);
      } catch {
        return;
      }
      if (msg.type === "hello") greeted = true;
      this.handle(msg);
    };
    ws.onclose = (event) => this.closed(event, greeted);
  }

  handle(msg) {
    this.lastDataAt = Date.now();
    this.watchdog();
    const type = String(msg.type || "");
    if (type.includes(".")) {
      if (msg.seq <= this.since) return; // seen already (the poller got it first)
      this.advance(msg.seq);
      this.deliver(msg);
      return;
    }
    switch (type) {
      case "hello":
        this.failures = 0;
        this.delayMs = RECONNECT_MIN_MS;
        this.mode = "ws";
        this.stopPolling();
        if (msg.heartbeat_secs > 0) this.heartbeatMs = msg.heartbeat_secs * 1000;
        break;
      case "live":
        this.advance(msg.seq);
        this.wsLive = true;
        if (navigator.onLine) this.setState("live");
        break;
      case "coalesced":
        this.advance(msg.seq);
        break;
      case "resync":
        this.advance(msg.seq);
        this.onResync();
        break;
      case "ping":
        this.ws?.send(JSON.stringify({ type: "pong" }));
        break;
      case "progress": // counts as of its seq; the page's `since` stays where its events are
        this.onProgress(msg);
        break;
      default:
        break;
    }
  }

  /** A connection that stays silent longer than the heartbeat promises is dead: reconnect. */
  watchdog() {
    clearTimeout(this.timers.watchdog);
    if (!this.ws) return;
    const ws = this.ws;
    this.timers.watchdog = setTimeout(() => ws.close(4000, "no heartbeat"), this.heartbeatMs * MISSED_HEARTBEATS);
  }

  closed(event, greeted) {
    clearTimeout(this.timers.watchdog);
    this.ws = null;
    this.wsLive = false;
    if (this.stopped) return;
    if (event && event.code === UNAUTHORIZED) {
      this.unauthorized();
      return;
    }
    if (!greeted) this.failures += 1;
    if (this.mode !== "poll") this.setState(navigator.onLine ? "reconnecting" : "offline");
    if (this.failures >= FAILURES_BEFORE_POLLING) this.startPolling();
    // Backoff with jitter: x0.5..x1.5 of a delay that doubles up to RECONNECT_MAX_MS.
    const delay = this.delayMs * (0.5 + Math.random());
    this.delayMs = Math.min(RECONNECT_MAX_MS, this.delayMs * 2);
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }

  unauthorized() {
    this.stopped = true;
    this.stopPolling();
    this.setState("unauthorized");
    this.onUnauthorized();
  }

  retryNow() {
    if (this.stopped) return;
    this.delayMs = RECONNECT_MIN_MS;
    if (this.mode === "poll") this.poll();
    if (!this.ws) this.connect();
  }

  startPolling() {
    if (this.mode === "poll") return;
    this.mode = "poll";
    this.poll();
  }

  stopPolling() {
    clearTimeout(this.timers.poll);
    if (this.mode === "poll") this.mode = "ws";
  }

  async poll() {
    clearTimeout(this.timers.poll);
    if (this.stopped || this.mode !== "poll") return;
    try {
      for (;;) {
        const page = await api(`/api/v1/site/events?since=${this.since}&limit=1000`);
        if (this.mode !== "poll") return;
        this.lastDataAt = Date.now();
        for (const event of page.events) {
          if (event.seq <= this.since) continue;
          this.advance(event.seq);
          this.deliver(event);
        }
        // A full page says where the next one starts; the last one how far the log was read.
        if (page.next_since === null) {
          this.advance(page.read_to_seq);
          break;
        }
        if (page.next_since <= this.since) break;
        this.advance(page.next_since);
      }
      if (navigator.onLine) this.setState("live");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.unauthorized();
        return;
      }
      this.setState(navigator.onLine ? "reconnecting" : "offline");
    }
    this.timers.poll = setTimeout(() => this.poll(), POLL_INTERVAL_MS);
  }
}
