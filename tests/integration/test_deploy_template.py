"""The regional template: Chalice package + infra/, linted, with the stream wired properly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from patron.deploy import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["prod-use1", "prod-euw1"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    out = tmp_path_factory.mktemp(request.param)
    summary = build(request.param, out, analytics_layer=False)
    return summary, json.loads((out / "sam.json").read_text())


def test_template_is_lint_clean_and_regional(built):
    summary, template = built
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), summary["template"]], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert summary["stack"] == f"patron-{summary['stage']}"
    assert {"IngestTable", "CrmTable", "StreamFailureQueue"} <= set(summary["resources"])
    env = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["PATRON_STAGE"] == summary["stage"] and env["PATRON_INGEST_TABLE"] == {"Ref": "IngestTable"}


@pytest.mark.parametrize(
    ("function", "table"),
    [("IngestStream", "IngestTable"), ("OrderNotifications", "IngestTable"), ("ProfileStream", "CrmTable")],
)
def test_stream_has_what_chalice_cannot_express(built, function, table):
    _, template = built
    events = template["Resources"][function]["Properties"]["Events"]
    (stream,) = events.values()
    props = stream["Properties"]
    assert props["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 < props["MaximumRetryAttempts"] <= 10
    assert props["MaximumRecordAgeInSeconds"] <= 6 * 3600  # nothing waits 24 h behind a poison record
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }


def test_function_policy_grants_no_wildcard_actions_on_data(built):
    _, template = built
    (policy,) = template["Resources"]["DefaultRole"]["Properties"]["Policies"]
    for statement in policy["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), statement
        if statement["Resource"] == "*":
            # ListStreams has no resource; an SMS to a phone number is published to no topic;
            # the account's SES sending rate belongs to no resource either
            assert actions in (["dynamodb:ListStreams"], ["sns:Publish"], ["ses:GetSendQuota"]), statement


def test_ses_events_reach_their_function_through_sns_and_sqs(built):
    _, template = built
    resources = template["Resources"]
    destination = resources["SesEventDestination"]["Properties"]["EventDestination"]
    assert {"bounce", "complaint"} <= set(destination["MatchingEventTypes"])
    assert destination["SnsDestination"]["TopicARN"] == {"Ref": "SesEventsTopic"}
    subscription = resources["SesEventsSubscription"]["Properties"]
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["SesEventsQueue", "Arn"]}
    (source,) = resources["SesEvents"]["Properties"]["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    env = resources["OrderNotifications"]["Properties"]["Environment"]["Variables"]
    assert env["PATRON_SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}


def test_every_function_that_sends_marketing_knows_its_configuration_set_and_public_url(built):
    _, template = built
    resources = template["Resources"]
    # flows send from the minute tick; notifications from the ingest stream's second consumer
    for name in ("FlowTick", "OrderNotifications", "APIHandler"):
        env = resources[name]["Properties"]["Environment"]["Variables"]
        assert env["PATRON_SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}, name
        assert "RestAPI" in env["PATRON_PUBLIC_URL"]["Fn::Sub"], name
    assert resources["FlowTick"]["Properties"]["Timeout"] == 60


def test_the_profile_stream_only_wakes_for_profile_changes(built):
    import json

    _, template = built
    (source,) = template["Resources"]["ProfileStream"]["Properties"]["Events"].values()
    patterns = [json.loads(f["Pattern"]) for f in source["Properties"]["FilterCriteria"]["Filters"]]
    # flow runs, coupons, stats and claims also live in the CRM table: they wake nothing
    assert {"dynamodb": {"NewImage": {"t": {"S": ["profile", "pointer"]}}}} in patterns
    assert {"dynamodb": {"OldImage": {"t": {"S": ["profile"]}}}} in patterns


def test_campaign_batches_reach_their_sender_through_a_queue_with_a_dead_letter_queue(built):
    _, template = built
    resources = template["Resources"]
    # The queue: a visibility timeout longer than the sender runs, a DLQ after its retries
    queue = resources["CampaignQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CampaignDlq", "Arn"]}
    assert resources["CampaignDlq"]["Type"] == "AWS::SQS::Queue"
    sender = resources["CampaignSender"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * sender["Timeout"]
    # The sender: partial batch failures, bounded concurrency (SES's rate is per account)
    (source,) = sender["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["CampaignQueue", "Arn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= source["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= 10
    env = sender["Environment"]["Variables"]
    assert env["PATRON_SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}
    assert env["PATRON_SES_BULK_TEMPLATE"] == {"Ref": "CampaignPassthroughTemplate"}
    # Whoever enqueues knows the queue: the minute job, the sender (deferrals), the API (resume)
    for function in ("CampaignSender", "CampaignDispatch", "APIHandler"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["PATRON_CAMPAIGN_QUEUE_URL"] == {"Ref": "CampaignQueue"}, function
    assert "rate(1 minute)" in json.dumps(resources["CampaignDispatch"]["Properties"]["Events"])
    # The pass-through template prints Patron's own rendered texts, unescaped
    passthrough = resources["CampaignPassthroughTemplate"]["Properties"]["Template"]
    assert (passthrough["SubjectPart"], passthrough["HtmlPart"]) == ("{{{subject}}}", "{{{html}}}")
    # And the functions may use the queue and send in bulk, nothing more
    (policy,) = resources["DefaultRole"]["Properties"]["Policies"]
    grants = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert "sqs:SendMessage" in grants["CampaignQueue"]["Action"]
    assert grants["CampaignQueue"]["Resource"] == [{"Fn::GetAtt": ["CampaignQueue", "Arn"]}]
    assert grants["SendBulkEmail"]["Action"] == ["ses:SendBulkTemplatedEmail"]
