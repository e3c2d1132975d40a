"""In-memory fakes of the privacy ports: PrivacyStore, ErasureStore, SourceErasureStore.

They hold the CRM and ingest tables' items as plain dicts (the layouts of
docs/data-model.md, with the adapters' key builders), so the contract suites
(tests/integration/test_contract_privacy_stores.py, test_contract_source_erasure_store.py)
seed and read the same items on both sides.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.adapters import records
from chalicelib.adapters.ingest_store import order_keys
from chalicelib.adapters.order_items import image
from chalicelib.adapters.person_index import holding_refs, index_items, index_pk
from chalicelib.adapters.privacy_store import export_item
from chalicelib.adapters.profile_items import profile_of, profile_pk
from chalicelib.adapters.source_erasure_store import (
    COUNTER,
    INDEX_KEYS,
    MOVED,
    PK,
    TOMBSTONE,
    live_records,
    privacy_request_keys,
    progress_of,
    source_record_keys,
)
from chalicelib.adapters.source_settings import source_keys
from chalicelib.adapters.ticket_store import HEAD, customer_pk, ticket_pk
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.erasure_values import (
    ErasureProgress,
    Holding,
    IngestRef,
    ItemRef,
    MergedPointer,
    ProfileRemains,
    RunItem,
    SourceRecords,
)
from chalicelib.domain.ingest_images import Image
from chalicelib.domain.source_erasure import Overtaken
from chalicelib.domain.timemath import iso


class FakeTables:
    """The CRM table ((pk, sk) -> item) and the ingest table (pk -> item)."""

    def __init__(self) -> None:
        self.crm: dict[ItemRef, dict[str, Any]] = {}
        self.ingest: dict[str, dict[str, Any]] = {}

    def put_crm(self, item: Mapping[str, Any]) -> None:
        self.crm[(item["pk"], item["sk"])] = copy.deepcopy(dict(item))

    def get_crm(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.crm.get((pk, sk))
        return copy.deepcopy(item) if item is not None else None

    def put_ingest(self, item: Mapping[str, Any]) -> None:
        self.ingest[item["pk"]] = copy.deepcopy(dict(item))

    def get_ingest(self, pk: str) -> dict[str, Any] | None:
        item = self.ingest.get(pk)
        return copy.deepcopy(item) if item is not None else None

    def partition(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        """Sorted by sort key, as a Query answers."""
        return [
            copy.deepcopy(self.crm[key])
            for key in sorted(k for k in self.crm if k[0] == pk and k[1].startswith(prefix))
        ]

    def existing(self, keys: Sequence[ItemRef]) -> dict[ItemRef, dict[str, Any]]:
        return {k: copy.deepcopy(self.crm[k]) for k in dict.fromkeys(keys) if k in self.crm}

    def delete(self, pk: str, sk: str) -> bool:
        return self.crm.pop((pk, sk), None) is not None


class FakePrivacyStore:
    def __init__(self, tables: FakeTables | None = None) -> None:
        self.tables = tables or FakeTables()

    def erase_profile(self, workspace_id: str, customer_id: str, pointer_ids: list[str]) -> int:
        crm, deleted = self.tables.crm, 0
        for pointer_id in dict.fromkeys(pointer_ids):
            key = (profile_pk(workspace_id, pointer_id), "P")
            if key in crm and crm[key].get("into") == customer_id:
                del crm[key]
                deleted += 1
        for entry_id in dict.fromkeys([customer_id, *pointer_ids]):
            for item in self.tables.partition(profile_pk(workspace_id, entry_id), MOVED):
                deleted += self.tables.delete(item["pk"], item["sk"])
        self.tables.delete(profile_pk(workspace_id, customer_id), "P")
        self.tables.delete(f"W#{workspace_id}#ENG#{customer_id}", "E")
        return deleted + 1

    def mark_erased(self, workspace_id: str, customer_ids: list[str], at: datetime) -> None:
        for customer_id in dict.fromkeys(customer_ids):
            item = self.tables.crm.setdefault((profile_pk(workspace_id, customer_id), "X"), {})
            item.update(pk=profile_pk(workspace_id, customer_id), sk="X", t="erased")
            item.setdefault("at", iso(at))

    def redact_records(
        self, workspace_id: str, order_ids: Sequence[str], customers: Sequence[tuple[str, str]] = ()
    ) -> int:
        keys = order_keys(workspace_id, order_ids) + [
            records.customer_pk(workspace_id, *c) for c in customers
        ]
        changed = 0
        for key in dict.fromkeys(keys):
            item = self.tables.ingest.get(key)
            if item is None:
                continue
            changed += item.pop("p", None) is not None
            item["rdx"] = True
        return changed

    def record(self, workspace_id: str, request_id: str, entry: dict[str, Any]) -> None:
        key = (f"W#{workspace_id}#PRIVACY", f"req#{request_id}")
        item = self.tables.crm.setdefault(key, {"pk": key[0], "sk": key[1]})
        item.update({"t": "privacy", "rid": request_id, **copy.deepcopy(entry)})

    def tally(self, workspace_id: str, request_id: str, counts: dict[str, int]) -> None:
        moving = {k: n for k, n in counts.items() if n}
        if not moving:
            return
        key = (f"W#{workspace_id}#PRIVACY", f"req#{request_id}")
        item = self.tables.crm.setdefault(key, {"pk": key[0], "sk": key[1]})
        item["t"] = "privacy"
        for name, n in moving.items():
            item[name] = item.get(name, 0) + n

    def save_export(self, workspace_id: str, request_id: str, payload: bytes, ttl_days: int) -> None:
        self.tables.put_crm(export_item(workspace_id, request_id, payload, ttl_days))

    def requests(self, workspace_id: str) -> list[dict[str, Any]]:
        items = self.tables.partition(f"W#{workspace_id}#PRIVACY")[:100]
        return [
            {k: v for k, v in i.items() if k not in ("pk", "sk", "t", "body")}
            for i in items
            if i.get("t") == "privacy"
        ]

    def export(self, workspace_id: str, request_id: str) -> dict[str, Any] | None:
        item = self.tables.crm.get((f"W#{workspace_id}#PRIVACY", f"export#{request_id}"))
        return json.loads(gzip.decompress(item["body"])) if item else None


class FakeErasure:
    """ErasureStore without audience exports (`XP#` refs follow nothing, as with no bucket)."""

    PARTITIONS = {"FR": "flow_runs_deleted", "MSG": "claims_deleted", "CAP": "caps_deleted"}
    KINDS = {"K": "checkouts_redacted", "Q": "quarantined_deleted", "CPN": "coupons_deleted"}
    KINDS |= {"XP": "exports_rewritten", "DR": "data_exports_deleted"}

    def __init__(self, tables: FakeTables | None = None) -> None:
        self.tables = tables or FakeTables()

    def hold(self, workspace_id: str, holdings: Sequence[Holding], ttl_days: int | None = None) -> None:
        self.add(workspace_id, holding_refs(holdings), ttl_days)

    def add(self, workspace_id: str, refs: Sequence[tuple[str, str]], ttl_days: int | None = None) -> None:
        for item in index_items(workspace_id, refs, ttl_days):
            self.tables.put_crm(item)

    def erase_person(self, workspace_id: str, person_id: str, hashes: set[str]) -> dict[str, int]:
        counts: dict[str, int] = {}

        def tally(name: str) -> None:
            counts[name] = counts.get(name, 0) + 1

        for prefix, name in self.PARTITIONS.items():
            for item in self.tables.partition(f"W#{workspace_id}#{prefix}#{person_id}"):
                if self.tables.delete(item["pk"], item["sk"]):
                    tally(name)
        if self.tables.delete(f"W#{workspace_id}#ENG#{person_id}", "E"):
            tally("engagement_deleted")
        if tickets := self.redact_tickets(workspace_id, person_id):
            counts["tickets_redacted"] = tickets
        for item in self.tables.partition(index_pk(workspace_id, person_id)):
            kind, _, ref = item["sk"].partition("#")
            if self._follow(workspace_id, kind, ref):
                tally(self.KINDS.get(kind, "other_deleted"))
            if self.tables.delete(item["pk"], item["sk"]):
                tally("index_items_deleted")
        return counts

    def redact_tickets(self, workspace_id: str, customer_id: str) -> int:
        """As adapters/ticket_store.py's `redact_tickets`: each of the customer's tickets loses
        its subject and its events' `body` and `subject` (marked `rdx`), then its link to
        them; the number of tickets changed (a retry: 0)."""
        changed = 0
        for link in self.tables.partition(customer_pk(workspace_id, customer_id)):
            touched = False
            for item in self.tables.partition(ticket_pk(workspace_id, str(link["tid"]))):
                held = self.tables.crm[(item["pk"], item["sk"])]
                if item["sk"] == HEAD and item.get("sub"):
                    held.update(sub="", rdx=True)
                elif item["sk"] != HEAD and ({"body", "subject"} & set(item.get("d") or {})):
                    for name in ("body", "subject"):
                        held["d"].pop(name, None)
                    held["rdx"] = True
                else:
                    continue
                touched = True
            self.tables.delete(link["pk"], link["sk"])
            changed += touched
        return changed

    def _follow(self, workspace_id: str, kind: str, ref: str) -> bool:
        targets = {
            "Q": (f"W#{workspace_id}#Q", ref),
            "CPN": (f"W#{workspace_id}#CPN", ref),
            "DR": (f"W#{workspace_id}#PRIVACY", f"export#{ref}"),
        }
        if kind == "K":
            return self.redact_ingest(ref)
        return kind in targets and self.tables.delete(*targets[kind])

    def redact_attributions(self, workspace_id: str, order_ids: Sequence[str]) -> int:
        changed = 0
        for order_pk in dict.fromkeys(order_keys(workspace_id, order_ids)):
            item = self.tables.crm.get((f"W#{workspace_id}#ATTR", order_pk))
            if item is None:
                continue
            changed += item.pop("cid", None) is not None
            item.pop("mk", None)
            item["rdx"] = True
        return changed

    def redact_ingest(self, pk: str) -> bool:
        item = self.tables.ingest.get(pk)
        if item is None:
            return False
        item.pop("cid", None)
        item["rdx"] = True
        return item.pop("p", None) is not None


class FakeSourceErasureStore:
    def __init__(self, tables: FakeTables | None = None) -> None:
        self.tables = tables or FakeTables()

    # -- progress ------------------------------------------------------------------
    def _key(self, workspace_id: str, source_id: str) -> ItemRef:
        return (PK, f"{workspace_id}#{source_id}")

    def progress(self, workspace_id: str, source_id: str) -> ErasureProgress | None:
        item = self.tables.crm.get(self._key(workspace_id, source_id))
        return None if item is None else progress_of(item)

    def begin(self, workspace_id: str, source_id: str, request_id: str, at: str) -> ErasureProgress:
        pk, sk = self._key(workspace_id, source_id)
        item = {"pk": pk, "sk": sk, "t": "source_erasure", "ws": workspace_id, "src": source_id}
        item |= {"rid": request_id, "ph": "walk", "pg": 0, "v": 0, "at": at}
        self.tables.crm.setdefault((pk, sk), item)
        found = self.progress(workspace_id, source_id)
        assert found is not None
        return found

    def _at(self, workspace_id: str, source_id: str, version: int) -> dict[str, Any]:
        item = self.tables.crm.get(self._key(workspace_id, source_id))
        if item is None or item.get("v") != version:
            raise Overtaken("source erasure progressed elsewhere")
        item["v"] = version + 1
        return item

    def journal(
        self, workspace_id: str, source_id: str, version: int, cursor: str, counts: Mapping[str, int]
    ) -> None:
        item = self._at(workspace_id, source_id, version)
        item.update(pcur=cursor, pend=json.dumps(dict(counts), sort_keys=True))

    def commit(
        self,
        workspace_id: str,
        source_id: str,
        version: int,
        phase: str,
        cursor: str | None,
        counts: Mapping[str, int],
        done_at: str | None = None,
    ) -> None:
        item = self._at(workspace_id, source_id, version)
        item.update(ph=phase, cur=cursor or "", pg=item["pg"] + 1)
        if done_at:
            item["done_at"] = done_at
        item.pop("pcur", None)
        item.pop("pend", None)
        for kind, n in counts.items():
            if n:
                item[COUNTER + kind] = item.get(COUNTER + kind, 0) + int(n)

    def add(self, workspace_id: str, source_id: str, version: int, counts: Mapping[str, int]) -> None:
        item = self._at(workspace_id, source_id, version)
        for kind, n in counts.items():
            item[COUNTER + kind] = item.get(COUNTER + kind, 0) + int(n)

    def mark_source(self, workspace_id: str, source_id: str, request_id: str) -> bool:
        listed = self.tables.crm.get((f"W#{workspace_id}#SRC", source_id))
        if listed is None:
            return False
        for key in source_keys(listed["pl"], listed["shop"], workspace_id, source_id):
            self.tables.crm[key]["ers"] = request_id
        return True

    def continue_later(self, ingest_key: str, pages: int) -> None:
        item = self.tables.ingest.get(ingest_key)
        if item is not None and ("stp" not in item or item["stp"] < pages):
            item["stp"] = pages

    # -- ingest items ----------------------------------------------------------------
    def _live(self, keys: Sequence[str]) -> set[str]:
        return {k for k in keys if k in self.tables.ingest and self.tables.ingest[k].get("t") != TOMBSTONE}

    def source_records(
        self,
        workspace_id: str,
        source_id: str,
        order_ids: Sequence[str],
        customer_ids: Sequence[str],
        checkout_ids: Sequence[str],
    ) -> SourceRecords:
        keys = source_record_keys(workspace_id, source_id, order_ids, customer_ids, checkout_ids)
        return live_records(keys, self._live([k for kind in keys for k in kind.values()]))

    def live_privacy_requests(
        self, workspace_id: str, source_id: str, request_ids: Sequence[str]
    ) -> list[IngestRef]:
        keys = privacy_request_keys(workspace_id, source_id, request_ids)
        live = self._live(keys)
        return [k for k in keys if k in live]

    def order_keys(self, workspace_id: str, order_ids: Sequence[str]) -> list[str]:
        return order_keys(workspace_id, order_ids)

    def customer_key(self, workspace_id: str, source_id: str, customer_id: str) -> str:
        return records.customer_pk(workspace_id, source_id, customer_id)

    def ingest_images(self, keys: list[str]) -> list[Image]:
        live = self._live(keys)
        found = (image(copy.deepcopy(self.tables.ingest[k])) for k in dict.fromkeys(keys) if k in live)
        return [i for i in found if i is not None]

    def erase_ingest(self, keys: Sequence[IngestRef]) -> None:
        for key in dict.fromkeys(keys):
            if key in self._live([key]):
                self.tables.ingest[key] = {"pk": key, "t": TOMBSTONE, "ws": key.split("#")[1], "rdx": True}

    # -- CRM items -------------------------------------------------------------------
    def flow_run_items(self, workspace_id: str, customer_ids: Sequence[str]) -> list[RunItem]:
        return [
            RunItem(
                ref=(i["pk"], i["sk"]),
                customer_id=str(i.get("cid", "")),
                is_run=i.get("t") == "flowrun",
                flow_id=str(i.get("flow")),
                key=str(i.get("key")),
            )
            for c in customer_ids
            for i in self.tables.partition(f"W#{workspace_id}#FR#{c}")
        ]

    def send_claims(
        self,
        workspace_id: str,
        customer_id: str,
        source_id: str | None = None,
        runs: Sequence[tuple[str, str]] = (),
    ) -> list[ItemRef]:
        pk = f"W#{workspace_id}#MSG#{customer_id}"
        if source_id is None:
            prefixes = [""]
        else:
            prefixes = [f"txn:W#{workspace_id}#O#{source_id}#"] + [f"flow:{f}:{k}:" for f, k in runs]
        return [(i["pk"], i["sk"]) for p in prefixes for i in self.tables.partition(pk, p)]

    def coupons(self, workspace_id: str, codes: Sequence[str]) -> list[ItemRef]:
        return list(self.tables.existing([(f"W#{workspace_id}#CPN", c) for c in codes]))

    def attributions(self, workspace_id: str, order_ids: Sequence[str]) -> list[ItemRef]:
        keys = order_keys(workspace_id, order_ids)
        return list(self.tables.existing([(f"W#{workspace_id}#ATTR", k) for k in keys]))

    def profile_remains(
        self, workspace_id: str, customer_id: str, pointer_ids: Sequence[str], entry_ids: Sequence[str]
    ) -> ProfileRemains:
        pointers = self.tables.existing([(profile_pk(workspace_id, c), "P") for c in pointer_ids])
        membership = self.tables.crm.get((f"W#{workspace_id}#PM#{customer_id}", "M")) or {}
        return ProfileRemains(
            pointers_into=sum(1 for i in pointers.values() if i.get("into") == customer_id),
            moved_entries=sum(
                len(self.tables.partition(profile_pk(workspace_id, c), MOVED)) for c in entry_ids
            ),
            engagement=(f"W#{workspace_id}#ENG#{customer_id}", "E") in self.tables.crm,
            segment_memberships=len(membership.get("segs") or ()),
        )

    def moved_entry_refs(
        self, workspace_id: str, customer_ids: Sequence[str], order_ids: Sequence[str]
    ) -> list[ItemRef]:
        return [(profile_pk(workspace_id, c), MOVED + k) for c in customer_ids for k in order_ids]

    def pointers_into(self, workspace_id: str, customer_id: str, pointer_ids: Sequence[str]) -> list[ItemRef]:
        found = self.tables.existing([(profile_pk(workspace_id, c), "P") for c in pointer_ids])
        return [k for k, i in found.items() if i.get("t") == "pointer" and i.get("into") == customer_id]

    def merged_pointers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[MergedPointer]:
        found = self.tables.existing([(profile_pk(workspace_id, c), "P") for c in customer_ids])
        return [
            MergedPointer(
                customer_id=str(i["cid"]),
                into=i.get("into"),
                phone=str(i["phone_k"]).split("#", 1)[1] if i.get("phone_k") else None,
                external_id=str(i["ext_k"]).split("#", 1)[1] if i.get("ext_k") else None,
            )
            for i in found.values()
        ]

    def privacy_requests(self, workspace_id: str, source_id: str) -> list[str]:
        items = self.tables.partition(f"W#{workspace_id}#PRIVACY", "req#")
        return [str(i["rid"]) for i in items if i.get("source_id") == source_id]

    def privacy_exports(self, workspace_id: str, request_ids: Sequence[str]) -> list[ItemRef]:
        return list(self.tables.existing([(f"W#{workspace_id}#PRIVACY", f"export#{r}") for r in request_ids]))

    def quarantined(self, workspace_id: str, source_id: str) -> list[ItemRef]:
        items = self.tables.partition(f"W#{workspace_id}#Q")
        return [(i["pk"], i["sk"]) for i in items if i.get("src") == source_id]

    def catalogue(self, workspace_id: str, source_id: str) -> list[ItemRef]:
        return [(i["pk"], i["sk"]) for i in self.tables.partition(f"W#{workspace_id}#PR#{source_id}")]

    def admin_secret(self, workspace_id: str, source_id: str) -> str | None:
        listed = self.tables.crm.get((f"W#{workspace_id}#SRC", source_id))
        return str(listed["adm"]) if listed is not None and listed.get("adm") else None

    def disconnect(self, workspace_id: str, source_id: str) -> None:
        listed = self.tables.crm.get((f"W#{workspace_id}#SRC", source_id))
        if listed is None:
            return
        for key in source_keys(listed["pl"], listed["shop"], workspace_id, source_id):
            for name in ("adm", "av", "aep"):
                self.tables.crm[key].pop(name, None)

    def delete(self, keys: Sequence[ItemRef]) -> None:
        for key in dict.fromkeys(keys):
            self.tables.crm.pop(key, None)

    def profile(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        item = self.tables.get_crm(profile_pk(workspace_id, customer_id), "P")
        return profile_of(item) if item is not None and item.get("t") == "profile" else None

    def drop_pointer_keys(self, workspace_id: str, customer_id: str, into: str, names: list[str]) -> None:
        item = self.tables.crm.get((profile_pk(workspace_id, customer_id), "P"))
        if item is not None and item.get("into") == into:
            for name in names:
                item.pop(INDEX_KEYS[name], None)
