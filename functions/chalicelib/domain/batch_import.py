"""The history import's batch engine: chunks of records, one profile write per customer
per chunk, no stream fan-out, and one recompute for the workspace at the end.

Per chunk of CHUNK (1,000) records (docs/import.md, "How an import runs"):

1. The chunk's ingest items are written (`ImportWriter.write_chunk`): the same keys,
   versions and conditions as the webhook path, marked `imp`, so the rule "an import
   never overwrites a state a webhook stored" holds item by item. The adapter reads the
   chunk's items in one consistent batch first (not one read per record), and writes an
   order whose item does not exist with a PutItem conditioned on that, rather than the
   webhook path's UpdateItem: the same item and write units, a cheaper request. Anything
   else, or a put that finds the item there after all, goes the webhook path's way.
   (BatchWriteItem would cost the same write units, since each item is written once
   either way, but is unconditional: it would need a repair for a webhook state written
   between the read and the batch. Conditional writes keep the rule with no repair.)
2. The writer answers with the state each item holds after the chunk: what it put is
   known; the rest (what a refund made of its order, the newer state a webhook stored)
   is read back in one consistent batch. Every record is applied, stored or duplicate,
   so a chunk interrupted between its writes and its profiles heals when the import
   resumes.
3. Each item's state is applied by the stream consumer's own ProfileService, over a
   write-behind buffer (domain/profile_buffer.py), then flushed: each touched profile is
   written once, at the rev the table held. A Conflict (a webhook changed the profile
   meanwhile), or a shape the buffer does not write, applies the chunk again through the
   plain store: application is idempotent, so this is always correct.
4. The cursor moves past the chunk only then.

The ingest stream's consumer skips the import's (`imp`) states and the CRM stream's
consumer skips `imp` profiles: the import built the profiles, and the recompute at the
end brings every touched customer's memberships up to date and reruns the nightly
scoring (RFM edges, rhythm, model) for the workspace, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from chalicelib.domain.history_import import HistoryImport, ImportRecord, ImportSummary, Reader
from chalicelib.domain.ingest_images import Image, IngestChange
from chalicelib.domain.models import Delivery, Source
from chalicelib.domain.ports import (
    ImportRecompute,
    ImportWriter,
    PrivacyHandler,
    ProfileStore,
    WorkspaceReader,
)
from chalicelib.domain.profile_buffer import ProfileBuffer
from chalicelib.domain.profiles import ProfileService

# Records per chunk. Larger chunks find more of a customer's orders in the same chunk (one
# profile write and one identity lookup for all of them); smaller ones redo less after a
# conflict or an interruption. A thousand records and their profiles are a few megabytes.
CHUNK = 1000


class BatchImport:
    def __init__(
        self,
        writer: ImportWriter,
        profiles: ProfileStore,
        workspaces: WorkspaceReader,
        recompute: ImportRecompute | None = None,
        privacy: PrivacyHandler | None = None,
        chunk: int = CHUNK,
    ) -> None:
        self.writer = writer
        self.profiles = profiles
        self.workspaces = workspaces
        self.recompute = recompute
        self.privacy = privacy
        self.chunk = chunk
        self.plain = ProfileService(profiles, workspaces, privacy)
        self.fallbacks = 0  # chunks applied again through the plain store (a Conflict, a shape)

    def run(
        self,
        source: Source,
        read: Reader,
        now: datetime,
        resume_from: int = 0,
        progress: Callable[[ImportSummary], None] | None = None,
    ) -> ImportSummary:
        """Import the records after row `resume_from`, chunk by chunk; `progress` hears of
        each chunk done; the recompute runs once at the end (`summary.recomputed`)."""
        base = HistoryImport.base_delivery(source, now)
        summary = ImportSummary(cursor=resume_from)
        touched: dict[str, None] = {}
        for records in _chunks(read(base), self.chunk):
            if records[-1].row <= resume_from:  # done before: only who it touched
                touched.update(dict.fromkeys(self._revisit(base, records)))
                continue
            if records[0].row <= resume_from:
                touched.update(
                    dict.fromkeys(self._revisit(base, [r for r in records if r.row <= resume_from]))
                )
                records = [r for r in records if r.row > resume_from]
            writes = []
            for record in records:
                summary.rows += record.rows
                prepared = HistoryImport.prepare(base, record, summary)
                if prepared is not None:
                    writes.append(prepared)
            outcomes, images = self.writer.write_chunk(writes) if writes else ([], [])
            for (_, payload), outcome in zip(writes, outcomes, strict=True):
                HistoryImport.count(outcome, payload, summary)
            touched.update(dict.fromkeys(self._apply(images)))
            last = records[-1]
            summary.cursor = last.row + last.rows - 1
            if progress is not None:
                progress(summary)
        if self.recompute is not None:
            summary.recomputed = self.recompute.recompute(source.workspace_id, list(touched), now)
        return summary

    def _revisit(self, base: Delivery, records: list[ImportRecord]) -> list[str]:
        """The customers of records a resumed import imported before its cursor: the
        recompute at its end must count them too (their profiles carry `imp`, so nothing
        else gives them memberships). Their items and profiles are there already: this
        reads (each write a duplicate, each profile `already_applied`) and writes nothing."""
        ignored = ImportSummary()
        writes = [p for r in records if (p := HistoryImport.prepare(base, r, ignored)) is not None]
        _, images = self.writer.write_chunk(writes) if writes else ([], [])
        results = [self.plain.apply_change(IngestChange(after=image)) for image in images]
        return [r.customer_id for r in results if r.customer_id]

    def _apply(self, images: list[Image]) -> list[str]:
        """Build the chunk's profiles from what its items hold now; the customers touched."""
        buffer = ProfileBuffer(self.profiles)
        buffered = ProfileService(buffer, self.workspaces, self.privacy)
        for image in images:
            buffered.apply_change(IngestChange(after=image))
        touched = buffer.touched
        if not buffer.unbuffered and not buffer.flush():
            return touched
        self.fallbacks += 1
        plain = [self.plain.apply_change(IngestChange(after=image)) for image in images]
        return list(dict.fromkeys([*touched, *(r.customer_id for r in plain if r.customer_id)]))


def _chunks(records: Iterable[ImportRecord], size: int) -> Iterator[list[ImportRecord]]:
    chunk: list[ImportRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
