"""A flow invites guests to join (docs/loyalty.md#invitations), on the stage (moto): a
guest's first order starts the flow, the email carries the signed join link, the link
enrols with channel invite; a member following it again changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from chalicelib.adapters.enrolment_store import DynamoEnrolmentStore
from tests.conftest import event_bytes
from tests.integration.test_enrolment import membership
from tests.integration.test_notifications import SENDER, sent_emails

ORDERED_AT = datetime(2026, 11, 20, 15, 8, 44, tzinfo=UTC)  # events/shopify/orders_create.json
INVITE_FLOW = {  # the example flow of docs/loyalty.md
    "id": "member-invite",
    "name": "Invite guests to join after their first order",
    "trigger": {"event": "order.first"},
    "conditions": "is_member = false",
    "steps": [{"send": {"template": "flow_member_invite", "channel": "email"}}],
    "templates": {
        "flow_member_invite": {
            "name": "Member invitation",
            "subject": "Join {{ store_name }}'s loyalty programme",
            "html": '<p>Join with one tap: <a href="{{ join_url }}">join</a>.</p>'
            '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
            "text": "Join with one tap: {{ join_url }} Unsubscribe: {{ unsubscribe_url }}",
        }
    },
}


def guest_order(account: str) -> bytes:
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    body["customer"]["state"] = account
    return json.dumps(body).encode()


def test_a_guests_first_order_sends_a_join_link_that_enrols_once(stage, ws):
    # Given the invitation flow, a verified sender, and Jane's first order as a guest
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: ORDERED_AT
    stage.container.flows.apply(ws.workspace_id, INVITE_FLOW)
    stage.send(ws, "shopify", "orders/create", guest_order("disabled"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = found["customer_id"]
    assert membership(stage, ws, cid)["member"] is False
    # When the flow's send falls due (17:20 UTC: not quiet hours)
    stage.container.flows.tick(datetime(2026, 11, 20, 17, 20, tzinfo=UTC))
    # Then one invitation went to Jane, carrying the join link
    (email,) = [e for e in sent_emails(stage) if str(e["Subject"]).startswith("Join")]
    assert str(email["To"]) == "jane.doe@example.com"
    text = email.get_body(("plain",)).get_content()
    path = "/join/" + re.search(r"/join/([A-Za-z0-9_\-.]+)", text).group(1)
    # When the link is followed, Then a page asks (nobody enrolled yet)
    page = stage.http.http.get(path)
    assert page.status_code == 200 and b'<form method="post">' in page.body
    assert membership(stage, ws, cid)["member"] is False
    # When Jane taps join, Then she is a member with channel invite and a number
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    joined = stage.http.http.post(path, body="", headers=form)
    assert joined.status_code == 200 and b"M000001" in joined.body
    now = membership(stage, ws, cid)
    assert (now["member"], now["number"], now["channel"]) == (True, "M000001", "invite")
    # When she taps it again, Then nothing changes
    again = stage.http.http.post(path, body="", headers=form)
    assert again.status_code == 200 and b"already a member" in again.body
    trail = DynamoEnrolmentStore(stage.container.crm).audit(ws.workspace_id, cid)
    assert [(a.kind, a.channel, a.by) for a in trail] == [("enrol", "invite", "invite")]
    assert membership(stage, ws, cid) == now
    # And a tampered link answers a page saying so, 404, enrolling nobody
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    bad_page = stage.http.http.get(tampered)
    assert bad_page.status_code == 404 and b"unknown join link" in bad_page.body
    assert stage.http.http.post(tampered, body="", headers=form).status_code == 404


def test_a_storefront_members_first_order_sends_no_invitation(stage, ws):
    # Given the invitation flow, When a storefront member's first order arrives and is due
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: ORDERED_AT
    stage.container.flows.apply(ws.workspace_id, INVITE_FLOW)
    stage.send(ws, "shopify", "orders/create", guest_order("enabled"))
    stage.drain()
    stage.container.flows.tick(datetime(2026, 11, 20, 17, 20, tzinfo=UTC))
    # Then no invitation went out
    assert [e for e in sent_emails(stage) if str(e["Subject"]).startswith("Join")] == []
