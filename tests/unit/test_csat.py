"""Satisfaction surveys (domain/service/csat*.py) with fakes and an injected clock: due after
the delay, one per resolution, withdrawn on reopen, expired after N days, answered through
signed links (last answer wins, counted once), and the report's arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.model import InFlight
from chalicelib.domain.service import csat
from chalicelib.domain.service.csat import CsatSettings, SurveyFact, SurveyLink
from chalicelib.domain.service.csat_service import CsatAnswerIn, CsatService
from chalicelib.domain.service.model import EventKind, TicketStatus
from chalicelib.domain.service.ports import DueSurvey
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketEventIn, TicketIn
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.fakes_csat import FakeCsatStore, FakeSender
from tests.fakes_customer_edits import FakeCustomerEdits
from tests.fakes_tickets import FakeTicketStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SALT = "s3cret-salt"


class Workspaces:
    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        if workspace_id != "ws_a":
            return None
        return WorkspaceSettings("ws_a", "USD", SALT, name="Demo Brand", sender_email="hi@demo.example")

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        raise NotImplementedError


class Desk:
    """The ticket service with the CSAT hook, on fakes."""

    def __init__(self, delivery: str = "sent", **survey: object) -> None:
        profiles = FakeCustomerEdits()
        profiles.put(CustomerProfile("ws_a", "c_1", email="jane@example.com", rev=1))
        profiles.put(CustomerProfile("ws_a", "c_2", phone="+12125550147", rev=1))
        self.store, self.tickets, self.sender = FakeCsatStore(), FakeTicketStore(), FakeSender(delivery)
        self.csat = CsatService(
            self.tickets, self.store, profiles, Workspaces(), self.sender, "https://crm.example/api"
        )
        self.csat.save_settings("ws_a", CsatSettings(enabled=True, **survey))  # type: ignore[arg-type]
        self.desk = TicketService(store=self.tickets, profiles=profiles, hooks=(self.csat,))

    def ticket(self, customer: str = "c_1", assignee: str | None = "ana") -> str:
        body = TicketIn(customer_id=customer, subject="Late", kind="order_issue", assignee=assignee)
        return self.desk.create("ws_a", body, "cli", T0).id

    def status(self, tid: str, to: str, at: datetime) -> None:
        self.desk.record("ws_a", tid, TicketEventIn(type="status", to=to), "cli", at)

    def kinds(self, tid: str) -> list[str]:
        return [e.kind for e in self.desk.show("ws_a", tid).events if e.kind.startswith("csat_")]

    def token(self, tid: str, score: int, n: int = 1) -> str:
        r = self.survey(tid, n)
        assert r.expires_at is not None
        return csat.link_token(SurveyLink("ws_a", tid, n, score, r.expires_at), SALT)

    def survey(self, tid: str, n: int = 1) -> csat.Resolution:
        found = self.tickets.load("ws_a", tid)
        assert found is not None
        return csat.resolutions("c_1", found[1])[n - 1]


def test_a_solved_ticket_gets_its_survey_after_the_delay_once():
    # Given surveys 60 minutes after the solve, and a ticket solved at 10:00
    d = Desk(delay_minutes=60)
    tid = d.ticket()
    d.status(tid, "solved", T0 + timedelta(hours=1))
    # When the job runs before the delay has passed
    assert d.csat.run(T0 + timedelta(hours=1, minutes=30)).get("sent", 0) == 0
    # Then nothing is sent
    assert d.sender.sent == [] and d.kinds(tid) == []
    # When it runs at 11:00, then again, then again with the queue refiled (a replay)
    assert d.csat.run(T0 + timedelta(hours=2))["sent"] == 1
    d.csat.run(T0 + timedelta(hours=2, minutes=5))
    d.store.file(csat_due(tid, T0 + timedelta(hours=2)))
    d.csat.run(T0 + timedelta(hours=2, minutes=10))
    # Then one email went out, with five signed one-tap links, and one `csat_sent`
    (message,) = d.sender.sent
    assert (message.key, message.channel, message.purpose) == (f"csat:{tid}:1", "email", "transactional")
    links = [message.values[f"csat_url_{s}"] for s in range(1, 6)]
    assert all(link.startswith("https://crm.example/api/csat/") for link in links)
    assert d.kinds(tid) == ["csat_sent"]
    sent = d.survey(tid)
    assert sent.expires_at == T0 + timedelta(hours=2, days=7)
    assert sent.state(T0 + timedelta(hours=3)) == "sent"


def csat_due(tid: str, at: datetime) -> DueSurvey:
    return DueSurvey("ws_a", tid, 1, at, "send")


def test_a_ticket_reopened_before_its_survey_is_due_never_gets_it():
    # Given a ticket solved then reopened within the delay
    d = Desk(delay_minutes=60)
    tid = d.ticket()
    d.status(tid, "solved", T0 + timedelta(minutes=10))
    d.status(tid, "open", T0 + timedelta(minutes=30))
    # When the job runs after the delay
    counts = d.csat.run(T0 + timedelta(hours=2))
    # Then nothing is sent and the survey is withdrawn
    assert d.sender.sent == [] and counts == {"withdrawn": 1}
    assert d.kinds(tid) == ["csat_withdrawn"]


def test_a_sent_survey_is_withdrawn_at_the_reopen_and_its_links_close():
    # Given a survey sent
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0 + timedelta(minutes=10))
    d.csat.run(T0 + timedelta(minutes=11))
    token = d.token(tid, 5)
    # When the ticket is reopened
    d.status(tid, "open", T0 + timedelta(minutes=20))
    # Then the survey is withdrawn, its link answers "no longer open", and it counts nowhere
    assert d.kinds(tid) == ["csat_sent", "csat_withdrawn"]
    page = d.csat.open_link(token, T0 + timedelta(minutes=21))
    assert (page.state, page.why) == ("closed", "withdrawn")
    day = T0.date()
    assert csat.csat_report(d.store.facts("ws_a", day), day, day, "agent").total.sent == 0


def test_a_ticket_solved_reopened_and_solved_again_has_two_surveys():
    # Given a ticket solved, answered, reopened and solved again
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0 + timedelta(minutes=10))
    d.csat.run(T0 + timedelta(minutes=11))
    d.csat.open_link(d.token(tid, 2), T0 + timedelta(minutes=12))
    d.status(tid, "open", T0 + timedelta(minutes=20))
    d.status(tid, "solved", T0 + timedelta(minutes=30))
    # When the job runs
    d.csat.run(T0 + timedelta(minutes=31))
    # Then each resolution got its own survey, the first answered stays answered
    assert [m.key for m in d.sender.sent] == [f"csat:{tid}:1", f"csat:{tid}:2"]
    assert d.kinds(tid) == ["csat_sent", "csat_answered", "csat_sent"]
    assert d.survey(tid, 1).state(T0 + timedelta(minutes=40)) == "answered"


def test_an_unanswered_survey_expires_after_n_days_and_its_links_close():
    # Given surveys that expire after 3 days, one sent
    d = Desk(delay_minutes=0, expiry_days=3)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    d.csat.run(T0 + timedelta(minutes=1))
    token = d.token(tid, 4)
    # When the job runs before, then after the expiry
    d.csat.run(T0 + timedelta(days=2))
    assert d.kinds(tid) == ["csat_sent"]
    d.csat.run(T0 + timedelta(days=3, minutes=5))
    # Then `csat_expired` is recorded once, and the link answers "no longer open"
    d.csat.run(T0 + timedelta(days=3, minutes=10))
    assert d.kinds(tid) == ["csat_sent", "csat_expired"]
    assert d.csat.open_link(token, T0 + timedelta(days=4)).state == "closed"


def test_the_last_answer_wins_and_counts_once_with_its_comment_and_reason():
    # Given a survey sent to Jane
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    d.csat.run(T0 + timedelta(minutes=1))
    # When she taps 2 (twice: a link checker came first), then sends a reason and a comment
    at = T0 + timedelta(minutes=5)
    page = d.csat.open_link(d.token(tid, 2), at)
    d.csat.open_link(d.token(tid, 2), at)
    d.csat.answer(d.token(tid, 2), CsatAnswerIn(comment="Took a week", reason="Slow_Response "), at)
    # Then the page offered the reasons; one score event and one with the comment are logged
    assert (page.state, page.score, page.reasons[0]) == ("recorded", 2, "slow_response")
    assert d.kinds(tid) == ["csat_sent", "csat_answered", "csat_answered"]
    # When she changes her mind to 5 within the expiry
    d.csat.open_link(d.token(tid, 5), T0 + timedelta(days=1))
    # Then the ticket and the report hold 5, counted once
    shown = d.desk.show("ws_a", tid)
    head = d.tickets.load("ws_a", tid)
    assert head is not None and (head[0].csat_score, head[0].csat_answered_at) == (5, T0 + timedelta(days=1))
    assert shown.events[-1].data["score"] == 5
    report = csat.csat_report(d.store.facts("ws_a", T0.date()), T0.date(), T0.date(), "agent")
    assert (report.total.sent, report.total.answered, report.total.satisfied) == (1, 1, 1)
    assert report.total.reasons == {} and report.groups[0].group == "ana"


def test_a_reason_not_offered_or_on_a_high_score_is_refused_and_tampered_links_are_400():
    # Given a survey sent
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    d.csat.run(T0 + timedelta(minutes=1))
    at = T0 + timedelta(minutes=2)
    # When a reason is not one of the list, or comes with a 5
    with pytest.raises(BadRequest):
        d.csat.answer(d.token(tid, 2), CsatAnswerIn(reason="too expensive"), at)
    with pytest.raises(BadRequest):
        d.csat.answer(d.token(tid, 5), CsatAnswerIn(reason="other"), at)
    # And when a link's score or ticket is edited, or it is signed for another purpose
    token = d.token(tid, 1)
    payload, signature = token.split(".")
    forged = csat.link_token(SurveyLink("ws_a", tid, 1, 5, T0 + timedelta(days=9)), "wrong salt")
    for bad in (forged, payload[:-2] + "xx." + signature, "nonsense", token + "x"):
        with pytest.raises(BadRequest):
            d.csat.open_link(bad, at)
    # Then nothing was recorded
    assert d.kinds(tid) == ["csat_sent"]


def test_the_sms_link_shows_the_scores_and_a_customer_without_email_gets_an_sms():
    # Given a customer with only a phone, whose ticket is solved
    d = Desk(delay_minutes=0)
    tid = d.ticket(customer="c_2")
    d.status(tid, "solved", T0)
    # When the job sends the survey
    d.csat.run(T0 + timedelta(minutes=1))
    (message,) = d.sender.sent
    # Then it is an SMS whose one link shows five signed score links, recording nothing
    assert message.channel == "sms"
    token = message.values["csat_url"].rsplit("/", 1)[1]
    page = d.csat.open_link(token, T0 + timedelta(minutes=2))
    assert page.state == "choose" and sorted(page.choices) == [1, 2, 3, 4, 5]
    assert d.kinds(tid) == ["csat_sent"]
    assert d.csat.open_link(page.choices[4], T0 + timedelta(minutes=3)).state == "recorded"


def test_a_suppressed_address_records_the_survey_undelivered_and_counts_nowhere():
    # Given a customer whose address is suppressed (the messaging guardrails drop it)
    d = Desk("dropped", delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    # When the job runs twice
    d.csat.run(T0 + timedelta(minutes=1))
    d.csat.run(T0 + timedelta(minutes=2))
    # Then `csat_sent` says dropped, once, and the report has no survey
    assert d.kinds(tid) == ["csat_sent"]
    assert d.survey(tid).state(T0 + timedelta(minutes=3)) == "undelivered"
    assert d.store.facts("ws_a", T0.date()) == []


def test_surveys_off_file_nothing():
    # Given a workspace with surveys off
    d = Desk(delay_minutes=0)
    d.csat.save_settings("ws_a", CsatSettings())
    tid = d.ticket()
    # When a ticket is solved and the job runs
    d.status(tid, "solved", T0)
    d.csat.run(T0 + timedelta(hours=1))
    # Then no survey; the settings say off by default
    assert d.sender.sent == [] and d.kinds(tid) == [] and not CsatSettings().enabled


def test_a_closed_ticket_still_takes_its_survey_events():
    # Given a ticket solved then closed before its survey was due
    d = Desk(delay_minutes=30)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    d.status(tid, "closed", T0 + timedelta(minutes=5))
    # When the survey is sent and answered
    d.csat.run(T0 + timedelta(minutes=31))
    d.csat.open_link(d.token(tid, 4), T0 + timedelta(minutes=40))
    # Then both are on the closed ticket's log
    assert d.kinds(tid) == ["csat_sent", "csat_answered"]
    assert d.desk.show("ws_a", tid).status == TicketStatus.CLOSED


def test_the_report_gives_csat_and_response_rate_per_agent_kind_and_period():
    # Given delivered surveys: ana 5, 4, 2 and one unanswered; bo 3; one withdrawn
    def fact(n: int, agent: str, kind: str, day: int, score: int | None, withdrawn: bool = False) -> Any:
        at = datetime(2026, 3, day, 12, tzinfo=UTC)
        return SurveyFact("ws_a", f"tk_{n}", 1, at, agent, kind, score, None, withdrawn)

    facts = [
        fact(1, "ana", "complaint", 2, 5),
        fact(2, "ana", "order_issue", 2, 4),
        fact(3, "ana", "complaint", 3, 2),
        fact(4, "ana", "complaint", 10, None),
        fact(5, "bo", "pre_sale", 10, 3),
        fact(6, "bo", "pre_sale", 10, 1, withdrawn=True),
    ]
    # When reported per agent, kind and week
    by_agent = csat.csat_report(facts, date(2026, 3, 1), date(2026, 3, 31), "agent")
    by_kind = csat.csat_report(facts, date(2026, 3, 1), date(2026, 3, 31), "kind")
    by_week = csat.csat_report(facts, date(2026, 3, 1), date(2026, 3, 31), "period", "week")
    # Then CSAT is the share of 4s and 5s among answers, the rate answers among sent
    ana = {g.group: g for g in by_agent.groups}["ana"]
    assert (ana.sent, ana.answered, ana.satisfied, ana.csat, ana.response_rate) == (
        4, 3, 2, Decimal("0.6667"), Decimal("0.7500"),
    )  # fmt: skip
    assert by_agent.total.sent == 5 and by_agent.total.csat == Decimal("0.5000")
    assert {g.group: g.sent for g in by_kind.groups} == {"complaint": 3, "order_issue": 1, "pre_sale": 1}
    assert [(g.group, g.sent) for g in by_week.groups] == [("2026-03-02", 3), ("2026-03-09", 2)]


def test_the_report_reads_at_most_366_days():
    d = Desk()
    with pytest.raises(BadRequest):
        d.csat.report("ws_a", date(2026, 1, 1), date(2027, 1, 2), "agent")
    with pytest.raises(BadRequest):
        d.csat.report("ws_a", date(2026, 2, 1), date(2026, 1, 1), "agent")


# -- the property: any order of solves, reopens, job runs and answers ------------------

STEP = st.sampled_from(["solve", "reopen", "run", "answer", "answer_low", "late_run"])


@settings(max_examples=60, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=14), st.integers(min_value=0, max_value=30))
def test_never_two_surveys_per_resolution_and_a_withdrawn_one_never_counts(steps, delay):
    # Given surveys with a delay, and a ticket moved through any order of steps
    d = Desk(delay_minutes=delay, expiry_days=2)
    tid = d.ticket()
    now = T0
    for step in steps:
        now += timedelta(minutes=7)
        status = d.desk.show("ws_a", tid).status
        if step == "solve" and status != TicketStatus.SOLVED:
            d.status(tid, "solved", now)
        elif step == "reopen" and status == TicketStatus.SOLVED:
            d.status(tid, "open", now)
        elif step in ("run", "late_run"):
            now += timedelta(days=3) if step == "late_run" else timedelta(0)
            d.csat.run(now)
        elif step.startswith("answer"):
            found = d.tickets.load("ws_a", tid)
            assert found is not None
            for r in csat.resolutions("c_1", found[1]):
                if r.expires_at is not None:
                    link = SurveyLink("ws_a", tid, r.number, 2 if step == "answer_low" else 5, r.expires_at)
                    d.csat.open_link(csat.link_token(link, SALT), now)
    d.csat.run(now + timedelta(days=10))
    found = d.tickets.load("ws_a", tid)
    assert found is not None
    events = found[1]
    rs = csat.resolutions("c_1", events)
    # Then at most one message and one `csat_sent` per resolution, none for a resolution
    # reopened before its delay ran out
    keys = [m.key for m in d.sender.sent]
    assert len(keys) == len(set(keys))
    for r in rs:
        sent = [e for e in events if e.kind == EventKind.CSAT_SENT and e.data["resolution"] == r.number]
        assert len(sent) <= 1
        if r.reopened_at is not None and r.reopened_at < r.solved_at + timedelta(minutes=delay):
            assert not sent
        # And an answer only ever lands on a survey that was open
        answers = [e for e in events if e.kind == EventKind.CSAT_ANSWERED]
        answers = [e for e in answers if e.data["resolution"] == r.number]
        assert all(r.sent_at is not None and (r.reopened_at is None or a.at < r.reopened_at) for a in answers)
    # And the report counts each delivered, not withdrawn survey once, with its last score
    facts = [f for day in range(0, 40) for f in d.store.facts("ws_a", T0.date() + timedelta(days=day))]
    counted = {(f.ticket_id, f.resolution): f for f in facts if not f.withdrawn}
    expected = {(tid, r.number): r for r in rs if r.sent_at is not None and not r.withdrawn}
    assert set(counted) == set(expected)
    assert all(counted[k].score == expected[k].score for k in counted)


def test_a_send_held_elsewhere_stays_queued_and_goes_out_on_the_next_run():
    # Given a survey due while another attempt holds its message (the ledger's lease)
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    real = d.sender

    def busy(*args: object) -> object:
        raise InFlight(f"csat:{tid}:1")

    d.csat.send = busy
    # When the job runs
    counts = d.csat.run(T0 + timedelta(minutes=1))
    # Then nothing is recorded and the survey stays in the queue
    assert counts == {"failed": 1} and d.kinds(tid) == []
    # When the next run finds the claim free
    d.csat.send = real
    assert d.csat.run(T0 + timedelta(minutes=6)) == {"sent": 1}
    # Then it goes out once
    assert len(real.sent) == 1 and d.kinds(tid) == ["csat_sent"]


def test_two_jobs_at_once_send_one_survey_and_record_it_once():
    # Given a survey due, and a second job run starting while the first is sending
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    other = CsatService(
        d.tickets, d.store, d.csat.profiles, Workspaces(), d.sender, "https://crm.example/api"
    )
    real = d.sender
    results: list[dict[str, int]] = []

    def racing(*args: object) -> object:
        decision = real(*args)  # type: ignore[arg-type]
        if not results:
            results.append(other.run(T0 + timedelta(minutes=1)))  # claims the same survey meanwhile
        return decision

    d.csat.send = racing
    # When both runs finish
    first = d.csat.run(T0 + timedelta(minutes=1))
    # Then one message, one `csat_sent`, one fact, and the queue holds only its expiry
    assert len(real.sent) == 1 and d.kinds(tid) == ["csat_sent"]
    assert results == [{"sent": 1}] and first == {"already_sent": 1}
    assert len(d.store.facts("ws_a", T0.date())) == 1
    assert [e.action for hour in d.store.queue.values() for e in hour.values()] == ["expire"]


def test_a_reopen_while_the_survey_is_sent_records_it_then_withdraws_it():
    # Given a survey being sent when an agent reopens the ticket
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    real = d.sender

    def reopened_meanwhile(*args: object) -> object:
        decision = real(*args)  # type: ignore[arg-type]
        d.status(tid, "open", T0 + timedelta(seconds=30))
        return decision

    d.csat.send = reopened_meanwhile
    # When the job runs
    assert d.csat.run(T0 + timedelta(minutes=1)) == {"withdrawn": 1}
    # Then the log says it was sent, then withdrawn; the report does not count it
    assert d.kinds(tid) == ["csat_sent", "csat_withdrawn"]
    assert d.store.facts("ws_a", T0.date()) == []


def test_a_withdrawal_that_did_not_land_at_the_reopen_is_recorded_by_the_expiry():
    # Given a sent survey whose ticket was reopened while the withdrawal failed
    d = Desk(delay_minutes=0, expiry_days=1)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    d.csat.run(T0 + timedelta(minutes=1))
    d.desk.hooks = ()
    d.status(tid, "open", T0 + timedelta(minutes=5))
    assert d.kinds(tid) == ["csat_sent"]
    # When its expiry comes
    d.csat.run(T0 + timedelta(days=1, minutes=5))
    # Then it is withdrawn, not expired, and out of the report
    assert d.kinds(tid) == ["csat_sent", "csat_withdrawn"]
    (fact,) = d.store.facts("ws_a", T0.date())
    assert fact.withdrawn


def test_a_survey_filed_for_a_solve_that_never_landed_is_dropped_after_a_while():
    # Given a survey filed for a second resolution the log does not have (its append lost)
    d = Desk(delay_minutes=0)
    tid = d.ticket()
    d.status(tid, "solved", T0)
    d.store.file(DueSurvey("ws_a", tid, 2, T0, "send"))
    # When the job runs at once, then 10 minutes later
    first = d.csat.run(T0 + timedelta(minutes=1))
    later = d.csat.run(T0 + timedelta(minutes=10))
    # Then it waits for the solve at first, then is dropped; the real resolution was sent
    assert first == {"sent": 1, "waiting": 1} and later == {"gone": 1}
    assert [m.key for m in d.sender.sent] == [f"csat:{tid}:1"]
