// Customers: the search (GET /customers?q=&segment=&tier=&tag=, a page at a time by its
// cursor) and, with ?id=, one customer's 360 (GET /customers/{id} with its tags and notes,
// its points, tier, segments and flow runs; read only: edits are PATCH /customers/{id}).
// Every figure is the API's value as it came.
import { csvLink, el, kpis, loyaltyRead, table } from "../lib.js";
import { recommendedPanel } from "./products.js";
import { ticketLink } from "./tickets.js";

const PAGE = 25;

const name = (c) => [c.first_name, c.last_name].filter(Boolean).join(" ");
const day = (text) => (text ? String(text).slice(0, 10) : "");

// A link to a customer's 360 (the hash keeps the search, so Back returns to it).
export function customerLink(id) {
  return el("a", { href: `#/customers?id=${encodeURIComponent(id)}`, "data-customer": id }, id);
}

function searchForm(root, params) {
  const field = (key, label, placeholder) => el("label", {}, `${label} `, el("input", { name: key, value: params.get(key) || "", placeholder, autocomplete: "off" }));
  const form = el(
    "form",
    { class: "search", role: "search" },
    field("q", "Name, email or phone", "jane, jane@…, +1555…"),
    field("segment", "Segment", "lifecycle:active"),
    field("tier", "Tier", "gold"),
    field("tag", "Tag", "vip"),
    el("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of ["q", "segment", "tier", "tag"]) {
      const value = form.elements[key].value.trim();
      if (value) query.set(key, value);
    }
    location.hash = `/customers?${query}`;
  });
  root.append(form);
}

const LIST = [
  { key: "customer_id", label: "customer" },
  { key: "name", label: "name", format: (_, c) => name(c) },
  { key: "email", label: "email" },
  { key: "phone", label: "phone" },
  { key: "is_member", label: "member", format: (v) => (v ? "yes" : "no") },
  { key: "orders_count", label: "orders" },
  { key: "net_spent", label: "net spent" },
  { key: "last_order_at", label: "last order", format: day },
  { key: "tags", label: "tags", format: (v) => (v || []).join(" ") },
];

async function search(root, ctx) {
  const params = ctx.params;
  searchForm(root, params);
  const query = new URLSearchParams();
  for (const key of ["q", "segment", "tier", "tag", "cursor"]) if (params.get(key)) query.set(key, params.get(key));
  query.set("limit", String(PAGE));
  const page = await ctx.api(`/customers?${query}`);
  const box = el("figure", { class: "chart", "data-chart": "customers.csv", "data-query": query.toString() }, el("figcaption", {}, `${page.customers.length} customers on this page`));
  root.append(box);
  const node = table(box, LIST, page.customers);
  // the id cells open the 360
  node.querySelectorAll('td[data-key="customer_id"]').forEach((cell) => cell.replaceChildren(customerLink(cell.textContent)));
  csvLink(box, "customers.csv", LIST, page.customers);
  if (page.next_cursor) {
    const next = new URLSearchParams(query);
    next.delete("limit");
    next.set("cursor", page.next_cursor);
    root.append(el("p", {}, el("a", { href: `#/customers?${next}`, "data-next": "" }, "Next page →")));
  }
}

// A section: a heading, a table of rows and its CSV.
function section(root, title, filename, columns, rows) {
  const box = el("figure", { class: "chart", "data-chart": filename }, el("figcaption", {}, title));
  root.append(box);
  if (rows.length === 0) box.append(el("p", { class: "note" }, "None."));
  table(box, columns, rows);
  csvLink(box, filename, columns, rows);
  return box;
}

// A loyalty read that answers 409 while points are off: null then.
async function profile360(root, ctx, id) {
  const path = `/customers/${encodeURIComponent(id)}`;
  // the recommendations are read beside the rest and drawn under the profile
  const recommended = el("div", { class: "recommended-holder" });
  const drawing = recommendedPanel(recommended, ctx, id);
  drawing.catch(() => {}); // awaited below (a 401 signs out there)
  const [c, points, tier, segments, runs, tickets] = await Promise.all([
    ctx.api(path),
    ctx.api(`${path}/points?limit=50`),
    loyaltyRead(ctx, `${path}/tier`),
    ctx.api(`${path}/segments`),
    ctx.api(`${path}/flows`),
    ctx.api(`${path}/tickets?limit=50`),
  ]);
  root.querySelector("h1").textContent = `Customer ${name(c) || c.customer_id}`;
  root.append(el("p", {}, el("a", { href: "#/customers" }, "← Search")));
  kpis(root, [
    { key: "orders_count", label: "Orders", value: c.orders_count },
    { key: "total_spent", label: `Spent ${c.currency || ""}`.trim(), value: c.total_spent },
    { key: "net_spent", label: "Net of refunds", value: c.net_spent },
    { key: "average_order_value", label: "Average order value", value: c.average_order_value },
    { key: "points_available", label: "Points available", value: points.available },
    { key: "points_pending", label: "Points pending", value: points.pending },
    { key: "tier", label: "Tier", value: tier ? tier.tier || "none" : "loyalty off" },
    { key: "lifecycle", label: "Lifecycle", value: segments.lifecycle },
  ]);
  const consent = (v) => (v ? `${v.state}${v.updated_at ? ` since ${day(v.updated_at)}` : ""}` : "unknown");
  const facts = [
    ["customer", c.customer_id],
    ["name", name(c)],
    ["email", c.email],
    ["phone", c.phone],
    ["email consent", consent(c.email_consent)],
    ["SMS consent", consent(c.sms_consent)],
    ["tags", (c.tags || []).join(", ")],
    ["member", c.is_member ? `yes${c.membership.number ? ` (no. ${c.membership.number})` : ""}` : "no"],
    ["first order", day(c.first_order_at)],
    ["last order", day(c.last_order_at)],
    ["sources", c.sources.join(", ")],
    ["channels", c.channels.join(", ")],
    ["customer since", day(c.created_at)],
  ].map(([fact, value]) => ({ fact, value }));
  section(root, "Profile and consent", "profile.csv", [{ key: "fact", label: "fact" }, { key: "value", label: "value" }], facts);
  root.append(recommended);
  section(root, "Notes", "notes.csv", [
    { key: "created_at", label: "at" },
    { key: "created_by", label: "by" },
    { key: "text", label: "note" },
  ], c.notes || []);
  section(root, "Segments", "segments.csv", [
    { key: "segment_id", label: "segment" },
    { key: "name", label: "name" },
  ], segments.segments.filter((s) => s.member));
  // their tickets (newest first), each opening the ticket with this panel beside it
  section(root, "Tickets (latest 50)", "tickets.csv", [
    { key: "id", label: "ticket" },
    { key: "subject", label: "subject" },
    { key: "kind", label: "kind" },
    { key: "status", label: "status" },
    { key: "priority", label: "priority" },
    { key: "created_at", label: "opened" },
  ], tickets.tickets).querySelectorAll('td[data-key="id"]').forEach((cell) => cell.replaceChildren(ticketLink(cell.textContent)));
  section(root, "Timeline: orders, refunds and points", "timeline.csv", [
    { key: "at", label: "at" },
    { key: "type", label: "event" },
    { key: "order_number", label: "order" },
    { key: "amount", label: "amount" },
    { key: "currency", label: "currency" },
    { key: "points", label: "points" },
    { key: "tier_to", label: "tier" },
  ], c.timeline);
  const e = c.engagement;
  if (e) {
    kpis(root, [
      { key: "deliveries", label: "Messages delivered", value: e.deliveries },
      { key: "opens", label: "Opened", value: e.opens },
      { key: "clicks", label: "Clicked", value: e.clicks },
      { key: "engagement", label: "Engagement", value: e.tier },
    ]);
  }
  section(root, "Messages: flow runs", "flow-runs.csv", [
    { key: "flow_id", label: "flow" },
    { key: "status", label: "status" },
    { key: "step", label: "step" },
    { key: "started", label: "started" },
    { key: "reason", label: "reason" },
  ], runs.runs);
  section(root, "Points ledger (latest 50)", "points.csv", [
    { key: "at", label: "at" },
    { key: "kind", label: "kind" },
    { key: "points", label: "points" },
    { key: "order_id", label: "order" },
    { key: "reason", label: "reason" },
  ], points.entries);
  await drawing;
}

export default {
  title: "Customers",
  path: "/customers",
  async render(root, ctx) {
    const id = ctx.params.get("id");
    if (id) await profile360(root, ctx, id);
    else await search(root, ctx);
  },
};
