"""The satisfaction surveys' services of the composition root (docs/service.md#csat-satisfaction-surveys).
`Container` inherits them; its ticket service takes `csat` as a hook (a solve files the
survey, a reopen withdraws it)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.csat_store import DynamoCsatStore
    from chalicelib.domain.messaging.service import MessagingService
    from chalicelib.domain.service.csat_service import CsatService


class CsatServices(Adapters):
    @cached_property
    def csat_store(self) -> DynamoCsatStore:
        from chalicelib.adapters.csat_store import DynamoCsatStore

        return DynamoCsatStore(table=self.crm)

    @cached_property
    def survey_messaging(self) -> MessagingService:
        """The messaging service (its guardrails, its exactly-once ledger) with the survey's
        built-in template: a workspace's own `txn_csat_survey` replaces it."""
        from chalicelib.domain.messaging.service import MessagingService
        from chalicelib.domain.service.csat import WithSurveyTemplate

        return MessagingService(
            ledger=self.ledger,
            limits=self.limits,
            channels=self.channels,
            templates=WithSurveyTemplate(self.templates),
        )

    @cached_property
    def csat(self) -> CsatService:
        """Surveys filed, sent, withdrawn, expired, answered and reported."""
        from chalicelib.domain.service.csat_service import CsatService

        return CsatService(
            tickets=self.ticket_store,
            store=self.csat_store,
            profiles=self.profile_store,
            workspaces=self.workspaces,
            send=self.survey_messaging.send,
            public_url=self.settings.public_url,
        )
