"""The synthetic stores the demo, the benchmarks and the tests are made of, in one place.

- `store`: a simulated Shopify shop and WooCommerce site (people, orders with their true
  final state, duplicate and out-of-order signed deliveries; `storefront_bodies` makes the
  webhook bodies): `patron demo`, and the integration tests that replay it.
- `orders`: Shopify orders/create bodies of a catalogue: `bench ingest`, the heavy
  customer, `bench freshness`'s latency.
- `profiles`: profile items with order histories, as the order pipeline stores them:
  `bench freshness`, `bench report`.
- `audience`: campaign recipients' profile attributes: `bench campaign`.
- `columns`: a million profiles as numpy columns: `bench segments`.
- `histories`: BG/NBD purchase histories: `bench model`, and the segments bench's fit.
- `baskets`: orders with planted purchase patterns (series, accessories, consumables,
  seasonal products, a long tail, refunds): `bench recommend`.

Each is seeded: the same seed and size give the same store, so the benchmark figures
compare from run to run. Nothing is imported here (the ingest bench times cold imports).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "profile_item":  # `synthetic.profile_item`, as callers have used it
        from patron.synthetic.profiles import profile_item

        return profile_item
    raise AttributeError(name)
