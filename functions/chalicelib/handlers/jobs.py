"""Scheduled jobs (EventBridge rules in a region, the local stack's scheduler on a laptop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Rate

from chalicelib.container import container
from chalicelib.handlers.http import count, logger

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.HOURS), name="quarantine_report")
def quarantine_report(event: Any) -> dict[str, Any]:
    """Open quarantine entries per workspace: a metric to alarm on, a log line to act on."""
    report = container().reports.quarantine_report()
    count("QuarantineOpen", report.open_entries)
    if report.open_entries:
        logger.warning("quarantine has open entries", extra=report.model_dump())
    return report.model_dump()


@bp.schedule(Rate(1, unit=Rate.HOURS), name="nightly_scores")
def nightly_scores(event: Any) -> dict[str, Any]:
    """Each workspace's RFM edges, store rhythm and models; memberships moved only where they change.

    Runs hourly: the first run of a UTC day starts the day's work, the next ones resume the
    workspaces it had no time for (domain/nightly.py); a finished day costs one query."""
    from chalicelib.domain.models import now_utc

    result: dict[str, Any] = container().scoring.nightly(now_utc(), _time_left(event))
    count("WorkspacesRescored", result["workspaces_updated"])
    count("ProfilesReevaluated", result["profiles_reevaluated"])
    count("NightlyWorkspacesPending", result["workspaces_pending"])  # resumed by the next hourly run
    _report_skipped("nightly scores", result)
    return result


@bp.schedule(Rate(1, unit=Rate.HOURS), name="recommend_train")
def recommend_train(event: Any) -> dict[str, Any]:
    """Each workspace's product recommendations, trained once a day from its orders.

    Runs hourly: the first run of a UTC day starts the day's training, the next ones resume
    the workspaces it had no time for (domain/recommend/training.py); a finished day costs
    one query."""
    from chalicelib.domain.models import now_utc

    result: dict[str, Any] = container().recommend_training.run(now_utc(), _time_left(event))
    count("RecommenderWorkspacesTrained", result["workspaces_trained"])
    count("RecommenderItemsWritten", result["items_written"])
    count("RecommenderWorkspacesPending", result["workspaces_pending"])  # resumed by the next hourly run
    _report_skipped("recommend train", result)
    return result


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="segment_backfill")
def segment_backfill(event: Any) -> dict[str, Any]:
    """Fill newly created segments from the existing customers, resuming where it stopped."""
    result: dict[str, Any] = container().backfill.run(_time_left(event))
    count("BackfillCustomers", result["customers_evaluated"])
    _report_skipped("segment backfill", result)
    return result


@bp.schedule(Rate(1, unit=Rate.HOURS), name="segment_recheck")
def segment_recheck(event: Any) -> dict[str, Any]:
    """Customers whose segments may have changed by the passage of time alone, and only them."""
    from chalicelib.domain.models import now_utc

    result: dict[str, Any] = container().membership.recheck()
    count("SegmentRechecks", result["rechecked"])
    # then, on the day's first run, a size point per segment (docs/segments.md#sizes-over-time)
    result |= container().segment_sizes.record(now_utc(), _time_left(event))
    _report_skipped("segment recheck", result)
    return result


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="flow_tick")
def flow_tick(event: Any) -> dict[str, Any]:
    """Advance the flow runs that are due: waits that ended, sends deferred to now; then send
    the transactional notifications the provider refused for now (domain/pipeline.py), and
    the returns' messages (domain/service/returns.py)."""
    from chalicelib.domain.models import now_utc

    result: dict[str, Any] = container().flows.tick(now_utc(), _time_left(event))
    held = container().ingest_pipeline.retry_held(now_utc())
    result["held_notifications"] = held
    result["return_messages"] = container().returns.send_due(now_utc())  # docs/service.md#notifications
    if held["released"]:
        count("HeldNotificationsSent", held["released"])
    if held["errors"]:
        logger.warning("held notifications failed", extra={"errors": held["errors"]})
    count("FlowRunsAdvanced", sum(v for k, v in result.items() if isinstance(v, int)))
    for status, n in result["messages"].items():
        count(f"Messages{status.capitalize()}", n)  # sent, deferred, dropped, skipped, refused
    if result.get("errors"):
        # recorded on each run (retried with backoff, parked as failed after a few attempts)
        logger.warning("flow runs failed", extra={"errors": result["errors"]})
        count("FlowRunFailures", len(result["errors"]))
    return result


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="campaign_dispatch")
def campaign_dispatch(event: Any) -> dict[str, Any]:
    """Campaign batches onto the queue, paced to the sending rate; held batches when due."""
    result: dict[str, Any] = container().campaigns.dispatch(_time_left(event))
    count("CampaignRecipientsEnqueued", result.get("enqueued", 0))
    return result


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="csat_tick")
def csat_tick(event: Any) -> dict[str, Any]:
    """Satisfaction surveys due: sent (one per resolution), withdrawn or expired, from the
    hourly due queues since the watermark (domain/service/csat_service.py); then the public
    replies queued more than 5 minutes ago with no outcome (domain/service/reply_sweep.py)."""
    from chalicelib.domain.models import now_utc

    result: dict[str, Any] = container().csat.run(now_utc(), _time_left(event))
    count("CsatSurveysSent", result.get("sent", 0))
    if result.get("failed"):
        logger.warning("surveys failed, kept for the next run", extra={"failed": result["failed"]})
    # then the public replies left `queued` (the process died before sending them): sent once
    swept = container().reply_sweep.run(now_utc(), _time_left(event))
    result["queued_replies"] = swept.as_dict()
    if swept.delivered:
        count("QueuedRepliesDelivered", swept.delivered)
    if swept.failed:  # ids only: kept queued, the next run tries again
        logger.warning("queued replies failed", extra={"failed": swept.failed})
    return result


@bp.schedule(Rate(1, unit=Rate.HOURS), name="sms_stop_sync")
def sms_stop_sync(event: Any) -> dict[str, Any]:
    """Numbers that replied STOP (SNS's opted-out list) onto the profiles: the SMS opt-out
    and `sms_consent: unsubscribed`, once per number (domain/messaging/sms_stop.py)."""
    result: dict[str, Any] = container().sms_stop.run(_time_left(event))
    count("SmsStopNumbersHandled", result["handled"])
    count("SmsStopCustomersOptedOut", result["customers"])
    return result


@bp.schedule(Rate(1, unit=Rate.HOURS), name="tiers_evaluate")
def tiers_evaluate(event: Any) -> dict[str, Any]:
    """Loyalty tiers' daily evaluation: grace periods start and end, downgrades once a grace
    has passed (docs/loyalty.md#tiers). Runs hourly: the first run of a UTC day walks each
    workspace's tier states, a run out of time stops and the next one resumes after the last
    customer evaluated; a finished day costs one read per workspace. Nobody moves twice."""
    from chalicelib.domain.models import now_utc

    found = container()
    ids = list(found.workspaces.workspace_ids())
    result: dict[str, Any] = found.tiers.evaluate_all(ids, now_utc(), _time_left(event))
    count("TiersDowngraded", result["downgraded"])
    count("TiersWorkspacesPending", result["workspaces_pending"])  # resumed by the next hourly run
    return result


@bp.schedule(Rate(1, unit=Rate.DAYS), name="points_expire")
def points_expire(event: Any) -> dict[str, Any]:
    """Loyalty points' daily expiry: each workspace's lots due today (UTC), once each, and
    the `points.expiring` warnings of the customers' local day (docs/loyalty.md#expiry), the
    `points.available` runs of the lots available today (docs/loyalty.md#flow-triggers). A
    second run the same day writes nothing and enrolls no one again."""
    from chalicelib.domain.models import now_utc

    found = container()
    now = now_utc()
    workspace_ids = list(found.workspaces.workspace_ids())
    result: dict[str, Any] = found.points_expiry.expire_all(workspace_ids, now.date())
    result["warnings"] = sum(found.points_expiry_warnings.warn(ws, now) for ws in workspace_ids)
    result["available"] = sum(found.points_available.announce(ws, now.date()) for ws in workspace_ids)
    count("PointsExpired", result["points_expired"])
    return result


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="sla_check")
def sla_check(event: Any) -> dict[str, Any]:
    """Near breaches and breaches of the open, pending and on-hold tickets: an `sla_alert`
    event on the ticket and a message on the ServiceAlerts topic, once each, only within the
    workspace's business hours (docs/service.md, "SLA operations")."""
    from chalicelib.domain.models import now_utc

    result: dict[str, Any] = container().sla_check.run(now_utc(), _time_left(event))
    count("SlaAlertsPublished", result["alerts"] + result["republished"])
    count("SlaTicketsChecked", result["tickets"])
    if result["unpublished"]:
        # recorded on the tickets; the next runs publish them once the topic takes them
        logger.warning("SLA alerts not published", extra={"unpublished": result["unpublished"]})
        count("SlaAlertsUnpublished", result["unpublished"])
    return result


def _report_skipped(job: str, result: dict[str, Any]) -> None:
    """Records a job skipped (domain/failures.py): a metric to alarm on, a log line with
    their ids and reasons (no personal data) to act on."""
    if result.get("failed"):
        logger.warning(f"{job} skipped records", extra={"failures": result["failures"]})
        count("RecordsSkipped", result["failed"], job=job.replace(" ", "_"))


def _time_left(event: Any) -> Callable[[], float]:
    """Seconds the invocation has left (a minute when run outside Lambda)."""
    context = event.context

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 if context else 60.0

    return time_left
