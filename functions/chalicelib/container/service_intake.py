"""The service desk's intake of the composition root (docs/service.md, "Intake"): guests
who write in become profiles, public replies are sent through the messaging guardrails.
Built on the adapters alone; `Container` inherits them and passes them to its tickets."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.domain.service.intake import TicketGuests
    from chalicelib.domain.service.replies import ReplySender


class ServiceIntake(Adapters):
    @cached_property
    def ticket_guests(self) -> TicketGuests:
        """A ticket's unknown email or phone made a profile, as an order's buyer is."""
        from chalicelib.domain.profiles import ProfileService
        from chalicelib.domain.service.intake import TicketGuests

        return TicketGuests(ProfileService(store=self.profile_store, workspaces=self.workspaces))

    @cached_property
    def ticket_replies(self) -> ReplySender:
        """Public replies as transactional messages (the built-in `txn_ticket_reply` template
        unless the workspace has its own)."""
        from chalicelib.domain.messaging.notifications import WithDefaults
        from chalicelib.domain.messaging.service import MessagingService
        from chalicelib.domain.service.replies import ReplySender, ReplyTemplates

        messaging = MessagingService(
            ledger=self.ledger,
            limits=self.limits,
            channels=self.channels,
            templates=ReplyTemplates(WithDefaults(templates=self.templates)),
        )
        return ReplySender(messaging=messaging, profiles=self.profile_store, workspaces=self.workspaces)
