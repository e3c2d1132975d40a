"""Ingest-table stream -> customer profiles, with partial batch failure reporting."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.handlers.http import count, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

bp = Blueprint(__name__)


@cache
def processor() -> BatchProcessor:
    # Imported on first use: the API function shares this module and never needs it.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.DynamoDBStreams)


def handle_record(record: DynamoDBRecord) -> str:
    from chalicelib.adapters.codec import from_item

    change = record.raw_event["dynamodb"]
    old = from_item(change.get("OldImage"))
    new = from_item(change.get("NewImage"))
    try:
        result = container().profiles.apply_change(old, new)
    except Exception:
        # Logged with the record's keys only (no images: they hold personal data), then
        # re-raised so the batch reports this record as failed.
        logger.exception(
            "stream record failed",
            extra={
                "event_id": record.event_id,
                "sequence_number": change.get("SequenceNumber"),
                "item": (change.get("Keys") or {}).get("pk", {}).get("S", "").split("#")[2:3],
            },
        )
        raise
    if result.customer_id:
        logger.debug("profile change", extra={"customer_id": result.customer_id, "outcome": result.outcome})
    if result.outcome == "applied":
        count("ProfileUpdates")
    if result.merged:
        count("ProfileMerges", len(result.merged))
    return str(result.outcome)


@bp.lambda_function(name="ingest_stream")
def ingest_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Wired to the ingest table's stream by infra/ (bisect, retries, on-failure destination)."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event, record_handler=handle_record, processor=processor(), context=context
    )
    return dict(response)
