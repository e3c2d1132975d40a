"""Messaging: templates, channels and the guardrails every send goes through (issue 4)."""
