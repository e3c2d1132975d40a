"""`patron workspace messaging` (notifications, senders, attribution, engagement tiers) and
`patron workspace sending` (quiet hours, caps, the default zone): a workspace's messaging
settings. Results are `patron stats`."""

from __future__ import annotations

from typing import Any

import click

from patron.cli.base import (
    CliError,
    LegacyWorkspace,
    container,
    existing_workspace,
    print_json,
    stage_option,
    workspace_option,
)


@click.command("messaging", cls=LegacyWorkspace)
@workspace_option()
@click.option(
    "--notify", metavar="KINDS", help="comma-separated: order_confirmation,payment_received,shipped,..."
)
@click.option(
    "--sender", metavar="ADDRESS", help="the SES sender address (verify it: `patron sender verify`)"
)
@click.option("--sms-sender-id", metavar="ID", help="the SMS sender id, where the country allows one")
@click.option(
    "--attribution-days",
    type=int,
    metavar="N",
    help="orders this many days after a click are attributed to it (5)",
)
@click.option(
    "--engagement",
    metavar="PAIRS",
    help="tier thresholds, name=number pairs: recent_days (30), high_opens (2), "
    "low_deliveries (3), low_quiet_days (90)",
)
@stage_option
def messaging(
    workspace: str,
    notify: str | None,
    sender: str | None,
    sms_sender_id: str | None,
    attribution_days: int | None,
    engagement: str | None,
    stage: str | None,
) -> None:
    """Transactional notifications switched on, the senders, attribution and engagement tiers."""
    from chalicelib.domain.messaging.notifications import KINDS

    kinds = [k.strip() for k in (notify or "").split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise CliError(f"unknown notification {', '.join(unknown)}; known: {', '.join(KINDS)}", 2)
    found = container()
    existing_workspace(found, workspace)
    engagement_given = attribution_days is not None or engagement is not None
    if not (engagement_given and notify is None and sender is None and sms_sender_id is None):
        found.workspaces.set_messaging(workspace, kinds, sender, sms_sender_id)
    if engagement_given:
        _set_engagement(found, workspace, engagement, attribution_days)
    settings = found.workspaces.settings(workspace)
    print_json(
        {
            "notifications": sorted(settings.notifications),
            "sender_email": settings.sender_email,
            "sms_sender_id": settings.sms_sender_id,
            "attribution_days": settings.attribution_days,
            "engagement": _rules(settings.engagement_rules).as_dict(),
        }
    )


def _rules(values: dict[str, int]) -> Any:
    from chalicelib.domain.messaging.engagement import Rules

    return Rules.of(values)


def _set_engagement(found: Any, workspace: str, engagement: str | None, attribution_days: int | None) -> None:
    """--attribution-days N and --engagement name=value,... (the tier thresholds)."""
    from chalicelib.domain.errors import BadRequest
    from chalicelib.domain.messaging.engagement import Rules

    rules = None
    if engagement is not None:
        pairs = [p.strip() for p in engagement.split(",") if p.strip()]
        values: dict[str, int] = {}
        for pair in pairs:
            name, _, value = pair.partition("=")
            if name not in Rules.__dataclass_fields__ or not value.strip().isdigit():
                raise BadRequest(
                    f"--engagement takes name=number pairs of {', '.join(Rules.__dataclass_fields__)}"
                )
            values[name] = int(value)
        current = _rules(found.workspaces.settings(workspace).engagement_rules).as_dict()
        merged = Rules.of({**current, **values})
        merged.check()
        rules = merged.as_dict()
    if attribution_days is not None and not 1 <= attribution_days <= 90:
        raise BadRequest("--attribution-days is between 1 and 90")
    found.workspaces.set_engagement(workspace, rules, attribution_days)


@click.command("sending", cls=LegacyWorkspace)
@workspace_option()
@click.option("--quiet-hours", metavar="START-END", help="START-END in the customer's local hours (21-9)")
@click.option("--caps", metavar="PAIRS", help="messages a day by tier, tier=number pairs: high=2,medium=1")
@click.option(
    "--low-every-days", type=int, metavar="N", help="a low-engagement customer: one message in N days (3)"
)
@click.option("--default-timezone", metavar="ZONE", help="IANA zone of customers without one (UTC)")
@click.option(
    "--open-complaint-hold/--no-open-complaint-hold",
    default=None,
    help="no marketing to a customer with an open complaint (on)",
)
@stage_option
def sending(
    workspace: str,
    quiet_hours: str | None,
    caps: str | None,
    low_every_days: int | None,
    default_timezone: str | None,
    open_complaint_hold: bool | None,
    stage: str | None,
) -> None:
    """Quiet hours, daily caps by engagement tier, low-engagement spacing, the default zone,
    the open-complaint hold
    (the settings' model and service of `PATCH /workspace/settings`, docs/workspace-api.md)."""
    from chalicelib.domain.messaging import sending as rules

    found = container()
    existing_workspace(found, workspace)
    given = {
        "quiet_hours": quiet_hours,
        "daily_caps": _caps(caps),
        "low_every_days": low_every_days,
        "default_timezone": default_timezone,
        "no_marketing_on_open_complaint": open_complaint_hold,
    }
    if any(v is not None for v in given.values()):
        found.workspace_settings.update(workspace, _patch(given), None)
    print_json(rules.shown(found.workspaces.settings(workspace)))


def _caps(caps: str | None) -> dict[str, int] | None:
    """`--caps high=2,medium=1` as the settings' `daily_caps` (checked by the service)."""
    from chalicelib.domain.errors import BadRequest

    if caps is None:
        return None
    pairs = [p.strip().partition("=") for p in caps.split(",") if p.strip()]
    if not pairs or not all(value.strip().isdigit() for _, _, value in pairs):
        raise BadRequest("--caps takes tier=messages-a-day pairs (1-50) of high, medium")
    return {tier.strip(): int(value) for tier, _, value in pairs}


def _patch(given: dict[str, Any]) -> Any:
    """The settings' patch model (chalicelib.domain.workspace_api.settings), its field errors
    reported as the API reports them."""
    from pydantic import ValidationError

    from chalicelib.domain.errors import BadRequest
    from chalicelib.domain.workspace_api.settings import SettingsPatch
    from chalicelib.parsers import field_errors

    try:
        return SettingsPatch.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise BadRequest("invalid settings", field_errors(exc)) from exc
