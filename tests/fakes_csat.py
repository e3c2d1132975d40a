"""In-memory CSAT store (chalicelib.domain.service.ports.CsatStore), with the adapter's
keys (adapters/csat_store.py), and a sender that keeps the messaging ledger's promise: one
message per key."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from chalicelib.adapters.csat_store import due_pk, due_sk, fact_pk
from chalicelib.domain.messaging.model import Decision, Outgoing
from chalicelib.domain.service.csat import CsatSettings, SurveyFact
from chalicelib.domain.service.ports import DueSurvey


class FakeCsatStore:
    def __init__(self) -> None:
        self._settings: dict[str, CsatSettings] = {}
        self.queue: dict[str, dict[str, DueSurvey]] = defaultdict(dict)
        self.mark: datetime | None = None
        self.facts_by_day: dict[str, dict[str, SurveyFact]] = defaultdict(dict)
        self.withdrawn_marks: set[tuple[str, str]] = set()

    def settings(self, workspace_id: str) -> CsatSettings | None:
        return self._settings.get(workspace_id)

    def save_settings(self, workspace_id: str, settings: CsatSettings) -> None:
        self._settings[workspace_id] = settings

    def file(self, due: DueSurvey) -> None:
        self.queue[due_pk(due.due_at)][due_sk(due)] = due

    def due(self, hour: datetime, until: datetime, limit: int) -> list[DueSurvey]:
        partition = self.queue.get(due_pk(hour)) or {}
        return [partition[sk] for sk in sorted(partition) if partition[sk].due_at <= until][:limit]

    def done(self, due: DueSurvey) -> None:
        self.queue[due_pk(due.due_at)].pop(due_sk(due), None)

    def watermark(self) -> datetime | None:
        return self.mark

    def set_watermark(self, hour: datetime) -> None:
        if self.mark is None or hour > self.mark:
            self.mark = hour

    def _key(self, workspace_id: str, sent_at: datetime, ticket_id: str, n: int) -> tuple[str, str]:
        return fact_pk(workspace_id, sent_at.date()), f"{ticket_id}#{n}"

    def fact_sent(self, fact: SurveyFact) -> None:
        pk, sk = self._key(fact.workspace_id, fact.sent_at, fact.ticket_id, fact.resolution)
        if sk in self.facts_by_day[pk] or (pk, sk) in self.withdrawn_marks:
            return
        self.facts_by_day[pk][sk] = fact

    def fact_answered(
        self,
        workspace_id: str,
        sent_at: datetime,
        ticket_id: str,
        resolution: int,
        score: int,
        reason: str | None,
    ) -> bool:
        pk, sk = self._key(workspace_id, sent_at, ticket_id, resolution)
        fact = self.facts_by_day[pk].get(sk)
        if fact is None or fact.withdrawn:
            return False
        self.facts_by_day[pk][sk] = replace(fact, score=score, reason=reason)
        return True

    def fact_withdrawn(self, workspace_id: str, sent_at: datetime, ticket_id: str, resolution: int) -> None:
        pk, sk = self._key(workspace_id, sent_at, ticket_id, resolution)
        self.withdrawn_marks.add((pk, sk))
        if sk in self.facts_by_day[pk]:
            self.facts_by_day[pk][sk] = replace(self.facts_by_day[pk][sk], withdrawn=True)

    def facts(self, workspace_id: str, day: date) -> list[SurveyFact]:
        partition = self.facts_by_day.get(fact_pk(workspace_id, day)) or {}
        return [partition[sk] for sk in sorted(partition)]


class FakeSender:
    """MessagingService.send as the ledger makes it: a key sent once, `duplicate` after."""

    def __init__(self, status: str = "sent") -> None:
        self.status = status
        self.sent: list[Outgoing] = []
        self.keys: set[str] = set()

    def __call__(self, message: Outgoing, profile: Any, policy: Any, now: datetime) -> Decision:
        if message.key in self.keys:
            return Decision("duplicate", "already sent (or dropped) before")
        self.keys.add(message.key)
        if self.status == "sent":
            self.sent.append(message)
        return Decision(self.status, "" if self.status == "sent" else "suppressed")
