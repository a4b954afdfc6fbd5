"""The read commands: instances, disks, check (the preconditions report), journal, snapshot-fleet."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ecs_detach.commands._console import CommandError, Console
from ecs_detach.commands._context import journal_for, open_context
from ecs_detach.errors import remedy_for
from ecs_detach.journal import JournalRecord
from ecs_detach.preconditions import DetachOptions, Preconditions, Verdict
from ecs_detach.render import verdict_label
from ecs_detach.tables import (
    PRECONDITION_WIDTHS,
    disks_table,
    instances_table,
    journal_table,
    preconditions_table,
)

__all__ = ["cmd_check", "cmd_disks", "cmd_instances", "cmd_journal", "cmd_snapshot_fleet", "verdict_label"]


def cmd_instances(args: Any, console: Console) -> int:
    with open_context(args, console).session as session:
        table = instances_table(session.client.list_instances(), f"Instances in {session.region_id}")
        console.table(table)
        console.emit_json({"region_id": session.region_id, "instances": table.to_records()})
    return 0


def cmd_disks(args: Any, console: Console) -> int:
    with open_context(args, console).session as session:
        disks = session.client.list_disks(instance_id=args.instance) if args.instance else None
        if disks is None:
            disks = session.client.list_disks()
        where = f"attached to {args.instance}" if args.instance else f"in {session.region_id}"
        table = disks_table(disks, f"Disks {where}")
        console.table(table)
        console.emit_json(
            {"region_id": session.region_id, "instance_id": args.instance, "disks": table.to_records()}
        )
    return 0


def report_remedy(pre: Preconditions) -> str:
    """What to do about the report: the first failing row's remedy, else the predicted code's."""
    for row in pre.failing_rows:
        if row.remedy:
            return row.remedy
    return remedy_for(pre.predicted_code) if pre.predicted_code else ""


def show_preconditions(console: Console, pre: Preconditions, *, only_failing: bool = False) -> None:
    """The report on screen: the rows (all, or the failing ones), the verdict, predicted code and remedy."""
    if only_failing:
        rows = pre.failing_rows
        if rows:
            from dataclasses import replace

            console.table(
                preconditions_table(replace(pre, rows=rows), "Preconditions that stand in the way"),
                PRECONDITION_WIDTHS,
            )
    else:
        console.table(preconditions_table(pre), PRECONDITION_WIDTHS)
    console.say(f"Verdict: {verdict_label(pre.verdict.value)} — {pre.summary}")
    if pre.predicted_code:
        console.say(f"DetachDisk would now answer: {pre.predicted_code}")
        remedy = report_remedy(pre)
        if remedy:
            console.say(f"Remedy: {remedy}")
    unknown = [str(row.number) for row in pre.unknown_rows if row.code]
    if unknown and not only_failing:
        console.say(f"Unknown here (the API decides): rows {', '.join(unknown)}.")
    for row in pre.unknown_rows:
        if not row.code:  # a guest row: the API never decides it
            console.say(f"Guest: {row.sentence} {row.remedy}")


def preconditions_json(pre: Preconditions) -> dict[str, Any]:
    return {**pre.to_dict(), "remedy": report_remedy(pre)}


def cmd_check(args: Any, console: Console) -> int:
    from ecs_detach import workflow

    context = open_context(args, console)
    with context.session:
        options = DetachOptions(
            instance_id=args.instance, guest_check=True, skip_guest_check=bool(args.skip_guest_check)
        )
        pre = workflow.inspect(
            context.client, args.disk_id, options, facts=context.facts, guest_time=context.guest_time()
        )
    code = 3 if pre.verdict is Verdict.BLOCKED else 0
    show_preconditions(console, pre)
    console.emit_json({**preconditions_json(pre), "exit_code": code})
    return code


# -- journal -------------------------------------------------------------------------------------------------


def operation_json(intent: JournalRecord, outcome: JournalRecord | None) -> dict[str, Any]:
    return {
        "operation_id": intent.operation_id,
        "action": intent.action,
        "at": intent.at,
        "disk_id": intent.disk_id,
        "instance_id": intent.instance_id,
        "params": dict(intent.params),
        "profile": intent.profile,
        "region": intent.region,
        "endpoint": intent.endpoint,
        "context": dict(intent.context),
        "pending": outcome is None,
        "result": outcome.result if outcome else None,
        "code": outcome.code if outcome else "",
        "message": outcome.message if outcome else "",
        "request_id": outcome.request_id if outcome else "",
        "reconciled": bool(outcome and outcome.reconciled),
        "outcome_at": outcome.at if outcome else None,
    }


def cmd_journal(args: Any, console: Console) -> int:
    reconciled: list[JournalRecord] = []
    if args.reconcile:
        context = open_context(args, console, banner=True)
        journal = context.journal
        with context.session:
            reconciled = context.reconcile_pending(explicit=True)
        if not reconciled:
            console.note("Nothing to reconcile for this profile, region and endpoint.")
    else:
        journal = journal_for(args)
    operations = journal.operations(rotated=True)
    if args.pending:
        operations = [(intent, outcome) for intent, outcome in operations if outcome is None]
    rotated = journal.rotated_paths()
    title = f"Journal {journal.path}" + (f" and its {len(rotated)} rotated file(s)" if rotated else "")
    title += " (pending only)" if args.pending else ""
    console.table(journal_table(operations, title))
    if not console.json_mode and any(intent.action == "DetachDisk" for intent, _ in operations):
        console.say("Undo a detach: ecs-detach attach --operation OPERATION_ID")
    console.emit_json(
        {
            "path": str(journal.path),
            "rotated_files": [str(path) for path in rotated],
            "operations": [operation_json(intent, outcome) for intent, outcome in operations],
            "reconciled": [operation_json(record, record) for record in reconciled],
            "skipped_lines": list(journal.skipped),
        }
    )
    return 0


# -- snapshot-fleet ------------------------------------------------------------------------------------------


def cmd_snapshot_fleet(args: Any, console: Console) -> int:
    context = open_context(args, console, read_only=True, banner=True)
    with context.session as session:
        regions = session.client.describe_regions()
        names = [args.region] if args.region else [region.region_id for region in regions]
        console.note(f"Capturing {len(names)} region(s) read-only: {', '.join(names)}")
        inventory = session.client.inventory(names)
    fleet = {
        "Regions": [dict(region.raw) for region in regions if region.region_id in names],
        "Instances": [dict(instance.raw) for instance in inventory.instances],
        "Disks": [dict(disk.raw) for disk in inventory.disks],
    }
    summary = {
        "regions": len(fleet["Regions"]),
        "instances": len(fleet["Instances"]),
        "disks": len(fleet["Disks"]),
        "errors": {region: str(error) for region, error in inventory.errors.items()},
        "output": args.output,
    }
    text = json.dumps(fleet, indent=2, ensure_ascii=False)
    if args.output:
        path = Path(args.output).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise CommandError(
                2, f"cannot write {path}: {exc.strerror or exc}", "Pick a writable --output path."
            ) from None
        console.say(
            f"Wrote {summary['instances']} instances and {summary['disks']} disks from {summary['regions']} "
            f"region(s) to {path}. Replay it: ecs-detach emulator --fleet {path}"
        )
        console.emit_json(summary)
    else:
        print(text, file=console.out, flush=True)
    for region, error in inventory.errors.items():
        console.error(f"region {region} could not be read: {error}", getattr(error, "remedy", ""))
    if inventory.errors:
        raise CommandError(
            1,
            f"the capture is incomplete: {len(inventory.errors)} region(s) could not be read",
            "Fix the cause above and capture again (or pass --region to capture one region).",
        )
    return 0
