"""Recommended products as template values (docs/messaging.md, "Recommendations").

`recommendation_values` turns the recommender's products (domain/recommend/ports.py,
`Recommender.for_customer`) into every recommendation variable at once:

- `recommendations`: a `SafeHtml` block. In HTML, one small card per product (picture,
  linked title, price with its currency, the reason in small text), built here from
  escaped parts: a title, a reason or a URL can never add markup, and only `http(s)` URLs
  become links or pictures. In text, one line per product, `Title — price — URL`; in an
  SMS the same with hyphens (`Title - price - URL`: an em dash is not in the GSM-7 set,
  and one would make the whole SMS UCS-2, 70 characters a part instead of 160); in a
  subject, the titles comma-separated.
- `recommendation_<n>_title`, `_url`, `_image`, `_price`, `_reason` for n in 1..6: plain
  values for a layout of one's own (the renderer escapes them in HTML like any value).
- `recommended_products`: the titles, comma-separated.

Every key is set (empty when there are fewer products), so that a caller that computed
them is never asked again. A product without a title (the catalogue does not know it) is
left out: a message cannot show it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chalicelib.domain.messaging.render import SafeHtml
from chalicelib.domain.recommend.model import Reason, RecommendedProduct

MAX_SHOWN = 6  # products a message shows at most (and the indexed variables' range)
SMS_SHOWN = 3  # asked for an SMS whose step names no limit: each product is a line of ~100 characters
FIELDS = ("title", "url", "image", "price", "reason")
INDEXED = tuple(f"recommendation_{i}_{f}" for i in range(1, MAX_SHOWN + 1) for f in FIELDS)
RECOMMENDATION_VARIABLES = frozenset({"recommendations", "recommended_products", *INDEXED})


def shown(products: Iterable[RecommendedProduct], limit: int = MAX_SHOWN) -> list[RecommendedProduct]:
    """The products a message can show (those with a title), once each, best first."""
    out: list[RecommendedProduct] = []
    seen: set[str] = set()
    for p in products:
        if p.title and p.product_id not in seen and len(out) < min(limit, MAX_SHOWN):
            seen.add(p.product_id)
            out.append(p)
    return out


def price_text(product: RecommendedProduct) -> str:
    """`12.50 EUR` (the price is already rounded to the currency's minor units); empty when
    the catalogue has no price."""
    if product.price is None:
        return ""
    return f"{product.price} {product.currency or ''}".strip()


def _link(url: str | None) -> str | None:
    """The URL if it is a web page's (http or https), else None: no `javascript:` links."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def _card(p: RecommendedProduct) -> str:
    title, url, image = html.escape(p.title or ""), _link(p.url), _link(p.image)
    href = html.escape(url, quote=True) if url else None
    named = f'<a href="{href}" style="color:inherit">{title}</a>' if href else title
    picture = ""
    if image:
        src = html.escape(image, quote=True)
        img = f'<img src="{src}" alt="{title}" width="96" style="display:block;border:0">'
        picture = f'<a href="{href}">{img}</a>' if href else img
    price = price_text(p)
    lines = [f"<strong>{named}</strong>"]
    if price:
        lines.append(html.escape(price))
    if p.reason_text:
        lines.append(f'<small style="color:#666666">{html.escape(p.reason_text)}</small>')
    return (
        f'<tr><td style="padding:8px 12px 8px 0;vertical-align:top;width:96px">{picture}</td>'
        f'<td style="padding:8px 0;vertical-align:top">{"<br>".join(lines)}</td></tr>'
    )


def block(products: Sequence[RecommendedProduct]) -> SafeHtml:
    """The `recommendations` block of these products (already `shown`); empty for none."""
    if not products:
        return SafeHtml("", "", "")
    cards = "".join(_card(p) for p in products)
    markup = (
        '<table role="presentation" class="patron-recommendations" cellpadding="0" cellspacing="0" '
        f'border="0">{cards}</table>'
    )
    lines = [[x for x in (_flat(p.title), price_text(p), _link(p.url)) if x] for p in products]
    text = "\n".join(" — ".join(line) for line in lines)
    sms = "\n".join(" - ".join(line) for line in lines)  # GSM-7: an em dash would make it UCS-2
    return SafeHtml(markup, text, ", ".join(_flat(p.title) for p in products), sms)


def _flat(text: str | None) -> str:
    """On one line: a title's line breaks would break the one-line-per-product text."""
    return " ".join((text or "").split())


def recommendation_values(products: Iterable[RecommendedProduct]) -> dict[str, Any]:
    """Every recommendation variable of these products (at most `MAX_SHOWN` shown)."""
    chosen = shown(products)
    values: dict[str, Any] = dict.fromkeys(INDEXED, "")
    for i, p in enumerate(chosen, start=1):
        values[f"recommendation_{i}_title"] = p.title or ""
        values[f"recommendation_{i}_url"] = _link(p.url) or ""
        values[f"recommendation_{i}_image"] = _link(p.image) or ""
        values[f"recommendation_{i}_price"] = price_text(p)
        values[f"recommendation_{i}_reason"] = p.reason_text
    values["recommendations"] = block(chosen)
    values["recommended_products"] = ", ".join(p.title or "" for p in chosen)
    return values


def override(
    offer: str, after: str, name: str, names: Mapping[str, str], page: Mapping[str, str | None] | None = None
) -> RecommendedProduct:
    """A flow's hand-written pair (bought `after`: offer `offer`, called `name`) as a
    recommendation with reason `override`; `names` gives product titles by id (the
    reason's anchor), `page` the catalogue's `url` and `image` of `offer` when known."""
    reason = Reason("override", product_id=after)
    return RecommendedProduct(
        product_id=offer,
        score=1.0,
        reason=reason,
        reason_text=reason.text(names),
        title=name,
        url=(page or {}).get("url"),
        image=(page or {}).get("image"),
    )
