// Mingle attendee page: this attendee's own nudges only. Polls (robust on flaky venue
// Wi-Fi and across a phone's sleep), buzzes on a nudge it has not shown before.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const base = location.pathname.replace(/\/+$/, "");
  const seenKey = "mingle-seen:" + base;
  const seen = new Set(JSON.parse(localStorage.getItem(seenKey) || "[]"));
  let timer = null;

  function minutes(s) { return Math.max(1, Math.round(s / 60)); }

  function render(v) {
    const latest = v.nudges[0];
    $("nudge").hidden = !latest;
    $("no-nudge").hidden = !!latest;
    if (latest) {
      $("nudge-text").textContent = latest.text;
      const age = Math.max(0, v.now - latest.ts);
      $("nudge-when").textContent = age < 60 ? "just now" : `${minutes(age)} min ago`;
      if (!seen.has(latest.id)) {
        seen.add(latest.id);
        localStorage.setItem(seenKey, JSON.stringify([...seen].slice(-20)));
        if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
        document.title = "Mingle — someone new to meet!";
      }
    }
    const older = $("older");
    older.replaceChildren();
    for (const n of v.nudges.slice(1)) {
      const li = document.createElement("li");
      li.textContent = n.text;
      older.append(li);
    }
    $("older-box").hidden = v.nudges.length < 2;
    const paused = v.paused_until !== null;
    $("pause").hidden = paused;
    $("paused").hidden = !paused;
    if (paused) $("paused-text").textContent = `Nudges paused for another ${minutes(v.paused_until - v.now)} min.`;
  }

  async function poll() {
    clearTimeout(timer);
    try {
      const r = await fetch(base + "/nudges", { cache: "no-store" });
      if (r.ok) { render(await r.json()); $("status").textContent = "Keep this page open: your phone buzzes when there is someone new to meet."; }
      else if (r.status === 404) { $("status").textContent = "This link is not valid."; return; }
    } catch (e) {
      $("status").textContent = "Offline — retrying…";
    }
    timer = setTimeout(poll, 3000);
  }

  async function post(what) {
    const r = await fetch(base + "/" + what, { method: "POST", cache: "no-store" });
    if (r.ok) render(await r.json());
    else $("status").textContent = "Could not reach the organizers' system — try again in a moment.";
  }
  $("pause").addEventListener("click", () => post("pause"));
  $("resume").addEventListener("click", () => post("resume"));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  poll();
})();
