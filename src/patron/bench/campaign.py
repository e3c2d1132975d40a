"""`patron bench campaign`: a campaign to N synthetic customers, every queue message twice.

In process, against moto: N customers in a segment, with mixed consent (some never
subscribed, some unsubscribed through Patron's link), some suppressed addresses (hard
bounces), and time zones around the world, so that part of the audience is in its quiet
hours when the campaign starts. Two variants split the audience. The campaign runs
through the real dispatcher (the minute job) and the real `campaign_sender` handler fed by
a queue poller that hands every message to the handler twice. The clock is simulated: it
moves half an hour per round, so the quiet-hours deferrals are sent when their morning
comes (the dispatcher re-enqueues them).

Everything is counted from moto's SES backend (what SES accepted), not from Patron's own
counters:

- `recipients`: destinations SES accepted; `ses_calls`: bulk calls (SES v2 SendBulkEmail);
  `recipients_per_call`;
- `duplicates`: destinations beyond the first for one customer (the same campaign);
- `sent_to_unconsented`: destinations whose customer had no email consent, had
  unsubscribed, or whose address was suppressed, including the customers who unsubscribe
  during the campaign (a few each minute, between queueing and sending) when they are
  sent after that;
- `sent_in_quiet_hours`: destinations sent while it was 21:00-09:00 for the customer;
- `dynamodb_requests_per_recipient`, `dynamodb_read_units_per_recipient`,
  `dynamodb_write_units_per_recipient`: every DynamoDB request of the dispatcher and the
  sender, both deliveries of each message, over the recipients sent; units as DynamoDB
  bills them (`bench/capacity.py`: a BatchGetItem bills every key it asks for, found or
  not); `second_delivery_per_recipient`: the part of those the second deliveries took.
  The bench's own calls are not counted: the seeding, the simulated unsubscribes, and the
  progress and held-batch checks after each run go through the harness's container, whose
  clients the counters do not see (`counted`).
- `dynamodb_read_requests_per_recipient`: the read requests alone (GetItem, BatchGetItem,
  Query) over the recipients sent.

With `loyalty=True` (`--loyalty`), the workspace has points and tiers on, a third of the
customers hold points (a sixth a tier), and both variants' templates use the `points` and
`tier` variables (`LOYALTY_LINE`): the sender reads the recipients' balances and tier
states (docs/benchmarks.md#loyalty-variables-in-a-campaign).
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from patron.synthetic.audience import customer

SENDER = "news@demo-brand.example"
SEGMENT = "account:guest"
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # morning in the Americas, night in Asia
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)
TEMPLATES = {
    "spring": {
        "subject": "Spring sale, {{ first_name | default: 'friend' }}",
        "html": "<p>Hi {{ first_name | default: 'there' }}, 20% off at {{ store_name }}.</p>"
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
        "text": "Hi {{ first_name | default: 'there' }}, 20% off. Unsubscribe: {{ unsubscribe_url }}",
    },
    "spring_b": {
        "subject": "{{ first_name | default: 'Friend' }}, your spring coupon",
        "html": '<p>Your coupon is waiting.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
        "text": "Your coupon is waiting. Unsubscribe: {{ unsubscribe_url }}",
    },
}


LOYALTY_LINE = "You have {{ points }} points ({{ tier | default: 'member' }}). "


def prepare(harness: Any, workspace_id: str, loyalty: bool = False) -> None:
    """The verified sender and the campaign's templates (with `LOYALTY_LINE`: loyalty's)."""
    from chalicelib.domain.messaging.templates import TemplateIn

    harness.client("ses").verify_email_identity(EmailAddress=SENDER)
    harness.container.workspaces.set_messaging(workspace_id, [], SENDER, None)
    for template_id, body in TEMPLATES.items():
        if loyalty:
            body = {
                **body,
                "html": f"<p>{LOYALTY_LINE}</p>{body['html']}",
                "text": LOYALTY_LINE + body["text"],
            }
        harness.container.template_service.save(
            workspace_id, template_id, TemplateIn(name=template_id, **body)
        )


def put_loyalty(harness: Any, workspace_id: str, customer_ids: list[str]) -> None:
    """Points and tiers on; a third of the customers hold points, a sixth the silver tier."""
    from decimal import Decimal

    from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry
    from chalicelib.domain.loyalty.tiers import TierState
    from chalicelib.domain.tier_rules import Tier, TierRules
    from chalicelib.domain.workspace_settings import LoyaltyRules

    own = harness.container
    own.workspaces.set_loyalty(workspace_id, LoyaltyRules(enabled=True))
    silver = Tier("silver", Decimal(100), Decimal(80), Decimal("1.5"), free_shipping=True)
    own.workspaces.set_tiers(workspace_id, TierRules(tiers=(silver,)))
    for n, cid in enumerate(customer_ids):
        if n % 3 == 0:
            key = EntryKey("manual", "bench", "adjustment")
            own.points_ledger.adjust(LedgerEntry(workspace_id, cid, key, 10 + n % 400, START, reason="bench"))
        if n % 6 == 0:
            own.tier_store.save(TierState(workspace_id, cid, "silver", START, Decimal(120)), None)


def put_customers(
    harness: Any, workspace_id: str, customers: list[dict[str, Any]], segment: str = SEGMENT
) -> None:
    """Profiles and their member items in the segment, as the pipeline would have left them."""
    from chalicelib.adapters.codec import to_item

    client = harness.client("dynamodb")
    table = harness.info.crm_table
    items: list[dict[str, Any]] = []
    for c in customers:
        items.append(
            {"pk": f"W#{workspace_id}#P#{c['cid']}", "sk": "P", "t": "profile", "ws": workspace_id, **c}
        )
        items.append({"pk": f"W#{workspace_id}#SEGM#{segment}", "sk": c["cid"], "t": "member"})
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {
            table: [{"PutRequest": {"Item": to_item(i)}} for i in items[start : start + 25]]
        }
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def bulk_destinations(harness: Any) -> list[dict[str, Any]]:
    """Every destination moto's SES accepted through a bulk send (SES v2 SendBulkEmail, as
    regional stages send, `patron/sesv2_bulk.py`; or v1 SendBulkTemplatedEmail), with its
    tags, headers and template data (one entry per call in `calls`)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][harness.region]
    found = []
    for call, message in enumerate(backend.sent_messages):
        for d in getattr(message, "destinations", None) or []:
            if not isinstance(d, dict) or "Destination" not in d:
                continue
            tags = {t["Name"]: t["Value"] for t in d.get("ReplacementTags", [])}
            found.append(
                {
                    "call": call,
                    "to": d["Destination"]["ToAddresses"][0],
                    "tags": tags,
                    "data": json.loads(d.get("ReplacementTemplateData") or "{}"),
                    "headers": {h["Name"]: h["Value"] for h in d.get("ReplacementHeaders", [])},
                    "template": message.template,
                }
            )
    return found


def counted(harness: Any) -> tuple[Any, Any, Any]:
    """(container, write counter, read counter): a container whose DynamoDB requests and
    units are counted, set as the one the handlers use. The harness's own container, and
    its clients already made, stay uncounted: the bench checks and seeds through them."""
    from chalicelib.container import Container, set_container
    from patron.bench.capacity import ReadCounter, WriteCounter

    _ = harness.container.dynamodb  # the harness's own client, made before the counters: uncounted
    writes = WriteCounter(reader=harness.client("dynamodb"))  # made before: its reads are not counted
    reads = ReadCounter()
    writes.install(harness.session)
    reads.install(harness.session)
    container = Container(harness.settings, session=harness.session)
    set_container(container)
    return container, writes, reads


def _totals(writes: Any, reads: Any) -> tuple[float, float, float]:
    """(DynamoDB requests, read units, write units) so far."""
    read_requests, read_units, _ = reads.snapshot()
    write_requests = sum(n for op, n in writes.requests.items() if op.startswith("dynamodb:"))
    return read_requests + write_requests, read_units, writes.wcu


def run(recipients: int = 2000, seed: int = 7, loyalty: bool = False) -> dict[str, Any]:
    from moto import mock_aws

    from patron.bench.ingest import BENCH_ENV

    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)

    from chalicelib.adapters.messaging import DynamoLimits
    from chalicelib.domain.messaging.campaign_model import CampaignIn
    from chalicelib.domain.messaging.model import Policy
    from chalicelib.domain.messaging.service import quiet_until
    from patron import motofast
    from patron.harness import Harness

    motofast.install()
    rng = random.Random(seed)
    with mock_aws():
        harness = Harness(stage="bench")
        poller = harness.new_campaign_poller(duplicate_deliveries=True)
        assert poller is not None, "the bench stage has a campaign queue"
        harness.campaign_poller = poller
        ws = harness.create_workspace("Bench Brand", "USD")
        prepare(harness, ws.workspace_id, loyalty)
        customers = []
        for n in range(recipients):
            roll = rng.random()
            consent = "subscribed" if roll < 0.9 else rng.choice(["unsubscribed", "not_subscribed"])
            customers.append(customer(n, rng.choice(ZONES), consent, email=rng.random() > 0.01))
        put_customers(harness, ws.workspace_id, customers)
        if loyalty:
            put_loyalty(harness, ws.workspace_id, [c["cid"] for c in customers])
        limits = DynamoLimits(harness.container.crm)
        blocked = {c["cid"] for c in customers if c["ce"]["s"] != "subscribed" or "e" not in c}
        for c in customers:
            if "e" in c and rng.random() < 0.03:  # hard bounces
                limits.suppress(ws.workspace_id, "email", c["e"], "hard bounce")
                blocked.add(c["cid"])
            elif rng.random() < 0.02:  # unsubscribed through the link
                limits.opt_out(ws.workspace_id, "email", c["cid"], "link")
                blocked.add(c["cid"])
        own = harness.container  # the bench's own reads and the simulated unsubscribes: not counted
        container, writes, reads = counted(harness)
        clock = {"now": START}
        for service in (own.campaigns, container.campaigns):
            service.clock = lambda: clock["now"]
            service.rate = lambda: 14.0  # an SES production account's starting rate: 840 a minute
        campaigns = container.campaigns
        created = own.campaigns.create(
            ws.workspace_id,
            CampaignIn(
                name="Bench",
                segment_id=SEGMENT,
                variants=[{"id": "a", "template_id": "spring"}, {"id": "b", "template_id": "spring_b"}],
            ),
        )
        campaign_id = created["campaign_id"]
        own.campaigns.start(ws.workspace_id, campaign_id)
        start = _totals(writes, reads)
        start_reads = reads.snapshot()[0]
        second = [0.0, 0.0, 0.0]  # what the second deliveries took
        delivered: set[str] = set()
        handler = poller.handler

        def sender(event: dict[str, Any], context: Any) -> Any:
            ids = {r["messageId"] for r in event["Records"]}
            again = ids <= delivered
            delivered.update(ids)
            before = _totals(writes, reads)
            try:
                return handler(event, context)
            finally:
                if again:
                    for k, (a, b) in enumerate(zip(_totals(writes, reads), before, strict=True)):
                        second[k] += a - b

        poller.handler = sender
        sent_at: list[datetime] = []  # the clock when each destination was accepted
        late: dict[str, datetime] = {}  # customers who unsubscribed mid-campaign, and when
        open_ = [c["cid"] for c in customers if c["cid"] not in blocked]
        rounds = 0
        while clock["now"] < START + timedelta(days=2):
            rounds += 1
            campaigns.dispatch()
            # between queueing and sending, a few customers unsubscribe: the sender must see it
            for cid in rng.sample(open_, min(len(open_), max(1, recipients // 4000))):
                limits.opt_out(ws.workspace_id, "email", cid, "link")
                late.setdefault(cid, clock["now"])
            harness.drain_campaigns()
            seen = len(bulk_destinations(harness))
            sent_at.extend([clock["now"]] * (seen - len(sent_at)))
            progress = own.campaigns.progress(ws.workspace_id, campaign_id)
            held = own.campaigns.store.due(clock["now"] + timedelta(days=2), 1)
            if progress["status"] == "sent" and not held:
                break
            # a minute per run while the segment is paged through, as the minute job runs;
            # then half an hour per run while only held (quiet-hours) batches wait
            clock["now"] += timedelta(minutes=1 if progress["phase"] != "done" else 30)
        destinations = bulk_destinations(harness)
        by_customer = Counter(d["tags"].get("customer") for d in destinations)
        zones = {c["cid"]: c["tz"] for c in customers}
        policy = Policy()
        after_opt_out = sum(
            1
            for d, at in zip(destinations, sent_at, strict=True)
            if d["tags"]["customer"] in late and at >= late[d["tags"]["customer"]]
        )
        in_quiet = sum(
            1
            for d, at in zip(destinations, sent_at, strict=True)
            if quiet_until(at, ZoneInfo(zones[d["tags"]["customer"]]), policy) is not None
        )
        calls = len({d["call"] for d in destinations})
        sent = len(destinations)
        progress = own.campaigns.progress(ws.workspace_id, campaign_id)
        total = [a - b for a, b in zip(_totals(writes, reads), start, strict=True)]
        requests = Counter(reads.requests) + Counter(
            {op.split(":", 1)[1]: n for op, n in writes.requests.items() if op.startswith("dynamodb:")}
        )

        def per(value: float) -> float:
            return round(value / sent, 3) if sent else 0.0

        return {
            "recipients": sent,
            "audience": recipients,
            "ses_calls": calls,
            "recipients_per_call": round(sent / calls, 2) if calls else 0,
            "duplicates": sum(n - 1 for n in by_customer.values()),
            "sent_to_unconsented": sum(1 for cid in by_customer if cid in blocked) + after_opt_out,
            "unsubscribed_mid_campaign": len(late),
            "sent_in_quiet_hours": in_quiet,
            "eligible_at_start": recipients - len(blocked),
            "queue_deliveries_per_message": 2,
            "loyalty_variables": loyalty,
            "dynamodb_requests_per_recipient": per(total[0]),
            "dynamodb_read_requests_per_recipient": per(reads.snapshot()[0] - start_reads),
            "dynamodb_read_units_per_recipient": per(total[1]),
            "dynamodb_write_units_per_recipient": per(total[2]),
            "second_delivery_per_recipient": {
                "requests": per(second[0]),
                "read_units": per(second[1]),
                "write_units": per(second[2]),
            },
            "dynamodb_requests": dict(sorted(requests.items())),
            "dynamodb_read_units": {op: round(n, 1) for op, n in sorted(reads.rcu_by.items())},
            "dispatcher_runs": rounds,
            "progress": {
                k: progress[k]
                for k in (
                    "status",
                    "enqueued",
                    "skipped",
                    "sent",
                    "deferred",
                    "dropped",
                    "duplicates",
                    "remaining",
                )
            },
        }
