"""The local stack's outbox recorder, on its moto server bound to 127.0.0.1: raw, bulk
templated and SMS sends, as other processes read them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from patron.outbox import fetch
from tests.e2e.test_local_stack import free_port


@pytest.fixture
def server() -> Iterator[str]:
    from patron.local import _atomic_moto_server

    port = free_port()
    moto = _atomic_moto_server(port)
    moto.start()
    yield f"http://127.0.0.1:{port}"
    moto.stop()


def client(url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


def test_bulk_templated_sends_are_listed_per_recipient_with_their_tags(server):
    # Given the embedded SES with a verified sender and a pass-through template
    ses = client(server, "ses")
    ses.verify_email_identity(EmailAddress="news@brand.example")
    ses.create_template(
        Template={
            "TemplateName": "pass",
            "SubjectPart": "{{subject}}",
            "TextPart": "{{text}}",
            "HtmlPart": "",
        }
    )
    # When one bulk call sends to two customers of a workspace, then an SMS goes out
    ses.send_bulk_templated_email(
        Source="news@brand.example",
        Template="pass",
        DefaultTemplateData="{}",
        Destinations=[
            {
                "Destination": {"ToAddresses": [to]},
                "ReplacementTemplateData": json.dumps({"subject": subject, "text": "..."}),
                "ReplacementTags": [{"Name": "workspace", "Value": "ws_a"}, {"Name": "v", "Value": "b"}],
            }
            for to, subject in (("ana@example.com", "Spring, Ana"), ("bo@example.com", "Spring, Bo"))
        ],
    )
    client(server, "sns").publish(PhoneNumber="+14155550100", Message="Spring sale\nSTOP to end")
    # Then the outbox lists the SMS first, then each recipient with its subject and workspace
    listed = fetch(server, 10)
    assert [(m.channel, m.to, m.subject, m.workspace) for m in listed] == [
        ("sms", "+14155550100", "Spring sale", ""),
        ("email", "bo@example.com", "Spring, Bo", "ws_a"),
        ("email", "ana@example.com", "Spring, Ana", "ws_a"),
    ]
    assert [m.seq for m in listed] == [3, 2, 1]


def test_the_outbox_is_read_over_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        fetch("http://192.0.2.1:5000")


def test_ses_v2_bulk_sends_keep_each_recipients_one_click_headers(server):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.adapters.messaging import AwsChannels
    from chalicelib.domain.messaging.model import BulkEmail

    # Given the embedded SES with a verified sender, reached through SES v2 as a region's stack is
    client(server, "ses").verify_email_identity(EmailAddress="news@brand.example")
    channels = AwsChannels(client(server, "ses"), None, sesv2=client(server, "sesv2"))
    one_click = {"List-Unsubscribe": "<https://crm.example/unsubscribe/t1>"}
    one_click["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # When one SendBulkEmail call goes to two customers (the pass-through template made on first use)
    results = channels.send_bulk_email(
        "news@brand.example",
        [
            BulkEmail("ana@example.com", "Spring, Ana", "<p>Hi</p>", "Hi", {"workspace": "ws_a"}, one_click),
            BulkEmail("bo@example.com", "Spring, Bo", "", "Hi", {"workspace": "ws_a"}, {}),
        ],
    )
    # Then both were sent, each with its own headers, and the outbox lists each with its workspace
    assert [r.status for r in results] == ["sent", "sent"]
    message = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages[-1]  # the server is in process
    headers = [{h["Name"]: h["Value"] for h in d["ReplacementHeaders"]} for d in message.destinations]
    assert headers == [one_click, {}]
    assert [(m.to, m.subject, m.workspace) for m in fetch(server, 2)] == [
        ("bo@example.com", "Spring, Bo", "ws_a"),
        ("ana@example.com", "Spring, Ana", "ws_a"),
    ]
