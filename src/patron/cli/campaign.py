"""`patron campaign ...`: campaigns to a segment (docs/messaging.md#campaigns). A campaign is
named by the id `campaign list` shows (cmp...) in every command, `patron stats` included."""

from __future__ import annotations

import click

from patron.cli.base import (
    CliError,
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_container,
    workspace_option,
)


def campaign_id(value: str) -> str:
    """The id `campaign list` shows; the statistics scope form (camp#ID) is taken too."""
    return value.removeprefix("camp#")


@click.group("campaign")
def campaign() -> None:
    """Campaigns to a segment (docs/messaging.md)."""


@campaign.command("create")
@workspace_option()
@click.option("--name", required=True, help="the campaign's name")
@click.option(
    "--segment", required=True, metavar="ID", help="a segment id, or a built-in one (lifecycle:active)"
)
@click.option(
    "--variant", "variants", multiple=True, required=True, metavar="ID=TEMPLATE", help="repeat for A/B"
)
@click.option(
    "--channel", default="email", show_default=True, type=click.Choice(["email", "sms"]), help="the channel"
)
@click.option("--test-share", type=float, metavar="SHARE", help="A/B: the share that gets the test (0-1)")
@click.option(
    "--winner-metric",
    default="clicks",
    show_default=True,
    type=click.Choice(["clicks", "revenue"]),
    help="A/B",
)
@click.option(
    "--decide-after-hours", type=float, default=4, show_default=True, help="A/B: when to pick the winner"
)
@click.option(
    "--min-sample-per-variant", type=int, default=100, show_default=True, help="A/B: sent per variant"
)
@click.option("--send-at", metavar="TIME", help="ISO time with offset, e.g. 2026-12-01T09:00:00+00:00")
@click.option(
    "--over-cap",
    default="defer",
    show_default=True,
    type=click.Choice(["defer", "drop"]),
    help="a recipient over their daily cap: later, or not at all",
)
@click.option(
    "--product",
    metavar="SOURCE_ID.PRODUCT_ID",
    help="a catalogue product for {{ product.* }} in the templates",
)
@stage_option
def create(
    workspace: str,
    name: str,
    segment: str,
    variants: tuple[str, ...],
    channel: str,
    test_share: float | None,
    winner_metric: str,
    decide_after_hours: float,
    min_sample_per_variant: int,
    send_at: str | None,
    over_cap: str,
    product: str | None,
    stage: str | None,
) -> None:
    """A draft campaign; `start` sends it (or schedules it with --send-at)."""
    from pydantic import ValidationError

    from chalicelib.domain.messaging.campaign_model import CampaignIn

    shown = []
    for spec in variants:
        variant_id, sep, template_id = spec.partition("=")
        if not sep:
            raise CliError(f"--variant takes ID=TEMPLATE, not {spec!r}", 2)
        shown.append({"id": variant_id, "template_id": template_id})
    try:
        body = CampaignIn.model_validate(
            {
                "name": name,
                "segment_id": segment,
                "channel": channel,
                "variants": shown,
                "test_share": test_share,
                "winner_metric": winner_metric,
                "decide_after_hours": decide_after_hours,
                "min_sample_per_variant": min_sample_per_variant,
                "send_at": send_at,
                "over_cap": over_cap,
                "product": product,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise CliError(problems, 2) from None
    print_json(workspace_container(workspace).campaigns.create(workspace, body))


@campaign.command("list")
@workspace_option()
@json_option
@stage_option
def list_(workspace: str, as_json: bool, stage: str | None) -> None:
    """The workspace's campaigns, newest first: id, name, status, channel, segment."""
    campaigns = workspace_container(workspace).campaigns.list_all(workspace)
    if as_json:
        print_json({"campaigns": campaigns}, compact=True)
        return
    if not campaigns:
        click.echo(f"no campaign yet: create one with `patron campaign create -w {workspace} ...`")
        return
    columns = ("campaign_id", "name", "status", "channel", "segment_id", "send_at", "created_at")
    print_table(None, ("campaign", *columns[1:]), ([c[k] for k in columns] for c in campaigns))


def _action(name: str, about: str) -> click.Command:
    @click.command(name, help=about)
    @workspace_option()
    @click.argument("campaign", metavar="CAMPAIGN_ID")
    @json_option
    @stage_option
    def run(workspace: str, campaign: str, as_json: bool, stage: str | None) -> None:
        campaigns = workspace_container(workspace).campaigns
        method = campaigns.progress if name == "show" else getattr(campaigns, name)
        print_json(method(workspace, campaign_id(campaign)), compact=as_json)

    return run


for _name, _about in (
    ("start", "Send now, or at its --send-at."),
    ("show", "Status and progress: enqueued, sent, deferred, dropped, remaining, per variant."),
    ("pause", "Stop sending; queued batches are parked."),
    ("resume", "Send again, parked batches first."),
    ("cancel", "Stop for good; queued batches are dropped and counted."),
):
    campaign.add_command(_action(_name, _about))

COMMANDS = [campaign]
