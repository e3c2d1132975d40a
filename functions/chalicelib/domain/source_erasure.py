"""Erasing a source (Shopify's `shop/redact`): everything that came from one storefront.

`shop/redact` arrives 48 hours after a shop uninstalled. The source is marked (its
webhooks are refused), then the workspace's customers are walked twice (domain/walk.py,
no scan), one page at a time, resumably: each page plans what it removes (reads only),
journals the counts on the progress item, acts (every step idempotent), then commits the
counts and the cursor in one conditional write. A profile the source alone fed is erased
by the profile erasure path; a profile other sources fed too loses the source's orders,
platform ids and customer records, and keeps what the others gave (its figures recomputed
from the remaining order entries, its person data absorbed again from their records).
Then the source's quarantined bodies and earlier privacy requests go, and the audit entry
says what was removed, in counts. See docs/data-model.md ("Erasing a source").
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.ingest_images import CustomerImage, Image, OrderImage, PrivacyRequestImage
from chalicelib.domain.messaging.flow_engine import coupon_code
from chalicelib.domain.models import now_utc
from chalicelib.domain.order_entries import all_entries, entry_partitions, entry_source
from chalicelib.domain.outcomes import ApplyResult
from chalicelib.domain.ports import (
    ErasureAudit,
    ExportFiles,
    FlowReader,
    ProfileStore,
    SettingsReader,
    SourceErasureStore,
)
from chalicelib.domain.profile_model import Profile
from chalicelib.domain.profiles import MAX_ATTEMPTS
from chalicelib.domain.walk import CustomerWalk, Position
from chalicelib.domain.workspace_settings import WorkspaceSettings

EPOCH = datetime.min.replace(tzinfo=UTC)
PAGE = 100  # customers a page (one BatchGetItem of profiles)
PAGES_PER_RECORD = 1  # pages one stream record carries out before handing on
# The customers are walked twice: one who moved to a stage already walked while the first
# walk ran (an order on another store brings them back to `active`) is met by the second.
WALKS = {"walk": "verify", "verify": "rest"}
MOVED = "O#"
# Person data a profile takes from records; rebuilt from the remaining sources' records.
PERSON = ("ems", "phs", "xs", "e", "ph", "phx", "fn", "ln", "bd", "tz", "m", "pat", "lpt", "srcx")


def ext_parts(ext: str) -> tuple[str, str]:
    """(source id, platform customer id) of a platform id `<platform>:<source>:<id>`."""
    _, _, rest = ext.partition(":")
    source_id, _, customer_id = rest.partition(":")
    return source_id, customer_id


def profile_sources(item: dict[str, Any], entries: dict[str, Any]) -> set[str]:
    """Every source that gave a profile something: orders, platform ids, customer records."""
    return (
        {entry_source(k) for k in entries}
        | {ext_parts(x)[0] for x in item.get("xs") or ()}
        | set(item.get("srcx") or ())
    )


class Overtaken(Conflict):
    """The progress item moved under this attempt: another one carries the erasure on."""


@dataclass
class Plan:
    """What one profile loses: counts (journaled before acting) and the actions."""

    counts: Counter[str] = field(default_factory=Counter)
    ingest: list[str] = field(default_factory=list)
    crm: list[tuple[str, str]] = field(default_factory=list)
    erase: tuple[dict[str, Any], list[str]] | None = None  # profile, pointer ids
    rewrite: dict[str, Any] | None = None  # the profile as the other sources leave it
    pointers: list[tuple[str, list[str]]] = field(default_factory=list)  # merged id, keys to drop


class SourceErasure:
    def __init__(
        self,
        store: SourceErasureStore,
        walk: CustomerWalk,
        profiles: ProfileStore,
        workspaces: SettingsReader,
        audit: ErasureAudit,
        flows: FlowReader,
        page_size: int = PAGE,
    ) -> None:
        self.store = store
        self.walk = walk
        self.profiles = profiles
        self.workspaces = workspaces
        self.audit = audit
        self.flows = flows
        self.page_size = page_size

    # -- entry points ------------------------------------------------------------------
    def handle(self, request: PrivacyRequestImage) -> ApplyResult:
        """A `shop/redact` record of the ingest stream (or the next one of its chain)."""
        status = self.run(request.workspace_id, request.source_id, request.request_id, PAGES_PER_RECORD)
        if status["phase"] != "done" and not status.get("elsewhere"):
            self.store.continue_later(request.key, int(status["pages"]))
        return ApplyResult(None, f"privacy:{status['state']}")

    def run(
        self, workspace_id: str, source_id: str, request_id: str | None = None, pages: int | None = None
    ) -> dict[str, Any]:
        """Start (with a request id) or resume the erasure; at most `pages` pages (None:
        to the end). Returns its status; a finished one is left as it is."""
        progress = self.store.progress(workspace_id, source_id)
        if progress is None:
            if request_id is None:
                raise NotFound(f"no erasure of source {source_id}")
            progress = self._begin(workspace_id, source_id, request_id)
        done = 0
        while progress["ph"] != "done" and (pages is None or done < pages):
            try:
                self._step(workspace_id, source_id, progress)
            except Overtaken:
                return self.status(workspace_id, source_id) | {"elsewhere": True}
            done += 1
            progress = self.store.progress(workspace_id, source_id) or progress
        return self.status(workspace_id, source_id)

    def status(self, workspace_id: str, source_id: str) -> dict[str, Any]:
        progress = self.store.progress(workspace_id, source_id)
        if progress is None:
            raise NotFound(f"no erasure of source {source_id}")
        done = progress["ph"] == "done"
        return {
            "workspace_id": workspace_id,
            "source_id": source_id,
            "request_id": progress["rid"],
            "state": "source_erased" if done else "erasing",
            "phase": progress["ph"],
            "pages": int(progress.get("pg", 0)),
            "started_at": progress.get("at"),
            "finished_at": progress.get("done_at"),
            "removed": dict(sorted(progress["counts"].items())),
        }

    def purge_exports(self, workspace_id: str, source_id: str, files: ExportFiles) -> int:
        """After the erasure: the workspace's audience exports made before it started (they
        mix every source's customers, hashed). Operator credentials only: no function may
        touch the bucket. Returns how many went; a second purge finds none."""
        progress = self.store.progress(workspace_id, source_id)
        if progress is None or progress["ph"] != "done":
            return 0
        started = timemath.parse_iso(progress.get("at")) or now_utc()
        keys = files.older(f"exports/{workspace_id}/", started)
        if not keys:
            return 0
        files.delete(keys)
        self.store.add(workspace_id, source_id, int(progress["v"]), {"audience_exports": len(keys)})
        final = self.store.progress(workspace_id, source_id) or progress
        self.audit.record(workspace_id, final["rid"], self._entry(final, "source_erased"))
        return len(keys)

    # -- the steps -----------------------------------------------------------------------
    def _begin(self, workspace_id: str, source_id: str, request_id: str) -> dict[str, Any]:
        self.store.mark_source(workspace_id, source_id, request_id)
        progress = self.store.begin(workspace_id, source_id, request_id, timemath.iso(now_utc()) or "")
        self.audit.record(workspace_id, progress["rid"], self._entry(progress, "erasing"))
        return progress

    def _entry(self, progress: dict[str, Any], state: str) -> dict[str, Any]:
        return {
            "request": "shop_redact",
            "source_id": progress["src"],
            "at": progress.get("at"),
            "state": state,
            "removed": dict(sorted(progress["counts"].items())) or None,
        }

    def _step(self, workspace_id: str, source_id: str, progress: dict[str, Any]) -> None:
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise LookupError(f"workspace {workspace_id} not found")
        cursor = progress.get("cur") or ""
        version = int(progress["v"])
        if progress["ph"] in WALKS:
            page = next(self.walk.pages(workspace_id, Position.loads(cursor or None), self.page_size))
            plans = [
                plan
                for customer_id in dict.fromkeys(page.ids)
                if (item := page.profiles.get(customer_id)) is not None and item.get("t") == "profile"
                if (plan := self._plan(settings, source_id, item)) is not None
            ]
            after = page.after
            phase, next_cursor = (
                (WALKS.get(progress["ph"], "rest"), None)
                if after.finished
                else (progress["ph"], after.dumps())
            )
        else:
            plans = [self._rest(settings, source_id, progress["rid"])]
            phase, next_cursor = "done", None
        counts = sum((p.counts for p in plans), Counter())
        if progress.get("pend") is not None and progress.get("pcur", "") == cursor:
            counts = Counter(progress["pend"])  # this page was cut short: its first plan counts
        else:
            self.store.journal(workspace_id, source_id, version, cursor, dict(counts))
            version += 1
        for plan in plans:
            self._act(settings, source_id, plan)
        done_at = timemath.iso(now_utc()) if phase == "done" else None
        self.store.commit(workspace_id, source_id, version, phase, next_cursor, dict(counts), done_at)
        if phase == "done":
            final = self.store.progress(workspace_id, source_id) or progress
            self.audit.record(workspace_id, final["rid"], self._entry(final, "source_erased"))

    # -- one profile ------------------------------------------------------------------
    def _plan(self, ws: WorkspaceSettings, source_id: str, item: dict[str, Any]) -> Plan | None:
        workspace_id = ws.workspace_id
        entries = all_entries(self.profiles, workspace_id, item)
        own = sorted(k for k in entries if entry_source(k) == source_id)
        exts = sorted(x for x in item.get("xs") or () if ext_parts(x)[0] == source_id)
        if not (own or exts or source_id in (item.get("srcx") or ())):
            return None
        others = profile_sources(item, entries) - {source_id}
        plan = Plan()
        pointer_ids = [customer_id_for(ws.id_salt, k) for k in _identity_keys(item)]
        ids = list(dict.fromkeys([*entry_partitions(item), *pointer_ids]))
        order_keys = self.store.order_keys(workspace_id, own)
        customer_keys = [self.store.customer_key(workspace_id, source_id, ext_parts(x)[1]) for x in exts]
        runs = [r for c in ids for r in self.store.partition(f"W#{workspace_id}#FR#{c}")]
        checkout_keys = {
            r["sk"]: self.store.checkout_key(workspace_id, source_id, str(r.get("key")))
            for r in runs
            if r.get("t") == "flowrun"
        }
        live = self.store.ingest_items(order_keys + customer_keys + list(checkout_keys.values()))
        other_orders = {k.split(".", 1)[1] for k in entries if entry_source(k) != source_id}
        if not others:
            chosen = [r for r in runs if r.get("t") == "flowrun"]
        else:
            chosen = [
                r
                for r in runs
                if r.get("t") == "flowrun"
                and (
                    (f"{source_id}.{r.get('key')}" in own and str(r.get("key")) not in other_orders)
                    or checkout_keys[r["sk"]] in live
                )
            ]
        checkouts = [checkout_keys[r["sk"]] for r in chosen if checkout_keys[r["sk"]] in live]
        plan.ingest = [k for k in order_keys + customer_keys + checkouts if k in live]
        plan.counts.update(
            orders=sum(1 for k in order_keys if k in live),
            customer_records=sum(1 for k in customer_keys if k in live),
            checkouts=len(checkouts),
            flow_runs=len(chosen),
        )
        plan.crm += [(r["pk"], r["sk"]) for r in (runs if not others else chosen)]
        self._claims_and_coupons(ws, source_id, ids, chosen, erase=not others, plan=plan)
        attributions = self.store.existing([(f"W#{workspace_id}#ATTR", k) for k in order_keys])
        plan.crm += list(attributions)
        plan.counts["attributions"] = len(attributions)
        if not others:
            self._plan_erase(ws, item, ids, pointer_ids, plan)
        else:
            self._plan_rewrite(ws, source_id, item, entries, own, plan)
        return plan

    def _claims_and_coupons(
        self,
        ws: WorkspaceSettings,
        source_id: str,
        ids: list[str],
        runs: list[dict[str, Any]],
        erase: bool,
        plan: Plan,
    ) -> None:
        workspace_id = ws.workspace_id
        claims: list[dict[str, Any]] = []
        for c in ids:
            pk = f"W#{workspace_id}#MSG#{c}"
            if erase:
                claims += self.store.partition(pk)
                continue
            claims += self.store.partition(pk, f"txn:W#{workspace_id}#O#{source_id}#")
            for run in (r for r in runs if r.get("cid") == c):
                claims += self.store.partition(pk, f"flow:{run['flow']}:{run['key']}:")
        plan.crm += [(i["pk"], i["sk"]) for i in claims]
        plan.counts["send_claims"] = len({(i["pk"], i["sk"]) for i in claims})
        codes: list[tuple[str, str]] = []
        for run in runs:
            flow = self.flows.get_flow(workspace_id, str(run.get("flow")))
            steps = ((flow or {}).get("def") or {}).get("steps") or []
            for index, step in enumerate(steps):
                coupon = (step.get("send") or {}).get("coupon")
                if coupon is None:
                    continue
                key = f"flow:{run['flow']}:{run['key']}:{index}"
                code = _coupon_code(
                    ws.id_salt, f"{workspace_id}|{run['cid']}|{key}", coupon.get("prefix") or ""
                )
                codes.append((f"W#{workspace_id}#CPN", code))
        coupons = self.store.existing(codes)
        plan.crm += list(coupons)
        plan.counts["coupons"] = len(coupons)

    def _plan_erase(
        self, ws: WorkspaceSettings, item: dict[str, Any], ids: list[str], pointer_ids: list[str], plan: Plan
    ) -> None:
        workspace_id, cid = ws.workspace_id, item["cid"]
        key_of = partial(self.store.profile_key, workspace_id)  # a profile's partition
        pointers = [c for c in dict.fromkeys(pointer_ids + list(item.get("mrg") or [])) if c != cid]
        found = self.store.existing(
            [(key_of(c), "P") for c in pointers]
            + [(f"W#{workspace_id}#ENG#{cid}", "E"), (f"W#{workspace_id}#PM#{cid}", "M")]
        )
        plan.erase = (item, pointers)
        plan.counts.update(
            profiles_erased=1,
            identity_pointers=sum(1 for c in pointers if found.get((key_of(c), "P"), {}).get("into") == cid),
            moved_entries=sum(len(self.store.partition(key_of(c), MOVED)) for c in ids),
            engagement=int((f"W#{workspace_id}#ENG#{cid}", "E") in found),
            segment_memberships=len(found.get((f"W#{workspace_id}#PM#{cid}", "M"), {}).get("segs") or ()),
        )

    def _plan_rewrite(
        self,
        ws: WorkspaceSettings,
        source_id: str,
        item: dict[str, Any],
        entries: dict[str, dict[str, Any]],
        own: list[str],
        plan: Plan,
    ) -> None:
        workspace_id, cid = ws.workspace_id, item["cid"]
        key_of = partial(self.store.profile_key, workspace_id)  # a profile's partition
        moved_own = [k for k in own if k not in (item.get("o") or {})]
        plan.crm += [(key_of(c), MOVED + k) for c in entry_partitions(item) for k in moved_own]
        rewritten = self.rewritten(ws, source_id, item, entries)
        plan.rewrite = rewritten
        gone = _identity_keys(item) - _identity_keys(rewritten)
        gone_ids = [customer_id_for(ws.id_salt, k) for k in gone]
        found = self.store.existing([(key_of(c), "P") for c in gone_ids if c != cid])
        pointers = [key for key, i in found.items() if i.get("t") == "pointer" and i.get("into") == cid]
        plan.crm += pointers
        merged = self.store.existing([(key_of(c), "P") for c in item.get("mrg") or ()])
        kept = {"phone_k": rewritten.get("phs") or set(), "ext_k": rewritten.get("xs") or set()}
        for (_, _), pointer in merged.items():
            drop = [
                name
                for name in ("phone_k", "ext_k")
                if pointer.get(name) and str(pointer[name]).split("#", 1)[1] not in kept[name]
            ]
            if drop and pointer.get("into") == cid:
                plan.pointers.append((pointer["cid"], drop))
        plan.counts.update(
            profiles_rewritten=1, moved_entries=len(moved_own), identity_pointers=len(pointers)
        )

    def rewritten(
        self, ws: WorkspaceSettings, source_id: str, item: dict[str, Any], entries: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """The profile as the other sources alone leave it: their order entries (figures
        recomputed), and the person data their own records give, absorbed in time order."""
        workspace_id = ws.workspace_id
        profile = Profile.load(copy.deepcopy(item))
        o = profile.item["o"]
        for key in [k for k in o if entry_source(k) == source_id]:
            del o[key]
        if profile.item.get("so"):
            moved = self.profiles.moved_entries(workspace_id, entry_partitions(item))
            profile.rebuild_moved({k: e for k, e in moved.items() if entry_source(k) != source_id})
        indexed = {name: profile.item.pop(name, None) for name in ("phone_k", "ext_k")}
        for name in PERSON:
            profile.item.pop(name, None)
        for name in ("ce", "cs"):  # a consent Patron withdrew itself stays; a store's is re-read
            if not (profile.item.get(name) or {}).get("src"):
                profile.item.pop(name, None)
        order_keys = self.store.order_keys(workspace_id, [k for k in entries if entry_source(k) != source_id])
        customer_keys = [
            self.store.customer_key(workspace_id, *ext_parts(x))
            for x in item.get("xs") or ()
            if ext_parts(x)[0] != source_id
        ]
        found = self.store.ingest_images(order_keys + customer_keys)
        for record in sorted(found, key=_in_time_order):
            if isinstance(record, CustomerImage):
                profile.item.setdefault("srcx", set()).add(record.source_id)
                person, snap = record.person, None
            elif isinstance(record, OrderImage) and record.snapshot.is_order:
                person, snap = record.snapshot.person, record.snapshot
            else:
                continue
            profile.absorb(person, record.updated_at)
            if snap is not None and snap.counted and snap.titles and snap.created_at:
                t = int(snap.created_at.timestamp())
                if "lpt" not in profile.item or t >= int(profile.item["lpt"]["t"]):
                    profile.item["lpt"] = {"t": t, "n": list(snap.titles)}
        profile.item.setdefault("m", False)
        # An index key whose identity is still there stays (it is how that identity is found).
        for name, attr in (("phone_k", "phs"), ("ext_k", "xs")):
            value = indexed[name]
            if value and str(value).split("#", 1)[1] in (profile.item.get(attr) or ()):
                profile.item[name] = value
        profile.recompute(ws)
        return profile.item

    def _act(self, ws: WorkspaceSettings, source_id: str, plan: Plan) -> None:
        workspace_id = ws.workspace_id
        self.store.erase_ingest(plan.ingest)
        self.store.delete(plan.crm)
        if plan.erase is not None:
            item, pointers = plan.erase
            self.audit.erase_profile(workspace_id, item, pointers)
        if plan.rewrite is not None:
            self._save(ws, source_id, plan.rewrite)
        for merged_id, names in plan.pointers:
            cid = (plan.rewrite or {}).get("cid", "")
            self.store.drop_pointer_keys(workspace_id, merged_id, cid, names)

    def _save(self, ws: WorkspaceSettings, source_id: str, item: dict[str, Any]) -> None:
        """The rewritten profile over the rev it was read at; on a conflict, read and
        rebuild again (the source's moved items are gone by then: rebuilding skips them)."""
        for _ in range(MAX_ATTEMPTS):
            rev = int(item.get("rev", 0))
            item["rev"], item["ua"] = rev + 1, timemath.iso(now_utc())
            try:
                self.profiles.save(item, rev, [], [])
                return
            except Conflict:
                current = self.store.profile(ws.workspace_id, item["cid"])
                if current is None or current.get("t") != "profile":
                    return  # erased or merged meanwhile: nothing of the source is left on it here
                entries = all_entries(self.profiles, ws.workspace_id, current)
                item = self.rewritten(ws, source_id, current, entries)
        raise Conflict("profile kept changing while its source was erased; the page is retried")

    # -- after the walk -----------------------------------------------------------------
    def _rest(self, ws: WorkspaceSettings, source_id: str, request_id: str) -> Plan:
        """The source's quarantined bodies, and its earlier privacy requests' exports and
        ingest items (they hold the person)."""
        workspace_id = ws.workspace_id
        plan = Plan()
        quarantined = self.store.quarantined(workspace_id, source_id)
        plan.crm += [(f"W#{workspace_id}#Q", q) for q in quarantined]
        requests = [
            str(i["rid"])
            for i in self.store.partition(f"W#{workspace_id}#PRIVACY", "req#")
            if i.get("source_id") == source_id and str(i.get("rid")) != request_id
        ]
        exports = self.store.existing([(f"W#{workspace_id}#PRIVACY", f"export#{r}") for r in requests])
        plan.crm += list(exports)
        keys = [self.store.privacy_key(workspace_id, source_id, r) for r in requests]
        live = self.store.ingest_items(keys)
        plan.ingest = [k for k in keys if k in live]
        plan.counts.update(
            quarantined=len(quarantined), privacy_exports=len(exports), privacy_requests=len(live)
        )
        return plan


def _in_time_order(record: Image) -> tuple[datetime, str]:
    """A record's last change (else its creation), then its key: the order the stored
    `ua`/`ca` texts sort in."""
    if isinstance(record, OrderImage):
        at = record.updated_at or record.snapshot.created_at
    else:
        at = getattr(record, "updated_at", None) or getattr(record, "created_at", None)
    return (at or EPOCH, record.key)


def _identity_keys(item: dict[str, Any]) -> set[str]:
    return (
        {"email:" + e for e in item.get("ems") or ()}
        | {"phone:" + p for p in item.get("phs") or ()}
        | {"ext:" + x for x in item.get("xs") or ()}
    )


def _coupon_code(salt: str, message_key: str, prefix: str) -> str:
    return coupon_code(salt, message_key, prefix)
