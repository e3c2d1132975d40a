"""Operator actions shared by the CLI, the local stack and the tests."""

from __future__ import annotations

from typing import Any

from chalicelib.container import Container
from chalicelib.domain.errors import InvalidPayload, NotFound
from chalicelib.domain.ingest import IngestResult
from chalicelib.domain.models import Platform, Source


def source_by_id(container: Container, workspace_id: str, source_id: str) -> Source:
    for item in container.workspaces.sources(workspace_id):
        if item["sid"] == source_id:
            return Source(
                workspace_id=workspace_id,
                source_id=source_id,
                platform=Platform(item["pl"]),
                shop_domain=item["shop"],
                secret_ref=item["secret"],
            )
    raise NotFound(f"source {source_id} not found in workspace {workspace_id}")


def replay_quarantined(
    container: Container, workspace_id: str, quarantine_id: str, body: bytes | None = None
) -> IngestResult:
    """Send a quarantined delivery through ingest again, optionally with a corrected body."""
    entry: dict[str, Any] | None = container.quarantine.get(workspace_id, quarantine_id)
    if entry is None:
        raise NotFound(f"quarantine entry {quarantine_id} not found")
    source = source_by_id(container, workspace_id, entry["source_id"])
    raw = body if body is not None else entry["body"]
    try:
        result = container.ingest.replay(source, entry["headers"], raw)
    except InvalidPayload as exc:
        fields = ", ".join(e.get("field", "?") for e in exc.details or [])
        container.quarantine.mark(workspace_id, quarantine_id, "failed", f"still invalid: {fields}")
        raise
    container.quarantine.mark(workspace_id, quarantine_id, "replayed", result.status)
    return result
