"""`patron source ...`: the storefronts that send webhooks, their signing secrets, and their
Admin API credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from patron.cli.base import (
    LegacyWorkspace,
    container,
    existing_workspace,
    print_json,
    stage_option,
    workspace_option,
)

F = TypeVar("F", bound=Callable[..., Any])

SIGNING_KEY_HELP = (
    "the webhook signing secret, at least 16 characters (the storefront signs each body with it; "
    "Shopify: the app's API secret, WooCommerce: the webhook's secret)"
)


def consent_options(f: F) -> F:
    for channel in ("sms", "email"):
        f = click.option(
            f"--{channel}-consent-keys",
            metavar="KEYS",
            help=f"WooCommerce order/customer meta keys read as {channel} marketing opt-in, "
            "comma-separated, each KEY or KEY@TIME_KEY; 'none', or 'default' for the plugins' keys",
        )(f)
    return f


@click.group("source")
def source() -> None:
    """Storefronts sending webhooks."""


@source.command("add", cls=LegacyWorkspace)
@workspace_option()
@click.option(
    "--platform",
    required=True,
    type=click.Choice(["shopify", "woocommerce", "generic"]),
    help="the storefront",
)
@click.option(
    "--shop-domain", required=True, metavar="DOMAIN", help="the shop's domain, e.g. my-shop.myshopify.com"
)
@click.option("--secret", required=True, metavar="SECRET", help=SIGNING_KEY_HELP)
@click.option(
    "--default-region",
    metavar="CC",
    help="ISO 3166 country (e.g. FR) for national phone numbers when the order has no address country",
)
@click.option(
    "--timezone",
    metavar="ZONE",
    help="the shop's IANA zone (Shopify: the shop's iana_timezone); the workspace default if it has none",
)
@click.option(
    "--birthday-meta-key",
    metavar="KEY",
    help="WooCommerce: the customer/order meta key holding a birth date (default: birthday)",
)
@consent_options
@stage_option
def add(
    workspace: str,
    platform: str,
    shop_domain: str,
    secret: str,
    default_region: str | None,
    timezone: str | None,
    birthday_meta_key: str | None,
    email_consent_keys: str | None,
    sms_consent_keys: str | None,
    stage: str | None,
) -> None:
    """Register a storefront; its secret goes to Secrets Manager.

    The secret must be at least 16 characters: use the one the storefront signs with.
    """
    found = container()
    existing_workspace(found, workspace)
    info = found.tenancy.add_source(
        workspace,
        platform,
        shop_domain,
        secret,
        default_region=default_region,
        timezone=timezone,
        birthday_meta_key=birthday_meta_key,
        email_consent_keys=email_consent_keys,
        sms_consent_keys=sms_consent_keys,
    )
    print_json(info)


def _source(found: Any, workspace: str, source_id: str) -> Any:
    from patron.operations import source_by_id

    existing_workspace(found, workspace)
    return source_by_id(found, workspace, source_id)


@source.command("update", cls=LegacyWorkspace)
@workspace_option()
@click.argument("source_id")
@consent_options
@stage_option
def update(
    workspace: str,
    source_id: str,
    email_consent_keys: str | None,
    sms_consent_keys: str | None,
    stage: str | None,
) -> None:
    """Change a WooCommerce source's consent meta keys."""
    found = container()
    chosen = _source(found, workspace, source_id)
    print_json(found.tenancy.set_consent_keys(chosen, email_consent_keys, sms_consent_keys))


@source.command("rotate-secret", cls=LegacyWorkspace)
@workspace_option()
@click.argument("source_id")
@click.option("--secret", metavar="NEW", help="the new signing secret, at least 16 characters")
@click.option("--finish", is_flag=True, help="end the window: drop the previous secret")
@stage_option
def rotate_secret(
    workspace: str, source_id: str, secret: str | None, finish: bool, stage: str | None
) -> None:
    """Rotate a webhook secret with a window where both the old and the new one verify."""
    from patron.cli.base import CliError

    found = container()
    chosen = _source(found, workspace, source_id)
    if finish:
        found.tenancy.finish_rotation(chosen)
        click.echo("rotation finished: only the current secret verifies now")
        return
    if not secret:
        raise CliError("give --secret NEW (or --finish)", 2)
    found.tenancy.rotate_secret(chosen, secret)
    click.echo("rotation started: the old and the new secret both verify until `--finish`")


@source.command("connect", cls=LegacyWorkspace)
@workspace_option()
@click.argument("source_id")
@click.option("--access-token", metavar="TOKEN", help="Shopify: the custom app's Admin API access token")
@click.option(
    "--api-version",
    metavar="VERSION",
    help="Shopify: the Admin GraphQL API version to pin (default: 2025-07)",
)
@click.option("--consumer-key", metavar="KEY", help="WooCommerce: the REST API consumer key (ck_...)")
@click.option(
    "--consumer-secret", metavar="SECRET", help="WooCommerce: the REST API consumer secret (cs_...)"
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="call this base URL instead of https://<shop domain> (tests, the local stack)",
)
@stage_option
def connect(
    workspace: str,
    source_id: str,
    access_token: str | None,
    api_version: str | None,
    consumer_key: str | None,
    consumer_secret: str | None,
    endpoint: str | None,
    stage: str | None,
) -> None:
    """Give a source its store's Admin API credentials (kept in Secrets Manager).

    Shopify: --access-token [--api-version]; WooCommerce: --consumer-key and --consumer-secret.
    Connecting again replaces them. Nothing printed names a credential.
    """
    found = container()
    chosen = _source(found, workspace, source_id)
    print_json(
        found.tenancy.connect_source(
            chosen,
            access_token=access_token,
            api_version=api_version,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            endpoint=endpoint,
        )
    )


@source.command("show", cls=LegacyWorkspace)
@workspace_option()
@click.argument("source_id")
@stage_option
def show(workspace: str, source_id: str, stage: str | None) -> None:
    """A source: its platform, shop, webhook path, and whether its Admin API is connected."""
    from chalicelib.domain.tenancy import admin_api_shown

    found = container()
    chosen = _source(found, workspace, source_id)
    print_json(
        {
            "workspace_id": chosen.workspace_id,
            "shop_domain": chosen.shop_domain,
            "webhook_path": f"/webhooks/{chosen.platform.value}",
            "erasing": chosen.erasing,
            **admin_api_shown(chosen),
        }
    )


COMMANDS = [source]
