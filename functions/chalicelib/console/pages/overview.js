// Overview: the store's health over the period (GET /analytics/report): revenue, orders,
// average order value, repeat rate, active members; the gaps between orders; the trend over
// the period (the report's trends: months, or weeks for a period under 90 days).
import { chart, el, kpis, periodQuery } from "../lib.js";

export const percent = (value) => (value === null || value === undefined ? "" : `${(Number(value) * 100).toFixed(2)}%`);

// The period the report covers, stated on every report page (UTC days).
export function statePeriod(root, period) {
  const day = (text) => String(text).slice(0, 10);
  root.append(el("p", { class: "period", "data-period": "" }, `Period ${day(period.from)} to ${day(period.to)} (UTC); amounts in the workspace currency, cancelled orders excluded.`));
}

// A form that changes the period (the hash's from and to).
export function periodForm(root, params, path) {
  const from = el("input", { type: "date", name: "from", value: params.get("from") || "" });
  const to = el("input", { type: "date", name: "to", value: params.get("to") || "" });
  const form = el("form", { class: "period-form" }, el("label", {}, "From ", from), el("label", {}, " to ", to), el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (from.value) query.set("from", from.value);
    if (to.value) query.set("to", to.value);
    location.hash = `${path}?${query}`;
  });
  root.append(form);
}

export default {
  title: "Overview",
  path: "/overview",
  async render(root, ctx) {
    const [report, settings] = await Promise.all([
      ctx.api(`/analytics/report${periodQuery(ctx.params)}`),
      ctx.api("/workspace/settings"),
    ]);
    const k = report.kpis;
    const currency = (report.loyalty && report.loyalty.currency) || "";
    statePeriod(root, report.period);
    periodForm(root, ctx.params, "/overview");
    kpis(root, [
      { key: "revenue", label: `Revenue ${currency}`.trim(), value: k.revenue },
      { key: "net_revenue", label: "Net of refunds", value: k.net_revenue },
      { key: "orders", label: "Orders", value: k.orders },
      { key: "average_order_value", label: "Average order value", value: k.average_order_value },
      { key: "repeat_purchase_rate", label: "Repeat rate", value: percent(k.repeat_purchase_rate) },
      { key: "active_members", label: "Active members", value: report.members_vs_guests.members.active_customers },
      { key: "active_customers", label: "Active customers", value: k.active_customers },
      { key: "churn_rate", label: "Churn rate", value: percent(k.churn_rate) },
    ]);
    root.append(
      el("p", { class: "note", "data-attribution": "" }, `Revenue counts every order of the period, whatever brought it. Revenue attributed to a message counts orders within the workspace's attribution window, ${settings.attribution_days} days after a click (PATCH /workspace/settings changes it), reported per flow and campaign by GET /messaging/stats.`),
    );
    const gaps = Object.entries(report.days_between_orders).map(([days, orders]) => ({ days, orders }));
    const charts = el("div", { class: "charts" });
    root.append(charts);
    chart(charts, {
      title: "Days between a customer's orders",
      type: "bar",
      filename: "days-between-orders.csv",
      columns: [{ key: "days", label: "days" }, { key: "orders", label: "orders" }],
      rows: gaps,
      x: { key: "days", label: "days" },
      series: [{ key: "orders", label: "orders" }],
    });
    const trends = report.trends;
    chart(charts, {
      title: `Revenue by ${trends.grain} over the period`,
      type: "bar",
      filename: "trends.csv",
      columns: [
        { key: "label", label: trends.grain },
        { key: "revenue", label: "revenue" },
        { key: "net_revenue", label: "net revenue" },
        { key: "orders", label: "orders" },
        { key: "average_order_value", label: "average order value" },
        { key: "new_buyers", label: "new buyers" },
        { key: "returning_buyers", label: "returning buyers" },
        { key: "active_members", label: "active members" },
      ],
      rows: trends.buckets,
      x: { key: "label", label: trends.grain },
      series: [{ key: "revenue", label: "revenue" }],
    });
    if (report.warnings.length) {
      root.append(el("h2", {}, "Orders without a rate"));
      for (const w of report.warnings) root.append(el("p", { class: "error" }, `${w.message} (${w.command})`));
    }
  },
};
