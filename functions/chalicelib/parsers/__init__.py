"""Storefront payload parsers: platform shapes in, canonical models out.

Each platform module gives `PARSERS`, a parser per topic; the contract they meet (and
the errors they raise) is the domain's, in `chalicelib.domain.translation`.
"""

from __future__ import annotations

from chalicelib.domain.translation import Parser, PayloadError, UnknownTopic, field_errors, run_parser

__all__ = ["Parser", "PayloadError", "UnknownTopic", "field_errors", "run_parser"]
