"""Consent that holds everywhere: an unsubscribe, a bounce or a complaint shows at once on
the profile, in the segments on consent and in the audience export, as well as in every
send path; an old storefront state replayed later does not undo it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.customer_profile import ChannelConsent
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging.model import Channel, Purpose
from chalicelib.domain.messaging.unsubscribe import make_token
from chalicelib.domain.models import now_utc
from tests.conftest import event_bytes, load_event
from tests.integration.test_notifications import ses_event
from tests.integration.test_unsubscribe import one_click

EARLY = "2020-01-01T00:00:00Z"  # when Jane subscribed at the store: before any test clock


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def post(stage, ws, path: str, body: dict) -> dict:
    return json.loads(
        stage.http.http.post(
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
        ).body
    )


def segment(stage, ws, name: str, definition: str) -> str:
    return post(stage, ws, "/segments", {"name": name, "definition": definition})["segment_id"]


def members(stage, ws, segment_id: str) -> list[str]:
    answer = json.loads(stage.get(ws, f"/segments/{segment_id}/members?limit=100").body)
    return [c if isinstance(c, str) else c["customer_id"] for c in answer["customers"]]


def shown(stage, ws) -> dict:
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return jane


def exported(stage, ws, segment_id: str) -> list[list[str]]:
    result = stage.container.audience.export(ws.workspace_id, segment_id)
    bucket, key = result.uri.removeprefix("s3://").split("/", 1)
    body = stage.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return list(csv.reader(io.StringIO(body)))[1:]


def jane_order(consent_at: str = EARLY) -> bytes:
    body = json.loads(event_bytes("shopify/orders_create.json"))
    for kind in ("email_marketing_consent", "sms_marketing_consent"):
        body["customer"][kind]["consent_updated_at"] = consent_at
    return json.dumps(body).encode()


@pytest.fixture
def jane(stage, ws) -> dict:
    """Jane, subscribed to email and SMS at the store, in the two segments on consent."""
    email_seg = segment(stage, ws, "Email subscribers", 'email_consent = "subscribed"')
    sms_seg = segment(stage, ws, "SMS subscribers", 'sms_consent = "subscribed"')
    everyone = segment(stage, ws, "Everyone", "orders_count >= 0")
    stage.send(ws, "shopify", "orders/create", jane_order())
    stage.drain()
    settings = stage.container.workspaces.settings(ws.workspace_id)
    cid = customer_id_for(settings.id_salt, "email:jane.doe@example.com")
    assert members(stage, ws, email_seg) == [cid] and members(stage, ws, sms_seg) == [cid]
    assert exported(stage, ws, everyone) == [[sha("jane.doe@example.com"), sha("+12125550147")]]
    return {"cid": cid, "salt": settings.id_salt, "email": email_seg, "sms": sms_seg, "everyone": everyone}


def test_a_one_click_unsubscribe_shows_on_the_profile_in_segments_and_in_the_export(stage, ws, jane):
    # When Jane unsubscribes from email with one click
    token = make_token(ws.workspace_id, jane["cid"], "email", jane["salt"], scope="camp#spring")
    assert one_click(stage, token).status_code == 200
    stage.drain()
    # Then her profile shows it, the email segment drops her, the export keeps only her phone
    profile = shown(stage, ws)
    assert profile["email_consent"]["state"] == "unsubscribed"
    assert profile["sms_consent"]["state"] == "subscribed"
    assert members(stage, ws, jane["email"]) == []
    assert members(stage, ws, jane["sms"]) == [jane["cid"]]
    assert exported(stage, ws, jane["everyone"]) == [["", sha("+12125550147")]]
    # And no marketing email path would send to her
    profile = stage.container.profile_store.load(ws.workspace_id, jane["cid"])
    decision = stage.container.messaging.check(
        Channel.EMAIL, Purpose.MARKETING, ws.workspace_id, jane["cid"], profile, _policy(), now_utc()
    )
    assert decision.status == "dropped"
    # When the store replays an older state of her, still subscribed (a later webhook, old consent)
    customer = json.loads(event_bytes("shopify/customers_create.json"))
    customer["updated_at"] = now_utc().isoformat()
    customer["email_marketing_consent"]["consent_updated_at"] = "2020-06-01T00:00:00Z"
    stage.send(ws, "shopify", "customers/update", customer)
    stage.drain()
    # Then she stays unsubscribed everywhere
    assert shown(stage, ws)["email_consent"]["state"] == "unsubscribed"
    assert members(stage, ws, jane["email"]) == []
    # And a second click changes nothing (no profile write)
    rev = stage.container.profile_store.get(ws.workspace_id, jane["cid"])["rev"]
    assert one_click(stage, token).status_code == 200
    assert stage.container.profile_store.get(ws.workspace_id, jane["cid"])["rev"] == rev


def test_an_sms_unsubscribe_shows_on_the_profile_in_segments_and_in_the_export(stage, ws, jane):
    # When Jane opts out of SMS marketing through her SMS link (the SMS opt-out Patron records)
    token = make_token(ws.workspace_id, jane["cid"], "sms", jane["salt"])
    assert one_click(stage, token).status_code == 200
    stage.drain()
    # Then the profile, the SMS segment and the export (phone hash) all show it
    assert shown(stage, ws)["sms_consent"]["state"] == "unsubscribed"
    assert members(stage, ws, jane["sms"]) == []
    assert members(stage, ws, jane["email"]) == [jane["cid"]]
    assert exported(stage, ws, jane["everyone"]) == [[sha("jane.doe@example.com"), ""]]


@pytest.mark.parametrize("fixture", ["bounce_permanent.json", "complaint.json"])
def test_a_hard_bounce_or_complaint_withdraws_email_consent_everywhere(stage, ws, jane, fixture):
    from chalicelib.handlers import streams
    from patron.poller import LambdaContext

    # When SES reports a hard bounce (or a complaint) of a message to Jane
    event = ses_event(fixture, ws.workspace_id, jane["cid"], "camp:spring")
    assert streams.ses_events(event, LambdaContext("ses")) == {"batchItemFailures": []}
    stage.drain()
    # Then the profile, the email segment and the export show it
    assert shown(stage, ws)["email_consent"]["state"] == "unsubscribed"
    assert members(stage, ws, jane["email"]) == []
    assert exported(stage, ws, jane["everyone"]) == [["", sha("+12125550147")]]
    # And the same event redelivered writes nothing more
    rev = stage.container.profile_store.get(ws.workspace_id, jane["cid"])["rev"]
    assert streams.ses_events(event, LambdaContext("ses")) == {"batchItemFailures": []}
    assert stage.container.profile_store.get(ws.workspace_id, jane["cid"])["rev"] == rev


def test_the_export_reads_opt_outs_and_suppressions_before_the_profile_shows_them(stage, ws, jane):
    from chalicelib.adapters.messaging import DynamoLimits

    # Given an email opt-out and an SMS suppression recorded, the profile not updated yet
    limits = DynamoLimits(stage.container.crm)
    limits.opt_out(ws.workspace_id, "email", jane["cid"], "unsubscribe link")
    assert shown(stage, ws)["email_consent"]["state"] == "subscribed"
    # When the segment is exported, then her email hash is left out
    assert exported(stage, ws, jane["everyone"]) == [["", sha("+12125550147")]]
    # And with her phone suppressed too, she is left out altogether
    limits.suppress(ws.workspace_id, "sms", "+12125550147", "carrier")
    assert exported(stage, ws, jane["everyone"]) == []


def test_a_profile_write_racing_the_withdrawal_retries_and_keeps_it(stage, ws, jane):
    store = stage.container.profile_store
    # Given a profile writer that read Jane's profile before she unsubscribed
    stale = store.get(ws.workspace_id, jane["cid"])
    token = make_token(ws.workspace_id, jane["cid"], "email", jane["salt"])
    assert one_click(stage, token).status_code == 200
    # When it writes what it read, then its conditional put fails: the withdrawal is not lost
    with pytest.raises(Conflict):
        store.save(profile_of(dict(stale, rev=stale["rev"] + 1)), stale["rev"], [], [])
    # And when the webhook it was applying is retried, it keeps the withdrawal and its own change
    customer = json.loads(event_bytes("shopify/customers_create.json"))
    customer.update(updated_at=now_utc().isoformat(), first_name="Janet")
    customer["email_marketing_consent"]["consent_updated_at"] = EARLY
    stage.send(ws, "shopify", "customers/update", customer)
    stage.drain()
    profile = shown(stage, ws)
    assert (profile["first_name"], profile["email_consent"]["state"]) == ("Janet", "unsubscribed")


def jane_orders_again(order_id: int, placed: str, consent_at: str | None = None) -> bytes:
    """A later order of Jane's at the store: with `consent_at`, her customer's
    `email_marketing_consent` (subscribed then); without, only Shopify's legacy
    `buyer_accepts_marketing: true`, which carries no consent time."""
    body = json.loads(jane_order())
    body.update(id=order_id, name=f"#{order_id}", created_at=placed, updated_at=placed)
    body["buyer_accepts_marketing"] = True
    body["customer"].pop("email_marketing_consent")
    if consent_at is not None:
        body["customer"]["email_marketing_consent"] = {
            "state": "subscribed",
            "consent_updated_at": consent_at,
        }
    return json.dumps(body).encode()


def test_a_storefront_report_without_a_consent_time_does_not_undo_an_unsubscribe(stage, ws, jane):
    # Given Jane unsubscribed from email with one click
    token = make_token(ws.workspace_id, jane["cid"], "email", jane["salt"])
    assert one_click(stage, token).status_code == 200
    stage.drain()
    after = now_utc() + timedelta(minutes=1)
    # When she orders again, and the order says only `accepts_marketing: true` (no consent time)
    stage.send(ws, "shopify", "orders/create", jane_orders_again(2001, after.isoformat()))
    stage.drain()
    # Then she stays unsubscribed on the profile and out of the email segment
    assert shown(stage, ws)["orders_count"] == 2
    assert shown(stage, ws)["email_consent"]["state"] == "unsubscribed"
    assert members(stage, ws, jane["email"]) == []
    # When a later order carries a subscription with its own consent time, after the unsubscribe
    opted_in = after + timedelta(minutes=1)
    stage.send(
        ws, "shopify", "orders/create", jane_orders_again(2002, opted_in.isoformat(), opted_in.isoformat())
    )
    stage.drain()
    # Then the profile and the segment show the store's newer consent
    assert shown(stage, ws)["email_consent"]["state"] == "subscribed"
    assert members(stage, ws, jane["email"]) == [jane["cid"]]
    # But her unsubscribe through Patron still blocks every marketing email (the opt-out item)
    profile = stage.container.profile_store.load(ws.workspace_id, jane["cid"])
    decision = stage.container.messaging.check(
        Channel.EMAIL, Purpose.MARKETING, ws.workspace_id, jane["cid"], profile, _policy(), now_utc()
    )
    assert (decision.status, decision.reason) == ("dropped", "unsubscribed (link, one-click or STOP)")


def stop_list(stage) -> list[str]:
    """The account's numbers that replied STOP, as moto's SNS keeps them."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return sns_backends[DEFAULT_ACCOUNT_ID][stage.region].opt_out_numbers


def crm_items(stage) -> list[dict]:
    """Every item of the CRM table (a test's view of it, to show nothing was written)."""
    pages = stage.client("dynamodb").get_paginator("scan").paginate(TableName=stage.settings.crm_table)
    return sorted((i for page in pages for i in page["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def run_stop_sync() -> dict:
    from chalicelib.handlers import jobs
    from patron.poller import LambdaContext

    return jobs.sms_stop_sync(load_event("eventbridge/scheduled_event.json"), LambdaContext("sms_stop_sync"))


def test_a_stop_reply_to_an_sms_shows_on_the_profile_in_segments_in_the_export_and_blocks_sends(
    stage, ws, jane
):
    # Given Jane is a customer of a second workspace too, subscribed to its SMS as well
    other = stage.create_workspace("Other Brand")
    stage.add_source(other, "shopify", "other-brand.myshopify.com", "other-brand-webhook-secret")
    stage.send(other, "shopify", "orders/create", jane_order())
    stage.drain()
    assert shown(stage, other)["sms_consent"]["state"] == "subscribed"
    # When she replies STOP to an SMS (SNS puts her number on the account's opted-out list)
    stop_list(stage).append("+12125550147")
    # and the hourly STOP sync runs
    result = run_stop_sync()
    stage.drain()
    # Then both her profiles show it, and her email consent is untouched
    assert (result["done"], result["customers"]) == (True, 2)
    for workspace in (ws, other):
        profile = shown(stage, workspace)
        assert profile["sms_consent"]["state"] == "unsubscribed", workspace.workspace_id
        assert profile["email_consent"]["state"] == "subscribed"
    # And the SMS segment drops her, and the export keeps only her email hash
    assert members(stage, ws, jane["sms"]) == []
    assert members(stage, ws, jane["email"]) == [jane["cid"]]
    assert exported(stage, ws, jane["everyone"]) == [[sha("jane.doe@example.com"), ""]]
    # And no SMS marketing send would go to her, even were her consent reported again
    profile = stage.container.profile_store.load(ws.workspace_id, jane["cid"])
    profile.sms_consent = ChannelConsent("subscribed", now_utc().isoformat())
    decision = stage.container.messaging.check(
        Channel.SMS, Purpose.MARKETING, ws.workspace_id, jane["cid"], profile, _policy(), now_utc()
    )
    assert (decision.status, decision.reason) == ("dropped", "unsubscribed (link, one-click or STOP)")
    # When the job runs again over the same list, then it writes nothing
    before = crm_items(stage)
    again = run_stop_sync()
    assert (again["done"], again["handled"], again["customers"]) == (True, 0, 0)
    assert crm_items(stage) == before


def _policy():
    from chalicelib.domain.messaging.model import Policy

    return Policy(sender_email="news@demo-brand.example", quiet_start=0, quiet_end=0)


def test_a_withdrawal_follows_a_merged_away_id_and_never_recreates_an_erased_profile(stage, ws, jane):
    from chalicelib.adapters.consent import DynamoProfileConsent
    from chalicelib.adapters.profile_items import profile_pk

    crm, consent = stage.container.crm, DynamoProfileConsent(stage.container.crm)
    # Given an id merged into Jane's profile (a pointer), and an id whose profile was erased
    crm.put({"pk": profile_pk(ws.workspace_id, "c_merged"), "sk": "P", "t": "pointer", "into": jane["cid"]})
    at = "2026-11-25T00:00:00.000000Z"
    # When a bounce of another address than hers comes for Jane, nothing changes
    assert not consent.withdraw(ws.workspace_id, jane["cid"], "email", at, "hard bounce", "old@example.com")
    # When an unsubscribe names the erased id, nothing is written
    assert not consent.withdraw(ws.workspace_id, "c_erased", "email", at, "unsubscribe link")
    assert crm.get(profile_pk(ws.workspace_id, "c_erased"), "P") is None
    # When it names the merged-away id, Jane's profile takes it, once
    assert consent.withdraw(ws.workspace_id, "c_merged", "email", at, "unsubscribe link")
    assert not consent.withdraw(ws.workspace_id, "c_merged", "email", at, "unsubscribe link")
    stage.drain()
    assert shown(stage, ws)["email_consent"] == {"state": "unsubscribed", "updated_at": at}
    assert members(stage, ws, jane["email"]) == []
