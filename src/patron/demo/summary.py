"""The demo's summary: every profile the API returns against the simulated truth, the
nightly job's segments, the analytics report's figures; and the lines that say so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from patron import http
from patron.synthetic.store import EUR_RATE, Person, SimOrder, expected_profiles


def segments(local: Any, workspace_id: str, customers: int, custom: list[Any]) -> int:
    """Run the nightly job, print the segments, and check what must hold; returns failures."""
    from chalicelib.domain import segments as language
    from chalicelib.domain.membership import segment_detail

    nightly = local.run_schedule("nightly_scores")
    local.wait_idle()
    container = local.harness.container
    model = container.workspaces.settings(workspace_id).model
    size = {}
    for sid in (
        [f"lifecycle:{s}" for s in language.LIFECYCLE_STAGES]
        + [f"rfm:{g}" for g in language.RFM_GROUPS]
        + ["account:member", "account:guest"]
        + [c.segment_id for c in custom]
    ):
        size[sid] = segment_detail(container.membership, workspace_id, sid)["size"]
    print(
        f"nightly job                   {nightly['profiles_read']} profiles read, model "
        f"{model.method if model else 'none'} ({model.reason if model else ''}), "
        f"{nightly['profiles_reevaluated']} memberships moved"
    )
    print(
        "lifecycle                     "
        + ", ".join(f"{s} {size['lifecycle:' + s]}" for s in language.LIFECYCLE_STAGES)
    )
    print(
        "RFM groups                    "
        + ", ".join(f"{g} {size['rfm:' + g]}" for g in language.RFM_GROUPS if size["rfm:" + g])
    )
    for c in custom:
        print(f"segment {c.name!r:<21} {size[c.segment_id]} members  ({c.definition})")
    failures = 0
    lifecycle_total = sum(size[f"lifecycle:{s}"] for s in language.LIFECYCLE_STAGES)
    accounts = size["account:member"] + size["account:guest"]
    rfm_total = sum(size[f"rfm:{g}"] for g in language.RFM_GROUPS)
    buyers = customers - size["lifecycle:prospect"]  # RFM scores customers with an order
    for name, total, expected in (
        ("lifecycle stages", lifecycle_total, customers),
        ("member/guest", accounts, customers),
        ("RFM groups", rfm_total, buyers),
    ):
        if total != expected:
            print(f"  MISMATCH {name} hold {total} customers, expected {expected}")
            failures += 1
    return failures


def check_profiles(
    local: Any, ws: Any, people: list[Person], orders: list[SimOrder]
) -> tuple[int, dict[str, Any]]:
    """Each simulated person's profile from the API against the truth: (mismatches, totals)."""
    expected = expected_profiles(people, orders)
    mismatches, members, guests, spent, refunded, merged = 0, 0, 0, Decimal(0), Decimal(0), 0
    top: list[tuple[Decimal, str, int]] = []
    ids: dict[str, str] = {}  # email -> the customer id the API found
    for person in people:
        _, answer = http.get(f"{local.api_url}/customers?email={person.email}", ws.api_key)
        found = answer["customers"]
        want = expected[person.email]
        if len(found) != 1:
            mismatches += 1
            continue
        got = found[0]
        actual = {
            "orders_count": got["orders_count"],
            "total_spent": Decimal(got["total_spent"]),
            "total_refunded": Decimal(got["total_refunded"]),
            "is_member": got["is_member"],
        }
        if actual != want:
            mismatches += 1
            print(f"  MISMATCH customer {got['customer_id']}: expected {want}, got {actual}")
        members += got["is_member"]
        guests += not got["is_member"]
        spent += Decimal(got["total_spent"])
        refunded += Decimal(got["total_refunded"])
        merged += len(got["sources"]) > 1
        ids[person.email] = got["customer_id"]
        top.append((Decimal(got["total_spent"]), got["customer_id"], got["orders_count"]))
    totals = {"members": members, "guests": guests, "spent": spent, "refunded": refunded}
    return mismatches, totals | {"merged": merged, "top": top, "ids": ids}


def print_store(
    local: Any,
    ws: Any,
    people: list[Person],
    orders: list[SimOrder],
    sending: dict[str, Any],
    totals: dict[str, Any],
) -> None:
    """The store's part of the summary: what was simulated, sent, processed and reported."""
    stats = local.harness.poller.stats
    deliveries, outcomes, latencies = sending["deliveries"], sending["outcomes"], sending["latencies"]
    print()
    print("Patron demo summary")
    print("-------------------")
    print(f"customers simulated           {len(people)}")
    print(
        f"orders simulated              {len(orders)} ({sum(o.cancelled for o in orders)} cancelled, "
        f"{sum(o.refund > 0 for o in orders)} refunded)"
    )
    print("Shopify orders export imported (patron import orders FILE --format shopify-csv):")
    for line in sending["imported"]:
        print(f"  {line}")
    print(f"webhook deliveries sent       {deliveries} in {sending['seconds']:.1f}s over HTTP")
    for outcome, n in sorted(outcomes.items()):
        print(f"  {outcome:<27} {n}")
    ordered = sorted(latencies)
    p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"webhook answer time           p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms (local stack on moto; Shopify allows 5 s)"
    )
    print(
        f"stream records processed      {stats.records} in {stats.invocations} invocations "
        f"({stats.failed_to_destination} to the failure queue)"
    )
    members, guests = totals["members"], totals["guests"]
    print(
        f"profiles                      {members + guests} ({members} members, {guests} guests, "
        f"{totals['merged']} buying on both stores)"
    )
    print(f"revenue (USD, EUR at {EUR_RATE})    {totals['spent']:.2f}, refunded {totals['refunded']:.2f}")
    report = local.harness.container.analytics.report(ws.workspace_id, None, None)
    k, mg = report["kpis"], report["members_vs_guests"]
    print(
        f"last 12 months                AOV {k['average_order_value']}, repeat purchase rate "
        f"{k['repeat_purchase_rate']}, churn rate {k['churn_rate']}"
    )
    print(
        f"members vs guests             revenue {mg['members']['revenue']} vs {mg['guests']['revenue']}, "
        f"repeat rate {mg['members']['repeat_purchase_rate']} vs {mg['guests']['repeat_purchase_rate']}"
    )


def print_close(local: Any, top: list[tuple[Decimal, str, int]], mismatches: int) -> None:
    """What the embedded SES sent, the top customers, and the verdict."""
    from patron import outbox

    print(outbox.summary(local.aws_url, limit=3))
    print("top customers by spend:")
    for value, cid, n in sorted(top, reverse=True)[:5]:
        print(f"  {cid}  {n} orders  {value:.2f} USD")
    verdict = (
        "all profiles, segment totals, messages, loyalty points, tickets, service reports, the "
        "pipeline and recommendations match the simulated truth"
        if mismatches == 0
        else f"{mismatches} MISMATCHES"
    )
    print(f"check                         {verdict}")
