"""The stage a command acts on: the running local stack (its state file), or a deployed stage."""

from __future__ import annotations

from typing import Any


def connect(stage_name: str | None) -> tuple[Any, Any, Any]:
    """(container, stack info, client factory) for the local stack or the deployed `stage_name`."""
    import boto3
    from botocore.config import Config

    from chalicelib.container import Container
    from chalicelib.settings import load_settings
    from patron import stack

    if stage_name:
        from patron.deploy import stage_region

        region = stage_region(stage_name)
        session = boto3.session.Session(region_name=region)
        info = stack.describe(session.client("cloudformation"), stage_name, region)
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

    def client(service: str) -> Any:
        config = Config(account_id_endpoint_mode="disabled") if endpoint else None
        return session.client(service, endpoint_url=endpoint, config=config)

    # the embedded AWS answers SES v2 bulk sends too (patron/sesv2_bulk.py)
    settings = load_settings(info, aws_endpoint_url=endpoint, ses_bulk_api="v2")
    return Container(settings, session=session), info, client
