"""Engagement tiers, SES events counted once, attribution, unsubscribe scopes and the report,
against in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters.engagement import engagement_from_item
from chalicelib.adapters.order_items import ingest_change
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.messaging.attribution import AttributionService
from chalicelib.domain.messaging.engagement import EngagementService, Rules, score_of, tier_of
from chalicelib.domain.messaging.feedback import FeedbackService, key_tag, parse_notification
from chalicelib.domain.messaging.model import Channel, EngagementState, Outgoing, Policy, Purpose
from chalicelib.domain.messaging.performance import MessagingStatsService, ScopeStats
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.messaging.unsubscribe import UnsubscribeService, make_token, read_token
from chalicelib.domain.timemath import iso
from tests.conftest import event_bytes
from tests.unit.fakes import SALT, WS, FakeWorkspaces
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, FakeTemplates, profile

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 13:00 in New York: no quiet hours


def ago(days: float) -> str:
    return iso(NOW - timedelta(days=days)) or ""


def state(item: dict[str, Any] | None) -> EngagementState | None:
    """An engagement item (as stored) read as the domain sees it."""
    return None if item is None else engagement_from_item(item)


# -- tiers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("item", "tier"),
    [
        (None, "medium"),  # never messaged
        ({"nd": 1, "ds": 1, "ld": ago(1)}, "medium"),  # one unanswered delivery
        ({"lc": ago(20), "lo": ago(20)}, "high"),  # clicked within 30 days
        ({"lo": ago(3), "po": ago(25)}, "high"),  # two opens within 30 days
        ({"lo": ago(3), "po": ""}, "medium"),  # one open only
        ({"lo": ago(3), "po": ago(40)}, "medium"),  # the second open is too old
        ({"ds": 3, "lo": ago(120)}, "low"),  # three unanswered deliveries, quiet 90 days
        ({"ds": 3}, "low"),  # never opened anything
        ({"ds": 3, "lo": ago(60)}, "medium"),  # opened within 90 days
        ({"ds": 2, "lo": ago(120)}, "medium"),  # only two unanswered
    ],
)
def test_tiers_follow_opens_and_clicks(item, tier):
    assert tier_of(state(item), Rules(), NOW) == tier


def test_thresholds_are_per_workspace_and_checked():
    # Given a workspace that calls one open within a week "high", and low after 5 deliveries
    rules = Rules.of({"recent_days": 7, "high_opens": 1, "low_deliveries": 5, "unknown": 9})
    assert tier_of(state({"lo": ago(3)}), rules, NOW) == "high"
    assert tier_of(state({"lc": ago(10)}), rules, NOW) == "medium"
    assert tier_of(state({"ds": 4}), rules, NOW) == "medium"
    assert tier_of(state({"ds": 5}), rules, NOW) == "low"
    with pytest.raises(BadRequest):
        Rules(high_opens=3).check()  # only the last two opens are kept


def test_the_score_ranks_recent_clickers_above_silent_recipients():
    clicker = score_of(state({"lc": ago(2), "lo": ago(2)}), Rules(), NOW)
    opener = score_of(state({"lo": ago(2)}), Rules(), NOW)
    silent = score_of(state({"ds": 6}), Rules(), NOW)
    assert 0 <= silent < score_of(None, Rules(), NOW) < opener < clicker <= 100


class FakeEngagementStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, ...]] = []

    def _item(self, cid: str) -> dict[str, Any]:
        return self.items.setdefault(cid, {"cid": cid})

    def delivered(self, ws: str, cid: str, at: str) -> None:
        self.calls.append(("delivered", cid, at))
        item = self._item(cid)
        item["nd"] = item.get("nd", 0) + 1
        item["ds"] = item.get("ds", 0) + 1
        item["ld"] = max(item.get("ld", ""), at)

    def opened(self, ws: str, cid: str, at: str) -> None:
        self.calls.append(("opened", cid, at))
        item = self._item(cid)
        item["no"] = item.get("no", 0) + 1
        item["po"], item["lo"], item["ds"] = item.get("lo", ""), at, 0

    def clicked(self, ws: str, cid: str, at: str, key: str, scope: str | None, variant: str | None) -> None:
        self.calls.append(("clicked", cid, at))
        item = self._item(cid)
        item["nc"] = item.get("nc", 0) + 1
        item["lc"], item["ds"] = at, 0
        if scope:
            item["lk"] = {"k": key, "s": scope, "at": at, **({"v": variant} if variant else {})}

    # kept as the adapter stores the item, read through its mapping
    def get(self, ws: str, cid: str) -> EngagementState | None:
        return state(self.items.get(cid))

    def get_many(self, ws: str, cids: list[str]) -> dict[str, EngagementState]:
        return {c: engagement_from_item(self.items[c]) for c in cids if c in self.items}


def test_the_batch_read_gives_every_customer_a_tier():
    store = FakeEngagementStore()
    store.items = {"c_hot": {"cid": "c_hot", "lc": ago(1)}, "c_cold": {"cid": "c_cold", "ds": 4}}
    service = EngagementService(store, FakeWorkspaces())
    tiers = service.tiers(WS, ["c_hot", "c_cold", "c_new"], NOW)
    assert tiers == {"c_hot": "high", "c_cold": "low", "c_new": "medium"}


# -- the caps ask the engagement port ----------------------------------------------------
class FixedTiers:
    def __init__(self, tier: str) -> None:
        self.tier_value = tier
        self.asked: list[str] = []

    def tier(self, workspace_id: str, customer_id: str, now: datetime) -> str:
        self.asked.append(customer_id)
        return self.tier_value


@pytest.mark.parametrize(
    ("port", "explicit", "sent"),
    [
        (FixedTiers("high"), None, 2),  # the port's tier: two a day
        (FixedTiers("medium"), None, 1),
        (FixedTiers("high"), "medium", 1),  # a tier the caller gives wins
        (None, None, 1),  # no port: medium
    ],
)
def test_frequency_caps_use_the_engagement_tier(port, explicit, sent):
    # Given the messaging core wired with (or without) the engagement port
    channels = FakeChannels()
    service = MessagingService(FakeLedger(), FakeLimits(), channels, FakeTemplates(), engagement=port)
    customer = profile()
    # When three campaigns try to reach the customer on one afternoon
    statuses = [
        service.send(
            Outgoing("ws_1", "c_1", f"camp:{n}", Channel.EMAIL, Purpose.MARKETING, "tpl_1"),
            customer,
            Policy(),
            NOW,
            tier=explicit,
        ).status
        for n in range(3)
    ]
    # Then as many go out as the tier allows, and the rest wait
    assert statuses.count("sent") == sent and len(channels.sent) == sent
    assert statuses[sent:] == ["deferred"] * (3 - sent)


# -- SES events: counted once per message -------------------------------------------------
class EventLedger(FakeLedger):
    """The fake ledger, with the events of `DynamoLedger`: once per message and event."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[tuple[str, str, str, str], str] = {}
        self.counted: dict[str, dict[str, int]] = {}
        self.confirmed: list[tuple[str, str]] = []

    def record_event(self, ws, cid, key, event, at, counts=None) -> bool:
        if (ws, cid, key) not in self.entries or (ws, cid, key, event) in self.events:
            return False
        self.events[(ws, cid, key, event)] = at
        for scope, moving in (counts or {}).items():
            for name, value in moving.items():
                self.counted.setdefault(scope, {}).setdefault(name, 0)
                self.counted[scope][name] += value
        return True

    def confirm_sent(self, ws, cid, key, provider_id) -> None:
        self.confirmed.append((key, provider_id))
        if self.entries.get((ws, cid, key), {}).get("status") == "sending":
            self.entries[(ws, cid, key)] = {"status": "sent", "detail": provider_id}


def ses(fixture: str, key: str, customer: str = "c_1", variant: str = "b") -> Any:
    body = (
        event_bytes(f"ses/{fixture}")
        .decode()
        .replace("WS_PLACEHOLDER", WS)
        .replace("CUSTOMER_PLACEHOLDER", customer)
        .replace("MK_PLACEHOLDER", key_tag(key))
        .replace("V_PLACEHOLDER", variant)
    )
    return parse_notification(body)


class NoSuppressions:
    def suppress(self, *args: Any) -> None:
        raise AssertionError("nothing here suppresses")


def test_each_event_of_a_message_counts_once_for_its_campaign_and_variant():
    # Given a campaign message that was sent (its claim exists)
    ledger, engagement = EventLedger(), FakeEngagementStore()
    ledger.finish(WS, "c_1", "camp:spring", "sent", "ses-1")
    feedback = FeedbackService(NoSuppressions(), ledger, engagement=engagement)
    # When SES reports its delivery, two opens (a redelivered event and a second open), a click
    results = [
        feedback.handle(ses(f, "camp:spring"), "2026-11-19T13:00:00.000000Z")
        for f in ("delivery.json", "open.json", "open.json", "click.json", "click.json")
    ]
    # Then each counts once, for the campaign and its variant b
    assert [r["counted"] for r in results] == [True, True, False, True, False]
    expected = {"delivered": 1, "opened": 1, "clicked": 1}
    assert ledger.counted == {"camp#spring": expected, "camp#spring#v#b": expected}
    # And the customer's engagement moved at the events' own times, to the high tier
    assert [c[0] for c in engagement.calls] == ["delivered", "opened", "clicked"]
    assert engagement.calls[1][2] == "2026-11-20T16:30:00.000000Z"
    item = engagement.items["c_1"]
    assert item["lk"] == {
        "k": "camp:spring",
        "s": "camp#spring",
        "v": "b",
        "at": "2026-11-20T16:31:00.000000Z",
    }
    assert tier_of(state(item), Rules(), datetime(2026, 11, 20, tzinfo=UTC)) == "high"


def test_a_transactional_message_moves_engagement_but_no_statistics_and_no_last_click():
    ledger, engagement = EventLedger(), FakeEngagementStore()
    key = "txn:W#ws#O#src#1:shipped"
    ledger.finish(WS, "c_1", key, "sent", "ses-1")
    feedback = FeedbackService(NoSuppressions(), ledger, engagement=engagement)
    assert feedback.handle(ses("click.json", key, variant=""), "now")["counted"] is False
    assert ledger.counted == {} and engagement.items["c_1"]["nc"] == 1
    assert "lk" not in engagement.items["c_1"]  # a tracking link does not take attribution


def test_a_send_event_marks_a_claim_its_sender_left_sending():
    # Given a sender that died after SES accepted the message (claim still `sending`)
    ledger = EventLedger()
    ledger.claim(WS, "c_1", "camp:spring", NOW, timedelta(minutes=5))
    feedback = FeedbackService(NoSuppressions(), ledger)
    # When SES's Send event arrives
    feedback.handle(ses("send.json", "camp:spring"), "now")
    # Then the claim is sent, with SES's message id, and the event is on it
    assert ledger.entries[(WS, "c_1", "camp:spring")]["status"] == "sent"
    assert ledger.confirmed == [("camp:spring", "0100018f3a2b4c5d-ses-message-id-000003")]
    assert (WS, "c_1", "camp:spring", "send") in ledger.events


# -- attribution --------------------------------------------------------------------------
class FakeAttributions:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.counted: dict[str, dict[str, Any]] = {}

    def record(self, ws, order_pk, attribution, counts) -> bool:
        if order_pk in self.items:
            return False
        self.items[order_pk] = attribution
        for scope, moving in counts.items():
            for name, value in moving.items():
                self.counted.setdefault(scope, {}).setdefault(name, 0)
                self.counted[scope][name] += value
        return True


def order(created: str, total: str = "122.00", currency: str = "USD", pk: str = "W#ws_test#O#src_1#1001"):
    return {
        "pk": pk,
        "t": "order",
        "ws": WS,
        "src": "src_1",
        "oid": "1001",
        "ca": created,
        "tot": Decimal(total),
        "cur": currency,
        "hist": [["paid", created]],
        "p": {"e": "jane.doe@example.com"},
    }


@pytest.fixture
def attribution():
    from chalicelib.domain.identity import customer_id_for

    jane = customer_id_for(SALT, "email:jane.doe@example.com")
    engagement = FakeEngagementStore()
    engagement.clicked(WS, jane, "2026-11-19T12:31:00.000000Z", "camp:spring", "camp#spring", "b")
    store = FakeAttributions()
    service = AttributionService(FakeWorkspaces(), EngagementService(engagement, FakeWorkspaces()), store)
    return service, store, engagement, jane


def test_an_order_within_five_days_of_a_click_is_attributed_once(attribution):
    service, store, _, jane = attribution
    # When Jane's order is first seen a day after her click, and the record is replayed
    first = service.on_order(ingest_change(None, order("2026-11-20T15:15:30.000000Z")), NOW)
    again = service.on_order(ingest_change(None, order("2026-11-20T15:15:30.000000Z")), NOW)
    later = service.on_order(
        ingest_change(order("2026-11-20T15:15:30.000000Z"), order("2026-11-20T15:15:30.000000Z")), NOW
    )
    # Then the order counts once, for the campaign and the variant
    assert first is not None and first["cid"] == jane and (again, later) == (None, None)
    counts = {"orders": 1, "revenue": Decimal("122.00")}
    assert store.counted == {"camp#spring": counts, "camp#spring#v#b": counts}


@pytest.mark.parametrize(
    ("created", "currency", "revenue"),
    [
        ("2026-11-24T12:31:00.000000Z", "EUR", Decimal("134.20")),  # 5 days on the dot; EUR at 1.10
        ("2026-11-24T12:31:00.000001Z", "USD", None),  # just past the window
        ("2026-11-19T12:30:59.000000Z", "USD", None),  # placed before the click
        ("2026-11-20T15:15:30.000000Z", "JPY", "no rate"),  # no rate: counted, revenue unknown
    ],
)
def test_the_window_and_the_currency(attribution, created, currency, revenue):
    service, store, _, _ = attribution
    result = service.on_order(ingest_change(None, order(created, currency=currency)), NOW)
    if revenue is None:
        assert result is None and store.counted == {}
    elif revenue == "no rate":
        assert store.counted["camp#spring"] == {"orders": 1}
    else:
        assert store.counted["camp#spring"] == {"orders": 1, "revenue": revenue}


def test_a_customer_without_a_click_or_an_unknown_workspace_attributes_nothing(attribution):
    service, store, engagement, _ = attribution
    # Given no click at all (or an order of a workspace that is gone)
    engagement.items.clear()
    assert service.on_order(ingest_change(None, order("2026-11-20T15:15:30.000000Z")), NOW) is None
    unknown = dict(order("2026-11-20T15:15:30.000000Z"), ws="ws_gone")
    assert service.on_order(ingest_change(None, unknown), NOW) is None and store.items == {}


# -- unsubscribe links naming their campaign ----------------------------------------------
class OptOuts:
    def __init__(self) -> None:
        self.plain: list[tuple[str, str]] = []
        self.counted: dict[tuple[str, str], dict[str, Any]] = {}

    def opt_out(self, ws, channel, cid, source) -> None:
        self.plain.append((channel, cid))

    def is_opted_out(self, ws, channel, cid) -> bool:
        return (channel, cid) in self.plain or (channel, cid) in self.counted

    def opt_out_once(self, ws, channel, cid, source, at, counts) -> bool:
        if (channel, cid) in self.counted:
            return False
        self.counted[(channel, cid)] = counts
        return True


def test_a_link_names_its_campaign_and_older_links_still_work():
    store = OptOuts()
    service = UnsubscribeService(store, FakeWorkspaces(), "https://crm.example", store)
    # Given a link from variant b of the spring campaign, and a link made before scopes existed
    link = service.link(WS, "c_1", "email", "camp#spring", "b")
    assert link is not None
    token = link.rsplit("/", 1)[1]
    old = make_token(WS, "c_2", "email", SALT)
    claims = read_token(token, lambda ws: SALT)
    assert (claims.customer_id, claims.scope, claims.variant) == ("c_1", "camp#spring", "b")
    # When both are followed (the first twice)
    for t in (token, token, old):
        assert service.unsubscribe(t, NOW)["status"] == "unsubscribed"
    # Then the campaign and its variant count the first one; the old link opts out, uncounted
    assert store.counted == {
        ("email", "c_1"): {"camp#spring": {"unsubscribed": 1}, "camp#spring#v#b": {"unsubscribed": 1}}
    }
    assert store.plain == [("email", "c_2")]
    # And an altered token is refused
    with pytest.raises(NotFound):
        service.unsubscribe(make_token(WS, "c_1", "email", "another salt", "camp#spring"))


# -- the report ---------------------------------------------------------------------------
class Counters:
    def __init__(self, found: dict[str, dict[str, Any]]) -> None:
        self.found = found

    def all(self, ws: str) -> dict[str, dict[str, Any]]:
        return self.found

    def get(self, ws: str, scope: str) -> dict[str, Any] | None:
        return self.found.get(scope)


def test_rates_are_derived_from_the_counters():
    row = ScopeStats.of(
        "camp#spring#v#b",
        {
            "sent": 200,
            "delivered": 190,
            "opened": 76,
            "clicked": 19,
            "bounced": 10,
            "unsubscribed": 2,
            "orders": 3,
            "revenue": Decimal("366.5"),
        },
    )
    assert (row.kind, row.id, row.variant) == ("campaign", "spring", "b")
    assert (row.open_rate, row.click_rate, row.bounce_rate, row.unsubscribe_rate) == (0.4, 0.1, 0.05, 0.0105)
    assert row.revenue == "366.50"
    empty = ScopeStats.of("flow#welcome", {"sent": 0})
    assert (empty.kind, empty.open_rate, empty.bounce_rate) == ("flow", None, None)


def test_the_report_lists_every_scope_or_one():
    service = MessagingStatsService(
        Counters({"flow#welcome": {"sent": 3}, "camp#spring": {"sent": 5}}), FakeWorkspaces()
    )
    assert [s.scope for s in service.report(WS).scopes] == ["camp#spring", "flow#welcome"]
    assert service.report(WS, "flow#welcome").scopes[0].sent == 3
    with pytest.raises(NotFound):
        service.report(WS, "camp#nothing")


def test_an_order_under_a_merged_away_id_finds_the_survivors_click(attribution):
    _, store, engagement, jane = attribution

    class Pointers:
        def load(self, ws: str, cid: str) -> CustomerProfile | None:
            return CustomerProfile(ws, "c_survivor") if cid == jane else None

    # Given Jane's id was merged into another profile, which got the mail and clicked
    engagement.items["c_survivor"] = engagement.items.pop(jane)
    service = AttributionService(
        FakeWorkspaces(), EngagementService(engagement, FakeWorkspaces()), store, Pointers()
    )
    # When an order under her own id comes in
    result = service.on_order(ingest_change(None, order("2026-11-20T15:15:30.000000Z")), NOW)
    # Then it is attributed to the survivor's click
    assert (
        result is not None and result["cid"] == "c_survivor" and store.counted["camp#spring"]["orders"] == 1
    )
