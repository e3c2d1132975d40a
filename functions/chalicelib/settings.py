"""Settings, validated once at cold start (first invocation), from the environment."""

from __future__ import annotations

from typing import Literal

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
