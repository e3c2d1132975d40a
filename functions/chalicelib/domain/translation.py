"""The contract storefront translation meets: a parser per topic turns a platform's body
into a canonical payload (`IngestPayload`), or raises `PayloadError` with field errors.

The domain owns the contract and runs it (`run_parser`); the platform shapes live in
`chalicelib.parsers`, which depends on the domain and not the other way round."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.models import Delivery, IngestPayload


class PayloadError(Exception):
    """The body does not match the shape its topic promises."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


class UnknownTopic(PayloadError):
    pass


Parser = Callable[[bytes, Delivery], IngestPayload]


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Field errors without the offending input values (they may be personal data)."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "error": err["msg"], "type": err["type"]}
        for err in exc.errors(include_input=False, include_url=False, include_context=False)
    ]


def run_parser(parsers: Mapping[str, Parser], body: bytes, delivery: Delivery) -> IngestPayload:
    parser = parsers.get(delivery.topic)
    if parser is None:
        raise UnknownTopic(
            f"unknown topic {delivery.topic!r}",
            [{"field": "topic", "error": f"supported: {', '.join(sorted(parsers))}"}],
        )
    try:
        return parser(body, delivery)
    except ValidationError as exc:
        raise PayloadError(f"invalid {delivery.topic} payload", field_errors(exc)) from exc
