"""The sweep of public replies left `queued` (domain/service/reply_sweep.py): a reply whose
process died before sending it is delivered by the scheduled job after 5 minutes, through the
desk's own delivery keyed by ticket and seq, so never twice (docs/service.md)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.ticket_store import queued_item
from chalicelib.domain.service.reply_sweep import ReplySweep
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketEventIn
from tests.unit.fakes import WS
from tests.unit.test_ticket_intake import GUEST, T0, World


class SweepWorld(World):
    def __init__(self) -> None:
        super().__init__()
        self.store = self.desk.store
        # the same desk in a process that dies between recording a reply and sending it
        self.dying = TicketService(store=self.store, profiles=self.profiles, workspaces=self.desk.workspaces)
        self.sweep = ReplySweep(tickets=self.desk, store=self.store, workspace_ids=lambda: [WS])

    def lost_reply(self, ticket_id: str, text: str = "Take an M") -> int:
        detail = self.dying.record(WS, ticket_id, TicketEventIn(type="reply", body=text), "key:abc", T0)
        return len(detail.events)

    def deliveries(self, ticket_id: str) -> list[dict]:
        return [dict(e.data) for e in self.store.load(WS, ticket_id)[1] if e.kind == "reply_delivery"]


def test_a_reply_left_queued_is_sent_once_by_the_sweep_after_five_minutes():
    # Given a reply recorded `queued` by a process that died before sending it
    world = SweepWorld()
    tid = world.open(email=GUEST)
    seq = world.lost_reply(tid)
    assert [(q.ticket_id, q.reply_seq) for q in world.store.queued_replies(WS)] == [(tid, seq)]
    # When the sweep runs 4 minutes later
    early = world.sweep.run(T0 + timedelta(minutes=4))
    # Then it waits: the reply may still be on its way out
    assert (early.waiting, early.delivered, world.channels.sent) == (1, 0, [])
    # When it runs at 6 minutes, then again at 11
    runs = [world.sweep.run(T0 + timedelta(minutes=m)) for m in (6, 11)]
    # Then the reply was emailed once, its outcome appended, the queued entry gone
    assert [r.delivered for r in runs] == [1, 0] and runs[0].outcomes == {"sent": 1}
    (sent,) = world.channels.sent
    assert sent["to"] == GUEST
    assert [d["delivery"] for d in world.deliveries(tid)] == ["sent"]
    assert world.deliveries(tid)[0]["reply_seq"] == seq
    assert world.store.queued_replies(WS) == []


def test_a_reply_delivered_on_the_request_leaves_nothing_to_sweep():
    # Given a reply sent on the request (its outcome appended with it)
    world = SweepWorld()
    tid = world.open(email=GUEST)
    world.reply(tid)
    # Then no entry is left, and a sweep later sends nothing more
    assert world.store.queued_replies(WS) == []
    result = world.sweep.run(T0 + timedelta(hours=1))
    assert (result.delivered, result.settled, len(world.channels.sent)) == (0, 0, 1)


def test_a_reply_the_dead_process_had_sent_is_not_sent_again():
    # Given a reply whose send went out (claimed in the ledger) but whose outcome was never appended
    world = SweepWorld()
    tid = world.open(email=GUEST)
    seq = world.lost_reply(tid)
    ticket = world.store.load(WS, tid)[0]
    world.desk.replies.deliver(ticket, seq, "Take an M", T0)
    assert len(world.channels.sent) == 1
    # When the sweep finds it
    result = world.sweep.run(T0 + timedelta(minutes=10))
    # Then the claim holds: nothing more is sent, the outcome `sent` is appended and the entry goes
    assert len(world.channels.sent) == 1
    assert result.delivered == 1 and [d["delivery"] for d in world.deliveries(tid)] == ["sent"]
    assert world.store.queued_replies(WS) == []


def test_an_entry_whose_outcome_is_in_the_log_is_settled_without_sending():
    # Given an entry left behind though the log has the reply's outcome (a retry appended it)
    world = SweepWorld()
    tid = world.open(email=GUEST)
    seq = world.lost_reply(tid)
    world.desk.deliver(WS, tid, seq, T0)
    ticket, events = world.store.load(WS, tid)
    world.store._put(queued_item(WS, tid, seq, events[seq - 1]))
    assert len(world.store.queued_replies(WS)) == 1 and ticket.seq == seq + 1
    # When the sweep runs
    result = world.sweep.run(T0 + timedelta(minutes=10))
    # Then the entry is dropped, nothing sent again
    assert (result.settled, result.delivered, len(world.channels.sent)) == (1, 0, 1)
    assert world.store.queued_replies(WS) == []


def test_a_run_out_of_time_stops_and_the_next_one_resumes():
    # Given two lost replies
    world = SweepWorld()
    tickets = [world.open(email=GUEST), world.open(email=GUEST)]
    for tid in tickets:
        world.lost_reply(tid)
    # When a run has 5 seconds left, then a run has a minute
    cut = world.sweep.run(T0 + timedelta(minutes=10), lambda: 5.0)
    full = world.sweep.run(T0 + timedelta(minutes=10))
    # Then the first stopped before sending, the second sent both
    assert (cut.stopped, cut.delivered) == (True, 0)
    assert (full.stopped, full.delivered, len(world.channels.sent)) == (False, 2, 2)


def test_a_reply_whose_delivery_raises_stays_queued_and_the_others_go_out():
    # Given two lost replies, the profile read of the first one swept failing (a store error)
    world = SweepWorld()
    tickets = [world.open(email=GUEST), world.open(email=GUEST)]
    for tid in tickets:
        world.lost_reply(tid)
    loads = world.desk.replies.profiles.load
    failing = [True]

    def load(ws: str, cid: str) -> object:
        if failing.pop() if failing else False:
            raise RuntimeError("throttled")
        return loads(ws, cid)

    world.desk.replies.profiles.load = load
    # When the sweep runs, then again
    first = world.sweep.run(T0 + timedelta(minutes=10))
    second = world.sweep.run(T0 + timedelta(minutes=15))
    # Then the first run kept the failed one (the first in the queue) and sent the other;
    # the second run sent it
    assert (first.failed, first.delivered) == ([f"{min(tickets)}#2"], 1)
    assert (second.failed, second.delivered, len(world.channels.sent)) == ([], 1, 2)
    assert world.store.queued_replies(WS) == []


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["sweep", "retry"]), st.integers(min_value=0, max_value=30)),
        min_size=1,
        max_size=8,
    )
)
def test_any_mix_of_sweeps_and_retries_sends_each_lost_reply_at_most_once(steps):
    # Given two lost replies on two tickets
    world = SweepWorld()
    lost = {}
    for _ in range(2):
        tid = world.open(email=GUEST)
        lost[tid] = world.lost_reply(tid)
    # When sweeps and delivery retries run in any order at any minute
    for what, minute in steps:
        at = T0 + timedelta(minutes=minute)
        if what == "sweep":
            world.sweep.run(at)
        else:
            for tid, seq in lost.items():
                world.desk.deliver(WS, tid, seq, at)
    # Then each reply went out at most once, and once a sweep ran past 5 minutes, exactly once
    assert len(world.channels.sent) <= 2
    swept_late = any(what == "sweep" and minute >= 5 for what, minute in steps)
    retried = any(what == "retry" for what, _ in steps)
    if swept_late or retried:
        assert len(world.channels.sent) == 2
        assert all(world.deliveries(tid) for tid in lost) and world.store.queued_replies(WS) == []
