"""A workspace's settings as the domain reads them: a value type, imported by every context."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from chalicelib.domain.model_params import ModelParams
from chalicelib.domain.money import round_money
from chalicelib.domain.scoring import RfmEdges
from chalicelib.domain.tier_rules import TierRules


@dataclass(frozen=True)
class WorkspaceSettings:
    workspace_id: str
    currency: str  # "": pending, the first order processed sets it (ProfileService.apply_order)
    id_salt: str
    rates: dict[str, Decimal] = field(default_factory=dict)  # 1 unit of key = rate x currency
    # Set nightly (chalicelib.domain.nightly.ScoringService): RFM quintile edges, store rhythm.
    rfm_edges: RfmEdges | None = None
    rhythm_days: float | None = None
    # Set nightly: the fitted BG/NBD + Gamma-Gamma parameters (chalicelib.domain.predict).
    model: ModelParams | None = None
    # Messaging: the workspace's name, the transactional notifications switched on, senders.
    name: str = ""
    notifications: frozenset[str] = frozenset()
    sender_email: str = ""
    sms_sender_id: str = ""
    # Engagement tiers' thresholds (chalicelib.domain.messaging.engagement.Rules; empty:
    # the defaults) and the days after a click an order is attributed to it.
    engagement_rules: dict[str, int] = field(default_factory=dict)
    attribution_days: int = 5
    # Sending rules (chalicelib.domain.messaging.service.Policy; `patron workspace sending`):
    # quiet hours in the customer's local time, daily caps by engagement tier (empty: the
    # defaults), a low-engagement customer's spacing, the zone of customers without one.
    quiet_start: int = 21
    quiet_end: int = 9
    daily_caps: dict[str, int] = field(default_factory=dict)
    low_every_days: int = 3
    default_timezone: str = "UTC"
    # Points (chalicelib.domain.loyalty; `loyalty` block, off by default)
    loyalty: LoyaltyRules = field(default_factory=lambda: LoyaltyRules())
    # Tiers (chalicelib.domain.loyalty.tiers; `tiers` block, none by default). Their
    # multipliers are the one source of `loyalty.tier_multipliers` (the store fills it).
    tiers: TierRules = field(default_factory=lambda: TierRules())
    # No marketing (campaigns, flows) to a customer with an open complaint (docs/service.md)
    no_marketing_on_open_complaint: bool = True

    def __post_init__(self) -> None:
        if self.tiers.tiers:  # the tiers' multipliers are the earning's, whatever `loy` holds
            loyalty = replace(self.loyalty, tier_multipliers=self.tiers.multipliers())
            object.__setattr__(self, "loyalty", loyalty)

    def convert(self, amount: Decimal, currency: str | None) -> Decimal | None:
        if currency is None or currency == self.currency:
            return amount
        rate = self.rates.get(currency)
        if rate is None:
            return None
        return round_money(amount * rate, self.currency)


IMPORT_POLICIES = ("none", "historical")  # LoyaltyRules.import_policy


@dataclass(frozen=True)
class ActionCap:
    """At most `max` bonuses of an action per customer and period (`day`, `month`, `year`
    of the UTC calendar, or `lifetime`)."""

    max: int
    period: str


@dataclass(frozen=True)
class LoyaltyRules:
    """A workspace's points rules (`loyalty` in its settings; docs/loyalty.md). Off by
    default: nothing is earned until a workspace switches it on.

    Earning: floor(earning base x points_per_unit x the tier's multiplier) whole points for a
    paid live order, where the earning base is the part of the order `earn_on` names (by
    default its total as paid, shipping and tax included) in the workspace currency.
    Points stay pending until the start of the UTC day after payment + return_window_days.
    """

    enabled: bool = False
    points_per_unit: Decimal = Decimal(1)  # points per 1 unit of the workspace currency
    return_window_days: int = 30
    # tiers come later: a customer without a tier earns at multiplier 1
    tier_multipliers: dict[str, Decimal] = field(default_factory=dict)
    # a history import's orders: "none" earn nothing, "historical" one dated entry per
    # customer at the import's end (domain/loyalty/history.py; docs/loyalty.md)
    import_policy: str = "none"
    # Bonuses for actions (chalicelib.domain.loyalty.rules, checked there): points per action,
    # available at once; an action without a bonus earns nothing
    bonuses: dict[str, int] = field(default_factory=dict)
    # caps per action and period (an action without a cap has none)
    caps: dict[str, ActionCap] = field(default_factory=dict)
    # what an order earns on (chalicelib.domain.loyalty.rules.earning_base): "total" (as
    # paid), "subtotal" (after discounts), "subtotal_shipping", "subtotal_tax"
    earn_on: str = "total"
    # redemption (docs/loyalty.md#redemption): money per point in the workspace currency, the
    # fewest points one redemption spends, a store code or store credit, a code's validity
    redeem_value_per_point: Decimal = Decimal("0.01")
    redeem_min_points: int = 100
    redeem_as: str = "code"  # "code" | "store_credit"
    redeem_code_valid_days: int = 90
    # expiry (docs/loyalty.md#expiry): "none", or "lots" (each earned lot expires
    # expiry_days after the day its points became available)
    expiry: str = "none"
    expiry_days: int = 365
    # not stored: set on the settings the earning reads while an enabled flow's trigger is
    # `points.available` (domain/loyalty/available.py, AvailableListing)
    announces_available: bool = False

    @property
    def lists_lot_days(self) -> bool:
        """Whether credits list their lot days (the expiry sweep's and `points.available`'s
        index, docs/loyalty.md#expiry): while points expire, or while a flow announces
        points becoming available."""
        return self.expiry != "none" or self.announces_available

    def rate(self, tier: str | None = None) -> Decimal:
        """Points per unit of net spend for a customer of `tier`."""
        return self.points_per_unit * self.tier_multipliers.get(tier or "", Decimal(1))
