"""The ingest service's ports to the service desk: a storefront contact form opens a ticket,
a storefront return moves a return (domain/ingest.py dispatches them; neither is a record)."""

from __future__ import annotations

from typing import Literal, Protocol

from chalicelib.domain.models import ContactForm, Delivery, ReturnUpdate


class ContactForms(Protocol):
    """The service desk, for a storefront contact form (domain/service/tickets.py)."""

    def contact_form(
        self, workspace_id: str, source_id: str, form: ContactForm
    ) -> Literal["stored", "duplicate"]:
        """Open the form's ticket once per form id: `stored`, or `duplicate` when it has one."""
        ...


class ReturnReceiver(Protocol):
    """The service desk's returns (domain/service/returns.py): `stored` or `duplicate`."""

    def receive(self, delivery: Delivery, update: ReturnUpdate) -> Literal["stored", "duplicate"]: ...
