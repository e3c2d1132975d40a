// Members vs guests: the report's KPIs side by side (GET /analytics/report).
import { chart, el, periodQuery, table, csvLink } from "../lib.js";
import { statePeriod } from "./overview.js";

export const MEASURES = [
  ["customers", "customers"],
  ["buyers", "buyers"],
  ["active_customers", "active customers"],
  ["orders", "orders"],
  ["revenue", "revenue"],
  ["refunds", "refunds"],
  ["net_revenue", "net revenue"],
  ["average_order_value", "average order value"],
  ["orders_per_active_customer", "orders per active customer"],
  ["repeat_purchase_rate", "repeat purchase rate"],
  ["churn_rate", "churn rate"],
];

export default {
  title: "Members vs guests",
  path: "/members",
  async render(root, ctx) {
    const report = await ctx.api(`/analytics/report${periodQuery(ctx.params)}`);
    const { members, guests } = report.members_vs_guests;
    statePeriod(root, report.period);
    const rows = MEASURES.map(([key, label]) => ({ measure: label, key, members: members[key], guests: guests[key] }));
    const columns = [{ key: "measure", label: "measure" }, { key: "members", label: "members" }, { key: "guests", label: "guests" }];
    const side = el("figure", { class: "chart", "data-chart": "members-vs-guests.csv" }, el("figcaption", {}, "Side by side"));
    root.append(side);
    table(side, columns, rows);
    csvLink(side, "members-vs-guests.csv", columns, rows);
    const charts = el("div", { class: "charts" });
    root.append(charts);
    const groups = [{ group: "members", ...members }, { group: "guests", ...guests }];
    for (const [key, label] of [["net_revenue", "net revenue"], ["repeat_purchase_rate", "repeat purchase rate"]]) {
      chart(charts, {
        title: `${label[0].toUpperCase()}${label.slice(1)}`,
        type: "bar",
        filename: `members-vs-guests-${key.replaceAll("_", "-")}.csv`,
        columns: [{ key: "group", label: "group" }, { key, label }],
        rows: groups,
        x: { key: "group", label: "group" },
        series: [{ key, label }],
      });
    }
  },
};
