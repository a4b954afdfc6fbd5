"""Pure views of journal records: one entry per operation (intent + latest outcome), newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecs_detach.journal import JournalRecord

from .rows import Row, make_row

RESULT_WORDS = {
    "ok": "✓ accepted",
    "error": "✗ refused",
    "unknown": "? no answer",
    "went-through": "✓ went through",
    "did-not-happen": "✗ did not happen",
    "in-progress": "◐ in progress",
}


@dataclass(frozen=True, slots=True)
class JournalEntry:
    key: str
    at: str
    action: str
    disk_id: str
    instance_id: str
    result: str
    succeeded: bool
    request_id: str
    code: str
    message: str
    profile: str
    region: str
    params: tuple[tuple[str, str], ...]
    context: tuple[tuple[str, str], ...]
    clock: str = "UTC"
    """Whose time ``at`` is: UTC, or the demo's faster clock (``DEMO_TIME``)."""

    @property
    def result_text(self) -> str:
        if not self.result:
            return "… no outcome recorded"
        return RESULT_WORDS.get(self.result, self.result)

    def detail_lines(self) -> list[str]:
        lines = [
            f"{self.action} at {self.at} ({self.clock}) — {self.result_text}",
            f"disk {self.disk_id or '-'} · instance {self.instance_id or '-'} · "
            f"profile {self.profile or '-'} · region {self.region or '-'}",
            f"request id {self.request_id or '-'}",
        ]
        if self.code or self.message:
            lines.append(f"{self.code}: {self.message}".strip(": "))
        if self.params:
            lines.append("params " + " ".join(f"{k}={v}" for k, v in self.params))
        if self.context:
            lines.append("context " + " ".join(f"{k}={v}" for k, v in self.context))
        if self.action == "DetachDisk" and self.succeeded:
            lines.append("u: re-attach this disk to its instance (undo)")
        return lines


def _short_time(at: str) -> str:
    # "2026-01-01T00:01:00.000000Z" -> "2026-01-01 00:01:00"
    return at.replace("T", " ").split(".")[0].rstrip("Z")


def journal_entries(
    operations: Iterable[tuple[JournalRecord, JournalRecord | None]], *, clock: str = "UTC"
) -> list[JournalEntry]:
    """One entry per operation, newest first; ``clock`` says whose time the records were stamped with."""
    entries = []
    for intent, outcome in operations:
        entries.append(
            JournalEntry(
                key=intent.operation_id,
                at=_short_time(intent.at),
                action=intent.action,
                disk_id=intent.disk_id,
                instance_id=intent.instance_id,
                result=outcome.result if outcome else "",
                succeeded=bool(outcome and outcome.succeeded),
                request_id=outcome.request_id if outcome else "",
                code=outcome.code if outcome else "",
                message=outcome.message if outcome else "",
                profile=intent.profile,
                region=intent.region,
                params=tuple(sorted((str(k), str(v)) for k, v in intent.params.items())),
                context=tuple(sorted((str(k), str(v)) for k, v in intent.context.items())),
                clock=clock,
            )
        )
    entries.reverse()
    return entries


def journal_rows(entries: Iterable[JournalEntry]) -> list[Row]:
    rows = []
    for e in entries:
        cells = [
            e.at,
            e.action,
            e.disk_id or "-",
            e.instance_id or "-",
            e.result_text,
            f"{e.profile or '-'} / {e.region or '-'}",
            e.request_id or "-",
        ]
        fields = {"action": e.action, "disk": e.disk_id, "instance": e.instance_id, "result": e.result}
        rows.append(make_row(e.key, cells, fields))
    return rows
