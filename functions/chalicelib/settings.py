"""Settings, validated once at cold start (first invocation), from the environment.

`load_settings` is the one way they are built: by the Lambda functions (the environment
alone), by the CLI and by the test harness (a stack's outputs, and the embedded AWS's
endpoint on a laptop).
"""

from __future__ import annotations

import os
from typing import Any, Literal, Protocol

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATRON_", extra="ignore")

    stage: str = Field(min_length=1)
    ingest_table: str = Field(min_length=3)
    crm_table: str = Field(min_length=3)
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Only set for the embedded AWS (moto server) on a laptop; never in a region.
    aws_endpoint_url: str | None = None
    cache_seconds: float = Field(default=300, ge=0)
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    quarantine_ttl_days: int = Field(default=30, gt=0)
    export_bucket: str | None = None
    public_url: str | None = None  # the API's public base URL, for unsubscribe links
    ses_configuration_set: str | None = None  # SES events (bounces, complaints) are published through it
    segment_events_queue_url: str | None = None  # audience exports; optional for stages without one
    admin_requests_per_minute: int = Field(default=600, ge=1)  # per workspace (429 beyond)
    aws_max_attempts: int = Field(default=3, ge=1, le=10)  # botocore attempts per call
    # botocore's read timeout per call. The embedded AWS answers one request at a time, so
    # in a burst a call can queue longer than 2 s: the local stack gives it longer, or a
    # write that did land is retried and answered `duplicate`.
    aws_read_timeout: float = Field(default=2, gt=0, le=60)
    # Campaigns: the queue their batches go through; the sending rate the dispatcher paces
    # to (recipients per second; unset: SES GetSendQuota's MaxSendRate); the longest delay
    # put on a queued batch (SQS allows 900 s; a longer wait is held in the table instead).
    campaign_queue_url: str | None = None
    ses_bulk_api: Literal["v1", "v2"] = "v2"  # v2 carries List-Unsubscribe headers (moto too)
    campaign_send_rate: float | None = Field(default=None, gt=0)
    campaign_max_delay_seconds: int = Field(default=900, ge=0, le=900)
    ses_bulk_template: str = "patron-passthrough-v1"  # the pass-through SES template of bulk sends
    # Ops health (GET /ops/health): the dead-letter queues whose depths it shows
    stream_failure_queue_url: str | None = None
    campaign_dlq_url: str | None = None
    ses_events_dlq_url: str | None = None  # a region's only (infra/wiring.json)
    # The SLA check's near breaches and breaches (docs/service.md, "SLA operations")
    service_alerts_topic_arn: str | None = None


class StackOutputs(Protocol):
    """What a deployed stage's outputs say about it (patron.stack.StackInfo)."""

    @property
    def stage(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def ingest_table(self) -> str: ...
    @property
    def crm_table(self) -> str: ...
    @property
    def export_bucket(self) -> str | None: ...
    @property
    def segment_events_queue_url(self) -> str | None: ...
    @property
    def campaign_queue_url(self) -> str | None: ...
    @property
    def stream_failure_queue_url(self) -> str: ...
    @property
    def campaign_dlq_url(self) -> str | None: ...
    @property
    def service_alerts_topic_arn(self) -> str | None: ...


# On the embedded AWS (moto server), which answers one request at a time, so a call in a
# burst can queue longer than the 2 s a region needs. The environment still wins.
EMBEDDED_AWS_DEFAULTS: dict[str, Any] = {"aws_read_timeout": 30}


def load_settings(
    stack: StackOutputs | None = None, *, aws_endpoint_url: str | None = None, **overrides: Any
) -> Settings:
    """The settings of a Patron process. From lowest to highest precedence: the defaults
    above, the embedded AWS's defaults (when `aws_endpoint_url` is given), the environment
    (PATRON_*, AWS_REGION), the stack's outputs, then `overrides`."""
    values: dict[str, Any] = {}
    if aws_endpoint_url:
        values.update({k: v for k, v in EMBEDDED_AWS_DEFAULTS.items() if not _in_environment(k)})
        values["aws_endpoint_url"] = aws_endpoint_url
    if stack is not None:
        values.update(
            stage=stack.stage,
            region=stack.region,
            ingest_table=stack.ingest_table,
            crm_table=stack.crm_table,
            export_bucket=stack.export_bucket,
            segment_events_queue_url=stack.segment_events_queue_url,
            campaign_queue_url=stack.campaign_queue_url,
            stream_failure_queue_url=stack.stream_failure_queue_url,
            campaign_dlq_url=stack.campaign_dlq_url,
            service_alerts_topic_arn=stack.service_alerts_topic_arn,
        )
    values.update(overrides)
    # A field read from another variable (region: AWS_REGION) is given under that name:
    # under its own, pydantic would drop it silently and keep the environment's.
    return Settings(**{_alias(name) or name: value for name, value in values.items()})


def _alias(name: str) -> str | None:
    field = Settings.model_fields.get(name)
    alias = field.validation_alias if field is not None else None
    return alias if isinstance(alias, str) else None


def _in_environment(name: str) -> bool:
    variable = _alias(name) or f"{Settings.model_config.get('env_prefix', '')}{name}"
    return variable.upper() in {key.upper() for key in os.environ}
