// Redeem the one-time code in the link's #fragment (never sent to servers or logs) for a
// device token kept on this device. Retries with the same Idempotency-Key until answered.
"use strict";
(function () {
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const t = (key) => messages[key] || key;
  const status = document.getElementById("status");
  const code = decodeURIComponent(location.hash.slice(1)).trim();
  const keyName = "konenut.enroll-key." + code;
  const RETRY_MS = 3000;

  function show(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  async function showWho(token) {
    const me = await fetch("/api/v1/me", { headers: { Authorization: "Bearer " + token } });
    if (!me.ok) return;
    const body = await me.json();
    document.getElementById("who-name").textContent = body.name || body.subject_id;
    document.getElementById("who-role").textContent = t("role." + body.primary_role);
    document.getElementById("who").hidden = false;
    document.getElementById("next").hidden = false;
  }

  async function enroll() {
    if (!code) { show(t("enroll.no_code"), "bad"); return; }
    let key = localStorage.getItem(keyName);
    if (!key) { key = crypto.randomUUID(); localStorage.setItem(keyName, key); }
    let response;
    try {
      response = await fetch("/api/v1/enroll", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify({ code: code, device_name: navigator.userAgent.slice(0, 100) }),
      });
    } catch (err) {
      show(t("enroll.offline"), "bad");
      setTimeout(enroll, RETRY_MS);
      return;
    }
    const body = await response.json();
    if (!response.ok) { show(t("enroll.failed") + ": " + body.detail, "bad"); return; }
    localStorage.setItem("konenut.token", body.token);
    localStorage.setItem("konenut.roles", JSON.stringify(body.roles));
    history.replaceState(null, "", location.pathname);  // the code is spent: drop it from the URL
    show(t("enroll.done"), "ok");
    await showWho(body.token);
  }

  enroll();
})();
