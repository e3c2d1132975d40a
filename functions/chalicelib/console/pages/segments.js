// Segments: the workspace's segments (GET /segments) and the built-in ones
// (docs/segments.md) with their sizes (GET /segments/{id}); with ?id=, a segment's members
// (GET /segments/{id}/members, a page at a time), its size on each day (GET
// /segments/{id}/sizes) and its CSV (GET /segments/{id}/members.csv,
// every page joined: the file the API gives).
import { apiRoot, chart, el, kpis, showError, table, tokenHeader } from "../lib.js";
import { customerLink } from "./customers.js";

// The built-in segments' ids (docs/segments.md): lifecycle stages, RFM groups, accounts.
export const LIFECYCLE = ["prospect", "new", "active", "at_risk", "lapsed", "churned"];
export const RFM = ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention", "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"];
export const BUILTIN = [...LIFECYCLE.map((s) => `lifecycle:${s}`), ...RFM.map((g) => `rfm:${g}`), "account:member", "account:guest"];

export const segmentHref = (id) => `#/segments?id=${encodeURIComponent(id)}`;
// A segment id in a path: escaped, but for the colon of a built-in id (`lifecycle:active`),
// which a path segment may hold and which the local stack does not unescape.
export const segmentPath = (id) => `/segments/${encodeURIComponent(id).replaceAll("%3A", ":")}`;

// Every page of the members' CSV, joined (the header is on the first page only).
export async function membersCsv(id) {
  let text = "";
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "5000" });
    if (cursor) query.set("cursor", cursor);
    const response = await fetch(`${apiRoot}${segmentPath(id)}/members.csv?${query}`, { headers: tokenHeader() });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    text += await response.text();
    cursor = response.headers.get("X-Next-Cursor");
  } while (cursor);
  return text;
}

async function list(root, ctx) {
  const { segments } = await ctx.api("/segments");
  const ids = [...segments.map((s) => s.segment_id), ...BUILTIN];
  const names = Object.fromEntries(segments.map((s) => [s.segment_id, s.name]));
  const details = await Promise.all(ids.map((id) => ctx.api(segmentPath(id))));
  const rows = details.map((d) => ({ segment_id: d.segment_id, name: names[d.segment_id] || d.segment_id, size: d.size, definition: d.definition || "built-in" }));
  const figure = chart(root, {
    title: "Segment sizes (customers now)",
    type: "bar",
    filename: "segment-sizes.csv",
    columns: [
      { key: "segment_id", label: "segment" },
      { key: "name", label: "name" },
      { key: "size", label: "size" },
      { key: "definition", label: "definition" },
    ],
    rows,
    x: { key: "segment_id", label: "segment" },
    series: [{ key: "size", label: "customers" }],
  });
  figure.querySelector("details").open = true;
  // each segment's cell opens its members
  figure.querySelectorAll('td[data-key="segment_id"]').forEach((cell) => {
    const id = cell.textContent;
    cell.replaceChildren(el("a", { href: segmentHref(id), "data-segment": id }, id));
  });
}

async function members(root, ctx, id) {
  const query = new URLSearchParams({ limit: "50" });
  if (ctx.params.get("cursor")) query.set("cursor", ctx.params.get("cursor"));
  const path = segmentPath(id);
  const [detail, page, sizes] = await Promise.all([ctx.api(path), ctx.api(`${path}/members?${query}`), ctx.api(`${path}/sizes`)]);
  root.querySelector("h1").textContent = `Segment ${detail.name || detail.segment_id}`;
  root.append(el("p", {}, el("a", { href: "#/segments" }, "← Segments")));
  kpis(root, [{ key: "size", label: "Members", value: detail.size }]);
  if (detail.definition) root.append(el("p", { class: "note" }, el("code", {}, detail.definition)));
  const download = el("button", { type: "button", "data-download": "" }, "Download members as CSV");
  root.append(el("p", {}, download));
  download.addEventListener("click", async () => {
    try {
      const text = await membersCsv(id);
      const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })), download: `${id.replace(/[^A-Za-z0-9_-]/g, "_")}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      showError(root, error);
    }
  });
  chart(root, {
    title: "Size on each day (the last 90 days, recorded just after midnight UTC)",
    type: "bar",
    filename: "segment-sizes-over-time.csv",
    columns: [{ key: "day", label: "day" }, { key: "size", label: "size" }],
    rows: sizes.points,
    x: { key: "day", label: "day" },
    series: [{ key: "size", label: "customers" }],
  });
  const box = el("figure", { class: "chart", "data-chart": "segment-members" }, el("figcaption", {}, `${page.customers.length} members on this page`));
  root.append(box);
  const node = table(box, [{ key: "customer_id", label: "customer" }], page.customers.map((customer_id) => ({ customer_id })));
  node.querySelectorAll("td").forEach((cell) => cell.replaceChildren(customerLink(cell.textContent)));
  if (page.cursor) {
    const next = new URLSearchParams({ id, cursor: page.cursor });
    root.append(el("p", {}, el("a", { href: `#/segments?${next}`, "data-next": "" }, "Next page →")));
  }
}

export default {
  title: "Segments",
  path: "/segments",
  async render(root, ctx) {
    const id = ctx.params.get("id");
    if (id) await members(root, ctx, id);
    else await list(root, ctx);
  },
};
