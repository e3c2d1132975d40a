"""Patron tooling: CLI, local stack, demo and benchmarks (not deployed to Lambda)."""
