// flowproc trace page. Traces arrive as Server-Sent Events ("trace" events,
// one flowproc.v1.ExchangeTrace in protojson each) from ./stream. Every value
// shown comes from requests, so the page only ever sets textContent.
"use strict";

const MAX_EXCHANGES = 1000; // the list keeps the newest; older ones drop off
let exchanges = [];         // oldest first
let selected = null;
let source = null;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function setState(text) { $("state").textContent = text; }

function ms(us) { return us === undefined ? "" : (us / 1000).toFixed(us < 10000 ? 2 : 1); }

function timeOf(x) {
  if (!x.start) return "";
  const d = new Date(x.start);
  return isNaN(d) ? x.start : d.toLocaleTimeString(undefined, { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function add(x, render) {
  if (!x || typeof x !== "object") return;
  exchanges.push(x);
  if (exchanges.length > MAX_EXCHANGES) {
    const gone = exchanges.shift();
    if (render) {
      const body = $("exchanges").tBodies[0];
      if (body.lastChild) body.lastChild.remove();
    }
    if (gone === selected) selected = null;
  }
  if (render) renderRow(x);
}

function renderRow(x) {
  const body = $("exchanges").tBodies[0];
  const status = x.status || 0;
  const tr = el("tr", { class: "exchange", data: { id: x.id || "" } },
    el("td", null, timeOf(x)),
    el("td", null, x.project || ""),
    el("td", null, x.method || ""),
    el("td", { class: "path" }, x.path || ""),
    el("td", { class: "status-" + String(status).charAt(0) }, status || ""),
    el("td", null, x.outcome || ""),
    el("td", null, ms(x.durationUs)));
  tr.addEventListener("click", () => {
    for (const r of body.querySelectorAll("tr.selected")) r.classList.remove("selected");
    tr.classList.add("selected");
    show(x);
  });
  body.prepend(tr); // newest on top
  $("empty").hidden = true;
}

function renderList() {
  const body = $("exchanges").tBodies[0];
  body.replaceChildren();
  for (const x of exchanges) renderRow(x);
  $("empty").hidden = exchanges.length > 0;
}

function headerTable(headers) {
  const t = el("table", { class: "headers" }, el("thead", null, el("tr", null, el("th", null, "name"), el("th", null, "value"))));
  const b = el("tbody");
  for (const h of headers || []) b.append(el("tr", null, el("td", null, h.name || ""), el("td", { class: "path" }, h.value || "")));
  t.append(b);
  return t;
}

function show(x) {
  selected = x;
  $("detail").hidden = false;
  $("detail-title").textContent = (x.method || "") + " " + (x.path || "");
  const sum = $("summary");
  sum.replaceChildren();
  const rows = [["id", x.id], ["project", x.project + (x.kind ? " (" + x.kind + ")" : "")], ["authority", x.authority],
    ["start", x.start], ["duration", ms(x.durationUs) + " ms"], ["status", x.status], ["outcome", x.outcome], ["error", x.error]];
  for (const [k, v] of rows) if (v !== undefined && v !== "" && v !== null) sum.append(el("dt", null, k), el("dd", { data: { field: k } }, v));

  const total = Math.max(x.durationUs || 0, ...(x.steps || []).map((s) => (s.startOffsetUs || 0) + (s.durationUs || 0)), 1);
  const steps = $("steps").tBodies[0];
  steps.replaceChildren();
  for (const s of x.steps || []) {
    const ran = s.ran !== undefined ? s.ran : (s.kind !== "step" || !s.condition || s.conditionResult);
    const cls = ["step", s.error ? "failed" : "", ran ? "" : "skipped"].join(" ").trim();
    const left = 100 * (s.startOffsetUs || 0) / total;
    const width = 100 * (s.durationUs || 0) / total;
    const bar = el("div", { class: "bar" }, el("span", { style: `left:${left.toFixed(2)}%;width:${Math.max(width, 0.3).toFixed(2)}%` }));
    const vars = (s.vars || []).map((v) => v.name + " = " + v.value).join("\n");
    const result = s.error ? "error: " + s.error : (s.kind === "message" ? s.message : (ran ? "ran" : "skipped"));
    const cond = s.condition ? s.condition + " → " + (s.conditionResult ? "true" : "false") : "";
    const name = "\u00a0".repeat(2 * (s.depth || 0)) + (s.step || s.kind || "");
    steps.append(el("tr", { class: cls, title: s.at || "" },
      el("td", null, s.seq || ""), el("td", null, s.flow || ""), el("td", { class: "name" }, name), el("td", null, s.type || ""),
      el("td", { class: "cond" }, cond), el("td", { class: "result" }, result), el("td", { class: "timeline" }, bar),
      el("td", null, s.durationUs || 0), el("td", { class: "vars" }, vars)));
  }

  const fwd = $("forward");
  fwd.replaceChildren();
  const f = x.forward;
  if (!f) fwd.append(el("p", null, x.outcome === "forward" ? "forwarded unchanged" : "not forwarded"));
  else {
    const d = el("dl");
    for (const [k, v] of [["path", f.path], ["authority", f.authority], ["status", f.status]]) if (v) d.append(el("dt", null, k), el("dd", null, v));
    if ((f.removeHeaders || []).length) d.append(el("dt", null, "removed headers"), el("dd", null, f.removeHeaders.join(", ")));
    fwd.append(d);
    if ((f.setHeaders || []).length) fwd.append(headerTable(f.setHeaders));
  }

  const ph = $("phases");
  ph.replaceChildren();
  for (const p of x.phases || []) {
    const box = el("div", { class: "phase" }, el("h4", null, p.phase || ""));
    if ((p.headers || []).length) box.append(headerTable(p.headers));
    if (p.body) box.append(el("pre", null, p.body + (p.bodyTruncated ? "\n… (" + (p.bodySize || "?") + " bytes in all)" : "")));
    ph.append(box);
  }
}

function query() {
  const form = new FormData($("filter"));
  const q = new URLSearchParams();
  for (const [k, v] of form.entries()) if (typeof v === "string" && v.trim() !== "") q.set(k, v.trim());
  return q.toString();
}

function start(ev) {
  if (ev) ev.preventDefault();
  stop();
  const url = "stream" + (query() ? "?" + query() : "");
  // Check the filter first: EventSource hides the status and body of a refused request.
  fetch(url + (url.includes("?") ? "&" : "?") + "check=1").then((r) => {
    if (!r.ok) return r.text().then((t) => { setState("refused: " + t.trim()); });
    source = new EventSource(url);
    $("start").disabled = true; $("stop").disabled = false;
    setState("connecting…");
    source.onopen = () => setState("tracing " + (query() || "every exchange"));
    source.addEventListener("trace", (e) => { try { add(JSON.parse(e.data), true); } catch (err) { setState("bad trace: " + err); } });
    source.addEventListener("end", () => { stop(); setState("the server ended the session"); });
    source.onerror = () => { if (source && source.readyState === EventSource.CLOSED) { stop(); setState("disconnected"); } else setState("reconnecting…"); };
  }, (err) => setState("cannot reach the server: " + err));
}

function stop() {
  if (source) { source.close(); source = null; }
  $("start").disabled = false; $("stop").disabled = true;
  setState("stopped");
}

function exportSession() {
  const text = exchanges.map((x) => JSON.stringify(x)).join("\n") + (exchanges.length ? "\n" : "");
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" })), download: "flowproc-trace-" + new Date().toISOString().replace(/[:.]/g, "-") + ".jsonl" });
  document.body.append(a); a.click(); a.remove();
}

// importText accepts JSON lines (what Export and `flowproc trace -save`
// write) or one JSON array of traces.
function importText(text) {
  let list = [];
  const t = text.trim();
  if (t.startsWith("[")) list = JSON.parse(t);
  else for (const line of t.split(/\r?\n/)) if (line.trim()) list.push(JSON.parse(line));
  exchanges = [];
  selected = null;
  $("detail").hidden = true;
  for (const x of list) add(x, false);
  renderList();
  setState("showing " + exchanges.length + " imported exchange(s)");
}

document.addEventListener("DOMContentLoaded", () => {
  $("filter").addEventListener("submit", start);
  $("stop").addEventListener("click", stop);
  $("clear").addEventListener("click", () => { exchanges = []; selected = null; renderList(); $("detail").hidden = true; });
  $("export").addEventListener("click", exportSession);
  $("import").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (!file) return;
    file.text().then((t) => { try { importText(t); } catch (err) { setState("import failed: " + err); } });
  });
  window.flowprocTrace = { importText, exchanges: () => exchanges, show };
  if (new URLSearchParams(location.search).has("start")) start();
});
