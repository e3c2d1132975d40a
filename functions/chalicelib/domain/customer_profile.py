"""A customer's profile as the domain reads and writes it: named fields, typed values.

The stored form (short attributes, key layout, index keys; docs/data-model.md,
"Profiles") is the adapters' business: `chalicelib.adapters.profile_items` maps a
stored item to a `CustomerProfile` and back, one attribute per field, so a profile read
and written unchanged is byte-for-byte the item it was. Attributes this module does not
name (written by an older or newer release) travel in `unknown`, untouched and unread.

Optional fields are None when the stored item does not hold the attribute; the writer
(`chalicelib.domain.profile_model.Profile`) keeps that distinction, because an
attribute written where there was none costs bytes (write units) on every later write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.order_summary import Summary
from chalicelib.domain.timemath import parse_iso


def entry_source(order_key: str) -> str:
    """The source of an order entry's key (`<source id>.<order id>`)."""
    return order_key.split(".", 1)[0]


@dataclass
class OrderEntry:
    """One recent order as the profile keeps it (at most RECENT_ORDERS of them)."""

    version: int
    placed_at: int | None = None  # epoch seconds (0 is an order placed at the epoch)
    counted: bool = True  # False: cancelled, or only a refund seen so far
    amount: Decimal | None = None  # in the workspace currency; None: no rate
    refunded: Decimal | None = None  # in the workspace currency, only when some
    currency: str | None = None  # the order's currency when not the workspace's
    original_amount: Decimal | None = None
    original_refunded: Decimal | None = None
    channel: str | None = None  # None: web
    products: list[str] | None = None
    categories: list[str] | None = None
    title: str | None = None  # a counted order's first line-item title (`last_product`)
    refunded_products: list[str] | None = None  # of `products`, those its refunds took back
    # how many of `products` are the lines' own ids (the rest: SKUs beside them); None when
    # all are (or on an entry written before it was kept: then all stand in)
    item_count: int | None = None

    @property
    def channel_name(self) -> str:
        return self.channel or "web"

    @property
    def net_value(self) -> Decimal:
        """An order's value for the models: net of refunds, 0 without a converted amount."""
        return (self.amount or Decimal(0)) - (self.refunded or Decimal(0))


@dataclass
class ChannelConsent:
    """Marketing consent on one channel as last reported (or withdrawn by Patron)."""

    state: str  # a ConsentState value
    at: str  # ISO UTC text of when it was reported (compared as text: fixed width)
    withdrawn_by: str | None = None  # why Patron withdrew it (unsubscribe link, stop, bounce)
    unknown: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Enrolment:
    """Membership as last recorded explicitly (an enrolment or a leaving through the API or
    the CLI; a flow invite later): the latest such fact wins (docs/loyalty.md#membership)."""

    kind: str  # "enrol" or "leave": the latest explicit fact; "account": a storefront member numbered
    at: str  # ISO UTC text of when it was recorded (compared as text: fixed width)
    channel: str  # the enrolment's channel (storefront, api, cli); a leaving's: who recorded it
    number: str | None = None  # the member number, kept after leaving (never reused)


@dataclass(frozen=True)
class EnrolmentAudit:
    """One enrolment or leaving as recorded (who, when, why): kept next to the profile."""

    workspace_id: str
    customer_id: str
    kind: str
    at: str
    channel: str
    by: str  # `cli`, or `key:` and the first 12 hex digits of the API key's SHA-256
    number: str | None
    reason: str | None


@dataclass
class LatestTitles:
    """`last_product` as releases before the entries' titles kept it (stored `lpt`): an
    order's time and line titles, read from old items until an entry supersedes it."""

    placed_at: int  # epoch seconds
    titles: list[str]


@dataclass
class ProfileFigures:
    """Aggregates derived from every order entry on each write (never incremented)."""

    orders: int | None = None  # orders that count
    currency: str | None = None  # the workspace currency the amounts are in
    spent: Decimal | None = None
    refunded: Decimal | None = None
    net: Decimal | None = None
    average_order_value: Decimal | None = None
    first_order_at: str | None = None  # ISO UTC text
    last_order_at: str | None = None
    average_gap_days: Decimal | None = None
    unconverted: dict[str, Decimal] | None = None  # amounts per currency with no rate
    channels: set[str] | None = None
    sources: set[str] | None = None


@dataclass
class CustomerProfile:
    """One customer's profile: identities, person data, consent, orders and figures."""

    workspace_id: str
    customer_id: str
    created_at: str | None = None  # ISO UTC text; the earliest of its records
    rev: int | None = None  # optimistic-lock version; None on a profile never written
    updated_at: str | None = None
    person_at: str | None = None  # the time of the newest person data taken
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    external_ids: set[str] = field(default_factory=set)
    email: str | None = None
    phone: str | None = None
    phone_as_written: str | None = None  # a phone not valid for its country, as given
    first_name: str | None = None
    last_name: str | None = None
    birthday: str | None = None  # MM-DD (or as the storefront gave it)
    timezone: str | None = None  # IANA
    member: bool | None = None  # a record reported a storefront account (None: none said)
    enrolment: Enrolment | None = None  # explicit membership facts outrank `member`
    email_consent: ChannelConsent | None = None
    sms_consent: ChannelConsent | None = None
    merged_ids: list[str] | None = None  # customer ids merged into this profile
    latest_titles: LatestTitles | None = None
    orders: dict[str, OrderEntry] = field(default_factory=dict)  # recent, by order key
    moved: Summary | None = None  # what the entries moved to their own items add up to
    figures: ProfileFigures = field(default_factory=ProfileFigures)
    erased_sources: set[str] | None = None  # sources kept listed after a source erasure
    indexed_phone: str | None = None  # the phone the by-phone index finds it by
    indexed_external_id: str | None = None  # the platform id the by-ext index finds it by
    # its last write came from a history import: its flow triggers and segment events stay quiet
    imported: bool = False
    # Patron's tags (the API, the CLI), never the ingest's; the customer list's tag filter finds them
    tags: set[str] = field(default_factory=set)
    unknown: Mapping[str, Any] = field(default_factory=dict)  # attributes not named here

    def identity_keys(self) -> set[str]:
        return (
            {"email:" + e for e in self.emails}
            | {"phone:" + p for p in self.phones}
            | {"ext:" + x for x in self.external_ids}
        )

    def consent(self, channel: str) -> ChannelConsent | None:
        """`email` or `sms`."""
        return self.email_consent if channel == "email" else self.sms_consent

    def subscribed(self, channel: str) -> bool:
        found = self.consent(channel)
        return found is not None and found.state == "subscribed"

    def address(self, channel: str) -> str | None:
        """Where a message on the channel goes: the latest email or phone."""
        return self.email if channel == "email" else self.phone

    @property
    def is_member(self) -> bool:
        """The latest explicit fact decides; without one, a storefront account seen."""
        if self.enrolment is not None:
            return self.enrolment.kind != "leave"  # enrol, or account (a storefront member numbered)
        return bool(self.member)

    @property
    def orders_count(self) -> int:
        return int(self.figures.orders or 0)

    @property
    def created(self) -> datetime | None:
        return parse_iso(self.created_at)

    @property
    def first_order(self) -> datetime | None:
        return parse_iso(self.figures.first_order_at)

    @property
    def last_order(self) -> datetime | None:
        return parse_iso(self.figures.last_order_at)

    def entry_partitions(self) -> list[str]:
        """Customer ids under whose partitions the profile's moved entries live: its own
        and those of the profiles merged into it."""
        return list(dict.fromkeys([self.customer_id, *(self.merged_ids or ())]))

    def person_ids(self) -> list[str]:
        """Its own id and the ids merged into it."""
        return self.entry_partitions()

    # -- readers helper (issue 13): what the segment facts, the API views and the
    # reports read of a profile's orders, moved entries included ---------------------
    def products_bought(self) -> list[str]:
        """Products of the orders that count, moved entries included, sorted."""
        moved = self.moved.products if self.moved is not None else set()
        return sorted(set(moved) | {p for e in self.orders.values() if e.counted for p in e.products or ()})

    def categories_bought(self) -> list[str]:
        """Categories of the orders that count, moved entries included, sorted."""
        moved = self.moved.categories if self.moved is not None else set()
        return sorted(set(moved) | {c for e in self.orders.values() if e.counted for c in e.categories or ()})

    def order_sources(self) -> set[str]:
        """Sources of every order entry (moved ones included)."""
        moved = self.moved.sources if self.moved is not None else set()
        return set(moved) | {entry_source(k) for k in self.orders}

    def order_channels(self) -> set[str]:
        """Channels of the orders that count (moved ones included)."""
        moved = self.moved.channels if self.moved is not None else set()
        return set(moved) | {e.channel_name for e in self.orders.values() if e.counted}

    def orders_held(self) -> int:
        """Order entries of the profile: the recent ones and the moved ones."""
        return len(self.orders) + (self.moved.entries if self.moved is not None else 0)

    @property
    def average_gap(self) -> float | None:
        """Average days between orders, as a float (None: fewer than two timed orders)."""
        gap = self.figures.average_gap_days
        return None if gap is None else float(gap)

    def latest_titled(self) -> tuple[int, str] | None:
        """(placed_at, first title) of the latest counted timed order with a title, moved
        entries included (equal times: the greater title): a function of the orders'
        states, whatever order they arrived in."""
        found = self.moved.latest if self.moved is not None else None
        for e in self.orders.values():
            if e.counted and e.title is not None and e.placed_at is not None:
                found = max(found or (e.placed_at, e.title), (e.placed_at, e.title))
        return found

    @property
    def last_product(self) -> str | None:
        """The first title of the latest counted order; an older release's `latest_titles`
        only while no entry's title is as late."""
        found, legacy = self.latest_titled(), self.latest_titles
        if legacy is not None and legacy.titles and (found is None or legacy.placed_at > found[0]):
            return str(legacy.titles[0])
        return found[1] if found is not None else None
