// The RFM grid: customers by recency score (rows, 5 the most recent) and frequency score
// (columns), with their net spend (GET /analytics/report, its rfm_grid). Each cell opens its
// segment: the workspace's segment with the cell's definition, created (POST /segments) the
// first time it is opened.
import { apiRoot, chart, csvLink, el, kpis, periodQuery, showError, table, tokenHeader } from "../lib.js";
import { percent, statePeriod } from "./overview.js";
import { segmentHref } from "./segments.js";

// The stored segment whose definition is the cell's, or a new one named after the cell.
async function openCell(ctx, cell) {
  const { segments } = await ctx.api("/segments");
  let found = segments.find((s) => s.definition === cell.definition);
  if (!found) {
    const response = await fetch(`${apiRoot}/segments`, {
      method: "POST",
      headers: { ...tokenHeader(), "Content-Type": "application/json" },
      body: JSON.stringify({ name: `RFM R${cell.r_score} F${cell.f_score}`, definition: cell.definition }),
    });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    found = await response.json();
  }
  location.hash = segmentHref(found.segment_id).slice(1);
}

export default {
  title: "RFM grid",
  path: "/rfm",
  async render(root, ctx) {
    const report = await ctx.api(`/analytics/report${periodQuery(ctx.params)}`);
    const grid = report.rfm_grid;
    statePeriod(root, report.period);
    kpis(root, [{ key: "rfm_customers", label: "Customers scored", value: grid.customers }]);
    if (!grid.scored) {
      root.append(el("p", { class: "note", "data-rfm-unscored": "" }, "Not scored yet: the nightly job stores the workspace's RFM edges first."));
      return;
    }
    root.append(el("p", { class: "note" }, `Scored at ${String(grid.as_of).slice(0, 16).replace("T", " ")} UTC with the segments' edges. Revenue is the cell's customers' net spend, all time.`));
    const count = (r, f) => grid.cells.find((c) => c.r_score === r && c.f_score === f);
    const most = Math.max(1, ...grid.cells.map((c) => c.customers));
    const rows = [5, 4, 3, 2, 1].map((r) => ({ recency: `R${r}`, ...Object.fromEntries([1, 2, 3, 4, 5].map((f) => [`f${f}`, count(r, f) ? count(r, f).customers : 0])) }));
    const figure = chart(root, {
      title: "Customers by recency (rows, R5 most recent) and frequency (columns F1 to F5)",
      type: "heat",
      filename: "rfm-grid.csv",
      columns: [{ key: "recency", label: "recency" }, ...[1, 2, 3, 4, 5].map((f) => ({ key: `f${f}`, label: `F${f}` }))],
      rows,
      y: { key: "recency" },
      cells: (row) => [1, 2, 3, 4, 5].map((f) => row[`f${f}`] / most),
      xLabels: ["F1", "F2", "F3", "F4", "F5"],
    });
    figure.querySelector("details").open = true;
    const columns = [
      { key: "r_score", label: "recency" },
      { key: "f_score", label: "frequency" },
      { key: "customers", label: "customers" },
      { key: "revenue", label: "revenue" },
      { key: "share", label: "share", format: percent },
      { key: "definition", label: "definition" },
    ];
    const box = el("figure", { class: "chart", "data-chart": "rfm-cells.csv" }, el("figcaption", {}, "Each cell: open it as a segment"));
    root.append(box);
    table(box, columns, grid.cells);
    // a cell's count is its button (the same text in the table and its CSV)
    const opener = (td, cell) => {
      const button = el("button", { type: "button", class: "cell", "data-open-cell": `${cell.r_score}-${cell.f_score}` }, td.textContent);
      button.addEventListener("click", () => openCell(ctx, cell).catch((error) => showError(root, error)));
      td.replaceChildren(button);
    };
    box.querySelectorAll('td[data-key="customers"]').forEach((td, i) => opener(td, grid.cells[i]));
    figure.querySelectorAll("tbody tr").forEach((tr, i) => {
      [1, 2, 3, 4, 5].forEach((f) => {
        const cell = count(5 - i, f);
        if (cell) opener(tr.querySelector(`td[data-key="f${f}"]`), cell);
      });
    });
    csvLink(box, "rfm-cells.csv", columns, grid.cells);
  },
};
