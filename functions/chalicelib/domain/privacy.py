"""Privacy requests (Shopify's mandatory topics, and the admin API's erase and export for
any source): erase, export, record.

Runs in the stream processor when a privacy request item is stored. Every step is
idempotent and counts only what it changed, so a redelivered record repeats nothing
harmful and adds nothing to the counts. The audit entry holds counts, never personal data.
An erasure reaches everything of the person without a scan: their profile's partitions,
the partitions of every customer id their identity keys give (a guest's flow runs), and
the person index (docs/data-model.md, "Erasure: one person, everywhere").
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.customers import CustomerService, OrderView
from chalicelib.domain.erasure_values import HeldBy, Holding
from chalicelib.domain.errors import NotFound
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.ingest_images import CheckoutImage, PrivacyRequestImage
from chalicelib.domain.models import Person, now_utc
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.order_snapshot import public_order_id, split_public_order_id
from chalicelib.domain.outcomes import ApplyResult
from chalicelib.domain.ports import ProfileReader, SourceEraser, WorkspaceReader
from chalicelib.domain.privacy_ports import ErasureStore, PrivacyStore, RequestSink

EXPORT_TTL_DAYS = 30


class PrivacyService:
    def __init__(
        self,
        profiles: ProfileReader,
        workspaces: WorkspaceReader,
        store: PrivacyStore,
        customers: CustomerService,
        erasure: ErasureStore | None = None,
        source_erasure: SourceEraser | None = None,  # shop/redact's executor
    ) -> None:
        self.profiles = profiles
        self.workspaces = workspaces
        self.store = store
        self.customers = customers
        self.erasure = erasure
        self.source_erasure = source_erasure

    def handle(self, item: PrivacyRequestImage) -> ApplyResult:
        if item.redacted:
            return ApplyResult(None, "privacy:handled")  # the request's own redaction
        workspace_id, source_id = item.workspace_id, item.source_id
        request, request_id = item.request, item.request_id
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise LookupError(f"workspace {workspace_id} not found")
        person = item.person
        keys = identity_keys(person.email, person.phone, person.ext)
        found: list[CustomerProfile]
        if item.customer_id:  # made through the admin API: the customer, by id (a merged-away
            live = self.profiles.load(workspace_id, item.customer_id)  # id: its survivor)
            found = [live] if live is not None else []
        else:
            found = self.profiles.find_profiles(workspace_id, settings.id_salt, keys) if keys else []
        listed = [public_order_id(source_id, o) for o in item.orders]
        entry: dict[str, Any] = {
            "request": request,
            "source_id": source_id,
            "at": timemath.iso(now_utc()),
        }
        if request == "customers_redact":
            self._erase(workspace_id, settings.id_salt, request_id, found, keys, listed)
            entry |= {"state": "erased"}
        elif request == "customers_data_request":
            export = {
                "request_id": request_id,
                "customers": [
                    self.customers.get(workspace_id, p.customer_id).model_dump(mode="json") for p in found
                ],
                "orders": [
                    OrderView.of(o).model_dump(mode="json")
                    for o in self.customers.orders.order_details(
                        workspace_id,
                        list(
                            dict.fromkeys(
                                listed + [k for p in found for k in self._order_ids(workspace_id, p)]
                            )
                        ),
                    )
                    if o.snapshot.is_order
                ],
            }
            self.store.save_export(
                workspace_id, request_id, gzip.compress(json.dumps(export).encode()), EXPORT_TTL_DAYS
            )
            if self.erasure is not None:  # an erasure of the customer deletes the export too
                holdings = [Holding(p.customer_id, HeldBy.DATA_EXPORT, request_id) for p in found]
                self.erasure.hold(workspace_id, holdings, EXPORT_TTL_DAYS)
            entry |= {"state": "export_ready", "orders_exported": len(export["orders"])}
        elif self.source_erasure is not None:  # shop_redact: the source's data, resumably
            return self.source_erasure.handle(item)  # (domain/source_erasure.py)
        else:
            entry |= {"state": "needs_operator"}
        # ADDed once the work is done: a retry after a crash counts the profiles once, a
        # redelivery after completion finds none left and adds 0
        self.store.tally(workspace_id, request_id, {"profiles_found": len(found)})
        self.store.record(workspace_id, request_id, entry)
        if request != "shop_redact" and self.erasure is not None and item.key:
            self.erasure.redact_ingest(item.key)  # the request itself held the person
        return ApplyResult(None, f"privacy:{entry['state']}")

    def _erase(
        self,
        workspace_id: str,
        salt: str,
        request_id: str,
        found: list[CustomerProfile],
        keys: list[str],
        listed: list[str],
    ) -> None:
        """Everything of the person: what their ids and the person index reach first, the
        profile last (a retry finds the profile, hence every id, until all is gone)."""
        person_ids = {customer_id_for(salt, k) for k in keys}
        hashes = _hashes(keys)
        for profile in found:
            profile_keys = sorted(profile.identity_keys())
            person_ids |= {*profile.person_ids(), *(customer_id_for(salt, k) for k in profile_keys)}
            hashes |= _hashes(profile_keys)
        # First: an order or stream record of the person applied meanwhile or replayed later
        # finds the mark instead of making a new profile from what is being erased.
        self.store.mark_erased(workspace_id, sorted(person_ids), now_utc())
        if self.erasure is not None:
            for person_id in sorted(person_ids):
                self.store.tally(
                    workspace_id, request_id, self.erasure.erase_person(workspace_id, person_id, hashes)
                )
        for profile in found:
            order_ids = self._order_ids(workspace_id, profile)
            customers = []
            for ext in sorted(profile.external_ids):
                _, _, rest = ext.partition(":")
                ext_source, _, ext_id = rest.partition(":")
                customers.append((ext_source, ext_id))
            pointers = [
                pointer
                for k in sorted(profile.identity_keys())
                if (pointer := customer_id_for(salt, k)) != profile.customer_id
            ] + list(profile.merged_ids or ())
            counts = {"records_redacted": self.store.redact_records(workspace_id, order_ids, customers)}
            if self.erasure is not None:
                counts["attributions_redacted"] = self.erasure.redact_attributions(workspace_id, order_ids)
            self.store.tally(workspace_id, request_id, counts)
            deleted = self.store.erase_profile(workspace_id, profile.customer_id, pointers)
            self.store.tally(workspace_id, request_id, {"items_deleted": deleted})
        redacted = self.store.redact_records(workspace_id, listed)
        self.store.tally(workspace_id, request_id, {"records_redacted": redacted})

    def _order_ids(self, workspace_id: str, profile: CustomerProfile) -> list[str]:
        """The public ids of every order of the profile (moved entries included)."""
        return [
            key for key in all_entries(self.profiles, workspace_id, profile) if split_public_order_id(key)
        ]

    # -- indexing what holds a person outside their profile ------------------------------
    def index_checkout(self, old: CheckoutImage | None, new: CheckoutImage) -> ApplyResult:
        """A checkout under each identity key of its person (only when those keys change)."""
        if self.erasure is None or new.redacted:
            return ApplyResult(None, "skipped")
        keys = _person_keys(new.person)
        if not keys or (old is not None and set(keys) <= set(_person_keys(old.person))):
            return ApplyResult(None, "skipped")
        settings = self.workspaces.settings(new.workspace_id)
        if settings is None:
            raise LookupError(f"workspace {new.workspace_id} not found")
        holdings = [Holding(customer_id_for(settings.id_salt, k), HeldBy.CHECKOUT, new.key) for k in keys]
        self.erasure.hold(new.workspace_id, holdings)
        return ApplyResult(None, "indexed")


class PrivacyRequests:
    """Erase and export on demand, for a customer of any source: stored as a privacy item
    that the ingest stream carries out with `PrivacyService`, as it does Shopify's."""

    def __init__(self, profiles: ProfileReader, sink: RequestSink, store: PrivacyStore) -> None:
        self.profiles = profiles
        self.sink = sink
        self.store = store

    def request(self, workspace_id: str, customer_id: str, request: str) -> str:
        if self.profiles.load(workspace_id, customer_id) is None:  # a merged-away id is its survivor's
            raise NotFound("customer not found")
        request_id = "api_" + secrets.token_hex(8)
        self.sink.put(workspace_id, request_id, request, customer_id)
        return request_id

    def export(self, workspace_id: str, request_id: str) -> dict[str, Any]:
        export = self.store.export(workspace_id, request_id)
        if export is None:
            raise NotFound("no export for this request yet")
        return export


def _person_keys(person: Person) -> list[str]:
    return identity_keys(person.email, person.phone, person.ext)


def _hashes(keys: list[str]) -> set[str]:
    """What an audience export holds of these emails and phones: their SHA-256."""
    return {
        hashlib.sha256(value.encode()).hexdigest()
        for key in keys
        for kind, _, value in [key.partition(":")]
        if kind in ("email", "phone")
    }
