// Campaigns and flows: each campaign (GET /campaigns, every page) and each flow (GET /flows)
// with its results (GET /messaging/stats: sent, delivered, opened, clicked, unsubscribed,
// attributed orders and revenue), the A/B variants' results where a message had them, and
// each A/B test's decision (GET /campaigns/{id}).
import { chart, el, table, csvLink } from "../lib.js";
import { percent } from "./overview.js";

const RESULTS = [
  { key: "sent", label: "sent" },
  { key: "delivered", label: "delivered" },
  { key: "opened", label: "opened" },
  { key: "clicked", label: "clicked" },
  { key: "unsubscribed", label: "unsubscribed" },
  { key: "orders", label: "attributed orders" },
  { key: "revenue", label: "attributed revenue" },
];
const ZERO = { sent: 0, delivered: 0, opened: 0, clicked: 0, unsubscribed: 0, orders: 0, revenue: "0" };
const FUNNEL = RESULTS.slice(0, 4);

async function allCampaigns(ctx) {
  const found = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const page = await ctx.api(`/campaigns?${query}`);
    found.push(...page.campaigns);
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

function pick(stats) {
  return Object.fromEntries(RESULTS.map((r) => [r.key, stats[r.key]]));
}

export default {
  title: "Campaigns and flows",
  path: "/campaigns",
  async render(root, ctx) {
    const [campaigns, { flows }, stats] = await Promise.all([allCampaigns(ctx), ctx.api("/flows"), ctx.api("/messaging/stats")]);
    const scopes = Object.fromEntries(stats.scopes.map((s) => [s.scope, s]));
    root.append(el("p", { class: "note", "data-attribution": "" }, `Attributed orders and revenue (${stats.currency}): orders within the workspace's attribution window after a click on the message.`));
    const campaignRows = campaigns.map((c) => ({ campaign_id: c.campaign_id, name: c.name, status: c.status, channel: c.channel, segment_id: c.segment_id, ...pick(c.stats), winner: c.winner }));
    chart(root, {
      title: "Campaigns: sent, delivered, opened, clicked",
      type: "bar",
      filename: "campaigns.csv",
      columns: [
        { key: "campaign_id", label: "campaign" },
        { key: "name", label: "name" },
        { key: "status", label: "status" },
        { key: "channel", label: "channel" },
        { key: "segment_id", label: "segment" },
        ...RESULTS,
        { key: "winner", label: "A/B winner" },
      ],
      rows: campaignRows,
      x: { key: "name", label: "campaign" },
      series: FUNNEL,
    }).querySelector("details").open = true;
    const flowRows = flows.map((f) => ({ flow_id: f.flow_id, name: f.name, version: f.version, enabled: f.enabled ? "yes" : "no", ...pick(scopes[`flow#${f.flow_id}`] || ZERO) }));
    chart(root, {
      title: "Flows: sent, delivered, opened, clicked",
      type: "bar",
      filename: "flows.csv",
      columns: [{ key: "flow_id", label: "flow" }, { key: "name", label: "name" }, { key: "version", label: "version" }, { key: "enabled", label: "enabled" }, ...RESULTS],
      rows: flowRows,
      x: { key: "flow_id", label: "flow" },
      series: FUNNEL,
    }).querySelector("details").open = true;
    const variants = stats.scopes.filter((s) => s.variant);
    const columns = [
      { key: "kind", label: "kind" },
      { key: "id", label: "id" },
      { key: "variant", label: "variant" },
      ...RESULTS,
      { key: "open_rate", label: "open rate", format: percent },
      { key: "click_rate", label: "click rate", format: percent },
    ];
    const box = el("figure", { class: "chart", "data-chart": "ab-variants.csv" }, el("figcaption", {}, "A/B variants"));
    root.append(box);
    if (variants.length === 0) box.append(el("p", { class: "note" }, "No campaign or flow has sent A/B variants yet."));
    table(box, columns, variants);
    csvLink(box, "ab-variants.csv", columns, variants);
    // each A/B test's decision (GET /campaigns/{id}): the winner, or why there is none yet
    const progress = await Promise.all(campaigns.map((c) => ctx.api(`/campaigns/${encodeURIComponent(c.campaign_id)}`)));
    const decisions = progress.filter((p) => p.decision).map((p) => ({ campaign_id: p.campaign_id, metric: p.winner_metric, ...p.decision }));
    const decided = [
      { key: "campaign_id", label: "campaign" },
      { key: "metric", label: "metric" },
      { key: "outcome", label: "outcome" },
      { key: "winner", label: "winner" },
      { key: "leader", label: "leader" },
      { key: "p_value", label: "p-value" },
      { key: "reason", label: "reason" },
      { key: "rule", label: "rule" },
    ];
    const tests = el("figure", { class: "chart", "data-chart": "ab-decisions.csv" }, el("figcaption", {}, "A/B decisions"));
    root.append(tests);
    if (decisions.length === 0) tests.append(el("p", { class: "note" }, "No A/B test has been decided yet."));
    table(tests, decided, decisions);
    csvLink(tests, "ab-decisions.csv", decided, decisions);
  },
};
