"""Faults: throttling and errors injected into AWS calls end with the same profiles as a clean run.

A share of DynamoDB requests is answered with a throttling error before it reaches
moto (botocore retries some; the rest surface). A webhook that fails answers 5xx and
the storefront sends it again, as Shopify does; a stream batch that fails is retried
from its first failed record, as Lambda does.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from botocore.awsrequest import AWSResponse

from patron import demo
from patron.harness import Harness, Workspace

THROTTLE = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
    b'"message":"injected by the fault test"}'
)


class Faults:
    """Answers a share of DynamoDB requests with HTTP 400 throttling, deterministically."""

    def __init__(self, share: float, seed: int) -> None:
        self.share = share
        self.rng = random.Random(seed)
        self.injected = 0
        self.enabled = False

    def __call__(self, request: object, **kwargs: object) -> AWSResponse | None:
        if not self.enabled or self.rng.random() >= self.share:
            return None
        self.injected += 1
        response = AWSResponse(url="", status_code=400, headers={}, raw=None)
        response._content = THROTTLE
        return response


def setup_store(stage: Harness) -> Workspace:
    ws = stage.create_workspace("Faulty Brand")
    stage.container.tenancy.set_rate(ws.workspace_id, "EUR", str(demo.EUR_RATE))
    stage.add_source(ws, "shopify", demo.SHOP, "shpss_fault_secret_0001")
    stage.add_source(ws, "woocommerce", demo.SITE, "wc_fault_secret_00000001")
    return ws


def run_store(stage: Harness, ws: Workspace, deliveries: list, max_rounds: int = 50) -> int:
    """Deliver everything as a retrying storefront would, then drain; returns the resends."""
    resent = 0
    for platform, topic, body, delivery_id in deliveries:
        for _ in range(max_rounds):  # the storefront retries until it gets a 2xx
            response = stage.send(ws, platform, topic, body, delivery_id=delivery_id)
            if response.status_code < 500:
                assert response.status_code == 200, response.body
                break
            resent += 1
        else:
            raise AssertionError("a delivery never got through")
    for _ in range(max_rounds):
        stage.drain()
        if not stage.failures:
            break
    return resent


def profiles(stage: Harness, ws, people) -> dict[str, tuple]:
    out = {}
    for person in people:
        (found,) = json.loads(stage.get(ws, f"/customers?email={person.email}").body)["customers"]
        out[person.email] = (
            found["orders_count"],
            found["total_spent"],
            found["total_refunded"],
            found["is_member"],
            tuple(found["sources"] and [len(found["sources"])]),
        )
    return out


def assert_profiles_exact(stage: Harness, ws: Workspace, people: list, expected: dict) -> None:
    """Every simulated person's profile, as the API shows it, against the store's truth."""
    got = profiles(stage, ws, people)
    for person in people:
        want = expected[person.email]
        count, spent, refunded, member, _ = got[person.email]
        assert (count, spent, refunded, member) == (
            want["orders_count"],
            f"{want['total_spent']:.2f}",
            f"{want['total_refunded']:.2f}",
            want["is_member"],
        ), person.email


def test_throttling_everywhere_ends_with_the_same_profiles_as_a_clean_run(aws):
    people, orders, deliveries = demo.simulate(seed=21, customers=15, now=datetime(2026, 11, 22, tzinfo=UTC))
    expected = demo.expected_profiles(people, orders)

    # Given a stage where a fifth of all DynamoDB requests are throttled
    faults = Faults(share=0.2, seed=5)
    stage = Harness(stage="faults")
    stage.session.events.register("before-send.dynamodb", faults)
    from chalicelib.container import Container, set_container

    # no botocore retries: every injected fault reaches Patron's own retry paths
    settings = stage.settings.model_copy(update={"aws_max_attempts": 1})
    stage.container = Container(settings, session=stage.session)
    set_container(stage.container)
    # A batch's retries count until all of it is through: one ingest record makes about
    # seven DynamoDB calls (profile, notifications, flows, attribution), each failing a fifth
    # of the time here, so a batch of many records needs many retries.
    stage.poller = stage.new_poller(max_retries=500)
    stage.profile_poller = stage.new_profile_poller(max_retries=500)
    ws = setup_store(stage)
    faults.enabled = True
    # When the store's deliveries (duplicates and out-of-order included) go through
    resent = run_store(stage, ws, deliveries)
    faults.enabled = False
    # Then faults really happened, nothing went to the failure queue, and every profile is exact
    assert faults.injected > 50 and resent > 0
    assert stage.failures == []
    assert_profiles_exact(stage, ws, people, expected)
    stage.close()


def timing_out(handler, times: int):
    """A stream function that, `times` times, gets through half of its batch and then is
    killed by its timeout (Lambda sees a function error: the whole batch is retried)."""
    state = {"left": times, "timeouts": 0}

    def run(event, context):
        records = event["Records"]
        if state["left"] > 0 and len(records) > 1:
            state["left"] -= 1
            state["timeouts"] += 1
            handler({"Records": records[: len(records) // 2]}, context)  # work done before the kill
            raise TimeoutError("Task timed out after 60.00 seconds")
        return handler(event, context)

    run.state = state  # type: ignore[attr-defined]
    return run


def test_lambda_timeouts_mid_batch_end_with_the_same_profiles_and_no_message_twice(aws, monkeypatch):
    from datetime import timedelta
    from email import message_from_bytes
    from email import policy as email_policy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.domain.messaging import notifications

    people, orders, deliveries = demo.simulate(seed=8, customers=12, now=datetime(2026, 11, 22, tzinfo=UTC))
    expected = demo.expected_profiles(people, orders)
    # Given order confirmations switched on, and every stream function timing out halfway
    # through its batch three times
    monkeypatch.setattr(notifications, "FRESH", timedelta(days=3650))
    stage = Harness(stage="timeouts")
    ws = setup_store(stage)
    stage.client("ses").verify_email_identity(EmailAddress="orders@faulty.example")
    stage.container.workspaces.set_messaging(
        ws.workspace_id, ["order_confirmation"], "orders@faulty.example", None
    )
    for poller in stage.pollers:
        poller.handler = timing_out(poller.handler, times=3)
        poller.batch_size = 10
        poller.max_retries = 5  # as infra/wiring.json sets MaximumRetryAttempts
    # When the store's deliveries go through
    run_store(stage, ws, deliveries)
    # Then every function really timed out, nothing was given up, and every profile is exact
    assert all(p.handler.state["timeouts"] == 3 for p in stage.pollers)
    assert stage.failures == []
    assert_profiles_exact(stage, ws, people, expected)
    # And each order got its confirmation exactly once, however often its records ran
    backend = ses_backends[DEFAULT_ACCOUNT_ID][stage.region]
    sent = [
        message_from_bytes(m.raw_data.encode(), policy=email_policy.default) for m in backend.sent_messages
    ]
    subjects = [str(m["Subject"]) for m in sent]
    assert subjects and len(subjects) == len(set(subjects))
    stage.close()
