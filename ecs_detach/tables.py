"""Tables that read well on a terminal and in Jupyter.

A `Table` renders as text (`str()`: tabulate's ``simple`` format) and as HTML in a notebook (``_repr_html_``).
`to_records()` gives plain dicts; `to_pandas()` a DataFrame when pandas is installed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_detach.models import Disk, Instance

# Words first, symbol second: status must read without colour.
_STATUS_MARKS = {
    "Running": "● Running",
    "Stopped": "○ Stopped",
    "Starting": "◐ Starting",
    "Stopping": "◐ Stopping",
    "Pending": "◐ Pending",
    "In_use": "● In_use",
    "Available": "○ Available",
    "Attaching": "◐ Attaching",
    "Detaching": "◐ Detaching",
}


def status_label(status: str) -> str:
    """A status with a shape that reads at a glance (● steady in use, ○ idle, ◐ in transition)."""
    return _STATUS_MARKS.get(status, status)


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value) if value else "-"
    return str(value)


@dataclass(frozen=True)
class Column:
    """A column: `value` gives the raw value (records, pandas), `display` the text shown in tables."""

    header: str
    key: str
    value: Callable[[Any], Any]
    display: Callable[[Any], str] = _as_text


@dataclass(frozen=True)
class Table:
    """Rows with named columns; renders as text or HTML."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    title: str = ""

    @classmethod
    def build(cls, items: Iterable[Any], columns: Sequence[Column], title: str = "") -> Table:
        cols = tuple(columns)
        return cls(cols, tuple(tuple(col.value(item) for col in cols) for item in items), title)

    @property
    def headers(self) -> list[str]:
        return [col.header for col in self.columns]

    def __len__(self) -> int:
        return len(self.rows)

    def to_records(self) -> list[dict[str, Any]]:
        return [dict(zip((col.key for col in self.columns), row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError as exc:  # pandas is optional
            raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
        return pd.DataFrame.from_records(self.to_records(), columns=[col.key for col in self.columns])

    def display_rows(self) -> list[list[str]]:
        return [
            [col.display(value) for col, value in zip(self.columns, row, strict=True)] for row in self.rows
        ]

    def render(self, fmt: str = "simple") -> str:
        from tabulate import tabulate

        body = tabulate(self.display_rows(), headers=self.headers, tablefmt=fmt, disable_numparse=True)
        if not self.rows:
            body = f"{body}\n(none)" if body else "(none)"
        return f"{self.title}\n{body}" if self.title else body

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:
        from tabulate import tabulate

        body = tabulate(self.display_rows(), headers=self.headers, tablefmt="html", disable_numparse=True)
        if self.title:
            body = f"<p><strong>{html.escape(self.title)}</strong> ({len(self.rows)} rows)</p>{body}"
        return body


INSTANCE_COLUMNS = (
    Column("Instance", "instance_id", lambda i: i.instance_id),
    Column("Name", "name", lambda i: i.name),
    Column("Status", "status", lambda i: i.status, status_label),
    Column("Type", "instance_type", lambda i: i.instance_type),
    Column("Zone", "zone_id", lambda i: i.zone_id),
    Column("Locks", "locks", lambda i: i.lock_reasons),
)

DISK_COLUMNS = (
    Column("Disk", "disk_id", lambda d: d.disk_id),
    Column("Name", "name", lambda d: d.name),
    Column("Kind", "type", lambda d: d.type),
    Column("Category", "category", lambda d: d.category),
    Column("GiB", "size_gib", lambda d: d.size_gib),
    Column("Status", "status", lambda d: d.status, status_label),
    Column("Instances", "instance_ids", lambda d: d.attached_instance_ids),
    Column("Portable", "portable", lambda d: d.portable),
    Column("Multi", "multi_attach", lambda d: d.is_multi_attach),
    Column("DelWithInst", "delete_with_instance", lambda d: d.delete_with_instance),
    Column("Locks", "locks", lambda d: d.lock_reasons),
)


def instances_table(instances: Iterable[Instance], title: str = "Instances") -> Table:
    return Table.build(instances, INSTANCE_COLUMNS, title)


def disks_table(disks: Iterable[Disk], title: str = "Disks") -> Table:
    return Table.build(disks, DISK_COLUMNS, title)
