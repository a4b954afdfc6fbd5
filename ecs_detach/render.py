"""Readable renderings of reports, plans and results: text for terminals, HTML for Jupyter.

`Preconditions`, `Plan`, `RunResult` and `BulkReport` delegate their ``__str__`` and ``_repr_html_``
here, so the CLI, the notebooks and a plain ``print`` show the same words. Labels pair a symbol with a
word, never colour alone.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ecs_detach.tables import (
    Column,
    Table,
    bulk_results_table,
    plan_table,
    preconditions_table,
)
from ecs_detach.vocabulary import VERDICTS
from ecs_detach.vocabulary import outcome_label as outcome_label
from ecs_detach.vocabulary import status_label as status_label
from ecs_detach.vocabulary import verdict_label as verdict_label

if TYPE_CHECKING:
    from ecs_detach.plan import Plan
    from ecs_detach.preconditions import Preconditions
    from ecs_detach.workflow import BulkReport, RunResult

_VERDICT_COLOURS = {
    "ready": "#1a7f37",
    "fixable": "#9a6700",
    "blocked": "#cf222e",
    "already-detached": "#57606a",
    "in-progress": "#0969da",
}


def badge(text: str, colour: str) -> str:
    return f'<strong style="color:{colour}">{html.escape(text)}</strong>'


def _lines_html(items: Iterable[str], lead: str = "") -> str:
    rows = [f"<li>{html.escape(item)}</li>" for item in items]
    if not rows:
        return ""
    head = f"<p>{html.escape(lead)}</p>" if lead else ""
    return f"{head}<ul>{''.join(rows)}</ul>"


def report_text(pre: Preconditions) -> str:
    """A preconditions report as text: the verdict, the summary, the fixes, and every row."""
    lines = [f"Verdict: {verdict_label(pre.verdict.value)}", pre.summary]
    if pre.predicted_code:
        lines.append(f"The API would answer now: {pre.predicted_code}")
    lines.extend(f"Fix: {fix.description}" for fix in pre.fixes)
    table = preconditions_table(pre)
    lines.append(table.render(max_widths=(None, 28, None, 48, 36, None)))
    return "\n".join(lines)


def report_html(pre: Preconditions) -> str:
    verdict = pre.verdict.value
    parts = [
        f"<p>{badge(verdict_label(verdict), _VERDICT_COLOURS.get(verdict, '#000'))} "
        f"{html.escape(pre.summary)}</p>"
    ]
    if pre.predicted_code:
        parts.append(f"<p>The API would answer now: <code>{html.escape(pre.predicted_code)}</code></p>")
    parts.append(_lines_html((fix.description for fix in pre.fixes), "Fixes the toolkit can apply:"))
    parts.append(preconditions_table(pre)._repr_html_())
    return "".join(parts)


def plan_text(plan: Plan) -> str:
    """A plan as text: the steps, the expected changes, the ETA and the equivalent aliyun commands."""
    return plan.describe()


def plan_html(plan: Plan) -> str:
    if plan.nothing_to_do:
        head = badge(
            f"{VERDICTS['already-detached'].symbol} nothing to do", _VERDICT_COLOURS["already-detached"]
        )
    elif not plan.executable:
        head = (
            badge(f"{VERDICTS['blocked'].symbol} cannot run", _VERDICT_COLOURS["blocked"])
            + " "
            + html.escape(plan.refusal)
        )
    else:
        head = badge(f"{VERDICTS['ready'].symbol} can run", _VERDICT_COLOURS["ready"]) + (
            f" ETA about {plan.eta_seconds:.0f} s (timeout {plan.timeout:.0f} s per wait); "
            f"calls: {html.escape(', '.join(plan.calls) or 'none')}"
        )
    parts = [f"<p>{head}</p>"]
    if plan.steps:
        parts.append(plan_table(plan)._repr_html_())
        commands = "\n".join(f"$ {command}" for command in plan.aliyun_commands)
        parts.append(f"<p>The same with the aliyun CLI:</p><pre>{html.escape(commands)}</pre>")
    parts.append(_lines_html((f"⚠ {w}" for w in plan.warnings), "Warnings:"))
    return "".join(parts)


RESULT_STEP_COLUMNS = (
    Column("Step", "kind", lambda s: s.kind),
    Column("What happened", "message", lambda s: s.message),
    Column("Call", "action", lambda s: s.action or "-"),
    Column("Request id", "request_id", lambda s: s.request_id or "-"),
    # The journal's id, as `journal_table` shows it (the same 12-character prefix where room is short).
    Column("Operation", "operation_id", lambda s: s.operation_id or "-", compact=lambda t: t[:12]),
    Column("Result", "code", lambda s: s.code or "-"),
)


def result_steps_table(result: RunResult) -> Table:
    return Table.build(result.steps, RESULT_STEP_COLUMNS, f"Steps ({result.disk_id})")


def result_text(result: RunResult) -> str:
    lines = [f"{outcome_label(result.outcome.value)}: {result.message}"]
    if result.disk is not None:
        lines.append(f"Disk {result.disk.disk_id} is now {status_label(result.disk.status)}.")
    if result.code:
        lines.append(f"Code: {result.code}")
    if result.remedy:
        lines.append(f"What to do: {result.remedy}")
    if result.steps:
        lines.append(str(result_steps_table(result)))
    return "\n".join(lines)


def result_html(result: RunResult) -> str:
    colour = "#1a7f37" if result.ok else "#cf222e"
    parts = [f"<p>{badge(outcome_label(result.outcome.value), colour)} {html.escape(result.message)}</p>"]
    if result.disk is not None:
        parts.append(
            f"<p>Disk <code>{html.escape(result.disk.disk_id)}</code> is now "
            f"<strong>{html.escape(status_label(result.disk.status))}</strong>.</p>"
        )
    if result.code:
        parts.append(f"<p>Code: <code>{html.escape(result.code)}</code></p>")
    if result.remedy:
        parts.append(f"<p>What to do: {html.escape(result.remedy)}</p>")
    if result.steps:
        parts.append(result_steps_table(result)._repr_html_())
    return "".join(parts)


def bulk_text(report: BulkReport) -> str:
    return f"{report.summary()}\n{bulk_results_table(report)}"


def bulk_html(report: BulkReport) -> str:
    done, total = len(report.succeeded), len(report.results)
    colour = "#1a7f37" if report.ok else "#cf222e"
    head = badge(f"{done} of {total} disk(s) done", colour)
    return f"<p>{head}</p>{bulk_results_table(report)._repr_html_()}"


def pretty(obj: Any, printer: Any, cycle: bool) -> None:
    """IPython's text view (text/plain): the readable text rather than the dataclass repr."""
    printer.text(str(obj))
