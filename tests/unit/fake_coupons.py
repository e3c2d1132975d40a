"""An in-memory coupon ledger (the CouponLedger and CouponListing ports), beside the flow
tests' FakeCoupons: the same issued coupons, and the statistics counters it moves."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal

from chalicelib.domain.messaging.flow_definition import IssuedCoupon


class FakeCouponLedger:
    def __init__(self, issued: dict[str, IssuedCoupon] | None = None) -> None:
        self.issued: dict[str, IssuedCoupon] = issued if issued is not None else {}
        self.stats: dict[str, dict[str, int | Decimal]] = defaultdict(lambda: defaultdict(int))

    def issue(self, ws: str, coupon: IssuedCoupon) -> IssuedCoupon:
        return self.issued.setdefault(coupon.code, coupon)

    def get(self, workspace_id: str, code: str) -> IssuedCoupon | None:
        return self.issued.get(code)

    def _count(self, scope: str | None, counts: dict[str, int | Decimal]) -> None:
        if scope:
            for name, value in counts.items():
                self.stats[scope][name] += value

    def redeem(
        self, workspace_id: str, code: str, order_key: str, revenue: Decimal, at: str, scope: str | None
    ) -> bool:
        held = self.issued.get(code)
        if held is None or held.order_key is not None:
            return False
        self.issued[code] = dataclasses.replace(held, order_key=order_key, redeemed_at=at, revenue=revenue)
        self._count(scope, {"codes_redeemed": 1, "coupon_revenue": revenue})
        return True

    def revise(
        self,
        workspace_id: str,
        code: str,
        order_key: str,
        before: Decimal,
        revenue: Decimal,
        scope: str | None,
    ) -> bool:
        held = self.issued.get(code)
        if held is None or held.order_key != order_key or held.revenue != before:
            return False
        self.issued[code] = dataclasses.replace(held, revenue=revenue)
        self._count(scope, {"coupon_revenue": revenue - before})
        return True

    def unredeem(
        self, workspace_id: str, code: str, order_key: str, before: Decimal, scope: str | None
    ) -> bool:
        held = self.issued.get(code)
        if held is None or held.order_key != order_key or held.revenue != before:
            return False
        self.issued[code] = dataclasses.replace(held, order_key=None, redeemed_at=None, revenue=None)
        self._count(scope, {"codes_redeemed": -1, "coupon_revenue": -before})
        return True

    def page(
        self,
        workspace_id: str,
        status: str | None,
        key_prefix: str | None,
        now: str,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[IssuedCoupon], str | None]:
        codes = sorted(c for c in self.issued if cursor is None or c > cursor)
        read, last = codes[:limit], (codes[limit - 1] if len(codes) > limit else None)
        found = [
            self.issued[c]
            for c in read
            if (status is None or self.issued[c].status(now) == status)
            and (key_prefix is None or self.issued[c].message_key.startswith(key_prefix))
        ]
        return found, last
