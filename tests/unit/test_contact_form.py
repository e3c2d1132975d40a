"""The storefront contact form (generic `contact_form` record): parsed into a ContactForm,
refused with field errors when it names nobody, and opening one ticket per form id for the
guest, linked to their order when it is theirs (docs/service.md, docs/webhooks.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.models import ContactForm, Delivery, Platform
from chalicelib.domain.profiles import ProfileService
from chalicelib.domain.service.intake import TicketGuests
from chalicelib.domain.service.tickets import TicketService
from chalicelib.parsers import PayloadError, generic, run_parser
from tests.conftest import load_event
from tests.fakes_tickets import FakeTicketStore
from tests.unit.fakes import SALT, WS, FakeProfileStore, FakeWorkspaces

RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FORM = load_event("generic/contact_form.json")


def parse(body: dict) -> ContactForm:
    delivery = Delivery(
        workspace_id=WS,
        source_id="src_1",
        platform=Platform.GENERIC,
        topic="contact_form",
        received_at=RECEIVED,
    )
    form = run_parser(generic.PARSERS, json.dumps(body).encode(), delivery)
    assert isinstance(form, ContactForm)
    return form


def desk() -> tuple[TicketService, FakeTicketStore, FakeProfileStore]:
    store, profiles = FakeTicketStore(), FakeProfileStore()
    guests = TicketGuests(ProfileService(profiles, FakeWorkspaces()))
    return TicketService(store, profiles, workspaces=FakeWorkspaces(), guests=guests), store, profiles


def test_the_fixture_parses_into_a_guest_without_consent():
    # When the fixture is parsed
    form = parse(FORM)
    # Then the person is normalized, named, with no consent; the rest as sent, the time in UTC
    assert (form.person.email, form.person.phone) == ("lea.roy@example.com", "+12125550188")
    assert (form.person.first_name, form.person.last_name) == ("Léa", "Roy")
    assert form.person.email_consent is None and form.person.sms_consent is None
    assert (form.form_id, form.ticket_kind, form.order_id) == ("form-20261121-0007", "pre_sale", None)
    assert form.submitted_at == datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    assert form.message.startswith("Hello,\nI am usually a medium.")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": None, "phone": None}, "email"),
        ({"email": None, "phone": "12"}, "email"),  # no valid phone either
        ({"kind": "rant"}, "kind"),
        ({"message": ""}, "message"),
        ({"submitted_at": "2026-11-21T18:30:00"}, "submitted_at"),  # no offset
        ({"submitted_at": None}, "submitted_at"),
        ({"coupon": "X"}, "coupon"),  # unknown fields are refused
    ],
)
def test_a_form_that_names_nobody_or_is_malformed_is_refused_with_the_field(change, field):
    body = {k: v for k, v in (FORM | change).items() if v is not None}
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert field in {e["field"] for e in caught.value.errors}


def test_a_form_opens_one_ticket_for_the_guest_however_often_it_is_delivered():
    service, _, profiles = desk()
    form = parse(FORM)
    # When the form is delivered twice
    outcomes = [service.contact_form(WS, "src_1", form), service.contact_form(WS, "src_1", form)]
    # Then one ticket, the second delivery a duplicate; the guest one profile
    assert outcomes == ["stored", "duplicate"]
    cid = customer_id_for(SALT, "email:lea.roy@example.com")
    (ticket,) = service.of_customer(WS, cid, 10, None).tickets
    shown = service.show(WS, ticket.id)
    assert (shown.channel, shown.kind, shown.subject) == (
        "web_form",
        "pre_sale",
        "Does the wool coat run large?",
    )
    assert shown.created_at == "2026-11-21T17:30:00.000000Z"
    (created,) = shown.events
    assert (created.by, created.data["body"]) == ("customer", FORM["message"])
    assert len([p for p in profiles.profiles() if p.get("t") == "profile"]) == 1
    # And the same form id from another source is another form
    assert service.contact_form(WS, "src_2", form) == "stored"


def test_an_order_id_links_the_order_when_it_is_the_customers_else_stays_in_the_message():
    service, _, _ = desk()
    # When a form names an order the guest does not have
    form = parse(FORM | {"id": "f-2", "order_id": "1001", "kind": "order_issue"})
    assert service.contact_form(WS, "src_1", form) == "stored"
    # Then the ticket opens without the link, and the message keeps the order id as given
    cid = customer_id_for(SALT, "email:lea.roy@example.com")
    (ticket,) = service.of_customer(WS, cid, 10, None).tickets
    assert (ticket.kind, ticket.order_id) == ("order_issue", None)
    assert service.show(WS, ticket.id).events[0].data["body"].endswith("\n\nOrder: 1001")


def test_two_deliveries_of_a_form_at_once_open_one_ticket():
    # Given a second delivery that opens the ticket between the first's check and its write
    service, store, _ = desk()
    form = parse(FORM)
    other = [lambda: service.contact_form(WS, "src_1", form)]
    first_load = store.load

    def racing_load(workspace_id: str, ticket_id: str):  # the first check sees no ticket yet
        found = first_load(workspace_id, ticket_id)
        if other:
            assert other.pop()() == "stored"
        return found

    store.load = racing_load
    # When the first delivery goes on: its conditional create loses
    outcome = service.contact_form(WS, "src_1", form)
    # Then it answers duplicate, and there is one ticket
    assert outcome == "duplicate"
    assert len(service.queue(WS, service.show(WS, _only_ticket(store)).status, 10, None).tickets) == 1


def _only_ticket(store: FakeTicketStore) -> str:
    (pk,) = [pk for pk in store.items if "#TK#" in pk]
    return pk.rsplit("#", 1)[1]
