"""Operational reports the scheduled jobs produce (counts only, never personal data)."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.domain.ports import QuarantineCounter, WorkspaceDirectory


class QuarantineReport(BaseModel):
    workspaces: int
    open_entries: int
    by_workspace: dict[str, int]


class ReportService:
    def __init__(self, workspaces: WorkspaceDirectory, quarantine: QuarantineCounter) -> None:
        self.workspaces = workspaces
        self.quarantine = quarantine

    def quarantine_report(self) -> QuarantineReport:
        counts = {ws: self.quarantine.count_open(ws) for ws in self.workspaces.workspace_ids()}
        open_counts = {ws: n for ws, n in counts.items() if n}
        return QuarantineReport(
            workspaces=len(counts), open_entries=sum(counts.values()), by_workspace=open_counts
        )
