"""The light sales pipeline: opportunities, stages, targets and rules (docs/sales.md)."""
