"""A DataTable that shows :class:`~tui.rows.Row` objects and keeps the cursor on the same key across
refreshes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable

from ..rows import Column, Row

MAX_COLUMN_WIDTH = 40
ROW_LIMIT = 500
"""A table holds at most this many rows: building a DataTable of 10,000 rows stalls the UI for seconds,
and nobody scrolls through 10,000 rows; the status line says how many more there are, and / narrows them."""


def window(rows: Sequence[Row], keep: str | None, limit: int) -> Sequence[Row]:
    """At most ``limit`` rows: the first ones, or a window centred on the row with key ``keep``."""
    if len(rows) <= limit:
        return rows
    index = next((i for i, row in enumerate(rows) if row.key == keep), 0) if keep else 0
    start = max(0, min(index - limit // 2, len(rows) - limit)) if index >= limit else 0
    return rows[start : start + limit]


def column_widths(columns: Sequence[Column], rows: Sequence[Row]) -> list[int]:
    """Each column as wide as its label or its widest cell (capped), computed here rather than by the table,
    so a refresh never shows columns at their label's width."""
    widths = [len(column.label) for column in columns]
    for row in rows:
        for index, cell in enumerate(row.cells):
            if len(cell) > widths[index]:
                widths[index] = len(cell)
    return [min(width, MAX_COLUMN_WIDTH) for width in widths]


MIN_SHRUNK_WIDTH = 10
"""A column narrowed to fit is never narrower than this (or its label)."""


def fit_columns(
    columns: Sequence[Column], widths: Sequence[int], room: int, padding: int
) -> list[tuple[int, int]]:
    """(index, width) of the columns to show in ``room`` cells, in order (each column takes its width plus
    ``padding``). From the highest level down, a level's columns are first narrowed (``Column.shrink``),
    then given up (``Column.priority``; the rightmost first); priority 0 stays even if the table must
    scroll."""
    shown = dict(enumerate(widths))

    def total() -> int:
        return sum(width + padding for width in shown.values())

    steps = [(c.shrink, 1, i) for i, c in enumerate(columns) if c.shrink]
    steps += [(c.priority, 0, i) for i, c in enumerate(columns) if c.priority]
    for _, narrow, index in sorted(steps, reverse=True):
        if total() <= room:
            break
        if index not in shown:
            continue
        if narrow:
            narrowest = min(shown[index], max(MIN_SHRUNK_WIDTH, len(columns[index].label)))
            shown[index] = max(narrowest, shown[index] - (total() - room))
        else:
            del shown[index]
    return sorted(shown.items())


def plain(cell: str) -> Text:
    """A cell as the table shows a one-line string, but never parsed as markup: a name with ``[...]`` in
    it stays as typed, and a 500-row rebuild skips 3,500 markup parses (most of a filter keystroke's
    cost at 10,000 rows)."""
    return Text(cell, no_wrap=True, overflow="ellipsis", end="")


class RowTable(DataTable[str | Text]):
    """Rows in, cursor kept by key. ``row_keys`` lists what is shown, in order."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns_shown: tuple[tuple[Column, int], ...] = ()
        self._asked: tuple[Sequence[Column], Sequence[Row], int] | None = None
        """What ``show_rows`` was last given, to fit again on a resize."""
        self.row_keys: list[str] = []

    def show_rows(
        self,
        columns: Sequence[Column],
        rows: Sequence[Row],
        *,
        limit: int = ROW_LIMIT,
        keep_cursor: bool = True,
    ) -> int:
        """Show ``rows`` (at most ``limit`` of them, around the row the cursor was on, or from the top if
        not ``keep_cursor``); return how many. The columns that do not fit the table's width are given up
        (see :func:`fit_columns`); a resize fits them again."""
        self._asked = (columns, rows, limit)
        keep = self.current_key if keep_cursor else None
        rows = window(rows, keep, limit)
        fitted = self._fit(columns, rows)
        column_spec = tuple((columns[index], width) for index, width in fitted)
        if column_spec != self._columns_shown:
            self.clear(columns=True)
            for column, width in column_spec:
                self.add_column(column.label, key=column.key, width=width)
            self._columns_shown = column_spec
        else:
            self.clear()
        keys: list[str] = []
        indices = [index for index, _ in fitted]
        every_column = len(indices) == len(columns)
        for row in rows:
            cells = row.cells if every_column else [row.cells[index] for index in indices]
            self.add_row(*map(plain, cells), key=row.key)
            keys.append(row.key)
        self.row_keys = keys
        if keep is not None and keep in keys:
            index = keys.index(keep)
            self.move_cursor(row=index, animate=False, scroll=True)
            self.call_after_refresh(self.move_cursor, row=index, animate=False, scroll=True)
        elif not keep_cursor:
            self.move_cursor(row=0, animate=False, scroll=True)
        return len(keys)

    def _fit(self, columns: Sequence[Column], rows: Sequence[Row]) -> list[tuple[int, int]]:
        widths = column_widths(columns, rows)
        if not self.size.width:  # not laid out yet: every column, until the first resize
            return list(enumerate(widths))
        room = self.size.width - self.styles.scrollbar_size_vertical  # a scrollbar may come with the rows
        return fit_columns(columns, widths, room, 2 * self.cell_padding)

    def on_resize(self) -> None:
        if self._asked is None:
            return
        columns, rows, limit = self._asked
        fitted = self._fit(columns, window(rows, self.current_key, limit))
        if tuple((columns[index], width) for index, width in fitted) != self._columns_shown:
            self.show_rows(columns, rows, limit=limit)

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        """Textual measures every cell of every new row to size auto-width columns (~30 ms for a 500-row
        rebuild); every column here has the width ``column_widths`` gave it, so only the table's virtual
        size is left to set (as Textual's own method ends). Anything else (an auto-width column, a
        labelled or taller row) goes through Textual's method."""
        rows = list(new_rows)
        simple = all(not column.auto_width for column in self.columns.values()) and all(
            self.rows[key].label is None and self.rows[key].height == 1 for key in rows if key in self.rows
        )
        if not simple:
            super()._update_dimensions(rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header_height)

    @property
    def current_key(self) -> str | None:
        if not self.row_keys or self.row_count == 0:
            return None
        index = self.cursor_row
        if 0 <= index < len(self.row_keys):
            return self.row_keys[index]
        return None

    def select_key(self, key: str) -> bool:
        if key in self.row_keys:
            self.move_cursor(row=self.row_keys.index(key), animate=False, scroll=True)
            return True
        return False
