"""Satisfaction surveys (CSAT), pure: the workspace's settings, each resolution's survey as
the ticket's log tells it, the signed one-tap links and the report's arithmetic
(docs/service.md#csat-satisfaction-surveys; the service: csat_service.py).

A resolution is a move to `solved`: a ticket solved, reopened and solved again has two, and
each has at most one survey. Its state is read from the log, never stored apart:
- `due`: solved, no `csat_sent` yet;
- `sent`: `csat_sent` with `delivery` `sent` (or `duplicate`: a run before had sent it);
- `undelivered`: `csat_sent` with another delivery (dropped: no address, suppressed...);
- `answered`: a `csat_answered` (the latest answer's score is the survey's);
- `withdrawn`: the ticket reopened before an answer (with or without its `csat_withdrawn`
  event: the event may be recorded later by the job, the state never waits for it);
- `expired`: sent and unanswered at its `expires_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.model import Template
from chalicelib.domain.messaging.ports import TemplateReader
from chalicelib.domain.service.model import EventKind, TicketEvent, TicketStatus
from chalicelib.domain.signed_links import sign, signed_fields
from chalicelib.domain.timemath import parse_iso

DEFAULT_REASONS = ("slow_response", "not_resolved", "unhelpful_answer", "product_problem", "other")
SCORES = (1, 2, 3, 4, 5)
LOW = 3  # scores 1 to LOW offer the reason picker
SATISFIED = 4  # CSAT: the share of answers at or above it
PURPOSE = b"patron-csat-v1"
TEMPLATE_ID = "txn_csat_survey"
DELIVERED = ("sent", "duplicate")  # a `duplicate` decision: an earlier run had sent it

State = Literal["due", "sent", "undelivered", "answered", "withdrawn", "expired"]


class CsatSettings(BaseModel):
    """`GET/PUT /service/csat`: the workspace's survey (off until switched on)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Send surveys (off by default)")
    delay_minutes: int = Field(60, ge=0, le=7 * 24 * 60, description="After the ticket is solved")
    expiry_days: int = Field(7, ge=1, le=90, description="The links answer until then")
    channel: Literal["auto", "email", "sms"] = Field(
        "auto", description="`auto`: email when the customer has one, else SMS"
    )
    reasons: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REASONS),
        min_length=1,
        max_length=12,
        description="The reasons offered for a score of 1 to 3",
    )

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, values: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()).lower() for v in values]
        if any(not v or len(v) > 60 for v in cleaned) or len(set(cleaned)) != len(cleaned):
            raise ValueError("each reason is 1 to 60 characters, once")
        return cleaned


@dataclass(frozen=True)
class Resolution:
    """One resolution of a ticket and its survey, as the log tells it."""

    number: int  # 1 for the first move to solved
    solved_at: datetime
    agent: str | None  # the assignee when solved
    kind: str  # the ticket's kind when solved
    customer_id: str
    reopened_at: datetime | None = None
    sent_at: datetime | None = None
    delivery: str | None = None
    channel: str | None = None
    expires_at: datetime | None = None
    withdrawn_at: datetime | None = None  # the `csat_withdrawn` event's time
    expired_at: datetime | None = None  # the `csat_expired` event's time
    answers: tuple[tuple[int, datetime], ...] = ()
    reason: str | None = None

    @property
    def score(self) -> int | None:
        return self.answers[-1][0] if self.answers else None

    @property
    def answered_at(self) -> datetime | None:
        return self.answers[-1][1] if self.answers else None

    @property
    def withdrawn(self) -> bool:
        """Reopened before any answer: never sent, never counted, its links closed."""
        return not self.answers and (self.reopened_at is not None or self.withdrawn_at is not None)

    def state(self, now: datetime) -> State:
        if self.withdrawn:
            return "withdrawn"
        if self.answers:
            return "answered"
        if self.sent_at is None:
            return "due"
        if self.delivery not in DELIVERED:
            return "undelivered"
        if self.expired_at is not None or (self.expires_at is not None and now >= self.expires_at):
            return "expired"
        return "sent"

    def open_for_answers(self, now: datetime) -> bool:
        """The links answer: delivered, not withdrawn, not reopened, before its expiry (an
        answer may change until then: the last one wins, counted once)."""
        return (
            self.sent_at is not None
            and self.delivery in DELIVERED
            and not self.withdrawn
            and self.reopened_at is None
            and self.expires_at is not None
            and now < self.expires_at
        )


def resolutions(customer_id: str, events: Iterable[TicketEvent]) -> list[Resolution]:
    """Each resolution of the log, oldest first (`number` = index + 1)."""
    found: list[Resolution] = []
    kind, agent = "", None
    for e in events:
        d = e.data
        if e.kind == EventKind.CREATED:
            kind, agent = str(d.get("kind") or ""), d.get("assignee") or None
        elif e.kind == EventKind.KIND_CHANGED:
            kind = str(d["to"])
        elif e.kind == EventKind.ASSIGNED:
            agent = d.get("to") or None
        elif e.kind == EventKind.STATUS_CHANGED and d.get("to") == TicketStatus.SOLVED:
            found.append(Resolution(len(found) + 1, e.at, agent, kind, customer_id))
        elif e.kind == EventKind.STATUS_CHANGED and d.get("from") == TicketStatus.SOLVED:
            if d.get("to") == TicketStatus.OPEN and found and found[-1].reopened_at is None:
                found[-1] = replace(found[-1], reopened_at=e.at)
        elif e.kind.value.startswith("csat_") and 0 < int(d.get("resolution") or 0) <= len(found):
            i = int(d["resolution"]) - 1
            found[i] = _survey_event(found[i], e)
    return found


def _survey_event(r: Resolution, e: TicketEvent) -> Resolution:
    d = e.data
    if e.kind == EventKind.CSAT_SENT and r.sent_at is None:
        expires = parse_iso(str(d.get("expires_at") or ""))
        delivery, channel = d.get("delivery"), d.get("channel")
        return replace(r, sent_at=e.at, delivery=delivery, channel=channel, expires_at=expires)
    if e.kind == EventKind.CSAT_WITHDRAWN and r.withdrawn_at is None:
        return replace(r, withdrawn_at=e.at)
    if e.kind == EventKind.CSAT_EXPIRED and r.expired_at is None:
        return replace(r, expired_at=e.at)
    if e.kind == EventKind.CSAT_ANSWERED:
        reason = d.get("reason") if d.get("reason") else r.reason
        return replace(r, answers=(*r.answers, (int(d["score"]), e.at)), reason=reason)
    return r


# -- the signed one-tap links ------------------------------------------------------


@dataclass(frozen=True)
class SurveyLink:
    """What a link names: the workspace, the ticket, the resolution, the score (0: the SMS
    link, a page to choose the score on) and the survey's expiry."""

    workspace_id: str
    ticket_id: str
    resolution: int
    score: int
    expires_at: datetime


def link_token(link: SurveyLink, salt: str) -> str:
    """HMAC-SHA256 under a key derived from the workspace's secret salt and the purpose
    (domain/signed_links.py): not valid as an unsubscribe or join link, nor editable."""
    fields = [link.workspace_id, link.ticket_id, str(link.resolution), str(link.score)]
    return sign([*fields, str(int(link.expires_at.timestamp()))], salt, PURPOSE)


def read_link(token: str, salt_for: object) -> SurveyLink:
    """The link a token names, its signature checked; a malformed, unknown or tampered
    token is 400 (nothing is said about which)."""
    fields = signed_fields(token, PURPOSE, salt_for) if len(token) <= 400 else None  # type: ignore[arg-type]
    try:
        if fields is None or len(fields) != 5:
            raise ValueError
        ws, tid, n, score, exp = fields
        link = SurveyLink(ws, tid, int(n), int(score), datetime.fromtimestamp(int(exp), UTC))
        if link.resolution < 1 or link.score not in (0, *SCORES):
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise BadRequest("not a valid survey link", [{"field": "token", "error": "invalid"}]) from None
    return link


# -- the message -------------------------------------------------------------------

DEFAULT_TEMPLATE = Template(
    TEMPLATE_ID,
    0,
    subject="How did we do? {{ store_name }}",
    html="<p>Hi {{ first_name | default: 'there' }},</p><p>how satisfied are you with our answer to your "
    "request?</p><p>"
    '<a href="{{ csat_url_1 }}">1</a> &middot; <a href="{{ csat_url_2 }}">2</a> &middot; '
    '<a href="{{ csat_url_3 }}">3</a> &middot; <a href="{{ csat_url_4 }}">4</a> &middot; '
    '<a href="{{ csat_url_5 }}">5</a></p><p>1: not at all, 5: very. One tap is enough.</p>'
    "<p>{{ store_name }}</p>",
    text="How satisfied are you with our answer to your request? Tap one (1: not at all, 5: very):\n"
    "1 {{ csat_url_1 }}\n2 {{ csat_url_2 }}\n3 {{ csat_url_3 }}\n4 {{ csat_url_4 }}\n5 {{ csat_url_5 }}\n",
    sms="{{ store_name }}: how did we do? Rate us 1-5: {{ csat_url }}",
)


class WithSurveyTemplate:
    """The workspace's own `txn_csat_survey` template when it has one, else the built-in."""

    def __init__(self, templates: TemplateReader) -> None:
        self.templates = templates

    def latest(self, workspace_id: str, template_id: str) -> Template:
        try:
            return self.templates.latest(workspace_id, template_id)
        except LookupError:
            if template_id == TEMPLATE_ID:
                return DEFAULT_TEMPLATE
            raise


# -- the report --------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyFact:
    """One delivered survey in the report's day partition (the day it was sent, UTC): no
    personal data, no comment."""

    workspace_id: str
    ticket_id: str
    resolution: int
    sent_at: datetime
    agent: str | None
    kind: str
    score: int | None = None
    reason: str | None = None
    withdrawn: bool = False


class CsatGroup(BaseModel):
    group: str
    sent: int
    answered: int
    satisfied: int = Field(description="Answers of 4 or 5")
    csat: Decimal | None = Field(description="satisfied / answered (4 places); null without answers")
    response_rate: Decimal | None = Field(description="answered / sent (4 places)")
    scores: dict[str, int] = Field(description="Answers per score, 1 to 5")
    reasons: dict[str, int] = Field(default_factory=dict, description="Reasons given with low scores")


class CsatQuery(BaseModel):
    """`GET /service/reports/csat`: the surveys sent from `from` to `to` (the store's days)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    since: date = Field(alias="from", description="The first day (YYYY-MM-DD, the store's zone), included")
    until: date = Field(alias="to", description="The last day (YYYY-MM-DD, the store's zone), included")
    by: Literal["agent", "kind", "period"] = Field("agent", description="How the surveys are grouped")
    period: Literal["day", "week", "month"] = Field("day", description="With `by=period`")


class CsatReport(BaseModel):
    zone: str = Field(description="The store's time zone the days and periods are read in")
    since: str
    until: str
    by: Literal["agent", "kind", "period"]
    period: Literal["day", "week", "month"] | None
    total: CsatGroup
    groups: list[CsatGroup]


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def period_of(day: date, period: str) -> str:
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()  # weeks start on Monday
    if period == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


@dataclass
class _Tally:
    sent: int = 0
    scores: dict[int, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, fact: SurveyFact) -> None:
        self.sent += 1
        if fact.score is not None:
            self.scores[fact.score] = self.scores.get(fact.score, 0) + 1
            if fact.reason and fact.score <= LOW:
                self.reasons[fact.reason] = self.reasons.get(fact.reason, 0) + 1

    def group(self, name: str) -> CsatGroup:
        answered = sum(self.scores.values())
        satisfied = sum(n for s, n in self.scores.items() if s >= SATISFIED)
        return CsatGroup(
            group=name,
            sent=self.sent,
            answered=answered,
            satisfied=satisfied,
            csat=_share(satisfied, answered),
            response_rate=_share(answered, self.sent),
            scores={str(s): self.scores.get(s, 0) for s in SCORES},
            reasons=dict(sorted(self.reasons.items())),
        )


def local_span(since: date, until: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants from local midnight of `since` to local midnight after `until` (a day of
    23 or 25 hours on a daylight-saving change counts as it is)."""
    start = datetime.combine(since, time(), tzinfo=zone).astimezone(UTC)
    return start, datetime.combine(until + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)


def csat_report(
    facts: Sequence[SurveyFact],
    since: date,
    until: date,
    by: str,
    period: str = "day",
    zone: ZoneInfo | None = None,
) -> CsatReport:
    """CSAT (answers of 4 or 5 among answers) and the response rate (answers among delivered
    surveys) per agent, kind or period of sending (the local day, week from Monday, or month
    in `zone`, UTC when None); each survey counts once (its latest score), a withdrawn one
    never."""
    total, groups = _Tally(), dict[str, _Tally]()
    for fact in facts:
        if fact.withdrawn:
            continue
        if by == "agent":
            name = fact.agent or "(unassigned)"
        elif by == "kind":
            name = fact.kind
        else:
            name = period_of(fact.sent_at.astimezone(zone or UTC).date(), period)
        total.add(fact)
        groups.setdefault(name, _Tally()).add(fact)
    return CsatReport(
        zone=str(zone or UTC),
        since=since.isoformat(),
        until=until.isoformat(),
        by=by,
        period=period if by == "period" else None,
        total=total.group("total"),
        groups=[groups[name].group(name) for name in sorted(groups)],
    )
