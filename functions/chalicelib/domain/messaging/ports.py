"""The messaging context's ports, in one place: what its services need from storage, the
providers and the rest of Patron. The DynamoDB, SES and SNS adapters implement them
(chalicelib.adapters), the tests' fakes too (tests/integration/test_contract_*.py runs one
scenario suite against both)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.messaging.model import BulkEmail, BulkResult


class Ledger(Protocol):
    def claim(
        self, workspace_id: str, customer_id: str, key: str, now: datetime, lease: timedelta
    ) -> str: ...  # "claimed", "done" (sent, dropped or refused before) or "busy"
    def finish(self, workspace_id: str, customer_id: str, key: str, status: str, detail: str) -> None: ...
    def release(self, workspace_id: str, customer_id: str, key: str) -> None: ...


class Limits(Protocol):
    def is_suppressed(self, workspace_id: str, channel: str, address: str) -> bool: ...
    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool: ...
    def listed(
        self, workspace_id: str, channel: str, customer_ids: list[str], addresses: list[str]
    ) -> tuple[set[str], set[str]]: ...  # (opted out, suppressed) of these, read consistently at once
    def take_cap(self, workspace_id: str, customer_id: str, period: str, cap: int) -> bool: ...
    def return_cap(self, workspace_id: str, customer_id: str, period: str) -> None: ...
    def take_spacing(self, workspace_id: str, customer_id: str, now: datetime, gap: timedelta) -> bool: ...
    def take_sms_credits(self, workspace_id: str, parts: int) -> bool: ...
    def return_sms_credits(self, workspace_id: str, parts: int) -> None: ...


class EngagementTiers(Protocol):
    def tier(self, workspace_id: str, customer_id: str, now: datetime) -> str: ...  # high, medium, low


class Channels(Protocol):
    def send_email(
        self,
        sender: str,
        to: str,
        subject: str,
        html: str,
        text: str,
        headers: dict[str, str],
        tags: dict[str, str],
    ) -> str: ...
    def send_sms(self, phone: str, text: str, sender_id: str, tags: dict[str, str]) -> str: ...
    def send_bulk_email(self, sender: str, emails: list[BulkEmail]) -> list[BulkResult]: ...
    def sms_opted_out(self, phone: str) -> bool: ...  # replied STOP (the SMS provider's list)


class FlowStore(Protocol):
    def put_flow(self, workspace_id: str, item: dict[str, Any], expected_version: int | None) -> None: ...
    def get_flow(self, workspace_id: str, flow_id: str) -> dict[str, Any] | None: ...
    def list_flows(self, workspace_id: str) -> list[dict[str, Any]]: ...
    def start_run(self, run: dict[str, Any]) -> bool: ...  # False: this run exists already
    def take_reentry(
        self, workspace_id: str, customer_id: str, flow_id: str, at: str, cutoff: str
    ) -> bool: ...
    def runs(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]: ...
    def get_run(self, workspace_id: str, customer_id: str, run_id: str) -> dict[str, Any] | None: ...
    def save_run(self, run: dict[str, Any], expected_step: int, expected_due: str | None) -> bool: ...
    def due(self, bucket: str, until: str) -> list[tuple[str, str]]: ...
    def watermark(self) -> str | None: ...
    def set_watermark(self, until: str) -> None: ...


class CouponStore(Protocol):
    def issue(self, workspace_id: str, code: str, values: dict[str, Any]) -> dict[str, Any]: ...


class CampaignStore(Protocol):
    def create(self, workspace_id: str, item: dict[str, Any]) -> None: ...
    def get(self, workspace_id: str, campaign_id: str) -> dict[str, Any] | None: ...
    def transition(
        self,
        workspace_id: str,
        campaign_id: str,
        allowed: tuple[str, ...],
        status: str,
        extra: dict[str, Any] | None = None,
    ) -> bool: ...  # conditional on the current status
    def set_phase(
        self, workspace_id: str, campaign_id: str, phase: str, new_phase: str, extra: dict[str, Any]
    ) -> bool: ...  # conditional on the phase and on status `sending`
    def advance(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        cursor: str | None,
        new_cursor: str | None,
        counts: dict[str, int],
        carry: list[dict[str, str]],
    ) -> bool: ...  # conditional on phase, cursor and status `sending`
    def add(self, workspace_id: str, campaign_id: str, counts: dict[str, int]) -> None: ...
    def active(self) -> list[tuple[str, str]]: ...
    def deactivate(self, workspace_id: str, campaign_id: str) -> None: ...
    def park(self, workspace_id: str, campaign_id: str, batch: dict[str, Any]) -> None: ...
    def parked(self, workspace_id: str, campaign_id: str) -> list[dict[str, Any]]: ...
    def unpark(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool: ...
    def drop_once(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool: ...
    def hold(self, due: datetime, batch: dict[str, Any]) -> None: ...
    def due(self, now: datetime, limit: int) -> list[tuple[str, dict[str, Any]]]: ...
    def release(self, due_key: str) -> None: ...


class Blocklist(Protocol):
    def blocked(self, workspace_id: str, channel: str, addresses: dict[str, str]) -> set[str]: ...

    # the customers (of customer id -> address) who opted out, or whose address is suppressed


class CampaignQueue(Protocol):
    max_delay: int  # seconds a message can be delayed in the queue (SQS: 900)

    def enqueue(self, batches: list[tuple[dict[str, Any], int]]) -> None: ...  # (body, delay s)
    def retry_in(self, receipt: str, seconds: int) -> None: ...  # a received message, later
