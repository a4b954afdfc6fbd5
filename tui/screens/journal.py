"""The journal: every mutating call this toolkit made (from any face), with its outcome and request id."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label, Static

from ecs_detach.vocabulary import DEMO_TIME

from ..journal_view import JournalEntry, journal_entries, journal_rows
from ..rows import Column
from ..text import plain
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.tables import RowTable
from .base import AppScreen


def journal_columns(clock: str) -> tuple[Column, ...]:
    """The journal's columns; the time's header says whose time it is (UTC, or the demo's clock)."""
    return (Column("at", f"When ({clock})", priority=2), *JOURNAL_COLUMNS[1:])


JOURNAL_COLUMNS = (
    Column("at", "When (UTC)", priority=2),
    Column("action", "Action"),
    Column("disk", "Disk"),
    Column("instance", "Instance", priority=1),
    Column("result", "Result", priority=1),
    Column("where", "Profile / region", priority=3, shrink=3),
    Column("request", "Request id", priority=4),
)


class JournalScreen(AppScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("u", "undo", "Re-attach (undo)"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[JournalEntry] = []

    @property
    def clock(self) -> str:
        """Whose time the journal's records carry: the in-process emulator's (demo) clock runs fast."""
        return DEMO_TIME if self.ecs_app.services.emulator is not None else "UTC"

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        journal = self.ecs_app.services.journal
        where = f" — {journal.path}" if journal is not None and not self.ecs_app.services.demo else ""
        yield Label(
            plain(f"Journal: what was done, newest first{where}"), classes="pane-title", id="journal-title"
        )
        yield RowTable(id="journal-table")
        yield Static("", id="journal-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#journal-table", RowTable).focus()
        self.action_reload()

    @work(thread=True, exclusive=True, group="journal")
    def action_reload(self) -> None:
        journal = self.ecs_app.services.journal
        if journal is None:
            self.app.call_from_thread(self._show, [], "No journal in this session: nothing is recorded.")
            return
        try:
            # rotated files too: the history
            entries = journal_entries(journal.operations(rotated=True), clock=self.clock)
        except Exception as error:
            self.app.call_from_thread(self.ecs_app.show_error, error, "Could not read the journal")
            return
        self.app.call_from_thread(self._show, entries, "")

    def _show(self, entries: list[JournalEntry], note: str) -> None:
        self.entries = entries
        table = self.query_one("#journal-table", RowTable)
        table.show_rows(journal_columns(self.clock), journal_rows(entries))
        detail = self.query_one("#journal-detail", Static)
        if note:
            detail.update(plain(note))
        elif not entries:
            detail.update("Nothing recorded yet: detaches, stops and re-attaches appear here.")
        else:
            self._detail()

    @on(DataTable.RowHighlighted)
    def _detail(self, _: Any = None) -> None:
        entry = self._current()
        if entry is None:
            return
        self.query_one("#journal-detail", Static).update(plain("\n".join(entry.detail_lines())))

    def _current(self) -> JournalEntry | None:
        key = self.query_one("#journal-table", RowTable).current_key
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None

    def action_undo(self) -> None:
        entry = self._current()
        if entry is None or entry.action != "DetachDisk" or not entry.succeeded:
            self.notify("Put the cursor on a DetachDisk that went through to re-attach its disk.")
            return
        if not self.ecs_app.writes_allowed("re-attach"):
            return
        self.ecs_app.undo(entry.disk_id)
