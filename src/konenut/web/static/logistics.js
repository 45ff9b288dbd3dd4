// @ts-check
// What the console and the phones share about supplies and tasks (docs/supplies-and-tasks.md):
// their words, and a reader that reads them again when one of their events arrives, and every
// TASKS_REREAD_MS while a live task has a deadline (the server says when one is overdue).
import { api } from "./api.js";
import { num, t, time } from "./i18n.js";

const TASKS_REREAD_MS = 15000; // an overdue mark appears within this, by the server's clock
const EVENTS = /^(supply|task|inventory)\./;
export const URGENCY_RANK = { critical: 0, urgent: 1, routine: 2 };
const LIVE_TASK = new Set(["open", "accepted"]);

/**
 * "Ammunition 5.56 ×120".
 * @param {Record<string, any>} item {kind, calibre (ammunition), quantity}
 */
export function supplyLabel(item) {
  const what = t(`supply.kind.${item.kind}`);
  return t("supply.item", { what: item.calibre ? `${what} ${item.calibre}` : what, n: num(item.quantity) });
}

/**
 * Where a request or task is: its house, else "on the map".
 * @param {{building_ref?: string | null, location?: any}} item
 */
export function placeLabel(item) {
  if (item.building_ref) return t("caution.house", { ref: item.building_ref });
  return item.location ? t("supply.on_map") : "";
}

/** @param {{deadline?: string | null}} task */
export const dueLabel = (task) => (task.deadline ? t("task.by", { time: time(task.deadline) }) : "");

/** @param {{state: string}} task */
export const isLive = (task) => LIVE_TASK.has(task.state);

/**
 * Reads `paths` (name -> API path, or null when not wanted) now, again when an event of
 * supplies or tasks arrives, and on a timer while a live task has a deadline; calls
 * `show(data)` with what it read (a read refused or failed leaves that name out).
 * @param {() => Record<string, string | null>} paths
 * @param {(data: Record<string, any[]>) => void} show
 */
export function logisticsReader(paths, show) {
  let queued = null;
  let timer = null;
  async function read() {
    queued = null;
    const wanted = Object.entries(paths()).filter(([, path]) => path);
    const answers = await Promise.all(wanted.map(([, path]) => api(/** @type {string} */ (path)).catch(() => null)));
    /** @type {Record<string, any[]>} */
    const data = {};
    wanted.forEach(([name], i) => { if (answers[i]) data[name] = answers[i]; });
    show(data);
    clearTimeout(timer);
    if ((data.tasks || []).some((task) => task.deadline && isLive(task))) timer = setTimeout(read, TASKS_REREAD_MS);
  }
  const soon = () => { if (!queued) queued = setTimeout(read, 0); };
  return {
    refresh: soon,
    /** @param {{type: string}} event */
    onEvent(event) { if (EVENTS.test(event.type)) soon(); },
  };
}
