"""The loyalty services of the composition root (members, points, tiers): the container's
base, built on the adapters alone (docs/loyalty.md). Split from `__init__.py` to keep each
file cohesive; `Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.domain.enrolment import EnrolmentService
    from chalicelib.domain.loyalty.adjust import PointsAdjustments
    from chalicelib.domain.loyalty.available import AvailableMessages
    from chalicelib.domain.loyalty.bonuses import PointsActions
    from chalicelib.domain.loyalty.expiry import PointsExpiry
    from chalicelib.domain.loyalty.expiry_warnings import ExpiryWarnings
    from chalicelib.domain.loyalty.history import HistoricalPoints
    from chalicelib.domain.loyalty.invite import InviteService
    from chalicelib.domain.loyalty.ledger import PointsService
    from chalicelib.domain.loyalty.membership_audit import MembershipAudit
    from chalicelib.domain.loyalty.merge import LedgerMerges
    from chalicelib.domain.loyalty.redeem import PointsRedemptions
    from chalicelib.domain.loyalty.summary import LoyaltySummaries
    from chalicelib.domain.loyalty.tier_service import TierService


class LoyaltyServices(Adapters):
    @cached_property
    def historical_points(self) -> HistoricalPoints:
        """A history import's points, by the workspace's import policy (docs/loyalty.md)."""
        from chalicelib.adapters.points_history import DynamoHistoricalPoints
        from chalicelib.domain.loyalty.history import HistoricalPoints

        return HistoricalPoints(
            ledger=self.points_ledger,
            history=DynamoHistoricalPoints(self.crm),
            orders=self.order_reader,
            profiles=self.profile_store,
            workspaces=self.workspaces,
        )

    @cached_property
    def enrolments(self) -> EnrolmentService:
        """Loyalty membership: enrol, leave, member numbers (docs/loyalty.md#membership)."""
        from chalicelib.domain.enrolment import EnrolmentService
        from chalicelib.domain.loyalty.bonuses import EnrolmentBonus

        return EnrolmentService(
            profiles=self.profile_store,
            store=self.enrolment_store,
            on_joined=EnrolmentBonus(self.points_actions),
        )

    @cached_property
    def invites(self) -> InviteService:
        """Guests' signed join links, and joining through one (docs/loyalty.md#invitations)."""
        from chalicelib.domain.loyalty.invite import InviteService

        return InviteService(
            workspaces=self.workspaces, enrolments=self.enrolments, public_url=self.settings.public_url
        )

    @cached_property
    def membership_audit(self) -> MembershipAudit:
        """A customer's membership and its audit, newest first (docs/loyalty.md)."""
        from chalicelib.domain.loyalty.membership_audit import MembershipAudit

        return MembershipAudit(profiles=self.profile_store, audit=self.enrolment_store)

    @cached_property
    def points(self) -> PointsService:
        """Loyalty points: earned and reversed from orders, the ledger read."""
        from chalicelib.domain.loyalty.available import AvailableListing
        from chalicelib.domain.loyalty.ledger import PointsService

        return PointsService(
            ledger=self.points_ledger,
            # policy none: lot days listed while a flow starts on points.available
            workspaces=AvailableListing(self.workspaces, self.flows),  # type: ignore[attr-defined]
            profiles=self.profile_store,
            tiers=self.tier_store,
        )

    @cached_property
    def tiers(self) -> TierService:
        """Loyalty tiers: up after an order's points, down on the daily evaluation, moves, preview."""
        from chalicelib.adapters.tier_run_store import DynamoTierRunStore
        from chalicelib.domain.loyalty.tier_service import TierService

        return TierService(
            store=self.tier_store,
            ledger=self.points_ledger,
            workspaces=self.workspaces,
            profiles=self.profile_store,
            runs=DynamoTierRunStore(self.crm),  # the daily job resumes where it stopped
        )

    @cached_property
    def points_expiry(self) -> PointsExpiry:
        """Loyalty points: the daily expiry of dated lots (docs/loyalty.md#expiry)."""
        from chalicelib.domain.loyalty.expiry import PointsExpiry

        return PointsExpiry(ledger=self.points_ledger, workspaces=self.workspaces)

    @cached_property
    def points_expiry_warnings(self) -> ExpiryWarnings:
        """Loyalty points: the `points.expiring` flows' warnings, 30 and 7 days before."""
        from chalicelib.domain.loyalty.expiry_warnings import ExpiryWarnings

        return ExpiryWarnings(
            ledger=self.points_ledger,
            workspaces=self.workspaces,
            profiles=self.profile_store,
            flows=self.flows,  # type: ignore[attr-defined]  # Container's (container/__init__.py)
        )

    @cached_property
    def points_available(self) -> AvailableMessages:
        """Loyalty points: the `points.available` flows, the day a lot becomes available."""
        from chalicelib.domain.loyalty.available import AvailableListing, AvailableMessages

        return AvailableMessages(
            ledger=self.points_ledger,
            workspaces=AvailableListing(self.workspaces, self.flows),  # type: ignore[attr-defined]
            flows=self.flows,  # type: ignore[attr-defined]  # Container's (container/__init__.py)
            profiles=self.profile_store,
        )

    @cached_property
    def points_adjustments(self) -> PointsAdjustments:
        """Loyalty points: an operator's manual adjustments (docs/loyalty.md)."""
        from chalicelib.domain.loyalty.adjust import PointsAdjustments

        return PointsAdjustments(
            ledger=self.points_ledger, workspaces=self.workspaces, profiles=self.profile_store
        )

    @cached_property
    def points_actions(self) -> PointsActions:
        """Loyalty points: bonuses for custom actions (docs/loyalty.md#bonuses)."""
        from chalicelib.domain.loyalty.bonuses import PointsActions

        return PointsActions(
            ledger=self.points_ledger, workspaces=self.workspaces, profiles=self.profile_store
        )

    @cached_property
    def points_redemptions(self) -> PointsRedemptions:
        """Loyalty points redeemed for a code in the customer's store or store credit."""
        from chalicelib.domain.loyalty.redeem import PointsRedemptions

        return PointsRedemptions(
            ledger=self.points_ledger,
            workspaces=self.workspaces,
            profiles=self.profile_store,
            sources=self.workspaces,
            discounts=self.store_discounts,
            coupons=self.coupons,
            announce=self.loyalty_triggers,  # type: ignore[attr-defined]  # Container's (container/__init__.py)
        )

    @cached_property
    def loyalty_summaries(self) -> LoyaltySummaries:
        """A customer's points and tier for the profile and for templates (docs/loyalty.md)."""
        from chalicelib.adapters.loyalty_items import DynamoLoyaltyItems
        from chalicelib.domain.loyalty.summary import LoyaltySummaries

        return LoyaltySummaries(
            ledger=self.points_ledger,
            tiers=self.tier_store,
            workspaces=self.workspaces,
            items=DynamoLoyaltyItems(self.crm),
            books=self.loyalty_books,  # a campaign batch's recipients in batched reads
        )

    @cached_property
    def ledger_merges(self) -> LedgerMerges:
        """Merged profiles' balances moved to the survivor (docs/loyalty.md#merged-profiles-one-balance)."""
        from chalicelib.domain.loyalty.merge import LedgerMerges

        return LedgerMerges(ledger=self.points_ledger, workspaces=self.workspaces)
