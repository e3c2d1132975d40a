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
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile, LatestTitles, OrderEntry, entry_source
from chalicelib.domain.erasure_values import ErasureProgress, IngestRef, ItemRef, RunItem
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.ingest_images import CustomerImage, Image, OrderImage, PrivacyRequestImage
from chalicelib.domain.messaging.flow_engine import coupon_code
from chalicelib.domain.messaging.ports import FlowStore
from chalicelib.domain.models import now_utc
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.outcomes import ApplyResult
from chalicelib.domain.ports import ProfileStore, SecretEraser, SettingsReader
from chalicelib.domain.privacy_ports import ErasureAudit, ExportFiles, SourceErasureStore
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
# Person data a profile takes from records; rebuilt from the remaining sources' records.
PERSON_SETS = ("emails", "phones", "external_ids")
PERSON = (
    *("email", "phone", "phone_as_written", "first_name", "last_name", "birthday", "timezone"),
    *("member", "person_at", "latest_titles", "erased_sources"),
)


def ext_parts(ext: str) -> tuple[str, str]:
    """(source id, platform customer id) of a platform id `<platform>:<source>:<id>`."""
    _, _, rest = ext.partition(":")
    source_id, _, customer_id = rest.partition(":")
    return source_id, customer_id


def profile_sources(profile: CustomerProfile, entries: dict[str, OrderEntry]) -> set[str]:
    """Every source that gave a profile something: orders, platform ids, customer records."""
    return (
        {entry_source(k) for k in entries}
        | {ext_parts(x)[0] for x in profile.external_ids}
        | set(profile.erased_sources or ())
    )


class Overtaken(Conflict):
    """The progress item moved under this attempt: another one carries the erasure on."""


@dataclass
class Plan:
    """What one profile loses: counts (journaled before acting) and the actions."""

    counts: Counter[str] = field(default_factory=Counter)
    ingest: list[IngestRef] = field(default_factory=list)
    crm: list[ItemRef] = field(default_factory=list)
    erase: tuple[str, list[str]] | None = None  # customer id, pointer ids
    rewrite: CustomerProfile | None = None  # the profile as the other sources leave it
    pointers: list[tuple[str, list[str]]] = field(default_factory=list)  # merged id, keys to drop
    admin_secret: str | None = None  # the source's Admin API credentials, deleted last


class SourceErasure:
    def __init__(
        self,
        store: SourceErasureStore,
        walk: CustomerWalk,
        profiles: ProfileStore,
        workspaces: SettingsReader,
        audit: ErasureAudit,
        flows: FlowStore,  # its stored definitions: which run's sends issued coupons
        page_size: int = PAGE,
        secrets: SecretEraser | None = None,  # the source's Admin API secret (None: kept)
    ) -> None:
        self.store = store
        self.walk = walk
        self.profiles = profiles
        self.workspaces = workspaces
        self.audit = audit
        self.flows = flows
        self.page_size = page_size
        self.secrets = secrets

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
        while progress.phase != "done" and (pages is None or done < pages):
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
        done = progress.phase == "done"
        return {
            "workspace_id": workspace_id,
            "source_id": source_id,
            "request_id": progress.request_id,
            "state": "source_erased" if done else "erasing",
            "phase": progress.phase,
            "pages": progress.pages,
            "started_at": progress.started_at,
            "finished_at": progress.finished_at,
            "removed": dict(sorted(progress.counts.items())),
        }

    def purge_exports(self, workspace_id: str, source_id: str, files: ExportFiles) -> int:
        """After the erasure: the workspace's audience exports made before it started (they
        mix every source's customers, hashed). Operator credentials only: no function may
        touch the bucket. Returns how many went; a second purge finds none."""
        progress = self.store.progress(workspace_id, source_id)
        if progress is None or progress.phase != "done":
            return 0
        started = timemath.parse_iso(progress.started_at) or now_utc()
        keys = files.older(f"exports/{workspace_id}/", started)
        if not keys:
            return 0
        files.delete(keys)
        self.store.add(workspace_id, source_id, progress.version, {"audience_exports": len(keys)})
        final = self.store.progress(workspace_id, source_id) or progress
        self.audit.record(workspace_id, final.request_id, self._entry(final, "source_erased"))
        return len(keys)

    # -- the steps -----------------------------------------------------------------------
    def _begin(self, workspace_id: str, source_id: str, request_id: str) -> ErasureProgress:
        self.store.mark_source(workspace_id, source_id, request_id)
        progress = self.store.begin(workspace_id, source_id, request_id, timemath.iso(now_utc()) or "")
        self.audit.record(workspace_id, progress.request_id, self._entry(progress, "erasing"))
        return progress

    def _entry(self, progress: ErasureProgress, state: str) -> dict[str, Any]:
        return {
            "request": "shop_redact",
            "source_id": progress.source_id,
            "at": progress.started_at,
            "state": state,
            "removed": dict(sorted(progress.counts.items())) or None,
        }

    def _step(self, workspace_id: str, source_id: str, progress: ErasureProgress) -> None:
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise LookupError(f"workspace {workspace_id} not found")
        cursor = progress.cursor
        version = progress.version
        if progress.phase in WALKS:
            page = next(self.walk.pages(workspace_id, Position.loads(cursor or None), self.page_size))
            plans = [
                plan
                for customer_id in dict.fromkeys(page.ids)
                if (profile := page.customers.get(customer_id)) is not None
                if (plan := self._plan(settings, source_id, profile)) is not None
            ]
            after = page.after
            phase, next_cursor = (
                (WALKS.get(progress.phase, "rest"), None)
                if after.finished
                else (progress.phase, after.dumps())
            )
        else:
            plans = [self._rest(settings, source_id, progress.request_id)]
            phase, next_cursor = "done", None
        counts = sum((p.counts for p in plans), Counter())
        if progress.journal is not None and progress.journal_cursor == cursor:
            counts = Counter(progress.journal)  # this page was cut short: its first plan counts
        else:
            self.store.journal(workspace_id, source_id, version, cursor, dict(counts))
            version += 1
        for plan in plans:
            self._act(settings, source_id, plan)
        done_at = timemath.iso(now_utc()) if phase == "done" else None
        self.store.commit(workspace_id, source_id, version, phase, next_cursor, dict(counts), done_at)
        if phase == "done":
            final = self.store.progress(workspace_id, source_id) or progress
            self.audit.record(workspace_id, final.request_id, self._entry(final, "source_erased"))

    # -- one profile ------------------------------------------------------------------
    def _plan(self, ws: WorkspaceSettings, source_id: str, profile: CustomerProfile) -> Plan | None:
        workspace_id = ws.workspace_id
        entries = all_entries(self.profiles, workspace_id, profile)
        own = sorted(k for k in entries if entry_source(k) == source_id)
        exts = sorted(x for x in profile.external_ids if ext_parts(x)[0] == source_id)
        if not (own or exts or source_id in (profile.erased_sources or ())):
            return None
        others = profile_sources(profile, entries) - {source_id}
        plan = Plan()
        pointer_ids = [customer_id_for(ws.id_salt, k) for k in profile.identity_keys()]
        ids = list(dict.fromkeys([*profile.entry_partitions(), *pointer_ids]))
        runs = self.store.flow_run_items(workspace_id, ids)
        flow_runs = [r for r in runs if r.is_run]
        live = self.store.source_records(
            workspace_id, source_id, own, [ext_parts(x)[1] for x in exts], [r.key for r in flow_runs]
        )
        other_orders = {k.split(".", 1)[1] for k in entries if entry_source(k) != source_id}
        if not others:
            chosen = flow_runs
        else:
            chosen = [
                r
                for r in flow_runs
                if (f"{source_id}.{r.key}" in own and r.key not in other_orders) or r.key in live.checkouts
            ]
        checkouts = [live.checkouts[r.key] for r in chosen if r.key in live.checkouts]
        plan.ingest = [*live.orders.values(), *live.customers.values(), *checkouts]
        plan.counts.update(
            orders=len(live.orders),
            customer_records=len(live.customers),
            checkouts=len(checkouts),
            flow_runs=len(chosen),
        )
        plan.crm += [r.ref for r in (runs if not others else chosen)]
        self._claims_and_coupons(ws, source_id, ids, chosen, erase=not others, plan=plan)
        attributions = self.store.attributions(workspace_id, own)
        plan.crm += attributions
        plan.counts["attributions"] = len(attributions)
        if not others:
            self._plan_erase(ws, profile, ids, pointer_ids, plan)
        else:
            self._plan_rewrite(ws, source_id, profile, entries, own, plan)
        return plan

    def _claims_and_coupons(
        self,
        ws: WorkspaceSettings,
        source_id: str,
        ids: list[str],
        runs: list[RunItem],
        erase: bool,
        plan: Plan,
    ) -> None:
        workspace_id = ws.workspace_id
        claims: list[ItemRef] = []
        for c in ids:
            if erase:
                claims += self.store.send_claims(workspace_id, c)
                continue
            own_runs = [(r.flow_id, r.key) for r in runs if r.customer_id == c]
            claims += self.store.send_claims(workspace_id, c, source_id, own_runs)
        plan.crm += claims
        plan.counts["send_claims"] = len(set(claims))
        codes: list[str] = []
        for run in runs:
            flow = self.flows.flow(workspace_id, run.flow_id)
            steps = (flow.definition.get("steps") if flow is not None else None) or []
            for index, step in enumerate(steps):
                coupon = (step.get("send") or {}).get("coupon")
                if coupon is None:
                    continue
                key = f"flow:{run.flow_id}:{run.key}:{index}"
                code = _coupon_code(
                    ws.id_salt, f"{workspace_id}|{run.customer_id}|{key}", coupon.get("prefix") or ""
                )
                codes.append(code)
        coupons = self.store.coupons(workspace_id, codes)
        plan.crm += coupons
        plan.counts["coupons"] = len(coupons)

    def _plan_erase(
        self,
        ws: WorkspaceSettings,
        profile: CustomerProfile,
        ids: list[str],
        pointer_ids: list[str],
        plan: Plan,
    ) -> None:
        workspace_id, cid = ws.workspace_id, profile.customer_id
        pointers = [c for c in dict.fromkeys(pointer_ids + list(profile.merged_ids or [])) if c != cid]
        remains = self.store.profile_remains(workspace_id, cid, pointers, ids)
        plan.erase = (cid, pointers)
        plan.counts.update(
            profiles_erased=1,
            identity_pointers=remains.pointers_into,
            moved_entries=remains.moved_entries,
            engagement=int(remains.engagement),
            segment_memberships=remains.segment_memberships,
        )

    def _plan_rewrite(
        self,
        ws: WorkspaceSettings,
        source_id: str,
        profile: CustomerProfile,
        entries: dict[str, OrderEntry],
        own: list[str],
        plan: Plan,
    ) -> None:
        workspace_id, cid = ws.workspace_id, profile.customer_id
        moved_own = [k for k in own if k not in profile.orders]
        plan.crm += self.store.moved_entry_refs(workspace_id, profile.entry_partitions(), moved_own)
        rewritten = self.rewritten(ws, source_id, profile, entries)
        plan.rewrite = rewritten
        gone = profile.identity_keys() - rewritten.identity_keys()
        gone_ids = [customer_id_for(ws.id_salt, k) for k in gone]
        pointers = self.store.pointers_into(workspace_id, cid, [c for c in gone_ids if c != cid])
        plan.crm += pointers
        merged = self.store.merged_pointers(workspace_id, list(profile.merged_ids or ()))
        kept = {"phone": rewritten.phones, "external_id": rewritten.external_ids}
        for pointer in merged:
            found = {"phone": pointer.phone, "external_id": pointer.external_id}
            drop = [name for name, value in found.items() if value and value not in kept[name]]
            if drop and pointer.into == cid:
                plan.pointers.append((pointer.customer_id, drop))
        plan.counts.update(
            profiles_rewritten=1, moved_entries=len(moved_own), identity_pointers=len(pointers)
        )

    def rewritten(
        self, ws: WorkspaceSettings, source_id: str, read: CustomerProfile, entries: dict[str, OrderEntry]
    ) -> CustomerProfile:
        """The profile as the other sources alone leave it: their order entries (figures
        recomputed), and the person data their own records give, absorbed in time order."""
        workspace_id = ws.workspace_id
        profile = Profile.load(copy.deepcopy(read))
        state = profile.state
        for key in [k for k in state.orders if entry_source(k) == source_id]:
            del state.orders[key]
        if state.moved is not None:
            moved = self.profiles.moved_entries(workspace_id, read.entry_partitions())
            profile.rebuild_moved({k: e for k, e in moved.items() if entry_source(k) != source_id})
        indexed_phone, indexed_ext = state.indexed_phone, state.indexed_external_id
        state.indexed_phone = state.indexed_external_id = None
        for name in PERSON_SETS:
            setattr(state, name, set())
        for name in PERSON:
            setattr(state, name, None)
        # a consent Patron withdrew itself stays; a store's is re-read
        if state.email_consent is None or not state.email_consent.withdrawn_by:
            state.email_consent = None
        if state.sms_consent is None or not state.sms_consent.withdrawn_by:
            state.sms_consent = None
        order_keys = self.store.order_keys(workspace_id, [k for k in entries if entry_source(k) != source_id])
        customer_keys = [
            self.store.customer_key(workspace_id, *ext_parts(x))
            for x in read.external_ids
            if ext_parts(x)[0] != source_id
        ]
        found = self.store.ingest_images(order_keys + customer_keys)
        for record in sorted(found, key=_in_time_order):
            if isinstance(record, CustomerImage):
                state.erased_sources = (state.erased_sources or set()) | {record.source_id}
                person, snap = record.person, None
            elif isinstance(record, OrderImage) and record.snapshot.is_order:
                person, snap = record.snapshot.person, record.snapshot
            else:
                continue
            profile.absorb(person, record.updated_at)
            if snap is not None and snap.counted and snap.titles and snap.created_at:
                t = int(snap.created_at.timestamp())
                if state.latest_titles is None or t >= state.latest_titles.placed_at:
                    state.latest_titles = LatestTitles(t, list(snap.titles))
        if state.member is None:
            state.member = False
        # An index key whose identity is still there stays (it is how that identity is found).
        if indexed_phone is not None and indexed_phone in state.phones:
            state.indexed_phone = indexed_phone
        if indexed_ext is not None and indexed_ext in state.external_ids:
            state.indexed_external_id = indexed_ext
        profile.recompute(ws)
        return state

    def _act(self, ws: WorkspaceSettings, source_id: str, plan: Plan) -> None:
        workspace_id = ws.workspace_id
        self.store.erase_ingest(plan.ingest)
        self.store.delete(plan.crm)
        if plan.erase is not None:
            customer_id, pointers = plan.erase
            self.audit.erase_profile(workspace_id, customer_id, pointers)
        if plan.rewrite is not None:
            self._save(ws, source_id, plan.rewrite)
        for merged_id, names in plan.pointers:
            cid = plan.rewrite.customer_id if plan.rewrite is not None else ""
            self.store.drop_pointer_keys(workspace_id, merged_id, cid, names)
        if plan.admin_secret is not None and self.secrets is not None:
            self.secrets.delete_secret(plan.admin_secret)  # gone already on a retry: fine
            self.store.disconnect(workspace_id, source_id)  # only once the secret is gone

    def _save(self, ws: WorkspaceSettings, source_id: str, profile: CustomerProfile) -> None:
        """The rewritten profile over the rev it was read at; on a conflict, read and
        rebuild again (the source's moved items are gone by then: rebuilding skips them)."""
        for _ in range(MAX_ATTEMPTS):
            rev = profile.rev or 0
            profile.rev, profile.updated_at = rev + 1, timemath.iso(now_utc())
            try:
                self.profiles.save(profile, rev, [], [])
                return
            except Conflict:
                current = self.store.profile(ws.workspace_id, profile.customer_id)
                if current is None:
                    return  # erased or merged meanwhile: nothing of the source is left on it here
                entries = all_entries(self.profiles, ws.workspace_id, current)
                profile = self.rewritten(ws, source_id, current, entries)
        raise Conflict("profile kept changing while its source was erased; the page is retried")

    # -- after the walk -----------------------------------------------------------------
    def _rest(self, ws: WorkspaceSettings, source_id: str, request_id: str) -> Plan:
        """The source's quarantined bodies, its earlier privacy requests' exports and ingest
        items (they hold the person), its catalogue, and its Admin API secret."""
        workspace_id = ws.workspace_id
        plan = Plan()
        quarantined = self.store.quarantined(workspace_id, source_id)
        plan.crm += quarantined
        requests = [r for r in self.store.privacy_requests(workspace_id, source_id) if r != request_id]
        exports = self.store.privacy_exports(workspace_id, requests)
        plan.crm += exports
        live = self.store.live_privacy_requests(workspace_id, source_id, requests)
        plan.ingest = live
        products = self.store.catalogue(workspace_id, source_id)
        plan.crm += products
        if self.secrets is not None:
            plan.admin_secret = self.store.admin_secret(workspace_id, source_id)
        plan.counts.update(
            quarantined=len(quarantined),
            privacy_exports=len(exports),
            privacy_requests=len(live),
            products=len(products),
            admin_secrets=int(plan.admin_secret is not None),
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


def _coupon_code(salt: str, message_key: str, prefix: str) -> str:
    return coupon_code(salt, message_key, prefix)
