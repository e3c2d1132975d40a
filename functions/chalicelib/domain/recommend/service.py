"""The recommendation service: a customer's ranked, filtered and named products (the
`Recommender` port messages use, and `GET /customers/{id}/recommendations`), and a product's
related and complementary ones (`GET /products/{id}/related`); docs/recommendations.md, "API".

For a customer: the profile's order entries (recent and moved) -> baskets -> the anchors
(`rank.anchors`) and the products bought (repeat purchase), whose stored signals are read in
one slice (at most 100 ids) with the popular list -> `rank` -> one catalogue read of the top
candidates and their reasons' anchors (at most 100 keys over the workspace's sources) ->
filters -> `RecommendedProduct`s, the reason worded with the catalogue's titles.

A candidate is dropped when the catalogue says it is deleted, unpublished (a status other
than Shopify's `active` or WooCommerce's `publish`) or out of stock (every variant's
inventory known and at most 0), when the placement's category rules refuse its categories
(the catalogue's, else the model's), or when it is in `exclude`. A product the catalogue
does not know is kept, unnamed (title, page, picture and price null): a store that never
sent its products still gets recommendations by id.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.catalogue import StoredProduct
from chalicelib.domain.customer_profile import entry_source
from chalicelib.domain.errors import NotFound
from chalicelib.domain.money import round_money
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.order_snapshot import split_public_order_id
from chalicelib.domain.ports import WorkspaceReader
from chalicelib.domain.recommend.baskets import baskets_of, skus_of
from chalicelib.domain.recommend.model import Link, ProductSignals, Reason, Recommendation, RecommendedProduct
from chalicelib.domain.recommend.placements import Placement, RecommendationSettings
from chalicelib.domain.recommend.ports import RecommenderModels
from chalicelib.domain.recommend.rank import RankParams, anchors, rank
from chalicelib.domain.recommend.serve_ports import CatalogueProducts, CustomerOrders, SourceIds
from chalicelib.domain.recommend.views import CustomerRecommendations, RecommendationItem, RelatedProducts

MAX_KEYS = 100  # one BatchGetItem (the model's slice, the catalogue's read)
DEFAULT_LIMIT = 10
LIVE_STATUSES = frozenset({"active", "publish"})  # Shopify's and WooCommerce's published states


def unavailable(stored: StoredProduct) -> str | None:
    """Why the catalogue says a product cannot be offered (`deleted`, `unpublished`,
    `out_of_stock`); None when it can."""
    product = stored.product
    if stored.deleted_at is not None or product is None:
        return "deleted"
    if product.status is not None and product.status.strip().lower() not in LIVE_STATUSES:
        return "unpublished"
    if product.variants and all(v.inventory is not None and v.inventory <= 0 for v in product.variants):
        return "out_of_stock"
    return None


def pick(
    product_id: str, sources: Sequence[str], found: Mapping[tuple[str, str], StoredProduct]
) -> StoredProduct | None:
    """The product's catalogue entry: the first source's that can be offered, else the first
    source's that knows it (and says why not), else None."""
    known = [found[(s, product_id)] for s in sources if (s, product_id) in found]
    return next((k for k in known if unavailable(k) is None), known[0] if known else None)


def wanted_ids(
    lists: Sequence[Sequence[Recommendation]], first: Sequence[str], most_ids: int, per_list: int
) -> list[str]:
    """The product ids to read from the catalogue: `first`, then each list's candidates in
    turn (at most `per_list` of each) with their reasons' anchors, while they fit in `most_ids`."""
    ids = list(dict.fromkeys(first))[:most_ids]
    for position in range(per_list):
        for ranked in lists:
            if position >= len(ranked):
                continue
            r = ranked[position]
            more = [p for p in dict.fromkeys((r.product_id, r.reason.product_id or "")) if p and p not in ids]
            if len(ids) + len(more) > most_ids:
                return ids
            ids.extend(more)
    return ids


class RecommendationService:
    """domain.recommend.ports.Recommender, and the routes' answers."""

    def __init__(
        self,
        models: RecommenderModels,
        customers: CustomerOrders,
        catalogue: CatalogueProducts,
        sources: SourceIds,
        workspaces: WorkspaceReader,
        settings: RecommendationSettings,
        clock: Callable[[], datetime],
        params: RankParams | None = None,
    ) -> None:
        self.models = models
        self.customers = customers
        self.catalogue = catalogue
        self.sources = sources
        self.workspaces = workspaces
        self.settings = settings
        self.clock = clock
        self.params = params or RankParams()

    # -- a customer -----------------------------------------------------------------------
    def for_customer(
        self,
        workspace_id: str,
        customer_id: str,
        *,
        placement: str | None = None,
        limit: int = DEFAULT_LIMIT,
        exclude: Sequence[str] = (),
    ) -> list[RecommendedProduct]:
        rules = self.settings.placement(workspace_id, placement) if placement else None
        return self._customer(workspace_id, customer_id, rules, limit, exclude)[1]

    def customer(
        self, workspace_id: str, customer_id: str, placement: str | None, limit: int | None
    ) -> CustomerRecommendations:
        """`GET /customers/{id}/recommendations`: `limit` products (without one, the
        placement's, else 10), with when the model was trained."""
        rules = self.settings.placement(workspace_id, placement) if placement else None
        count = limit or (rules.limit if rules else DEFAULT_LIMIT)
        shown_id, found = self._customer(workspace_id, customer_id, rules, count, ())
        summary = self.models.summary(workspace_id)
        trained_at = summary.trained_at if summary is not None else None
        return CustomerRecommendations.of(shown_id, placement, trained_at, found)

    def _customer(
        self,
        workspace_id: str,
        customer_id: str,
        rules: Placement | None,
        limit: int,
        exclude: Collection[str],
    ) -> tuple[str, list[RecommendedProduct]]:
        profile = self.customers.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        entries = all_entries(self.customers, workspace_id, profile)
        history = baskets_of(profile.customer_id, entries)
        bought = [p for b in reversed(history) for p in b.products]  # newest first: repeat items
        ids = list(dict.fromkeys([*anchors(history, self.params), *bought]))[:MAX_KEYS]
        signals = self.models.signals(workspace_id, ids) if ids else {}
        popular = self.models.popular(workspace_id)
        # and never a product the customer bought under its SKU (an order imported without
        # product ids names it so, beside the same product's id from a webhook)
        excluded = set(exclude) | skus_of(entries)
        ranked = rank(history, signals, popular, self.clock(), excluded, replace(self.params, limit=MAX_KEYS))
        if not ranked:
            return profile.customer_id, []
        categories = {p: s.category for p, s in signals.items() if s.category}
        categories |= {item.product_id: item.category for item in popular if item.category}
        own = sorted({entry_source(k) for k in entries})  # the customer's own sources first
        sources = list(dict.fromkeys([*own, *self.sources.source_ids(workspace_id)]))
        shown = self._shown(workspace_id, [ranked], (), sources, limit)
        return profile.customer_id, shown.kept(ranked, categories, rules, limit, excluded)

    # -- a product ------------------------------------------------------------------------
    def related(self, workspace_id: str, public_id: str, limit: int = DEFAULT_LIMIT) -> RelatedProducts:
        """`GET /products/{source.id}/related`: its `similar` links (related), then its
        `together` and `next` links (complementary), each list filtered and at most `limit`."""
        ref = split_public_order_id(public_id)  # the `<source>.<platform id>` form
        if ref is None:
            raise NotFound("product not found")
        source_id, product_id = ref
        sig = self.models.signals(workspace_id, [product_id]).get(product_id)
        related, complementary = _links(product_id, sig)
        sources = list(dict.fromkeys([source_id, *self.sources.source_ids(workspace_id)]))
        shown = self._shown(workspace_id, [related, complementary], (product_id,), sources, limit)
        if sig is None and (source_id, product_id) not in shown:
            raise NotFound("product not found")
        categories = {product_id: sig.category} if sig is not None and sig.category else {}
        excluded = {product_id}
        return RelatedProducts(
            product_id=product_id,
            source_id=source_id,
            related=[
                RecommendationItem.of(p) for p in shown.kept(related, categories, None, limit, excluded)
            ],
            complementary=[
                RecommendationItem.of(p) for p in shown.kept(complementary, categories, None, limit, excluded)
            ],
        )

    # -- shared ---------------------------------------------------------------------------
    def _shown(
        self,
        workspace_id: str,
        lists: Sequence[Sequence[Recommendation]],
        first: Sequence[str],
        sources: Sequence[str],
        limit: int,
    ) -> Shown:
        """One catalogue read for the candidates likely shown (about three times `limit`:
        filters leave enough) and the products their reasons name, over every source."""
        if not sources:
            return Shown({}, (), None)
        ids = wanted_ids(lists, first, MAX_KEYS // len(sources), 3 * limit + 10)
        refs = [(s, p) for p in ids for s in sources]
        found = self.catalogue.stored_products(workspace_id, refs) if refs else []
        settings = self.workspaces.settings(workspace_id)
        currency = (settings.currency or None) if settings is not None else None
        return Shown({(f.source_id, f.product_id): f for f in found}, tuple(sources), currency)


@dataclass(frozen=True)
class Shown:
    """What one catalogue read says of the candidates: the entries by (source, product),
    the sources in the order they are asked, the workspace's currency (a product's price
    without one of its own is in it)."""

    found: Mapping[tuple[str, str], StoredProduct]
    sources: tuple[str, ...]
    currency: str | None

    def __contains__(self, ref: object) -> bool:
        return ref in self.found

    def names(self) -> dict[str, str]:
        """Titles by product id (the first source's that has one)."""
        out: dict[str, str] = {}
        for s in self.sources:
            for (source, pid), stored in self.found.items():
                if source == s and stored.product is not None and stored.product.title and pid not in out:
                    out[pid] = stored.product.title
        return out

    def kept(
        self,
        ranked: Sequence[Recommendation],
        categories: Mapping[str, str],
        rules: Placement | None,
        limit: int,
        exclude: Collection[str],
    ) -> list[RecommendedProduct]:
        """The first `limit` candidates the filters keep, named."""
        names = self.names()
        out: list[RecommendedProduct] = []
        for r in ranked:
            if len(out) >= limit:
                break
            if r.product_id in exclude:
                continue
            stored = pick(r.product_id, self.sources, self.found)
            if stored is not None and unavailable(stored) is not None:
                continue
            product = stored.product if stored is not None else None
            of_model = categories.get(r.product_id)
            kinds = product.categories if product is not None and product.categories else ()
            if rules is not None and not rules.allows(kinds or ((of_model,) if of_model else ())):
                continue
            out.append(self.product(r, stored, names))
        return out

    def product(
        self, r: Recommendation, stored: StoredProduct | None, names: Mapping[str, str]
    ) -> RecommendedProduct:
        text = r.reason.text(names)
        product = stored.product if stored is not None else None
        if stored is None or product is None:
            return RecommendedProduct(r.product_id, r.score, r.reason, text)
        currency = product.currency or self.currency
        price = round_money(product.price, currency) if product.price is not None else None
        return RecommendedProduct(
            r.product_id,
            r.score,
            r.reason,
            text,
            source_id=stored.source_id,
            title=product.title,
            url=product.url,
            image=product.image,
            price=price,
            currency=currency if price is not None else None,
        )


def _links(product_id: str, sig: ProductSignals | None) -> tuple[list[Recommendation], list[Recommendation]]:
    """A product's related (similar) and complementary (together, then next) candidates."""
    if sig is None:
        return [], []
    related = [Recommendation(x.product_id, x.score, Reason("similar", product_id)) for x in sig.similar]
    complementary: list[Recommendation] = []
    seen: set[str] = set()
    links: list[tuple[Link, Reason]] = [(x, Reason("bought_together", product_id)) for x in sig.together]
    links += [(x, Reason("bought_next", product_id, days=x.gap_days)) for x in sig.next]
    for x, why in links:
        if x.product_id not in seen:
            seen.add(x.product_id)
            complementary.append(Recommendation(x.product_id, x.score, why))
    return [r for r in related if r.product_id != product_id], [
        r for r in complementary if r.product_id != product_id
    ]
