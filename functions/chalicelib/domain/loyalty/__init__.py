"""Loyalty points: the append-only ledger, earning from orders, reversals (docs/loyalty.md)."""
