"""A DataTable that shows :class:`~tui.rows.Row` objects, keeps the cursor on the same key across
refreshes, and sorts by a column (a click on its header, or s / S) by what the values mean."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.widgets import DataTable

from ecs_detach.models import (
    DISK_ATTACHING,
    DISK_AVAILABLE,
    DISK_DETACHING,
    DISK_IN_USE,
    INSTANCE_PENDING,
    INSTANCE_RUNNING,
    INSTANCE_STARTING,
    INSTANCE_STOPPED,
    INSTANCE_STOPPING,
)

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
    return [
        width if column.fill else min(width, MAX_COLUMN_WIDTH)
        for column, width in zip(columns, widths, strict=True)
    ]


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


@dataclass(frozen=True, slots=True)
class SortOrder:
    """A table sorted by one column (its key), ascending unless ``descending``."""

    column: str
    descending: bool = False

    @property
    def arrow(self) -> str:
        return "▼" if self.descending else "▲"


STATUS_RANKS = {
    status.lower(): rank
    for rank, statuses in enumerate(
        (
            (INSTANCE_RUNNING, DISK_IN_USE),
            (INSTANCE_PENDING, INSTANCE_STARTING, INSTANCE_STOPPING, DISK_ATTACHING, DISK_DETACHING),
            (INSTANCE_STOPPED, DISK_AVAILABLE),
        )
    )
    for status in statuses
}
"""Statuses sort as their symbols group them: ● in use, then ◐ moving, then ○ at rest, then the rest."""

_DIGITS = re.compile(r"\d+")


def _padded(match: re.Match[str]) -> str:
    return match.group().zfill(20)


def natural_key(text: str) -> str:
    """Text that sorts as people read it: runs of digits by their number (``40 GiB`` before ``100 GiB``,
    ``web-2`` before ``web-10``, ISO times by time), the rest case-blind. (A string, not a tuple of parts:
    comparing 10,000 of them stays cheap.)"""
    return _DIGITS.sub(_padded, text.lower())


def sort_value(row: Row, column: Column, index: int) -> tuple[int, str]:
    """What a row sorts by in ``column`` (the ``index``-th cell): the value it shows (its field, which holds
    the API's own value: ``40`` for ``40 GiB``, ``In_use`` for ``● In_use``), in its natural order."""
    value = row.fields.get(column.key)
    if value is None:
        value = row.cells[index]
    rank = STATUS_RANKS.get(value.lower(), len(STATUS_RANKS)) if column.key == "status" else 0
    return (rank, natural_key(value))


SortKeys = dict[tuple[str, int, str], tuple[Row, tuple[int, str]]]
"""(column key, column index, row key) -> (the row, its sort value): a row object seen before is not keyed
again (a filter keystroke over 10,000 sorted rows only sorts)."""


def sort_rows(
    columns: Sequence[Column],
    rows: Sequence[Row],
    order: SortOrder | None,
    keys: SortKeys | None = None,
) -> Sequence[Row]:
    """``rows`` in ``order`` (ties keep the order they came in); as they came if ``order`` names no column
    of ``columns``. ``keys`` keeps the rows' sort values between calls."""
    index = next((i for i, c in enumerate(columns) if c.key == order.column), None) if order else None
    if order is None or index is None:
        return rows
    column = columns[index]
    keys = {} if keys is None else keys
    if len(keys) > 4 * len(rows) + 1000:  # rows that left the listing: start again
        keys.clear()
    keyed = []
    for row in rows:
        cached = keys.get((column.key, index, row.key))
        if cached is None or cached[0] is not row:
            cached = (row, sort_value(row, column, index))
            keys[(column.key, index, row.key)] = cached
        keyed.append(cached)
    keyed.sort(key=lambda pair: pair[1], reverse=order.descending)
    return [row for row, _ in keyed]


def sorted_labels(columns: Sequence[Column], order: SortOrder | None) -> tuple[Column, ...]:
    """The columns with the sort indicator (▲ / ▼) on the label of the one sorted by."""
    if order is None:
        return tuple(columns)
    return tuple(
        replace(column, label=f"{column.label} {order.arrow}") if column.key == order.column else column
        for column in columns
    )


def next_order(order: SortOrder | None, column: str) -> SortOrder:
    """A click on ``column``'s header: sorted by it, ascending; again: reversed."""
    if order is not None and order.column == column:
        return SortOrder(column, not order.descending)
    return SortOrder(column)


def following_order(order: SortOrder | None, shown: Sequence[str]) -> SortOrder | None:
    """``s``: sorted by the next column shown, ascending (after the last one: the order the rows came in)."""
    if not shown:
        return None
    if order is None or order.column not in shown:
        return SortOrder(shown[0])
    position = shown.index(order.column) + 1
    return SortOrder(shown[position]) if position < len(shown) else None


def plain(cell: str) -> Text:
    """A cell as the table shows a one-line string, but never parsed as markup: a name with ``[...]`` in
    it stays as typed, and a 500-row rebuild skips 3,500 markup parses (most of a filter keystroke's
    cost at 10,000 rows)."""
    return Text(cell, no_wrap=True, overflow="ellipsis", end="")


class RowTable(DataTable[str | Text]):
    """Rows in, cursor kept by key. ``row_keys`` lists what is shown, in order. A click on a column's
    header sorts by it (again: reversed), as do s (the next column) and S (reversed); the order holds for
    every ``show_rows`` after (a refresh, a filter), and the cursor stays on its row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "sort_next",
            "Sort",
            show=False,
            tooltip="sort by the next column (▲), after the last: as listed",
        ),
        Binding("S", "sort_reverse", "Reverse sort", show=False, tooltip="reverse the sort (▲ / ▼)"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.sorted_by: SortOrder | None = None
        self._sort_keys: SortKeys = {}
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
        rows = window(sort_rows(columns, rows, self.sorted_by, self._sort_keys), keep, limit)
        columns = sorted_labels(columns, self.sorted_by)
        fitted = self._fit(columns, rows)
        column_spec = tuple((columns[index], width) for index, width in fitted)
        if column_spec != self._columns_shown:
            self.clear(columns=True)
            for column, width in column_spec:
                self.add_column(Text(column.label), key=column.key, width=width)
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
        labelled = sorted_labels(columns, self.sorted_by)
        fitted = self._fit(
            labelled,
            window(sort_rows(columns, rows, self.sorted_by, self._sort_keys), self.current_key, limit),
        )
        if tuple((labelled[index], width) for index, width in fitted) != self._columns_shown:
            self.show_rows(columns, rows, limit=limit)

    def set_cell(self, key: str, column_key: str, value: str) -> None:
        """Change one cell of the row ``key``, on screen and in the rows kept for a sort or a resize (a
        mark shown with ``update_cell`` alone was gone after the next sort)."""
        if self._asked is None:
            return
        columns, rows, limit = self._asked
        index = next((i for i, column in enumerate(columns) if column.key == column_key), None)
        if index is None:
            return
        changed = [
            replace(row, cells=(*row.cells[:index], value, *row.cells[index + 1 :]))
            if row.key == key
            else row
            for row in rows
        ]
        self._asked = (columns, changed, limit)
        if key in self.row_keys and any(column.key == column_key for column, _ in self._columns_shown):
            self.update_cell(key, column_key, plain(value))

    def sort_by(self, order: SortOrder | None) -> None:
        """Show the rows last given in ``order`` (None: as they came), the cursor on the same row."""
        self.sorted_by = order
        if self._asked is not None:
            columns, rows, limit = self._asked
            self.show_rows(columns, rows, limit=limit)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value is not None:
            self.sort_by(next_order(self.sorted_by, event.column_key.value))

    def action_sort_next(self) -> None:
        shown = [column.key for column, _ in self._columns_shown]
        self.sort_by(following_order(self.sorted_by, shown))

    def action_sort_reverse(self) -> None:
        order = self.sorted_by
        shown = [column.key for column, _ in self._columns_shown]
        self.sort_by(next_order(order, order.column) if order is not None else following_order(None, shown))

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
