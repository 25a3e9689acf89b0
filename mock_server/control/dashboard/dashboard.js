// chatlabels dashboard: reads and drives the control API of the mock that served it.
// Same origin only, no other host, no build step. Every value from the server is put in
// the page as text (textContent), never as HTML: journal entries hold what any client sent.
"use strict";

const PALETTE = JSON.parse(document.getElementById("palette").textContent);
const REFRESH_MS = 1000;
const JOURNAL_LIMIT = 200;
const TOKEN_KEY = "chatlabels.adminToken";
const $ = (selector) => document.querySelector(selector);
const shown = {};  // the last JSON text rendered per panel, to re-render only on change
let selectedEntry = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["X-Admin-Token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body, cache: "no-store" });
  const data = await response.json().catch(() => null);
  if (response.status === 401) $("#token-form").hidden = false;
  if (!response.ok) {
    const problems = (data && data.problems) || [];
    const details = problems.map((p) => `\n  ${p.pointer || "/"}: ${p.reason}`).join("");
    throw new Error(`${response.status} ${(data && data.message) || response.statusText}${details}`);
  }
  return data;
}

function say(text, isError = false) {
  const message = $("#message");
  message.textContent = text;
  message.className = isError ? "error" : "";
  message.hidden = !text;
}

function badge(label) {
  const color = label.colorHex || PALETTE[label.color] || "#dddddd";
  const node = el("span", { class: "badge", text: label.name, title: `id ${label.id}, color ${label.color} ${color}` });
  node.dataset.labelId = label.id;
  node.dataset.colorHex = color;
  node.style.backgroundColor = color;  // CSSOM, allowed by the page's style-src 'self'
  return node;
}

function changed(panel, data) {
  const text = JSON.stringify(data);
  if (shown[panel] === text) return false;
  shown[panel] = text;
  return true;
}

function renderInstances(fixture) {
  if (!changed("instances", fixture)) return;
  const box = $("#instances");
  box.replaceChildren();
  for (const instance of fixture.instances) {
    const labels = new Map(instance.labels.map((label) => [label.id, label]));
    const section = el("div", { class: "instance" });
    section.dataset.instance = instance.id;
    section.append(el("h3", { text: `Instance ${instance.id}` }),
      el("div", { class: "meta", text: `session ${instance.session} · ${instance.status} · ${instance.engine || ""}` }));
    const directory = el("div", { class: "directory" });
    directory.append(el("strong", { text: "Labels: " }));
    if (!instance.labels.length) directory.append(el("span", { class: "none", text: "none" }));
    instance.labels.forEach((label) => directory.append(badge(label)));
    section.append(directory);
    const rows = Object.entries(instance.chats).map(([chat, ids]) => {
      const cell = el("td");
      if (!ids.length) cell.append(el("span", { class: "none", text: "no labels" }));
      ids.forEach((id) => cell.append(badge(labels.get(id) || { id, name: id })));
      const row = el("tr", {}, el("td", { class: "chat", text: chat }), cell);
      row.dataset.chat = chat;
      return row;
    });
    const table = el("table", { class: "chats" },
      el("thead", {}, el("tr", {}, el("th", { text: "chat" }), el("th", { text: "labels" }))),
      el("tbody", {}, ...rows));
    section.append(table);
    box.append(section);
  }
}

function statusMatches(status, wanted) {
  if (!wanted) return true;
  if (status === null) return wanted === "dropped";
  return /^[1-5]xx$/i.test(wanted) ? String(status)[0] === wanted[0] : String(status) === wanted;
}

function renderJournal(entries) {
  const status = new FormData($("#journal-filter")).get("status").trim();
  const rows = entries.filter((entry) => statusMatches(entry.status, status)).reverse();
  if (!changed("journal", [status, rows])) return;
  const body = $("#journal tbody");
  body.replaceChildren(...rows.map((entry) => {
    const code = entry.status === null ? "dropped" : String(entry.status);
    const row = el("tr", {},
      el("td", { text: String(entry.id) }),
      el("td", { text: entry.time.slice(11, 23) }),
      el("td", { text: entry.method }),
      el("td", { class: "path", text: entry.path }),
      el("td", { text: entry.instance || entry.session || "" }),
      el("td", { class: entry.status === null ? "dropped" : `s${code[0]}`, text: code }),
      el("td", { text: String(entry.duration_ms) }),
      el("td", { text: entry.faults.join(", ") }));
    row.dataset.id = entry.id;
    row.dataset.status = code;
    if (entry.id === selectedEntry) row.className = "selected";
    row.addEventListener("click", () => showEntry(entry, row));
    return row;
  }));
}

function showEntry(entry, row) {
  selectedEntry = entry.id;
  document.querySelectorAll("#journal tr.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const pre = $("#entry");
  pre.textContent = JSON.stringify(entry, null, 2);
  pre.hidden = false;
}

function describeEffect(rule) {
  const parts = [];
  if (rule.status) parts.push(`status ${rule.status}${rule.error ? " " + rule.error : ""}`);
  for (const flag of ["drop_connection", "malformed_json", "object_root"]) if (rule[flag]) parts.push(flag);
  if (rule.latency_ms !== undefined) parts.push(`latency ${JSON.stringify(rule.latency_ms)} ms`);
  if (rule.probability !== undefined) parts.push(`p=${rule.probability}`);
  return parts.join(", ");
}

function renderFaults(data) {
  if (!changed("faults", data)) return;
  $("#faults tbody").replaceChildren(...data.faults.map((rule) => {
    const remove = el("button", { type: "button", text: "Remove" });
    remove.addEventListener("click", () => act(() => api("DELETE", `/__admin/faults/${encodeURIComponent(rule.id)}`)));
    const row = el("tr", {},
      el("td", { text: rule.id }),
      el("td", { text: JSON.stringify(rule.match || {}) }),
      el("td", { text: describeEffect(rule) }),
      el("td", { text: rule.times === undefined ? "always" : String(rule.times) }),
      el("td", {}, remove));
    row.dataset.id = rule.id;
    return row;
  }));
}

function renderWebhooks(data) {
  if (!changed("webhooks", data)) return;
  $("#webhooks tbody").replaceChildren(...data.deliveries.slice().reverse().map((delivery) => {
    const attempts = delivery.attempts.map((a) => `#${a.attempt}: ${a.statusCode ?? a.error} (${a.durationMs} ms)`);
    return el("tr", {},
      el("td", { text: delivery.event }),
      el("td", { text: delivery.instanceId }),
      el("td", { class: "path", text: delivery.url }),
      el("td", { text: delivery.outcome }),
      el("td", { text: attempts.join("; ") || "none yet" }));
  }));
}

function journalQuery() {
  const form = new FormData($("#journal-filter"));
  const query = new URLSearchParams({ limit: JOURNAL_LIMIT });
  for (const name of ["path", "instance"]) {
    const value = form.get(name).trim();
    if (value) query.set(name, value);
  }
  return `/__admin/requests?${query}`;
}

// Refreshes overlap (the timer, each keystroke in a filter, each action); an answer that
// arrives after a later refresh started is stale (an old filter) and must not be drawn.
let latestRefresh = 0;

async function refresh() {
  const thisRefresh = ++latestRefresh;
  try {
    const [fixture, journal, faults, webhooks] = await Promise.all([
      api("GET", "/__admin/fixture"),
      api("GET", journalQuery()),
      api("GET", "/__admin/faults"),
      api("GET", "/__admin/webhooks"),
    ]);
    if (thisRefresh !== latestRefresh) return;
    renderInstances(fixture);
    renderJournal(journal.requests);
    renderFaults(faults);
    renderWebhooks(webhooks);
    $("#status").textContent = `live · ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (thisRefresh !== latestRefresh) return;
    $("#status").textContent = `not connected: ${error.message}`;
  }
}

async function act(action, done) {
  try {
    const result = await action();
    say(done || (result && result.message) || "");
  } catch (error) {
    say(error.message, true);
  }
  await refresh();
}

function faultRule(form) {
  const data = new FormData(form);
  const text = (name) => data.get(name).trim();
  const rule = {};
  const match = {};
  for (const name of ["method", "path", "instance"]) if (text(name)) match[name] = text(name);
  if (text("id")) rule.id = text("id");
  if (Object.keys(match).length) rule.match = match;
  const effect = text("effect");
  if (effect === "status") rule.status = Number(text("status"));
  else if (effect !== "latency") rule[effect] = true;
  if (text("latency_ms")) rule.latency_ms = Number(text("latency_ms"));
  if (text("times")) rule.times = Number(text("times"));
  return rule;
}

$("#fault-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const rule = faultRule(event.target);
  act(() => api("POST", "/__admin/faults", JSON.stringify(rule)), "Fault rule added.");
});
$("#reset").addEventListener("click", () => act(() => api("POST", "/__admin/reset")));
$("#fixture-file").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (file) await act(async () => api("POST", "/__admin/fixture", await file.text()));
  event.target.value = "";
});
$("#journal-filter").addEventListener("input", refresh);
$("#journal-filter").addEventListener("submit", (event) => event.preventDefault());
$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value);
  $("#token-form").hidden = true;
  refresh();
});

refresh();
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
