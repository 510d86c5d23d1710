// archspec serve: fetch a spec's page data, draw it, and refetch when the server says it changed.
// Text from the spec is always set with textContent; only the SVG from Graphviz is inserted as markup.
"use strict";

const state = { index: 0, specs: [], shown: null, page: null, selected: null, lastSvg: {}, rowBox: {} };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

const number = (value) => (value === null || value === undefined ? "?" : value.toLocaleString("en-US"));

async function load(index) {
  const page = await getJSON(`/api/spec/${index}`);
  if (index !== state.index) return; // another tab was chosen meanwhile
  state.page = page;
  state.shown = page.version;
  render(page);
}

function render(page) {
  document.title = `${page.name} · archspec serve`;
  $("title").textContent = page.name;
  const errors = page.diagnostics.filter((d) => d.severity === "error").length;
  const badge = $("badge");
  badge.textContent = page.ok ? "valid" : `${errors} error${errors === 1 ? "" : "s"}`;
  badge.className = `badge ${page.ok ? "ok" : "invalid"}`;
  $("io").textContent = page.io;
  renderDiagram(page);
  renderDiagnostics(page);
  renderTable(page);
  renderSource(page);
  document.body.dataset.version = String(page.version);
  document.body.dataset.spec = String(state.index);
  $("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
  if (state.selected && page.boxes[state.selected]) select(state.selected, false);
  else state.selected = null;
}

function renderDiagram(page) {
  const diagram = $("diagram");
  const note = $("note");
  let svg = page.svg;
  let message = page.diagram_note;
  if (!svg && state.lastSvg[state.index] && !page.rows.length) {
    svg = state.lastSvg[state.index]; // the spec does not load: keep the last drawing, greyed
    message = `${message || "no diagram"}; showing the last diagram that loaded`;
    diagram.classList.add("stale");
  } else {
    diagram.classList.remove("stale");
  }
  if (page.svg) state.lastSvg[state.index] = page.svg;
  note.hidden = !message;
  note.textContent = message || "";
  diagram.innerHTML = svg || "";
  for (const node of diagram.querySelectorAll("g.node")) {
    const title = node.querySelector("title");
    if (!title) continue;
    node.dataset.box = title.textContent;
    node.addEventListener("click", () => select(node.dataset.box, true));
  }
}

function renderDiagnostics(page) {
  const box = $("diagnostics");
  box.replaceChildren();
  for (const d of page.diagnostics) {
    const item = el("div", { class: `diagnostic ${d.severity}`, "data-line": String(d.line) });
    const where = d.node ? ` (in node '${d.node}')` : "";
    item.append(el("div", { class: "head" }, `${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}${where}`));
    if (d.source_line !== null && d.source_line !== undefined) {
      const gutter = `${String(d.line).padStart(4)} | `;
      const caret = " ".repeat(gutter.length + Math.max(d.column - 1, 0)) + "^";
      item.append(el("pre", {}, `${gutter}${d.source_line}\n${caret}`));
    }
    if (d.hint) item.append(el("div", { class: "hint" }, `hint: ${d.hint}`));
    item.addEventListener("click", () => showLines([[d.line, d.line]]));
    box.append(item);
  }
}

function renderTable(page) {
  state.rowBox = {};
  for (const [box, entry] of Object.entries(page.boxes)) for (const row of entry.rows) state.rowBox[row] = box;
  const body = document.querySelector("#summary tbody");
  body.replaceChildren();
  for (const row of page.rows) {
    const tr = el(
      "tr",
      { "data-id": row.id, class: row.error ? "error" : "" },
      el("td", {}, row.id),
      el("td", {}, row.type),
      el("td", {}, row.args),
      el("td", {}, row.shape),
      el("td", { class: "num" }, number(row.params)),
      el("td", { class: "num" }, number(row.macs)),
      el("td", { class: "num" }, number(row.flops)),
      el("td", { class: "num" }, row.activations),
    );
    tr.addEventListener("click", () => select(state.rowBox[row.id] || row.id, true));
    body.append(tr);
  }
  const totals = page.totals;
  const foot = document.querySelector("#summary tfoot");
  foot.replaceChildren();
  if (page.rows.length) {
    foot.append(
      el(
        "tr",
        {},
        el("td", { colspan: "4" }, `total: ${number(totals.layers)} layers`),
        el("td", { class: "num" }, number(totals.params)),
        el("td", { class: "num" }, number(totals.macs)),
        el("td", { class: "num" }, number(totals.flops)),
        el("td", { class: "num" }, totals.activations),
      ),
    );
  }
}

function renderSource(page) {
  const title = $("source-title");
  title.textContent = `Spec: ${page.file.split(/[\\/]/).pop()}`;
  title.title = page.file;
  const errorLines = new Set(page.diagnostics.filter((d) => d.severity === "error").map((d) => d.line));
  const pre = $("source");
  pre.replaceChildren(
    ...page.source.map((text, i) =>
      el("span", { class: `line${errorLines.has(i + 1) ? " error-line" : ""}`, "data-line": String(i + 1) }, text),
    ),
  );
}

function clearSelection() {
  for (const node of document.querySelectorAll(".selected")) node.classList.remove("selected");
}

function select(box, scroll) {
  const entry = state.page && state.page.boxes[box];
  if (!entry) return;
  clearSelection();
  state.selected = box;
  for (const node of document.querySelectorAll("#diagram g.node")) {
    if (node.dataset.box === box) node.classList.add("selected");
  }
  let first = null;
  for (const id of entry.rows) {
    const tr = document.querySelector(`#summary tr[data-id="${CSS.escape(id)}"]`);
    if (tr) {
      tr.classList.add("selected");
      first = first || tr;
    }
  }
  if (scroll && first) first.scrollIntoView({ block: "nearest" });
  showLines(entry.lines, scroll);
}

function showLines(spans, scroll = true) {
  for (const line of document.querySelectorAll("#source .line.selected")) line.classList.remove("selected");
  let first = null;
  for (const [start, end] of spans) {
    for (let n = start; n <= end; n++) {
      const line = document.querySelector(`#source .line[data-line="${n}"]`);
      if (line) {
        line.classList.add("selected");
        first = first || line;
      }
    }
  }
  if (scroll && first) first.scrollIntoView({ block: "nearest" });
}

function renderTabs() {
  const nav = $("tabs");
  nav.replaceChildren();
  if (state.specs.length < 2) return;
  state.specs.forEach((spec, i) => {
    const classes = `${i === state.index ? "current" : ""} ${spec.ok ? "" : "invalid"}`.trim();
    const button = el("button", { type: "button", class: classes, title: spec.file }, spec.name);
    button.addEventListener("click", () => {
      state.index = i;
      state.selected = null;
      renderTabs();
      load(i);
    });
    nav.append(button);
  });
}

function listen() {
  const events = new EventSource("/events");
  events.onmessage = (message) => {
    const { versions } = JSON.parse(message.data);
    if (versions[state.index] !== state.shown) load(state.index).catch(showError);
    if (state.specs.length > 1 && versions.some((v, i) => v !== state.specs[i].version)) {
      getJSON("/api/specs").then((specs) => {
        state.specs = specs;
        renderTabs();
      }, showError);
    }
  };
  events.onerror = () => {
    $("status").textContent = "disconnected: is archspec serve still running? retrying…";
  };
  events.onopen = () => {
    $("status").textContent = "live";
  };
}

function showError(error) {
  $("status").textContent = `error: ${error.message}`;
}

async function main() {
  state.specs = await getJSON("/api/specs");
  renderTabs();
  await load(state.index);
  listen();
}

main().catch(showError);
