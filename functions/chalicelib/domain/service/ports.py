"""The service desk's ports (domain/service/tickets.py; docs/data-model.md, "Tickets")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from chalicelib.domain.models import Person
from chalicelib.domain.service.csat import CsatSettings, SurveyFact
from chalicelib.domain.service.model import Ticket, TicketEvent, TicketKind, TicketStatus
from chalicelib.domain.service.views import TicketTimelineEntry


class TicketStore(Protocol):
    """Tickets and their append-only logs. Each write is one atomic transaction, an append
    conditioned on the head's `seq` it was checked against (never a blind read then write)."""

    def create(self, ticket: Ticket, event: TicketEvent) -> None:
        """The new ticket's head, its `created` event, its queue entry and its customer link."""
        ...

    def append(self, before: Ticket, event: TicketEvent, after: Ticket) -> bool:
        """Append the event and set the head to `after`, only while the head is still at
        `before.seq`: False when another append came first (nothing written)."""
        ...

    def load(self, workspace_id: str, ticket_id: str) -> tuple[Ticket, list[TicketEvent]] | None:
        """The ticket (its head) and its events, oldest first; None when there is none."""
        ...

    def queue(
        self,
        workspace_id: str,
        status: TicketStatus,
        limit: int,
        cursor: str | None,
        assignee: str | None = None,
        kind: TicketKind | None = None,
    ) -> tuple[list[Ticket], str | None]:
        """A page of the workspace's tickets in a status, oldest first, filtered by assignee
        and kind (a page may be short and still have a next one)."""
        ...

    def of_customer(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        """A page of the customer's tickets, newest first."""
        ...

    def of_customers(
        self, workspace_id: str, customer_ids: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        """A page of the tickets of several customer ids at once (a profile's and those
        merged into it), newest first, as if they were one customer's."""
        ...


@dataclass(frozen=True)
class QueuedReply:
    """A public reply recorded `queued` whose `reply_delivery` outcome is not in yet."""

    workspace_id: str
    ticket_id: str
    reply_seq: int
    at: datetime


class QueuedReplies(Protocol):
    """The replies awaiting their outcome (docs/data-model.md, "Tickets"): an entry written
    with the reply (`TicketStore.append` of a `public_reply` `queued`) and removed with its
    `reply_delivery`, so a reply whose send never reported is found without a scan."""

    def queued_replies(self, workspace_id: str) -> list[QueuedReply]:
        """The workspace's replies awaiting an outcome, oldest ticket first."""
        ...

    def drop_queued(self, workspace_id: str, ticket_id: str, reply_seq: int) -> None:
        """Forget the entry (its outcome is in the log already); gone already: nothing."""
        ...


class TicketTimeline(Protocol):
    """The customer's ticket events for their timeline (domain/customers.py)."""

    def timeline(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str]
    ) -> list[TicketTimelineEntry]: ...


class GuestProfiles(Protocol):
    """A guest's profile made through the identity path orders take (domain/service/intake.py)."""

    def profile_for(self, workspace_id: str, person: Person, at: datetime) -> str | None:
        """The id of the profile holding the person's identities, made when none does (once,
        however many callers at once); None when the person was erased after `at`."""
        ...


class ReplyDelivery(Protocol):
    """Public replies sent to the customer (domain/service/replies.py)."""

    def deliver(self, ticket: Ticket, reply_seq: int, body: str, now: datetime) -> Mapping[str, Any] | None:
        """Send the reply once (keyed by the ticket and `reply_seq`): the `reply_delivery`
        event's data (`delivery`, `reason`, `channel`, `provider_id`), or None when another
        attempt is sending it right now."""
        ...


class TicketHook(Protocol):
    """What follows a change recorded through the desk (TicketService.record)."""

    def before_append(self, after: Ticket, events: Sequence[TicketEvent]) -> None:
        """Before the append (`events` ends with the new one): what must not be lost if the
        append succeeds, written so that it is harmless if it does not (idempotent)."""
        ...

    def after_append(self, after: Ticket, events: Sequence[TicketEvent]) -> None:
        """After the append succeeded."""
        ...


@dataclass(frozen=True)
class DueSurvey:
    """A survey to act on at `due_at`: `send` it, or `expire` it (csat_service.py)."""

    workspace_id: str
    ticket_id: str
    resolution: int
    due_at: datetime
    action: Literal["send", "expire"]


class CsatStore(Protocol):
    """The surveys' settings, due queue and report facts (docs/data-model.md, "CSAT")."""

    def settings(self, workspace_id: str) -> CsatSettings | None: ...

    def save_settings(self, workspace_id: str, settings: CsatSettings) -> None: ...

    def file(self, due: DueSurvey) -> None:
        """Put it in the queue of its due hour (the same survey and time twice: once)."""
        ...

    def due(self, hour: datetime, until: datetime, limit: int) -> list[DueSurvey]:
        """The hour's surveys due by `until`, earliest first (at most `limit`)."""
        ...

    def done(self, due: DueSurvey) -> None:
        """Out of the queue (gone already: nothing)."""
        ...

    def watermark(self) -> datetime | None:
        """The first hour whose queue may still hold a survey (None: never run)."""
        ...

    def set_watermark(self, hour: datetime) -> None:
        """Moves forward only."""
        ...

    def fact_sent(self, fact: SurveyFact) -> None:
        """A delivered survey in its sending day's partition, only if absent (a survey
        withdrawn meanwhile stays withdrawn)."""
        ...

    def fact_answered(
        self,
        workspace_id: str,
        sent_at: datetime,
        ticket_id: str,
        resolution: int,
        score: int,
        reason: str | None,
    ) -> bool:
        """The survey's latest score (and reason), only on a delivered survey not withdrawn:
        False when there is none."""
        ...

    def fact_withdrawn(self, workspace_id: str, sent_at: datetime, ticket_id: str, resolution: int) -> None:
        """Never counted from now on (marked even before the survey's fact is written)."""
        ...

    def facts(self, workspace_id: str, day: date) -> list[SurveyFact]:
        """The surveys sent on a UTC day, withdrawn ones included (marked)."""
        ...
