"""Intake: a guest who writes in becomes a customer profile (docs/service.md, "Intake").

A ticket naming an email or phone that no profile holds makes the profile through the one
identity path storefront records take (`ProfileService.apply_customer`: identity keys under
the workspace's salt, the phone index, a conditional first write, so two tickets from the
same new email at once give one profile). The profile lists `ticket` among its sources and
takes no consent: a contact form is not a marketing opt-in.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.ingest_images import CustomerImage
from chalicelib.domain.models import Person
from chalicelib.domain.profiles import ProfileService

TICKET_SOURCE = "ticket"  # the source a profile made by a ticket lists (`sources`)


def guest_person(email: str | None, phone: str | None, name: str | None) -> Person:
    """The guest as a record names them: the normalized email and E.164 phone, and the name
    split at its first space (first name, then the rest); no consent, no membership."""
    first, _, last = " ".join((name or "").split()).partition(" ")
    return Person(email=email, phone=phone, first_name=first or None, last_name=last or None)


class TicketGuests:
    """`domain.service.ports.GuestProfiles` over the profiles' own identity path."""

    def __init__(self, profiles: ProfileService) -> None:
        self.profiles = profiles

    def profile_for(self, workspace_id: str, person: Person, at: datetime) -> str | None:
        image = CustomerImage(
            key=f"{TICKET_SOURCE}:{workspace_id}",
            workspace_id=workspace_id,
            source_id=TICKET_SOURCE,
            person=person,
            created_at=at,
            updated_at=at,
        )
        return self.profiles.apply_customer(image).customer_id
