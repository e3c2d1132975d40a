"""Product recommendations: a model trained per workspace from its orders, and a ranked,
explained list per customer or product (docs/recommendations.md)."""
