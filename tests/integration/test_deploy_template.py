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
    [("IngestStream", "IngestTable"), ("ProfileStream", "CrmTable")],
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


def test_every_function_runs_under_its_own_role(built):
    # the grants themselves are checked in test_least_privilege.py
    _, template = built
    resources = template["Resources"]
    roles = {
        name: r["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert "DefaultRole" not in resources
    assert all(role == f"{name}Role" for name, role in roles.items()), roles


def test_the_expanded_template_is_lint_clean_and_has_no_cycle(built, tmp_path):
    # Given the template as `patron deploy` sends it: code in S3, SAM expanded
    import copy

    from patron import sam

    template = copy.deepcopy(built[1])
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for field in ("CodeUri", "ContentUri"):
            if field in props:
                props[field] = {
                    "Bucket": "patron-artefacts-123456789012-eu-west-1",
                    "Key": "k/" + props[field],
                }
    expanded = sam.expand(template)
    path = tmp_path / "cloudformation.json"
    path.write_text(json.dumps(expanded))
    # When cfn-lint reads it (the SAM form hides references inside the API definition)
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True
    )
    # Then it is clean: in particular no circular dependency between the API and its function
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert not any(r["Type"].startswith("AWS::Serverless::") for r in expanded["Resources"].values())
    kinds = [r["Type"] for r in expanded["Resources"].values()]
    # one consumer per table stream (ingest, profiles), SES events, campaign batches
    assert kinds.count("AWS::Lambda::EventSourceMapping") == 4
    # one permission per rule, plus the API's and the webhook Function URL's two
    assert kinds.count("AWS::Events::Rule") == kinds.count("AWS::Lambda::Permission") - 3


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
    env = resources["IngestStream"]["Properties"]["Environment"]["Variables"]
    assert env["PATRON_SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}


def test_every_function_that_sends_marketing_knows_its_configuration_set_and_public_url(built):
    _, template = built
    resources = template["Resources"]
    # flows send from the minute tick; notifications from the ingest stream's consumer; surveys
    # from the CSAT tick (its links point at the API)
    for name in ("FlowTick", "IngestStream", "CsatTick"):
        env = resources[name]["Properties"]["Environment"]["Variables"]
        assert env["PATRON_SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}, name
        assert "RestAPI" in env["PATRON_PUBLIC_URL"]["Fn::Sub"], name
    assert resources["FlowTick"]["Properties"]["Timeout"] == 60
    # the API sends nothing; its URL in its own environment would be a circular dependency
    assert "RestAPI" not in json.dumps(resources["APIHandler"]["Properties"]["Environment"])


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

    # And each may use the queue as it does and send in bulk, nothing more (each its own role;
    # the grants are checked in test_least_privilege.py)
    def actions(function: str) -> set[str]:
        role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        (policy,) = resources[role]["Properties"]["Policies"]
        return {a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}

    assert {"sqs:SendMessage", "sqs:ChangeMessageVisibility", "ses:SendBulkTemplatedEmail"} <= actions(
        "CampaignSender"
    )
    assert {"sqs:SendMessage", "ses:GetSendQuota"} <= actions("CampaignDispatch")
    assert "ses:SendBulkTemplatedEmail" not in actions("CampaignDispatch") | actions("APIHandler")


def test_regional_stages_trace_every_function(built):
    # X-Ray on, the middleware's subsegments switched on, and each role may write segments
    _, template = built
    functions = {
        n: r["Properties"] for n, r in template["Resources"].items() if r["Type"].endswith("Function")
    }
    assert functions
    for name, props in functions.items():
        assert props.get("Tracing") == "Active", name
        assert props["Environment"]["Variables"]["PATRON_TRACING"] == "active", name


def test_the_webhook_function_url_is_public_signed_and_its_address_an_output(built):
    _, template = built
    resources = template["Resources"]
    # Given the webhook function: the Function URL handler of the webhooks blueprint
    fn = resources["WebhookUrl"]["Properties"]
    assert fn["Handler"] == "chalicelib.handlers.webhooks.webhook_url"
    assert fn["MemorySize"] == 256 and fn["Timeout"] == 10
    env = fn["Environment"]["Variables"]
    assert env["PATRON_INGEST_TABLE"] == {"Ref": "IngestTable"} and env["PATRON_CRM_TABLE"] == {
        "Ref": "CrmTable"
    }
    # Then its URL has no IAM auth (deliveries are HMAC-signed) and targets that function
    url = resources["WebhookFunctionUrl"]
    assert url["Type"] == "AWS::Lambda::Url"
    assert url["Properties"]["AuthType"] == "NONE"
    assert url["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": ["WebhookUrl", "Arn"]}
    # and anyone may invoke it through the URL, and only through the URL
    permissions = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["FunctionName"] == {"Ref": "WebhookUrl"}
    ]
    assert sorted(p["Action"] for p in permissions) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    assert all(p["Principal"] == "*" for p in permissions)
    by_action = {p["Action"]: p for p in permissions}
    assert by_action["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    assert by_action["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
    # and the stack tells the operator its address
    assert template["Outputs"]["WebhookBaseUrl"]["Value"] == {
        "Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]
    }
    # while the admin API stays on API Gateway, webhook routes included
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert "/webhooks/shopify" in paths and "/customers" in paths


@pytest.mark.parametrize("function", ["IngestStream", "ProfileStream"])
def test_stream_consumers_take_up_to_ten_batches_per_shard(built, function):
    _, template = built
    (source,) = template["Resources"][function]["Properties"]["Events"].values()
    assert source["Properties"]["ParallelizationFactor"] == 10


def test_every_table_and_index_can_be_provisioned_with_auto_scaling(built):
    _, template = built
    resources = template["Resources"]
    # Given the stack's capacity parameter: on demand unless the deploy says otherwise
    assert template["Parameters"]["TableCapacity"]["Default"] == "on-demand"
    condition = template["Conditions"]["ProvisionedCapacity"]
    assert condition == {"Fn::Equals": [{"Ref": "TableCapacity"}, "provisioned"]}
    targets = {
        (t["Properties"]["ResourceId"]["Fn::Sub"], t["Properties"]["ScalableDimension"]): name
        for name, t in resources.items()
        if t["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
    }
    policies = {
        p["Properties"]["ScalingTargetId"]["Ref"]: p["Properties"]
        for p in resources.values()
        if p["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"
    }
    tables = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert set(tables) == {"IngestTable", "CrmTable"}
    for name, props in tables.items():
        # Then its billing mode follows the parameter, for the table and each of its indexes
        assert props["BillingMode"] == {"Fn::If": ["ProvisionedCapacity", "PROVISIONED", "PAY_PER_REQUEST"]}
        scopes = [(f"table/${{{name}}}", "table", props)] + [
            (f"table/${{{name}}}/index/{i['IndexName']}", "index", i)
            for i in props.get("GlobalSecondaryIndexes", [])
        ]
        for resource_id, scope, where in scopes:
            assert where["ProvisionedThroughput"]["Fn::If"][0] == "ProvisionedCapacity"
            # and reads and writes each scale to keep the target utilization, only when provisioned
            for units, metric in (
                ("Read", "DynamoDBReadCapacityUtilization"),
                ("Write", "DynamoDBWriteCapacityUtilization"),
            ):
                target = targets[(resource_id, f"dynamodb:{scope}:{units}CapacityUnits")]
                assert resources[target]["Condition"] == "ProvisionedCapacity"
                tracking = policies[target]["TargetTrackingScalingPolicyConfiguration"]
                assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == metric
                assert tracking["TargetValue"] == {"Ref": "CapacityTarget"}
    # one read and one write target for each table and index: nothing scales twice
    assert len(targets) == len(policies) == 2 * (2 + len(tables["CrmTable"]["GlobalSecondaryIndexes"]))
