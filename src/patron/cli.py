"""The `patron` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.domain.errors import PatronError
from patron import sending_cli


def _container(args: argparse.Namespace) -> Any:
    """Wiring for the stage a command acts on: the running local stack unless --stage."""
    return _connect(args)[0]


def _connect(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(container, stack info, client factory) for the local stack or --stage."""
    import boto3

    from chalicelib.container import Container
    from chalicelib.settings import Settings
    from patron import stack

    if getattr(args, "stage", None):
        from patron.deploy import stage_region

        region = stage_region(args.stage)
        session = boto3.session.Session(region_name=region)
        info = stack.describe(session.client("cloudformation"), args.stage, region)
        endpoint = None
    else:
        from patron.local import attach, isolate_from_real_aws

        state = attach()
        isolate_from_real_aws()
        session = boto3.session.Session(region_name=state["region"])
        endpoint = state["aws_url"]
        info = stack.describe(
            session.client("cloudformation", endpoint_url=endpoint), state["stage"], state["region"]
        )
    from botocore.config import Config

    def client(service: str) -> Any:
        config = Config(account_id_endpoint_mode="disabled") if endpoint else None
        return session.client(service, endpoint_url=endpoint, config=config)

    settings = Settings(
        stage=info.stage,
        ingest_table=info.ingest_table,
        crm_table=info.crm_table,
        region=info.region,
        aws_endpoint_url=endpoint,
        export_bucket=info.export_bucket,
        ses_bulk_api="v2",  # the embedded AWS answers SES v2 bulk sends too (patron/sesv2_bulk.py)
        segment_events_queue_url=info.segment_events_queue_url,
        campaign_queue_url=info.campaign_queue_url,
    )
    return Container(settings, session=session), info, client


def _print(value: Any, compact: bool = False) -> None:
    """JSON on stdout: indented for people, one line with --json (for scripts)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    print(json.dumps(value, indent=None if compact else 2, default=str))


def cmd_local(args: argparse.Namespace) -> int:
    from patron.local import serve

    return serve(args.port, args.aws_port)


def cmd_demo(args: argparse.Namespace) -> int:
    from patron.demo import run_demo

    return run_demo(
        customers=args.customers,
        seed=args.seed,
        port=args.port,
        aws_port=args.aws_port,
        keep_running=args.keep_running,
    )


def cmd_workspace_create(args: argparse.Namespace) -> int:
    created = _container(args).tenancy.create_workspace(args.name, args.currency)
    if args.json:
        print(json.dumps({"workspace_id": created.workspace_id, "api_key": created.api_key}))
    else:
        print(f"workspace {created.workspace_id} created; API key (shown once): {created.api_key}")
    return 0


def cmd_workspace_set_rate(args: argparse.Namespace) -> int:
    _container(args).tenancy.set_rate(args.workspace_id, args.currency, args.rate)
    print(f"1 {args.currency.upper()} = {args.rate} (workspace currency) from now on")
    return 0


def cmd_workspace_show(args: argparse.Namespace) -> int:
    """The workspace's currency and rates, and the currencies of orders without a rate."""
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.messaging.sending import shown as sending
    from chalicelib.domain.workspace_analytics import currency_warnings

    container = _container(args)
    settings = container.workspaces.settings(args.workspace_id)
    if settings is None:
        raise NotFound(f"workspace {args.workspace_id} not found")
    unconverted = container.analytics.unconverted(args.workspace_id)
    shown = {
        "workspace_id": settings.workspace_id,
        "name": settings.name,
        "currency": settings.currency or None,
        "rates": {k: str(v) for k, v in sorted(settings.rates.items())},
        "warnings": currency_warnings(unconverted, settings.workspace_id, settings.currency),
        "sending": sending(settings),
    }
    if args.json:
        print(json.dumps(shown))
        return 0
    print(f"{shown['name']} ({shown['workspace_id']}), currency {shown['currency'] or 'pending'}")
    for cur, rate in shown["rates"].items():
        print(f"  rate: 1 {cur} = {rate} {settings.currency}")
    for warning in shown["warnings"]:
        print(f"  warning: {warning['message']}; set a rate with: {warning['command']}")
    rules = shown["sending"]
    print(
        f"  sending: quiet hours {rules['quiet_hours']}, caps {rules['daily_caps']}, low: one in "
        f"{rules['low_every_days']} days, default zone {rules['default_timezone']}"
    )
    return 0


def cmd_workspace_messaging(args: argparse.Namespace) -> int:
    from chalicelib.domain.messaging.notifications import KINDS

    kinds = [k.strip() for k in (args.notify or "").split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        print(f"error: unknown notification {', '.join(unknown)}; known: {', '.join(KINDS)}", file=sys.stderr)
        return 2
    container = _container(args)
    engagement_given = args.attribution_days is not None or args.engagement is not None
    if not (engagement_given and args.notify is None and args.sender is None and args.sms_sender_id is None):
        container.workspaces.set_messaging(args.workspace_id, kinds, args.sender, args.sms_sender_id)
    if engagement_given:
        _set_engagement(container, args)
    settings = container.workspaces.settings(args.workspace_id)
    _print(
        {
            "notifications": sorted(settings.notifications),
            "sender_email": settings.sender_email,
            "sms_sender_id": settings.sms_sender_id,
            "attribution_days": settings.attribution_days,
            "engagement": _rules(settings.engagement_rules).as_dict(),
        }
    )
    return 0


def _rules(values: dict[str, int]) -> Any:
    from chalicelib.domain.messaging.engagement import Rules

    return Rules.of(values)


def _set_engagement(container: Any, args: argparse.Namespace) -> None:
    """--attribution-days N and --engagement name=value,... (the tier thresholds)."""
    from chalicelib.domain.errors import BadRequest
    from chalicelib.domain.messaging.engagement import Rules

    rules = None
    if args.engagement is not None:
        pairs = [p.strip() for p in args.engagement.split(",") if p.strip()]
        values: dict[str, int] = {}
        for pair in pairs:
            name, _, value = pair.partition("=")
            if name not in Rules.__dataclass_fields__ or not value.strip().isdigit():
                raise BadRequest(
                    f"--engagement takes name=number pairs of {', '.join(Rules.__dataclass_fields__)}"
                )
            values[name] = int(value)
        merged = Rules.of(
            {**_rules(container.workspaces.settings(args.workspace_id).engagement_rules).as_dict(), **values}
        )
        merged.check()
        rules = merged.as_dict()
    if args.attribution_days is not None and not 1 <= args.attribution_days <= 90:
        raise BadRequest("--attribution-days is between 1 and 90")
    container.workspaces.set_engagement(args.workspace_id, rules, args.attribution_days)


def cmd_messaging_stats(args: argparse.Namespace) -> int:
    report = _container(args).messaging_stats.report(args.workspace, args.scope)
    if args.json:
        _print(report, compact=True)
        return 0
    header = ("scope", "sent", "deliv", "open%", "click%", "bnc%", "unsub%", "orders", "revenue")
    print("{:<32} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {}".format(*header))

    def pct(rate: float | None) -> str:
        return "-" if rate is None else f"{100 * rate:.1f}"

    for row in report.scopes:
        rates = (pct(row.open_rate), pct(row.click_rate), pct(row.bounce_rate), pct(row.unsubscribe_rate))
        money = f"{row.revenue} {report.currency}"
        cells = (row.scope, row.sent, row.delivered, *rates, row.orders, money)
        print("{:<32} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {}".format(*cells))
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from patron.local import attach
    from patron.outbox import fetch, render

    messages = fetch(attach()["aws_url"], args.limit)
    if args.json:
        print(json.dumps([m.as_dict() for m in messages]))
    else:
        print(render(messages))
    return 0


def _read_text(value: str | None) -> str:
    """A literal, or @FILE for a file's contents."""
    if value and value.startswith("@"):
        return Path(value[1:]).read_text()
    return value or ""


def cmd_template_save(args: argparse.Namespace) -> int:
    from chalicelib.domain.messaging.templates import TemplateIn

    body = TemplateIn(
        name=args.name,
        subject=_read_text(args.subject),
        html=_read_text(args.html),
        text=_read_text(args.text),
        sms=_read_text(args.sms),
    )
    _print(_container(args).template_service.save(args.workspace, args.template_id, body))
    return 0


def cmd_template_list(args: argparse.Namespace) -> int:
    templates = _container(args).template_service.list(args.workspace)
    _print(
        {
            "templates": [
                {"template_id": t.template_id, "name": t.name, "version": t.version} for t in templates
            ]
        }
    )
    return 0


def cmd_template_preview(args: argparse.Namespace) -> int:
    _print(_container(args).template_service.preview(args.workspace, args.template_id, args.customer, {}))
    return 0


def cmd_template_test_send(args: argparse.Namespace) -> int:
    result = _container(args).template_service.test_send(
        args.workspace, args.template_id, args.customer, args.to
    )
    _print(result)
    return 0


def flow_files(paths: list[str]) -> list[Path]:
    """JSON flow files, a directory standing for the `*.json` files in it."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return found


def cmd_flow_apply(args: argparse.Namespace) -> int:
    service = _container(args).flows
    applied = []
    for path in flow_files(args.files):
        try:
            body = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            print(f"error: {path}: not JSON: {exc}", file=sys.stderr)
            return 2
        view = service.apply(args.workspace, body)
        applied.append(
            {
                "file": str(path),
                "flow_id": view["flow_id"],
                "version": view["version"],
                "changed": not view.get("unchanged"),
            }
        )
    _print({"applied": applied})
    return 0


def cmd_flow_list(args: argparse.Namespace) -> int:
    flows = _container(args).flows.all(args.workspace)
    _print(
        {"flows": [{k: f[k] for k in ("flow_id", "name", "version", "enabled", "trigger")} for f in flows]}
    )
    return 0


def cmd_flow_dry_run(args: argparse.Namespace) -> int:
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.timemath import parse_iso

    at = parse_iso(args.at) if args.at else now_utc()
    if at is None or at.tzinfo is None:
        print("error: --at needs a time zone offset, e.g. 2026-11-23T10:00:00Z", file=sys.stderr)
        return 2
    _print(_container(args).flows.dry_run(args.workspace, args.flow_id, args.customer, at))
    return 0


def cmd_flow_runs(args: argparse.Namespace) -> int:
    _print({"runs": _container(args).flows.runs(args.workspace, args.customer)})
    return 0


def cmd_source_add(args: argparse.Namespace) -> int:
    info = _container(args).tenancy.add_source(
        args.workspace_id,
        args.platform,
        args.shop_domain,
        args.secret,
        default_region=args.default_region,
        timezone=args.timezone,
        birthday_meta_key=args.birthday_meta_key,
        email_consent_keys=args.email_consent_keys,
        sms_consent_keys=args.sms_consent_keys,
    )
    _print(info)
    return 0


def cmd_source_update(args: argparse.Namespace) -> int:
    from patron.operations import source_by_id

    container = _container(args)
    source = source_by_id(container, args.workspace_id, args.source_id)
    _print(container.tenancy.set_consent_keys(source, args.email_consent_keys, args.sms_consent_keys))
    return 0


def cmd_source_rotate(args: argparse.Namespace) -> int:
    from patron.operations import source_by_id

    container = _container(args)
    source = source_by_id(container, args.workspace_id, args.source_id)
    if args.finish:
        container.tenancy.finish_rotation(source)
        print("rotation finished: only the current secret verifies now")
    else:
        if not args.secret:
            print("error: give --secret NEW (or --finish)", file=sys.stderr)
            return 2
        container.tenancy.rotate_secret(source, args.secret)
        print("rotation started: the old and the new secret both verify until `--finish`")
    return 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from datetime import UTC

    from chalicelib.adapters.quarantine import QuarantineFilter
    from chalicelib.domain.workspace_analytics import parse_date
    from patron.failures import quarantine_page

    since, until = parse_date("--since", args.since), parse_date("--until", args.until)
    where = QuarantineFilter(
        source_id=args.source,
        reason=args.reason,
        since=since.astimezone(UTC) if since else None,
        until=until.astimezone(UTC) if until else None,
    )
    container = _container(args)
    workspaces = [args.workspace] if args.workspace else _all_workspaces(container)
    try:
        shown = quarantine_page(container, workspaces, where, args.limit, args.cursor)
    except ValueError as exc:
        raise SystemExit(f"--cursor: {exc}") from exc
    _print(shown, compact=args.json)
    return 0


def _all_workspaces(container: Any) -> list[str]:
    return list(container.workspaces.workspace_ids())


def cmd_quarantine_replay(args: argparse.Namespace) -> int:
    from patron.operations import replay_quarantined

    container = _container(args)
    body = Path(args.body).read_bytes() if args.body else None
    workspace = args.workspace or _workspace_of_quarantine(container, args.quarantine_id)
    result = replay_quarantined(container, workspace, args.quarantine_id, body)
    _print(result)
    return 0


def _workspace_of_quarantine(container: Any, qid: str) -> str:
    for ws in _all_workspaces(container):
        if container.quarantine.get(ws, qid) is not None:
            return ws
    raise SystemExit(f"quarantine entry {qid} not found")


def cmd_privacy_list(args: argparse.Namespace) -> int:
    _print({"requests": _container(args).privacy_store.requests(args.workspace)})
    return 0


def cmd_privacy_export(args: argparse.Namespace) -> int:
    export = _container(args).privacy_store.export(args.workspace_id, args.request_id)
    if export is None:
        print(f"no export for request {args.request_id}", file=sys.stderr)
        return 1
    _print(export)
    return 0


def cmd_customers_request(args: argparse.Namespace) -> int:
    """`customers erase` / `customers export`: the admin API's privacy requests, any source."""
    request = {"erase": "customers_redact", "export": "customers_data_request"}[args.action]
    request_id = _container(args).privacy_requests.request(args.workspace, args.customer_id, request)
    _print({"request_id": request_id, "request": request})
    return 0


def cmd_privacy_erase_source(args: argparse.Namespace) -> int:
    """Run, resume or show the erasure of a source (what shop/redact starts)."""
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.models import now_utc

    container = _container(args)
    erasure = container.source_erasure
    try:
        if args.status:
            _print(erasure.status(args.workspace, args.source_id))
            return 0
        request_id = f"operator-{now_utc():%Y%m%dT%H%M%SZ}" if args.start else None
        status = erasure.run(args.workspace, args.source_id, request_id, args.pages)
        bucket = container.settings.export_bucket
        if status["state"] == "source_erased" and bucket:
            # audience exports (every source mixed, hashed) made before: the operator's rights
            from chalicelib.adapters.source_erasure_store import S3ExportPurge

            if erasure.purge_exports(
                args.workspace, args.source_id, S3ExportPurge(container.client("s3"), bucket)
            ):
                status = erasure.status(args.workspace, args.source_id)
        _print(status)
    except NotFound:
        print(f"no erasure of source {args.source_id} (start one with --start)", file=sys.stderr)
        return 1
    return 0


def cmd_merges_list(args: argparse.Namespace) -> int:
    merges = _container(args).profile_store.merges(args.workspace, limit=args.limit)
    _print({"merges": [{k: v for k, v in m.items() if k not in ("pk", "sk", "t")} for m in merges]})
    return 0


def cmd_segment_create(args: argparse.Namespace) -> int:
    _print(_container(args).segments.create(args.workspace, args.name, args.definition))
    return 0


def cmd_segment_list(args: argparse.Namespace) -> int:
    _print({"segments": [s.model_dump() for s in _container(args).segments.list(args.workspace)]})
    return 0


def cmd_segment_show(args: argparse.Namespace) -> int:
    from chalicelib.domain.membership import segment_detail

    _print(segment_detail(_container(args).membership, args.workspace, args.segment_id))
    return 0


def cmd_phones_renormalize(args: argparse.Namespace) -> int:
    from patron.phones import renormalize

    _print(renormalize(_container(args), args.workspace, args.cursor, args.pages))
    return 0


def cmd_segment_members(args: argparse.Namespace) -> int:
    from chalicelib.domain.membership import segment_members

    membership = _container(args).membership
    _print(segment_members(membership, args.workspace, args.segment_id, args.limit, args.cursor))
    return 0


def cmd_segment_export(args: argparse.Namespace) -> int:
    _print(_container(args).audience.export(args.workspace, args.segment_id, args.format))
    return 0


def cmd_campaign_create(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from chalicelib.domain.messaging.campaigns import CampaignIn

    variants = []
    for spec in args.variant:
        variant_id, sep, template_id = spec.partition("=")
        if not sep:
            raise SystemExit(f"error: --variant takes ID=TEMPLATE, not {spec!r}")
        variants.append({"id": variant_id, "template_id": template_id})
    try:
        body = CampaignIn.model_validate(
            {
                "name": args.name,
                "segment_id": args.segment,
                "channel": args.channel,
                "variants": variants,
                "test_share": args.test_share,
                "winner_metric": args.winner_metric,
                "decide_after_hours": args.decide_after_hours,
                "min_sample_per_variant": args.min_sample_per_variant,
                "send_at": args.send_at,
                "over_cap": args.over_cap,
            }
        )
    except ValidationError as exc:
        raise SystemExit(f"error: {exc}") from exc
    _print(_container(args).campaigns.create(args.workspace, body))
    return 0


def cmd_campaign_action(args: argparse.Namespace) -> int:
    campaigns = _container(args).campaigns
    method = {"show": campaigns.progress}.get(args.action) or getattr(campaigns, args.action)
    _print(method(args.workspace, args.campaign_id))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from chalicelib.domain.workspace_analytics import parse_date

    start, end = parse_date("--from", args.date_from), parse_date("--to", args.date_to)
    report = _container(args).analytics.report(args.workspace, start, end)
    _print(report, compact=args.json)
    return 0


def cmd_dlq_list(args: argparse.Namespace) -> int:
    from patron.failures import dlq_page
    from patron.operations import queue_depth

    container, info, client = _connect(args)
    sqs = client("sqs")
    shown: dict[str, Any] = {
        "stream_failures": dlq_page(
            container,
            sqs,
            client("dynamodbstreams"),
            info.stream_failure_queue_url,
            args.page,
            args.limit,
        )
    }
    if info.campaign_dlq_url:
        shown["campaign_batches_dead_lettered"] = queue_depth(sqs, info.campaign_dlq_url)
    _print(shown)
    return 0


def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    from patron.operations import redrive_stream_failures

    container, info, client = _connect(args)
    counts: dict[str, Any] = redrive_stream_failures(
        container, client("sqs"), client("dynamodbstreams"), info.stream_failure_queue_url
    )
    if info.campaign_dlq_url and info.campaign_queue_url:
        from patron.operations import redrive_queue

        # campaign batches that failed every receive: back on the queue (the ledger keeps
        # the recipients already sent from getting them again)
        counts["campaign_batches"] = redrive_queue(
            client("sqs"), info.campaign_dlq_url, info.campaign_queue_url
        )["moved"]
    _print(counts)
    return 0 if counts["failed"] == 0 else 1


def _capacity_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The stack parameters the capacity options name (patron.capacity); none: as it is."""
    named = {
        "TableCapacity": args.table_capacity,
        "CapacityMin": args.capacity_min,
        "CapacityMax": args.capacity_max,
        "CapacityTarget": args.capacity_target,
    }
    return {k: str(v) for k, v in named.items() if v is not None}


def cmd_deploy(args: argparse.Namespace) -> int:
    from patron.deploy import build, deploy

    if args.dry_run:
        _print(build(args.stage, Path(args.out)))
        return 0
    result = deploy(
        args.stage,
        Path(args.out),
        endpoint_url=args.endpoint_url,
        bucket=args.bucket,
        analytics_layer=Path(args.analytics_layer) if args.analytics_layer else None,
        embedded=bool(args.endpoint_url),
        parameters=_capacity_parameters(args),
    )
    _print(result)
    return 0


def cmd_model_fit(args: argparse.Namespace) -> int:
    from patron import model

    if bool(args.summary) == bool(args.transactions):
        print("error: give exactly one of --summary FILE or --transactions FILE", file=sys.stderr)
        return 2
    if args.scores and args.horizon is None:
        print("error: --scores needs --horizon (in the data's time unit)", file=sys.stderr)
        return 2
    try:
        if args.summary:
            summary = model.read_summary(Path(args.summary))
        else:
            summary = model.read_transactions(Path(args.transactions), args.unit, args.observation_end)
        result, scores = model.fit(summary, args.horizon)
    except (model.InputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.scores and scores is not None:
        model.write_scores(Path(args.scores), summary["customer_id"], scores)
        result["scores"] = {"file": args.scores, "horizon": args.horizon, "method": scores.method}
    _print(result, compact=args.json)
    return 0


def cmd_bench_model(args: argparse.Namespace) -> int:
    from patron.bench.model import run

    _print(run(customers=args.customers, seed=args.seed, lifetimes=not args.no_lifetimes), compact=args.json)
    return 0


def cmd_bench_segments(args: argparse.Namespace) -> int:
    from patron.bench.segments import run

    _print(run(profiles=args.profiles, seed=args.seed, model=not args.no_model), compact=args.json)
    return 0


def cmd_bench_freshness(args: argparse.Namespace) -> int:
    from patron.bench.freshness import run

    result = run(
        customers=args.customers,
        orders=args.orders,
        seed=args.seed,
        skip_latency=args.skip_latency,
        skip_backfill=args.skip_backfill,
    )
    _print(result, compact=args.json)
    return 0


def cmd_bench_report(args: argparse.Namespace) -> int:
    from patron.bench.report import run

    result = run(profiles=args.profiles, other_workspaces=args.other_workspaces, seed=args.seed)
    _print(result, compact=args.json)
    return 0


def cmd_bench_campaign(args: argparse.Namespace) -> int:
    from patron.bench.campaign import run

    _print(run(recipients=args.recipients, seed=args.seed), compact=args.json)
    return 0


def cmd_bench_cost(args: argparse.Namespace) -> int:
    from patron.bench.cost import ASSUMPTIONS, run

    assumptions = {}
    for item in args.assume or []:
        name, _, value = item.partition("=")
        if name not in ASSUMPTIONS or not value:
            print(f"error: --assume NAME=VALUE; names: {', '.join(ASSUMPTIONS)}", file=sys.stderr)
            return 2
        assumptions[name] = float(value)
    measured = json.loads(Path(args.measured).read_text()) if args.measured else None
    result = run(
        orders=args.orders,
        measured=measured,
        assumptions=assumptions,
        arch=args.arch,
        campaign_recipients=args.campaign_recipients,
    )
    _print(result, compact=args.json)
    return 0


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    from patron.bench.ingest import run

    if args.heavy_customer:
        from patron.bench.heavy import run as run_heavy

        _print(run_heavy(orders=args.heavy_customer, seed=args.seed), compact=args.json)
        return 0
    _print(run(orders=args.orders, seed=args.seed, segment_path=args.segment_path), compact=args.json)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="patron", description="Patron: serverless CRM for online stores")
    sub = p.add_subparsers(dest="command", required=True)

    def stage_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--stage", help="act on a deployed stage (default: the local stack)")

    def consent_opts(sp: argparse.ArgumentParser) -> None:
        for channel in ("email", "sms"):
            sp.add_argument(
                f"--{channel}-consent-keys",
                help=f"WooCommerce order/customer meta keys read as {channel} marketing opt-in, "
                "comma-separated, each KEY or KEY@TIME_KEY; 'none', or 'default' for the plugins' keys",
            )

    sp = sub.add_parser("local", help="run the whole stack locally on an embedded AWS")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--aws-port", type=int, default=5000)
    sp.set_defaults(func=cmd_local)

    sp = sub.add_parser("demo", help="run the local stack and a simulated store against it")
    sp.add_argument("--customers", type=int, default=300)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--aws-port", type=int, default=5000)
    sp.add_argument("--keep-running", action="store_true", help="keep serving after the summary")
    sp.set_defaults(func=cmd_demo)

    ws = sub.add_parser("workspace", help="workspaces (one brand each)").add_subparsers(
        dest="action", required=True
    )
    sp = ws.add_parser("create")
    sp.add_argument("name")
    sp.add_argument(
        "--currency", help="the reporting currency (default: the currency of the first order processed)"
    )
    sp.add_argument("--json", action="store_true")
    stage_opt(sp)
    sp.set_defaults(func=cmd_workspace_create)
    sp = ws.add_parser("set-rate", help="conversion rate into the workspace currency")
    sp.add_argument("workspace_id")
    sp.add_argument("currency")
    sp.add_argument("rate")
    stage_opt(sp)
    sp.set_defaults(func=cmd_workspace_set_rate)
    sp = ws.add_parser("show", help="currency, rates, and orders in currencies without a rate")
    sp.add_argument("workspace_id")
    sp.add_argument("--json", action="store_true")
    stage_opt(sp)
    sp.set_defaults(func=cmd_workspace_show)
    sending_cli.add_parser(ws, stage_opt)
    sp = ws.add_parser("messaging", help="transactional notifications switched on, and the senders")
    sp.add_argument("workspace_id")
    sp.add_argument("--notify", help="comma-separated: order_confirmation,payment_received,shipped,...")
    sp.add_argument("--sender", help="the verified SES sender address")
    sp.add_argument("--sms-sender-id", help="the SMS sender id, where the country allows one")
    sp.add_argument(
        "--attribution-days", type=int, help="orders this many days after a click are attributed to it (5)"
    )
    sp.add_argument(
        "--engagement",
        help="tier thresholds, name=number pairs: recent_days (30), high_opens (2), "
        "low_deliveries (3), low_quiet_days (90)",
    )
    stage_opt(sp)
    sp.set_defaults(func=cmd_workspace_messaging)

    ms = sub.add_parser("messaging", help="messaging results (docs/messaging.md)").add_subparsers(
        dest="action", required=True
    )
    sp = ms.add_parser("stats", help="each campaign's and flow's counters, rates, orders and revenue")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("--scope", help="one scope: camp#<id>, flow#<id>, camp#<id>#v#<variant>")
    sp.add_argument("--json", action="store_true")
    stage_opt(sp)
    sp.set_defaults(func=cmd_messaging_stats)

    sp = sub.add_parser("outbox", help="the email and SMS the local stack sent (newest first)")
    sp.add_argument("--limit", type=int, default=20)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_outbox)

    src = sub.add_parser("source", help="storefronts sending webhooks").add_subparsers(
        dest="action", required=True
    )
    sp = src.add_parser("add")
    sp.add_argument("workspace_id")
    sp.add_argument("--platform", required=True, choices=["shopify", "woocommerce", "generic"])
    sp.add_argument("--shop-domain", required=True)
    sp.add_argument("--secret", required=True, help="the webhook signing secret")
    sp.add_argument(
        "--default-region",
        help="ISO 3166 country (e.g. FR) for national phone numbers when the order has no address country",
    )
    sp.add_argument(
        "--timezone",
        help="the shop's IANA zone (Shopify: the shop's iana_timezone); the workspace default if it has none",
    )
    sp.add_argument(
        "--birthday-meta-key",
        help="WooCommerce: the customer/order meta key holding a birth date (default: birthday)",
    )
    consent_opts(sp)
    stage_opt(sp)
    sp.set_defaults(func=cmd_source_add)

    sp = src.add_parser("update", help="a WooCommerce source's consent meta keys")
    sp.add_argument("workspace_id")
    sp.add_argument("source_id")
    consent_opts(sp)
    stage_opt(sp)
    sp.set_defaults(func=cmd_source_update)

    sp = src.add_parser("rotate-secret", help="rotate a webhook secret with a window where both verify")
    sp.add_argument("workspace_id")
    sp.add_argument("source_id")
    sp.add_argument("--secret", help="the new signing secret")
    sp.add_argument("--finish", action="store_true", help="end the window: drop the previous secret")
    stage_opt(sp)
    sp.set_defaults(func=cmd_source_rotate)

    q = sub.add_parser("quarantine", help="signed deliveries that could not be parsed").add_subparsers(
        dest="action", required=True
    )
    sp = q.add_parser("list", help="newest first, a page at a time, with the total that matches")
    sp.add_argument("--workspace")
    sp.add_argument("--source", help="only this source id")
    sp.add_argument("--reason", help="only entries whose field errors contain this text")
    sp.add_argument("--since", help="kept at or after this ISO date or time (UTC unless it has an offset)")
    sp.add_argument("--until", help="kept before this ISO date or time")
    sp.add_argument("--limit", type=_positive, default=50, help="entries per page (50)")
    sp.add_argument("--cursor", help="the next_cursor a previous page printed")
    sp.add_argument("--json", action="store_true", help="one line")
    stage_opt(sp)
    sp.set_defaults(func=cmd_quarantine_list)
    sp = q.add_parser("replay")
    sp.add_argument("quarantine_id")
    sp.add_argument("--workspace")
    sp.add_argument("--body", help="a corrected body to ingest instead of the kept one")
    stage_opt(sp)
    sp.set_defaults(func=cmd_quarantine_replay)

    pv = sub.add_parser("privacy", help="privacy requests: redactions and data exports").add_subparsers(
        dest="action", required=True
    )
    sp = pv.add_parser("list")
    sp.add_argument("--workspace", required=True)
    stage_opt(sp)
    sp.set_defaults(func=cmd_privacy_list)
    sp = pv.add_parser("export", help="print the export made for a customers/data_request")
    sp.add_argument("workspace_id")
    sp.add_argument("request_id")
    stage_opt(sp)
    sp.set_defaults(func=cmd_privacy_export)
    sp = pv.add_parser(
        "erase-source",
        help="erase everything that came from a source (shop/redact starts it): resume, --status, --start",
    )
    sp.add_argument("--workspace", required=True)
    sp.add_argument("source_id")
    sp.add_argument("--start", action="store_true", help="start one if none is under way (any platform)")
    sp.add_argument("--status", action="store_true", help="only show how far it got and what it removed")
    sp.add_argument("--pages", type=int, help="stop after this many pages of 100 customers")
    stage_opt(sp)
    sp.set_defaults(func=cmd_privacy_erase_source)

    cu = sub.add_parser("customers", help="erase or export a customer of any source").add_subparsers(
        dest="action", required=True
    )
    for action, about in (
        ("erase", "erase the customer everywhere (as customers/redact); see `privacy list`"),
        ("export", "export the customer's data (as customers/data_request); see `privacy export`"),
    ):
        sp = cu.add_parser(action, help=about)
        sp.add_argument("customer_id")
        sp.add_argument("--workspace", required=True)
        stage_opt(sp)
        sp.set_defaults(func=cmd_customers_request)

    sg = sub.add_parser("segment", help="segments in the segment language (docs/segments.md)").add_subparsers(
        dest="action", required=True
    )
    sp = sg.add_parser("create")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("name")
    sp.add_argument("definition", help='e.g. "orders_count >= 3 AND last_order_days <= 90"')
    stage_opt(sp)
    sp.set_defaults(func=cmd_segment_create)
    sp = sg.add_parser("list")
    sp.add_argument("--workspace", required=True)
    stage_opt(sp)
    sp.set_defaults(func=cmd_segment_list)
    sp = sg.add_parser("show")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("segment_id")
    stage_opt(sp)
    sp.set_defaults(func=cmd_segment_show)
    sp = sg.add_parser("members", help="a page of member customer ids (built-ins too: lifecycle:at_risk)")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("segment_id")
    sp.add_argument("--limit", type=int, default=100)
    sp.add_argument("--cursor", help="the cursor the previous page returned")
    stage_opt(sp)
    sp.set_defaults(func=cmd_segment_members)

    ph = sub.add_parser("phones", help="one-off phone migrations (docs/data-model.md)").add_subparsers(
        dest="action", required=True
    )
    sp = ph.add_parser("renormalize", help="take numbers not valid for their country off stored profiles")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("--cursor", help="the next_cursor a cut-short run printed")
    sp.add_argument("--pages", type=int, help="stop after this many pages of 100 customers")
    stage_opt(sp)
    sp.set_defaults(func=cmd_phones_renormalize)

    tp = sub.add_parser("template", help="message templates (docs/messaging.md)").add_subparsers(
        dest="action", required=True
    )
    sp = tp.add_parser("save", help="create a template or add a version; texts as literals or @FILE")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("template_id")
    sp.add_argument("--name", required=True)
    for name in ("subject", "html", "text", "sms"):
        sp.add_argument(f"--{name}")
    stage_opt(sp)
    sp.set_defaults(func=cmd_template_save)
    sp = tp.add_parser("list")
    sp.add_argument("--workspace", required=True)
    stage_opt(sp)
    sp.set_defaults(func=cmd_template_list)
    sp = tp.add_parser("preview", help="render for a customer")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("template_id")
    sp.add_argument("--customer", required=True)
    stage_opt(sp)
    sp.set_defaults(func=cmd_template_preview)
    sp = tp.add_parser("test-send", help="send the preview to your own address or phone")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("template_id")
    sp.add_argument("--customer", required=True, help="whose values fill the template")
    sp.add_argument("--to", required=True, help="an email address or an E.164 phone")
    stage_opt(sp)
    sp.set_defaults(func=cmd_template_test_send)

    fp = sub.add_parser("flow", help="automated flows (docs/messaging.md)").add_subparsers(
        dest="action", required=True
    )
    sp = fp.add_parser("apply", help="create or update flows from JSON files (or directories of them)")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("files", nargs="+")
    stage_opt(sp)
    sp.set_defaults(func=cmd_flow_apply)
    sp = fp.add_parser("list")
    sp.add_argument("--workspace", required=True)
    stage_opt(sp)
    sp.set_defaults(func=cmd_flow_list)
    sp = fp.add_parser("dry-run", help="what the flow would send a customer, and when")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("flow_id")
    sp.add_argument("--customer", required=True)
    sp.add_argument("--at", help="trigger time (ISO with offset); default now")
    stage_opt(sp)
    sp.set_defaults(func=cmd_flow_dry_run)
    sp = fp.add_parser("runs", help="a customer's flow runs and what each step did")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("--customer", required=True)
    stage_opt(sp)
    sp.set_defaults(func=cmd_flow_runs)

    cp = sub.add_parser("campaign", help="campaigns to a segment (docs/messaging.md)").add_subparsers(
        dest="action", required=True
    )
    sp = cp.add_parser("create", help="a draft campaign; `start` sends it (or schedules it with --send-at)")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("--name", required=True)
    sp.add_argument("--segment", required=True, help="a segment id, or a built-in one (lifecycle:active)")
    sp.add_argument("--variant", action="append", required=True, help="ID=TEMPLATE; repeat for A/B variants")
    sp.add_argument("--channel", default="email", choices=["email", "sms"])
    sp.add_argument("--test-share", type=float, help="A/B: the share that gets the test (0-1)")
    sp.add_argument("--winner-metric", default="clicks", choices=["clicks", "revenue"])
    sp.add_argument("--decide-after-hours", type=float, default=4)
    sp.add_argument("--min-sample-per-variant", type=int, default=100, help="A/B: sent per variant to decide")
    sp.add_argument("--send-at", help="ISO time with offset, e.g. 2026-12-01T09:00:00+00:00")
    sp.add_argument("--over-cap", default="defer", choices=["defer", "drop"])
    stage_opt(sp)
    sp.set_defaults(func=cmd_campaign_create)
    for action, text in (
        ("start", "send now, or at its --send-at"),
        ("show", "status and progress: enqueued, sent, deferred, dropped, remaining, per variant"),
        ("pause", "stop sending; queued batches are parked"),
        ("resume", "send again, parked batches first"),
        ("cancel", "stop for good; queued batches are dropped and counted"),
    ):
        sp = cp.add_parser(action, help=text)
        sp.add_argument("--workspace", required=True)
        sp.add_argument("campaign_id")
        stage_opt(sp)
        sp.set_defaults(func=cmd_campaign_action)

    sp = sg.add_parser("export", help="hashed emails/phones of consenting members, to S3")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("segment_id")
    sp.add_argument("--format", default="customer-match", choices=["customer-match"])
    stage_opt(sp)
    sp.set_defaults(func=cmd_segment_export)

    sp = sub.add_parser("report", help="KPIs, members vs guests, cohorts, rhythm, churn points")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("--from", dest="date_from", help="ISO date (UTC unless an offset is given)")
    sp.add_argument("--to", dest="date_to", help="ISO date; default now")
    sp.add_argument("--json", action="store_true")
    stage_opt(sp)
    sp.set_defaults(func=cmd_report)

    mg = sub.add_parser("merges", help="profile merges: what was merged into what, and why").add_subparsers(
        dest="action", required=True
    )
    sp = mg.add_parser("list")
    sp.add_argument("--workspace", required=True)
    sp.add_argument("--limit", type=int, default=50)
    stage_opt(sp)
    sp.set_defaults(func=cmd_merges_list)

    dlq = sub.add_parser("dlq", help="stream batches that failed every retry").add_subparsers(
        dest="action", required=True
    )
    sp = dlq.add_parser("list", help="every failed stream record, a page at a time, and why it failed")
    sp.add_argument("--page", type=_positive, default=1)
    sp.add_argument("--limit", type=_positive, default=50, help="records per page (50)")
    stage_opt(sp)
    sp.set_defaults(func=cmd_dlq_list)
    sp = dlq.add_parser("redrive", help="apply the current state of what failed; keep what still fails")
    stage_opt(sp)
    sp.set_defaults(func=cmd_dlq_redrive)

    sp = sub.add_parser(
        "deploy", help="package a regional stage and create or update its stack patron-<stage>"
    )
    sp.add_argument("--stage", required=True)
    sp.add_argument("--dry-run", action="store_true", help="write everything to --out, touch no AWS")
    sp.add_argument("--out", default="out/deploy")
    sp.add_argument(
        "--bucket", help="artefact bucket in the stage's region (default: patron-artefacts-ACCOUNT-REGION)"
    )
    sp.add_argument("--analytics-layer", help="a built analytics-layer.zip to reuse instead of building it")
    sp.add_argument("--endpoint-url", help="the embedded AWS (moto) to deploy into instead of the region")
    sp.add_argument(
        "--table-capacity",
        choices=["on-demand", "provisioned"],
        help="DynamoDB billing (first deploy: on-demand; later: as it was). See docs/cost.md",
    )
    sp.add_argument("--capacity-min", type=int, help="provisioned: fewest units per table and index")
    sp.add_argument("--capacity-max", type=int, help="provisioned: most units per table and index")
    sp.add_argument("--capacity-target", type=int, help="provisioned: utilization kept, percent")
    sp.set_defaults(func=cmd_deploy)

    md = sub.add_parser("model", help="customer-base models (BG/NBD, Gamma-Gamma)").add_subparsers(
        dest="action", required=True
    )
    sp = md.add_parser("fit", help="fit on an RFM summary or raw transactions; optionally score")
    sp.add_argument("--summary", help="CSV: customer_id,frequency,recency,T,monetary_value")
    sp.add_argument("--transactions", help="CSV: customer_id,date,amount")
    sp.add_argument("--unit", choices=["days", "weeks"], default="days", help="time unit for --transactions")
    sp.add_argument("--observation-end", help="end of observation for --transactions (default: last date)")
    sp.add_argument("--scores", help="write customer_id,p_alive,expected_purchases,expected_avg_value,clv")
    sp.add_argument("--horizon", type=float, help="scoring horizon, in the data's time unit")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_model_fit)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="action", required=True)
    sp = bench.add_parser("ingest", help="AWS writes per order, handler CPU and import time")
    sp.add_argument("--orders", type=int, default=1000)
    sp.add_argument("--seed", type=int, default=11)
    sp.add_argument(
        "--segment-path",
        action="store_true",
        help="also count the writes of the segment processor after the order path",
    )
    sp.add_argument(
        "--heavy-customer",
        type=int,
        metavar="N",
        help="instead: one customer places N orders; the last 20 orders' cost against the first 20's",
    )
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_ingest)
    sp = bench.add_parser("segments", help="RFM, lifecycle and 20 segments vs pandas; BG/NBD vs lifetimes")
    sp.add_argument("--profiles", type=int, default=1_000_000)
    sp.add_argument("--seed", type=int, default=9)
    sp.add_argument("--no-model", action="store_true", help="skip the BG/NBD part")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_segments)
    sp = bench.add_parser("model", help="BG/NBD fit on simulated customers, against lifetimes")
    sp.add_argument("--customers", type=int, default=1_000_000)
    sp.add_argument("--seed", type=int, default=5)
    sp.add_argument("--no-lifetimes", action="store_true", help="skip the reference fit")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_model)
    sp = bench.add_parser(
        "freshness", help="segment jobs' reads and writes per customer per day; order-to-event latency"
    )
    sp.add_argument("--customers", type=int, default=100_000)
    sp.add_argument("--orders", type=int, default=20, help="orders timed on the local stack")
    sp.add_argument("--seed", type=int, default=5)
    sp.add_argument("--skip-latency", action="store_true", help="only the jobs' cost")
    sp.add_argument("--skip-backfill", action="store_true", help="leave out the new segment's backfill")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_freshness)
    sp = bench.add_parser(
        "campaign", help="a campaign with every queue message delivered twice: SES calls, duplicates"
    )
    sp.add_argument("--recipients", type=int, default=20_000)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_campaign)
    sp = bench.add_parser(
        "report", help="read units of the analytics report, alone and among other workspaces of the same size"
    )
    sp.add_argument("--profiles", type=int, default=100_000)
    sp.add_argument("--other-workspaces", type=int, default=10)
    sp.add_argument("--seed", type=int, default=11)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_report)
    sp = bench.add_parser(
        "cost",
        help="cost per million orders (per webhook front door) and per million emails, from measured counts",
    )
    sp.add_argument(
        "--orders", type=int, default=300, help="orders the ingest bench runs to measure the counts"
    )
    sp.add_argument("--measured", help="a JSON file of counts (the output's `measured`) instead of measuring")
    sp.add_argument(
        "--campaign-recipients", type=int, help="run the campaign bench too (default: its recorded figures)"
    )
    sp.add_argument("--assume", action="append", metavar="NAME=VALUE", help="override a stated assumption")
    sp.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_bench_cost)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PatronError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.details:
            print(json.dumps(exc.details, indent=2, default=str), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
