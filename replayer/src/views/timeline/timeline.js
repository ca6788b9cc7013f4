// reprise timeline: draws the data of #data on the canvas. Time is logical:
// event N sits at x = N. The view is [start, start + width / scale).
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const N = D.events;
  const lane = Int32Array.from(D.ev.lane), kind = Int32Array.from(D.ev.kind);
  const object = Int32Array.from(D.ev.object), site = Int32Array.from(D.ev.site), outcome = Int32Array.from(D.ev.outcome);
  const linkFrom = Float64Array.from(D.links.from), linkTo = Float64Array.from(D.links.to), linkKind = Int32Array.from(D.links.kind);
  const LANES = D.lanes.length, LABEL_W = 140, LANE_H = 34, TOP = 22, MARK_H = 18;
  const AGGREGATE_BELOW = 3;   // px per event under which a lane draws one mark per pixel column
  const MAX_ARROWS = 4000;     // arrows drawn at most; beyond, zoom in to see them

  // Colors by kind family; the legend lists the kinds the trace has.
  const FAMILY = {
    "send": "#2b6cb0", "recv": "#38a169", "try_recv": "#38a169", "recv_timeout": "#38a169", "select": "#319795", "timer-recv": "#319795",
    "lock": "#dd6b20", "try_lock": "#dd6b20", "read": "#d69e2e", "write": "#dd6b20", "try_read": "#d69e2e", "try_write": "#dd6b20",
    "unlock": "#f6ad55", "read-unlock": "#f6e05e", "write-unlock": "#f6ad55", "condvar-wait": "#b7791f", "notify": "#975a16",
    "atomic-load": "#805ad5", "atomic-store": "#6b46c1", "atomic-rmw": "#553c9a", "compare_exchange": "#553c9a",
    "spawn": "#718096", "join": "#4a5568", "thread-start": "#a0aec0", "thread-exit": "#a0aec0", "park": "#a0aec0", "unpark": "#a0aec0",
    "now": "#d53f8c", "system-now": "#d53f8c", "sleep": "#d53f8c", "random": "#b83280", "capture": "#b83280", "capture-sensitive": "#97266d",
    "panic": "#e53e3e", "annotation": "#2d3748", "tracked-read": "#38b2ac", "tracked-write": "#2c7a7b",
  };
  const color = (k) => FAMILY[D.kinds[k]] || "#333";
  const ARROW = ["rgba(43,108,176,0.75)", "rgba(221,107,32,0.75)"];
  const PANIC = D.kinds.indexOf("panic");

  // Per lane, the numbers of its events (ascending), for hover lookups.
  const perLane = [];
  {
    const counts = new Int32Array(LANES);
    for (let i = 0; i < N; i++) counts[lane[i]]++;
    for (let l = 0; l < LANES; l++) perLane.push(new Int32Array(counts[l]));
    const fill = new Int32Array(LANES);
    for (let i = 0; i < N; i++) perLane[lane[i]][fill[lane[i]]++] = i + 1;
  }

  const banner = document.getElementById("banner");
  banner.className = D.broken ? "broken" : "";
  banner.innerHTML = "";
  const line = (cls, text) => { const s = document.createElement("div"); s.className = cls; s.textContent = text; banner.appendChild(s); };
  line("program", D.program + " \u2014 " + N + " events, " + LANES + " threads");
  line("verdict", "verdict: " + D.verdict);
  if (D.notes.length) line("notes", D.notes.join("; "));

  const legend = document.getElementById("legend");
  const present = new Set(kind);
  for (const k of [...present].sort((a, b) => a - b)) {
    const s = document.createElement("span");
    s.style.setProperty("--c", color(k));
    s.textContent = D.kinds[k];
    legend.appendChild(s);
  }

  const view = document.getElementById("view"), canvas = document.getElementById("canvas");
  const labels = document.getElementById("labels"), tip = document.getElementById("tip");
  const summary = document.getElementById("summary"), status = document.getElementById("status");
  for (let l = 0; l < LANES; l++) {
    const d = document.createElement("div");
    d.className = "lane-label";
    d.dataset.thread = D.lanes[l].thread;
    d.dataset.events = D.lanes[l].events;
    d.style.top = (TOP + l * LANE_H + (LANE_H - 18) / 2) + "px";
    d.textContent = D.lanes[l].name;
    d.title = D.lanes[l].name + " (thread " + D.lanes[l].thread + ", " + D.lanes[l].events + " events)";
    labels.appendChild(d);
  }
  const height = TOP + LANES * LANE_H + 8;
  view.style.height = height + "px";

  let width = 0, start = 0.5, scale = 1;
  // A clicked event's object: its events stay bright, the rest fade.
  let selected = -1;
  const faded = (i) => selected >= 0 && object[i] !== selected;
  const plotW = () => Math.max(10, width - LABEL_W);
  const fit = () => { scale = plotW() / Math.max(N, 1); start = 0.5; };
  const xOf = (n) => LABEL_W + (n - start) * scale;
  const laneY = (l) => TOP + l * LANE_H + LANE_H / 2;

  function resize() {
    width = view.clientWidth || window.innerWidth;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  function clamp() {
    const minScale = plotW() / Math.max(N, 1) * 0.5, maxScale = 80;
    scale = Math.min(maxScale, Math.max(minScale, scale));
    const span = plotW() / scale;
    start = Math.min(Math.max(start, 0.5 - span * 0.25), N + 0.5 - span * 0.75);
  }

  function draw() {
    clamp();
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, width, height);
    const first = Math.max(1, Math.floor(start)), last = Math.min(N, Math.ceil(start + plotW() / scale));
    // Lanes and the ruler.
    for (let l = 0; l < LANES; l++) {
      g.fillStyle = l % 2 ? "#f3f3f3" : "#fbfbfb";
      g.fillRect(LABEL_W, TOP + l * LANE_H, plotW(), LANE_H);
    }
    g.fillStyle = "#666"; g.font = "11px system-ui, sans-serif";
    const step = Math.pow(10, Math.max(0, Math.ceil(Math.log10(80 / scale))));
    for (let n = Math.ceil(first / step) * step; n <= last; n += step) {
      const x = xOf(n);
      g.fillRect(x, TOP - 4, 1, 4);
      g.fillText("#" + n, x + 2, TOP - 8);
    }
    // Marks and arrows stay right of the lane labels.
    g.save();
    g.beginPath(); g.rect(LABEL_W, 0, plotW(), height); g.clip();
    let marks = 0;
    const aggregate = scale < AGGREGATE_BELOW;
    if (aggregate) {
      // One mark per lane and pixel column: the kind of the column's first event.
      const cols = Math.ceil(plotW()) + 1;
      const seen = new Int32Array(LANES * cols).fill(-1);
      for (let n = first; n <= last; n++) {
        const i = n - 1, col = Math.floor((n - start) * scale), slot = lane[i] * cols + col;
        if (col < 0 || col >= cols || seen[slot] >= 0) continue;
        if (faded(i)) continue;
        seen[slot] = kind[i];
        g.fillStyle = color(kind[i]);
        g.fillRect(LABEL_W + col, laneY(lane[i]) - MARK_H / 2, 1, MARK_H);
        marks++;
      }
    } else {
      const w = Math.max(2, scale * 0.8);
      for (let n = first; n <= last; n++) {
        const i = n - 1;
        g.globalAlpha = faded(i) ? 0.15 : 1;
        g.fillStyle = color(kind[i]);
        g.fillRect(xOf(n) - w / 2, laneY(lane[i]) - MARK_H / 2, w, MARK_H);
        marks++;
      }
    }
    g.globalAlpha = 1;
    // Panics stand out at any zoom.
    for (let n = first; n <= last; n++) {
      if (kind[n - 1] !== PANIC) continue;
      g.fillStyle = "#e53e3e";
      g.fillRect(xOf(n) - 2, laneY(lane[n - 1]) - LANE_H / 2, 4, LANE_H);
    }
    // Arrows whose receiving end is in view or just after it.
    let arrows = 0, pending = 0;
    const span = last - first;
    let lo = lowerBound(linkTo, first);
    const candidates = [];
    for (let j = lo; j < linkTo.length && linkTo[j] <= last + span; j++) {
      if (linkFrom[j] > last) continue;
      if (selected >= 0 && object[linkTo[j] - 1] !== selected) continue;
      candidates.push(j);
    }
    if (candidates.length <= MAX_ARROWS) {
      for (const j of candidates) {
        drawArrow(g, linkFrom[j], linkTo[j], ARROW[linkKind[j]]);
        arrows++;
      }
    } else {
      pending = candidates.length;
    }
    // The end of the run, with the verdict when it broke.
    const xe = xOf(N + 0.5);
    if (xe >= LABEL_W && xe <= width) {
      g.fillStyle = D.broken ? "#e53e3e" : "#38a169";
      g.fillRect(xe - 1, TOP, 2, LANES * LANE_H);
      const text = D.broken ? "run ended: " + (D.notes[D.notes.length - 1] || D.verdict) : "run ended";
      const tw = g.measureText(text).width;
      g.fillText(text, xe + 4 + tw < width ? xe + 4 : xe - 4 - tw, TOP + LANES * LANE_H + 6);
    }
    g.restore();
    status.textContent = "events #" + first + "\u2013#" + last + " of " + N + (aggregate ? " (aggregated: one mark per pixel)" : "") +
      (pending ? "; " + pending + " arrows in view: zoom in to see them" : "; " + arrows + " arrows");
    summary.dataset.lanes = LANES;
    summary.dataset.events = N;
    summary.dataset.first = first;
    summary.dataset.last = last;
    summary.dataset.marks = marks;
    summary.dataset.arrows = arrows;
    summary.dataset.messageArrows = candidates.filter((j) => linkKind[j] === 0).length;
    summary.dataset.lockArrows = candidates.filter((j) => linkKind[j] === 1).length;
    summary.dataset.aggregated = aggregate;
    summary.dataset.broken = D.broken;
    summary.dataset.selected = selected >= 0 ? D.objects[selected] : "";
    status.textContent += selected >= 0 ? "; showing " + D.objects[selected] + " (click elsewhere to show all)" : "; click a mark to show its object alone";
  }

  function lowerBound(arr, value) {
    let lo = 0, hi = arr.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (arr[mid] < value) lo = mid + 1; else hi = mid; }
    return lo;
  }

  function drawArrow(g, from, to, stroke) {
    const x1 = xOf(from), y1 = laneY(lane[from - 1]), x2 = xOf(to), y2 = laneY(lane[to - 1]);
    g.strokeStyle = stroke; g.fillStyle = stroke; g.lineWidth = 1.2;
    g.beginPath();
    const bend = y1 === y2 ? -LANE_H * 0.6 : 0;
    const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2 + bend;
    g.moveTo(x1, y1); g.quadraticCurveTo(cx, cy, x2, y2); g.stroke();
    const angle = Math.atan2(y2 - cy, x2 - cx), h = 6;
    g.beginPath();
    g.moveTo(x2, y2);
    g.lineTo(x2 - h * Math.cos(angle - 0.4), y2 - h * Math.sin(angle - 0.4));
    g.lineTo(x2 - h * Math.cos(angle + 0.4), y2 - h * Math.sin(angle + 0.4));
    g.fill();
  }

  // The event under the pointer: the lane's event nearest in x, within a few pixels.
  function hit(mx, my) {
    const l = Math.floor((my - TOP) / LANE_H);
    if (l < 0 || l >= LANES || mx < LABEL_W) return 0;
    const n = start + (mx - LABEL_W) / scale, events = perLane[l];
    let k = lowerBound(events, n), best = 0, dist = 6 / scale + 0.5;
    for (const c of [k - 1, k]) {
      if (c >= 0 && c < events.length && Math.abs(events[c] - n) <= dist) { dist = Math.abs(events[c] - n); best = events[c]; }
    }
    return best;
  }

  function describe(n) {
    const i = n - 1, l = D.lanes[lane[i]];
    const rows = ["#" + n + "  " + D.kinds[kind[i]], "thread: " + l.name + " (" + l.thread + ")"];
    if (object[i] >= 0) rows.push("object: " + D.objects[object[i]]);
    rows.push("call site: " + D.sites[site[i]]);
    const o = D.outcomes[outcome[i]];
    if (o) rows.push("outcome: " + o);
    return rows.join("\n");
  }

  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, start, moved: false }; canvas.classList.add("dragging"); });
  canvas.addEventListener("click", (e) => {
    if (drag && drag.moved) return;
    const r = canvas.getBoundingClientRect(), n = hit(e.clientX - r.left, e.clientY - r.top);
    selected = n && object[n - 1] >= 0 && object[n - 1] !== selected ? object[n - 1] : -1;
    draw();
  });
  window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); canvas.classList.remove("dragging"); });
  window.addEventListener("mousemove", (e) => {
    if (drag && e.buttons) { drag.moved = drag.moved || Math.abs(e.clientX - drag.x) > 3; start = drag.start - (e.clientX - drag.x) / scale; tip.style.display = "none"; draw(); return; }
    const r = canvas.getBoundingClientRect(), n = hit(e.clientX - r.left, e.clientY - r.top);
    if (!n || e.target !== canvas) { tip.style.display = "none"; return; }
    tip.textContent = describe(n);
    tip.style.display = "block";
    tip.style.left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
    tip.style.top = (e.clientY + 14) + "px";
  });
  function zoomAt(factor, mx) {
    const at = start + (mx - LABEL_W) / scale;
    scale *= factor;
    clamp();
    start = at - (mx - LABEL_W) / scale;
    draw();
  }
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) { start += (e.deltaX || e.deltaY) / scale; draw(); return; }
    zoomAt(Math.exp(-e.deltaY * 0.002), e.clientX - r.left);
  }, { passive: false });
  const middle = () => LABEL_W + plotW() / 2;
  document.getElementById("zoom-in").onclick = () => zoomAt(2, middle());
  document.getElementById("zoom-out").onclick = () => zoomAt(0.5, middle());
  document.getElementById("fit").onclick = () => { fit(); draw(); };
  const toEnd = () => { scale = Math.max(scale, 12); start = N + 0.5 - plotW() / scale * 0.75; draw(); };
  document.getElementById("to-end").onclick = toEnd;
  window.addEventListener("keydown", (e) => {
    if (e.key === "+" || e.key === "=") zoomAt(2, middle());
    else if (e.key === "-") zoomAt(0.5, middle());
    else if (e.key === "0") { fit(); draw(); }
    else if (e.key === "e") toEnd();
    else if (e.key === "ArrowLeft") { start -= plotW() / scale / 4; draw(); }
    else if (e.key === "ArrowRight") { start += plotW() / scale / 4; draw(); }
  });
  window.addEventListener("resize", () => { resize(); draw(); });

  resize();
  fit();
  // `#from=A&to=B` opens on events A..B (a link from a report, or a test).
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has("object")) selected = D.objects.findIndex((o) => o.startsWith(hash.get("object") + " ") || o === hash.get("object"));
  if (hash.has("from") && hash.has("to")) {
    const a = Number(hash.get("from")), b = Number(hash.get("to"));
    if (b > a) { scale = plotW() / (b - a + 1); start = a - 0.5; }
  }
  draw();
})();
