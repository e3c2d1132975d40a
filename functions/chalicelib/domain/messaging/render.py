"""A safe template renderer: placeholders filled from a fixed set of variables, nothing else.

    Hi {{ first_name | default: 'there' }}, your order {{ order_number }} has shipped.

A template is text with `{{ variable }}` placeholders, each with an optional default. There
is no expression language, no attribute access and no code (`product.title` is a name like
any other, not an attribute): template text written by a
marketer can only ever print the listed variables. Unknown variables and malformed
placeholders are refused when the template is saved, with the position of the offending
text. In HTML bodies every value is HTML-escaped; text and SMS bodies are left as is.

One kind of value is not escaped: `SafeHtml`, markup Patron builds itself from escaped
parts (the `recommendations` block, product_block.py), never from a marketer's or a
customer's text. It carries its own HTML, text, SMS and one-line forms, and the renderer
picks the one the body needs (by the `field` it renders: `subject`, `sms`, else text).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import BadRequest

VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name",
    "last_name": "the customer's last name",
    "store_name": "the workspace's name",
    "order_number": "the order's number as the storefront shows it",
    "order_total": "the order's total with its currency",
    "tracking_url": "the shipment's tracking link or number",
    "refund_amount": "the refunded amount with its currency",
    "return_name": "a return's name as the storefront shows it (`#1001-R1`), else `for order` and its number",
    "last_product": "the last product the customer bought",
    "recommended_products": "products recommended for the customer, their names comma-separated",
    "recommendations": "the customer's recommended products as a block: in HTML small product cards "
    "(picture, linked title, price, the reason in small text), in text one line per product "
    "(`Title — price — URL`; in SMS with hyphens), in a subject the titles comma-separated",
    **{
        f"recommendation_{i}_{field}": f"the {ordinal} recommended product's {what}"
        for i, ordinal in enumerate(("first", "second", "third", "fourth", "fifth", "sixth"), start=1)
        for field, what in (
            ("title", "title"),
            ("url", "page"),
            ("image", "main image URL"),
            ("price", "price with its currency"),
            ("reason", "reason, e.g. `bought together with X`"),
        )
    },
    "tier": "the customer's loyalty tier (empty without one)",
    "tier_benefits": "the tier's benefits in a few words, e.g. `2x points, free shipping, 10% off`",
    "points": "the customer's loyalty points available today",
    "points_pending": "the customer's loyalty points still pending (inside the return window)",
    "points_expiring": "the points about to expire (a `points.expiring` flow)",
    "points_expiry_date": "the day they expire, YYYY-MM-DD (a `points.expiring` flow)",
    "points_redeemed": "the points a redemption spent (a `points.redeemed` flow)",
    "redeemed_value": "the redemption's money value with its currency (a `points.redeemed` flow)",
    "points_reversed": "the points a refund or cancellation took back (a `points.reversed` flow)",
    "coupon_code": "a unique coupon code for this message; a `points.redeemed` flow: the redemption's code",
    "coupon_expires": "when the coupon expires, in the customer's local time",
    "unsubscribe_url": "the signed one-click unsubscribe link",
    "join_url": "a guest's signed one-tap link to join the loyalty programme (empty for a member)",
    "csat_url": "a satisfaction survey's signed link to a page with the five scores (its SMS)",
    **{
        f"csat_url_{s}": f"a satisfaction survey's signed one-tap link answering {s} (of 5)"
        for s in range(1, 6)
    },
    "checkout_url": "the link back to an abandoned checkout",
    "checkout_total": "an abandoned checkout's total with its currency",
    "reply_body": "a service desk reply's text (the `txn_ticket_reply` template)",
    "ticket_subject": "the ticket's subject (the `txn_ticket_reply` template)",
    "product.title": "the message's product by its catalogue name (a campaign's featured one; "
    "in flows the checkout's or latest order's first)",
    "product.url": "that product's storefront page",
    "product.image": "that product's main image URL",
}
_PLACEHOLDER = re.compile(
    r"\{\{\s*(?P<name>product\.[a-z_]+|[A-Za-z_][A-Za-z0-9_]*)\s*"  # product.*: one level, no more
    r"(?:\|\s*default\s*:\s*'(?P<default>[^'{}]*)'\s*)?\}\}"
)
_OPEN = re.compile(r"\{\{|\}\}")


@dataclass(frozen=True)
class SafeHtml:
    """Markup the renderer prints as it is in an HTML body: built only by
    product_block.block from escaped parts (a test holds every other module to that).
    `text` is what a text body prints, `sms` an SMS body, `inline` a subject."""

    html: str
    text: str
    inline: str
    sms: str = ""

    def __bool__(self) -> bool:
        return bool(self.html or self.text)


@dataclass(frozen=True)
class Part:
    literal: str
    name: str | None = None
    default: str = ""


def parse(text: str, field: str = "body") -> list[Part]:
    """Split a template into literals and placeholders; refuse anything else in braces."""
    parts: list[Part] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        _check_literal(text, position, match.start(), field)
        name = match.group("name")
        if name not in VARIABLES:
            raise BadRequest(
                f"unknown variable {name!r} in {field} at position {match.start()}",
                {"field": field, "position": match.start(), "token": name, "expected": sorted(VARIABLES)},
            )
        parts.append(Part(text[position : match.start()]))
        parts.append(Part("", name, match.group("default") or ""))
        position = match.end()
    _check_literal(text, position, len(text), field)
    parts.append(Part(text[position:]))
    return [p for p in parts if p.literal or p.name]


def _check_literal(text: str, start: int, end: int, field: str) -> None:
    stray = _OPEN.search(text, start, end)
    if stray:
        raise BadRequest(
            f"malformed placeholder in {field} at position {stray.start()}: "
            "write {{ variable }} or {{ variable | default: 'text' }}",
            {"field": field, "position": stray.start(), "token": stray.group()},
        )


def render(text: str, values: dict[str, Any], escape_html: bool = False, field: str = "body") -> str:
    out = []
    for part in parse(text, field):
        if part.name is None:
            out.append(part.literal)
            continue
        value = values.get(part.name)
        if isinstance(value, SafeHtml) and value:
            forms = {"subject": value.inline, "sms": value.sms or value.text}
            out.append(value.html if escape_html else forms.get(field, value.text))
            continue
        empty = value is None or value == "" or isinstance(value, SafeHtml)
        shown = part.default if empty else str(value)
        out.append(html.escape(shown) if escape_html else shown)
    return "".join(out)


def variables_used(*texts: str) -> set[str]:
    return {p.name for text in texts for p in parse(text) if p.name}
