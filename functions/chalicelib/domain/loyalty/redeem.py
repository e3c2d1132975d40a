"""Redemption: points spent, oldest lots first, for a single-use code in the customer's
store or for store credit (docs/loyalty.md#redemption).

The redemption is the entry (`redeem`, Idempotency-Key, `redeem`), written once in one
transaction with the spend of its lots (domain/loyalty/lots.py): the entry records the
points, the lots it took, the money value (`amount` in `currency`, the points x the rule's
value per point rounded to the currency's minor units) and, for a code, the code and its
source. The code is derived from the workspace's salt and the key, so a retry after a
crash asks the store for the same code (the client treats "code taken" as created): one
code per key. A code redemption is written `pending`; once the store made the code it is
marked `made` and only then announced (`points.redeemed`, domain/loyalty/flow_events.py). If
the store fails for good, a compensating entry (`redeem`, key, `restore`) gives back the
same lots (and any debt it settled), once, marking it `given_back` (a lot due meanwhile is
listed for the expiry sweep still to run: domain/loyalty/expiry.py): `made` and
`given_back` exclude each other. The answer is then 502 `store_failed` with the points
restored. A replay of the key answers the same result; the same key with
another body is refused (`idempotency_key_reused`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.domain.customer_profile import CustomerProfile, entry_source
from chalicelib.domain.errors import Conflict, NotFound, StoreFailed
from chalicelib.domain.loyalty.adjust import MAX_POINTS, PointsRefused, loyalty_on, spend_entry
from chalicelib.domain.loyalty.expiry import list_credited_lots
from chalicelib.domain.loyalty.follow import write_followed
from chalicelib.domain.loyalty.lots import restore
from chalicelib.domain.loyalty.model import GIVEN_BACK, MADE, PENDING, REDEEM, RESTORE, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.ports import LoyaltySettings, RedemptionAnnouncer, RedemptionLedger
from chalicelib.domain.messaging.flow_definition import IssuedCoupon
from chalicelib.domain.messaging.flow_engine import coupon_code, store_customer
from chalicelib.domain.messaging.ports import CouponStore, SourceReader, StoreDiscounts
from chalicelib.domain.models import Source
from chalicelib.domain.money import round_money
from chalicelib.domain.ports import ProfileReader
from chalicelib.domain.store_admin import AdminApiError
from chalicelib.domain.timemath import iso

ATTEMPTS = 5  # a lot or the debt moved between the read and the spend: read again
CODE_PREFIX = "PTS-"
STORE_CREDIT = "store_credit"


class RedeemIn(BaseModel):
    """The body of `POST /customers/{id}/points/redeem`: whole points (not money)."""

    model_config = ConfigDict(extra="forbid")
    points: StrictInt = Field(ge=1, le=MAX_POINTS)
    source: str | None = Field(default=None, min_length=1, max_length=64)


class PointsRedemptions:
    def __init__(
        self,
        ledger: RedemptionLedger,
        workspaces: LoyaltySettings,
        profiles: ProfileReader,
        sources: SourceReader | None = None,
        discounts: StoreDiscounts | None = None,
        coupons: CouponStore | None = None,
        announce: RedemptionAnnouncer | None = None,
    ) -> None:
        self.ledger = ledger
        self.workspaces = workspaces
        self.profiles = profiles
        self.sources = sources
        self.discounts = discounts
        self.coupons = coupons  # a code made is listed, so an order using it is tracked
        self.announce = announce  # `points.redeemed` once the code is made (store credit: the stream)

    def redeem(
        self, workspace_id: str, customer_id: str, body: RedeemIn, idempotency_key: str, now: datetime
    ) -> LedgerEntry:
        """The redemption's entry: written now, or the one a replay of the key wrote."""
        settings = loyalty_on(self.workspaces, workspace_id)
        rules = settings.loyalty
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        cid = profile.customer_id  # a merged-away id redeems from the surviving profile
        key = EntryKey(REDEEM, idempotency_key, REDEEM)
        stored = self._stored(profile, key)
        if stored is not None:
            return self._replayed(stored, body, profile, now)
        if body.points < rules.redeem_min_points:
            raise PointsRefused(
                f"a redemption spends at least {rules.redeem_min_points} points", "below_minimum"
            )
        source = None
        if rules.redeem_as != STORE_CREDIT:
            source = self._store(workspace_id, body.source, profile)
        amount = round_money(body.points * rules.redeem_value_per_point, settings.currency)
        entry = LedgerEntry(
            workspace_id=workspace_id,
            customer_id=cid,
            key=key,
            points=-body.points,
            at=now,
            amount=amount,
            currency=settings.currency,
            code=None
            if source is None
            else coupon_code(settings.id_salt, f"{workspace_id}|{key}", CODE_PREFIX),
            store_source=None if source is None else source.source_id,
            available_on=None
            if source is None
            else (now + timedelta(days=rules.redeem_code_valid_days)).date(),  # the code's last day
            state=None if source is None else PENDING,  # final once the store made the code
        )
        for _ in range(ATTEMPTS):
            planned = spend_entry(self.ledger, entry, body.points, now.date())
            if self.ledger.adjust(planned):
                return self._in_store(planned, profile, source, now)
            stored = self.ledger.entry(workspace_id, cid, key)
            if stored is not None:  # a concurrent request with the same key
                return self._replayed(stored, body, profile, now)
        raise Conflict("the balance kept changing; try again with the same Idempotency-Key")

    def _stored(self, profile: CustomerProfile, key: EntryKey) -> LedgerEntry | None:
        """The key's redemption: on the customer's ledger, or on the ledger of an id merged
        into them since (a replay after a merge: its entries stay where they were written)."""
        for cid in profile.person_ids():
            stored = self.ledger.entry(profile.workspace_id, cid, key)
            if stored is not None:
                return stored
        return None

    def _store(self, workspace_id: str, named: str | None, profile: CustomerProfile) -> Source:
        """The store the code is made in: the one named, else the customer's latest order's."""
        source_id = named or _latest_source(profile)
        source = None
        if source_id and self.sources is not None:
            source = self.sources.source(workspace_id, source_id)
        if source is None or not source.admin_ref or self.discounts is None:
            raise PointsRefused("no connected store to make the code in", "no_store")
        return source

    def _in_store(
        self, entry: LedgerEntry, profile: CustomerProfile, source: Source | None, now: datetime
    ) -> LedgerEntry:
        """Make the entry's code in the store (again, on a replay: the store answers "taken");
        on a failure for good, give the points back and answer 502."""
        if entry.code is None or source is None or self.discounts is None:
            return entry
        coupon = IssuedCoupon(
            code=entry.code,
            customer_id=entry.customer_id,
            message_key=f"redeem:{entry.key.external_id}",
            expires_at=f"{(entry.available_on or entry.at.date()).isoformat()}T23:59:59Z",  # UTC
            amount_off=entry.amount,
            currency=entry.currency,
            issued_at=iso(entry.at),
            source_id=source.source_id,
        )
        try:
            made = self.discounts.create(source, coupon, store_customer(profile, source), profile.email)
        except AdminApiError as exc:
            if not self._give_back(entry, now):
                settled = self.ledger.entry(entry.workspace_id, entry.customer_id, entry.key)
                if settled is not None and settled.state == MADE:  # another request made it
                    return self._made(settled)
            raise StoreFailed(
                f"the store did not make the code; the points were given back: {exc.message}",
                {"reason": "store_failed", "restored_points": -entry.points},
            ) from exc
        if self.coupons is not None:  # written once (a replay gets the first)
            self.coupons.issue(
                entry.workspace_id, replace(coupon, store_id=made.store_id or "exists", registered=True)
            )
        return self._made(entry)

    def _made(self, entry: LedgerEntry) -> LedgerEntry:
        """The code exists: the entry marked `made` (once, whichever request does it), then
        announced (a replay announces again: the flow's run is keyed, so it starts once).
        Given back meanwhile (a concurrent request saw the store fail): 502."""
        if not self.ledger.confirm(entry):
            stored = self.ledger.entry(entry.workspace_id, entry.customer_id, entry.key)
            if stored is None or stored.state == GIVEN_BACK:
                raise StoreFailed(
                    "the store did not make the code; the points were given back",
                    {"reason": "store_failed", "restored_points": -entry.points},
                )
        made = replace(entry, state=MADE)
        if self.announce is not None:
            self.announce.on_entry(made)
        return made

    def _give_back(self, entry: LedgerEntry, now: datetime) -> bool:
        """The keyed compensating entry: the same lots back, once (a replay adds nothing),
        the redemption marked `given_back`; False when it was made meanwhile. When a merge
        closed the balance meanwhile, the entry follows it to the survivor (follow.py): the
        RESTORE on the open balance's ledger, the redemption marked on its own, at once."""
        plan = restore(entry)
        back = replace(
            entry,
            key=EntryKey(REDEEM, entry.key.external_id, RESTORE),
            points=-entry.points,
            at=now,
            lots=plan.lots,
            debt=plan.debt,
            state=None,
        )
        settings = self.workspaces.settings(entry.workspace_id)

        def write(restored: LedgerEntry) -> bool:
            if settings is not None:  # a lot due already is listed where a sweep still reads it
                list_credited_lots(self.ledger, settings.loyalty, restored, now.date())
            return self.ledger.give_back(entry, restored)

        def settled(_: LedgerEntry) -> bool:  # made or given back by another request
            stored = self.ledger.entry(entry.workspace_id, entry.customer_id, entry.key)
            return stored is None or stored.state not in (None, PENDING)

        return write_followed(self.ledger, back, write, ATTEMPTS, meanwhile=settled) is not None

    def _replayed(
        self, stored: LedgerEntry, body: RedeemIn, profile: CustomerProfile, now: datetime
    ) -> LedgerEntry:
        if -stored.points != body.points or (body.source and body.source != stored.store_source):
            raise PointsRefused(
                "this Idempotency-Key was used for another redemption", "idempotency_key_reused"
            )
        if stored.state == GIVEN_BACK or (  # (its RESTORE may be on a merge's survivor)
            stored.state is None  # (written before redemptions had a state: the RESTORE read)
            and self.ledger.entry(stored.workspace_id, stored.customer_id, replace(stored.key, kind=RESTORE))
        ):
            raise StoreFailed(
                "the store did not make the code; the points were given back",
                {"reason": "store_failed", "restored_points": -stored.points},
            )
        source = None
        if stored.store_source and self.sources is not None:
            source = self.sources.source(stored.workspace_id, stored.store_source)
        return self._in_store(stored, profile, source, now)


def _latest_source(profile: CustomerProfile) -> str | None:
    """The source of the customer's most recent order (by when it was placed)."""
    if not profile.orders:
        known = sorted(profile.order_sources())
        return known[0] if known else None
    latest = max(profile.orders.items(), key=lambda kv: (kv[1].placed_at or 0, kv[0]))
    return entry_source(latest[0])
