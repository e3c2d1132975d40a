// Cohort retention: for each first-order month, the share ordering again n months later
// (GET /analytics/report, its cohort_retention), as a heat map.
import { chart, el, periodQuery } from "../lib.js";
import { statePeriod } from "./overview.js";

export default {
  title: "Cohort retention",
  path: "/cohorts",
  async render(root, ctx) {
    const report = await ctx.api(`/analytics/report${periodQuery(ctx.params)}`);
    statePeriod(root, report.period);
    const cohorts = Object.entries(report.cohort_retention).sort(([a], [b]) => a.localeCompare(b));
    const months = Math.max(0, ...cohorts.map(([, c]) => c.retention.length));
    const rows = cohorts.map(([month, c]) => {
      const row = { cohort: month, customers: c.customers };
      c.retention.forEach((share, i) => {
        row[`m${i}`] = share;
      });
      return row;
    });
    const shares = Array.from({ length: months }, (_, i) => ({ key: `m${i}`, label: `month ${i}` }));
    root.append(el("p", { class: "note" }, "Each row is the customers whose first order fell in that month; each cell the share of them who ordered again that many months later (darker: more)."));
    chart(root, {
      title: "Retention by first-order month",
      type: "heat",
      filename: "cohort-retention.csv",
      columns: [{ key: "cohort", label: "cohort" }, { key: "customers", label: "customers" }, ...shares],
      rows,
      y: { key: "cohort" },
      cells: (row) => shares.map((s) => row[s.key]),
    });
  },
};
