"""Reports and operations: `report`, `merges`, `phones`, `dlq`, `deploy`, `model`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from patron.cli.base import (
    CliError,
    connect,
    json_option,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)


@click.command("report")
@workspace_option()
@click.option("--from", "date_from", metavar="DATE", help="ISO date (UTC unless an offset is given)")
@click.option("--to", "date_to", metavar="DATE", help="ISO date; default now")
@json_option
@stage_option
def report(
    workspace: str, date_from: str | None, date_to: str | None, as_json: bool, stage: str | None
) -> None:
    """KPIs, members vs guests, cohorts, rhythm, churn points."""
    from chalicelib.domain.workspace_analytics import parse_date

    start, end = parse_date("--from", date_from), parse_date("--to", date_to)
    print_json(workspace_container(workspace).analytics.report(workspace, start, end), compact=as_json)


@click.group("merges")
def merges() -> None:
    """Profile merges: what was merged into what, and why."""


@merges.command("list")
@workspace_option()
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="merges shown")
@json_option
@stage_option
def merges_list(workspace: str, limit: int, as_json: bool, stage: str | None) -> None:
    """The merge audit, newest first."""
    found = workspace_container(workspace).profile_store.merges(workspace, limit=limit)
    shown = [{k: v for k, v in m.items() if k not in ("pk", "sk", "t")} for m in found]
    print_json({"merges": shown}, compact=as_json)


@click.group("phones")
def phones() -> None:
    """One-off phone migrations (docs/data-model.md)."""


@phones.command("renormalize")
@workspace_option()
@click.option("--cursor", metavar="C", help="the next_cursor a cut-short run printed")
@click.option("--pages", type=int, metavar="N", help="stop after this many pages of 100 customers")
@stage_option
def renormalize(workspace: str, cursor: str | None, pages: int | None, stage: str | None) -> None:
    """Take numbers not valid for their country off stored profiles."""
    from patron.phones import renormalize as run

    print_json(run(workspace_container(workspace), workspace, cursor, pages))


@click.group("dlq")
def dlq() -> None:
    """Stream batches that failed every retry."""


@dlq.command("list")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="the page to show")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="records per page")
@json_option
@stage_option
def dlq_list(page: int, limit: int, as_json: bool, stage: str | None) -> None:
    """Every failed stream record, a page at a time, and why it failed."""
    from patron.failures import dlq_page
    from patron.operations import queue_depth

    found, info, client = connect()
    sqs = client("sqs")
    shown: dict[str, Any] = {
        "stream_failures": dlq_page(
            found, sqs, client("dynamodbstreams"), info.stream_failure_queue_url, page, limit
        )
    }
    if info.campaign_dlq_url:
        shown["campaign_batches_dead_lettered"] = queue_depth(sqs, info.campaign_dlq_url)
    print_json(shown, compact=as_json)


@dlq.command("redrive")
@stage_option
def dlq_redrive(stage: str | None) -> int:
    """Apply the current state of what failed; keep what still fails."""
    from patron.operations import redrive_queue, redrive_stream_failures

    found, info, client = connect()
    counts: dict[str, Any] = redrive_stream_failures(
        found, client("sqs"), client("dynamodbstreams"), info.stream_failure_queue_url
    )
    if info.campaign_dlq_url and info.campaign_queue_url:
        # campaign batches that failed every receive: back on the queue (the ledger keeps
        # the recipients already sent from getting them again)
        counts["campaign_batches"] = redrive_queue(
            client("sqs"), info.campaign_dlq_url, info.campaign_queue_url
        )["moved"]
    print_json(counts)
    return 0 if counts["failed"] == 0 else 1


@click.command("deploy")
@click.option(
    "--stage", required=True, metavar="STAGE", help="the stage to package (and deploy): see chalice.json"
)
@click.option("--dry-run", is_flag=True, help="write everything to --out, touch no AWS")
@click.option("--out", default="out/deploy", show_default=True, help="where the template and artefacts go")
@click.option(
    "--bucket",
    metavar="NAME",
    help="artefact bucket in the stage's region (default: patron-artefacts-ACCOUNT-REGION)",
)
@click.option(
    "--analytics-layer", metavar="ZIP", help="a built analytics-layer.zip to reuse instead of building it"
)
@click.option(
    "--endpoint-url", metavar="URL", help="the embedded AWS (moto) to deploy into instead of the region"
)
@click.option(
    "--table-capacity",
    type=click.Choice(["on-demand", "provisioned"]),
    help="DynamoDB billing (first deploy: on-demand; later: as it was). See docs/cost.md",
)
@click.option("--capacity-min", type=int, help="provisioned: fewest units per table and index")
@click.option("--capacity-max", type=int, help="provisioned: most units per table and index")
@click.option("--capacity-target", type=int, help="provisioned: utilization kept, percent")
def deploy(
    stage: str,
    dry_run: bool,
    out: str,
    bucket: str | None,
    analytics_layer: str | None,
    endpoint_url: str | None,
    table_capacity: str | None,
    capacity_min: int | None,
    capacity_max: int | None,
    capacity_target: int | None,
) -> None:
    """Package a regional stage and create or update its stack patron-<stage>."""
    from patron.deploy import build
    from patron.deploy import deploy as run

    if dry_run:
        print_json(build(stage, Path(out)))
        return
    named = {
        "TableCapacity": table_capacity,
        "CapacityMin": capacity_min,
        "CapacityMax": capacity_max,
        "CapacityTarget": capacity_target,
    }
    result = run(
        stage,
        Path(out),
        endpoint_url=endpoint_url,
        bucket=bucket,
        analytics_layer=Path(analytics_layer) if analytics_layer else None,
        embedded=bool(endpoint_url),
        parameters={k: str(v) for k, v in named.items() if v is not None},
    )
    print_json(result)


@click.group("model")
def model() -> None:
    """Customer-base models (BG/NBD, Gamma-Gamma)."""


@model.command("fit")
@click.option("--summary", metavar="CSV", help="CSV: customer_id,frequency,recency,T,monetary_value")
@click.option("--transactions", metavar="CSV", help="CSV: customer_id,date,amount")
@click.option(
    "--unit",
    type=click.Choice(["days", "weeks"]),
    default="days",
    show_default=True,
    help="for --transactions",
)
@click.option(
    "--observation-end", metavar="DATE", help="end of observation for --transactions (default: last date)"
)
@click.option(
    "--scores", metavar="CSV", help="write customer_id,p_alive,expected_purchases,expected_avg_value,clv"
)
@click.option("--horizon", type=float, help="scoring horizon, in the data's time unit")
@json_option
def model_fit(
    summary: str | None,
    transactions: str | None,
    unit: str,
    observation_end: str | None,
    scores: str | None,
    horizon: float | None,
    as_json: bool,
) -> None:
    """Fit on an RFM summary or raw transactions; optionally score."""
    from patron import model as fitting

    if bool(summary) == bool(transactions):
        raise CliError("give exactly one of --summary FILE or --transactions FILE", 2)
    if scores and horizon is None:
        raise CliError("--scores needs --horizon (in the data's time unit)", 2)
    try:
        if summary:
            data = fitting.read_summary(Path(summary))
        else:
            data = fitting.read_transactions(Path(str(transactions)), unit, observation_end)
        result, scored = fitting.fit(data, horizon)
    except (fitting.InputError, ValueError) as exc:
        raise CliError(str(exc), 2) from None
    if scores and scored is not None:
        fitting.write_scores(Path(scores), data["customer_id"], scored)
        result["scores"] = {"file": scores, "horizon": horizon, "method": scored.method}
    print_json(result, compact=as_json)


COMMANDS = [report, merges, phones, dlq, deploy, model]
