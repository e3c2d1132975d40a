"""`patron deploy --stage STAGE` into the embedded AWS: two regional stages, each standing alone."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config

from patron import iam
from patron.cli import main

pytestmark = pytest.mark.slow

STAGES = {"prod-use1": "us-east-1", "prod-euw1": "eu-west-1"}
PROVISIONED = {"prod-use1": ("--table-capacity", "provisioned", "--capacity-min", "2")}
FUNCTIONS = len(iam.load()["functions"])  # every function has its entry (13 with the STOP sync)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(endpoint: str, service: str, region: str) -> Any:
    return boto3.session.Session(region_name=region).client(
        service, endpoint_url=endpoint, config=Config(account_id_endpoint_mode="disabled")
    )


def deploy(endpoint: str, stage: str, out: Path, layer: Path, *more: str) -> dict[str, Any]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "deploy",
                "--stage",
                stage,
                "--out",
                str(out),
                "--analytics-layer",
                str(layer),
                "--endpoint-url",
                endpoint,
                *more,
            ]
        )
    assert code == 0
    return dict(json.loads(printed.getvalue()))


@pytest.fixture(scope="module")
def deployed(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    # Given a small stand-in for the numpy/scipy layer (building it downloads 49 MB)
    root = tmp_path_factory.mktemp("deploy")
    layer = root / "analytics-layer.zip"
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/analytics_stand_in.py", "")
    # When both regional stages are deployed with the CLI, us-east-1's tables provisioned
    return {
        stage: deploy(endpoint, stage, root / stage, layer, *PROVISIONED.get(stage, ())) for stage in STAGES
    }


def stack_resources(endpoint: str, stage: str) -> dict[str, dict[str, str]]:
    cfn = client(endpoint, "cloudformation", STAGES[stage])
    listed = cfn.describe_stack_resources(StackName=f"patron-{stage}")["StackResources"]
    # moto lists a resource replaced by an update (the new layer version) without its id
    return {r["LogicalResourceId"]: r for r in listed if "LogicalResourceId" in r}


def document(value: Any) -> Any:
    """A role policy as read back: moto keeps a CloudFormation-made one as Python's repr."""
    if not isinstance(value, str):
        return value
    text = unquote(value)
    return json.loads(text) if text.startswith('{"') else ast.literal_eval(text)


def everything_in(endpoint: str, stage: str) -> dict[str, Any]:
    """What the stage's stack made, read back from the services of its region."""
    region = STAGES[stage]
    resources = stack_resources(endpoint, stage)
    ids = {n: r.get("PhysicalResourceId", "") for n, r in resources.items()}
    lam, ddb = client(endpoint, "lambda", region), client(endpoint, "dynamodb", region)
    iam = client(endpoint, "iam", region)
    functions = {
        n: lam.get_function_configuration(FunctionName=ids[n])
        for n, r in resources.items()
        if r["ResourceType"] == "AWS::Lambda::Function"
    }
    roles = {}
    for n, r in resources.items():
        if r["ResourceType"] == "AWS::IAM::Role":
            names = iam.list_role_policies(RoleName=ids[n])["PolicyNames"]
            documents = [iam.get_role_policy(RoleName=ids[n], PolicyName=p)["PolicyDocument"] for p in names]
            roles[n] = [document(d) for d in documents]
    return {
        "resources": ids,
        "functions": functions,
        "roles": roles,
        "mappings": lam.list_event_source_mappings()["EventSourceMappings"],
        "tables": {n: ddb.describe_table(TableName=ids[n])["Table"] for n in ("IngestTable", "CrmTable")},
        "queues": client(endpoint, "sqs", region).list_queues().get("QueueUrls", []),
        "outputs": client(endpoint, "cloudformation", region).describe_stacks(StackName=f"patron-{stage}")[
            "Stacks"
        ][0]["Outputs"],
    }


def test_both_stages_are_created_in_their_regions_with_their_artefacts(deployed):
    # Then each stack was created in its region, its artefacts in a bucket of that region
    for stage, region in STAGES.items():
        result = deployed[stage]
        assert (result["stack"], result["region"], result["action"]) == (f"patron-{stage}", region, "created")
        assert result["bucket"].endswith(f"-{region}") and f".s3.{region}." in result["template"]
        assert result["outputs"]["CrmTableName"] == f"patron-{stage}-crm"
        # what moto's CloudFormation cannot create (docs/deploy.md), and nothing else, was left out
        # (and, where the tables are provisioned, their auto scaling)
        scaling = [
            "(AWS::ApplicationAutoScaling::ScalableTarget)",
            "(AWS::ApplicationAutoScaling::ScalingPolicy)",
        ]
        assert sorted({n.split(" ")[1] for n in result["left_out_for_embedded_aws"]}) == [
            "(AWS::ApiGateway::Deployment)",
            *(scaling if stage in PROVISIONED else []),
            "(AWS::Lambda::Url)",
            "(AWS::SES::ConfigurationSet)",
            "(AWS::SES::ConfigurationSetEventDestination)",
            "(AWS::SES::Template)",
            "(AWS::SNS::Subscription)",
            "(AWS::SQS::QueuePolicy)",
            "(Output)",
        ]
        # moto has no Function URL, so no webhook address is printed here (a region prints it)
        assert "WebhookBaseUrl (Output)" in result["left_out_for_embedded_aws"]
        assert result["webhook_urls"] is None


def test_each_stack_has_the_table_capacity_it_was_deployed_with(deployed, endpoint):
    # Then us-east-1's tables and indexes are provisioned at the minimum it was given,
    # and eu-west-1's, deployed without the option, are on demand
    for stage, region in STAGES.items():
        ddb = client(endpoint, "dynamodb", region)
        for table in (f"patron-{stage}-ingest", f"patron-{stage}-crm"):
            described = ddb.describe_table(TableName=table)["Table"]
            mode = described["BillingModeSummary"]["BillingMode"]
            units = [described["ProvisionedThroughput"]] + [
                i["ProvisionedThroughput"] for i in described.get("GlobalSecondaryIndexes", [])
            ]
            if stage in PROVISIONED:
                assert mode == "PROVISIONED", table
                assert {(u["ReadCapacityUnits"], u["WriteCapacityUnits"]) for u in units} == {(2, 2)}
            else:
                assert mode == "PAY_PER_REQUEST", table
        assert deployed[stage]["parameters"] == (
            {"TableCapacity": "provisioned", "CapacityMin": "2"} if stage in PROVISIONED else {}
        )


def test_each_stack_stands_alone_in_its_region(deployed, endpoint):
    seen = {stage: everything_in(endpoint, stage) for stage in STAGES}
    for stage, region in STAGES.items():
        mine = seen[stage]
        (other_stage,) = set(STAGES) - {stage}
        other_region = STAGES[other_stage]
        # Then its tables (with their streams), queues, functions and roles are its own
        assert {t["TableName"] for t in mine["tables"].values()} == {
            f"patron-{stage}-ingest",
            f"patron-{stage}-crm",
        }
        assert all(f":{region}:" in t["LatestStreamArn"] for t in mine["tables"].values())
        assert mine["queues"] and all(f"/patron-{stage}-" in q for q in mine["queues"])
        assert len(mine["functions"]) == FUNCTIONS
        for name, config in mine["functions"].items():
            assert config["FunctionName"] == f"patron-{stage}-{name}"
            assert f":{region}:" in config["FunctionArn"]
            # each function runs under the role generated for it in this stack
            assert config["Role"].endswith("/" + mine["resources"][f"{name}Role"])
            assert config["Environment"]["Variables"]["PATRON_CRM_TABLE"] == f"patron-{stage}-crm"
        assert len(set(mine["resources"][f"{n}Role"] for n in mine["functions"])) == FUNCTIONS
        # the stream and queue consumers read their own region's stream and queue
        sources = sorted(m["EventSourceArn"] for m in mine["mappings"])
        assert len(sources) == 4 and all(f":{region}:" in s and f"patron-{stage}-" in s for s in sources)
        bucket = mine["resources"]["ExportBucket"]
        location = client(endpoint, "s3", region).get_bucket_location(Bucket=bucket)["LocationConstraint"]
        assert (location or "us-east-1") == region
        # and nothing it made names the other stage or the other region
        text = json.dumps(mine, default=str)
        assert other_region not in text and f"patron-{other_stage}" not in text
        # its roles reach only ARNs of its own region (or "*" for the actions IAM cannot
        # scope); an S3 ARN names no region: it must be this stage's own bucket
        for name, documents in mine["roles"].items():
            for document in documents:
                for statement in document["Statement"]:
                    for arn in (
                        statement["Resource"]
                        if isinstance(statement["Resource"], list)
                        else [statement["Resource"]]
                    ):
                        own_bucket = arn.startswith(f"arn:aws:s3:::patron-{stage}-exports-123456789012")
                        assert arn == "*" or f":{region}:123456789012:" in arn or own_bucket, (name, arn)


def test_a_second_deploy_updates_in_place_and_removing_one_stage_leaves_the_other(
    deployed, endpoint, tmp_path
):
    # Given both stages deployed; when one is deployed again
    layer = tmp_path / "analytics-layer.zip"
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/analytics_stand_in.py", "# v2")
    again = deploy(endpoint, "prod-euw1", tmp_path / "again", layer)
    # Then its stack is updated in place, keeping its tables
    assert again["action"] == "updated"
    assert again["outputs"]["IngestStreamArn"] == deployed["prod-euw1"]["outputs"]["IngestStreamArn"]
    # When the other region's stack is deleted
    client(endpoint, "cloudformation", "us-east-1").delete_stack(StackName="patron-prod-use1")
    # Then this one still serves: its tables, functions and queues are all there
    euw1 = everything_in(endpoint, "prod-euw1")
    assert len(euw1["functions"]) == FUNCTIONS and len(euw1["tables"]) == 2 and euw1["queues"]
    # while the other region's functions are gone (its tables are kept: DeletionPolicy Retain)
    assert client(endpoint, "lambda", "us-east-1").list_functions()["Functions"] == []
    assert sorted(client(endpoint, "dynamodb", "us-east-1").list_tables()["TableNames"]) == [
        "patron-prod-use1-crm",
        "patron-prod-use1-ingest",
    ]
