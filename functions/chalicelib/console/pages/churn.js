// Churn points: lapsed and churned customers, after how many orders they stopped, and the
// products of their last order (GET /analytics/report, its churn_points).
import { chart, el, kpis, periodQuery, table, csvLink } from "../lib.js";
import { statePeriod } from "./overview.js";

export default {
  title: "Churn points",
  path: "/churn",
  async render(root, ctx) {
    const report = await ctx.api(`/analytics/report${periodQuery(ctx.params)}`);
    const churn = report.churn_points;
    statePeriod(root, report.period);
    kpis(root, [{ key: "lost_customers", label: "Lost customers (lapsed or churned)", value: churn.lost_customers }]);
    const after = Object.entries(churn.after_orders).map(([orders, customers]) => ({ orders, customers }));
    chart(root, {
      title: "Stopped after this many orders",
      type: "bar",
      filename: "churn-after-orders.csv",
      columns: [{ key: "orders", label: "orders" }, { key: "customers", label: "customers" }],
      rows: after,
      x: { key: "orders", label: "orders" },
      series: [{ key: "customers", label: "customers" }],
    });
    const products = el("figure", { class: "chart", "data-chart": "churn-products.csv" }, el("figcaption", {}, "Last products of lost customers (products with 5+ buyers)"));
    root.append(products);
    const columns = [
      { key: "product", label: "product" },
      { key: "title", label: "title" },
      { key: "last_order_of_lost_customers", label: "lost after it" },
      { key: "buyers", label: "buyers" },
      { key: "share", label: "share lost" },
    ];
    table(products, columns, churn.after_products);
    csvLink(products, "churn-products.csv", columns, churn.after_products);
  },
};
