"""The demo's figures for the console's service reports and pipeline pages: the workspace's
SLA settings (the Paris boutique's calendar and its three policies) and satisfaction surveys
switched on before the desk's tickets are worked (`PUT /service/sla`, `PUT /service/csat`);
after them, the surveys of the solved tickets sent by the `csat_tick` job and answered through
their signed one-tap links as customers would (`GET /csat/{token}`, a comment and a reason by
`POST`); a handful of opportunities through the API (one from the pre-sale ticket), moved
through the stages, with the owners' targets. Then the three reports (`GET
/service/reports/sla`, `GET /service/reports/csat`, `GET /pipeline`) are checked against what
these plans must give, worked out here from the plans, not by the services."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from patron import http, stack
from patron.demo.tickets import Opened
from patron.synthetic.store import Person

CSAT = {"enabled": True, "delay_minutes": 0, "expiry_days": 7, "channel": "email"}
# the answers to the solved tickets' surveys, in the order the plans solve them (None: not
# answered): a 5, a 2 with a reason and a comment, one left unanswered
ANSWERS: tuple[dict[str, Any] | None, ...] = (
    {"score": 5},
    {"score": 2, "reason": "slow_response", "comment": "Took two weeks to sort out."},
    None,
)
# the opportunities: (title, owner, value, stages moved through after the first)
DEALS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Library wholesale order", "ana", "5000", ("qualified", "proposal")),
    ("School book fair", "bob", "800", ("qualified", "negotiation")),
    ("Bookshop restock", "bob", "1500", ("proposal", "won")),
    ("Corporate gifts", "ana", "300", ("lost",)),
)
FROM_TICKET = ("ana", "1200")  # the pre-sale ticket's opportunity: owner, value (stage `new`)
TARGETS = {"ana": "10000", "bob": "2000"}
# the won deal's customer then orders: a restock of 60 copies, which the won deal links to
RESTOCK = ("series-1-vol-1", "Series 1, volume 1", Decimal("27.00"), 60)
# the default stages' probabilities (docs/sales.md): the forecast's truth
PROBABILITY = {"new": "0.10", "qualified": "0.25", "proposal": "0.50", "negotiation": "0.75"}
PROBABILITY |= {"won": "1", "lost": "0"}


@dataclass
class Deal:
    id: str
    owner: str
    value: Decimal
    stage: str


def _call(local: Any, ws: Any, method: str, path: str, body: Any, **headers: str) -> tuple[int, Any]:
    """An API call with the workspace's key and a JSON body (PUT and PATCH included)."""
    request = http._request(
        f"{local.api_url}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json", **headers},
    )
    return http._call(request)


def _get(local: Any, ws: Any, path: str) -> Any:
    status, answer = http.get(f"{local.api_url}{path}", ws.api_key)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {answer}")
    return answer


def switch_on(local: Any, ws: Any) -> list[str]:
    """The SLA settings and the surveys, before the desk's tickets: their mismatches."""
    settings = json.loads((stack.ROOT / "events" / "service" / "sla_settings.json").read_text())
    problems = []
    status, answer = _call(local, ws, "PUT", "/service/sla", settings, **{"If-Match": '"0"'})
    if status != 200:
        problems.append(f"PUT /service/sla: {status} {answer}")
    status, answer = _call(local, ws, "PUT", "/service/csat", CSAT)
    if status != 200:
        problems.append(f"PUT /service/csat: {status} {answer}")
    return problems


def policy_of(priority: str) -> str:
    """The policy the example settings give a ticket of this priority (their filters)."""
    return priority if priority in ("urgent", "high") else "standard"


def answer_surveys(local: Any, ws: Any, solved: list[Opened]) -> list[str]:
    """The job sends the solved tickets' surveys; the customers tap their scores."""
    from chalicelib.domain.service.csat import SurveyLink, link_token

    local.run_schedule("csat_tick")  # the 5-minute job (it also runs on its own)
    settings = local.harness.container.workspaces.settings(ws.workspace_id)
    problems = []
    for ticket, answer in zip(solved, ANSWERS, strict=False):
        events = _get(local, ws, f"/tickets/{quote(ticket.ticket_id)}")["events"]
        sent = [e for e in events if e["kind"] == "csat_sent"]
        if len(sent) != 1 or sent[0]["data"].get("delivery") != "sent":
            problems.append(f"survey of {ticket.ticket_id}: expected one sent, got {sent}")
            continue
        if answer is None:
            continue
        expires = datetime.fromisoformat(sent[0]["data"]["expires_at"].replace("Z", "+00:00"))
        link = SurveyLink(ws.workspace_id, ticket.ticket_id, 1, answer["score"], expires)
        url = f"{local.api_url}/csat/{link_token(link, settings.id_salt)}"
        status = _tap(url)
        if status != 200:
            problems.append(f"survey link of {ticket.ticket_id}: {status}")
        if "reason" in answer:
            body = json.dumps({"reason": answer["reason"], "comment": answer["comment"]}).encode()
            status, _ = _post_html(url, body)
            if status != 200:
                problems.append(f"survey comment of {ticket.ticket_id}: {status}")
    return problems


def _tap(url: str) -> int:
    try:
        with urllib.request.urlopen(http._request(url), timeout=30) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _post_html(url: str, body: bytes) -> tuple[int, bytes]:
    request = http._request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def open_deals(
    local: Any, ws: Any, people: list[Person], pre_sale: Opened | None
) -> tuple[list[Deal], list[str]]:
    """The opportunities through the API, each moved through its stages."""
    deals, problems = [], []
    if pre_sale is not None:
        owner, value = FROM_TICKET
        path = f"/tickets/{quote(pre_sale.ticket_id)}/opportunity"
        status, answer = _call(local, ws, "POST", path, {"owner": owner, "value": value})
        if status in (200, 201):
            deals.append(Deal(answer["id"], owner, Decimal(value), "new"))
        else:
            problems.append(f"POST {path}: {status} {answer}")
    for (title, owner, value, moves), person in zip(DEALS, people, strict=False):
        body = {"email": person.email, "title": title, "owner": owner, "value": value}
        status, answer = _call(local, ws, "POST", "/opportunities", body)
        if status != 201:
            problems.append(f"POST /opportunities ({title}): {status} {answer}")
            continue
        deal = Deal(answer["id"], owner, Decimal(value), answer["stage"])
        for stage in moves:
            status, answer = _call(local, ws, "PATCH", f"/opportunities/{quote(deal.id)}", {"stage": stage})
            if status != 200:
                problems.append(f"PATCH {deal.id} to {stage}: {status} {answer}")
                break
            deal.stage = stage
        deals.append(deal)
    return deals, problems


def set_targets(local: Any, ws: Any) -> list[str]:
    """The owners' targets for this month, before the store's first order: the ingest stream
    reads the pipeline settings through a 60-second cache and links a won deal's order only
    in a workspace with pipeline settings (docs/sales.md), so they must be there before it
    first reads them."""
    month = datetime.now(UTC).strftime("%Y-%m")
    targets = [{"owner": o, "period": month, "amount": a} for o, a in TARGETS.items()]
    status, answer = _call(local, ws, "PUT", "/pipeline/targets", {"targets": targets})
    return [] if status == 200 else [f"PUT /pipeline/targets: {status} {answer}"]


def reconcile(local: Any, ws: Any, won: Deal, person: Person, shop_secret: str) -> list[str]:
    """The won deal's customer orders through the shop (a signed `orders/create`); the deal
    links that order with its actual value and the difference from the forecast."""
    import random

    from patron.storefront import shopify_headers
    from patron.synthetic.store import SHOP, SimOrder
    from patron.synthetic.storefront_bodies import shopify_order

    # placed after the deal was opened, to the second: the webhook's timestamps have whole
    # seconds, and an order stamped in the deal's own second would read as placed before it
    now = datetime.now(UTC) + timedelta(seconds=1)
    _, _, price, qty = RESTOCK
    order = SimOrder(person, "shopify", 9_000_000 + person.index, now, [RESTOCK], price * qty)
    body = shopify_order(random.Random(person.index), order, "create", now)
    raw = json.dumps(body).encode()
    headers = shopify_headers(SHOP, "orders/create", shop_secret, raw)
    status, answer = http.post(f"{local.webhook_url}/webhooks/shopify", raw, headers)
    if status != 200:
        return [f"restock order webhook: {status} {answer}"]
    local.wait_idle()
    got = _get(local, ws, f"/opportunities/{quote(won.id)}")
    actual = price * qty
    want = (f"{actual:.2f}", f"{actual - won.value:.2f}")
    if got["order_id"] is None or (got["actual_value"], got["difference"]) != want:
        return [f"won {won.id}: expected an order of {want[0]} (difference {want[1]}), got {got}"]
    return []


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def check_sla(local: Any, ws: Any, opened: list[Opened], today: date) -> tuple[list[str], dict[str, int]]:
    """The SLA report over the days the tickets were opened: the replies and resolutions."""
    want: dict[tuple[str, str], int] = {}
    for t in opened:
        policy = policy_of(t.plan.final_priority)
        if "public_reply" in t.plan.events:
            want[(policy, "first_reply")] = want.get((policy, "first_reply"), 0) + 1
        if t.plan.status in ("solved", "closed"):
            want[(policy, "resolution")] = want.get((policy, "resolution"), 0) + 1
    since = today - timedelta(days=1)
    report = _get(local, ws, f"/service/reports/sla?from={since}&to={today}")
    got = {(r["policy_id"], r["target"]): r["met"] for r in report["rows"]}
    breached = sum(r["breached"] for r in report["rows"])
    problems = []
    if got != want or breached or report["tickets"] != len(opened):
        problems.append(f"SLA report: expected met {want} over {len(opened)} tickets, got {report}")
    return problems, {"met": sum(want.values()), "tickets": len(opened)}


def check_csat(local: Any, ws: Any, solved: list[Opened], today: date) -> tuple[list[str], dict[str, Any]]:
    """The CSAT report by agent: sent, answered and satisfied per assignee, as planned."""
    want: dict[str, list[int]] = {}
    for ticket, answer in zip(solved, ANSWERS, strict=False):
        row = want.setdefault(ticket.plan.assignee or "(unassigned)", [0, 0, 0])
        row[0] += 1
        row[1] += answer is not None
        row[2] += answer is not None and answer["score"] >= 4
    since = today - timedelta(days=1)
    report = _get(local, ws, f"/service/reports/csat?from={since}&to={today}&by=agent")
    got = {g["group"]: [g["sent"], g["answered"], g["satisfied"]] for g in report["groups"]}
    problems = [] if got == want else [f"CSAT report by agent: expected {want}, got {got}"]
    total = report["total"]
    return problems, {"sent": total["sent"], "answered": total["answered"], "csat": total["csat"]}


def check_pipeline(local: Any, ws: Any, deals: list[Deal]) -> tuple[list[str], dict[str, Any]]:
    """`GET /pipeline` for this month: per stage, the forecast, per owner won vs target."""
    cents = Decimal("0.01")
    stages: dict[str, list[Decimal]] = {s: [Decimal(0), Decimal(0), Decimal(0)] for s in PROBABILITY}
    for d in deals:
        row = stages[d.stage]
        row[0] += 1
        row[1] += d.value
        row[2] += (d.value * Decimal(PROBABILITY[d.stage])).quantize(cents)
    forecast = sum((stages[s][2] for s in PROBABILITY if s not in ("won", "lost")), Decimal(0))
    won = {o: sum((d.value for d in deals if d.owner == o and d.stage == "won"), Decimal(0)) for o in TARGETS}
    month = datetime.now(UTC).strftime("%Y-%m")
    view = _get(local, ws, f"/pipeline?period={month}")
    got_stages = {
        s["stage"]: [Decimal(s["count"]), Decimal(s["value"]), Decimal(s["weighted"])] for s in view["stages"]
    }
    got_won = {o["owner"]: Decimal(o["won"]) for o in view["owners"]}
    got_targets = {o["owner"]: _dec(o["target"]) for o in view["owners"]}
    problems = []
    if got_stages != stages or Decimal(view["forecast"]) != forecast:
        problems.append(f"pipeline: expected {stages} forecast {forecast}, got {view}")
    if got_won != won or got_targets != {o: Decimal(a) for o, a in TARGETS.items()}:
        problems.append(f"pipeline owners: expected won {won} targets {TARGETS}, got {view['owners']}")
    listed = {o["id"] for o in _get(local, ws, "/opportunities")["opportunities"]}
    if listed != {d.id for d in deals}:
        problems.append(f"opportunities: expected {sorted(d.id for d in deals)}, got {sorted(listed)}")
    return problems, {"deals": len(deals), "forecast": forecast, "currency": view["currency"]}


def run(
    local: Any, ws: Any, opened: list[Opened], people: list[Person], ids: dict[str, str], shop_secret: str
) -> tuple[list[str], int]:
    """After the desk: the surveys answered, the deals opened, the three reports checked."""
    today = datetime.now(UTC).date()
    solved = [t for t in opened if t.plan.status == "solved"]
    problems = answer_surveys(local, ws, solved)
    pre_sale = next((t for t in solved if t.plan.kind == "pre_sale"), None)
    # the first simulated customers with a profile and a Shopify account (the restock's shop)
    takers = [p for p in people if p.email in ids and "shopify" in p.platforms][: len(DEALS)]
    deals, more = open_deals(local, ws, takers, pre_sale)
    problems += more
    won = [(d, p) for d, p in zip(deals[-len(takers) :], takers, strict=False) if d.stage == "won"]
    for deal, person in won:
        problems += reconcile(local, ws, deal, person, shop_secret)
    sla_problems, sla = check_sla(local, ws, opened, today)
    csat_problems, csat = check_csat(local, ws, solved, today)
    pipe_problems, pipe = check_pipeline(local, ws, deals)
    problems += sla_problems + csat_problems + pipe_problems
    lines = [
        f"service reports               SLA: {sla['met']} targets met over {sla['tickets']} tickets; "
        f"CSAT: {csat['sent']} surveys sent, {csat['answered']} answered (CSAT {csat['csat']})",
        f"sales pipeline                {pipe['deals']} opportunities, forecast {pipe['forecast']} "
        f"{pipe['currency']}; {len(won)} won and reconciled with its order; each report checked",
        *[f"  MISMATCH {p}" for p in problems[:10]],
    ]
    return lines, len(problems)
