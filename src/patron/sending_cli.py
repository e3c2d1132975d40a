"""`patron workspace sending`: quiet hours, daily caps by tier, low-engagement spacing and
the default zone of a workspace (chalicelib.domain.messaging.sending)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def add_parser(ws: Any, stage_opt: Callable[[argparse.ArgumentParser], None]) -> None:
    sp = ws.add_parser("sending", help="quiet hours, daily caps by engagement tier, the default zone")
    sp.add_argument("workspace_id")
    sp.add_argument("--quiet-hours", help="START-END in the customer's local hours (21-9)")
    sp.add_argument("--caps", help="messages a day by tier, tier=number pairs: high=2,medium=1")
    sp.add_argument("--low-every-days", type=int, help="a low-engagement customer: one message in N days (3)")
    sp.add_argument("--default-timezone", help="IANA zone of customers without one (UTC)")
    stage_opt(sp)
    sp.set_defaults(func=cmd_workspace_sending)


def cmd_workspace_sending(args: argparse.Namespace) -> int:
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.messaging import sending
    from patron.cli import _container

    container = _container(args)
    settings = container.workspaces.settings(args.workspace_id)
    if settings is None:
        raise NotFound(f"workspace {args.workspace_id} not found")
    values = sending.changes(
        settings, args.quiet_hours, args.caps, args.low_every_days, args.default_timezone
    )
    if values:
        container.workspaces.set_sending(args.workspace_id, values)
        settings = container.workspaces.settings(args.workspace_id)
    print(json.dumps(sending.shown(settings), indent=2))
    return 0
