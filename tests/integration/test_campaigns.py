"""Campaigns end to end in moto: the HTTP API, the minute dispatcher, the SQS consumer
(every message delivered twice), SES bulk sends, pause/resume/cancel, A/B, schedules and
quiet hours."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.domain.messaging.campaign_model import variant_scope
from chalicelib.domain.messaging.feedback import key_from_tag
from patron.bench.campaign import START, bulk_destinations, customer, prepare, put_customers
from tests.conftest import load_event


@pytest.fixture
def world(stage, ws):
    """A workspace with a verified sender and templates, a fixed clock at START (15:00 UTC),
    an SES rate that lets one dispatcher run enqueue everything, and a queue poller that
    hands every message to the handler twice."""
    stage.container.settings.public_url = "https://patron.example/api"  # for unsubscribe links
    prepare(stage, ws.workspace_id)
    clock = {"now": START}
    campaigns = stage.container.campaigns
    campaigns.clock = lambda: clock["now"]
    campaigns.rate = lambda: 100.0
    stage.campaign_poller = stage.new_campaign_poller(duplicate_deliveries=True)
    return stage, ws, clock


def post(stage, ws, path, body=None):
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    return stage.http.http.post(path, headers=headers, body=json.dumps(body or {}))


def create(stage, ws, fixture="campaigns/create_one_variant.json", **changes):
    response = post(stage, ws, "/campaigns", {**load_event(fixture), **changes})
    assert response.status_code == 201, response.body
    return json.loads(response.body)["campaign_id"]


def progress(stage, ws, campaign_id):
    response = stage.get(ws, f"/campaigns/{campaign_id}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def run_minute(stage):
    """One run of the minute job, then the queue drained."""
    result = stage.container.campaigns.dispatch()
    stage.drain_campaigns()
    return result


def test_each_consenting_customer_gets_one_email_though_every_message_comes_twice(world):
    stage, ws, _ = world
    # Given six subscribed customers, one never subscribed and one with a suppressed address
    from chalicelib.adapters.messaging import DynamoLimits

    # (that address bounces after the batch was enqueued: the sender checks again)
    people = [customer(n) for n in range(6)] + [customer(6, consent="not_subscribed"), customer(7)]
    put_customers(stage, ws.workspace_id, people)
    # When a campaign is created, started and runs, every queue message delivered twice
    campaign_id = create(stage, ws)
    assert post(stage, ws, f"/campaigns/{campaign_id}/start").status_code == 200
    stage.container.campaigns.dispatch()
    DynamoLimits(stage.container.crm).suppress(ws.workspace_id, "email", people[7]["e"], "hard bounce")
    stage.drain_campaigns()
    # Then SES took one bulk call with the six subscribed customers, once each
    sent = bulk_destinations(stage)
    assert sorted(d["to"] for d in sent) == sorted(p["e"] for p in people[:6])
    assert len({d["call"] for d in sent}) == 1
    first = next(d for d in sent if d["to"] == people[0]["e"])
    assert first["template"] == "patron-passthrough-v1"
    assert first["data"]["subject"] == "Spring sale, Ana0"
    assert "20% off at Demo Brand." in first["data"]["html"]  # the workspace's name, from its settings
    assert 'href="https://patron.example/api/unsubscribe/' in first["data"]["html"]
    assert first["tags"]["workspace"] == ws.workspace_id and first["tags"]["v"] == "a"
    assert key_from_tag(first["tags"]["mk"]) == f"camp:{campaign_id}"
    # And the progress tells it: the second deliveries were all duplicates, nothing remains
    view = progress(stage, ws, campaign_id)
    assert view["status"] == "sent"
    assert (view["enqueued"], view["skipped"], view["sent"], view["dropped"]) == (7, 1, 6, 1)
    assert view["duplicates"] == 7 and view["remaining"] == 0
    assert view["stats"]["sent"] == 6 and view["variant_stats"]["a"]["sent"] == 6


def test_the_dispatcher_paces_to_the_sending_rate(world):
    stage, ws, _ = world
    # Given 130 customers and an SES rate of one message a second (60 a minute)
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(130)])
    stage.container.campaigns.rate = lambda: 1.0
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # When the minute job runs once
    result = run_minute(stage)
    # Then it enqueued no more than a minute's worth, in full batches (the ten more it read
    # are carried with the cursor), and the next runs continue from there
    assert result["enqueued"] == 50 and len(bulk_destinations(stage)) == 50
    run_minute(stage)
    run_minute(stage)
    assert len({d["to"] for d in bulk_destinations(stage)}) == 130 == len(bulk_destinations(stage))
    assert progress(stage, ws, campaign_id)["status"] == "sent"


def test_pause_parks_the_queued_batches_and_resume_sends_them_once(world):
    stage, ws, _ = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(120)])
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # Given batches already on the queue
    stage.container.campaigns.dispatch()
    # When the campaign is paused before they are sent
    assert post(stage, ws, f"/campaigns/{campaign_id}/pause").status_code == 200
    stage.drain_campaigns()
    # Then nothing went out: the batches are parked
    assert bulk_destinations(stage) == []
    assert progress(stage, ws, campaign_id)["status"] == "paused"
    assert len(stage.container.campaigns.store.parked(ws.workspace_id, campaign_id)) == 3
    # When it is resumed
    assert post(stage, ws, f"/campaigns/{campaign_id}/resume").status_code == 200
    stage.drain_campaigns()
    # Then every customer got it once, and nothing is parked any more
    sent = [d["to"] for d in bulk_destinations(stage)]
    assert len(sent) == 120 == len(set(sent))
    assert stage.container.campaigns.store.parked(ws.workspace_id, campaign_id) == []
    assert progress(stage, ws, campaign_id)["remaining"] == 0


def test_cancel_drops_the_queued_batches_and_counts_them(world):
    stage, ws, _ = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(75)])
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    stage.container.campaigns.dispatch()
    # When the campaign is cancelled with its batches on the queue
    assert post(stage, ws, f"/campaigns/{campaign_id}/cancel").status_code == 200
    stage.drain_campaigns()
    run_minute(stage)
    # Then nothing is sent, the recipients are counted as cancelled, and it cannot resume
    assert bulk_destinations(stage) == []
    view = progress(stage, ws, campaign_id)
    assert view["status"] == "cancelled" and view["remaining"] == 0
    assert view["cancelled"] == 75  # each batch came twice, and is counted once
    assert post(stage, ws, f"/campaigns/{campaign_id}/resume").status_code == 409


def test_ab_test_share_first_then_the_winner_to_the_rest(world):
    stage, ws, clock = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(100)])
    # (a small test: its minimum sample per variant is lowered from the default 100; the
    # campaign id is random, and so is the split: the clicks below follow each variant's sends)
    campaign_id = create(stage, ws, "campaigns/create_ab.json", min_sample_per_variant=5)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # When the test share is sent
    run_minute(stage)
    test = bulk_destinations(stage)
    variants = {d["tags"]["v"] for d in test}
    assert 20 <= len(test) <= 60 and variants == {"a", "b"}
    assert {d["data"]["subject"].startswith("Spring sale") for d in test if d["tags"]["v"] == "a"} == {True}
    view = progress(stage, ws, campaign_id)
    assert view["phase"] == "wait" and view["winner"] is None
    # And every b message is clicked, no a message (as the SES event handler adds them),
    # before the decision
    sent_b = sum(d["tags"]["v"] == "b" for d in test)
    stats = stage.container.campaigns.stats
    stats.add(ws.workspace_id, variant_scope(campaign_id, "b"), {"clicked": sent_b})
    run_minute(stage)
    assert len(bulk_destinations(stage)) == len(test)  # too early to decide
    clock["now"] += timedelta(hours=4)
    run_minute(stage)
    # Then b won, and the rest of the segment got b, each customer exactly once
    everyone = bulk_destinations(stage)
    rest = everyone[len(test) :]
    assert {d["tags"]["v"] for d in rest} == {"b"}
    assert len(everyone) == 100 == len({d["to"] for d in everyone})
    view = progress(stage, ws, campaign_id)
    assert view["winner"] == "b" and view["status"] == "sent"
    decision = view["decision"]
    assert decision["outcome"] == "winner" and decision["p_value"] < 0.05
    assert decision["samples"]["b"] == {"sent": sent_b, "clicked": sent_b}
    # And its results give each variant's figures with the rates derived, as /messaging/stats does
    results = {v["variant"]: v for v in view["results"]["variants"]}
    assert results["b"]["clicked"] == sent_b and results["a"]["clicked"] == 0
    assert results["b"]["sent"] == view["variant_stats"]["b"]["sent"]
    assert view["results"]["total"]["sent"] == 100 and view["results"]["total"]["kind"] == "campaign"


def test_ab_tie_is_reported_and_the_rest_is_split_across_the_variants(world):
    stage, ws, clock = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(100)])
    campaign_id = create(stage, ws, "campaigns/create_ab.json", min_sample_per_variant=5)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # Given the test share sent, and half of each variant's messages clicked
    run_minute(stage)
    test = bulk_destinations(stage)
    per_variant = {v: sum(d["tags"]["v"] == v for d in test) for v in ("a", "b")}
    stats = stage.container.campaigns.stats
    for variant, n in per_variant.items():
        stats.add(ws.workspace_id, variant_scope(campaign_id, variant), {"clicked": n // 2})
    # When the decision is due
    clock["now"] += timedelta(hours=4)
    run_minute(stage)
    # Then there is no winner, and the campaign says why, with its rule, p-value and samples
    view = progress(stage, ws, campaign_id)
    assert view["winner"] is None and view["status"] == "sent"
    decision = view["decision"]
    assert (decision["outcome"], decision["reason"], decision["winner"]) == ("no_winner", "tie", None)
    assert decision["p_value"] > 0.05 and "two-proportion z-test" in decision["rule"]
    assert decision["samples"] == {v: {"sent": n, "clicked": n // 2} for v, n in per_variant.items()}
    # And the rest was split across both variants (not the first one), each customer once
    everyone = bulk_destinations(stage)
    rest = everyone[len(test) :]
    assert {d["tags"]["v"] for d in rest} == {"a", "b"}
    assert min(sum(d["tags"]["v"] == v for d in rest) for v in ("a", "b")) >= len(rest) // 5
    assert len(everyone) == 100 == len({d["to"] for d in everyone})


def test_ab_below_the_default_minimum_sample_is_not_decided(world):
    stage, ws, clock = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(100)])
    # Given an A/B campaign with the default minimum (100 sent per variant) and a test of 40
    campaign_id = create(stage, ws, "campaigns/create_ab.json")
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    run_minute(stage)
    stats = stage.container.campaigns.stats
    stats.add(ws.workspace_id, variant_scope(campaign_id, "b"), {"clicked": 10})
    # When the decision is due
    clock["now"] += timedelta(hours=4)
    run_minute(stage)
    # Then b's lead is not a win: too little sample, said so
    view = progress(stage, ws, campaign_id)
    assert view["winner"] is None and view["min_sample_per_variant"] == 100
    assert (view["decision"]["outcome"], view["decision"]["reason"]) == ("no_winner", "insufficient_sample")
    assert {d["tags"]["v"] for d in bulk_destinations(stage)} == {"a", "b"}


def test_a_scheduled_campaign_waits_for_its_time(world):
    stage, ws, clock = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(3)])
    send_at = (START + timedelta(hours=2)).isoformat()
    campaign_id = create(stage, ws, send_at=send_at)
    assert json.loads(post(stage, ws, f"/campaigns/{campaign_id}/start").body)["status"] == "scheduled"
    # When the minute job runs before the time, nothing is sent
    run_minute(stage)
    assert bulk_destinations(stage) == []
    # When it runs at the time, the campaign goes out
    clock["now"] += timedelta(hours=2)
    run_minute(stage)
    assert len(bulk_destinations(stage)) == 3
    assert progress(stage, ws, campaign_id)["status"] == "sent"


def test_quiet_hours_hold_recipients_until_their_morning(world):
    stage, ws, clock = world
    # Given one customer in Tokyo (midnight there) and one in New York (10:00 there)
    put_customers(stage, ws.workspace_id, [customer(0, "Asia/Tokyo"), customer(1, "America/New_York")])
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # When the campaign runs now, only New York gets it
    run_minute(stage)
    assert [d["to"] for d in bulk_destinations(stage)] == ["customer1@example.com"]
    assert progress(stage, ws, campaign_id)["deferred"] == 1
    # When the clock reaches 09:00 in Tokyo, the held recipient goes out
    clock["now"] = START + timedelta(hours=9)
    run_minute(stage)
    assert [d["to"] for d in bulk_destinations(stage)] == ["customer1@example.com", "customer0@example.com"]
    assert progress(stage, ws, campaign_id)["remaining"] == 0


def test_a_batch_that_reaches_the_sender_in_quiet_hours_is_deferred_then_sent(world):
    stage, ws, clock = world
    put_customers(stage, ws.workspace_id, [customer(0, "America/New_York")])
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # Given a batch enqueued at 10:00 in New York, that reaches the sender at 22:00
    stage.container.campaigns.dispatch()
    clock["now"] = START + timedelta(hours=12)
    stage.drain_campaigns()
    assert bulk_destinations(stage) == []
    # When the next morning comes, the dispatcher re-enqueues it and it is sent once
    clock["now"] = START + timedelta(hours=23)
    run_minute(stage)
    assert [d["to"] for d in bulk_destinations(stage)] == ["customer0@example.com"]


def test_a_throttled_bulk_call_is_retried_by_the_queue_and_sends_once(world, monkeypatch):
    from botocore.exceptions import ClientError

    stage, ws, _ = world
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(10)])
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    # Given SES throttles the first bulk call
    ses = stage.container.messaging.channels.sesv2
    real = ses.send_bulk_email
    calls = {"n": 0}

    def throttled_once(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendBulkEmail")
        return real(**kwargs)

    monkeypatch.setattr(ses, "send_bulk_email", throttled_once)
    queue = stage.container.campaigns.queue
    backoffs = []
    real_retry_in = queue.retry_in
    monkeypatch.setattr(queue, "retry_in", lambda receipt, s: backoffs.append(s) or real_retry_in(receipt, s))
    # When the campaign runs
    run_minute(stage)
    # Then the record failed once, was put back for 30 s, and each customer got one email
    sent = [d["to"] for d in bulk_destinations(stage)]
    assert calls["n"] >= 2 and len(sent) == 10 == len(set(sent))
    assert stage.campaign_poller.stats.retries >= 1 and backoffs[:1] == [30]
    assert progress(stage, ws, campaign_id)["sent"] == 10


def test_the_api_validates_and_maps_errors(world):
    stage, ws, _ = world
    # A test share needs two variants
    bad = post(
        stage, ws, "/campaigns", {**load_event("campaigns/create_one_variant.json"), "test_share": 0.2}
    )
    assert bad.status_code == 400
    # An unknown template is refused
    unknown = load_event("campaigns/create_one_variant.json")
    unknown["variants"] = [{"id": "a", "template_id": "nope"}]
    assert post(stage, ws, "/campaigns", unknown).status_code == 400
    # Another workspace's (or no) campaign is a 404; no API key is a 401
    assert stage.get(ws, "/campaigns/cmp000000000000").status_code == 404
    assert stage.http.http.get("/campaigns/cmp000000000000").status_code == 401
    # A draft cannot be resumed
    campaign_id = create(stage, ws)
    assert post(stage, ws, f"/campaigns/{campaign_id}/resume").status_code == 409


def test_a_campaign_without_a_verified_sender_is_refused_with_the_fix(stage, ws):
    from chalicelib.domain.messaging.templates import TemplateIn
    from patron.bench.campaign import SENDER, TEMPLATES

    # Given a workspace with the campaign's templates and customers, but no sender yet
    for template_id, body in TEMPLATES.items():
        stage.container.template_service.save(
            ws.workspace_id, template_id, TemplateIn(name=template_id, **body)
        )
    put_customers(stage, ws.workspace_id, [customer(0)])
    # When a campaign is created
    missing = post(stage, ws, "/campaigns", load_event("campaigns/create_one_variant.json"))
    # Then it is refused (409) with the commands that set and verify a sender
    assert missing.status_code == 409, missing.body
    refusal = json.loads(missing.body)
    assert refusal["error"] == "sender_not_verified"
    assert f"workspace {ws.workspace_id} has no verified sender" in refusal["message"]
    assert "patron workspace messaging" in refusal["message"] and "patron sender verify" in refusal["message"]
    # And with a sender SES has not verified, it is refused too, naming the command for it
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    unverified = post(stage, ws, "/campaigns", load_event("campaigns/create_one_variant.json"))
    assert unverified.status_code == 409, unverified.body
    assert f"patron sender verify {SENDER}" in json.loads(unverified.body)["message"]
    # Once SES has verified it, the campaign is created; a sender that loses it cannot start
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    campaign_id = create(stage, ws)
    stage.client("ses").delete_identity(Identity=SENDER)
    started = post(stage, ws, f"/campaigns/{campaign_id}/start")
    assert started.status_code == 409, started.body
    assert progress(stage, ws, campaign_id)["status"] == "draft"
    assert bulk_destinations(stage) == []


def test_the_benchmark_sends_no_duplicate_no_unconsented_and_nothing_in_quiet_hours():
    from patron.bench.campaign import run

    # When the benchmark runs on a small audience (every queue message delivered twice)
    result = run(recipients=300, seed=3)
    # Then its guarantees hold, and it sent to everyone it could
    assert (result["duplicates"], result["sent_to_unconsented"], result["sent_in_quiet_hours"]) == (0, 0, 0)
    assert result["recipients"] > 200 and result["ses_calls"] >= 5
    assert result["progress"]["remaining"] == 0 and result["progress"]["status"] == "sent"


def test_batches_that_died_in_the_dead_letter_queue_are_redriven_without_resending(world):
    from patron.operations import queue_depth, redrive_queue

    stage, ws, _ = world
    sqs = stage.client("sqs")
    # Given a campaign whose queued batch failed every receive and went to the DLQ, while
    # one of its recipients had already been sent by an earlier attempt
    people = [customer(n) for n in range(4)]
    put_customers(stage, ws.workspace_id, people)
    campaign_id = create(stage, ws)
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    stage.container.campaigns.dispatch()
    queue, dlq = stage.info.campaign_queue_url, stage.info.campaign_dlq_url
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    batch = json.loads(message["Body"])
    stage.container.campaigns.handle_batch({**batch, "to": batch["to"][:1]})  # the earlier attempt
    sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert queue_depth(sqs, dlq) == 1 and len(bulk_destinations(stage)) == 1
    # When the operator redrives the dead-letter queue, and the sender runs
    assert redrive_queue(sqs, dlq, queue) == {"moved": 1}
    stage.drain_campaigns()
    # Then every recipient has exactly one email, and the DLQ is empty
    sent = sorted(d["to"] for d in bulk_destinations(stage))
    assert sent == sorted(p["e"] for p in people)
    assert queue_depth(sqs, dlq) == 0
