"""Pure presentation of preconditions and plans: symbols and words for each row, the verdict's banner.

Nothing here does I/O or knows Textual; the wizard and the bulk screen render what these return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ecs_detach.plan import Plan, PlanStep
from ecs_detach.preconditions import GUEST_RULES, FixKind, Preconditions, Row, RowStatus, Verdict
from ecs_detach.vocabulary import ROW_STATUSES, VERDICTS, Label

from .formatting import duration
from .rows import Row as TableRow
from .rows import make_row
from .words import BULK_WORDS, TUI_WORDS

# The vocabulary's labels, keyed by the enums; the css class of each verdict's banner.
ROW_SYMBOLS = {
    status: (ROW_STATUSES[status.value].symbol, ROW_STATUSES[status.value].word) for status in RowStatus
}

VERDICT_CSS = {
    Verdict.READY: "ready",
    Verdict.FIXABLE: "fixable",
    Verdict.BLOCKED: "blocked",
    Verdict.ALREADY_DETACHED: "neutral",
    Verdict.IN_PROGRESS: "neutral",
}


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    symbol: str
    word: str
    number: int
    sentence: str
    remedy: str
    code: str


GUEST_ROWS = frozenset(rule.number for rule in GUEST_RULES)
"""The rows read in the guest (mounted, /etc/fstab, swap/LVM/RAID): the wizard shows them near the top."""


def checklist(
    pre: Preconditions, *, include_not_applicable: bool = False, important_first: bool = False
) -> list[ChecklistLine]:
    """One line per decision-table row (skipping the rows that do not apply, unless asked), in the table's
    order; `important_first` puts first the rows that need the operator (failing or unknown), then the guest's
    rows, then the passing rest, each group by number (the wizard: what decides stays above the fold)."""
    rows = [row for row in pre.rows if include_not_applicable or row.status is not RowStatus.NOT_APPLICABLE]
    if important_first:
        rows.sort(key=_importance)
    return [_line(row) for row in rows]


def _importance(row: Row) -> int:
    if row.status not in (RowStatus.PASS, RowStatus.NOT_APPLICABLE):
        return 0
    return 1 if row.number in GUEST_ROWS else 2


def _line(row: Row) -> ChecklistLine:
    symbol, word = ROW_SYMBOLS[row.status]
    remedy = row.remedy_in(TUI_WORDS) if row.failing or row.status is RowStatus.UNKNOWN else ""
    code = row.code if row.failing else ""
    return ChecklistLine(symbol, word, row.number, row.sentence, remedy, code)


def verdict_banner(pre: Preconditions) -> tuple[str, str]:
    """(text, css class) for the verdict, e.g. ``("✗ BLOCKED — Instance ... is locked ...", "blocked")``."""
    detail = pre.reason_in(TUI_WORDS) or pre.summary
    if pre.verdict is Verdict.FIXABLE:
        detail = "; then ".join(fix.description for fix in pre.fixes)
    return f"{VERDICTS[pre.verdict.value].headline} — {detail}", VERDICT_CSS[pre.verdict]


def verdict_short(pre: Preconditions) -> str:
    return str(VERDICTS[pre.verdict.value])


def plan_lines(plan: Plan) -> list[str]:
    """The plan's steps as numbered lines, with the expected change and the ETA of each."""
    return step_lines(plan.steps)


def step_lines(steps: Sequence[PlanStep]) -> list[str]:
    """`steps` as numbered lines, with the expected change and the ETA of each."""
    lines = []
    for index, step in enumerate(steps, 1):
        eta = f", ~{duration(step.eta_seconds)}" if step.eta_seconds else ""
        lines.append(f"{index}. {step.description}  ({step.expected_change}{eta})")
    return lines


def needs_typed_id(pre: Preconditions, plan: Plan) -> str | None:
    """The id the operator must type to confirm: the instance's when the plan stops it, the disk's when it
    is a system disk, else None (a plain confirmation, Cancel focused)."""
    if any(step.action == "StopInstance" for step in plan.steps):
        return pre.instance_id
    if pre.is_system_disk:
        return pre.disk_id
    if any(step.action == "RunCommand" for step in plan.steps):  # released in the guest: the mount point
        guest = pre.guest
        return guest.mount_points[0] if guest is not None and guest.mount_points else pre.disk_id
    return None


def bulk_selectable(plan: Plan) -> bool:
    """A bulk detach takes only what needs no stop and is no system disk: those go through the wizard."""
    pre = plan.preconditions
    if not plan.executable or plan.nothing_to_do or pre is None:
        return False
    if pre.is_system_disk or any(step.action == "StopInstance" for step in plan.steps):
        return False
    return pre.verdict is Verdict.READY


def in_use_in_guest(pre: Preconditions) -> bool:
    """The guest uses the disk and releasing it there is the fix (the wizard offers the unmount)."""
    return any(fix.kind is FixKind.GUEST_UNMOUNT for fix in pre.fixes)


def bulk_row(plan: Plan) -> TableRow:
    """A preflight row: disk, instance, role, the verdict in words, and what happens or why not; its
    ``standing`` field says which way it goes (see :data:`BULK_STANDINGS`)."""
    pre = plan.preconditions
    role = pre.disk.type if pre is not None and pre.disk is not None else "?"
    skipped = str(Label(VERDICTS["fixable"].symbol, "skipped"))
    standing = "wizard"
    if pre is None:
        verdict, what = str(Label(VERDICTS["blocked"].symbol, "unreadable")), plan.refusal_in(BULK_WORDS)
        standing = "refused"
    elif bulk_selectable(plan):
        verdict, what = str(VERDICTS["ready"]), f"DetachDisk, then wait ~{duration(plan.eta_seconds)}"
        standing = "ready"
    elif plan.nothing_to_do:
        verdict, what = str(VERDICTS["already-detached"]), "nothing to do"
        standing = "nothing"
    elif _instance_to_choose(pre):
        on = ", ".join(pre.disk.attached_instance_ids) if pre.disk is not None else ""
        verdict, what = skipped, f"multi-attach (on {on}): press i to choose the instance to detach it from"
        standing = "choose"
    elif pre.verdict is Verdict.BLOCKED:
        verdict, what = str(VERDICTS["blocked"]), pre.reason_in(BULK_WORDS)
        standing = "refused"
    elif pre.is_system_disk:
        verdict, what = skipped, "system disk: one at a time (d on it)"
    elif pre.needs_stop:
        verdict, what = skipped, "needs a stop first: d on it"
    elif in_use_in_guest(pre):
        where = ", ".join(pre.guest.mount_points) if pre.guest is not None else ""
        verdict, what = skipped, f"in use in the guest ({where or 'mounted'}): d on it unmounts it first"
    elif pre.verdict is Verdict.IN_PROGRESS:
        verdict, what = str(VERDICTS["in-progress"]), "nothing to send"
        standing = "nothing"
    else:
        verdict, what = verdict_short(pre), pre.summary
    cells = (plan.disk_id, plan.instance_id or "-", role, verdict, what)
    return make_row(plan.disk_id, cells, {"disk": plan.disk_id, "verdict": verdict, "standing": standing})


BULK_STANDINGS = {
    "ready": "can be detached now",
    "refused": "would be refused (why above)",
    "wizard": "left for the wizard (d on it: a stop, a system disk or an unmount)",
    "choose": "needs its instance chosen (i on it: a multi-attach disk)",
    "nothing": "need nothing sent",
}
"""Which way each preflight row goes, in the words of the screen's summary."""


def bulk_summary(rows: list[TableRow]) -> str:
    """One sentence: how many marked disks go each way, e.g. "0 of 5 can be detached now: 3 would be
    refused (why above), 1 left for the wizard (...)"."""
    counts = {standing: 0 for standing in BULK_STANDINGS}
    for row in rows:
        counts[row.fields["standing"]] += 1
    text = f"{counts['ready']} of {len(rows)} {BULK_STANDINGS['ready']}"
    rest = [f"{counts[s]} {words}" for s, words in BULK_STANDINGS.items() if s != "ready" and counts[s]]
    return text + (": " + "; ".join(rest) if rest else "") + "."


def _instance_to_choose(pre: Preconditions) -> bool:
    """A multi-attach disk on several instances with none chosen: the operator picks one (i), so it is
    not refused."""
    disk = pre.disk
    return disk is not None and len(disk.attached_instance_ids) > 1 and not pre.instance_id
