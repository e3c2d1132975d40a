// The console's helpers: the API call, tables, CSV exports and charts (docs/console.md).
// Every chart is drawn from the same columns and rows as its table and its CSV file, so
// the figures of all three are equal by construction.

const KEY = "patron.apiKey";
// The API's root: the page is <root>/console (a deployed stage adds its own prefix).
export const apiRoot = location.pathname.replace(/\/console\/?$/, "");

export function signedIn() {
  return sessionStorage.getItem(KEY) !== null;
}

export function signIn(key) {
  sessionStorage.setItem(KEY, key.trim());
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// An API answer that is not 2xx: its status and the API's error body ({error, message, details}).
export class ApiError extends Error {
  constructor(status, body) {
    super(`${status} ${body.error || "error"}: ${body.message || ""}`);
    this.status = status;
    this.body = body;
  }
}

// The signed-in key as the API's Authorization header (for reads that are not JSON).
export function tokenHeader() {
  return { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
}

// GET an API path with the signed-in key (or send a JSON body with another method): the
// parsed JSON, or an ApiError.
export async function api(path, method = "GET", payload = undefined) {
  const init = { method, headers: tokenHeader() };
  if (payload !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  const response = await fetch(apiRoot + path, init);
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: "not_json", message: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// Element helper: el("p", {class: "note"}, "text", child...)
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

// The API's error body, shown as it came (status, code, message, details).
export function showError(root, error) {
  const box = el("div", { class: "error", role: "alert" });
  if (error instanceof ApiError) {
    box.append(el("strong", {}, `${error.status} ${error.body.error || ""}`), " ", error.body.message || "");
    if (error.body.details !== undefined) {
      box.append(el("pre", {}, JSON.stringify(error.body.details, null, 1)));
    }
  } else {
    box.append(el("strong", {}, "error"), " ", String(error && error.message ? error.message : error));
  }
  root.append(box);
  return box;
}

// A cell's text: the API's value as it came (money and shares are already decimal strings
// or numbers), or the column's own format. Tables and CSV files both use this.
// A loyalty read: null when the workspace's loyalty is off (409), else the answer.
export async function loyaltyRead(ctx, path) {
  try {
    return await ctx.api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return null;
    throw error;
  }
}

export function cellText(column, row) {
  const value = row[column.key];
  if (column.format) return column.format(value, row);
  if (value === null || value === undefined) return "";
  return String(value);
}

// A table of rows (objects) under columns [{key, label, format?}].
export function table(root, columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c.label)));
  const body = rows.map((row) => el("tr", {}, ...columns.map((c) => el("td", { "data-key": c.key }, cellText(c, row)))));
  const node = el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
  root.append(el("div", { class: "table-wrap" }, node));
  return node;
}

function csvField(text) {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// The same columns and rows as CSV text (RFC 4180, CRLF line ends).
export function csvText(columns, rows) {
  const lines = [columns.map((c) => csvField(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvField(cellText(c, row))).join(","));
  return lines.join("\r\n") + "\r\n";
}

// A link that downloads the rows as a CSV file.
export function csvLink(root, filename, columns, rows) {
  const blob = new Blob([csvText(columns, rows)], { type: "text/csv;charset=utf-8" });
  const link = el("a", { class: "csv", href: URL.createObjectURL(blob), download: filename }, `Download ${filename}`);
  root.append(link);
  return link;
}

const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9"];

function number(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function slant(labels, width) {
  const longest = Math.max(...labels.map((l) => l.length));
  return longest * 7 * labels.length > width - 80 ? { rotate: -45, size: 30 + longest * 5 } : {};
}

// uPlot bars (one series, or two side by side with spec.grouped) or lines: one x category per row (spec.x: {key}), one series per
// spec.series.
function plot(box, spec) {
  const uPlot = globalThis.uPlot;
  const labels = spec.rows.map((row) => String(row[spec.x.key]));
  const xs = labels.map((_, i) => i);
  const bars = spec.type === "bar";
  const n = spec.series.length;
  const series = [{ label: spec.x.label }];
  spec.series.forEach((s, i) => {
    const entry = { label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2 };
    if (bars) {
      entry.fill = PALETTE[i % PALETTE.length];
      // several series side by side (spec.grouped): each a narrower bar, one left, one right
      entry.paths = uPlot.paths.bars(spec.grouped && n === 2 ? { size: [0.35, 40], align: i ? 1 : -1 } : { size: [0.7, 80] });
      entry.points = { show: false };
    }
    series.push(entry);
  });
  const data = [xs, ...spec.series.map((s) => spec.rows.map((row) => number(row[s.key])))];
  const width = Math.max(240, box.clientWidth || 600);
  const options = {
    width,
    height: spec.height || 260,
    series,
    scales: {
      x: { time: false, range: [-0.6, Math.max(0.6, xs.length - 0.4)] },
      // from zero (bars that start elsewhere mislead), a little headroom above the highest
      y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      // category labels; slanted when they would not fit side by side (a phone)
      { splits: () => xs, values: (_, ticks) => ticks.map((t) => labels[t] ?? ""), ...slant(labels, width) },
      // wide enough for the longest label (10,000 would lose its first digit at the default)
      { values: spec.yFormat ? (_, ticks) => ticks.map(spec.yFormat) : undefined, size: (_, values) => Math.max(50, 12 + 7 * Math.max(0, ...(values || []).map((v) => String(v).length))) },
    ],
    legend: { show: n > 1 },
  };
  const chart = new uPlot(options, data, box);
  new ResizeObserver(() => {
    const w = Math.max(240, box.clientWidth);
    if (Math.abs(w - chart.width) > 4) chart.setSize({ width: w, height: options.height });
  }).observe(box);
  return chart;
}

// A heat map on a canvas: rows of spec.rows, cells from spec.cells(row) in [0, 1].
function heat(box, spec) {
  const rows = spec.rows;
  const cells = rows.map(spec.cells);
  const widest = Math.max(1, ...cells.map((c) => c.length));
  const label = 90;
  const width = Math.max(240, box.clientWidth || 600);
  const size = Math.max(12, Math.min(40, Math.floor((width - label) / widest)));
  const canvas = el("canvas", { width: label + size * widest, height: 22 + size * rows.length, role: "img", "aria-label": spec.title });
  const g = canvas.getContext("2d");
  g.fillStyle = "#ffffff";
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#334155";
  for (let j = 0; j < widest; j += 1) g.fillText((spec.xLabels || [])[j] ?? String(j), label + j * size + 3, 14);
  rows.forEach((row, i) => {
    g.fillStyle = "#334155";
    g.fillText(String(row[spec.y.key]), 2, 22 + i * size + size / 2 + 4);
    cells[i].forEach((value, j) => {
      const v = number(value);
      if (v === null) return;
      g.fillStyle = `rgba(37, 99, 235, ${0.08 + 0.92 * Math.min(1, Math.max(0, v))})`;
      g.fillRect(label + j * size, 22 + i * size, size - 1, size - 1);
    });
  });
  box.append(canvas);
  return canvas;
}

// A chart with its table fallback and its CSV export, all three from spec.columns and
// spec.rows. spec: {title, type: "bar" | "line" | "heat", filename, columns, rows,
// x: {key, label} and series: [{key, label}] (bar, line), y: {key}, cells(row) and the
// columns' xLabels (heat; their index without)}.
export function chart(root, spec) {
  const figure = el("figure", { class: "chart", "data-chart": spec.filename });
  figure.append(el("figcaption", {}, spec.title));
  const box = el("div", { class: "plot" });
  figure.append(box);
  root.append(figure);
  if (spec.rows.length === 0) {
    box.append(el("p", { class: "note" }, "No data for this period."));
  } else if (spec.type === "heat") {
    heat(box, spec);
  } else {
    plot(box, spec);
  }
  const details = el("details", {}, el("summary", {}, "Table"));
  table(details, spec.columns, spec.rows);
  figure.append(details);
  csvLink(figure, spec.filename, spec.columns, spec.rows);
  return figure;
}

// A row of KPI cards: [{label, value, key}] (value as the API gave it).
export function kpis(root, items) {
  const list = el("dl", { class: "kpis" });
  for (const item of items) {
    list.append(el("div", { class: "kpi", "data-kpi": item.key }, el("dt", {}, item.label), el("dd", {}, item.value === null || item.value === undefined ? "—" : String(item.value))));
  }
  root.append(list);
  return list;
}

// The report's period as query parameters (from the page's hash: #/page?from=..&to=..).
export function periodQuery(params) {
  const query = new URLSearchParams();
  if (params.get("from")) query.set("from", params.get("from"));
  if (params.get("to")) query.set("to", params.get("to"));
  const text = query.toString();
  return text ? `?${text}` : "";
}
