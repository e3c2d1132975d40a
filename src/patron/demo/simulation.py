"""`patron demo`'s run: the local stack, a workspace with a Shopify shop and a WooCommerce
site, the simulated store (`patron.synthetic.store`) sent as signed webhooks over HTTP,
then the scenarios, a planted series for the recommender, and the checked summary.

Progress goes to stderr with rich (phases, deliveries sent, the stream's lag), the summary
to stdout. With `keep_running` the stack stays up after the summary until Ctrl-C, so its
hints work; without it, the summary ends with the command that does that.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from patron import http
from patron.demo import day_one, loyalty, recommendations, scenarios, service_reports, summary, tickets
from patron.standins import ShopifyServer
from patron.storefront import shopify_headers, woocommerce_headers
from patron.synthetic.store import EUR_RATE, SHOP, SITE, simulate

PHASES = 9
STORE_TOKEN = "shpat_demo_admin_token_0000"  # noqa: S105 - the stand-in's, not a real store's
STORE_API_VERSION = "2025-07"
EXPORT_AGE = timedelta(days=120)  # the export file holds the shop's orders older than this
KEEP_COMMAND = ".venv/bin/patron demo --keep-running"


def run_demo(
    customers: int = 300, seed: int = 7, port: int = 8000, aws_port: int = 5000, keep_running: bool = False
) -> int:
    from patron.local import MEMORY_NOTE, LocalStack, record_console, serve_until_stopped

    console = Console(stderr=True, highlight=False)
    local = LocalStack(port=port, aws_port=aws_port)
    local.preflight()  # one line and exit, before anything else, if a port or the record is taken
    console.print(f"[bold]1/{PHASES}[/] starting the local stack (API :{port}, embedded AWS :{aws_port})")
    local.start()
    # the Shopify shop's Admin API: a stand-in on a free port of 127.0.0.1 (patron.standins)
    store = ShopifyServer(STORE_TOKEN, STORE_API_VERSION, products=0)
    try:
        with store.running():
            code, ws = _run(local, store, customers, seed, keep_running, console)
            record_console(ws.workspace_id, ws.api_key)  # `patron console` prints it
            line = console_line(local.api_url, ws.api_key)
            print(line if keep_running else f"{line}; it is up while the stack is: `{KEEP_COMMAND}`")
            if keep_running:
                print(f"ready {local.api_url} ({MEMORY_NOTE}; Ctrl-C stops)", flush=True)
                serve_until_stopped(local)
        return code
    finally:
        local.stop()


def _send(local: Any, deliveries: list[Any], secrets: tuple[str, str], console: Console) -> dict[str, Any]:
    """Every delivery over HTTP, two senders at a time (deliveries overlap as they do from
    real storefronts), with the count sent and the ingest stream's lag on the console."""
    shop_secret, woo_secret = secrets
    outcomes: dict[str, int] = {}
    latencies: list[float] = []

    def deliver(item: tuple[str, str, bytes, str]) -> str:
        platform, topic, body, delivery_id = item
        if platform == "shopify":
            headers = shopify_headers(
                SHOP, topic, shop_secret, body, delivery_id, triggered_at=datetime(2026, 1, 1, tzinfo=UTC)
            )
        else:
            headers = woocommerce_headers(SITE, topic, woo_secret, body, delivery_id)
        t0 = time.perf_counter()
        status, answer = http.post(f"{local.webhook_url}/webhooks/{platform}", body, headers)
        latencies.append(time.perf_counter() - t0)
        return answer.get("status", str(status)) if status == 200 else f"http {status}"

    stats = local.harness.poller.stats
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        sent = progress.add_task("webhook deliveries sent", total=len(deliveries))
        stream = progress.add_task("stream records processed", total=None)

        def lag() -> None:
            stored = outcomes.get("stored", 0)
            behind = max(0, stored - stats.records)
            progress.update(
                stream, completed=stats.records, description=f"stream records processed (lag {behind})"
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            for outcome in pool.map(deliver, deliveries):
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                progress.advance(sent)
                lag()
        seconds = time.monotonic() - started
        for _ in range(300):  # the stream catching up, shown as it goes (at most 300 s, as before)
            if local.wait_idle(timeout=1.0):
                break
            lag()
        lag()
    return {"deliveries": len(deliveries), "outcomes": outcomes, "latencies": latencies, "seconds": seconds}


def console_line(api_url: str, api_key: str) -> str:
    """Where the web console is and the key that signs in to it (docs/console.md)."""
    return f"console: {api_url}/console  (sign in with the API key {api_key})"


def _run(
    local: Any, store: ShopifyServer, customers: int, seed: int, keep_running: bool, console: Console
) -> tuple[int, Any]:
    tenancy = local.harness.container.tenancy
    ws = tenancy.create_workspace("Demo Books & Co", "USD")
    tenancy.set_rate(ws.workspace_id, "EUR", str(EUR_RATE))
    shop_secret, woo_secret = f"shpss_demo_{seed:08d}_secret", f"wc_demo_{seed:08d}_secret__"
    shop = tenancy.add_source(ws.workspace_id, "shopify", SHOP, shop_secret)
    woo = tenancy.add_source(ws.workspace_id, "woocommerce", SITE, woo_secret)
    # as a user connects a shop: the CLI against the running local stack
    day_one.patron(
        "source", "connect", "-w", ws.workspace_id, shop.source_id, "--access-token", STORE_TOKEN,
        "--api-version", STORE_API_VERSION, "--endpoint", store.url,
    )  # fmt: skip
    console.print(
        f"[bold]2/{PHASES}[/] workspace {ws.workspace_id} with a Shopify shop (its Admin API "
        f"connected: a stand-in at {store.url}) and a WooCommerce site"
    )

    # the loyalty programme, on before the history import and the live orders
    programme = loyalty.switch_on(ws.workspace_id)
    console.print(f"  {programme[0]}; {programme[1]}")
    targeted = service_reports.set_targets(local, ws)  # the pipeline's, before any order

    segments = local.harness.container.segments
    slipping = segments.create(ws.workspace_id, "Slipping away", "p_alive < 0.3 AND orders_count >= 2")
    prospects = segments.create(ws.workspace_id, "Prospects", "orders_count = 0")
    next_volume = segments.create(
        ws.workspace_id,
        "Ready for vol. 2",
        "bought_product('series-1-vol-1') AND NOT bought_product('series-1-vol-2')",
    )

    now = datetime.now(UTC)
    people, orders, deliveries = simulate(seed, customers, now)
    # day one: the shop's older orders come from its orders export, the rest by webhook
    exported, deliveries = day_one.split_history(orders, deliveries, now - EXPORT_AGE)
    console.print(
        f"[bold]3/{PHASES}[/] the store's history: {len(exported)} Shopify orders from its export "
        f"file (`patron import orders --format shopify-csv`), then {len(deliveries)} signed deliveries"
    )
    imported = day_one.import_export(ws.workspace_id, shop.source_id, exported)
    local.wait_idle()
    sending = _send(local, deliveries, (shop_secret, woo_secret), console)
    sending["imported"] = imported

    console.print(f"[bold]4/{PHASES}[/] checking {len(people)} profiles; the nightly job and its segments")
    mismatches, totals = summary.check_profiles(local, ws, people, orders)
    mismatches += sum(bool(re.fullmatch(r"[1-9]\d* rows rejected", line)) for line in imported)
    summary.print_store(local, ws, people, orders, sending, totals)
    mismatches += summary.segments(local, ws.workspace_id, len(people), [slipping, next_volume])

    console.print(f"[bold]5/{PHASES}[/] abandoned checkouts through the flows, a campaign through the queue")
    recovery_lines, recovery_failures = scenarios.recovery(local, ws, shop_secret, seed, store)
    for line in recovery_lines:
        print(line)
    mismatches += recovery_failures
    campaign_lines, campaign_failures = scenarios.campaign(local, ws, seed, prospects.segment_id)
    for line in campaign_lines:
        print(line)
    mismatches += campaign_failures
    console.print(f"[bold]6/{PHASES}[/] loyalty: every balance, pending point and tier; a redemption")
    today = datetime.now(UTC)
    sources = {"shopify": shop.source_id, "woocommerce": woo.source_id}
    truth = loyalty.truths(people, orders, exported, sources, today)
    books = loyalty.check(local, ws, truth, totals["ids"], today.date(), today)
    redeemed, ok = loyalty.redeem(local, ws, store, shop.source_id, books, today.date())
    for line in [*programme, *loyalty.summary_lines(books), redeemed]:
        print(line)
    mismatches += len(books.mismatches) + (not ok)
    console.print(f"[bold]7/{PHASES}[/] the service desk: tickets opened and worked through the API")
    switched = service_reports.switch_on(local, ws)  # SLA policies and surveys before the desk
    desk_lines, desk_failures, opened = tickets.run(local, ws, people, orders, totals["ids"], seed)
    for line in desk_lines:
        print(line)
    mismatches += desk_failures + len(switched) + len(targeted)
    console.print(f"[bold]8/{PHASES}[/] surveys answered by their links, a sales pipeline; the reports")
    report_lines, report_failures = service_reports.run(local, ws, opened, people, totals["ids"], shop_secret)
    for line in [*report_lines, *[f"  MISMATCH {p}" for p in switched + targeted]]:
        print(line)
    mismatches += report_failures
    console.print(
        f"[bold]9/{PHASES}[/] recommendations: a planted series, the training job, the API's answer"
    )
    recommended, recommend_failures = recommendations.run(local, ws, shop_secret, seed, datetime.now(UTC))
    for line in recommended:
        print(line)
    mismatches += recommend_failures
    summary.print_close(local, totals["top"], mismatches)
    if keep_running:
        print(
            f"try: curl -H 'Authorization: Bearer {ws.api_key}' "
            f"'{local.api_url}/customers?email={people[0].email}'"
        )
    else:
        print(
            f"the stack stops now, and its data with it: to keep exploring, run `{KEEP_COMMAND}` "
            "(or `make demo` in a terminal): the stack stays up until Ctrl-C, with a curl command to try"
        )
    return (0 if mismatches == 0 else 1), ws
