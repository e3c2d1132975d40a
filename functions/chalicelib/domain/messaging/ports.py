"""The messaging context's ports, in one place: what its services need from storage, the
providers and the rest of Patron. The DynamoDB, SES and SNS adapters implement them
(chalicelib.adapters), the tests' fakes too (tests/integration/test_contract_*.py runs one
scenario suite against both)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.messaging.abtest import Decision
from chalicelib.domain.messaging.campaign_model import Campaign, CampaignBatch, Recipient
from chalicelib.domain.messaging.model import (
    BulkEmail,
    BulkResult,
    Claim,
    EngagementState,
    FlowRun,
    LastClick,
    Template,
)

if TYPE_CHECKING:  # flow_definition imports the sending service, which imports these ports
    from chalicelib.domain.customer_profile import CustomerProfile
    from chalicelib.domain.messaging.flow_definition import IssuedCoupon, StoreCode, StoredFlow
    from chalicelib.domain.models import Source


class WorkspaceSettingsView(Protocol):
    """What messaging reads of a workspace's settings (chalicelib.domain.profiles.WorkspaceSettings)."""

    @property
    def id_salt(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def notifications(self) -> frozenset[str]: ...
    @property
    def sender_email(self) -> str: ...
    @property
    def sms_sender_id(self) -> str: ...
    @property
    def engagement_rules(self) -> dict[str, int]: ...
    @property
    def attribution_days(self) -> int: ...
    @property
    def quiet_start(self) -> int: ...
    @property
    def quiet_end(self) -> int: ...
    @property
    def daily_caps(self) -> dict[str, int]: ...
    @property
    def low_every_days(self) -> int: ...
    @property
    def default_timezone(self) -> str: ...
    def convert(self, amount: Decimal, currency: str | None) -> Decimal | None: ...


class WorkspaceReader(Protocol):
    def settings(self, workspace_id: str) -> WorkspaceSettingsView | None: ...


class WorkspaceDirectory(WorkspaceReader, Protocol):
    def workspace_ids(self) -> list[str]: ...


class ProfileReader(Protocol):
    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None: ...
    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]: ...
    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]: ...
    def guest(self, workspace_id: str, customer_id: str, contact: Mapping[str, Any]) -> CustomerProfile:
        """A guest's profile from the contact a checkout stored (a flow run keeps it)."""
        ...


class TemplateReader(Protocol):
    def latest(self, workspace_id: str, template_id: str) -> Template: ...  # LookupError if none


class TemplateLookup(TemplateReader, Protocol):
    def get(self, workspace_id: str, template_id: str) -> Template | None: ...


class SegmentReader(Protocol):
    def get(self, workspace_id: str, segment_id: str) -> object: ...  # NotFound if none


class SegmentFacts(Protocol):
    def facts(
        self,
        workspace_id: str,
        profile: CustomerProfile,
        at: datetime,
        settings: Any = None,
        with_loyalty: bool = False,
    ) -> tuple[Any, Any]: ...


class MemberPages(Protocol):
    def members(
        self, workspace_id: str, segment_id: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]: ...


class Ledger(Protocol):
    def claim(
        self, workspace_id: str, customer_id: str, key: str, now: datetime, lease: timedelta
    ) -> Claim: ...
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
    def sender_verified(self, sender: str) -> bool: ...  # the address, or its domain, is verified


class FlowStore(Protocol):
    def put_flow(self, workspace_id: str, flow: StoredFlow, expected_version: int | None) -> None: ...
    def flow(self, workspace_id: str, flow_id: str) -> StoredFlow | None: ...
    def flows(self, workspace_id: str) -> list[StoredFlow]: ...  # cached briefly
    def start_run(self, run: FlowRun) -> bool: ...  # False: this run exists already
    def take_reentry(
        self, workspace_id: str, customer_id: str, flow_id: str, at: str, cutoff: str
    ) -> bool: ...
    def runs(self, workspace_id: str, customer_id: str) -> list[FlowRun]: ...
    def get_run(self, workspace_id: str, customer_id: str, run_id: str) -> FlowRun | None: ...
    def save_run(self, run: FlowRun, expected_step: int, expected_due: str | None) -> bool: ...
    def due(self, day: date, until: str) -> Iterable[tuple[str, str, str]]: ...
    # (workspace, customer, run id) of the runs filed under `day` and due by `until`, read lazily
    def watermark(self) -> str | None: ...
    def set_watermark(self, until: str) -> None: ...


class CouponStore(Protocol):
    def issue(self, workspace_id: str, coupon: IssuedCoupon) -> IssuedCoupon: ...  # a retry: the first one
    def registered(self, workspace_id: str, code: str, source_id: str, store_id: str) -> bool: ...

    # the store's id, recorded once (conditional); False: it was recorded before


class CouponLedger(Protocol):
    """Issued coupons' redemptions. Each change is conditioned on what was read (none yet,
    or this order with `before`) and moves the scope's `codes_redeemed` / `coupon_revenue`
    in the same write: False when the coupon moved meanwhile (a replay, a concurrent state)."""

    def get(self, workspace_id: str, code: str) -> IssuedCoupon | None: ...
    def redeem(
        self, workspace_id: str, code: str, order_key: str, revenue: Decimal, at: str, scope: str | None
    ) -> bool: ...
    def revise(
        self,
        workspace_id: str,
        code: str,
        order_key: str,
        before: Decimal,
        revenue: Decimal,
        scope: str | None,
    ) -> bool: ...
    def unredeem(
        self, workspace_id: str, code: str, order_key: str, before: Decimal, scope: str | None
    ) -> bool: ...


class CouponListing(Protocol):
    def page(
        self,
        workspace_id: str,
        status: str | None,
        key_prefix: str | None,
        now: str,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[IssuedCoupon], str | None]: ...

    # one page of the workspace's coupons from `cursor`, of `status` (issued, redeemed,
    # expired at `now`) and whose message key starts with `key_prefix`; the next cursor


class StoreDiscounts(Protocol):
    """A connected source's store: creates one single-use code for one customer."""

    def create(
        self, source: Source, coupon: IssuedCoupon, store_customer_id: str | None, email: str | None
    ) -> StoreCode: ...  # raises AdminApiError when the store refuses or cannot be reached


class SourceReader(Protocol):
    def source(self, workspace_id: str, source_id: str) -> Source | None: ...


class CampaignStore(Protocol):
    def create(self, campaign: Campaign) -> None: ...
    def get(self, workspace_id: str, campaign_id: str) -> Campaign | None: ...
    def all(self, workspace_id: str) -> list[Campaign]: ...
    def page(
        self, workspace_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Campaign], str | None]: ...  # by id, after `cursor`; the next cursor only when more
    def transition(
        self, workspace_id: str, campaign_id: str, allowed: tuple[str, ...], status: str
    ) -> bool: ...  # conditional on the current status
    def set_phase(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        new_phase: str,
        *,
        decision: Decision | None = None,
        decide_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> bool: ...  # conditional on the phase and on status `sending`; the cursor removed
    def advance(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        cursor: str | None,
        new_cursor: str | None,
        enqueued: int,
        skipped: int,
        carry: list[Recipient],
    ) -> bool: ...  # conditional on phase, cursor and status `sending`
    def add(
        self, workspace_id: str, campaign_id: str, *, duplicates: int = 0, failed: int = 0, cancelled: int = 0
    ) -> None: ...
    def active(self) -> list[tuple[str, str]]: ...
    def deactivate(self, workspace_id: str, campaign_id: str) -> None: ...
    def park(self, workspace_id: str, campaign_id: str, batch: CampaignBatch) -> None: ...
    def parked(self, workspace_id: str, campaign_id: str) -> list[CampaignBatch]: ...
    def unpark(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool: ...
    def drop_once(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool: ...
    def hold(self, due: datetime, batch: CampaignBatch) -> None: ...
    def due(self, now: datetime, limit: int) -> list[tuple[str, CampaignBatch]]: ...  # (due key, batch)
    def release(self, due_key: str) -> None: ...


class Blocklist(Protocol):
    def blocked(self, workspace_id: str, channel: str, addresses: dict[str, str]) -> set[str]: ...

    # the customers (of customer id -> address) who opted out, or whose address is suppressed


class CampaignQueue(Protocol):
    max_delay: int  # seconds a message can be delayed in the queue (SQS: 900)

    def enqueue(self, batches: list[tuple[CampaignBatch, int]]) -> None: ...  # (batch, delay s)
    def read(self, body: dict[str, Any]) -> CampaignBatch: ...  # a received message's batch
    def retry_in(self, receipt: str, seconds: int) -> None: ...  # a received message, later


# used by attribution.py
class ClickReader(Protocol):
    def last_click(self, workspace_id: str, customer_id: str) -> LastClick | None: ...


# used by attribution.py
class AttributionStore(Protocol):
    def record(
        self,
        workspace_id: str,
        order_pk: str,
        attribution: dict[str, Any],
        counts: dict[str, dict[str, int | Decimal]],
    ) -> bool:
        """Write the attribution and add `counts` to the statistics, once: False if the
        order was attributed before."""
        ...


# used by attribution.py
class ProfileLookup(Protocol):
    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None: ...  # pointers followed


# used by engagement.py
class EngagementStore(Protocol):
    def delivered(self, workspace_id: str, customer_id: str, at: str) -> None: ...
    def opened(self, workspace_id: str, customer_id: str, at: str) -> None: ...
    def clicked(
        self, workspace_id: str, customer_id: str, at: str, key: str, scope: str | None, variant: str | None
    ) -> None: ...
    def get(self, workspace_id: str, customer_id: str) -> EngagementState | None: ...
    def get_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, EngagementState]: ...


# used by feedback.py
class SuppressionStore(Protocol):
    def suppress(self, workspace_id: str, channel: str, address: str, reason: str) -> None: ...


# used by feedback.py
class EventLedger(Protocol):
    def record_event(
        self,
        workspace_id: str,
        customer_id: str,
        key: str,
        event: str,
        at: str,
        counts: dict[str, dict[str, int]] | None = None,
    ) -> bool:
        """Set `ev_<event>` on the message's claim and add `counts` (scope -> counters) to the
        statistics, all or nothing; True only the first time (and only if the message has a
        claim), so a redelivered event or a second open counts nothing."""
        ...

    def confirm_sent(self, workspace_id: str, customer_id: str, key: str, provider_id: str) -> None:
        """SES accepted it: a claim still `sending` (its sender died) becomes `sent`."""
        ...


# used by performance.py
class StatsReader(Protocol):
    def all(self, workspace_id: str) -> dict[str, dict[str, int | Decimal]]: ...
    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal] | None: ...


# used by sms_stop.py
class OptedOutNumbers(Protocol):
    def page(self, token: str | None) -> tuple[list[str], str | None]:
        """One page of the opted-out numbers (E.164) and the next page's token (None: the
        last page). Raises CursorExpired for a token the provider no longer accepts."""
        ...


# used by sms_stop.py
class StopLedger(Protocol):
    def handled(self, numbers: list[str]) -> set[str]:
        """Those of `numbers` already taken onto the profiles."""
        ...

    def mark(self, number: str, at: str, customers: int) -> None:
        """Record the number as handled, if it is not already."""
        ...

    def cursor(self) -> str | None: ...

    def set_cursor(self, token: str | None) -> None:
        """Save the page token to resume at (None: remove it)."""
        ...


# used by stats.py
class Stats(Protocol):
    def add(self, workspace_id: str, scope: str, counts: dict[str, int | Decimal]) -> None: ...
    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal]: ...


# used by templates.py
class TemplateStore(Protocol):
    def save(self, workspace_id: str, template: Template, name: str, previous: int | None) -> None: ...
    def get(self, workspace_id: str, template_id: str) -> Template | None: ...  # the latest version
    def list(self, workspace_id: str) -> list[Template]: ...


# used by unsubscribe.py
class OptOutStore(Protocol):
    def opt_out(self, workspace_id: str, channel: str, customer_id: str, source: str) -> None: ...
    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool: ...


# used by unsubscribe.py
class ProfileConsent(Protocol):
    def withdraw(
        self,
        workspace_id: str,
        customer_id: str,
        channel: str,
        at: str,
        reason: str,
        address: str | None = None,
    ) -> bool:
        """Set the profile's consent for `channel` to `unsubscribed` as of `at` if that is
        newer than what it holds, once (a retry changes nothing); with `address`, only if
        the profile's address for the channel is that one. False when nothing changed."""
        ...


# used by unsubscribe.py
class CountedOptOuts(Protocol):
    def opt_out_once(
        self,
        workspace_id: str,
        channel: str,
        customer_id: str,
        source: str,
        at: str,
        counts: dict[str, dict[str, int | Decimal]],
    ) -> bool:
        """The opt-out, only if absent, with `counts` added to the statistics: all or nothing."""
        ...
