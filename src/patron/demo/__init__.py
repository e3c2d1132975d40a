"""`patron demo`: a simulated store sending signed webhooks to the local stack over HTTP.

- `simulation`: the run (the stack, the workspace, the deliveries with progress, keep-alive);
- `day_one`: what a user runs on day one (`patron source connect` to the Shopify Admin API
  stand-in, the shop's older orders as its orders export through `patron import orders`);
- `scenarios`: abandoned checkouts through the flows, a campaign through the queue;
- `summary`: every profile, segment total and message checked against the simulated truth;
- `loyalty`: the points programme switched on first, every balance, pending point and tier
  checked against the simulated truth, a redemption into a code the shop's stand-in made.
- `recommendations`: a planted series (Vol. 2 bought three weeks after Vol. 1), the
  recommender trained by its scheduled job, a newcomer's recommendations checked through the API.

The store itself (people, orders, deliveries, the truth) is `patron.synthetic.store`, the
generator the benchmarks' stores live beside; its names are re-exported here for the tests
that replay it.
"""

from __future__ import annotations

from patron.demo.simulation import run_demo
from patron.synthetic.store import EUR_RATE, SHOP, SITE, expected_profiles, simulate

__all__ = ["EUR_RATE", "SHOP", "SITE", "expected_profiles", "run_demo", "simulate"]
