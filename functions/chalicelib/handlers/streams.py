"""Stream and queue consumers, each with partial batch failure reporting."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.domain.timemath import iso
from chalicelib.handlers.http import count, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


@cache
def processor(consumer: str, source: str = "DynamoDBStreams") -> BatchProcessor:
    """One batch processor per consumer function (a processor holds the state of its batch);
    `source` names the powertools event type ("DynamoDBStreams" or "SQS").

    Imported on first use: the API function shares this module and never needs it.
    """
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType[source])


def record_failure(record: DynamoDBRecord, exc: BaseException) -> None:
    """Log why a stream record failed (its keys and the error, never its images) and keep
    the reason where `patron dlq list` reads it: Lambda's on-failure destination gets
    only the batch's sequence range. Every attempt records it (the handler cannot know
    which is the last); keeping it must not hide the record's own failure."""
    from chalicelib.domain.failures import reason
    from chalicelib.domain.models import now_utc

    change = record.raw_event["dynamodb"]
    keys = change.get("Keys") or {}
    item_key = "/".join(keys[name]["S"] for name in ("pk", "sk") if "S" in keys.get(name, {}))
    why = reason(exc)  # without the values the message quotes, emails or phone numbers
    logger.warning(
        "stream record failed",
        extra={
            "sequence_number": change.get("SequenceNumber"),
            "item": "#".join(item_key.split("#")[:3]),  # workspace and kind: no platform ids in logs
            "reason": why,
        },
    )
    try:
        container().stream_failures.record(
            record.raw_event.get("eventSourceARN", ""),
            str(change.get("SequenceNumber", "")),
            item_key,
            why,
            now_utc(),
        )
    except Exception:  # noqa: BLE001 - the record's own error is what the batch reports
        logger.exception("could not record why a stream record failed")


def handle_record(record: DynamoDBRecord) -> str:
    """One ingest-table change: the profile, then the notifications, flow runs and
    attribution it brings (domain/pipeline.py)."""
    from chalicelib.adapters.codec import from_item
    from chalicelib.adapters.order_items import ingest_change
    from chalicelib.domain.models import now_utc

    change = record.raw_event["dynamodb"]
    try:
        # decoded where it enters (a record that cannot be is a failed record, as any other)
        images = ingest_change(from_item(change.get("OldImage")), from_item(change.get("NewImage")))
        outcome = container().ingest_pipeline.apply(images, now_utc())
    except Exception as exc:
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
        record_failure(record, exc)
        raise
    result = outcome.profile
    if result.customer_id:
        logger.debug("profile change", extra={"customer_id": result.customer_id, "outcome": result.outcome})
    if result.outcome == "applied":
        count("ProfileUpdates")
    if result.merged:
        count("ProfileMerges", len(result.merged))
    for decision in outcome.decisions:
        count(f"Messages{decision.status.capitalize()}")
    if outcome.runs:
        count("FlowRunsChanged", len(outcome.runs))
    if outcome.attributed:
        count("OrdersAttributed")
    if outcome.held:
        count("NotificationsHeld")
    return str(result.outcome)


@bp.lambda_function(name="ingest_stream")
def ingest_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The ingest table's one consumer, wired by infra/ (bisect, retries, on-failure
    destination): profiles, transactional notifications, flow triggers, attribution."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event, record_handler=handle_record, processor=processor("ingest"), context=context
    )
    return dict(response)


def handle_profile_record(record: DynamoDBRecord) -> str:
    """A CRM-table change: only profiles (and profiles merged away or erased) matter."""
    try:
        return _profile_record(record)
    except Exception as exc:
        record_failure(record, exc)
        raise


def _profile_record(record: DynamoDBRecord) -> str:
    from chalicelib.adapters.codec import from_item
    from chalicelib.adapters.profile_items import profile_change

    change = record.raw_event["dynamodb"]
    old = from_item(change.get("OldImage")) or {}
    new = from_item(change.get("NewImage"))
    if new is not None and not old and new.get("t") in LOYALTY_INSERTS:
        return _loyalty_insert(new)
    if new is not None and new.get("t") in LOYALTY_STATES:
        return _loyalty_state(new)
    current = new or old
    if current.get("t") == "ticket":
        return _ticket_head(old, new)
    if current.get("t") not in ("profile", "pointer") and old.get("t") != "profile":
        return "skipped"
    if (new or {}).get("t") == "pointer" and old.get("t") != "profile":
        return "skipped"  # an identity pointer: no customer of its own
    from chalicelib.domain.models import now_utc

    # decoded where it enters: the flow triggers read a ProfileChange
    decoded = profile_change(old, new)
    _search_entries(decoded)
    if decoded.quiet:
        return "imported"  # the import's recompute does its memberships, once (docs/import.md)
    started = container().flow_triggers.on_profile_change(decoded, now_utc())
    if started:
        count("FlowRunsStarted", len(started))
    # the profiles as `profile_change` decoded them (once per record)
    before = decoded.before.profile if decoded.before is not None else None
    after = decoded.after.profile if decoded.after is not None else None
    result = container().membership.apply(current["ws"], current["cid"], after)
    if result.entered or result.exited:
        count("SegmentChanges", len(result.entered) + len(result.exited))
    if after is not None and after.merged_ids and _merged_points(before, after):
        count("PointsBalancesMerged")
    # a storefront member without a number (docs/loyalty.md#member-numbers)
    if (
        after is not None
        and after.member
        and after.enrolment is None
        and container().enrolments.number_account(before, after) is not None
    ):
        count("MemberNumbersIssued")
    return "changed" if result.written else "unchanged"


def _search_entries(decoded: Any) -> None:
    """The customer list's entries, when the name, email, phone or tags changed (imports
    too): off the order path (docs/data-model.md#the-customer-list)."""
    before = decoded.before.profile if decoded.before is not None else None
    after = decoded.after.profile if decoded.after is not None else None
    change = container().search_entries.on_change(before, after)
    if change.written or change.deleted:
        count("SearchEntriesWritten", change.written + change.deleted)


def _ticket_head(old: dict[str, Any], new: dict[str, Any] | None) -> str:
    """A ticket head written: the customer's ticket facts when what they say moved, then
    the customer's memberships when a segment uses them (docs/service.md, "Ticket facts")."""
    from chalicelib.adapters.ticket_store import ticket_of
    from chalicelib.domain.models import now_utc

    before = ticket_of(old) if old.get("t") == "ticket" else None
    after = ticket_of(new) if new else None
    change = container().ticket_facts.on_head_change(before, after)
    if not change.changed:
        return "unchanged"  # a reply, a note, a tag: no fact moved, nothing written
    if change.written:
        count("TicketFactsWritten")
    result = container().membership.on_ticket_change(change.workspace_id, change.customer_id, now_utc())
    if result is not None and (result.entered or result.exited):
        count("SegmentChanges", len(result.entered) + len(result.exited))
    return "ticket_facts"


# a new ledger entry, a new tier audit entry: loyalty's flow triggers (docs/loyalty.md)
LOYALTY_INSERTS = ("pts", "tier_change")
# a points balance, a tier state written: segments using loyalty fields (docs/loyalty.md)
LOYALTY_STATES = ("ptsbal", "tier")


def _loyalty_state(item: dict[str, Any]) -> str:
    from chalicelib.adapters.points_ledger import balance_owner
    from chalicelib.adapters.tier_store import state_owner
    from chalicelib.domain.models import now_utc

    workspace_id, customer_id = balance_owner(item) if item["t"] == "ptsbal" else state_owner(item)
    result = container().membership.on_loyalty_change(workspace_id, customer_id, now_utc())
    if result is None:
        return "skipped"
    if result.entered or result.exited:
        count("SegmentChanges", len(result.entered) + len(result.exited))
    return "changed" if result.written else "unchanged"


def _loyalty_insert(item: dict[str, Any]) -> str:
    from chalicelib.adapters.points_ledger import entry_from_item
    from chalicelib.adapters.tier_store import change_from_item, change_version
    from chalicelib.domain.loyalty.flow_events import messaged

    if item["t"] == "tier_change":
        started = container().loyalty_triggers.on_tier_change(change_from_item(item), change_version(item))
    else:
        entry = entry_from_item(item)
        if not messaged(entry):
            return "skipped"  # an adjustment, a give-back, an expiry, the historical entry
        started = container().loyalty_triggers.on_entry(entry)
    if started:
        count("FlowRunsStarted", len(started))
    return "loyalty"


def _merged_points(before: Any, after: Any) -> bool:
    """Ids newly merged into the profile: their points balances join the survivor's
    (docs/loyalty.md#merged-profiles-one-balance). No read when nothing was merged."""
    from chalicelib.domain.models import now_utc

    if before is not None and before.merged_ids == after.merged_ids:
        return False
    return bool(container().ledger_merges.on_profile(before, after, now_utc()))


@bp.lambda_function(name="profile_stream")
def profile_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Wired to the CRM table's stream by infra/: keeps segment memberships fresh."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event, record_handler=handle_profile_record, processor=processor("profiles"), context=context
    )
    return dict(response)


def handle_ses_event(record: Any) -> str:
    """One SES event (via SNS, via SQS): suppress on a hard bounce or complaint, record it."""
    from chalicelib.domain.messaging.feedback import parse_notification
    from chalicelib.domain.models import now_utc

    result = container().feedback.handle(parse_notification(record.body), iso(now_utc()) or "")
    if result.get("suppressed"):
        count("AddressesSuppressed", result["suppressed"])
    if result.get("counted"):
        count("MessageEventsCounted")
    return str(result.get("event", "ignored"))


@bp.lambda_function(name="ses_events")
def ses_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The SES events queue (configuration set -> SNS -> SQS), partial batch failures reported."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event, record_handler=handle_ses_event, processor=processor("ses", "SQS"), context=context
    )
    return dict(response)


def handle_campaign_batch(record: Any) -> str:
    """One campaign batch (up to 50 recipients): one bulk send; a failed call raises, and
    only this record is reported failed (its claims were freed: the retry sends them)."""
    from chalicelib.domain.messaging.model import Throttled

    body = json.loads(record.body)
    try:
        outcome = container().campaigns.handle_batch(body)
    except Throttled:
        # nothing of it was sent (the claims are free): back off before the queue redelivers it
        receives = int(record.attributes.approximate_receive_count or 1)
        delay = container().campaigns.backoff(record.receipt_handle, receives)
        logger.warning("campaign batch throttled", extra={"campaign": body.get("camp"), "retry_in_s": delay})
        raise
    except Exception:
        logger.exception(
            "campaign batch failed",
            extra={"campaign": body.get("camp"), "batch": body.get("b"), "size": len(body.get("to", []))},
        )
        raise
    for status, n in outcome.items():
        count(f"Campaign{status.capitalize()}", n)
    return ",".join(f"{k}={v}" for k, v in sorted(outcome.items()))


@bp.lambda_function(name="campaign_sender")
def campaign_sender(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The campaign queue: each record a batch of recipients, partial batch failures reported."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    response = process_partial_response(
        event=event,
        record_handler=handle_campaign_batch,
        processor=processor("campaigns", "SQS"),
        context=context,
    )
    return dict(response)
