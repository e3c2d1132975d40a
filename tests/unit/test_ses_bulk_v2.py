"""SES v2 bulk sends, the regional stages' path: checked against the SES v2 API model with
botocore's Stubber (moto implements only v1 bulk sends; no request leaves the process)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.messaging import AwsChannels
from chalicelib.domain.messaging.model import BulkEmail, Throttled

UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://crm.example/unsubscribe/t0k3n>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def client(service: str):
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    ).client(service)


def emails(n: int) -> list[BulkEmail]:
    return [
        BulkEmail(
            to=f"c{i}@example.com",
            subject=f"Spring sale, Ana{i}",
            html="<p>20% off</p>",
            text="20% off",
            tags={"workspace": "ws_1", "customer": f"c_{i}", "v": "a"},
            headers=UNSUBSCRIBE,
        )
        for i in range(n)
    ]


def expected_request(batch: list[BulkEmail]) -> dict:
    return {
        "FromEmailAddress": "news@brand.example",
        "DefaultContent": {
            "Template": {
                "TemplateName": "patron-prod-passthrough-v1",
                "TemplateData": json.dumps({"subject": "", "html": "", "text": " "}),
            }
        },
        "BulkEmailEntries": [
            {
                "Destination": {"ToAddresses": [e.to]},
                "ReplacementTags": [
                    {"Name": "workspace", "Value": "ws_1"},
                    {"Name": "customer", "Value": e.tags["customer"]},
                    {"Name": "v", "Value": "a"},
                ],
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": json.dumps(
                            {"subject": e.subject, "html": e.html, "text": e.text}
                        )
                    }
                },
                "ReplacementHeaders": [{"Name": k, "Value": v} for k, v in UNSUBSCRIBE.items()],
            }
            for e in batch
        ],
        "ConfigurationSetName": "patron-prod",
    }


@pytest.fixture
def v2():
    sesv2 = client("sesv2")
    channels = AwsChannels(client("ses"), None, "patron-prod", "patron-prod-passthrough-v1", sesv2=sesv2)
    with Stubber(sesv2) as stub:
        yield channels, stub


def test_each_recipient_carries_its_one_click_unsubscribe_headers(v2):
    channels, stub = v2
    batch = emails(3)
    # Given SES v2 accepting two and throttling one destination
    stub.add_response(
        "send_bulk_email",
        {
            "BulkEmailEntryResults": [
                {"Status": "SUCCESS", "MessageId": "m-0"},
                {"Status": "ACCOUNT_THROTTLED", "Error": "slow down"},
                {"Status": "MESSAGE_REJECTED", "Error": "bad address"},
            ]
        },
        expected_request(batch),
    )
    # When the batch goes out
    results = channels.send_bulk_email("news@brand.example", batch)
    # Then the request matched the API model with the headers, and each answer is mapped
    stub.assert_no_pending_responses()
    assert [(r.status, r.detail) for r in results] == [
        ("sent", "m-0"),
        ("retry", "ACCOUNT_THROTTLED"),
        ("rejected", "MESSAGE_REJECTED: bad address"),
    ]


def test_a_throttled_call_raises_throttled_so_the_queue_retries(v2):
    channels, stub = v2
    stub.add_client_error(
        "send_bulk_email", service_error_code="TooManyRequestsException", http_status_code=429
    )
    with pytest.raises(Throttled):
        channels.send_bulk_email("news@brand.example", emails(2))
