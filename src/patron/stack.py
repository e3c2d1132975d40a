"""Provisioning the data resources of a stage from infra/ and reading them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
RESOURCES = INFRA / "resources.json"
FUNCTIONS = ROOT / "functions"


def stack_name(stage: str) -> str:
    return f"patron-{stage}"


@dataclass(frozen=True)
class StackInfo:
    stage: str
    region: str
    ingest_table: str
    crm_table: str
    ingest_stream_arn: str
    stream_failure_queue_url: str
    export_bucket: str | None = None
    crm_stream_arn: str | None = None
    segment_events_queue_url: str | None = None
    campaign_queue_url: str | None = None
    campaign_queue_arn: str | None = None
    campaign_dlq_url: str | None = None
    service_alerts_topic_arn: str | None = None

    @classmethod
    def from_outputs(cls, stage: str, region: str, outputs: dict[str, str]) -> StackInfo:
        return cls(
            stage=stage,
            region=region,
            ingest_table=outputs["IngestTableName"],
            crm_table=outputs["CrmTableName"],
            ingest_stream_arn=outputs["IngestStreamArn"],
            stream_failure_queue_url=outputs["StreamFailureQueueUrl"],
            export_bucket=outputs.get("ExportBucketName"),
            crm_stream_arn=outputs.get("CrmStreamArn"),
            segment_events_queue_url=outputs.get("SegmentEventsQueueUrl"),
            campaign_queue_url=outputs.get("CampaignQueueUrl"),
            campaign_queue_arn=outputs.get("CampaignQueueArn"),
            campaign_dlq_url=outputs.get("CampaignDlqUrl"),
            service_alerts_topic_arn=outputs.get("ServiceAlertsTopicArn"),
        )

    def environment(self) -> dict[str, str]:
        return {
            "PATRON_STAGE": self.stage,
            "PATRON_INGEST_TABLE": self.ingest_table,
            "PATRON_CRM_TABLE": self.crm_table,
            "AWS_REGION": self.region,
        }


def outputs(cloudformation: Any, stage: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name(stage))["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def provision(cloudformation: Any, dynamodb: Any, stage: str, region: str) -> StackInfo:
    """Create the stage's data stack from infra/resources.json (the template a region uses)."""
    template = RESOURCES.read_text()
    cloudformation.create_stack(StackName=stack_name(stage), TemplateBody=template)
    waiter_outputs = outputs(cloudformation, stage)
    # moto's CloudFormation stores tables without their TimeToLiveSpecification; apply it
    # the way CloudFormation does in a region, from the same template.
    body = json.loads(template)
    for resource in body["Resources"].values():
        ttl = resource.get("Properties", {}).get("TimeToLiveSpecification")
        if resource["Type"] == "AWS::DynamoDB::Table" and ttl:
            name = resource["Properties"]["TableName"]["Fn::Sub"].replace(
                "${AWS::StackName}", stack_name(stage)
            )
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return StackInfo.from_outputs(stage, region, waiter_outputs)


def describe(cloudformation: Any, stage: str, region: str) -> StackInfo:
    return StackInfo.from_outputs(stage, region, outputs(cloudformation, stage))


def load_app() -> Any:
    """Import functions/app.py the way `chalice local` does (Chalice's own loader)."""
    from chalice.cli.factory import CLIFactory

    return CLIFactory(project_dir=str(FUNCTIONS)).load_chalice_app()
