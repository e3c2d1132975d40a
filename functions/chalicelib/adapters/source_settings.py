"""A source's WooCommerce consent keys on its two items (`SRC#<platform>#<shop>` / `SRC` and
`W#<ws>#SRC` / `<source id>`): `cke` and `cks`, lists of meta keys; no attribute means the
documented defaults (parsers/woo_meta.py). Its Admin API connection: `adm`, `av`, `aep`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.adapters.codec import to_av
from chalicelib.domain.models import Source


def source_keys(
    platform: str, shop_domain: str, workspace_id: str, source_id: str
) -> tuple[tuple[str, str], tuple[str, str]]:
    """The (pk, sk) of a source's two items: by shop (webhooks find their source through
    it) and in its workspace (listings). Every change to a source writes both."""
    return (f"SRC#{platform}#{shop_domain}", "SRC"), (f"W#{workspace_id}#SRC", source_id)


def keys_of(source: Source) -> tuple[tuple[str, str], tuple[str, str]]:
    return source_keys(source.platform.value, source.shop_domain, source.workspace_id, source.source_id)


def consent_key_fields(email: tuple[str, ...] | None, sms: tuple[str, ...] | None) -> dict[str, Any]:
    """The keys as stored: a list (possibly empty) when set, no attribute for the defaults."""
    return {k: list(v) for k, v in (("cke", email), ("cks", sms)) if v is not None}


def consent_keys_of(item: Mapping[str, Any]) -> dict[str, tuple[str, ...] | None]:
    return {
        "email_consent_keys": tuple(item["cke"]) if "cke" in item else None,
        "sms_consent_keys": tuple(item["cks"]) if "cks" in item else None,
    }


def update_consent_keys(
    client: Any, table: str, source: Source, email: tuple[str, ...] | None, sms: tuple[str, ...] | None
) -> None:
    """Set (a tuple, possibly empty) or reset to the defaults (None) both items' keys, each
    with one UpdateItem on an existing item."""
    fields = consent_key_fields(email, sms)
    parts = []
    if fields:
        parts.append("SET " + ", ".join(f"{name} = :{name}" for name in fields))
    removes = [name for name in ("cke", "cks") if name not in fields]
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    extra = {"ExpressionAttributeValues": {f":{k}": to_av(v) for k, v in fields.items()}} if fields else {}
    for pk, sk in keys_of(source):
        client.update_item(
            TableName=table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression=" ".join(parts),
            ConditionExpression="attribute_exists(pk)",
            **extra,
        )


ADMIN_ATTRIBUTES = ("adm", "av", "aep")


def admin_fields(source: Source) -> dict[str, str]:
    """A source's Admin API connection as stored: `adm` the credentials' secret ref, `av` the
    pinned API version, `aep` the endpoint override; absent when not set."""
    values = (source.admin_ref, source.admin_api_version, source.admin_endpoint)
    return {name: value for name, value in zip(ADMIN_ATTRIBUTES, values, strict=True) if value}


def admin_of(item: Mapping[str, Any]) -> dict[str, str | None]:
    return {
        "admin_ref": item.get("adm"),
        "admin_api_version": item.get("av"),
        "admin_endpoint": item.get("aep"),
    }


def update_admin(client: Any, table: str, connected: Source) -> None:
    """Both items take the connection of `connected` (what it lacks is removed), each with
    one UpdateItem on an existing item."""
    fields = admin_fields(connected)
    parts = ["SET " + ", ".join(f"{name} = :{name}" for name in fields)] if fields else []
    removes = [name for name in ADMIN_ATTRIBUTES if name not in fields]
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    extra = {"ExpressionAttributeValues": {f":{k}": {"S": v} for k, v in fields.items()}} if fields else {}
    for pk, sk in keys_of(connected):
        client.update_item(
            TableName=table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression=" ".join(parts),
            ConditionExpression="attribute_exists(pk)",
            **extra,
        )
