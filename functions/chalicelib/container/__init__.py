"""The composition root: each service built once, on first use, from the one set of adapters.

Lazy on purpose: a handler module imports `container` and nothing else, and each property
imports its service (and, through `adapters.py`, boto3 and the adapters) the first time a
request needs it, so a Lambda's cold start pays only for what its handler uses. For the
same reason the types are imported under TYPE_CHECKING only. Services are built with
keyword arguments, one builder per service; the adapters they share are the single
instances of `Adapters`.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.container.loyalty import LoyaltyServices
from chalicelib.container.recommend import RecommendServices
from chalicelib.container.recommend_train import RecommendTraining
from chalicelib.container.returns import ReturnServices
from chalicelib.container.sales import SalesServices
from chalicelib.container.service_desk import ServiceDesk
from chalicelib.container.service_facts import TicketFactsServices
from chalicelib.container.service_sla import SlaServices
from chalicelib.container.service_upkeep import ServiceUpkeep
from chalicelib.container.workspace_api import WorkspaceApi

if TYPE_CHECKING:
    from chalicelib.domain.audience import AudienceService
    from chalicelib.domain.backfill import BackfillService
    from chalicelib.domain.batch_import import BatchImport
    from chalicelib.domain.catalogue_import import CatalogueImport
    from chalicelib.domain.customer_edits import CustomerEdits
    from chalicelib.domain.customer_list import CustomerList
    from chalicelib.domain.customers import CustomerService
    from chalicelib.domain.ingest import IngestService
    from chalicelib.domain.limits import RequestLimits
    from chalicelib.domain.loyalty.dry_run import LoyaltyDryRun
    from chalicelib.domain.loyalty.flow_events import LoyaltyTriggers
    from chalicelib.domain.membership import MembershipService
    from chalicelib.domain.messaging.attribution import AttributionService
    from chalicelib.domain.messaging.campaign_list import CampaignList
    from chalicelib.domain.messaging.campaigns import CampaignService
    from chalicelib.domain.messaging.coupons import CouponQueries, CouponRedemptions
    from chalicelib.domain.messaging.engagement import EngagementService
    from chalicelib.domain.messaging.feedback import FeedbackService
    from chalicelib.domain.messaging.flow_definition import TemplateText
    from chalicelib.domain.messaging.flows import FlowService
    from chalicelib.domain.messaging.notifications import NotificationService, WithDefaults
    from chalicelib.domain.messaging.performance import MessagingStatsService
    from chalicelib.domain.messaging.service import MessagingService
    from chalicelib.domain.messaging.sms_stop import SmsStopSync
    from chalicelib.domain.messaging.templates import TemplateService, TemplateView
    from chalicelib.domain.messaging.triggers import FlowTriggers
    from chalicelib.domain.messaging.unsubscribe import UnsubscribeService
    from chalicelib.domain.nightly import ScoringService
    from chalicelib.domain.ops_health import OpsHealthService
    from chalicelib.domain.ops_report import ReportService
    from chalicelib.domain.pipeline import IngestPipeline
    from chalicelib.domain.privacy import PrivacyRequests, PrivacyService
    from chalicelib.domain.profiles import ProfileService
    from chalicelib.domain.search_entries import SearchEntries
    from chalicelib.domain.segment_service import SegmentService
    from chalicelib.domain.segment_sizes import SegmentSizesService
    from chalicelib.domain.source_erasure import SourceErasure
    from chalicelib.domain.tenancy import TenancyService
    from chalicelib.domain.walk import CustomerWalk
    from chalicelib.domain.workspace_analytics import AnalyticsService

__all__ = ["Adapters", "Container", "container", "set_container"]


class Container(
    ServiceUpkeep,
    LoyaltyServices,
    TicketFactsServices,
    WorkspaceApi,
    SlaServices,
    ServiceDesk,
    SalesServices,
    ReturnServices,
    RecommendServices,
    RecommendTraining,
):
    """The services the handlers, the CLI and the jobs use (the adapters: `Adapters`)."""

    # -- workspaces, ingest and operations -------------------------------------------
    @cached_property
    def request_limits(self) -> RequestLimits:
        from chalicelib.domain.limits import RequestLimits

        return RequestLimits(counter=self.window_counter, per_minute=self.settings.admin_requests_per_minute)

    @cached_property
    def tenancy(self) -> TenancyService:
        from chalicelib.domain.tenancy import TenancyService

        return TenancyService(store=self.workspaces, secrets_store=self.secrets, stage=self.settings.stage)

    @cached_property
    def ingest(self) -> IngestService:
        from chalicelib.domain.ingest import IngestService
        from chalicelib.domain.models import Platform
        from chalicelib.parsers import generic, shopify, woocommerce

        return IngestService(
            sources=self.workspaces,
            secrets=self.secrets,
            store=self.ingest_store,
            quarantine=self.quarantine,
            parsers={
                Platform.SHOPIFY: shopify.PARSERS,
                Platform.WOOCOMMERCE: woocommerce.PARSERS,
                Platform.GENERIC: generic.PARSERS,
            },
            max_body_bytes=self.settings.max_body_bytes,
            people=self._people_in,
            catalogue=self.catalogue,
            contact_forms=self.tickets,
            returns=self.returns,  # ReturnServices' (container/returns.py)
        )

    @cached_property
    def history_import(self) -> BatchImport:
        """`patron import orders|customers|pull`: a store's history, in chunks, with one
        recompute at the end (docs/import.md, domain/batch_import.py)."""
        from chalicelib.domain.batch_import import BatchImport
        from chalicelib.domain.import_recompute import WorkspaceRecompute

        return BatchImport(
            writer=self.ingest_store,
            profiles=self.profile_store,
            workspaces=self.workspaces,
            recompute=WorkspaceRecompute(
                membership=self.membership,
                profiles=self.profile_store,
                scoring=self.scoring,
                points=self.historical_points,
            ),
            privacy=self.privacy,
        )

    @cached_property
    def catalogue_import(self) -> CatalogueImport:
        from chalicelib.domain.catalogue_import import CatalogueImport
        from chalicelib.domain.models import Platform, now_utc
        from chalicelib.parsers import admin_products

        return CatalogueImport(
            catalogue=self.catalogue,
            parsers={
                Platform.SHOPIFY: admin_products.shopify_node,
                Platform.WOOCOMMERCE: admin_products.woo_item,
            },
            clock=now_utc,
        )

    def _people_in(self, workspace_id: str, body: bytes) -> list[str]:
        """The customer ids of the emails in a quarantined body (the person index)."""
        from chalicelib.domain.identity import person_ids_in

        settings = self.workspaces.settings(workspace_id)
        return person_ids_in(settings.id_salt, body) if settings is not None else []

    @cached_property
    def ingest_pipeline(self) -> IngestPipeline:
        from chalicelib.domain.loyalty.bonuses import FirstOrderBonus
        from chalicelib.domain.pipeline import IngestPipeline
        from chalicelib.domain.sales.rules import IngestFanOut

        return IngestPipeline(
            profiles=self.profiles,
            notifications=self.notifications,
            triggers=IngestFanOut(self.flow_triggers, self.sales_triggers),
            attribution=self.attribution,
            later=self.held_notifications,
            orders=self.order_reader,
            coupons=self.coupon_redemptions,
            points=FirstOrderBonus(self.points, self.points_actions),
            tiers=self.tiers,
        )

    @cached_property
    def reports(self) -> ReportService:
        from chalicelib.domain.ops_report import ReportService

        return ReportService(workspaces=self.workspaces, quarantine=self.quarantine)

    @cached_property
    def ops_health(self) -> OpsHealthService:
        """The console's ops health (GET /ops/health): the stage's dead-letter queues."""
        from chalicelib.domain.ops_health import OpsHealthService

        queues = {
            "stream_failures": self.settings.stream_failure_queue_url,
            "campaign_batches": self.settings.campaign_dlq_url,
            "ses_events": self.settings.ses_events_dlq_url,
        }
        return OpsHealthService(self.quarantine, self.queue_depths, queues, self.analytics)

    # -- customers, segments and analytics -------------------------------------------
    @cached_property
    def profiles(self) -> ProfileService:
        from chalicelib.domain.profiles import ProfileService

        return ProfileService(store=self.profile_store, workspaces=self.workspaces, privacy=self.privacy)

    @cached_property
    def customer_edits(self) -> CustomerEdits:
        """A customer's tags, notes and consent edited, audited (docs/data-model.md)."""
        from chalicelib.domain.customer_edits import CustomerEdits

        return CustomerEdits(profiles=self.profile_store, store=self.customer_edit_store, lists=self.limits)

    @cached_property
    def customers(self) -> CustomerService:
        from chalicelib.domain.customers import CustomerService

        return CustomerService(
            profiles=self.profile_store,
            orders=self.order_reader,
            workspaces=self.workspaces,
            engagement=self.engagement,
            catalogue=self.catalogue,
            loyalty=self.loyalty_summaries,
            tickets=self.tickets,
        )

    @cached_property
    def customer_walk(self) -> CustomerWalk:
        """A workspace's customers page by page, through its lifecycle member lists (no scan)."""
        from chalicelib.domain.walk import CustomerWalk

        return CustomerWalk(members=self.membership_store, profiles=self.profile_store)

    @cached_property
    def segments(self) -> SegmentService:
        from chalicelib.domain.segment_service import SegmentService

        return SegmentService(
            store=self.segment_store,
            profiles=self.profile_store,
            workspaces=self.workspaces,
            sweeps=self.sweeps,
            loyalty=self.loyalty_summaries,
            tickets=self.ticket_facts,
        )

    @cached_property
    def membership(self) -> MembershipService:
        from chalicelib.domain.membership import MembershipService
        from chalicelib.domain.messaging.triggers import FanOutSink

        return MembershipService(
            store=self.membership_store,
            segment_service=self.segments,
            profiles=self.profile_store,
            events=FanOutSink(self.segment_events, self.flow_triggers, self.sales_triggers),
        )

    @cached_property
    def segment_sizes(self) -> SegmentSizesService:
        from chalicelib.domain.segment_sizes import SegmentSizesService

        return SegmentSizesService(
            self.workspaces, self.segment_store, self.membership_store, self.segment_size_log
        )

    @cached_property
    def backfill(self) -> BackfillService:
        from chalicelib.domain.backfill import BackfillService

        return BackfillService(sweeps=self.sweeps, membership=self.membership, profiles=self.profile_store)

    @cached_property
    def audience(self) -> AudienceService:
        from chalicelib.domain.audience import AudienceService

        return AudienceService(
            walk=self.customer_walk,
            segment_service=self.segments,
            writer=self.export_writer,
            lists=self.limits,
            index=self.erasure,
        )

    @cached_property
    def analytics(self) -> AnalyticsService:
        from chalicelib.domain.workspace_analytics import AnalyticsService

        return AnalyticsService(
            walk=self.customer_walk,
            entries=self.profile_store,
            workspaces=self.workspaces,
            catalogue=self.catalogue,
            loyalty=self.loyalty_books,
        )

    @cached_property
    def scoring(self) -> ScoringService:
        from chalicelib.domain.loyalty.bonuses import BirthdayBonus
        from chalicelib.domain.nightly import ScoringService

        return ScoringService(
            workspaces=self.workspaces,
            walk=self.customer_walk,
            store=self.nightly_store,
            membership=self.membership,
            fitter=_fit_workspace,
            birthdays=BirthdayBonus(self.points_actions).on_profiles,
        )

    # -- privacy ----------------------------------------------------------------------
    @cached_property
    def privacy(self) -> PrivacyService:
        """Storefront privacy requests carried out (customers/redact, shop/redact)."""
        from chalicelib.domain.privacy import PrivacyService

        return PrivacyService(
            profiles=self.profile_store,
            workspaces=self.workspaces,
            store=self.privacy_store,
            customers=self.customers,
            erasure=self.erasure,
            source_erasure=self.source_erasure,
        )

    @cached_property
    def privacy_requests(self) -> PrivacyRequests:
        from chalicelib.domain.privacy import PrivacyRequests

        return PrivacyRequests(
            profiles=self.profile_store, sink=self.privacy_request_sink, store=self.privacy_store
        )

    @cached_property
    def source_erasure(self) -> SourceErasure:
        """shop/redact carried out: everything that came from one source (resumable)."""
        from chalicelib.domain.source_erasure import SourceErasure

        return SourceErasure(
            store=self.source_erasure_store,
            walk=self.customer_walk,
            profiles=self.profile_store,
            workspaces=self.workspaces,
            audit=self.privacy_store,
            flows=self.flow_store,
            secrets=self.secrets,
        )

    # -- messaging: sends, consent, engagement ---------------------------------------
    @cached_property
    def template_defaults(self) -> WithDefaults:
        """A workspace's own transactional templates, else the built-in ones."""
        from chalicelib.domain.messaging.notifications import WithDefaults

        return WithDefaults(templates=self.templates)

    @cached_property
    def messaging(self) -> MessagingService:
        from chalicelib.domain.messaging.service import MessagingService

        return MessagingService(
            ledger=self.ledger,
            limits=self.limits,
            channels=self.channels,
            templates=self.template_defaults,
            unsubscribe_link=self.unsubscribe.link,
            engagement=self.engagement,
            join_link=self.invites.link,
            loyalty_values=self.loyalty_summaries.template_values,
            loyalty_values_of=self.loyalty_summaries.template_values_of,
            open_complaints=self.ticket_facts.with_open_complaints,
        )

    @cached_property
    def notifications(self) -> NotificationService:
        from chalicelib.domain.messaging.notifications import NotificationService

        return NotificationService(messaging=self.messaging, workspaces=self.workspaces)

    @cached_property
    def template_service(self) -> TemplateService:
        from chalicelib.domain.messaging.templates import TemplateService

        return TemplateService(
            store=self.templates,
            profiles=self.profile_store,
            workspaces=self.workspaces,
            channels=self.channels,
        )

    @cached_property
    def unsubscribe(self) -> UnsubscribeService:
        from chalicelib.domain.messaging.unsubscribe import UnsubscribeService

        return UnsubscribeService(
            store=self.limits,
            workspaces=self.workspaces,
            public_url=self.settings.public_url,
            counted=self.opt_outs,
            consent=self.profile_consent,
        )

    @cached_property
    def feedback(self) -> FeedbackService:
        from chalicelib.domain.messaging.feedback import FeedbackService

        return FeedbackService(
            suppressions=self.limits,
            ledger=self.ledger,
            engagement=self.engagement_store,
            consent=self.profile_consent,
        )

    @cached_property
    def sms_stop(self) -> SmsStopSync:
        from chalicelib.domain.messaging.sms_stop import SmsStopSync

        return SmsStopSync(
            numbers=self.opted_out_numbers,
            ledger=self.stop_ledger,
            workspaces=self.workspaces,
            profiles=self.profile_store,
            opt_outs=self.limits,
            consent=self.profile_consent,
        )

    @cached_property
    def engagement(self) -> EngagementService:
        from chalicelib.domain.messaging.engagement import EngagementService

        return EngagementService(store=self.engagement_store, workspaces=self.workspaces)

    @cached_property
    def attribution(self) -> AttributionService:
        from chalicelib.domain.messaging.attribution import AttributionService

        return AttributionService(
            workspaces=self.workspaces,
            clicks=self.engagement,
            store=self.attributions,
            profiles=self.profile_store,
        )

    @cached_property
    def loyalty_dry_run(self) -> LoyaltyDryRun:
        """Proposed points rules against recent orders, writing nothing (docs/loyalty.md#dry-run)."""
        from chalicelib.domain.loyalty.dry_run import LoyaltyDryRun

        return LoyaltyDryRun(customers=self.customer_walk, workspaces=self.workspaces)

    @cached_property
    def coupon_redemptions(self) -> CouponRedemptions:
        from chalicelib.domain.messaging.coupons import CouponRedemptions

        return CouponRedemptions(ledger=self.coupon_ledger, workspaces=self.workspaces)

    @cached_property
    def coupon_queries(self) -> CouponQueries:
        from chalicelib.domain.messaging.coupons import CouponQueries

        return CouponQueries(listing=self.coupon_ledger)

    @cached_property
    def messaging_stats(self) -> MessagingStatsService:
        from chalicelib.domain.messaging.performance import MessagingStatsService

        return MessagingStatsService(reader=self.stats_report, workspaces=self.workspaces)

    # -- messaging: flows and campaigns ----------------------------------------------
    @cached_property
    def flows(self) -> FlowService:
        from chalicelib.domain.messaging.flows import FlowService

        return FlowService(
            store=self.flow_store,
            messaging=self.messaging,
            profiles=self.profile_store,
            segment_service=self.segments,
            workspaces=self.workspaces,
            templates=self.template_defaults,
            coupons=self.coupons,
            save_template=self._save_flow_template,
            stats=self.stats,
            catalogue=self.catalogue,
            discounts=self.store_discounts,
            sources=self.workspaces,
        )

    def _save_flow_template(self, workspace_id: str, template_id: str, text: TemplateText) -> TemplateView:
        """A flow's inline template, saved through the template service (its checks)."""
        from chalicelib.domain.messaging.templates import TemplateIn

        return self.template_service.save(workspace_id, template_id, TemplateIn(**text.model_dump()))

    @cached_property
    def flow_triggers(self) -> FlowTriggers:
        from chalicelib.domain.messaging.triggers import FlowTriggers

        return FlowTriggers(flows=self.flows, workspaces=self.workspaces, profiles=self.profile_store)

    @cached_property
    def loyalty_triggers(self) -> LoyaltyTriggers:
        """`tier.changed` and `points.earned` / `.redeemed` / `.reversed` flows, from the CRM
        stream (docs/loyalty.md#flow-triggers)."""
        from chalicelib.domain.loyalty.flow_events import LoyaltyTriggers

        return LoyaltyTriggers(flows=self.flows, ledger=self.points_ledger)

    @cached_property
    def campaigns(self) -> CampaignService:
        from chalicelib.domain.messaging.campaigns import CampaignService
        from chalicelib.domain.models import now_utc

        return CampaignService(
            store=self.campaign_store,
            queue=self.campaign_queue,
            members=self.membership_store,
            profiles=self.profile_store,
            messaging=self.messaging,
            blocklist=self.limits,
            stats=self.stats,
            workspaces=self.workspaces,
            segments=self.segments,
            templates=self.templates,
            rate=self._send_rate,
            clock=now_utc,
            catalogue=self.catalogue,
        )

    @cached_property
    def customer_list(self) -> CustomerList:
        """The customer list: all, a prefix search, a segment's or a tier's (`GET /customers`)."""
        from chalicelib.domain.customer_list import CustomerList

        return CustomerList(
            members=self.membership_store,
            profiles=self.profile_store,
            index=self.customer_index,
            segments=self.segments,
        )

    @cached_property
    def search_entries(self) -> SearchEntries:
        """The customer list's search entries, kept by the CRM stream and `customers reindex`."""
        from chalicelib.domain.search_entries import SearchEntries

        return SearchEntries(store=self.customer_index, walk=self.customer_walk)

    @cached_property
    def campaign_list(self) -> CampaignList:
        """The campaigns page by page, with their statistics (`GET /campaigns`)."""
        from chalicelib.domain.messaging.campaign_list import CampaignList

        return CampaignList(self.campaign_store, self.stats)

    def _send_rate(self) -> float:
        """Recipients per second campaigns are paced to: the setting, else SES's MaxSendRate
        (asked once per container, that is once per warm Lambda)."""
        if self.settings.campaign_send_rate:
            return self.settings.campaign_send_rate
        if self._ses_rate is None:
            self._ses_rate = self.channels.max_send_rate()
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
                from chalicelib.settings import load_settings

                _container = Container(load_settings())
    return _container


def set_container(value: Container | None) -> None:
    """For tests and the local stack: replace the wiring."""
    global _container
    _container = value


def _fit_workspace(x: Any, tx: Any, T: Any, m: Any, fitted_at: str) -> Any:
    """The nightly fit (numpy and scipy are imported here, by the nightly job only)."""
    from chalicelib.analytics.btyd import fit_workspace

    return fit_workspace(x, tx, T, m, fitted_at)
