"""`patron workspace keys create|list|rotate|revoke`: a workspace's API keys, as
`/workspace/keys` (docs/workspace-api.md#api-keys); the CLI's changes are audited as `cli`."""

from __future__ import annotations

import click

from patron.cli.base import (
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_container,
    workspace_option,
)

COLUMNS = ("key_id", "name", "last4", "status", "created_at", "created_by", "rotated_at", "revoked_at")


@click.group("keys")
def keys() -> None:
    """The workspace's API keys: create, list, rotate, revoke (secrets shown once)."""


def _secret(shown: object, as_json: bool, what: str) -> None:
    if as_json:
        print_json(shown, compact=True)
        return
    key, secret = shown.key, shown.api_key  # type: ignore[attr-defined]
    click.echo(f"API key {key.key_id} ({key.name}) {what}; its secret (shown once): {secret}")


@keys.command("create")
@workspace_option()
@click.option("--name", required=True, metavar="NAME", help="what the key is for (1-80 characters)")
@json_option
@stage_option
def create(workspace: str, name: str, as_json: bool, stage: str | None) -> None:
    """A new named key (as POST /workspace/keys): its secret is printed once."""
    _secret(workspace_container(workspace).api_keys.create(workspace, name, "cli"), as_json, "created")


@keys.command("list")
@workspace_option()
@json_option
@stage_option
def list_(workspace: str, as_json: bool, stage: str | None) -> None:
    """Every key, live and revoked, oldest first (as GET /workspace/keys): never a secret."""
    found = workspace_container(workspace).api_keys.listing(workspace)
    if as_json:
        print_json(found, compact=True)
        return
    rows = found.model_dump(mode="json")["keys"]
    print_table(None, COLUMNS, ([row[c] for c in COLUMNS] for row in rows))


@keys.command("rotate")
@workspace_option()
@click.argument("key_id")
@json_option
@stage_option
def rotate(workspace: str, key_id: str, as_json: bool, stage: str | None) -> None:
    """A new secret for KEY_ID, printed once; the old secret is refused at once."""
    _secret(workspace_container(workspace).api_keys.rotate(workspace, key_id, "cli"), as_json, "rotated")


@keys.command("revoke")
@workspace_option()
@click.argument("key_id")
@json_option
@stage_option
def revoke(workspace: str, key_id: str, as_json: bool, stage: str | None) -> None:
    """Revoke KEY_ID: refused at once; never the workspace's last live key."""
    revoked = workspace_container(workspace).api_keys.revoke(workspace, key_id, "cli")
    if as_json:
        print_json(revoked, compact=True)
        return
    click.echo(f"API key {revoked.key_id} ({revoked.name}) revoked")


@keys.command("adopt")
@workspace_option()
@click.option("--name", default="legacy", show_default=True, metavar="NAME", help="the name to list it by")
@click.option(
    "--secret",
    prompt="the key's secret (pk_...)",
    hide_input=True,
    envvar="PATRON_ADOPT_KEY",
    help="the key made before keys had ids (asked for, hidden; or PATRON_ADOPT_KEY)",
)
@json_option
@stage_option
def adopt(workspace: str, name: str, secret: str, as_json: bool, stage: str | None) -> None:
    """List a key made before keys had ids, so it can be rotated and revoked (once; the
    secret is only hashed)."""
    adopted = workspace_container(workspace).api_keys.adopt(workspace, secret, name, "cli")
    if as_json:
        print_json(adopted, compact=True)
        return
    click.echo(f"API key {adopted.key_id} ({adopted.name}) listed")
