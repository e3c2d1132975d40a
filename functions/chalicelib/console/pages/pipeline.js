// Pipeline: per stage the count, value and weighted forecast, per owner won vs target for a
// period (GET /pipeline?period=YYYY-MM|YYYY-Qn; this month by default), the opportunities
// (GET /opportunities?stage=&owner=&stale=true) and, with ?id=, one opportunity and its log
// (GET /opportunities/{id}). Each chart has its table and its CSV from the same rows.
import { chart, csvLink, el, kpis, table } from "../lib.js";
import { percent } from "./overview.js";

const words = (v) => (v === null || v === undefined ? "" : String(v).replaceAll("_", " "));
const dataText = (data) =>
  Object.entries(data || {})
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${words(k)}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(" · ");

function oppLink(id, text = id) {
  return el("a", { href: `#/pipeline?id=${encodeURIComponent(id)}`, "data-opportunity": id }, text);
}

function filterForm(root, params, stages) {
  const label = (text, field) => el("label", {}, `${text} `, field);
  const stage = el("select", { name: "stage" }, el("option", { value: "" }, "any"), ...stages.map((s) => el("option", { value: s, selected: s === params.get("stage") ? "" : null }, s)));
  const form = el(
    "form",
    { class: "search", "data-form": "opportunities" },
    label("Period", el("input", { name: "period", value: params.get("period") || "", placeholder: "2026-12 or 2026-Q4", autocomplete: "off" })),
    label("Stage", stage),
    label("Owner", el("input", { name: "owner", value: params.get("owner") || "", autocomplete: "off" })),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "stale", checked: params.get("stale") === "true" ? "" : null }), " stale only"),
    el("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of ["period", "stage", "owner"]) {
      const value = form.elements[key].value.trim();
      if (value) query.set(key, value);
    }
    if (form.elements.stale.checked) query.set("stale", "true");
    location.hash = `/pipeline?${query}`;
  });
  root.append(form);
}

const LIST = [
  { key: "title", label: "title" },
  { key: "customer_id", label: "customer" },
  { key: "owner", label: "owner" },
  { key: "stage", label: "stage" },
  { key: "outcome", label: "outcome" },
  { key: "value", label: "value" },
  { key: "currency", label: "currency" },
  { key: "expected_close", label: "expected close" },
  { key: "stale", label: "stale", format: (v) => (v ? "stale" : "") },
  { key: "source", label: "source" },
  { key: "id", label: "opportunity" },
];

async function overview(root, ctx) {
  const period = ctx.params.get("period");
  const list = new URLSearchParams();
  for (const key of ["stage", "owner"]) if (ctx.params.get(key)) list.set(key, ctx.params.get(key));
  if (ctx.params.get("stale") === "true") list.set("stale", "true");
  const [view, found] = await Promise.all([
    ctx.api(`/pipeline${period ? `?period=${encodeURIComponent(period)}` : ""}`),
    ctx.api(`/opportunities${list.toString() ? `?${list}` : ""}`),
  ]);
  root.append(el("p", { class: "period", "data-period": view.period }, `Period ${view.period} (UTC); amounts in ${view.currency}. Open stages count every open opportunity; won and lost ones those closed in the period.`));
  filterForm(root, ctx.params, view.stages.map((s) => s.stage));
  kpis(root, [
    { key: "forecast", label: `Weighted forecast ${view.currency}`, value: view.forecast },
    { key: "open_count", label: "Open opportunities", value: view.stages.filter((s) => s.outcome === "open").reduce((n, s) => n + s.count, 0) },
    { key: "stale", label: "Stale", value: view.stale },
    { key: "unconverted", label: "Without a rate (left out)", value: view.unconverted },
  ]);
  const charts = el("div", { class: "charts" });
  root.append(charts);
  chart(charts, {
    title: "Value and weighted value by stage",
    type: "bar",
    grouped: true,
    filename: "pipeline-stages.csv",
    columns: [
      { key: "stage", label: "stage" },
      { key: "probability", label: "probability" },
      { key: "outcome", label: "outcome" },
      { key: "count", label: "count" },
      { key: "value", label: "value" },
      { key: "weighted", label: "weighted" },
    ],
    rows: view.stages,
    x: { key: "stage", label: "stage" },
    series: [{ key: "value", label: "value" }, { key: "weighted", label: "weighted" }],
  });
  chart(charts, {
    title: `Won vs target by owner, ${view.period}`,
    type: "bar",
    grouped: true,
    filename: "pipeline-owners.csv",
    columns: [
      { key: "owner", label: "owner" },
      { key: "won", label: "won" },
      { key: "won_count", label: "won count" },
      { key: "target", label: "target" },
      { key: "share", label: "share of target", format: percent },
    ],
    rows: view.owners,
    x: { key: "owner", label: "owner" },
    series: [{ key: "won", label: "won" }, { key: "target", label: "target" }],
  });
  const figure = el("figure", { class: "chart", "data-chart": "opportunities.csv", "data-query": list.toString() }, el("figcaption", {}, `Opportunities${list.toString() ? ` (${list.toString().replaceAll("&", ", ")})` : ""}`));
  root.append(figure);
  const node = table(figure, LIST, found.opportunities);
  node.querySelectorAll('td[data-key="id"]').forEach((td) => td.replaceChildren(oppLink(td.textContent)));
  node.querySelectorAll('td[data-key="customer_id"]').forEach((td) => td.replaceChildren(el("a", { href: `#/customers?id=${encodeURIComponent(td.textContent)}`, "data-customer": td.textContent }, td.textContent)));
  if (found.opportunities.length === 0) figure.append(el("p", { class: "note" }, "No opportunity matches."));
  csvLink(figure, "opportunities.csv", LIST, found.opportunities);
}

async function opportunity(root, ctx, id) {
  const o = await ctx.api(`/opportunities/${encodeURIComponent(id)}`);
  root.setAttribute("data-opportunity", o.id);
  root.append(el("p", {}, el("a", { href: "#/pipeline" }, "← Pipeline")), el("h2", {}, o.title));
  const facts = [
    ["customer", el("a", { href: `#/customers?id=${encodeURIComponent(o.customer_id)}`, "data-customer": o.customer_id }, o.customer_id)],
    ["owner", o.owner || ""], ["stage", o.stage], ["outcome", o.outcome], ["value", `${o.value} ${o.currency}`],
    ["expected_close", o.expected_close || ""], ["source", o.ticket_id ? `${o.source} ${o.ticket_id}` : o.source],
    ["stale", o.stale ? "stale" : "no"], ["created_at", o.created_at], ["closed_at", o.closed_at || ""],
    ["order_id", o.order_id || ""], ["actual_value", o.actual_value || ""], ["difference", o.difference || ""],
  ];
  root.append(el("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", {}, words(k)), el("dd", { "data-fact": k }, v)])));
  const columns = [
    { key: "at", label: "at" },
    { key: "kind", label: "kind" },
    { key: "by", label: "by" },
    { key: "data", label: "data", format: dataText },
  ];
  const figure = el("figure", { class: "chart", "data-chart": "opportunity-log.csv" }, el("figcaption", {}, "Its log, oldest first"));
  root.append(figure);
  table(figure, columns, o.events);
  csvLink(figure, "opportunity-log.csv", columns, o.events);
}

export default {
  title: "Pipeline",
  path: "/pipeline",
  async render(root, ctx) {
    const id = ctx.params.get("id");
    if (id) await opportunity(root, ctx, id);
    else await overview(root, ctx);
  },
};
