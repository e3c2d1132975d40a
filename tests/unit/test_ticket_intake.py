"""Intake (domain/service/intake.py, replies.py): a guest who writes in becomes one profile
through the identity path orders take, and public replies go out once as transactional
messages through the messaging guardrails, their outcome on the ticket (docs/service.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.profiles import ProfileService
from chalicelib.domain.service.intake import TICKET_SOURCE, TicketGuests, guest_person
from chalicelib.domain.service.replies import DEFAULT_REPLY, ReplySender, ReplyTemplates
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketEventIn, TicketIn
from tests.fakes_tickets import FakeTicketStore
from tests.unit.fakes import SALT, WS, FakeProfileStore, FakeWorkspaces
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GUEST = "guest@example.com"


class NoTemplates:
    def latest(self, ws: str, template_id: str) -> object:
        raise LookupError(template_id)


class World:
    def __init__(self) -> None:
        self.profiles = FakeProfileStore()
        self.ledger, self.limits, self.channels = FakeLedger(), FakeLimits(), FakeChannels()
        messaging = MessagingService(self.ledger, self.limits, self.channels, ReplyTemplates(NoTemplates()))
        self.desk = TicketService(
            store=FakeTicketStore(),
            profiles=self.profiles,
            workspaces=FakeWorkspaces(),
            guests=TicketGuests(ProfileService(self.profiles, FakeWorkspaces())),
            replies=ReplySender(messaging, self.profiles, FakeWorkspaces()),
        )

    def open(self, **who: str) -> str:
        body = TicketIn.model_validate({"subject": "Size?", "kind": "pre_sale"} | who)
        return self.desk.create(WS, body, "key:abc", T0).id

    def reply(self, ticket_id: str, text: str = "It runs small.\nTake one size up.") -> list:
        return self.desk.record(WS, ticket_id, TicketEventIn(type="reply", body=text), "key:abc", T0).events


# -- a guest becomes a profile ---------------------------------------------------------
def test_a_guest_email_becomes_one_profile_from_a_ticket_without_consent():
    # Given no profile holds the guest's email
    world = World()
    # When two tickets name it (any case), the first with a name
    first = world.open(email=" Guest@Example.com", name="Ana  María Pérez")
    second = world.open(email=GUEST)
    # Then one profile holds both, keyed as an order's buyer would be, named, from `ticket`, no consent
    (profile,) = [p for p in world.profiles.profiles() if p.get("t") == "profile"]
    expected = customer_id_for(SALT, "email:" + GUEST)
    assert profile["cid"] == expected
    tickets = [world.desk.show(WS, t).customer_id for t in (first, second)]
    assert tickets == [expected, expected]
    shown = world.profiles.load(WS, expected)
    assert shown is not None
    assert (shown.email, shown.first_name, shown.last_name) == (GUEST, "Ana", "María Pérez")
    assert shown.figures.sources == {TICKET_SOURCE}
    assert (shown.email_consent, shown.sms_consent, shown.member) == (None, None, False)


def test_two_tickets_from_the_same_new_email_at_once_give_one_profile():
    # Given a second ticket from the same new email that writes the profile while the first
    # one's profile write is about to happen (both read "no profile" first)
    world = World()
    world.profiles.before_save = lambda: world.open(email=GUEST)
    # When the first ticket is opened
    first = world.open(email=GUEST)
    # Then the first write (conditional: no profile yet) conflicted, the retry found the
    # second's profile with nothing to add, and both tickets share that one profile
    profiles = [p for p in world.profiles.profiles() if p.get("t") == "profile"]
    assert len(profiles) == 1 and world.profiles.attempts == 2
    assert [s["expected_rev"] for s in world.profiles.saves] == [None]
    queue = world.desk.queue(WS, world.desk.show(WS, first).status, 10, None).tickets
    assert {t.customer_id for t in queue} == {profiles[0]["cid"]} and len(queue) == 2


def test_a_guest_by_phone_only_is_keyed_by_the_phone_and_found_by_a_later_order_email():
    # Given a guest who gives only a phone number
    world = World()
    world.open(phone="+1 212 555 0147")
    # Then the profile is the phone's, indexed by it
    (profile,) = world.profiles.profiles()
    assert profile["cid"] == customer_id_for(SALT, "phone:+12125550147")
    # When a ticket gives the same phone and an email: the same profile takes the email
    again = world.open(phone="+12125550147", email=GUEST)
    assert world.desk.show(WS, again).customer_id == profile["cid"]


def test_a_guest_person_takes_the_name_split_once_and_no_consent():
    person = guest_person(GUEST, None, "  Ana  ")
    assert (person.first_name, person.last_name, person.email_consent) == ("Ana", None, None)
    assert guest_person(None, "+12125550147", None).first_name is None


# -- public replies go out ---------------------------------------------------------------
def test_a_reply_is_emailed_once_and_its_outcome_recorded():
    # Given a guest's ticket
    world = World()
    tid = world.open(email=GUEST, name="Ana")
    # When an agent replies
    events = world.reply(tid)
    # Then the reply is kept `queued` and its delivery `sent` by email, with the ticket's subject
    assert [e.kind for e in events] == ["created", "public_reply", "reply_delivery"]
    assert events[1].data == {"body": "It runs small.\nTake one size up.", "delivery": "queued"}
    assert events[2].data == {"reply_seq": 2, "delivery": "sent", "provider_id": "ses-1", "channel": "email"}
    (sent,) = world.channels.sent
    assert (sent["to"], sent["subject"]) == (GUEST, "Re: Size?")
    assert "Take one size up." in sent["html"]
    # When the same reply is delivered again (a retry)
    again = world.desk.deliver(WS, tid, 2, T0 + timedelta(minutes=1)).events
    # Then nothing more is sent
    assert len(world.channels.sent) == 1
    assert again[-1].data["delivery"] == "sent" and again[-1].data["reason"].startswith("already")


def test_a_reply_to_a_suppressed_address_is_recorded_suppressed_not_sent():
    world = World()
    tid = world.open(email=GUEST)
    world.limits.suppress(WS, "email", GUEST, "hard bounce")
    events = world.reply(tid, "Hello")
    assert events[-1].data["delivery"] == "suppressed"
    assert events[-1].data["reason"].startswith("address suppressed")
    assert world.channels.sent == [] and events[1].data["body"] == "Hello"


def test_a_reply_goes_by_sms_to_a_phone_only_guest_and_stop_holds():
    world = World()
    tid = world.open(phone="+12125550147")
    events = world.reply(tid, "Yes, in stock")
    assert events[-1].data == {"reply_seq": 2, "delivery": "sent", "provider_id": "sns-1", "channel": "sms"}
    assert world.channels.sent == [{"to": "+12125550147", "text": "Customer service: Yes, in stock"}]
    world.channels.stopped.add("+12125550147")
    stopped = world.reply(tid, "Anything else?")
    assert stopped[-1].data["delivery"] == "suppressed" and "STOP" in stopped[-1].data["reason"]
    assert len(world.channels.sent) == 1


def test_a_provider_failure_keeps_the_reply_and_a_retry_sends_it_once():
    # Given the email provider throttling the first attempt
    world = World()
    tid = world.open(email=GUEST)
    world.channels.throttle = 1
    # When an agent replies
    events = world.reply(tid, "On its way")
    # Then the reply is kept, its delivery `failed` with the error's kind, nothing sent
    assert events[-1].data == {
        "reply_seq": 2,
        "delivery": "failed",
        "reason": "Throttled",
        "channel": "email",
    }
    assert world.channels.sent == []
    # When the delivery is retried
    retried = world.desk.deliver(WS, tid, 2, T0 + timedelta(minutes=5)).events
    # Then it is sent once
    assert retried[-1].data["delivery"] == "sent" and len(world.channels.sent) == 1


def test_a_reply_needs_no_marketing_consent_nor_waits_for_quiet_hours():
    # Given a guest (no consent) and a reply at 03:00 in New York
    world = World()
    tid = world.open(email=GUEST)
    night = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    events = world.desk.record(WS, tid, TicketEventIn(type="reply", body="Hi"), "cli", night).events
    # Then it goes now
    assert events[-1].data["delivery"] == "sent"


def test_the_built_in_reply_template_uses_only_listed_variables():
    from chalicelib.domain.messaging import render

    for text in (DEFAULT_REPLY.subject, DEFAULT_REPLY.html, DEFAULT_REPLY.text, DEFAULT_REPLY.sms):
        assert render.variables_used(text) <= set(render.VARIABLES)
    assert "<script>" not in render.render(DEFAULT_REPLY.html, {"reply_body": "<script>"}, escape_html=True)


# -- exactly once, whatever the retries ----------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("reply"), st.booleans()),  # a reply, the provider throttling it or not
            st.tuples(st.just("retry"), st.integers(min_value=0, max_value=5)),  # retry the n-th reply
        ),
        min_size=1,
        max_size=12,
    )
)
def test_each_reply_is_sent_at_most_once_and_once_when_its_last_outcome_is_sent(steps):
    # Given a guest's ticket
    world = World()
    tid = world.open(email=GUEST)
    replies: list[int] = []  # the replies' event numbers
    # When replies and retries of their delivery come in any order, some throttled
    for i, (action, arg) in enumerate(steps):
        at = T0 + timedelta(minutes=i)
        if action == "reply":
            world.channels.throttle = 1 if arg else 0
            events = world.desk.record(WS, tid, TicketEventIn(type="reply", body=f"r{i}"), "cli", at).events
            replies.append(max(i for i, e in enumerate(events, 1) if e.kind == "public_reply"))
        elif replies:
            world.channels.throttle = 0
            world.desk.deliver(WS, tid, replies[arg % len(replies)], at)
    # Then no reply went out twice, and a reply whose last outcome is `sent` went out once
    sent = [m["html"] for m in world.channels.sent]
    assert len(sent) == len(set(sent))
    outcomes = {}
    for e in world.desk.show(WS, tid).events:
        if e.kind == "reply_delivery":
            outcomes[e.data["reply_seq"]] = e.data["delivery"]
    assert set(outcomes) == set(replies)  # every reply has an outcome
    bodies = {seq: world.desk.show(WS, tid).events[seq - 1].data["body"] for seq in replies}
    for seq, outcome in outcomes.items():
        times = sum(f">{bodies[seq]}<" in html for html in sent)
        assert times == (1 if outcome == "sent" else 0)
