// @ts-check
// The pass page for an arriving unit's device (docs/liaison.md): the liaison pass's link code, or
// its 12-digit radio code typed as heard, enrols this device as the unit's liaison and opens the
// console read-only. One key per code while it is retried, so a retry is not a second device.
import { uuid } from "./api.js";
import { lang, t } from "./i18n.js";
import { HOME_KEY, TOKEN_KEY } from "./storage.js";

export const RADIO_CODE = /^\d{12}$/; // app/liaison.py RADIO_CODE_DIGITS
const RETRY_MS = 3000;
const REFUSED = { "pass-used-up": "liaison.used_up", "pass-revoked": "liaison.ended", "pass-expired": "liaison.ended" };

/** Redeem `code`; on success this device's home is the console. */
export async function joinAsLiaison(code, { show }, key = uuid()) {
  show(t("liaison.joining"));
  let response;
  try {
    response = await fetch("/api/v1/passes/redeem-liaison", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ code }),
    });
  } catch {
    response = null;
  }
  if (!response || response.status >= 500) {
    show(t("join.offline"), "bad");
    setTimeout(() => joinAsLiaison(code, { show }, key), RETRY_MS);
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const slug = String(answer.type || "").split(":").pop();
    show(slug in REFUSED ? t(REFUSED[slug]) : `${t("join.failed")}: ${answer.detail || response.status}`, "bad");
    return;
  }
  localStorage.setItem(TOKEN_KEY, answer.token);
  const home = `/${lang}/operator`;
  localStorage.setItem(HOME_KEY, home);
  history.replaceState(null, "", location.pathname); // the code stays with the unit, not in history
  location.replace(home);
}
