"""Unsubscribe links: signed, one click, honoured before every marketing send."""

from __future__ import annotations

import json

from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging.model import Channel, Outgoing, Policy, Purpose
from chalicelib.domain.messaging.unsubscribe import make_token
from chalicelib.domain.models import now_utc
from tests.conftest import event_bytes
from tests.integration.test_notifications import SENDER, sent_emails


def one_click(stage, token: str):
    return stage.http.http.post(
        f"/unsubscribe/{token}",
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_one_click_unsubscribe_stops_marketing_and_forged_links_do_nothing(stage, ws):
    # Given Jane, subscribed to email marketing, and a marketing template
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()
    settings = stage.container.workspaces.settings(ws.workspace_id)
    jane = customer_id_for(settings.id_salt, "email:jane.doe@example.com")
    profile = stage.container.profile_store.load(ws.workspace_id, jane)
    assert profile.subscribed("email")
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.http.http.put(
        "/templates/news",
        body=json.dumps({"name": "News", "subject": "News", "text": "Hello {{ first_name }}"}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    service = stage.container.messaging
    stage.container.unsubscribe.public_url = "https://crm.example"  # PATRON_PUBLIC_URL in a stage
    policy = Policy(sender_email=SENDER, quiet_start=0, quiet_end=0)  # no quiet hours for the test

    def news(n: int):
        message = Outgoing(ws.workspace_id, jane, f"camp:news-{n}", Channel.EMAIL, Purpose.MARKETING, "news")
        return service.send(message, profile, policy, now_utc(), tier="high")  # two a day

    # When a newsletter goes out
    assert news(1).status == "sent"
    (email,) = sent_emails(stage)
    link = email["List-Unsubscribe"].strip("<>")
    token = link.rsplit("/", 1)[1]
    expected = make_token(ws.workspace_id, jane, "email", settings.id_salt, scope="camp#news-1")
    assert link == f"https://crm.example/unsubscribe/{expected}"  # the token names the campaign
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Then a forged or altered link is refused and changes nothing
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (
        stage.http.http.post(
            f"/unsubscribe/{forged}",
            body="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).status_code
        == 404
    )
    # And the page behind the link asks, without unsubscribing
    page = stage.http.http.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and b'<form method="post">' in page.body
    assert news(2).status == "sent"
    # When the mail client's one-click POST arrives
    clicked = stage.http.http.post(
        f"/unsubscribe/{token}",
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200 and json.loads(clicked.body)["status"] == "unsubscribed"
    # Then no further marketing goes to Jane, though receipts still would
    assert news(3).reason.startswith("unsubscribed")
    assert len(sent_emails(stage)) == 2
