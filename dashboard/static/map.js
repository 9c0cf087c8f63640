// Mingle live floor map. Hand-written, no build step, no CDN.
// One WebSocket carries the latest live view (the server keeps only the newest per tab);
// the canvas tweens dots between frames and redraws only while something moves.
"use strict";

(() => {
  const TWEEN_MS = 700;
  const $ = (id) => document.getElementById(id);
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d", { alpha: false });

  // Exposed for the browser test and the render benchmark.
  const stats = { frames: 0, lastDrawMs: 0, maxDrawMs: 0, drawCount: 0, badges: 0, huddles: 0, alerts: 0, mode: "live" };
  window.mingle = { stats, drawNow: () => draw(performance.now()), render: null };

  let venue = null;
  let floorImage = null;
  let live = null;         // last live message
  let shown = null;        // the frame on screen (live or from history)
  let from = new Map();    // key -> [x, y] at tween start
  let to = new Map();      // key -> [x, y] target
  let tweenStart = 0;
  let animating = false;
  let mode = "live";
  let view = { scale: 1, ox: 0, oy: 0, w: 0, h: 0 };
  let highlight = null;    // {x, y, until}

  // ---- colours ------------------------------------------------------------------------
  const companyColour = (i) => (i < 0 ? "#a3a3a3" : `hsl(${(i * 137.508) % 360}, 62%, 45%)`);
  function hullColour(h, alpha) {
    // green for mixed groups, red for one-company groups (homogeneity 1)
    const t = Math.max(0, Math.min(1, (h - 0.4) / 0.6));
    return `hsla(${Math.round(130 * (1 - t))}, 75%, 42%, ${alpha})`;
  }

  // ---- geometry ---------------------------------------------------------------------
  function fit() {
    const dpr = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width * dpr));
    canvas.height = Math.max(1, Math.round(rect.height * dpr));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!venue) return;
    const pad = 24;
    const fw = venue.floor.width, fh = venue.floor.height;
    const scale = Math.min((rect.width - 2 * pad) / fw, (rect.height - 2 * pad) / fh);
    view = { scale, ox: (rect.width - fw * scale) / 2, oy: (rect.height - fh * scale) / 2, w: rect.width, h: rect.height };
    requestDraw();
  }
  const px = (x) => view.ox + x * view.scale;
  const py = (y) => view.oy + (venue.floor.height - y) * view.scale;

  // ---- frames -----------------------------------------------------------------------
  function keyOf(b, i) { return b[0] === null ? "#" + i : b[0]; }

  function showFrame(frame, tween) {
    const now = performance.now();
    const next = new Map();
    const start = new Map();
    const t = tween ? progress(now) : 1;
    frame.badges.forEach((b, i) => {
      const k = keyOf(b, i);
      next.set(k, [b[1], b[2]]);
      const a = from.get(k), z = to.get(k);
      // Anonymous dots carry no identity from frame to frame, so they are never tweened.
      if (tween && b[0] !== null && a && z) start.set(k, [a[0] + (z[0] - a[0]) * t, a[1] + (z[1] - a[1]) * t]);
      else start.set(k, [b[1], b[2]]);
    });
    from = start; to = next; shown = frame; tweenStart = now;
    stats.frames += 1; stats.badges = frame.badges.length; stats.shownTs = frame.ts;
    stats.huddles = (frame.huddles || []).length;
    requestDraw();
  }
  function progress(now) { return Math.min(1, (now - tweenStart) / TWEEN_MS); }

  function requestDraw() {
    if (animating) return;
    animating = true;
    requestAnimationFrame(loop);
  }
  function loop(now) {
    draw(now);
    if (progress(now) < 1 || (highlight && highlight.until > Date.now())) requestAnimationFrame(loop);
    else animating = false;
  }

  function draw(now) {
    const t0 = performance.now();
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, view.w, view.h);
    if (!venue) return;
    const s = view.scale;
    const fw = venue.floor.width * s, fh = venue.floor.height * s;
    if (floorImage && floorImage.complete && floorImage.naturalWidth) {
      ctx.globalAlpha = 0.5;
      ctx.drawImage(floorImage, view.ox, view.oy, fw, fh);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = "#9ca3af"; ctx.lineWidth = 2;
    ctx.strokeRect(view.ox, view.oy, fw, fh);
    ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    for (const z of venue.zones) {
      ctx.beginPath();
      z.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
      ctx.closePath();
      ctx.fillStyle = z.nudges ? "rgba(148,163,184,.10)" : "rgba(59,130,246,.10)";
      ctx.fill();
      ctx.strokeStyle = "#cbd5e1"; ctx.stroke();
      ctx.fillStyle = "#64748b";
      ctx.fillText(z.name + (z.nudges ? "" : " (no nudges)"), px(z.polygon[0][0]) + 4, py(z.polygon[0][1]) - 4);
    }
    const p = progress(now);
    const pos = (k) => {
      const a = from.get(k), z = to.get(k);
      if (!z) return null;
      if (!a || p >= 1) return z;
      return [a[0] + (z[0] - a[0]) * p, a[1] + (z[1] - a[1]) * p];
    };
    if (shown) {
      // hulls, padded by drawing the outline with a wide round stroke
      for (const c of shown.clusters) {
        const pad = Math.max(6, 0.6 * s);
        ctx.beginPath();
        c.hull.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
        ctx.closePath();
        ctx.lineJoin = "round"; ctx.lineCap = "round";
        ctx.lineWidth = pad * 2;
        ctx.strokeStyle = hullColour(c.homogeneity, 0.22);
        ctx.stroke();
        ctx.fillStyle = hullColour(c.homogeneity, 0.22);
        ctx.fill();
      }
      // alerted huddles still standing: a red outline around their members
      for (const h of shown.huddles || []) {
        const pad = Math.max(8, 0.8 * s);
        ctx.beginPath();
        h.hull.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
        ctx.closePath();
        ctx.lineJoin = "round";
        ctx.lineWidth = pad * 2 + 4;
        ctx.strokeStyle = h.acked ? "rgba(220,38,38,.35)" : "rgba(220,38,38,.85)";
        ctx.stroke();
        ctx.lineWidth = pad * 2;
        ctx.strokeStyle = "rgba(254,226,226,1)";
        ctx.stroke();
        ctx.fillStyle = "rgba(254,226,226,1)";
        ctx.fill();
      }
      // dots, one path per colour
      const byColour = new Map();
      shown.badges.forEach((b, i) => {
        const xy = pos(keyOf(b, i));
        if (!xy) return;
        let list = byColour.get(b[3]);
        if (!list) byColour.set(b[3], (list = []));
        list.push(xy[0], xy[1]);
      });
      const r = Math.max(2.5, Math.min(6, 0.22 * s));
      for (const [ci, list] of byColour) {
        ctx.beginPath();
        for (let i = 0; i < list.length; i += 2) {
          const x = px(list[i]), y = py(list[i + 1]);
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
        }
        ctx.fillStyle = companyColour(ci);
        ctx.fill();
      }
      // dwell labels on groups worth a look
      ctx.font = "bold 11px system-ui, sans-serif";
      ctx.fillStyle = "#374151";
      for (const c of shown.clusters) {
        if (c.size >= 3) ctx.fillText(mmss(c.dwell_s), px(c.x) + 10, py(c.y) - 10);
      }
      ctx.fillStyle = "#b91c1c";
      for (const h of shown.huddles || []) {
        ctx.fillText(`HUDDLE ${h.company} ${mmss(h.dwell_s)}`, px(h.x) + 12, py(h.y) + 22);
      }
    }
    // gateways
    const health = new Map((live ? live.gateways : []).map((g) => [g.id, g]));
    for (const g of venue.gateways) {
      const h = health.get(g.id);
      const st = h ? h.state : "unknown";
      ctx.fillStyle = st === "online" ? "#15803d" : st === "offline" ? "#b91c1c" : "#a16207";
      ctx.fillRect(px(g.x) - 4, py(g.y) - 4, 8, 8);
    }
    if (highlight && highlight.until > Date.now()) {
      ctx.beginPath();
      ctx.arc(px(highlight.x), py(highlight.y), 18 + 6 * Math.sin(now / 120), 0, 2 * Math.PI);
      ctx.lineWidth = 3; ctx.strokeStyle = "#2563eb"; ctx.stroke();
    }
    const ms = performance.now() - t0;
    stats.lastDrawMs = ms; stats.maxDrawMs = Math.max(stats.maxDrawMs, ms); stats.drawCount += 1;
  }
  // For the benchmark: show a frame and draw it once, settled or half-way through the tween.
  window.mingle.render = (frame, tween) => {
    showFrame(frame, !!tween);
    draw(performance.now() + (tween ? TWEEN_MS / 2 : TWEEN_MS));
    return stats.lastDrawMs;
  };

  function mmss(s) {
    s = Math.max(0, Math.round(s));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
  function ago(s) { return s === null || s === undefined ? "never" : s < 60 ? `${Math.round(s)} s ago` : `${Math.round(s / 60)} min ago`; }

  // ---- side panel -------------------------------------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function names(list) {
    if (!list.length) return "nobody";
    return list.join(", ");
  }
  function renderPanel(msg) {
    const k = msg.kpis;
    $("kpi-placed").textContent = k.placed;
    $("kpi-clusters").textContent = k.clusters;
    $("kpi-mixing").textContent = k.mixing_index === null ? "–" : Math.round(k.mixing_index * 100) + "%";
    $("kpi-huddles").textContent = k.huddles;
    $("kpi-nudges").textContent = k.nudges_sent;
    $("kpi-worked").textContent = k.nudges_judged ? `${k.nudges_worked}/${k.nudges_judged}` : "–";
    const pipe = $("pipeline");
    pipe.textContent = "pipeline " + msg.pipeline.state;
    pipe.className = "pill " + (msg.pipeline.state === "online" ? "ok" : msg.pipeline.state === "offline" ? "bad" : "");

    renderAlerts(msg.alerts);
    const tbody = $("gateways").tBodies[0];
    tbody.replaceChildren();
    for (const g of msg.gateways) {
      const tr = el("tr");
      tr.append(el("td", "", g.id));
      tr.append(el("td", "state-" + g.state, g.state + (g.silent ? " (no readings)" : "")));
      tr.append(el("td", "", ago(g.last_heard_s)));
      tr.append(el("td", "", g.adverts_per_s === null ? "–" : g.adverts_per_s.toFixed(0)));
      tbody.append(tr);
    }
    const h = msg.history;
    const slider = $("slider");
    if (h.from !== null) {
      slider.min = Math.floor(h.from);
      slider.max = Math.ceil(h.to);
      if (mode === "live") slider.value = slider.max;
    }
  }

  // The feed is keyed by alert id: an item is built once and only its acknowledged state
  // changes, so a click on a button is never lost to a re-render.
  const alertItems = new Map();
  function alertItem(a) {
    const li = el("li", "alert");
    li.dataset.alert = a.id;
    const head = el("div", "head");
    head.append(el("span", "", `${a.who.length} from ${a.company}${a.zone ? " · " + a.zone : ""}`));
    head.append(el("span", "muted", `together ${mmss(a.dwell_s)}`));
    li.append(head);
    li.append(el("p", "who", names(a.who)));
    li.append(el("p", "", a.held_out ? "held out (nobody nudged, to measure the effect)" : "nudged: " + names(a.nudged)));
    li.append(el("p", "muted", "suggestion: " + a.suggestion));
    const row = el("div", "actions");
    if (a.x !== null && a.x !== undefined) {
      const show = el("button", "", "Show");
      show.type = "button";
      show.onclick = () => { highlight = { x: a.x, y: a.y, until: Date.now() + 4000 }; requestDraw(); };
      row.append(show, " ");
    }
    const btn = el("button", "ack", "Acknowledge");
    btn.type = "button";
    btn.onclick = () => ack(a.id, btn);
    row.append(btn);
    li.append(row);
    return li;
  }
  function renderAlerts(alerts) {
    const ol = $("alerts");
    stats.alerts = alerts.length;
    $("alert-count").textContent = alerts.length ? `(${alerts.filter((a) => !a.acked).length} open)` : "";
    const keep = new Set(alerts.map((a) => a.id));
    for (const [id, item] of alertItems) if (!keep.has(id)) { item.li.remove(); alertItems.delete(id); }
    let prev = null;
    for (const a of alerts) {  // newest first
      let item = alertItems.get(a.id);
      if (!item) { item = { li: alertItem(a), acked: false }; alertItems.set(a.id, item); }
      if (a.acked && !item.acked) {
        item.acked = true;
        item.li.classList.add("acked");
        const btn = item.li.querySelector("button.ack");
        if (btn) btn.replaceWith(el("span", "muted", "acknowledged"));
      }
      const want = prev ? prev.nextSibling : ol.firstChild;
      if (want !== item.li) ol.insertBefore(item.li, want);
      prev = item.li;
    }
  }

  async function ack(id, btn) {
    btn.disabled = true;
    const r = await fetch(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", credentials: "same-origin" });
    if (r.status === 401) location.href = "/login";
  }

  // ---- time slider ------------------------------------------------------------------
  let sliderTimer = null;
  $("slider").addEventListener("input", () => {
    const slider = $("slider");
    const back = Number(slider.max) - Number(slider.value);
    if (back <= 0) return goLive();
    mode = "history"; stats.mode = mode;
    $("slider-label").textContent = `${mmss(back)} ago`;
    $("live-button").hidden = false;
    clearTimeout(sliderTimer);
    sliderTimer = setTimeout(async () => {
      const r = await fetch(`/api/history?at=${slider.value}`, { credentials: "same-origin" });
      if (r.status === 401) { location.href = "/login"; return; }
      if (r.ok && mode === "history") showFrame((await r.json()).frame, false);
    }, 120);
  });
  function goLive() {
    mode = "live"; stats.mode = mode;
    $("slider-label").textContent = "live";
    $("live-button").hidden = true;
    $("slider").value = $("slider").max;
    if (live && live.frame) showFrame(live.frame, false);
  }
  $("live-button").addEventListener("click", goLive);

  // ---- hover ------------------------------------------------------------------------
  canvas.addEventListener("mousemove", (ev) => {
    const tip = $("tooltip");
    if (!shown || !venue) { tip.hidden = true; return; }
    const rect = canvas.getBoundingClientRect();
    const mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
    let best = null, bestD = 64;
    shown.badges.forEach((b) => {
      const d = (px(b[1]) - mx) ** 2 + (py(b[2]) - my) ** 2;
      if (d < bestD) { bestD = d; best = b; }
    });
    if (!best) { tip.hidden = true; return; }
    const who = best[0] === null ? null : venue.people[best[0]];
    tip.textContent = who ? `${who.name || best[0]} · ${who.company} · ${best[0]}` : "anonymous (opted out or not on the roster)";
    tip.style.left = mx + 12 + "px"; tip.style.top = my + 12 + "px";
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => { $("tooltip").hidden = true; });

  // ---- connection -------------------------------------------------------------------
  let retry = 1000;
  function connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    const conn = $("connection");
    ws.onopen = () => { conn.textContent = "live"; conn.className = "pill ok"; retry = 1000; };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      live = msg;
      renderPanel(msg);
      if (mode === "live" && msg.frame) showFrame(msg.frame, true);
      else requestDraw();
    };
    ws.onclose = (ev) => {
      if (ev.code === 4401) { location.href = "/login"; return; }
      conn.textContent = "reconnecting…"; conn.className = "pill bad";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  async function start() {
    const r = await fetch("/api/venue", { credentials: "same-origin" });
    if (r.status === 401) { location.href = "/login"; return; }
    venue = await r.json();
    $("venue-name").textContent = `Mingle · ${venue.name}`;
    if (venue.floor_image) {
      floorImage = new Image();
      floorImage.onload = requestDraw;
      floorImage.src = "/api/floor-image";
    }
    fit();
    window.addEventListener("resize", fit);
    connect();
  }
  start();
})();
