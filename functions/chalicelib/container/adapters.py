"""The adapters: one instance of each per container, built on first use.

Every import below sits in the property that needs it, and the types are imported under
TYPE_CHECKING only: a Lambda's cold start loads the adapters (and boto3) its handler
actually uses, not all of them. A service that needs an adapter receives this one
instance, so caches and counters are shared, never duplicated.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.adapters.campaigns import DynamoCampaigns, SqsCampaignQueue
    from chalicelib.adapters.catalogue_store import DynamoCatalogueStore
    from chalicelib.adapters.consent import DynamoProfileConsent
    from chalicelib.adapters.coupon_ledger import DynamoCouponLedger
    from chalicelib.adapters.crm_table import CrmTable
    from chalicelib.adapters.customer_edits import DynamoCustomerEdits
    from chalicelib.adapters.customer_search import DynamoCustomerIndex
    from chalicelib.adapters.engagement import (
        DynamoAttributions,
        DynamoEngagement,
        DynamoOptOuts,
        DynamoStatsReport,
    )
    from chalicelib.adapters.enrolment_store import DynamoEnrolmentStore
    from chalicelib.adapters.erasure import DynamoErasure, DynamoPrivacyRequests, S3Exports
    from chalicelib.adapters.event_sink import SqsEventSink
    from chalicelib.adapters.exports import S3ExportWriter
    from chalicelib.adapters.failures import DynamoStreamFailures
    from chalicelib.adapters.flows import DynamoCoupons, DynamoFlowStore
    from chalicelib.adapters.ingest_store import DynamoIngestStore, DynamoOrderReader
    from chalicelib.adapters.loyalty_books import DynamoLoyaltyBooks
    from chalicelib.adapters.membership_store import DynamoMembershipStore
    from chalicelib.adapters.messaging import (
        AwsChannels,
        DynamoHeldNotifications,
        DynamoLedger,
        DynamoLimits,
        DynamoStats,
        DynamoTemplates,
    )
    from chalicelib.adapters.nightly_store import DynamoNightlyStore
    from chalicelib.adapters.points_ledger import DynamoPointsLedger
    from chalicelib.adapters.points_tally import DynamoPointsTally
    from chalicelib.adapters.privacy_store import DynamoPrivacyStore
    from chalicelib.adapters.profile_store import DynamoProfileStore
    from chalicelib.adapters.quarantine import DynamoQuarantinePages
    from chalicelib.adapters.queue_depths import SqsQueueDepths
    from chalicelib.adapters.secrets import SecretsManagerStore
    from chalicelib.adapters.segment_size_store import DynamoSegmentSizeLog
    from chalicelib.adapters.segment_store import DynamoSegmentStore
    from chalicelib.adapters.sms_stop import DynamoStopLedger, SnsOptedOutNumbers
    from chalicelib.adapters.source_erasure_store import DynamoSourceErasureStore
    from chalicelib.adapters.storefront_admin.discounts import AdminStoreDiscounts
    from chalicelib.adapters.sweep_store import DynamoSweepStore
    from chalicelib.adapters.ticket_store import DynamoTicketStore
    from chalicelib.adapters.tier_store import DynamoTierStore
    from chalicelib.adapters.window_counter import DynamoWindowCounter
    from chalicelib.adapters.workspace_store import DynamoWorkspaceStore
    from chalicelib.settings import Settings


class Adapters:
    """AWS clients (one per service) and the stores, queues and channels built on them."""

    def __init__(self, settings: Settings, session: Any = None) -> None:
        self.settings = settings
        self._session = session
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """The container's boto3 client for `service` (made once)."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._new_client(service)
            return self._clients[service]

    def _new_client(self, service: str) -> Any:
        import boto3  # the heaviest import of all: only when a handler first calls AWS
        from botocore.config import Config

        session = self._session or boto3.session.Session()
        # Short timeouts, few retries: a webhook answers well inside Shopify's 5 s, and a
        # failure surfaces as a 5xx the storefront retries (streams retry on their own).
        config = Config(
            retries={"mode": "standard", "total_max_attempts": self.settings.aws_max_attempts},
            connect_timeout=1,
            read_timeout=self.settings.aws_read_timeout,
        )
        return session.client(
            service,
            region_name=self.settings.region,
            endpoint_url=self.settings.aws_endpoint_url,
            config=config,
        )

    @cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    # -- the CRM table and its item kinds --------------------------------------------
    @cached_property
    def crm(self) -> CrmTable:
        from chalicelib.adapters.crm_table import CrmTable

        return CrmTable(client=self.dynamodb, table=self.settings.crm_table)

    @cached_property
    def window_counter(self) -> DynamoWindowCounter:
        from chalicelib.adapters.window_counter import DynamoWindowCounter

        return DynamoWindowCounter(table=self.crm)

    @cached_property
    def workspaces(self) -> DynamoWorkspaceStore:
        from chalicelib.adapters.workspace_store import DynamoWorkspaceStore

        return DynamoWorkspaceStore(table=self.crm, cache_seconds=self.settings.cache_seconds)

    @cached_property
    def queue_depths(self) -> SqsQueueDepths:
        from chalicelib.adapters.queue_depths import SqsQueueDepths

        return SqsQueueDepths(self.client("sqs"))

    @cached_property
    def quarantine(self) -> DynamoQuarantinePages:
        from chalicelib.adapters.quarantine import DynamoQuarantinePages

        return DynamoQuarantinePages(table=self.crm, ttl_days=self.settings.quarantine_ttl_days)

    @cached_property
    def profile_store(self) -> DynamoProfileStore:
        from chalicelib.adapters.profile_store import DynamoProfileStore

        return DynamoProfileStore(table=self.crm)

    @cached_property
    def customer_edit_store(self) -> DynamoCustomerEdits:
        from chalicelib.adapters.customer_edits import DynamoCustomerEdits

        return DynamoCustomerEdits(table=self.crm)

    @cached_property
    def ticket_store(self) -> DynamoTicketStore:
        from chalicelib.adapters.ticket_store import DynamoTicketStore

        return DynamoTicketStore(table=self.crm)

    @cached_property
    def enrolment_store(self) -> DynamoEnrolmentStore:
        from chalicelib.adapters.enrolment_store import DynamoEnrolmentStore

        return DynamoEnrolmentStore(table=self.crm)

    @cached_property
    def membership_store(self) -> DynamoMembershipStore:
        from chalicelib.adapters.membership_store import DynamoMembershipStore

        return DynamoMembershipStore(table=self.crm)

    @cached_property
    def segment_size_log(self) -> DynamoSegmentSizeLog:
        from chalicelib.adapters.segment_size_store import DynamoSegmentSizeLog

        return DynamoSegmentSizeLog(self.crm)

    @cached_property
    def segment_store(self) -> DynamoSegmentStore:
        from chalicelib.adapters.segment_store import DynamoSegmentStore

        return DynamoSegmentStore(table=self.crm)

    @cached_property
    def catalogue(self) -> DynamoCatalogueStore:
        from chalicelib.adapters.catalogue_store import DynamoCatalogueStore

        return DynamoCatalogueStore(table=self.crm)

    @cached_property
    def sweeps(self) -> DynamoSweepStore:
        from chalicelib.adapters.sweep_store import DynamoSweepStore

        return DynamoSweepStore(table=self.crm)

    @cached_property
    def nightly_store(self) -> DynamoNightlyStore:
        from chalicelib.adapters.nightly_store import DynamoNightlyStore

        return DynamoNightlyStore(table=self.crm)

    @cached_property
    def privacy_store(self) -> DynamoPrivacyStore:
        from chalicelib.adapters.privacy_store import DynamoPrivacyStore

        return DynamoPrivacyStore(
            table=self.crm, ingest_client=self.dynamodb, ingest_table=self.settings.ingest_table
        )

    @cached_property
    def stream_failures(self) -> DynamoStreamFailures:
        """Why stream records failed (`SFAIL#<table>`), for `patron dlq list`."""
        from chalicelib.adapters.failures import DynamoStreamFailures

        return DynamoStreamFailures(client=self.dynamodb, table=self.settings.crm_table)

    # -- messaging's stores and channels ---------------------------------------------
    @cached_property
    def ledger(self) -> DynamoLedger:
        from chalicelib.adapters.messaging import DynamoLedger

        return DynamoLedger(table=self.crm)

    @cached_property
    def limits(self) -> DynamoLimits:
        """Suppressions, opt-outs and frequency caps (one store, read by every sender)."""
        from chalicelib.adapters.messaging import DynamoLimits

        return DynamoLimits(table=self.crm)

    @cached_property
    def stats(self) -> DynamoStats:
        from chalicelib.adapters.messaging import DynamoStats

        return DynamoStats(table=self.crm)

    @cached_property
    def templates(self) -> DynamoTemplates:
        from chalicelib.adapters.messaging import DynamoTemplates

        return DynamoTemplates(table=self.crm)

    @cached_property
    def held_notifications(self) -> DynamoHeldNotifications:
        from chalicelib.adapters.messaging import DynamoHeldNotifications

        return DynamoHeldNotifications(table=self.crm)

    @cached_property
    def channels(self) -> AwsChannels:
        from chalicelib.adapters.messaging import AwsChannels

        return AwsChannels(
            ses=self.client("ses"),
            sns=self.client("sns"),
            configuration_set=self.settings.ses_configuration_set,
            bulk_template=self.settings.ses_bulk_template,
            sesv2=self.client("sesv2") if self.settings.ses_bulk_api == "v2" else None,
        )

    @cached_property
    def profile_consent(self) -> DynamoProfileConsent:
        from chalicelib.adapters.consent import DynamoProfileConsent

        return DynamoProfileConsent(table=self.crm)

    @cached_property
    def engagement_store(self) -> DynamoEngagement:
        from chalicelib.adapters.engagement import DynamoEngagement

        return DynamoEngagement(table=self.crm)

    @cached_property
    def opt_outs(self) -> DynamoOptOuts:
        from chalicelib.adapters.engagement import DynamoOptOuts

        return DynamoOptOuts(table=self.crm)

    @cached_property
    def attributions(self) -> DynamoAttributions:
        from chalicelib.adapters.engagement import DynamoAttributions

        return DynamoAttributions(table=self.crm)

    @cached_property
    def stats_report(self) -> DynamoStatsReport:
        from chalicelib.adapters.engagement import DynamoStatsReport

        return DynamoStatsReport(table=self.crm)

    @cached_property
    def flow_store(self) -> DynamoFlowStore:
        from chalicelib.adapters.flows import DynamoFlowStore

        return DynamoFlowStore(table=self.crm)

    @cached_property
    def coupon_ledger(self) -> DynamoCouponLedger:
        """Coupons' redemptions and the coupon list."""
        from chalicelib.adapters.coupon_ledger import DynamoCouponLedger

        return DynamoCouponLedger(table=self.crm)

    @cached_property
    def points_ledger(self) -> DynamoPointsLedger:
        """Customers' points ledgers and balances."""
        from chalicelib.adapters.points_ledger import DynamoPointsLedger

        return DynamoPointsLedger(table=self.crm)

    @cached_property
    def customer_index(self) -> DynamoCustomerIndex:
        """The customer list's search indexes and tier lists (`GET /customers`)."""
        from chalicelib.adapters.customer_search import DynamoCustomerIndex

        return DynamoCustomerIndex(table=self.crm)

    @cached_property
    def tier_store(self) -> DynamoTierStore:
        """Customers' tier states and their audit."""
        from chalicelib.adapters.tier_store import DynamoTierStore

        return DynamoTierStore(table=self.crm)

    @cached_property
    def coupons(self) -> DynamoCoupons:
        from chalicelib.adapters.flows import DynamoCoupons

        return DynamoCoupons(table=self.crm)

    @cached_property
    def points_tally(self) -> DynamoPointsTally:
        """The workspace's anonymous points: erased customers' ledgers folded (docs/loyalty.md)."""
        from chalicelib.adapters.points_tally import DynamoPointsTally

        return DynamoPointsTally(table=self.crm)

    @cached_property
    def loyalty_books(self) -> DynamoLoyaltyBooks:
        """The analytics report's batch reads of balances, tiers and the tally (docs/analytics.md)."""
        from chalicelib.adapters.loyalty_books import DynamoLoyaltyBooks

        return DynamoLoyaltyBooks(table=self.crm)

    @cached_property
    def store_discounts(self) -> AdminStoreDiscounts:
        """Flows' coupons created in a connected source's store (its Admin API)."""
        from chalicelib.adapters.storefront_admin.discounts import AdminStoreDiscounts

        return AdminStoreDiscounts(credentials=self.secrets)

    @cached_property
    def stop_ledger(self) -> DynamoStopLedger:
        from chalicelib.adapters.sms_stop import DynamoStopLedger

        return DynamoStopLedger(table=self.crm)

    @cached_property
    def opted_out_numbers(self) -> SnsOptedOutNumbers:
        from chalicelib.adapters.sms_stop import SnsOptedOutNumbers

        return SnsOptedOutNumbers(sns=self.client("sns"))

    @cached_property
    def campaign_store(self) -> DynamoCampaigns:
        from chalicelib.adapters.campaigns import DynamoCampaigns

        return DynamoCampaigns(table=self.crm)

    @cached_property
    def campaign_queue(self) -> SqsCampaignQueue | None:
        """Campaign batches' queue (None on a stage without one)."""
        from chalicelib.adapters.campaigns import SqsCampaignQueue

        url = self.settings.campaign_queue_url
        if not url:
            return None
        return SqsCampaignQueue(
            client=self.client("sqs"), queue_url=url, max_delay=self.settings.campaign_max_delay_seconds
        )

    @cached_property
    def segment_events(self) -> SqsEventSink | None:
        """Membership changes for audience exports (None on a stage without the queue)."""
        from chalicelib.adapters.event_sink import SqsEventSink

        url = self.settings.segment_events_queue_url
        return SqsEventSink(client=self.client("sqs"), queue_url=url) if url else None

    # -- the ingest table ------------------------------------------------------------
    @cached_property
    def ingest_store(self) -> DynamoIngestStore:
        from chalicelib.adapters.ingest_store import DynamoIngestStore

        return DynamoIngestStore(client=self.dynamodb, table=self.settings.ingest_table)

    @cached_property
    def order_reader(self) -> DynamoOrderReader:
        from chalicelib.adapters.ingest_store import DynamoOrderReader

        return DynamoOrderReader(client=self.dynamodb, table=self.settings.ingest_table)

    @cached_property
    def privacy_request_sink(self) -> DynamoPrivacyRequests:
        from chalicelib.adapters.erasure import DynamoPrivacyRequests

        return DynamoPrivacyRequests(client=self.dynamodb, table=self.settings.ingest_table)

    @cached_property
    def source_erasure_store(self) -> DynamoSourceErasureStore:
        from chalicelib.adapters.source_erasure_store import DynamoSourceErasureStore

        return DynamoSourceErasureStore(
            table=self.crm, ingest_client=self.dynamodb, ingest_table=self.settings.ingest_table
        )

    # -- secrets and the export bucket -----------------------------------------------
    @cached_property
    def secrets(self) -> SecretsManagerStore:
        from chalicelib.adapters.secrets import SecretsManagerStore

        return SecretsManagerStore(
            client=self.client("secretsmanager"), cache_seconds=self.settings.cache_seconds
        )

    @cached_property
    def export_writer(self) -> S3ExportWriter | None:
        """Audience exports' files (None on a stage without an export bucket)."""
        from chalicelib.adapters.exports import S3ExportWriter

        bucket = self.settings.export_bucket
        return S3ExportWriter(client=self.client("s3"), bucket=bucket) if bucket else None

    @cached_property
    def erasure(self) -> DynamoErasure:
        """The person index and what an erasure reaches outside the profile."""
        from chalicelib.adapters.erasure import DynamoErasure

        return DynamoErasure(
            table=self.crm,
            ingest_client=self.dynamodb,
            ingest_table=self.settings.ingest_table,
            exports=self._s3_exports,
        )

    @cached_property
    def _s3_exports(self) -> S3Exports | None:
        from chalicelib.adapters.erasure import S3Exports

        bucket = self.settings.export_bucket
        return S3Exports(client=self.client("s3"), bucket=bucket) if bucket else None
