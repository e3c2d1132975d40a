// The lifecycle: customers by stage, each opening its built-in segment, and the funnel from
// customers to active repeat buyers (GET /analytics/report, its lifecycle_funnel).
import { chart, el, periodQuery } from "../lib.js";
import { percent, statePeriod } from "./overview.js";
import { segmentHref } from "./segments.js";

export default {
  title: "Lifecycle",
  path: "/lifecycle",
  async render(root, ctx) {
    const report = await ctx.api(`/analytics/report${periodQuery(ctx.params)}`);
    const funnel = report.lifecycle_funnel;
    statePeriod(root, report.period);
    root.append(el("p", { class: "note" }, `Stages as of ${String(funnel.as_of).slice(0, 16).replace("T", " ")} UTC.`));
    const charts = el("div", { class: "charts" });
    root.append(charts);
    const stages = chart(charts, {
      title: "Customers by lifecycle stage",
      type: "bar",
      filename: "lifecycle-stages.csv",
      columns: [
        { key: "stage", label: "stage" },
        { key: "customers", label: "customers" },
        { key: "share", label: "share", format: percent },
        { key: "segment", label: "segment" },
      ],
      rows: funnel.stages,
      x: { key: "stage", label: "stage" },
      series: [{ key: "customers", label: "customers" }],
    });
    stages.querySelector("details").open = true; // its links open the stages' segments
    stages.querySelectorAll('td[data-key="segment"]').forEach((cell) => {
      const id = cell.textContent;
      cell.replaceChildren(el("a", { href: segmentHref(id), "data-segment": id }, id));
    });
    chart(charts, {
      title: "Funnel: customers, buyers, repeat buyers, active repeat buyers",
      type: "bar",
      filename: "lifecycle-funnel.csv",
      columns: [
        { key: "step", label: "step" },
        { key: "customers", label: "customers" },
        { key: "conversion", label: "from the step before", format: percent },
        { key: "of_customers", label: "of all customers", format: percent },
        { key: "definition", label: "definition" },
      ],
      rows: funnel.steps,
      x: { key: "step", label: "step" },
      series: [{ key: "customers", label: "customers" }],
    });
  },
};
