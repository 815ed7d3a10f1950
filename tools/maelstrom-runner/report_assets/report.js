// Draws the report from the JSON in #report-data: anomalies (SVG), timeline
// (canvas: 100,000 bars stay fast), message diagram (SVG). Sets
// body[data-report-ready] when done and body[data-report-error] on any error,
// so headless tests can tell.
"use strict";
window.addEventListener("error", function (e) {
  document.body.dataset.reportError = String(e.message || e);
});
(function () {
  const started = performance.now();
  const D = JSON.parse(document.getElementById("report-data").textContent);
  const O = D.ops, N = O.s.length, END = Math.max(D.end, 1);
  const FN = ["read", "write", "cas"], TY = ["ok", "info", "fail", "pending"];
  const COLOR = ["#3a9d5d", "#d39e00", "#d9534f", "#8a9aa6"];
  // The same colours as the gnuplot plots' shading.
  const FAULT = { partition: "rgba(217,83,79,0.16)", kill: "rgba(120,120,120,0.22)",
                  pause: "rgba(66,133,244,0.16)", power: "rgba(230,126,34,0.2)",
                  member: "rgba(138,43,226,0.35)" };
  const SVGNS = "http://www.w3.org/2000/svg";

  const sec = (us) => (us / 1e6).toFixed(3) + " s";
  const end = (i) => (O.e[i] < 0 ? END : O.e[i]);
  const val = (i) => (O.v[i] < 0 ? "?" : O.vals[O.v[i]]);
  function short(i) {
    const f = FN[O.f[i]];
    if (f === "read") return "r " + (O.t[i] === 0 ? val(i) : "?");
    if (f === "write") return "w " + val(i);
    const v = val(i).replace(/[\[\]\s]/g, "").split(",");
    return "cas " + v[0] + "→" + v[1];
  }
  function describe(i) {
    const f = FN[O.f[i]];
    const what = f === "read" ? "read → " + (O.t[i] === 0 ? val(i) : "?") : f + " " + val(i);
    const dur = O.e[i] < 0 ? "never completed" : ((O.e[i] - O.s[i]) / 1000).toFixed(2) + " ms";
    return "process " + O.p[i] + "  key " + O.keys[O.k[i]] + "\n" + what + "  " + TY[O.t[i]] +
      "\n" + sec(O.s[i]) + " → " + (O.e[i] < 0 ? "∞" : sec(O.e[i])) + "  (" + dur + ")";
  }
  function el(tag, attrs, parent, text) {
    const ns = ["svg", "rect", "line", "text", "g", "title", "path", "polyline"].includes(tag);
    const e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function niceStep(span, target) {
    const raw = span / target, p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  // ---- Timeline --------------------------------------------------------
  const rowsN = Math.max(1, O.rows);
  const byRow = Array.from({ length: rowsN }, () => []);
  for (let i = 0; i < N; i++) byRow[O.row[i]].push(i);
  for (const r of byRow) r.sort((a, b) => O.s[a] - O.s[b]);
  // A row is a worker (process mod concurrency) in a run, a process otherwise.
  const rowName = byRow.map((r, k) => (r.length ? (D.rowsByWorker ? "w" + k : "p" + O.p[r[0]]) : ""));
  const canvas = document.getElementById("timeline");
  const ctx = canvas.getContext("2d");
  const rowH = Math.max(3, Math.min(16, Math.floor(520 / rowsN)));
  const AXIS = 22, TOP = 14, cssH = TOP + rowsN * rowH + AXIS;
  const view = { a: 0, b: END };
  let focus = null;  // anomaly drawn on the timeline

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    canvas.style.height = cssH + "px";
    canvas.width = Math.max(300, canvas.clientWidth) * dpr;
    canvas.height = cssH * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  const W = () => canvas.width / (window.devicePixelRatio || 1);
  const X = (us) => ((us - view.a) / (view.b - view.a)) * W();
  function drawTimeline() {
    const w = W();
    ctx.clearRect(0, 0, w, cssH);
    for (const n of D.nemesis) {
      const x0 = X(n[0]), x1 = X(n[1]);
      if (x1 < 0 || x0 > w) continue;
      ctx.fillStyle = FAULT[n[2]] || "rgba(0,0,0,0.1)";
      ctx.fillRect(x0, 0, Math.max(1, x1 - x0), cssH - AXIS);
      ctx.fillStyle = "#444";
      ctx.font = "11px sans-serif";
      // A membership change names itself ("member_remove n2"); faults name their kind and nodes.
      const label = n[2] === "member" ? n[3].replace(/"/g, "") : n[2] + " " + (n[4].length ? n[4].join(",") : n[3].split(" ")[0]);
      ctx.fillText(label, Math.max(0, x0) + 2, 10);
    }
    const h = Math.max(1, rowH - (rowH > 4 ? 2 : 1));
    for (let t = 0; t < 4; t++) {
      ctx.fillStyle = COLOR[t];
      for (let i = 0; i < N; i++) {
        if (O.t[i] !== t) continue;
        const s = O.s[i], e = end(i);
        if (e < view.a || s > view.b) continue;
        const x0 = X(s);
        ctx.fillRect(x0, TOP + O.row[i] * rowH, Math.max(1, X(e) - x0), h);
      }
    }
    if (focus) drawFocus(focus, h);
    if (rowH >= 10) {
      ctx.font = "10px sans-serif";
      ctx.fillStyle = "rgba(255,255,255,0.75)";
      ctx.fillRect(0, TOP, 34, rowsN * rowH);
      ctx.fillStyle = "#333";
      for (let r = 0; r < rowsN; r++) ctx.fillText(rowName[r], 2, TOP + r * rowH + rowH - 3);
    }
    drawAxis(w);
  }
  function outline(i, color, width, h) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    const x0 = X(O.s[i]);
    ctx.strokeRect(x0, TOP + O.row[i] * rowH, Math.max(2, X(end(i)) - x0), h);
  }
  function drawFocus(a, h) {
    let lo = Infinity, hi = -Infinity;
    for (const i of a.window) { lo = Math.min(lo, O.s[i]); hi = Math.max(hi, end(i)); }
    ctx.fillStyle = "rgba(201,48,44,0.08)";
    ctx.fillRect(X(lo), 0, Math.max(2, X(hi) - X(lo)), cssH - AXIS);
    for (const i of a.prefix) if (end(i) >= view.a && O.s[i] <= view.b) outline(i, "#1b5e20", 1.5, h);
    for (const i of a.window) if (a.prefix.indexOf(i) < 0) outline(i, "#555", 1.5, h);
    if (a.stuck >= 0) outline(a.stuck, "#c9302c", 3, h);
  }
  function drawAxis(w) {
    const y = cssH - AXIS;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, y, w, AXIS);
    ctx.strokeStyle = "#888";
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, y + 0.5); ctx.lineTo(w, y + 0.5); ctx.stroke();
    const step = niceStep(view.b - view.a, 10);
    ctx.fillStyle = "#333";
    ctx.font = "11px sans-serif";
    for (let t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      const x = X(t);
      ctx.fillRect(x, y, 1, 5);
      ctx.fillText(step >= 1e6 ? (t / 1e6).toFixed(0) + " s" : step >= 1e3 ? (t / 1e3).toFixed(0) + " ms" : t.toFixed(0) + " µs", x + 2, y + 15);
    }
  }
  function zoomTo(a, b) {
    const pad = Math.max((b - a) * 0.15, 50);
    view.a = a - pad; view.b = b + pad;
    drawTimeline();
  }
  function opAt(mx, my) {
    const r = Math.floor((my - TOP) / rowH);
    if (r < 0 || r >= rowsN) return -1;
    const t = view.a + (mx / W()) * (view.b - view.a), slack = (3 / W()) * (view.b - view.a);
    const list = byRow[r];
    let lo = 0, hi = list.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (O.s[list[m]] <= t + slack) lo = m + 1; else hi = m; }
    for (let j = lo - 1; j >= 0 && j >= lo - 50; j--) if (end(list[j]) >= t - slack) return list[j];
    return -1;
  }
  const tip = document.getElementById("tip");
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, a: view.a, b: view.b }; });
  window.addEventListener("mouseup", () => { drag = null; });
  canvas.addEventListener("mousemove", (e) => {
    if (drag) {
      const d = ((e.offsetX - drag.x) / W()) * (drag.b - drag.a);
      view.a = drag.a - d; view.b = drag.b - d;
      tip.hidden = true;
      drawTimeline();
      return;
    }
    const i = opAt(e.offsetX, e.offsetY);
    if (i < 0) { tip.hidden = true; return; }
    tip.textContent = describe(i);
    tip.hidden = false;
    tip.style.left = Math.min(e.offsetX + 12, W() - 260) + "px";
    tip.style.top = e.offsetY + 14 + "px";
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const f = e.deltaY > 0 ? 1.25 : 0.8;
    const t = view.a + (e.offsetX / W()) * (view.b - view.a);
    const span = Math.max(20, (view.b - view.a) * f);
    view.a = t - (e.offsetX / W()) * span; view.b = view.a + span;
    drawTimeline();
  }, { passive: false });
  canvas.addEventListener("dblclick", (e) => {
    showMessages(view.a + (e.offsetX / W()) * (view.b - view.a));
  });
  const tools = document.getElementById("timeline-tools");
  el("button", {}, tools, "Reset zoom").onclick = () => { view.a = 0; view.b = END; drawTimeline(); };
  el("span", { class: "hint" }, tools, N + " operations" + (D.messages.total ? "; double-click a moment to see its messages below." : "."));

  // ---- Anomalies -------------------------------------------------------
  function anomalySvg(a) {
    const inWindow = new Set(a.window), pos = new Map();
    a.prefix.forEach((op, k) => pos.set(op, k + 1));
    let lo = Infinity, hi = -Infinity;
    for (const i of a.window) { lo = Math.min(lo, O.s[i]); hi = Math.max(hi, O.e[i] < 0 ? O.s[i] : O.e[i]); }
    if (a.stuck >= 0) hi = Math.max(hi, end(a.stuck));
    // Prefix ops overlapping the window, the last 40 at most: the context.
    const shown = a.window.slice();
    const ctxOps = a.prefix.filter((i) => !inWindow.has(i) && end(i) >= lo && O.s[i] <= hi).slice(-40);
    shown.push(...ctxOps);
    const procs = [...new Set(shown.map((i) => O.p[i]))].sort((x, y) => x - y);
    // Not to scale, as Knossos draws it: every invoke and completion gets its
    // own slot in real-time order, which is all linearizability looks at.
    const times = [...new Set(shown.flatMap((i) => (O.e[i] < 0 ? [O.s[i]] : [O.s[i], O.e[i]])))].sort((x, y) => x - y);
    const slot = new Map(times.map((t, k) => [t, k]));
    const W = Math.max(1000, Math.min(1300, 160 + times.length * 70)), L = 70, RH = 26;
    const H = 30 + procs.length * RH + 24;
    const step = (W - L - 110) / Math.max(1, times.length - 1);
    const x = (us) => L + (slot.has(us) ? slot.get(us) : times.length) * step;
    const svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "anomaly-svg" });
    procs.forEach((p, r) => el("text", { x: 4, y: 30 + r * RH + 16 }, svg, "p" + p));
    if (a.stuck >= 0 && O.e[a.stuck] >= 0) {
      const xs = x(O.e[a.stuck]);
      el("line", { x1: xs, x2: xs, y1: 14, y2: H - 20, stroke: "#c9302c", "stroke-dasharray": "4 3" }, svg);
      el("text", { x: Math.max(L, xs - 260), y: 12, fill: "#c9302c" }, svg, "must have taken effect before here");
    }
    for (const i of shown) {
      const r = procs.indexOf(O.p[i]);
      const x0 = x(O.s[i]), x1 = O.e[i] < 0 ? W - 8 : Math.max(x0 + 4, x(O.e[i]));
      const role = i === a.stuck ? "stuck" : pos.has(i) ? "prefix" : "other";
      const fill = role === "stuck" ? "#f4c7c3" : role === "prefix" ? "#c8e6c9" : "#eee";
      const stroke = role === "stuck" ? "#c9302c" : role === "prefix" ? "#1b5e20" : "#777";
      const g = el("g", { class: "op " + role }, svg);
      el("rect", { x: x0, y: 30 + r * RH, width: x1 - x0, height: RH - 6, fill: fill, stroke: stroke,
                   "stroke-width": role === "stuck" ? 2.5 : 1, "stroke-dasharray": O.t[i] === 0 ? "" : "4 2" }, g);
      const label = (pos.has(i) ? "#" + pos.get(i) + " " : role === "stuck" ? "✗ " : "") + short(i) +
        (O.t[i] === 0 ? "" : " (" + TY[O.t[i]] + ")");
      el("text", { x: x0 + 3, y: 30 + r * RH + 14 }, g, label);
      el("title", {}, g, describe(i));
    }
    const ly = H - 6;
    el("text", { x: L, y: ly, fill: "#1b5e20" }, svg, "#k = k-th op of the longest linearizable prefix");
    el("text", { x: L + 390, y: ly, fill: "#c9302c" }, svg, "✗ = cannot be placed after it");
    el("text", { x: L + 640, y: ly, fill: "#555" }, svg, "dashed: info or pending; not to scale");
    return svg;
  }
  const anomalies = document.getElementById("anomalies");
  if (D.anomalies.length) {
    el("h2", {}, anomalies, "Anomalies (" + D.anomalies.length + " invalid key" + (D.anomalies.length > 1 ? "s" : "") + ")");
    D.anomalies.forEach((a, n) => {
      const box = el("div", { class: "anomaly", id: "anomaly-" + n }, anomalies);
      el("h3", {}, box, (a.key === "null" ? "The register" : "Key " + a.key) + " is not linearizable");
      el("p", { class: "why" }, box, a.why);
      if (a.stuck >= 0) box.appendChild(anomalySvg(a));
      const tail = a.prefix.slice(-6).map((i) => "p" + O.p[i] + " " + short(i));
      el("p", { class: "order" }, box, "Longest linearizable prefix (" + a.prefix.length + " ops): " +
         (a.prefix.length > 6 ? "… → " : "") + tail.join(" → ") +
         (a.stuck >= 0 ? "  ✗  p" + O.p[a.stuck] + " " + short(a.stuck) : ""));
      const bar = el("div", { class: "tools" }, box);
      el("button", {}, bar, "Show on timeline").onclick = () => {
        focus = a;
        let lo = Infinity, hi = -Infinity;
        for (const i of a.window) { lo = Math.min(lo, O.s[i]); hi = Math.max(hi, end(i)); }
        zoomTo(lo, hi);
        canvas.scrollIntoView({ behavior: "smooth", block: "center" });
      };
      if (a.stuck >= 0 && D.messages.total) el("button", {}, bar, "Messages around it").onclick = () => showMessages(O.s[a.stuck] - 20000);
      const det = el("details", {}, box);
      el("summary", {}, det, "The checker's explanation");
      el("pre", {}, det, a.explanation);
    });
    focus = D.anomalies[0];
  }

  // ---- Message diagram -------------------------------------------------
  const M = D.messages, msgs = document.getElementById("messages");
  let showMessages = () => {};
  if (!M.total || !M.m) {
    el("p", { class: "note" }, msgs, "No messages recorded (a report made from a history file alone).");
  } else {
    const names = M.names, nodeSet = new Set(M.nodes);
    const lanes = M.nodes.concat(["clients"]);
    const laneOf = (id) => (nodeSet.has(names[id]) ? M.nodes.indexOf(names[id]) : lanes.length - 1);
    let m = M.m, count = m.length / 6, full = false;
    el("p", { class: "note" }, msgs, "Lamport diagram: time flows down, one line per node and one for all clients. " +
      M.total + " messages were routed; " + M.embedded + " are embedded here" +
      (M.embedded < M.total ? " (every message of the ranges listed below: around each anomaly, around each fault starting or stopping, and the start of every second; moments outside them jump to the next complete range; the full log is " + M.file + " next to this report)." : "."));
    const bar = el("div", { class: "tools" }, msgs);
    el("label", {}, bar, "from (s) ");
    const from = el("input", { type: "number", step: "0.01", min: "0", value: "0", style: "width:7em" }, bar);
    el("label", {}, bar, " window ");
    const width = el("select", {}, bar);
    for (const ms of [10, 20, 50, 100, 250, 500, 1000]) el("option", { value: ms * 1000 }, width, ms + " ms");
    width.value = "50000";
    const prev = el("button", {}, bar, "◀ earlier"), next = el("button", {}, bar, "later ▶");
    const info = el("span", { class: "note" }, bar);
    const holder = el("div", {}, msgs);
    const complete = el("p", { class: "note" }, msgs);
    if (M.embedded < M.total)
      complete.textContent = "Complete ranges: " + M.complete.slice().sort((x, y) => x[0] - y[0]).slice(0, 80).map((r) => sec(r[0]) + "–" + sec(r[1])).join(", ") +
        (M.complete.length > 80 ? " …" : "");
    const hue = (t) => (t * 137) % 360;
    const ranges = (M.complete || []).slice().sort((x, y) => x[0] - y[0]);
    function draw() {
      const a = Math.round(parseFloat(from.value || "0") * 1e6), w = parseInt(width.value, 10), b = a + w;
      let lo = 0, hi = count;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (m[mid * 6] < a) lo = mid + 1; else hi = mid; }
      const pick = [];
      for (let j = lo; j < count && m[j * 6] < b && pick.length < 3000; j++) pick.push(j);
      const covered = full || M.embedded >= M.total || ranges.some((r) => a >= r[0] && a < r[1]);
      info.textContent = pick.length + " messages sent in this window" + (pick.length >= 3000 ? " (first 3000 drawn)" : "") +
        (covered ? "" : " — not all embedded here: see " + M.file);
      if (!covered && location.protocol.startsWith("http")) loadFull();
      const LW = 150, Wd = lanes.length * LW + 60, H = 760, T = 30;
      const y = (us) => T + ((Math.min(Math.max(us, a), b + w * 0.2) - a) / (w * 1.2)) * (H - T - 10);
      const svg = el("svg", { id: "msg-svg", width: Wd, height: H, viewBox: "0 0 " + Wd + " " + H });
      const lx = (i) => 60 + i * LW + LW / 2 - 40;
      for (const n of D.nemesis) {
        if (n[1] < a || n[0] > b) continue;
        const y0 = y(n[0]), y1 = y(n[1]);
        if (n[2] === "partition") {
          el("rect", { x: 0, y: y0, width: Wd, height: Math.max(2, y1 - y0), fill: FAULT.partition }, svg);
          el("text", { x: 2, y: y0 + 12, fill: "#a02622" }, svg, "partition " + n[3]);
        } else {
          for (const node of n[4]) {
            const i = M.nodes.indexOf(node);
            if (i < 0) continue;
            el("rect", { x: lx(i) - 5, y: y0, width: 10, height: Math.max(2, y1 - y0), fill: n[2] === "kill" ? "#555" : n[2] === "pause" ? "#4285f4" : n[2] === "member" ? "#8a2be2" : "#e67e22", opacity: 0.6 }, svg)
              .appendChild(el("title", {}, null, n[2] + " " + node));
            el("text", { x: lx(i) + 8, y: Math.max(T + 10, y0 + 12), fill: "#a00" }, svg, n[2]);
          }
        }
      }
      lanes.forEach((name, i) => {
        el("line", { x1: lx(i), x2: lx(i), y1: T - 6, y2: H, stroke: "#999" }, svg);
        el("text", { x: lx(i) - 14, y: 14 }, svg, name);
      });
      for (let t = 0; t <= 6; t++) {
        const us = a + (w * 1.2 * t) / 6;
        el("text", { x: 2, y: y(us) + 4, fill: "#777" }, svg, sec(us));
      }
      const label = pick.length <= 200;
      for (const j of pick) {
        const s = m[j * 6], d = m[j * 6 + 1], src = laneOf(m[j * 6 + 2]), dst = laneOf(m[j * 6 + 3]);
        const type = names[m[j * 6 + 4]], fate = m[j * 6 + 5];
        const x1 = lx(src), y1 = y(s), x2 = src === dst ? lx(dst) + 30 : lx(dst), y2 = Math.max(y(d), y1 + 2);
        const color = fate === 0 ? "hsl(" + hue(m[j * 6 + 4]) + ",65%,38%)" : "#c9302c";
        const g = el("g", {}, svg);
        el("line", { x1: x1, y1: y1, x2: x2, y2: y2, stroke: color, "stroke-width": 1, "stroke-dasharray": fate === 0 ? "" : "4 3" }, g);
        el(fate === 0 ? "path" : "text", fate === 0
          ? { d: "M" + x2 + " " + y2 + " l" + (x2 > x1 ? -6 : 6) + " -3 l0 6 z", fill: color }
          : { x: x2 - 4, y: y2 + 4, fill: "#c9302c" }, g, fate === 0 ? undefined : "×");
        el("title", {}, g, names[m[j * 6 + 2]] + " → " + names[m[j * 6 + 3]] + " " + type + " sent " + sec(s) +
          (fate === 0 ? ", delivered " : fate === 1 ? ", dropped (partition) " : ", dropped (node down) ") + sec(d));
        // Near the sender, so a request's and its reply's labels do not collide.
        if (label) el("text", { x: x1 + (x2 - x1) * 0.2 + (x2 > x1 ? 2 : -40), y: y1 + (y2 - y1) * 0.2 - 3, fill: color }, g, type);
      }
      holder.replaceChildren(svg);
    }
    // Served over HTTP (`maelstrom-runner serve`), the full log next to the
    // report can be read once, when a window the sample left out is shown.
    let loading = false;
    function loadFull() {
      if (loading || full) return;
      loading = true;
      info.textContent += " (loading " + M.file + "…)";
      const ids = new Map(names.map((n, k) => [n, k]));
      const id = (n) => { if (!ids.has(n)) { ids.set(n, names.length); names.push(n); } return ids.get(n); };
      const fates = { ok: 0, partition: 1, down: 2 };
      fetch(M.file).then((r) => (r.ok ? r.text() : Promise.reject(r.status))).then((text) => {
        const rows = [];
        for (const line of text.split("\n")) {
          if (!line) continue;
          const r = JSON.parse(line);
          rows.push([r[0], r[1], id(r[2]), id(r[3]), id(r[4]), fates[r[7]] ?? 0]);
        }
        rows.sort((x, y) => x[0] - y[0]);
        m = rows.flat();
        count = rows.length;
        full = true;
        draw();
      }).catch((e) => { info.textContent += " (could not load " + M.file + ": " + e + ")"; });
    }
    // Moves a moment the sample left out to the next range it kept whole.
    function snap(us) {
      if (full || M.embedded >= M.total || location.protocol.startsWith("http")) return us;
      for (const r of ranges) {
        if (us >= r[0] && us < r[1]) return us;
        if (r[0] > us) return r[0];
      }
      return us;
    }
    showMessages = (us) => {
      from.value = (Math.max(0, snap(us)) / 1e6).toFixed(3);
      draw();
      msgs.scrollIntoView({ behavior: "smooth" });
    };
    from.onchange = draw; width.onchange = draw;
    prev.onclick = () => { from.value = Math.max(0, parseFloat(from.value) - parseInt(width.value, 10) / 1e6).toFixed(3); draw(); };
    next.onclick = () => { from.value = (parseFloat(from.value) + parseInt(width.value, 10) / 1e6).toFixed(3); draw(); };
    // Start where something happens: the anomaly, else the first fault, else t=0.
    const a0 = D.anomalies.find((x) => x.stuck >= 0);
    const hash = /t=([0-9.]+)/.exec(location.hash);  // index.html#t=12.5 links a moment
    const start = hash ? parseFloat(hash[1]) * 1e6 : a0 ? O.s[a0.stuck] - 20000 : D.nemesis.length ? D.nemesis[0][0] - 10000 : 0;
    from.value = (Math.max(0, snap(start)) / 1e6).toFixed(3);
    draw();
  }

  resize();
  drawTimeline();  // the whole run; the first anomaly's window is outlined
  window.addEventListener("resize", () => { resize(); drawTimeline(); });
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  document.body.dataset.reportReady = "1";
})();
