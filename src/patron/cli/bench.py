"""`patron bench ...`: the benchmarks recorded in docs/benchmarks.md."""

from __future__ import annotations

import json

import click

from patron.cli.base import CliError, json_option, print_json, read_file


@click.group("bench")
def bench() -> None:
    """Benchmarks (docs/benchmarks.md)."""


@bench.command("ingest")
@click.option("--orders", type=int, default=1000, show_default=True, help="orders sent through the pipeline")
@click.option("--seed", type=int, default=11, show_default=True, help="seed of the synthetic store")
@click.option("--segment-path", is_flag=True, help="also count the writes of the segment processor")
@click.option(
    "--heavy-customer",
    type=int,
    metavar="N",
    help="instead: one customer places N orders; the last 20 orders' cost against the first 20's",
)
@json_option
def ingest(orders: int, seed: int, segment_path: bool, heavy_customer: int | None, as_json: bool) -> None:
    """AWS writes per order, handler CPU and import time."""
    if heavy_customer:
        from patron.bench.heavy import run as run_heavy

        print_json(run_heavy(orders=heavy_customer, seed=seed), compact=as_json)
        return
    from patron.bench.ingest import run

    print_json(run(orders=orders, seed=seed, segment_path=segment_path), compact=as_json)


@bench.command("import")
@click.option("--orders", type=int, default=1000, show_default=True, help="orders, through both paths")
@click.option("--seed", type=int, default=11, show_default=True, help="seed of the synthetic store")
@json_option
def import_(orders: int, seed: int, as_json: bool) -> None:
    """The same orders as webhooks and as a history import: orders/s, WCU per order, equal profiles."""
    from patron.bench.import_ import run

    print_json(run(orders=orders, seed=seed), compact=as_json)


@bench.command("segments")
@click.option("--profiles", type=int, default=1_000_000, show_default=True, help="simulated profiles")
@click.option("--seed", type=int, default=9, show_default=True, help="seed of the simulation")
@click.option("--no-model", is_flag=True, help="skip the BG/NBD part")
@json_option
def segments(profiles: int, seed: int, no_model: bool, as_json: bool) -> None:
    """RFM, lifecycle and 20 segments vs pandas; BG/NBD vs lifetimes."""
    from patron.bench.segments import run

    print_json(run(profiles=profiles, seed=seed, model=not no_model), compact=as_json)


@bench.command("model")
@click.option("--customers", type=int, default=1_000_000, show_default=True, help="simulated customers")
@click.option("--seed", type=int, default=5, show_default=True, help="seed of the simulation")
@click.option("--no-lifetimes", is_flag=True, help="skip the reference fit")
@json_option
def model(customers: int, seed: int, no_lifetimes: bool, as_json: bool) -> None:
    """BG/NBD fit on simulated customers, against lifetimes."""
    from patron.bench.model import run

    print_json(run(customers=customers, seed=seed, lifetimes=not no_lifetimes), compact=as_json)


@bench.command("freshness")
@click.option("--customers", type=int, default=100_000, show_default=True, help="simulated customers")
@click.option("--orders", type=int, default=20, show_default=True, help="orders timed on the local stack")
@click.option("--seed", type=int, default=5, show_default=True, help="seed of the simulation")
@click.option("--skip-latency", is_flag=True, help="only the jobs' cost")
@click.option("--skip-backfill", is_flag=True, help="leave out the new segment's backfill")
@json_option
def freshness(
    customers: int, orders: int, seed: int, skip_latency: bool, skip_backfill: bool, as_json: bool
) -> None:
    """Segment jobs' reads and writes per customer per day; order-to-event latency."""
    from patron.bench.freshness import run

    result = run(
        customers=customers, orders=orders, seed=seed, skip_latency=skip_latency, skip_backfill=skip_backfill
    )
    print_json(result, compact=as_json)


@bench.command("campaign")
@click.option("--recipients", type=int, default=20_000, show_default=True, help="recipients of the campaign")
@click.option("--seed", type=int, default=7, show_default=True, help="seed of the simulation")
@click.option("--loyalty", is_flag=True, help="points and tiers on, templates using `points` and `tier`")
@json_option
def campaign(recipients: int, seed: int, loyalty: bool, as_json: bool) -> None:
    """A campaign with every queue message delivered twice: SES calls, duplicates."""
    from patron.bench.campaign import run

    print_json(run(recipients=recipients, seed=seed, loyalty=loyalty), compact=as_json)


@bench.command("points")
@click.option("--redeemers", type=int, default=8, show_default=True, help="concurrent redeemers (threads)")
@click.option("--customers", type=int, default=4, show_default=True, help="customers sharing the balances")
@click.option("--orders", type=int, default=60, show_default=True, help="live orders, some refunded")
@click.option("--attempts", type=int, default=128, show_default=True, help="redemptions asked in all")
@click.option("--seed", type=int, default=5, show_default=True, help="seed of the simulation")
@click.option(
    "--expiry",
    type=click.Choice(["lots", "none"]),
    default="lots",
    show_default=True,
    help="the workspace's expiry policy (lots: the real sweep runs; none: no lot-day buckets)",
)
@json_option
def points(
    redeemers: int, customers: int, orders: int, attempts: int, seed: int, expiry: str, as_json: bool
) -> None:
    """Concurrent redeemers on shared balances: overdrafts, ledger mismatches, duplicates, WCU per event."""
    from patron.bench.points import run

    result = run(
        redeemers=redeemers, customers=customers, orders=orders, attempts=attempts, seed=seed, expiry=expiry
    )
    print_json(result, compact=as_json)


@bench.command("report")
@click.option("--profiles", type=int, default=100_000, show_default=True, help="profiles per workspace")
@click.option(
    "--other-workspaces", type=int, default=10, show_default=True, help="workspaces of the same size"
)
@click.option("--seed", type=int, default=11, show_default=True, help="seed of the simulation")
@json_option
def report(profiles: int, other_workspaces: int, seed: int, as_json: bool) -> None:
    """Read units of the analytics report, alone and among other workspaces of the same size."""
    from patron.bench.report import run

    print_json(run(profiles=profiles, other_workspaces=other_workspaces, seed=seed), compact=as_json)


@bench.command("cost")
@click.option("--orders", type=int, default=300, show_default=True, help="orders the ingest bench runs")
@click.option("--measured", metavar="FILE", help="a JSON file of counts (the output's `measured`) instead")
@click.option(
    "--campaign-recipients", type=int, help="run the campaign bench too (default: its recorded figures)"
)
@click.option(
    "--assume", multiple=True, metavar="NAME=VALUE", help="override a stated assumption (repeatable)"
)
@click.option(
    "--arch", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True, help="Lambda"
)
@json_option
def cost(
    orders: int,
    measured: str | None,
    campaign_recipients: int | None,
    assume: tuple[str, ...],
    arch: str,
    as_json: bool,
) -> None:
    """Cost per million orders (per webhook front door) and per million emails, from measured counts."""
    from patron.bench.cost import ASSUMPTIONS, run

    assumptions = {}
    for item in assume:
        name, _, value = item.partition("=")
        if name not in ASSUMPTIONS or not value:
            raise CliError(f"--assume NAME=VALUE; names: {', '.join(ASSUMPTIONS)}", 2)
        assumptions[name] = float(value)
    counts = json.loads(read_file(measured)) if measured else None
    result = run(
        orders=orders,
        measured=counts,
        assumptions=assumptions,
        arch=arch,
        campaign_recipients=campaign_recipients,
    )
    print_json(result, compact=as_json)


@bench.command("recommend")
@click.option("--orders", "orders_file", metavar="FILE", help="a generic JSON-lines export's orders instead")
@click.option("--customers", type=int, default=2000, show_default=True, help="simulated customers")
@click.option("--seed", type=int, default=7, show_default=True, help="seed of the simulated store")
@click.option(
    "--scale-orders",
    type=int,
    metavar="N",
    help="instead: train on N simulated orders; the training's time and peak memory",
)
@click.option(
    "--lead-days",
    type=click.IntRange(0, 365),
    default=0,
    show_default=True,
    help="rank each held-out customer this many days before their order (a message sent early)",
)
@json_option
def recommend(
    orders_file: str | None,
    customers: int,
    seed: int,
    scale_orders: int | None,
    lead_days: int,
    as_json: bool,
) -> None:
    """The recommender against popularity, personal top, both, and co-purchase: hit rate, recall,
    nDCG at 10, coverage (docs/recommendations.md)."""
    if scale_orders:
        from patron.bench.recommend import run_scale

        print_json(run_scale(scale_orders, seed=seed), compact=as_json)
        return
    from patron.bench.recommend import run

    if orders_file is not None:
        from chalicelib.domain.timemath import now_utc

        data = read_file(orders_file)
        print_json(run(orders_file=data, received_at=now_utc(), lead_days=lead_days), compact=as_json)
        return
    print_json(run(customers=customers, seed=seed, lead_days=lead_days), compact=as_json)


COMMANDS = [bench]
