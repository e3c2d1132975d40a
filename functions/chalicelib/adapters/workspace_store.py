"""Workspaces, their API keys (hashed), sources and settings in the CRM table."""

from __future__ import annotations

import contextlib
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.api_key_store import first_key_items
from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.source_settings import (
    admin_fields,
    admin_of,
    consent_key_fields,
    consent_keys_of,
    keys_of,
    update_admin,
    update_consent_keys,
)
from chalicelib.domain.errors import Conflict
from chalicelib.domain.models import Platform, Source, now_utc
from chalicelib.domain.predict import ModelParams
from chalicelib.domain.scoring import RfmEdges
from chalicelib.domain.tier_rules import Tier, TierRules
from chalicelib.domain.timemath import iso
from chalicelib.domain.workspace_settings import ActionCap, LoyaltyRules, WorkspaceSettings

if TYPE_CHECKING:  # the sending rules import the messaging core: not at cold start
    from chalicelib.domain.messaging.sending import SendingChanges

FREE_SMS = 50  # a new workspace's SMS credits


def workspace_settings_of(workspace_id: str, item: dict[str, Any]) -> WorkspaceSettings:
    edges = item.get("rfm")
    return WorkspaceSettings(
        workspace_id=workspace_id,
        currency=item.get("currency", ""),
        id_salt=item["salt"],
        rates={k: Decimal(str(v)) for k, v in (item.get("rates") or {}).items()},
        rfm_edges=RfmEdges.from_dict(edges) if edges else None,
        rhythm_days=float(item["rhythm"]) if item.get("rhythm") is not None else None,
        model=ModelParams.from_dict(item["model"]) if item.get("model") else None,
        name=item.get("name", ""),
        notifications=frozenset(item.get("notify") or ()),
        sender_email=item.get("sender", ""),
        sms_sender_id=item.get("smsid", ""),
        engagement_rules={k: int(v) for k, v in (item.get("engr") or {}).items()},
        attribution_days=int(item.get("attrd") or 5),
        quiet_start=int(item.get("qs", 21)),
        quiet_end=int(item.get("qe", 9)),
        daily_caps={k: int(v) for k, v in (item.get("caps") or {}).items()},
        low_every_days=int(item.get("lowd") or 3),
        default_timezone=item.get("dtz") or "UTC",
        no_marketing_on_open_complaint=bool(item.get("noc", True)),
        loyalty=loyalty_from_item(item.get("loy")),
        tiers=tiers_from_item(item.get("tie")),
    )


def loyalty_item(rules: LoyaltyRules) -> dict[str, Any]:
    """The workspace item's `loy` map; `loyalty_from_item` reads it back."""
    return {
        "on": rules.enabled,
        "ppu": rules.points_per_unit,
        "rwd": rules.return_window_days,
        "tm": dict(rules.tier_multipliers),
        "imp": rules.import_policy,
        **({"bo": dict(rules.bonuses)} if rules.bonuses else {}),
        **({"eo": rules.earn_on} if rules.earn_on != "total" else {}),
        **({"ca": {a: {"m": c.max, "p": c.period} for a, c in rules.caps.items()}} if rules.caps else {}),
        "rvp": rules.redeem_value_per_point,
        "rmin": rules.redeem_min_points,
        "ras": rules.redeem_as,
        "rcd": rules.redeem_code_valid_days,
        **({"xp": rules.expiry, "xpd": rules.expiry_days} if rules.expiry != "none" else {}),
    }


def loyalty_from_item(value: dict[str, Any] | None) -> LoyaltyRules:
    if not value:
        return LoyaltyRules()  # off
    return LoyaltyRules(
        enabled=bool(value.get("on")),
        points_per_unit=Decimal(str(value.get("ppu", 1))),
        return_window_days=int(value.get("rwd", 30)),
        tier_multipliers={k: Decimal(str(v)) for k, v in (value.get("tm") or {}).items()},
        import_policy=str(value.get("imp", "none")),
        bonuses={k: int(v) for k, v in (value.get("bo") or {}).items()},
        earn_on=str(value.get("eo") or "total"),
        caps={k: ActionCap(int(v["m"]), str(v["p"])) for k, v in (value.get("ca") or {}).items()},
        redeem_value_per_point=Decimal(str(value.get("rvp", "0.01"))),
        redeem_min_points=int(value.get("rmin", 100)),
        redeem_as=str(value.get("ras", "code")),
        redeem_code_valid_days=int(value.get("rcd", 90)),
        expiry=str(value.get("xp") or "none"),
        expiry_days=int(value.get("xpd", 365)),
    )


def tiers_item(rules: TierRules) -> dict[str, Any]:
    """The workspace item's `tie` map; `tiers_from_item` reads it back."""
    return {
        "ms": rules.measure,
        "w": rules.window,
        "wd": rules.window_days,
        "gd": rules.grace_days,
        "ts": [
            {
                "n": t.name,
                "e": t.enter,
                "k": t.keep,
                "m": t.multiplier,
                "fs": t.free_shipping,
                "dp": t.discount_percent,
            }
            for t in rules.tiers
        ],
    }


def tiers_from_item(value: dict[str, Any] | None) -> TierRules:
    if not value:
        return TierRules()  # no tiers
    return TierRules(
        tiers=tuple(
            Tier(
                name=str(t["n"]),
                enter=Decimal(str(t["e"])),
                keep=Decimal(str(t["k"])),
                multiplier=Decimal(str(t.get("m", 1))),
                free_shipping=bool(t.get("fs", False)),
                discount_percent=Decimal(str(t.get("dp", 0))),
            )
            for t in value.get("ts") or []
        ),
        measure=str(value.get("ms", "net_spend")),
        window=str(value.get("w", "trailing")),
        window_days=int(value.get("wd", 365)),
        grace_days=int(value.get("gd", 30)),
    )


class DynamoWorkspaceStore:
    """Workspaces, their API keys (hashed) and storefront sources."""

    def __init__(self, table: CrmTable, cache_seconds: float = 300) -> None:
        self.t = table
        self._settings: TtlCache[WorkspaceSettings | None] = TtlCache(min(cache_seconds, 60))
        # Unknown shops and keys are remembered briefly: a flood of them costs few reads.
        self._sources: TtlCache[Source | None] = TtlCache(cache_seconds, negative_seconds=5)
        # A key found is read again on every request (one GetItem): revoked or rotated, it is
        # refused at once by every warm Lambda (docs/workspace-api.md).
        self._keys: TtlCache[str | None] = TtlCache(0, negative_seconds=5)

    # workspaces
    def create_workspace(
        self, workspace_id: str, name: str, currency: str | None, api_key_hash: str, key_tail: str = ""
    ) -> None:
        at = iso(now_utc())
        item = {
            "pk": f"WS#{workspace_id}",
            "sk": "WS",
            "t": "workspace",
            "ws": workspace_id,
            "name": name,
            "salt": secrets.token_hex(16),
            "rates": {},
            "smsc": FREE_SMS,
            "ca": at,
        }
        if currency is not None:  # absent: pending, set by the first order (adopt_currency)
            item["currency"] = currency
        self.t.put(item, "attribute_not_exists(pk)")
        # The directory of workspaces: scheduled jobs and ops list it without a scan.
        self.t.put({"pk": "WSLIST", "sk": workspace_id, "t": "workspace_ref", "name": name, "ca": at})
        # Its first key: the lookup, the listed key and the live count (adapters/api_key_store.py).
        for key_item in first_key_items(workspace_id, api_key_hash, key_tail, now_utc()):
            self.t.put(key_item, "attribute_not_exists(pk)")

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        def load() -> WorkspaceSettings | None:
            item = self.t.get(f"WS#{workspace_id}", "WS")
            return None if item is None else workspace_settings_of(workspace_id, item)

        return self._settings.get(workspace_id, load)

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        """The first order's currency becomes the workspace's, if it has none yet: a
        conditional write, so of two first orders racing, one sets it and both see it."""
        self._set_if_unset(workspace_id, "currency", currency)
        item = self.t.get(f"WS#{workspace_id}", "WS", consistent=True)
        if item is None:
            raise LookupError(f"workspace {workspace_id} not found")
        return workspace_settings_of(workspace_id, item)

    def save_scores(
        self,
        workspace_id: str,
        edges: RfmEdges,
        rhythm_days: float | None,
        model: ModelParams | None = None,
    ) -> None:
        values: dict[str, Any] = {
            ":rfm": to_av({k: [Decimal(str(round(v, 6))) for v in vs] for k, vs in edges.as_dict().items()}),
            ":at": to_av(iso(now_utc())),
        }
        expression = "SET rfm = :rfm, scored_at = :at"
        if rhythm_days is not None:
            values[":rhythm"] = to_av(Decimal(str(round(rhythm_days, 4))))
            expression += ", rhythm = :rhythm"
        if model is not None:
            values[":model"] = to_av(
                {k: Decimal(f"{v:.8g}") if isinstance(v, float) else v for k, v in model.as_dict().items()}
            )
            expression += ", model = :model"
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values,
        )
        self._settings.invalidate(workspace_id)

    def set_messaging(
        self,
        workspace_id: str,
        notifications: list[str],
        sender_email: str | None,
        sms_sender_id: str | None,
    ) -> None:
        """Switch transactional notifications and set the senders (None: unchanged)."""
        names = {"#n": "notify"}
        sets: list[str] = []
        values: dict[str, Any] = {}
        if notifications:
            sets.append("#n = :n")
            values[":n"] = {"SS": sorted(set(notifications))}
        for attribute, value in (("sender", sender_email), ("smsid", sms_sender_id)):
            if value is not None:
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = {"S": value}
        clauses = ["SET " + ", ".join(sets)] if sets else []
        if not notifications:
            clauses.append("REMOVE #n")
        clauses.append("ADD sv :one")  # the settings' version (adapters/workspace_settings_store.py)
        values[":one"] = {"N": "1"}
        expression = " ".join(clauses)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": {"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
        }
        kwargs["ExpressionAttributeValues"] = values
        self.t.client.update_item(**kwargs)
        self._settings.invalidate(workspace_id)

    def set_loyalty(self, workspace_id: str, rules: LoyaltyRules) -> None:
        """The points rules (`loy`, replaced whole: docs/loyalty.md)."""
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET loy = :l",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":l": to_av(loyalty_item(rules))},
        )
        self._settings.invalidate(workspace_id)

    def set_tiers(self, workspace_id: str, rules: TierRules) -> None:
        """The tier rules (`tie`, replaced whole: docs/loyalty.md#tiers)."""
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET tie = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": to_av(tiers_item(rules))},
        )
        self._settings.invalidate(workspace_id)

    def set_engagement(
        self, workspace_id: str, rules: dict[str, int] | None, attribution_days: int | None
    ) -> None:
        """Engagement tier thresholds (`engr`, replaced whole) and the attribution window in
        days (`attrd`); None leaves either unchanged."""
        sets: list[str] = []
        values: dict[str, Any] = {}
        if rules is not None:
            sets.append("engr = :r")
            values[":r"] = to_av({k: int(v) for k, v in rules.items()})
        if attribution_days is not None:
            sets.append("attrd = :d")
            values[":d"] = to_av(int(attribution_days))
        if not sets:
            return
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET " + ", ".join(sets) + " ADD sv :one",  # sv: the settings' version
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values | {":one": {"N": "1"}},
        )
        self._settings.invalidate(workspace_id)

    def set_sending(self, workspace_id: str, changes: SendingChanges) -> None:
        """Sending settings (checked by chalicelib.domain.messaging.sending): quiet hours
        `qs`/`qe`, caps by tier `caps` (replaced whole), `lowd`, default zone `dtz`."""
        stored = {
            "qs": changes.quiet_start,
            "qe": changes.quiet_end,
            "caps": changes.daily_caps,
            "lowd": changes.low_every_days,
            "dtz": changes.default_timezone,
        }
        values = {k: v for k, v in stored.items() if v is not None}
        if not values:
            return
        names = {f"#{k}": k for k in values}
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values) + " ADD sv :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":{k}": to_av(v) for k, v in values.items()} | {":one": {"N": "1"}},
        )
        self._settings.invalidate(workspace_id)

    def forget_settings(self, workspace_id: str) -> None:
        """Drop the cached settings (after a write of adapters/workspace_settings_store.py)."""
        self._settings.invalidate(workspace_id)

    def adopt_default_zone(self, workspace_id: str, zone: str) -> None:
        """A source's shop zone becomes the workspace's default zone if it has none yet."""
        self._set_if_unset(workspace_id, "dtz", zone)

    def _set_if_unset(self, workspace_id: str, attribute: str, value: str) -> None:
        """SET one workspace attribute only if it has none (a failed condition: another
        writer set it first, and theirs stands); the cached settings are dropped."""
        with contextlib.suppress(self.t.client.exceptions.ConditionalCheckFailedException):
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
                UpdateExpression="SET #a = :v",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#a)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"S": value}},
            )
        self._settings.invalidate(workspace_id)

    def workspace(self, workspace_id: str) -> dict[str, Any] | None:
        item = self.t.get(f"WS#{workspace_id}", "WS")
        if item:
            item.pop("salt", None)
        return item

    def set_rate(self, workspace_id: str, currency: str, rate: Decimal) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET rates.#c = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#c": currency},
            ExpressionAttributeValues={":r": to_av(rate)},
        )
        self._settings.invalidate(workspace_id)

    def workspace_ids(self) -> list[str]:
        ids: list[str] = []
        start = None
        while True:
            items, start = self.t.query("WSLIST", limit=1000, start=start, newest_first=False)
            ids.extend(i["sk"] for i in items)
            if start is None:
                return ids

    def workspace_for_key(self, api_key_hash: str) -> str | None:
        def load() -> str | None:
            item = self.t.get(f"KEY#{api_key_hash}", "KEY")
            return str(item["ws"]) if item else None

        return self._keys.get(api_key_hash, load)

    # sources
    def add_source(self, source: Source) -> None:
        (by_shop, by_shop_sk), (listed, listed_sk) = keys_of(source)
        item = {
            "pk": by_shop,
            "sk": by_shop_sk,
            "t": "source",
            "ws": source.workspace_id,
            "sid": source.source_id,
            "pl": source.platform.value,
            "shop": source.shop_domain,
            "secret": source.secret_ref,
            "ca": iso(now_utc()),
        }
        if source.default_region:
            item["rg"] = source.default_region
        if source.timezone:
            item["tz"] = source.timezone
        if source.birthday_meta_key:
            item["bk"] = source.birthday_meta_key
        item |= consent_key_fields(source.email_consent_keys, source.sms_consent_keys)
        item |= admin_fields(source)
        try:
            self.t.put(item, "attribute_not_exists(pk)")
        except self.t.client.exceptions.ConditionalCheckFailedException as exc:
            held = self.t.get(by_shop, by_shop_sk, consistent=True) or {}
            whose = (
                f"source {held.get('sid')} of this workspace"
                if held.get("ws") == source.workspace_id
                else "a source of another workspace"
            )
            raise Conflict(f"{source.platform.value} shop {source.shop_domain} is already {whose}") from exc
        self.t.put({**item, "pk": listed, "sk": listed_sk})

    def find_source(self, platform: str, shop_key: str) -> Source | None:
        def load() -> Source | None:
            item = self.t.get(f"SRC#{platform}#{shop_key}", "SRC")
            return None if item is None else source_of(item)

        return self._sources.get(f"{platform}#{shop_key}", load)

    def set_shop_zone(self, source: Source, zone: str) -> bool:
        """`tz` on both source items, each only if it differs (a repeat writes nothing more);
        then the workspace's default zone, if it has none."""
        changed = False
        for pk, sk in keys_of(source):
            with contextlib.suppress(self.t.client.exceptions.ConditionalCheckFailedException):
                self.t.client.update_item(
                    TableName=self.t.table,
                    Key={"pk": {"S": pk}, "sk": {"S": sk}},
                    UpdateExpression="SET tz = :z",
                    ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(tz) OR tz <> :z)",
                    ExpressionAttributeValues={":z": {"S": zone}},
                )
                changed = True
        self._sources.invalidate(f"{source.platform.value}#{source.shop_domain}")
        if changed:
            self.adopt_default_zone(source.workspace_id, zone)
        return changed

    def set_consent_keys(
        self, source: Source, email_keys: tuple[str, ...] | None, sms_keys: tuple[str, ...] | None
    ) -> None:
        update_consent_keys(self.t.client, self.t.table, source, email_keys, sms_keys)
        self._sources.invalidate(f"{source.platform.value}#{source.shop_domain}")

    def set_admin_api(self, connected: Source) -> None:
        """The source's Admin API connection (adm, av, aep) on both its items."""
        update_admin(self.t.client, self.t.table, connected)
        self._sources.invalidate(f"{connected.platform.value}#{connected.shop_domain}")

    def sources(self, workspace_id: str) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#SRC", limit=100, newest_first=False)
        return items

    def source_ids(self, workspace_id: str) -> list[str]:
        """The workspace's source ids, in id order (its sources' partition, one Query)."""
        return [str(item["sid"]) for item in self.sources(workspace_id)]

    def source(self, workspace_id: str, source_id: str) -> Source | None:
        """One of the workspace's sources by its id (its listed item, one GetItem)."""
        item = self.t.get(f"W#{workspace_id}#SRC", source_id)
        return None if item is None else source_of(item)


def source_of(item: dict[str, Any]) -> Source:
    """A source from either of its two items (the shop's, or the workspace's listed copy)."""
    return Source(
        workspace_id=item["ws"],
        source_id=item["sid"],
        platform=Platform(item["pl"]),
        shop_domain=item["shop"],
        secret_ref=item["secret"],
        default_region=item.get("rg"),
        timezone=item.get("tz"),
        birthday_meta_key=item.get("bk"),
        **consent_keys_of(item),
        erasing=bool(item.get("ers")),
        **admin_of(item),
    )
