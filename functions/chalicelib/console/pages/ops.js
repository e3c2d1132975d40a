// Ops: the workspace's open quarantine, the stack's dead-letter queues and the currencies
// without a rate (GET /ops/health), each with the command that deals with it.
import { chart, el, kpis, table, csvLink } from "../lib.js";

export default {
  title: "Ops",
  path: "/ops",
  async render(root, ctx) {
    const health = await ctx.api("/ops/health");
    const waiting = health.dead_letters.reduce((sum, q) => sum + q.messages, 0);
    kpis(root, [
      { key: "quarantine_open", label: "Quarantined deliveries", value: health.quarantine_open },
      { key: "dead_letters", label: "Dead letters waiting", value: waiting },
      { key: "unconverted_currencies", label: "Currencies without a rate", value: health.unconverted_currencies.length },
    ]);
    root.append(el("p", { class: "note" }, "Quarantine: patron quarantine list -w WS. Dead letters (the stage's queues, the same for every workspace): patron dlq list."));
    chart(root, {
      title: "Dead-letter queues",
      type: "bar",
      filename: "dead-letters.csv",
      columns: [{ key: "queue", label: "queue" }, { key: "messages", label: "messages" }],
      rows: health.dead_letters,
      x: { key: "queue", label: "queue" },
      series: [{ key: "messages", label: "messages" }],
    });
    const columns = [
      { key: "currency", label: "currency" },
      { key: "orders", label: "orders" },
      { key: "amount", label: "amount" },
      { key: "command", label: "command" },
    ];
    const box = el("figure", { class: "chart", "data-chart": "unconverted-currencies.csv" }, el("figcaption", {}, "Orders in a currency without a rate"));
    root.append(box);
    if (health.unconverted_currencies.length === 0) box.append(el("p", { class: "note" }, "None: every order's currency has a rate."));
    table(box, columns, health.unconverted_currencies);
    csvLink(box, "unconverted-currencies.csv", columns, health.unconverted_currencies);
  },
};
