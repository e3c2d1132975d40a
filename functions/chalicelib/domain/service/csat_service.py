"""Satisfaction surveys sent, withdrawn, expired and answered (docs/service.md#csat-satisfaction-surveys).

- A ticket solved through the desk files its survey in the due queue (before the solve is
  appended: a survey is never lost; the job checks the log, so a solve that did not land
  sends nothing). The `csat_tick` job sends due surveys through the messaging service as
  transactional messages (key `csat:<ticket>:<resolution>`: one message per resolution
  whatever the replays and races), then records `csat_sent`; at most one `csat_sent` per
  resolution is ever appended (each append is conditioned on the ticket's `seq` and made
  only when the fresh log has none).
- A reopened ticket withdraws its unanswered survey: a sent one at once (`csat_withdrawn`,
  after the reopen), one not sent yet when it comes due (never sent).
- An expiry entry filed when the survey is sent records `csat_expired` once it passes.
- The links answer until the expiry: the last answer wins, the report counts it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.messaging.model import Channel, Decision, Outgoing, Purpose, policy_for
from chalicelib.domain.ports import ProfileReader, WorkspaceReader
from chalicelib.domain.service import csat
from chalicelib.domain.service.csat import CsatReport, CsatSettings, Resolution, SurveyFact, SurveyLink
from chalicelib.domain.service.model import EventKind, Ticket, TicketEvent, TicketStatus, apply
from chalicelib.domain.service.ports import CsatStore, DueSurvey, TicketStore
from chalicelib.domain.timemath import iso
from chalicelib.domain.timezones import store_zone

log = logging.getLogger(__name__)
ATTEMPTS = 3
HOUR = timedelta(hours=1)
FIRST_LOOKBACK = timedelta(days=2)  # a first run reads the queues of the two days before
MAX_HOURS = 24 * 7  # hours of queue one run reads at most (a long outage: the next runs go on)
PAGE = 100
MAX_DAYS = 366  # a report's days
LANDING = timedelta(minutes=5)  # how long a survey filed before its solve waits for the solve


class CsatAnswerIn(BaseModel):
    """`POST /csat/{token}`: a comment and, for a score of 1 to 3, a reason (the score is the link's)."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=60)


@dataclass(frozen=True)
class SurveyPage:
    """What the survey page shows: `recorded` (the score, the comment box, the reasons for a
    low score), `choose` (the SMS link: a link per score) or `closed` (with why)."""

    state: str
    store: str = ""
    score: int | None = None
    reasons: list[str] = field(default_factory=list)
    choices: dict[int, str] = field(default_factory=dict)  # score -> its token
    why: str = ""


def hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class CsatService:
    def __init__(
        self,
        tickets: TicketStore,
        store: CsatStore,
        profiles: ProfileReader,
        workspaces: WorkspaceReader,
        send: Callable[..., Decision],
        public_url: str | None,
    ) -> None:
        self.tickets = tickets
        self.store = store
        self.profiles = profiles
        self.workspaces = workspaces
        self.send = send  # MessagingService.send(message, profile, policy, now)
        self.public_url = (public_url or "").rstrip("/")

    # -- settings --------------------------------------------------------------------
    def settings(self, workspace_id: str) -> CsatSettings:
        return self.store.settings(workspace_id) or CsatSettings()

    def save_settings(self, workspace_id: str, body: CsatSettings) -> CsatSettings:
        self.store.save_settings(workspace_id, body)
        return body

    # -- the desk's hooks (domain/service/ports.TicketHook) ---------------------------
    def before_append(self, after: Ticket, events: Sequence[TicketEvent]) -> None:
        """A solve files its resolution's survey, when the workspace sends them."""
        last = events[-1]
        if last.kind != EventKind.STATUS_CHANGED or last.data.get("to") != TicketStatus.SOLVED:
            return
        settings = self.settings(after.workspace_id)
        if not settings.enabled:
            return
        n = len(csat.resolutions(after.customer_id, events))
        due = last.at + timedelta(minutes=settings.delay_minutes)
        self.store.file(DueSurvey(after.workspace_id, after.id, n, due, "send"))

    def after_append(self, after: Ticket, events: Sequence[TicketEvent]) -> None:
        """A reopen withdraws the survey sent and not answered (one not sent yet is withdrawn
        by the job when it comes due)."""
        last = events[-1]
        reopened = last.kind == EventKind.STATUS_CHANGED and last.data.get("from") == TicketStatus.SOLVED
        if reopened and last.data.get("to") == TicketStatus.OPEN:
            found = csat.resolutions(after.customer_id, events)
            if found and found[-1].withdrawn and found[-1].sent_at is not None:
                try:
                    self._withdraw(after.workspace_id, after.id, found[-1].number, last.at)
                except Conflict:  # the reopen stands; the expiry entry records the withdrawal
                    log.warning("a survey's withdrawal is left to its expiry entry")

    # -- the job -----------------------------------------------------------------------
    def run(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, int]:
        """Act on every due survey, hour by hour from the watermark (no scan): resumable,
        and every step idempotent, so a run cut short or run twice does nothing twice."""
        counts: dict[str, int] = {}
        current = hour_of(now)
        hour = self.store.watermark() or hour_of(now - FIRST_LOOKBACK)
        for _ in range(MAX_HOURS):
            if hour > current or (time_left is not None and time_left() < 5):
                break
            left = False
            while True:
                entries = self.store.due(hour, now, PAGE)
                outcomes = [self._process(e, now) for e in entries]
                for outcome in outcomes:
                    counts[outcome] = counts.get(outcome, 0) + 1
                if any(o in ("waiting", "failed") for o in outcomes):
                    left = True  # still in the queue: the next run takes it again
                if len(entries) < PAGE or left:
                    break
            # an hour before the last one may still be filed into (a solve just now): kept
            if not left and hour < current - HOUR:
                self.store.set_watermark(hour + HOUR)
            hour += HOUR
        return counts

    def _process(self, due: DueSurvey, now: datetime) -> str:
        try:
            found = self.tickets.load(due.workspace_id, due.ticket_id)
            ticket, events = found if found else (None, [])
            rs = csat.resolutions(ticket.customer_id, events) if ticket else []
            if ticket is None or due.resolution > len(rs):
                if ticket is not None and now - due.due_at < LANDING:
                    return "waiting"  # filed before its solve's append, which may land still
                self.store.done(due)  # no such ticket or resolution (a solve that did not land)
                return "gone"
            r = rs[due.resolution - 1]
            outcome = self._send(due, ticket, r, now) if due.action == "send" else self._expire(due, r, now)
        except Exception as exc:  # noqa: BLE001 - kept in the queue (InFlight, Throttled...): retried
            log.warning("a survey failed; kept for the next run", extra={"error": type(exc).__name__})
            return "failed"
        if outcome != "waiting":
            self.store.done(due)
        return outcome

    def _send(self, due: DueSurvey, ticket: Ticket, r: Resolution, now: datetime) -> str:
        ws = ticket.workspace_id
        if r.sent_at is not None:
            return "already_sent"
        if r.withdrawn:
            self._withdraw(ws, ticket.id, r.number, now)
            return "withdrawn"
        settings = self.settings(ws)
        if not settings.enabled:
            return "off"
        due_at = r.solved_at + timedelta(minutes=settings.delay_minutes)
        if now < due_at:
            if hour_of(due_at) != hour_of(due.due_at) or due_at != due.due_at:
                self.store.file(DueSurvey(ws, ticket.id, r.number, due_at, "send"))
                return "refiled"
            return "waiting"
        expires = (due_at + timedelta(days=settings.expiry_days)).replace(microsecond=0)
        decision, channel = self._deliver(ticket, r, settings, expires, now)
        if decision.status == "deferred":
            return "waiting"
        data = {
            "resolution": r.number,
            "channel": channel,
            "delivery": decision.status,
            "reason": decision.reason or None,
            "expires_at": iso(expires),
        }
        mine: list[bool] = []  # whether this run's `csat_sent` is the one in the log

        def sent_once(_t: Ticket, rs: list[Resolution]) -> dict[str, Any] | None:
            mine[:] = [rs[r.number - 1].sent_at is None]
            return data if mine[0] else None

        after = self._append(ws, ticket.id, sent_once, now)
        if after is None:
            return "gone"
        r = csat.resolutions(ticket.customer_id, after[1])[r.number - 1]
        if r.withdrawn:  # reopened while it was being sent: recorded, then withdrawn
            self._withdraw(ws, ticket.id, r.number, now)
            return "withdrawn"
        if r.delivery not in csat.DELIVERED or r.sent_at is None or r.expires_at is None:
            return "undelivered"
        self.store.fact_sent(SurveyFact(ws, ticket.id, r.number, r.sent_at, r.agent, r.kind))
        # (never before now: the watermark may have passed an hour already gone by)
        self.store.file(DueSurvey(ws, ticket.id, r.number, max(r.expires_at, now), "expire"))
        return "sent" if mine[0] else "already_sent"

    def _deliver(
        self, ticket: Ticket, r: Resolution, settings: CsatSettings, expires: datetime, now: datetime
    ) -> tuple[Decision, str]:
        ws, profile = ticket.workspace_id, self.profiles.load(ticket.workspace_id, ticket.customer_id)
        workspace = self.workspaces.settings(ws)
        if profile is None or workspace is None or not self.public_url:
            return Decision("dropped", "no_profile" if profile is None else "no_public_url"), ""
        if settings.channel == "auto":
            channel = Channel.EMAIL if profile.email else Channel.SMS
        else:
            channel = Channel(settings.channel)
        values: dict[str, Any] = {"store_name": workspace.name}
        for score in (0, *csat.SCORES):
            link = SurveyLink(ws, ticket.id, r.number, score, expires)
            url = f"{self.public_url}/csat/{csat.link_token(link, workspace.id_salt)}"
            values["csat_url" if score == 0 else f"csat_url_{score}"] = url
        message = Outgoing(
            ws, profile.customer_id, f"csat:{ticket.id}:{r.number}", channel, Purpose.TRANSACTIONAL,
            csat.TEMPLATE_ID, values,
        )  # fmt: skip
        return self.send(message, profile, policy_for(workspace), now), channel.value

    def _expire(self, due: DueSurvey, r: Resolution, now: datetime) -> str:
        if r.withdrawn and r.withdrawn_at is None:  # its withdrawal at the reopen did not land
            self._withdraw(due.workspace_id, due.ticket_id, r.number, now)
            return "withdrawn"
        if r.answers or r.withdrawn or r.expired_at is not None or r.expires_at is None:
            return "closed"
        if now < r.expires_at:
            return "waiting"
        n, data = r.number, {"resolution": r.number}
        kind = EventKind.CSAT_EXPIRED
        ws, tid = due.workspace_id, due.ticket_id
        self._append(ws, tid, lambda _t, rs: None if _closed(rs[n - 1]) else data, now, kind)
        return "expired"

    def _withdraw(self, workspace_id: str, ticket_id: str, n: int, at: datetime) -> None:
        """`csat_withdrawn` once, and the survey out of the report."""
        after = self._append(
            workspace_id,
            ticket_id,
            lambda _t, rs: {"resolution": n} if rs[n - 1].withdrawn_at is None else None,
            at,
            EventKind.CSAT_WITHDRAWN,
        )
        sent_at = csat.resolutions("", after[1])[n - 1].sent_at if after else None
        if sent_at is not None:
            self.store.fact_withdrawn(workspace_id, sent_at, ticket_id, n)

    def _append(
        self,
        workspace_id: str,
        ticket_id: str,
        data_for: Callable[[Ticket, list[Resolution]], dict[str, Any] | None],
        at: datetime,
        kind: EventKind = EventKind.CSAT_SENT,
        by: str = "csat",
    ) -> tuple[Ticket, list[TicketEvent]] | None:
        """Append one survey event, decided on the fresh log (`data_for` None: nothing to
        append); conditioned on the ticket's `seq`, retried from a fresh read."""
        for _ in range(ATTEMPTS):
            found = self.tickets.load(workspace_id, ticket_id)
            if found is None:
                return None
            ticket, events = found
            data = data_for(ticket, csat.resolutions(ticket.customer_id, events))
            if data is None:
                return found
            event = TicketEvent(kind, max(at, ticket.updated_at), by, data)
            after = apply(ticket, event)
            if self.tickets.append(ticket, event, after):
                return after, [*events, event]
        raise Conflict("the ticket changed meanwhile; try again")

    # -- the links ---------------------------------------------------------------------
    def _salt(self, workspace_id: str) -> str | None:
        settings = self.workspaces.settings(workspace_id)
        return settings.id_salt if settings else None

    def open_link(self, token: str, now: datetime) -> SurveyPage:
        """`GET /csat/{token}`: a score link records its score (a second tap of the same
        score records nothing more); the SMS link shows the scores to choose from."""
        link = csat.read_link(token, self._salt)
        if link.score == 0:
            r, store = self._survey(link)
            if not r.open_for_answers(now) or now >= link.expires_at:
                return SurveyPage("closed", store, why=r.state(now))
            salt = self._salt(link.workspace_id) or ""
            ws, tid, n, exp = link.workspace_id, link.ticket_id, link.resolution, link.expires_at
            choices = {s: csat.link_token(SurveyLink(ws, tid, n, s, exp), salt) for s in csat.SCORES}
            return SurveyPage("choose", store, choices=choices)
        return self.answer(token, CsatAnswerIn(), now)

    def answer(self, token: str, body: CsatAnswerIn, now: datetime) -> SurveyPage:
        """Record the link's score (with the comment and reason given): the last answer
        wins while the survey is open; a closed one answers why."""
        link = csat.read_link(token, self._salt)
        if link.score == 0:
            raise BadRequest("choose a score first", [{"field": "token", "error": "no_score"}])
        r, store = self._survey(link)
        reasons = self.settings(link.workspace_id).reasons
        page = SurveyPage("recorded", store, link.score, reasons if link.score <= csat.LOW else [])
        if not r.open_for_answers(now) or now >= link.expires_at:
            return SurveyPage("closed", store, why=r.state(now))
        reason = " ".join((body.reason or "").split()).lower() or None
        if reason and (link.score > csat.LOW or reason not in reasons):
            raise BadRequest("not one of the reasons offered", [{"field": "reason", "error": "invalid"}])
        comment = (body.comment or "").strip() or None
        if r.score == link.score and not comment and not reason:
            return page  # the same link opened again (or by a link checker): nothing more
        data = {"resolution": r.number, "score": link.score, "comment": comment, "reason": reason}

        def data_for(_t: Ticket, rs: list[Resolution]) -> dict[str, Any] | None:
            if not rs[r.number - 1].open_for_answers(now):
                raise Conflict("the survey closed meanwhile")
            return data

        self._append(link.workspace_id, link.ticket_id, data_for, now, EventKind.CSAT_ANSWERED, "customer")
        assert r.sent_at is not None
        kept = reason if link.score <= csat.LOW else None
        self.store.fact_answered(link.workspace_id, r.sent_at, link.ticket_id, r.number, link.score, kept)
        return page

    def _survey(self, link: SurveyLink) -> tuple[Resolution, str]:
        found = self.tickets.load(link.workspace_id, link.ticket_id)
        rs = csat.resolutions(found[0].customer_id, found[1]) if found else []
        if link.resolution > len(rs):
            raise NotFound("no such survey")
        workspace = self.workspaces.settings(link.workspace_id)
        return rs[link.resolution - 1], workspace.name if workspace else ""

    # -- the report --------------------------------------------------------------------
    def report(self, workspace_id: str, since: date, until: date, by: str, period: str = "day") -> CsatReport:
        """Surveys sent from `since` to `until` (the store's local days, both included; at
        most 366): the UTC day partitions that cover them, the facts sent within them."""
        if until < since or (until - since).days >= MAX_DAYS:
            problem = [{"field": "from", "error": f"from <= to, at most {MAX_DAYS} days"}]
            raise BadRequest("invalid report range", problem)
        workspace = self.workspaces.settings(workspace_id)
        zone = store_zone(workspace.default_timezone if workspace else None)
        start, end = csat.local_span(since, until, zone)
        facts: list[SurveyFact] = []
        first, last = start.astimezone(UTC).date(), (end - timedelta(microseconds=1)).astimezone(UTC).date()
        for i in range((last - first).days + 1):
            found = self.store.facts(workspace_id, first + timedelta(days=i))
            facts.extend(f for f in found if start <= f.sent_at < end)
        return csat.csat_report(facts, since, until, by, period, zone)


def _closed(r: Resolution) -> bool:
    return bool(r.answers) or r.withdrawn or r.expired_at is not None
