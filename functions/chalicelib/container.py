"""Wiring: adapters built lazily on first use, so importing a handler costs no AWS setup."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.settings import Settings


class Container:
    def __init__(self, settings: Settings, session: Any = None) -> None:
        self.settings = settings
        self._session = session
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            import boto3
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

    @cached_property
    def crm(self) -> Any:
        from chalicelib.adapters.crm_table import CrmTable

        return CrmTable(self.dynamodb, self.settings.crm_table)

    @cached_property
    def request_limits(self) -> Any:
        from chalicelib.adapters.window_counter import DynamoWindowCounter
        from chalicelib.domain.limits import RequestLimits

        return RequestLimits(DynamoWindowCounter(self.crm), self.settings.admin_requests_per_minute)

    @cached_property
    def workspaces(self) -> Any:
        from chalicelib.adapters.workspace_store import DynamoWorkspaceStore

        return DynamoWorkspaceStore(self.crm, self.settings.cache_seconds)

    @cached_property
    def secrets(self) -> Any:
        from chalicelib.adapters.secrets import SecretsManagerStore

        return SecretsManagerStore(self.client("secretsmanager"), self.settings.cache_seconds)

    @cached_property
    def quarantine(self) -> Any:
        from chalicelib.adapters.quarantine import DynamoQuarantinePages

        return DynamoQuarantinePages(self.crm, self.settings.quarantine_ttl_days)

    @cached_property
    def stream_failures(self) -> Any:
        """Why stream records failed (`SFAIL#<table>`), for `patron dlq list`."""
        from chalicelib.adapters.failures import DynamoStreamFailures

        return DynamoStreamFailures(self.dynamodb, self.settings.crm_table)

    @cached_property
    def ingest(self) -> Any:
        from chalicelib.adapters.ingest_store import DynamoIngestStore
        from chalicelib.domain.ingest import IngestService
        from chalicelib.domain.models import Platform
        from chalicelib.parsers import generic, shopify, woocommerce

        return IngestService(
            sources=self.workspaces,
            secrets=self.secrets,
            store=DynamoIngestStore(self.dynamodb, self.settings.ingest_table),
            quarantine=self.quarantine,
            parsers={
                Platform.SHOPIFY: shopify.PARSERS,
                Platform.WOOCOMMERCE: woocommerce.PARSERS,
                Platform.GENERIC: generic.PARSERS,
            },
            max_body_bytes=self.settings.max_body_bytes,
            people=self._people_in,
        )

    def _people_in(self, workspace_id: str, body: bytes) -> list[str]:
        """The customer ids of the emails in a quarantined body (the person index)."""
        from chalicelib.domain.identity import person_ids_in

        settings = self.workspaces.settings(workspace_id)
        return person_ids_in(settings.id_salt, body) if settings is not None else []

    @cached_property
    def tenancy(self) -> Any:
        from chalicelib.domain.tenancy import TenancyService

        return TenancyService(self.workspaces, self.secrets, self.settings.stage)

    @cached_property
    def profile_store(self) -> Any:
        from chalicelib.adapters.profile_store import DynamoProfileStore

        return DynamoProfileStore(self.crm)

    @cached_property
    def customer_walk(self) -> Any:
        """A workspace's customers page by page, through its lifecycle member lists (no scan)."""
        from chalicelib.adapters.membership_store import DynamoMembershipStore
        from chalicelib.domain.walk import CustomerWalk

        return CustomerWalk(DynamoMembershipStore(self.crm), self.profile_store)

    @cached_property
    def segments(self) -> Any:
        from chalicelib.adapters.segment_store import DynamoSegmentStore
        from chalicelib.adapters.sweep_store import DynamoSweepStore
        from chalicelib.domain.segment_service import SegmentService

        return SegmentService(
            DynamoSegmentStore(self.crm), self.profile_store, self.workspaces, DynamoSweepStore(self.crm)
        )

    @cached_property
    def backfill(self) -> Any:
        from chalicelib.adapters.sweep_store import DynamoSweepStore
        from chalicelib.domain.backfill import BackfillService

        return BackfillService(DynamoSweepStore(self.crm), self.membership, self.profile_store)

    @cached_property
    def membership(self) -> Any:
        from chalicelib.adapters.event_sink import SqsEventSink
        from chalicelib.adapters.membership_store import DynamoMembershipStore
        from chalicelib.domain.membership import MembershipService
        from chalicelib.domain.messaging.triggers import FanOutSink

        url = self.settings.segment_events_queue_url
        queue = SqsEventSink(self.client("sqs"), url) if url else None
        events = FanOutSink(queue, self.flow_triggers)
        return MembershipService(DynamoMembershipStore(self.crm), self.segments, self.profile_store, events)

    @cached_property
    def flows(self) -> Any:
        from chalicelib.adapters.flows import DynamoCoupons, DynamoFlowStore
        from chalicelib.adapters.messaging import DynamoStats
        from chalicelib.domain.messaging.flows import FlowService
        from chalicelib.domain.messaging.notifications import WithDefaults
        from chalicelib.domain.messaging.templates import TemplateIn

        def save_template(workspace_id: str, template_id: str, text: Any) -> Any:
            return self.template_service.save(workspace_id, template_id, TemplateIn(**text.model_dump()))

        return FlowService(
            DynamoFlowStore(self.crm),
            self.messaging,
            self.profile_store,
            self.segments,
            self.workspaces,
            WithDefaults(self.templates),
            DynamoCoupons(self.crm),
            save_template,
            stats=DynamoStats(self.crm),
        )

    @cached_property
    def flow_triggers(self) -> Any:
        from chalicelib.domain.messaging.triggers import FlowTriggers

        return FlowTriggers(self.flows, self.workspaces, self.profile_store)

    @cached_property
    def templates(self) -> Any:
        from chalicelib.adapters.messaging import DynamoTemplates

        return DynamoTemplates(self.crm)

    @cached_property
    def template_service(self) -> Any:
        from chalicelib.domain.messaging.templates import TemplateService

        return TemplateService(self.templates, self.profile_store, self.workspaces, self.messaging.channels)

    @cached_property
    def messaging(self) -> Any:
        from chalicelib.adapters.messaging import AwsChannels, DynamoLedger, DynamoLimits
        from chalicelib.domain.messaging.notifications import WithDefaults
        from chalicelib.domain.messaging.service import MessagingService

        channels = AwsChannels(
            self.client("ses"),
            self.client("sns"),
            self.settings.ses_configuration_set,
            self.settings.ses_bulk_template,
            self.client("sesv2") if self.settings.ses_bulk_api == "v2" else None,
        )
        return MessagingService(
            DynamoLedger(self.crm),
            DynamoLimits(self.crm),
            channels,
            WithDefaults(self.templates),
            self.unsubscribe.link,
            engagement=self.engagement,
        )

    @cached_property
    def unsubscribe(self) -> Any:
        from chalicelib.adapters.consent import DynamoProfileConsent
        from chalicelib.adapters.engagement import DynamoOptOuts
        from chalicelib.adapters.messaging import DynamoLimits
        from chalicelib.domain.messaging.unsubscribe import UnsubscribeService

        return UnsubscribeService(
            DynamoLimits(self.crm),
            self.workspaces,
            self.settings.public_url,
            DynamoOptOuts(self.crm),
            DynamoProfileConsent(self.crm),
        )

    @cached_property
    def feedback(self) -> Any:
        from chalicelib.adapters.consent import DynamoProfileConsent
        from chalicelib.adapters.engagement import DynamoEngagement
        from chalicelib.adapters.messaging import DynamoLedger, DynamoLimits
        from chalicelib.domain.messaging.feedback import FeedbackService

        return FeedbackService(
            DynamoLimits(self.crm),
            DynamoLedger(self.crm),
            engagement=DynamoEngagement(self.crm),
            consent=DynamoProfileConsent(self.crm),
        )

    @cached_property
    def sms_stop(self) -> Any:
        from chalicelib.adapters.consent import DynamoProfileConsent
        from chalicelib.adapters.messaging import DynamoLimits
        from chalicelib.adapters.sms_stop import DynamoStopLedger, SnsOptedOutNumbers
        from chalicelib.domain.messaging.sms_stop import SmsStopSync

        return SmsStopSync(
            SnsOptedOutNumbers(self.client("sns")),
            DynamoStopLedger(self.crm),
            self.workspaces,
            self.profile_store,
            DynamoLimits(self.crm),
            DynamoProfileConsent(self.crm),
        )

    @cached_property
    def ingest_pipeline(self) -> Any:
        from chalicelib.adapters.ingest_store import DynamoOrderReader
        from chalicelib.adapters.messaging import DynamoHeldNotifications
        from chalicelib.domain.pipeline import IngestPipeline

        return IngestPipeline(
            self.profiles,
            self.notifications,
            self.flow_triggers,
            self.attribution,
            later=DynamoHeldNotifications(self.crm),
            orders=DynamoOrderReader(self.dynamodb, self.settings.ingest_table),
        )

    @cached_property
    def notifications(self) -> Any:
        from chalicelib.domain.messaging.notifications import NotificationService

        return NotificationService(self.messaging, self.workspaces)

    @cached_property
    def audience(self) -> Any:
        from chalicelib.adapters.exports import S3ExportWriter
        from chalicelib.adapters.messaging import DynamoLimits
        from chalicelib.domain.audience import AudienceService

        bucket = self.settings.export_bucket
        writer = S3ExportWriter(self.client("s3"), bucket) if bucket else None
        return AudienceService(
            self.customer_walk, self.segments, writer, DynamoLimits(self.crm), self.erasure
        )

    @cached_property
    def analytics(self) -> Any:
        from chalicelib.domain.workspace_analytics import AnalyticsService

        return AnalyticsService(self.customer_walk, self.profile_store, self.workspaces)

    @cached_property
    def scoring(self) -> Any:
        from chalicelib.adapters.nightly_store import DynamoNightlyStore
        from chalicelib.domain.nightly import ScoringService

        return ScoringService(
            self.workspaces, self.customer_walk, DynamoNightlyStore(self.crm), self.membership, _fit_workspace
        )

    @cached_property
    def reports(self) -> Any:
        from chalicelib.domain.ops_report import ReportService

        return ReportService(self.workspaces, self.quarantine)

    @cached_property
    def privacy_store(self) -> Any:
        from chalicelib.adapters.privacy_store import DynamoPrivacyStore

        return DynamoPrivacyStore(self.crm, self.dynamodb, self.settings.ingest_table)

    @cached_property
    def erasure(self) -> Any:
        """The person index and what an erasure reaches outside the profile."""
        from chalicelib.adapters.erasure import DynamoErasure, S3Exports

        bucket = self.settings.export_bucket
        exports = S3Exports(self.client("s3"), bucket) if bucket else None
        return DynamoErasure(self.crm, self.dynamodb, self.settings.ingest_table, exports)

    @cached_property
    def privacy_requests(self) -> Any:
        from chalicelib.adapters.erasure import DynamoPrivacyRequests
        from chalicelib.domain.privacy import PrivacyRequests

        sink = DynamoPrivacyRequests(self.dynamodb, self.settings.ingest_table)
        return PrivacyRequests(self.profile_store, sink, self.privacy_store)

    @cached_property
    def profiles(self) -> Any:
        from chalicelib.domain.privacy import PrivacyService
        from chalicelib.domain.profiles import ProfileService

        privacy = PrivacyService(
            self.profile_store, self.workspaces, self.privacy_store, self.customers, self.erasure
        )
        privacy.source_erasure = self.source_erasure
        return ProfileService(self.profile_store, self.workspaces, privacy)

    @cached_property
    def source_erasure(self) -> Any:
        """shop/redact carried out: everything that came from one source (resumable)."""
        from chalicelib.adapters.flows import DynamoFlowStore
        from chalicelib.adapters.source_erasure_store import DynamoSourceErasureStore
        from chalicelib.domain.source_erasure import SourceErasure

        return SourceErasure(
            DynamoSourceErasureStore(self.crm, self.dynamodb, self.settings.ingest_table),
            self.customer_walk,
            self.profile_store,
            self.workspaces,
            self.privacy_store,
            DynamoFlowStore(self.crm),
        )

    @cached_property
    def customers(self) -> Any:
        from chalicelib.adapters.ingest_store import DynamoOrderReader
        from chalicelib.domain.customers import CustomerService

        return CustomerService(
            self.profile_store,
            DynamoOrderReader(self.dynamodb, self.settings.ingest_table),
            self.workspaces,
            engagement=self.engagement,
        )

    # -- engagement, attribution and the messaging report (issue 4) ----------------------
    @cached_property
    def engagement(self) -> Any:
        from chalicelib.adapters.engagement import DynamoEngagement
        from chalicelib.domain.messaging.engagement import EngagementService

        return EngagementService(DynamoEngagement(self.crm), self.workspaces)

    @cached_property
    def attribution(self) -> Any:
        from chalicelib.adapters.engagement import DynamoAttributions
        from chalicelib.domain.messaging.attribution import AttributionService

        return AttributionService(
            self.workspaces, self.engagement, DynamoAttributions(self.crm), self.profile_store
        )

    @cached_property
    def messaging_stats(self) -> Any:
        from chalicelib.adapters.engagement import DynamoStatsReport
        from chalicelib.domain.messaging.performance import MessagingStatsService

        return MessagingStatsService(DynamoStatsReport(self.crm), self.workspaces)

    @cached_property
    def campaigns(self) -> Any:
        from chalicelib.adapters.campaigns import DynamoCampaigns, SqsCampaignQueue
        from chalicelib.adapters.messaging import DynamoLimits, DynamoStats
        from chalicelib.domain.messaging.campaigns import CampaignService
        from chalicelib.domain.models import now_utc

        url = self.settings.campaign_queue_url
        queue = (
            SqsCampaignQueue(self.client("sqs"), url, self.settings.campaign_max_delay_seconds)
            if url
            else None
        )
        return CampaignService(
            DynamoCampaigns(self.crm),
            queue,
            self.membership.store,
            self.profile_store,
            self.messaging,
            DynamoLimits(self.crm),
            DynamoStats(self.crm),
            self.workspaces,
            self.segments,
            self.templates,
            self._send_rate,
            now_utc,
        )

    def _send_rate(self) -> float:
        """Recipients per second campaigns are paced to: the setting, else SES's MaxSendRate
        (asked once per container, that is once per warm Lambda)."""
        if self.settings.campaign_send_rate:
            return self.settings.campaign_send_rate
        if self._ses_rate is None:
            self._ses_rate = self.messaging.channels.max_send_rate()
        return self._ses_rate

    _ses_rate: float | None = None


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    """The process-wide container, created (and settings validated) on first call."""
    global _container
    if _container is None:
        with _container_lock:
            if _container is None:
                from chalicelib.settings import Settings

                _container = Container(Settings())
    return _container


def set_container(value: Container | None) -> None:
    """For tests and the local stack: replace the wiring."""
    global _container
    _container = value


def _fit_workspace(x: Any, tx: Any, T: Any, m: Any, fitted_at: str) -> Any:
    """The nightly fit (numpy and scipy are imported here, by the nightly job only)."""
    from chalicelib.analytics.btyd import fit_workspace

    return fit_workspace(x, tx, T, m, fitted_at)
