// Service reports: the share of SLA targets met per policy and target (GET
// /service/reports/sla, the policies' names from GET /service/sla) and CSAT with its response
// rate per agent, kind and period (GET /service/reports/csat?by=, the settings from GET
// /service/csat), over a date range (?from=&to=; the last 30 days by default). Each chart has
// its table and its CSV from the same rows.
import { chart, el, kpis } from "../lib.js";
import { percent } from "./overview.js";

const DAY = 86400000;
const GRAINS = ["day", "week", "month"];
const iso = (t) => new Date(t).toISOString().slice(0, 10);

// The page's range: the hash's from and to, or the 30 days to today (UTC).
export function range(params) {
  const to = params.get("to") || iso(Date.now());
  const from = params.get("from") || iso(Date.parse(to) - 29 * DAY);
  return { from, to };
}

function rangeForm(root, params, { from, to }) {
  const input = (name, value) => el("input", { type: "date", name, value, required: "" });
  const grain = el("select", { name: "period" }, ...GRAINS.map((g) => el("option", { value: g, selected: g === (params.get("period") || "week") ? "" : null }, g)));
  const form = el(
    "form",
    { class: "search period-form" },
    el("label", {}, "From ", input("from", from)),
    el("label", {}, "To ", input("to", to)),
    el("label", {}, "CSAT period ", grain),
    el("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of ["from", "to", "period"]) query.set(key, form.elements[key].value);
    location.hash = `/service?${query}`;
  });
  root.append(form);
}

const CSAT_COLUMNS = (label) => [
  { key: "group", label },
  { key: "sent", label: "sent" },
  { key: "answered", label: "answered" },
  { key: "satisfied", label: "satisfied (4-5)" },
  { key: "csat", label: "CSAT", format: percent },
  { key: "response_rate", label: "response rate", format: percent },
];

export default {
  title: "Service reports",
  path: "/service",
  async render(root, ctx) {
    const { from, to } = range(ctx.params);
    const grain = GRAINS.includes(ctx.params.get("period")) ? ctx.params.get("period") : "week";
    const span = `from=${from}&to=${to}`;
    const [sla, settings, csatSettings, byAgent, byKind, byPeriod] = await Promise.all([
      ctx.api(`/service/reports/sla?${span}`),
      ctx.api("/service/sla"),
      ctx.api("/service/csat"),
      ctx.api(`/service/reports/csat?${span}&by=agent`),
      ctx.api(`/service/reports/csat?${span}&by=kind`),
      ctx.api(`/service/reports/csat?${span}&by=period&period=${grain}`),
    ]);
    root.setAttribute("data-from", from);
    root.setAttribute("data-to", to);
    root.append(el("p", { class: "period", "data-period": "" }, `Tickets created ${from} to ${to} (SLA, local days in ${sla.zone}); surveys delivered ${from} to ${to} (CSAT, UTC days).`));
    rangeForm(root, ctx.params, { from, to });

    root.append(el("h2", {}, "Service levels"));
    kpis(root, [
      { key: "sla_tickets", label: "Tickets", value: sla.tickets },
      { key: "sla_without_policy", label: "Matched by no policy", value: sla.without_policy },
      { key: "sla_met", label: "Targets met", value: sla.rows.reduce((n, r) => n + r.met, 0) },
      { key: "sla_breached", label: "Targets breached", value: sla.rows.reduce((n, r) => n + r.breached, 0) },
    ]);
    if (sla.truncated) root.append(el("p", { class: "note", "data-truncated": "" }, "Only the first 2,000 tickets of the range are counted: choose a shorter range."));
    const names = Object.fromEntries(settings.policies.map((p) => [p.id, p.name]));
    const rows = sla.rows.map((r) => ({ ...r, label: `${r.policy_id} ${r.target.replaceAll("_", " ")}`, name: names[r.policy_id] || "" }));
    chart(root, {
      title: "Share of SLA targets met, per policy and target (decided targets only)",
      type: "bar",
      filename: "sla.csv",
      columns: [
        { key: "policy_id", label: "policy" },
        { key: "name", label: "name" },
        { key: "target", label: "target" },
        { key: "met", label: "met" },
        { key: "breached", label: "breached" },
        { key: "share_met", label: "share met", format: percent },
      ],
      rows,
      x: { key: "label", label: "policy and target" },
      series: [{ key: "share_met", label: "share met" }],
      yFormat: (v) => `${Math.round(v * 100)}%`,
    });
    root.append(el("p", { class: "note", "data-calendar": "" }, `${settings.default ? "Default settings" : `Settings version ${settings.version}`}: calendar in ${settings.calendar.zone}, ${settings.policies.length} policies in order (${settings.policies.map((p) => p.id).join(", ")}).`));

    root.append(el("h2", {}, "Satisfaction (CSAT)"));
    const t = byAgent.total;
    kpis(root, [
      { key: "csat_sent", label: "Surveys sent", value: t.sent },
      { key: "csat_answered", label: "Answered", value: t.answered },
      { key: "csat", label: "CSAT (4s and 5s)", value: percent(t.csat) },
      { key: "csat_response_rate", label: "Response rate", value: percent(t.response_rate) },
    ]);
    root.append(el("p", { class: "note", "data-csat-settings": "" }, csatSettings.enabled ? `Surveys on: sent ${csatSettings.delay_minutes} minutes after a solve by ${csatSettings.channel}, open ${csatSettings.expiry_days} days.` : "Surveys are off (PUT /service/csat switches them on)."));
    const charts = el("div", { class: "charts" });
    root.append(charts);
    for (const [report, label, filename] of [[byAgent, "agent", "csat-by-agent.csv"], [byKind, "kind", "csat-by-kind.csv"], [byPeriod, grain, "csat-by-period.csv"]]) {
      chart(charts, {
        title: `CSAT and response rate by ${label}`,
        type: "bar",
        grouped: true,
        filename,
        columns: CSAT_COLUMNS(label),
        rows: report.groups,
        x: { key: "group", label },
        series: [{ key: "csat", label: "CSAT" }, { key: "response_rate", label: "response rate" }],
        yFormat: (v) => `${Math.round(v * 100)}%`,
      });
    }
  },
};
