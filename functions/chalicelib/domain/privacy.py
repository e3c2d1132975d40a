"""Privacy requests (Shopify's mandatory topics): erase, export, record.

Runs in the stream processor when a privacy request item is stored. Every step is
idempotent, so a redelivered record repeats nothing harmful. The audit entry holds
counts, never personal data.
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Protocol

from chalicelib.domain import records
from chalicelib.domain.customers import CustomerService, OrderView
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.models import now_utc
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.profiles import ApplyResult, ProfileStore, WorkspaceReader

EXPORT_TTL_DAYS = 30


class PrivacyStore(Protocol):
    def erase_profile(self, workspace_id: str, profile: dict[str, Any], pointer_ids: list[str]) -> int:
        """Delete the profile and the pointers into it; returns items deleted."""
        ...

    def redact_records(self, keys: list[str]) -> int:
        """Remove the person from ingest items (orders, customers); returns items changed."""
        ...

    def record(self, workspace_id: str, request_id: str, entry: dict[str, Any]) -> None: ...

    def save_export(self, workspace_id: str, request_id: str, payload: bytes, ttl_days: int) -> None: ...


class PrivacyService:
    def __init__(
        self,
        profiles: ProfileStore,
        workspaces: WorkspaceReader,
        store: PrivacyStore,
        customers: CustomerService,
    ) -> None:
        self.profiles = profiles
        self.workspaces = workspaces
        self.store = store
        self.customers = customers

    def handle(self, item: dict[str, Any]) -> ApplyResult:
        workspace_id, source_id = item["ws"], item["src"]
        request, request_id = item["req"], item["rid"]
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise LookupError(f"workspace {workspace_id} not found")
        person = records.person_from(item.get("p"))
        keys = identity_keys(person.email, person.phone, person.ext)
        found = self.profiles.find(workspace_id, settings.id_salt, keys) if keys else []
        listed = [records.order_pk(workspace_id, source_id, o) for o in item.get("ords") or []]
        entry: dict[str, Any] = {
            "request": request,
            "source_id": source_id,
            "at": records.iso(now_utc()),
            "profiles_found": len(found),
        }
        if request == "customers_redact":
            deleted, redacted = 0, 0
            for profile in found:
                order_keys = [
                    records.order_pk(workspace_id, *parts)
                    for key in all_entries(self.profiles, workspace_id, profile)
                    if (parts := records.split_public_order_id(key))
                ]
                customer_keys = []
                for ext in profile.get("xs", set()):
                    _, _, rest = ext.partition(":")
                    ext_source, _, ext_id = rest.partition(":")
                    customer_keys.append(records.customer_pk(workspace_id, ext_source, ext_id))
                pointers = [
                    customer_id_for(settings.id_salt, k)
                    for k in _profile_keys(profile)
                    if customer_id_for(settings.id_salt, k) != profile["cid"]
                ] + list(profile.get("mrg", []))
                redacted += self.store.redact_records(order_keys + customer_keys)
                deleted += self.store.erase_profile(workspace_id, profile, pointers)
            redacted += self.store.redact_records(listed)
            entry |= {"state": "erased", "items_deleted": deleted, "records_redacted": redacted}
        elif request == "customers_data_request":
            export = {
                "request_id": request_id,
                "customers": [
                    self.customers.get(workspace_id, p["cid"]).model_dump(mode="json") for p in found
                ],
                "orders": [
                    OrderView.of(o).model_dump(mode="json")
                    for o in self.customers.orders.get_orders(listed)
                    if "ver" in o
                ],
            }
            self.store.save_export(
                workspace_id, request_id, gzip.compress(json.dumps(export).encode()), EXPORT_TTL_DAYS
            )
            entry |= {"state": "export_ready", "orders_exported": len(export["orders"])}
        elif self.source_erasure is not None:  # shop_redact: the source's data, resumably
            return self.source_erasure.handle(item)  # (domain/source_erasure.py)
        else:
            entry |= {"state": "needs_operator"}
        self.store.record(workspace_id, request_id, entry)
        return ApplyResult(None, f"privacy:{entry['state']}")

    # shop/redact's executor (domain/source_erasure.py), set by the container
    source_erasure: Any = None


def _profile_keys(profile: dict[str, Any]) -> list[str]:
    return (
        ["email:" + e for e in profile.get("ems", set())]
        + ["phone:" + p for p in profile.get("phs", set())]
        + ["ext:" + x for x in profile.get("xs", set())]
    )
