"""Tables that read well on a terminal and in Jupyter.

A `Table` renders as text (`str()`: tabulate's ``simple`` format) and as HTML in a notebook (``_repr_html_``).
`to_records()` gives plain dicts; `to_pandas()` a DataFrame when pandas is installed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecs_detach.models import Disk, Instance
from ecs_detach.vocabulary import ROLE, outcome_label, verdict_label
from ecs_detach.vocabulary import row_status_label as row_status_label
from ecs_detach.vocabulary import status_label as status_label

if TYPE_CHECKING:
    from ecs_detach.journal import JournalRecord
    from ecs_detach.plan import Plan
    from ecs_detach.preconditions import Preconditions
    from ecs_detach.workflow import BulkReport


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
    # Fitting a narrow terminal: `compact` shortens the text (tried first), `wrap` is the narrowest width its
    # cells may wrap to (0: never wrap), `drop` the order columns go in (highest first; 0: never dropped).
    compact: Callable[[str], str] | None = None
    wrap: int = 0
    drop: int = 0


_GAP = 2  # tabulate's "simple" format puts two spaces between columns
_HEADER_PAD = 2  # and makes every column at least its header plus two wide


@dataclass(frozen=True)
class Fit:
    """How a table fits a width: the columns kept (indexes), each one's width cap, whether compacted."""

    kept: tuple[int, ...]
    caps: tuple[int | None, ...]
    compact: bool


def _text_width(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def fit_columns(
    columns: Sequence[Column],
    cells: Sequence[Sequence[str]],
    width: int | None,
    max_widths: Sequence[int | None] | None = None,
) -> Fit:
    """The least change that makes the table fit `width`: compact forms, then wrapping, then dropping
    low-priority columns; columns that are never dropped stay even when the table still does not fit."""
    caps_given = list(max_widths) if max_widths is not None else [None] * len(columns)

    def natural(index: int, compact: bool) -> int:
        column = columns[index]
        texts = [row[index] for row in cells]
        if compact and column.compact is not None:
            texts = [column.compact(text) for text in texts]
        widest = max([_text_width(column.header) + _HEADER_PAD, *(_text_width(text) for text in texts)])
        cap = caps_given[index]
        return min(widest, cap) if cap is not None else widest

    def attempt(kept: list[int], compact: bool) -> Fit | None:
        widths = {i: natural(i, compact) for i in kept}
        caps: dict[int, int | None] = {i: caps_given[i] for i in kept}
        # One column short of the width: a line that fills the last column wraps on some terminals.
        excess = sum(widths.values()) + _GAP * (len(kept) - 1) - ((width or 0) - 1)
        for i in sorted(kept, key=lambda i: widths[i], reverse=True):
            if excess <= 0:
                break
            floor = max(columns[i].wrap, _text_width(columns[i].header) + _HEADER_PAD)
            if columns[i].wrap and widths[i] > floor:
                cut = min(widths[i] - floor, excess)
                caps[i] = widths[i] - cut
                excess -= cut
        if excess > 0:
            return None
        return Fit(tuple(kept), tuple(caps[i] for i in kept), compact)

    everything = list(range(len(columns)))
    if width is None:
        return Fit(tuple(everything), tuple(caps_given), False)
    kept = everything
    droppable = sorted((i for i in everything if columns[i].drop), key=lambda i: -columns[i].drop)
    while True:
        for compact in (False, True):
            fit = attempt(kept, compact)
            if fit is not None:
                return fit
        if not droppable:
            return _attempt_anyway(kept, caps_given, columns)
        gone = droppable.pop(0)
        kept = [i for i in kept if i != gone]


def _attempt_anyway(kept: list[int], caps: Sequence[int | None], columns: Sequence[Column]) -> Fit:
    """What is left when even the essential columns are too wide: compact, each wrapped to its floor."""
    floors = tuple(columns[i].wrap or caps[i] for i in kept)
    return Fit(tuple(kept), floors, True)


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

    def render(
        self,
        fmt: str = "simple",
        *,
        max_widths: Sequence[int | None] | None = None,
        width: int | None = None,
    ) -> str:
        """The table as text; `max_widths` (one per column, None: no limit) wraps long cells; `width` (a
        terminal's columns) makes it fit: compact forms, wrapping, then dropping low-priority columns."""
        from tabulate import tabulate

        cells = self.display_rows()
        fit = fit_columns(self.columns, cells, width, max_widths)
        shown = [self.columns[i] for i in fit.kept]

        def cell(column: Column, text: str) -> str:
            return column.compact(text) if fit.compact and column.compact is not None else text

        body = tabulate(
            [[cell(self.columns[i], row[i]) for i in fit.kept] for row in cells],
            headers=[column.header for column in shown],
            tablefmt=fmt,
            disable_numparse=True,
            maxcolwidths=list(fit.caps),
        )
        dropped = [column.header for i, column in enumerate(self.columns) if i not in fit.kept]
        if dropped:
            import textwrap

            note = f"(not shown, to fit {width} columns: {', '.join(dropped)})"
            body += "\n" + "\n".join(textwrap.wrap(note, max(20, (width or 80) - 1)))
        if not self.rows:
            body = f"{body}\n(none)" if body else "(none)"
        return f"{self.title}\n{body}" if self.title else body

    def __str__(self) -> str:
        return self.render()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text view (terminal IPython, text/plain in notebooks): the text table, not the repr."""
        printer.text(self.render())

    def _repr_html_(self) -> str:
        """The table for a notebook; past `HTML_MAX_ROWS` rows only its head and tail (a 20 000-disk table
        would be megabytes of HTML), with a row that says how many are left out."""
        from tabulate import tabulate

        rows = self.display_rows()
        hidden = len(rows) - 2 * HTML_EDGE_ROWS
        if len(rows) > HTML_MAX_ROWS:
            gap = [f"… {hidden:,} more rows (all of them: print(table), table.to_pandas() or table.rows)"]
            gap += [""] * (len(self.headers) - 1)
            rows = [*rows[:HTML_EDGE_ROWS], gap, *rows[-HTML_EDGE_ROWS:]]
        body = tabulate(rows, headers=self.headers, tablefmt="html", disable_numparse=True)
        if self.title:
            body = f"<p><strong>{html.escape(self.title)}</strong> ({len(self.rows)} rows)</p>{body}"
        return body


HTML_MAX_ROWS = 300  # a notebook shows every row up to this many
HTML_EDGE_ROWS = 25  # past it, this many from the head and from the tail


INSTANCE_COLUMNS = (
    Column("Instance", "instance_id", lambda i: i.instance_id),
    Column("Name", "name", lambda i: i.name, drop=3),
    Column("Status", "status", lambda i: i.status, status_label),
    Column("Type", "instance_type", lambda i: i.instance_type, drop=1),
    Column("Zone", "zone_id", lambda i: i.zone_id, drop=2),
    Column("Locks", "locks", lambda i: i.lock_reasons),
)

DISK_COLUMNS = (
    Column("Disk", "disk_id", lambda d: d.disk_id),
    Column("Name", "name", lambda d: d.name, drop=4),
    Column(ROLE, "type", lambda d: d.type),
    Column("Category", "category", lambda d: d.category, drop=5),
    Column("GiB", "size_gib", lambda d: d.size_gib, drop=3),
    Column("Status", "status", lambda d: d.status, status_label),
    Column("Instances", "instance_ids", lambda d: d.attached_instance_ids, wrap=12),
    Column("Portable", "portable", lambda d: d.portable, drop=6),
    Column("Multi", "multi_attach", lambda d: d.is_multi_attach, drop=7),
    Column("DelWithInst", "delete_with_instance", lambda d: d.delete_with_instance, drop=8),
    Column("Locks", "locks", lambda d: d.lock_reasons),
)


def instances_table(instances: Iterable[Instance], title: str = "Instances") -> Table:
    return Table.build(instances, INSTANCE_COLUMNS, title)


def disks_table(disks: Iterable[Disk], title: str = "Disks") -> Table:
    return Table.build(disks, DISK_COLUMNS, title)


# --- preconditions, plans, bulk runs, the journal ----------------------------------------------------------

PRECONDITION_COLUMNS = (
    Column("#", "row", lambda r: r.number),
    Column("Check", "condition", lambda r: r.condition, wrap=14, drop=3),
    Column("Result", "status", lambda r: r.status.value, row_status_label),
    Column("Detail", "sentence", lambda r: r.sentence, wrap=30),
    Column("Remedy", "remedy", lambda r: r.remedy, wrap=16, drop=1),
    Column("Code", "code", lambda r: r.code if r.failing else "", wrap=14, drop=2),
)
PRECONDITION_WIDTHS = (None, 28, None, 48, 36, None)


def preconditions_table(pre: Preconditions, title: str = "") -> Table:
    """Every row of the DetachDisk decision table for one disk: result, why, remedy, the code to expect."""
    shown = title or f"Preconditions: detach {pre.disk_id} from {pre.instance_id or '?'} ({pre.region_id})"
    return Table.build(pre.rows, PRECONDITION_COLUMNS, shown)


def _seconds(value: float) -> str:
    return f"~{value:.0f} s" if value else "-"


PLAN_COLUMNS = (
    Column("#", "step", lambda s: s[0]),
    Column("Step", "description", lambda s: s[1].description, wrap=20),
    Column("Expected change", "expected_change", lambda s: s[1].expected_change, wrap=16),
    Column("ETA", "eta_seconds", lambda s: s[1].eta_seconds, _seconds),
    Column("Call", "action", lambda s: s[1].action or "(wait)"),
)
PLAN_WIDTHS = (None, 44, 40, None, None)


def plan_table(plan: Plan, title: str = "") -> Table:
    """A plan's steps: what each does, the state change it expects, its ETA and the API call (or a wait)."""
    shown = title or f"Plan: {plan.action} {plan.disk_id} / {plan.instance_id or '?'} ({plan.region_id})"
    return Table.build(enumerate(plan.steps, 1), PLAN_COLUMNS, shown)


def _plan_verdict(plan: Plan) -> str:
    if plan.nothing_to_do:
        return "already-detached"
    pre = plan.preconditions
    if not plan.executable:
        return "blocked"
    return pre.verdict.value if pre is not None else "ready"


def _plan_code(plan: Plan) -> str:
    """The code DetachDisk would answer now ("" when there is nothing to do)."""
    if plan.nothing_to_do or plan.preconditions is None:
        return ""
    return plan.preconditions.predicted_code or ""


def _plan_note(plan: Plan) -> str:
    if plan.refusal:
        return plan.refusal
    if plan.nothing_to_do:
        return "nothing to do"
    return "; ".join(plan.warnings)


BULK_PLAN_COLUMNS = (
    Column("Disk", "disk_id", lambda p: p.disk_id),
    Column("Instance", "instance_id", lambda p: p.instance_id or "?"),
    Column("Verdict", "verdict", _plan_verdict, verdict_label),
    Column(
        "Predicted code",
        "predicted_code",
        _plan_code,
    ),
    Column("Calls", "calls", lambda p: p.calls, wrap=12, drop=2),
    Column("ETA", "eta_seconds", lambda p: p.eta_seconds, _seconds, drop=1),
    Column("Note", "note", _plan_note, wrap=20),
)
BULK_PLAN_WIDTHS = (None, None, None, None, 30, None, 50)


def bulk_plans_table(plans: Iterable[Plan], title: str = "Preflight") -> Table:
    """One row per disk of a bulk detach: its verdict, the code the API would answer, the calls and ETA."""
    return Table.build(plans, BULK_PLAN_COLUMNS, title)


BULK_RESULT_COLUMNS = (
    Column("Disk", "disk_id", lambda p: p[0].disk_id),
    Column("Instance", "instance_id", lambda p: p[0].instance_id or "?"),
    Column("Outcome", "outcome", lambda p: p[0].outcome.value, outcome_label),
    Column("Code", "code", lambda p: p[0].code or p[1]),
    Column("Requests", "request_ids", lambda p: p[0].request_ids, drop=1),
    Column("Message", "message", lambda p: p[0].message, wrap=20),
)
BULK_RESULT_WIDTHS = (None, None, None, None, 38, 56)


def bulk_results_table(report: BulkReport, title: str = "Results") -> Table:
    """One row per disk of a bulk run: outcome, API code, request ids and what happened.

    A disk refused before anything was sent shows the code its preflight predicted.
    """
    predicted = {plan.disk_id: _plan_code(plan) for plan in report.plans}
    pairs = [
        (result, predicted.get(result.disk_id, "") if not result.ok else "") for result in report.results
    ]
    return Table.build(pairs, BULK_RESULT_COLUMNS, title)


def _outcome_of(pair: tuple[JournalRecord, JournalRecord | None]) -> str:
    outcome = pair[1]
    if outcome is None:
        return "PENDING"
    text = outcome.result + (" (reconciled)" if outcome.reconciled else "")
    return f"{text}: {outcome.code}" if outcome.code else text


JOURNAL_COLUMNS = (
    Column("At (UTC)", "at", lambda p: p[0].at[:19].replace("T", " "), compact=lambda t: t[5:]),
    # An operation id prefix of 12 is enough for `attach --operation` (any unique prefix of 6 or more).
    Column("Operation", "operation_id", lambda p: p[0].operation_id, compact=lambda t: t[:12]),
    Column("Action", "action", lambda p: p[0].action),
    Column("Disk", "disk_id", lambda p: p[0].disk_id or "-"),
    Column("Instance", "instance_id", lambda p: p[0].instance_id or "-"),
    Column("Result", "result", _outcome_of, wrap=10),
    Column("Request", "request_id", lambda p: (p[1].request_id if p[1] else "") or "-", drop=1),
    Column("Where", "where", lambda p: f"{p[0].profile or '(env)'} · {p[0].region or '?'}", drop=2),
)


def journal_table(
    operations: Iterable[tuple[JournalRecord, JournalRecord | None]], title: str = "Journal"
) -> Table:
    """The journal's operations (intent, latest outcome), oldest first; PENDING: no outcome written."""
    return Table.build(operations, JOURNAL_COLUMNS, title)
