"""The sweep of public replies left `queued` (docs/service.md, "Public replies go out").

A reply is in the log before it is sent; a process that dies between the two leaves it
`queued` with no `reply_delivery` outcome. Each such reply has an entry in its workspace's
queued replies (written with the reply, removed with its outcome: no scan), and the sweep
delivers the entries older than `AFTER` through the desk's own delivery, keyed by the
ticket and the reply's seq in the messaging ledger: a reply is never sent twice, even when
the lost process did send it before dying (the claim finds it) or a request retries it now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.service.model import EventKind, TicketEvent
from chalicelib.domain.service.ports import QueuedReplies, TicketStore
from chalicelib.domain.service.tickets import TicketService

AFTER = timedelta(minutes=5)  # a reply younger than this may still be on its way out
MIN_SECONDS = 10.0  # a run with less time left stops; the next one does the rest


class SweepStore(TicketStore, QueuedReplies, Protocol):
    """The ticket store with its queued replies (adapters/ticket_store.py)."""


@dataclass
class SweepResult:
    delivered: int = 0  # outcomes appended (sent, suppressed or failed)
    settled: int = 0  # entries whose outcome was in the log already
    waiting: int = 0  # younger than AFTER, or being sent by another attempt
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # `<ticket id>#<seq>`, kept for the next run
    stopped: bool = False  # out of time: the next run resumes

    def as_dict(self) -> dict[str, object]:
        return {
            "delivered": self.delivered,
            "settled": self.settled,
            "waiting": self.waiting,
            "outcomes": dict(self.outcomes),
            "failed": list(self.failed),
            "stopped": self.stopped,
        }


class ReplySweep:
    def __init__(
        self,
        tickets: TicketService,
        store: SweepStore,
        workspace_ids: Callable[[], Iterable[str]],
        after: timedelta = AFTER,
    ) -> None:
        self.tickets = tickets
        self.store = store
        self.workspace_ids = workspace_ids
        self.after = after

    def run(self, now: datetime, time_left: Callable[[], float] = lambda: 60.0) -> SweepResult:
        """Deliver every workspace's replies queued before `now - after` with no outcome."""
        result = SweepResult()
        for ws in self.workspace_ids():
            for queued in self.store.queued_replies(ws):
                if time_left() < MIN_SECONDS:
                    result.stopped = True
                    return result
                if queued.at > now - self.after:
                    result.waiting += 1
                    continue
                self._one(ws, queued.ticket_id, queued.reply_seq, now, result)
        return result

    def _one(self, ws: str, ticket_id: str, reply_seq: int, now: datetime, result: SweepResult) -> None:
        found = self.store.load(ws, ticket_id)
        if found is None or _has_outcome(found[1], reply_seq):
            self.store.drop_queued(ws, ticket_id, reply_seq)
            result.settled += 1
            return
        try:
            detail = self.tickets.deliver(ws, ticket_id, reply_seq, now)
        except NotFound:  # not a reply (the entry is stale): nothing to send
            self.store.drop_queued(ws, ticket_id, reply_seq)
            result.settled += 1
            return
        except Conflict:  # the ticket kept changing: the entry stays for the next run
            result.waiting += 1
            return
        except Exception:  # noqa: BLE001 - one reply's failure (a store error) stops no other
            result.failed.append(f"{ticket_id}#{reply_seq}")
            return
        outcome = next(
            (
                e.data.get("delivery")
                for e in reversed(detail.events)
                if e.kind == EventKind.REPLY_DELIVERY.value and e.data.get("reply_seq") == reply_seq
            ),
            None,
        )
        if outcome is None:  # another attempt holds the claim: its outcome will remove the entry
            result.waiting += 1
            return
        result.delivered += 1
        result.outcomes[str(outcome)] = result.outcomes.get(str(outcome), 0) + 1


def _has_outcome(events: list[TicketEvent], reply_seq: int) -> bool:
    return any(e.kind == EventKind.REPLY_DELIVERY and e.data.get("reply_seq") == reply_seq for e in events)
