// Tickets: the queue (GET /tickets?status=&assignee=&kind=, oldest first, a page at a time by
// its cursor) and, with ?id=, one ticket (GET /tickets/{id}): its event log, every kind
// rendered the same way (kinds added later show too), the actions (POST /tickets/{id}/events)
// and beside it the customer panel (GET /customers/{id}, /points, /tier, /segments' scores,
// /tickets and each recent order's GET /orders/{id}). Every figure is the API's value.
import { ApiError, el, kpis, loyaltyRead, showError, table } from "../lib.js";

const PAGE = 20;
const STATUSES = ["open", "pending", "on_hold", "solved", "closed"];
const KINDS = ["pre_sale", "order_issue", "complaint", "suggestion", "return_request"];
const PRIORITIES = ["low", "normal", "high", "urgent"];
const OPEN = ["open", "pending", "on_hold"];
const words = (v) => (v === null || v === undefined ? "" : String(v).replaceAll("_", " "));
const name = (c) => [c.first_name, c.last_name].filter(Boolean).join(" ");
const stamp = (text) => (text ? String(text).slice(0, 16).replace("T", " ") : "");

// A link to a ticket's page.
export function ticketLink(id, text = id) {
  return el("a", { href: `#/tickets?id=${encodeURIComponent(id)}`, "data-ticket": id }, text);
}

const customerHref = (id) => `#/customers?id=${encodeURIComponent(id)}`;

// How long since `at` (the queue's age column): 3d 4h, 5h 12m, 7m.
export function age(at, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - Date.parse(at)) / 60000));
  const d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`;
}

// The SLA state when the API gives one (GET /tickets/{id} `sla`): each target and its state.
export function slaText(sla) {
  if (!sla) return "";
  const targets = Array.isArray(sla.targets) ? sla.targets : null;
  if (!targets) return typeof sla === "object" ? Object.entries(sla).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ") : String(sla);
  if (targets.length === 0) return "no target";
  return targets.map((t) => `${words(t.target)} ${t.near_breach && t.status === "running" ? "near breach" : words(t.status)}${t.due_at && t.status === "running" ? ` (due ${stamp(t.due_at)})` : ""}`).join(", ");
}

function select(nameAttr, options, current, blank) {
  const node = el("select", { name: nameAttr });
  if (blank !== undefined) node.append(el("option", { value: "" }, blank));
  for (const o of options) node.append(el("option", { value: o, selected: o === current ? "" : null }, words(o)));
  return node;
}

function queueForm(root, params) {
  const label = (text, field) => el("label", {}, `${text} `, field);
  const form = el(
    "form",
    { class: "search", role: "search" },
    label("Status", select("status", STATUSES, params.get("status") || "open")),
    label("Assignee", el("input", { name: "assignee", value: params.get("assignee") || "", autocomplete: "off" })),
    label("Kind", select("kind", KINDS, params.get("kind") || "", "any")),
    el("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of ["status", "assignee", "kind"]) {
      const value = form.elements[key].value.trim();
      if (value) query.set(key, value);
    }
    location.hash = `/tickets?${query}`;
  });
  root.append(form);
}

const QUEUE = [
  { key: "subject", label: "subject" },
  { key: "customer", label: "customer" },
  { key: "kind", label: "kind", format: words },
  { key: "priority", label: "priority" },
  { key: "assignee", label: "assignee" },
  { key: "age", label: "age" },
  { key: "sla", label: "SLA", format: slaText },
  { key: "id", label: "ticket" },
];

async function queue(root, ctx) {
  const params = ctx.params;
  queueForm(root, params);
  const query = new URLSearchParams();
  for (const key of ["status", "assignee", "kind", "cursor"]) if (params.get(key)) query.set(key, params.get(key));
  query.set("limit", params.get("limit") || String(PAGE));
  const page = await ctx.api(`/tickets?${query}`);
  const tickets = page.tickets;
  // the customers' names and each ticket's SLA state (GET /tickets/{id} `sla`, when given)
  const ids = [...new Set(tickets.map((t) => t.customer_id))];
  const [people, details] = await Promise.all([
    Promise.all(ids.map((id) => ctx.api(`/customers/${encodeURIComponent(id)}`).catch(() => null))),
    Promise.all(tickets.map((t) => (t.sla === undefined ? ctx.api(`/tickets/${encodeURIComponent(t.id)}`).catch(() => null) : t))),
  ]);
  const names = Object.fromEntries(ids.map((id, i) => [id, people[i] ? name(people[i]) || id : id]));
  const now = Date.now();
  const rows = tickets.map((t, i) => ({ ...t, customer: names[t.customer_id], age: age(t.created_at, now), sla: details[i] ? details[i].sla : undefined }));
  const status = words(params.get("status") || "open");
  const box = el("figure", { class: "chart", "data-chart": "tickets", "data-query": query.toString() }, el("figcaption", {}, `${rows.length} ${status} tickets on this page, oldest first`));
  root.append(box);
  if (rows.length === 0) box.append(el("p", { class: "note" }, "No ticket in this queue."));
  // the SLA column once the API gives an SLA state
  const node = table(box, rows.some((r) => r.sla) ? QUEUE : QUEUE.filter((c) => c.key !== "sla"), rows);
  node.querySelectorAll("tbody tr").forEach((tr, i) => {
    const t = rows[i];
    tr.dataset.ticket = t.id;
    tr.querySelector('td[data-key="id"]').replaceChildren(ticketLink(t.id));
    tr.querySelector('td[data-key="subject"]').replaceChildren(ticketLink(t.id, t.subject));
    tr.querySelector('td[data-key="customer"]').replaceChildren(el("a", { href: customerHref(t.customer_id), "data-customer": t.customer_id }, t.customer));
    tr.querySelector('td[data-key="age"]').title = t.created_at;
  });
  if (page.next_cursor) {
    const next = new URLSearchParams(query);
    if (!params.get("limit")) next.delete("limit");
    next.set("cursor", page.next_cursor);
    root.append(el("p", {}, el("a", { href: `#/tickets?${next}`, "data-next": "" }, "Next page →")));
  }
}

// One event of the log: its kind, when, by whom, and its data (a body as text, the rest as
// `key: value`), whatever the kind.
function eventItem(e) {
  const body = e.data && typeof e.data.body === "string" ? e.data.body : null;
  const rest = Object.entries(e.data || {}).filter(([k, v]) => k !== "body" && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0));
  const facts = rest.map(([k, v]) => `${words(k)}: ${Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : v}`);
  return el(
    "li",
    { class: `event ${e.kind}`, "data-kind": e.kind },
    el("div", { class: "event-head" }, el("strong", {}, words(e.kind)), " ", el("time", { datetime: e.at }, stamp(e.at)), ` · ${e.by}`),
    body !== null ? el("p", { class: "event-body" }, body) : null,
    facts.length ? el("p", { class: "event-data" }, facts.join(" · ")) : null,
  );
}

// The actions: each one event through POST /tickets/{id}/events; the page is drawn again
// after it (an error, 409 no_change for example, shows the API's body under the form).
function actions(root, ctx, t) {
  const box = el("section", { class: "actions", "aria-label": "Actions" });
  const out = el("div", { class: "action-result", "aria-live": "polite" });
  const post = async (payload) => {
    out.replaceChildren();
    try {
      await ctx.api(`/tickets/${encodeURIComponent(t.id)}/events`, "POST", payload);
    } catch (error) {
      showError(out, error);
      return;
    }
    window.dispatchEvent(new HashChangeEvent("hashchange")); // the ticket as it is now
  };
  const form = (key, fields, buttons) => {
    const node = el("form", { class: "action", "data-action": key }, ...fields, ...buttons);
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      const type = event.submitter ? event.submitter.value : key;
      post(payloadOf(type, node));
    });
    return node;
  };
  const text = el("textarea", { name: "body", rows: "3", required: "", "aria-label": "Message" });
  box.append(
    form("message", [text], [el("button", { type: "submit", value: "reply" }, "Send public reply"), el("button", { type: "submit", value: "note", class: "secondary" }, "Add internal note")]),
    form("status", [el("label", {}, "Status ", select("to", STATUSES, t.status))], [el("button", { type: "submit", value: "status" }, "Set status")]),
    form("priority", [el("label", {}, "Priority ", select("to", PRIORITIES, t.priority))], [el("button", { type: "submit", value: "priority" }, "Set priority")]),
    form("kind", [el("label", {}, "Kind ", select("to", KINDS, t.kind))], [el("button", { type: "submit", value: "kind" }, "Set kind")]),
    form("assign", [el("label", {}, "Assignee ", el("input", { name: "to", value: t.assignee || "", autocomplete: "off" }))], [el("button", { type: "submit", value: "assign" }, "Assign")]),
    form("tag", [el("label", {}, "Add tags ", el("input", { name: "add", autocomplete: "off", placeholder: "vip, late" })), el("label", {}, "Remove tags ", el("input", { name: "remove", autocomplete: "off" }))], [el("button", { type: "submit", value: "tag" }, "Tag")]),
    out,
  );
  root.append(box);
}

function payloadOf(type, form) {
  const value = (key) => form.elements[key].value.trim();
  const list = (key) => value(key).split(",").map((s) => s.trim()).filter(Boolean);
  if (type === "reply" || type === "note") return { type, body: value("body") };
  if (type === "tag") return { type, add: list("add"), remove: list("remove") };
  if (type === "assign") return value("to") ? { type, to: value("to") } : { type };
  return { type, to: value("to") };
}

// A loyalty read that answers 409 while points are off: null then.
// The customer beside the ticket: who, how to reach them, their orders with statuses and
// totals, points and tier, predicted CLV and churn, their open tickets.
async function customerPanel(root, ctx, t) {
  const panel = el("aside", { class: "customer-panel", "data-customer": t.customer_id }, el("h2", {}, "Customer"));
  root.append(panel);
  const path = `/customers/${encodeURIComponent(t.customer_id)}`;
  let c;
  try {
    c = await ctx.api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      panel.append(el("p", { class: "note" }, `${t.customer_id}: no such customer any more (erased or merged away).`));
      return;
    }
    throw error;
  }
  const [points, tier, segments, theirs] = await Promise.all([
    loyaltyRead(ctx, `${path}/points?limit=1`),
    loyaltyRead(ctx, `${path}/tier`),
    ctx.api(`${path}/segments`),
    ctx.api(`${path}/tickets?limit=50`),
  ]);
  const orderIds = [];
  for (const e of [...c.timeline].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))) {
    if (e.order_id && e.type.startsWith("order_") && !orderIds.includes(e.order_id)) orderIds.push(e.order_id);
  }
  const orders = (await Promise.all(orderIds.slice(0, 10).map((id) => ctx.api(`/orders/${encodeURIComponent(id)}`).catch(() => null)))).filter(Boolean);
  panel.append(
    el("p", { class: "who" }, el("a", { href: customerHref(c.customer_id), "data-customer": c.customer_id }, name(c) || c.customer_id), el("br"), c.email || "", c.email && c.phone ? " · " : "", c.phone || ""),
  );
  const scores = segments.scores || {};
  const churn = scores.p_alive !== undefined ? (1 - Number(scores.p_alive)).toFixed(4) : null;
  kpis(panel, [
    { key: "orders_count", label: "Orders", value: c.orders_count },
    { key: "net_spent", label: `Net spent ${c.currency || ""}`.trim(), value: c.net_spent },
    { key: "points_available", label: "Points", value: points ? points.available : "loyalty off" },
    { key: "tier", label: "Tier", value: tier ? tier.tier || "none" : "loyalty off" },
    { key: "clv", label: "Predicted CLV (365 d)", value: scores.clv ?? (segments.scores ? "not scored" : "no model") },
    { key: "churn", label: "Churn probability", value: churn ?? (segments.scores ? "not scored" : "no model") },
  ]);
  const ordersBox = el("figure", { class: "chart", "data-chart": "customer-orders" }, el("figcaption", {}, "Orders (latest 10)"));
  panel.append(ordersBox);
  if (orders.length === 0) ordersBox.append(el("p", { class: "note" }, "No order."));
  table(ordersBox, [
    { key: "number", label: "order" },
    { key: "created_at", label: "placed", format: stamp },
    { key: "status", label: "status" },
    { key: "financial_status", label: "payment" },
    { key: "fulfillment_status", label: "fulfilment" },
    { key: "total", label: "total" },
    { key: "currency", label: "currency" },
  ], orders).querySelectorAll("tbody tr").forEach((tr, i) => (tr.dataset.order = orders[i].order_id));
  const open = theirs.tickets.filter((x) => OPEN.includes(x.status));
  const ticketsBox = el("figure", { class: "chart", "data-chart": "customer-tickets" }, el("figcaption", {}, "Open tickets"));
  panel.append(ticketsBox);
  if (open.length === 0) ticketsBox.append(el("p", { class: "note" }, "None."));
  table(ticketsBox, [
    { key: "id", label: "ticket" },
    { key: "subject", label: "subject" },
    { key: "status", label: "status", format: words },
  ], open).querySelectorAll('td[data-key="id"]').forEach((cell) => cell.replaceChildren(ticketLink(cell.textContent)));
}

async function ticketPage(root, ctx, id) {
  const t = await ctx.api(`/tickets/${encodeURIComponent(id)}`);
  root.querySelector("h1").textContent = t.subject;
  root.dataset.ticket = t.id;
  root.append(el("p", {}, el("a", { href: `#/tickets?status=${t.status}` }, `← ${words(t.status)} tickets`)));
  const grid = el("div", { class: "ticket-grid" });
  const main = el("div", { class: "ticket-main" });
  grid.append(main);
  root.append(grid);
  const facts = [
    ["ticket", t.id],
    ["status", words(t.status)],
    ["priority", t.priority],
    ["kind", words(t.kind)],
    ["channel", words(t.channel)],
    ["assignee", t.assignee || "unassigned"],
    ["tags", t.tags.join(", ")],
    ["order", t.order_id ? `${t.order_id}${t.line_ids.length ? ` (lines ${t.line_ids.join(", ")})` : ""}` : ""],
    ["created", stamp(t.created_at)],
    ["updated", stamp(t.updated_at)],
  ];
  if (t.sla !== undefined) facts.push(["SLA", slaText(t.sla)]);
  main.append(el("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { "data-fact": k }, v)])));
  main.append(el("h2", {}, `Events (${t.events.length})`), el("ol", { class: "events" }, ...t.events.map(eventItem)));
  actions(main, ctx, t);
  await customerPanel(grid, ctx, t);
}

export default {
  title: "Tickets",
  path: "/tickets",
  async render(root, ctx) {
    const id = ctx.params.get("id");
    if (id) await ticketPage(root, ctx, id);
    else await queue(root, ctx);
  },
};
