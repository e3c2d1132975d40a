// Loyalty liability: points outstanding and their value, members vs non-members by tier
// (GET /analytics/loyalty); a note instead while the workspace's points are off (409).
import { chart, csvLink, el, kpis, periodQuery, table } from "../lib.js";

export default {
  title: "Loyalty",
  path: "/loyalty",
  async render(root, ctx) {
    let books;
    try {
      books = await ctx.api(`/analytics/loyalty${periodQuery(ctx.params)}`);
    } catch (error) {
      const reason = error.body && error.body.details && error.body.details.reason;
      if (error.status === 409 && (reason === "loyalty_off" || error.body.error === "loyalty_off")) {
        root.append(el("p", { class: "note", "data-loyalty-off": "" }, "Loyalty is off in this workspace, so there is no points liability to show. `patron workspace loyalty -w WS --on` switches points on."));
        return;
      }
      throw error;
    }
    const total = books.liability.total;
    root.append(el("p", { class: "period" }, `Balances as of ${books.as_of}; a point is worth ${books.redeem_value_per_point} ${books.currency}.`));
    kpis(root, [
      { key: "outstanding", label: "Points outstanding", value: total.points.outstanding },
      { key: "outstanding_money", label: `Liability ${books.currency}`, value: total.money.outstanding },
      { key: "available", label: "Available", value: total.points.available },
      { key: "pending", label: "Pending", value: total.points.pending },
      { key: "expiring_30d", label: "Expiring within 30 days", value: total.points.expiring_30d },
      { key: "customers", label: "Customers with a balance", value: total.customers },
    ]);
    const parts = ["customers", "erased", "total"].map((part) => ({ part, ...flat(books.liability[part]) }));
    const columns = [
      { key: "part", label: "ledgers" },
      ...["available", "pending", "debt", "expiring_30d", "outstanding"].flatMap((k) => [
        { key: `points_${k}`, label: `${k} points` },
        { key: `money_${k}`, label: `${k} ${books.currency}` },
      ]),
      { key: "customers", label: "customers" },
    ];
    const liability = el("figure", { class: "chart", "data-chart": "loyalty-liability.csv" }, el("figcaption", {}, "Liability"));
    root.append(liability);
    table(liability, columns, parts);
    csvLink(liability, "loyalty-liability.csv", columns, parts);
    const tiers = [];
    for (const group of ["members", "non_members"]) {
      for (const [tier, figures] of Object.entries(books.by_tier[group] || {})) {
        tiers.push({ group: group.replace("_", "-"), tier, label: `${group === "members" ? "member" : "non-member"} ${tier}`, ...figures });
      }
    }
    chart(root, {
      title: "Customers by tier",
      type: "bar",
      filename: "loyalty-by-tier.csv",
      columns: [
        { key: "group", label: "group" },
        { key: "tier", label: "tier" },
        { key: "customers", label: "customers" },
        { key: "orders", label: "orders" },
        { key: "revenue", label: `revenue ${books.currency}` },
        { key: "orders_per_customer", label: "orders per customer" },
      ],
      rows: tiers,
      x: { key: "label", label: "tier" },
      series: [{ key: "customers", label: "customers" }],
    });
  },
};

function flat(part) {
  const row = { customers: part.customers };
  for (const [k, v] of Object.entries(part.points)) row[`points_${k}`] = v;
  for (const [k, v] of Object.entries(part.money)) row[`money_${k}`] = v;
  return row;
}
