"""CsatStore contract (service.ports.CsatStore): DynamoCsatStore on moto and the fake
(tests/fakes_csat.py) keep the settings, the hourly due queues, the watermark and the
report's facts alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.adapters.csat_store import DynamoCsatStore
from chalicelib.domain.service.csat import CsatSettings, SurveyFact
from chalicelib.domain.service.ports import DueSurvey
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_csat import FakeCsatStore

__all__ = ["moto_stage"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoCsatStore:
    return DynamoCsatStore(stage.crm)


store = port_fixture(FakeCsatStore, _dynamo)


def test_settings_are_absent_until_saved_then_read_back(store):
    # Given no settings, when some are saved
    assert store.settings("ws_a") is None
    reasons = ["late", "rude"]
    saved = CsatSettings(enabled=True, delay_minutes=30, expiry_days=3, channel="sms", reasons=reasons)
    store.save_settings("ws_a", saved)
    # Then they read back as saved, for that workspace only
    assert store.settings("ws_a") == saved and store.settings("ws_b") is None


def test_the_due_queue_gives_an_hours_surveys_due_by_a_time_once_each(store):
    # Given surveys due at 09:10, 09:40 (twice filed), 10:05, and an expiry at 09:20
    a = DueSurvey("ws_a", "tk_1", 1, T0 + timedelta(minutes=10), "send")
    b = DueSurvey("ws_a", "tk_2", 2, T0 + timedelta(minutes=40), "send")
    c = DueSurvey("ws_b", "tk_3", 1, T0 + timedelta(minutes=65), "send")
    x = DueSurvey("ws_a", "tk_1", 1, T0 + timedelta(minutes=20), "expire")
    for due in (a, b, b, c, x):
        store.file(due)
    # When the 09:00 hour is read at 09:30, then at 10:30, and the 10:00 hour at 10:30
    # Then each comes when due, earliest first, once, and not from another hour
    assert store.due(T0, T0 + timedelta(minutes=30), 10) == [a, x]
    assert store.due(T0, T0 + timedelta(minutes=90), 10) == [a, x, b]
    assert store.due(T0, T0 + timedelta(minutes=90), 2) == [a, x]
    assert store.due(T0 + timedelta(hours=1), T0 + timedelta(minutes=90), 10) == [c]
    # When one is done (twice: a replay)
    store.done(a)
    store.done(a)
    # Then it is gone, the others stay
    assert store.due(T0, T0 + timedelta(minutes=90), 10) == [x, b]


def test_the_watermark_moves_forward_only(store):
    assert store.watermark() is None
    store.set_watermark(T0)
    store.set_watermark(T0 - timedelta(hours=3))
    assert store.watermark() == T0


def test_a_fact_counts_its_latest_answer_and_a_withdrawal_wins_whatever_the_order(store):
    # Given two delivered surveys sent on 2 March, and one withdrawn before its fact came
    one = SurveyFact("ws_a", "tk_1", 1, T0, "ana", "complaint")
    two = SurveyFact("ws_a", "tk_2", 1, T0 + timedelta(hours=2), None, "pre_sale")
    late = SurveyFact("ws_a", "tk_3", 2, T0 + timedelta(hours=3), "bo", "pre_sale")
    store.fact_withdrawn("ws_a", late.sent_at, "tk_3", 2)
    for fact in (one, two, late, one):
        store.fact_sent(fact)
    # When the first is answered 2 with a reason, then 5; the second withdrawn then answered
    assert store.fact_answered("ws_a", T0, "tk_1", 1, 2, "late")
    assert store.fact_answered("ws_a", T0, "tk_1", 1, 5, None)
    store.fact_withdrawn("ws_a", two.sent_at, "tk_2", 1)
    assert not store.fact_answered("ws_a", two.sent_at, "tk_2", 1, 4, None)
    assert not store.fact_answered("ws_a", T0, "tk_9", 1, 4, None)  # no such survey
    # Then the day holds the first with 5 and no reason, the others withdrawn
    facts = {f.ticket_id: f for f in store.facts("ws_a", date(2026, 3, 2))}
    assert (facts["tk_1"].score, facts["tk_1"].reason, facts["tk_1"].withdrawn) == (5, None, False)
    assert (facts["tk_1"].agent, facts["tk_1"].kind, facts["tk_1"].sent_at) == ("ana", "complaint", T0)
    assert facts["tk_2"].withdrawn and facts["tk_2"].score is None
    assert "tk_3" not in facts or facts["tk_3"].withdrawn
    assert store.facts("ws_a", date(2026, 3, 3)) == [] and store.facts("ws_b", date(2026, 3, 2)) == []
