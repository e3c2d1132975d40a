"""Benchmarks: `patron bench ...`. Numbers go to docs/benchmarks.md, never into tests."""
