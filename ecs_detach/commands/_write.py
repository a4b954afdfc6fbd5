"""The mutating commands: detach (one disk, or several in a bulk run) and attach (re-attach, undo).

Each: ids checked, writes allowed, the journal's pending calls reconciled, fresh preconditions and a plan
shown, a confirmation (``--yes``, or typed at a terminal), then the workflow runs in a worker thread with
progress; Ctrl-C stops the wait, never the operation.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecs_detach.commands._console import CommandError, Console, Progress, run_in_worker, seconds_text
from ecs_detach.commands._context import Context, open_context
from ecs_detach.commands._read import preconditions_json, show_preconditions
from ecs_detach.endpoints import endpoint_password, mask_endpoint
from ecs_detach.guest import Remount, remount_words
from ecs_detach.journal import JournalRecord, took_effect
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan, StepKind
from ecs_detach.preconditions import GUEST_RULES, DetachOptions, RowStatus, Verdict
from ecs_detach.tables import (
    BULK_PLAN_WIDTHS,
    BULK_RESULT_WIDTHS,
    PLAN_WIDTHS,
    bulk_plans_table,
    bulk_results_table,
    plan_table,
)
from ecs_detach.vocabulary import DEMO_TIME
from ecs_detach.wording import CLI_WORDS, Choice, Words
from ecs_detach.workflow import CancelToken, Outcome, RunResult

__all__ = ["Undo", "cmd_attach", "cmd_detach", "show_undos", "undo_of"]

NOT_CONFIRMED = "not confirmed: nothing was sent"


def _refuse_without_terminal(args: Any, console: Console, what: str) -> None:
    if not args.yes and not console.stdin_is_tty():
        raise CommandError(
            2,
            f"refusing to {what} without confirmation: --yes was not given and stdin is not a terminal; "
            "nothing was sent",
            "Review it first (ecs-detach check DISK_ID), then run again with --yes.",
        )


def _options(args: Any) -> DetachOptions:
    dwi = args.delete_with_instance
    return DetachOptions(
        instance_id=args.instance,
        delete_with_instance=None if dwi is None else dwi == "true",
        allow_stop=args.stop_instance,
        force_stop=args.force_stop,
        stopped_mode=args.stopped_mode,
        restart=args.restart_instance,
        snapshot=bool(getattr(args, "snapshot", False)),
        unmount=bool(getattr(args, "unmount", False)),
        guest_check=True,  # one disk or a bulk run: the guests are read (unless --skip-guest-check)
        skip_guest_check=bool(getattr(args, "skip_guest_check", False)),
    )


def show_plan(console: Console, plan: Plan) -> None:
    if plan.steps:
        console.table(plan_table(plan), PLAN_WIDTHS)
        console.say(f"ETA: about {plan.eta_seconds:.0f} s (each wait bounded by {plan.timeout:.0f} s)")
        console.say("Equivalent aliyun commands:")
        for command in plan.aliyun_commands:
            console.say(f"  $ {command}")
    for step in plan.steps:
        if step.kind in (StepKind.GUEST_UNMOUNT, StepKind.GUEST_REMOUNT):  # word for word, unquoted
            console.say(f"Script sent to the guest ({step.params.get('Type', '')}, by RunCommand):")
            for line in step.params.get("CommandContent", "").splitlines():
                console.say(f"    {line}")
    for warning in plan.warnings:
        console.say(f"Warning: {warning}")


def show_bulk_guests(console: Console, plans: list[Plan]) -> None:
    """Under a bulk preflight: each disk's guest rows that stand in the way or are unknown (with the commands
    to run by hand), and the script each guest step sends, word for word."""
    guest_rows = {rule.number for rule in GUEST_RULES}
    for plan in plans:
        pre = plan.preconditions
        rows = [] if pre is None else [r for r in pre.rows if r.number in guest_rows and r.status in _SHOWN]
        for row in rows:
            console.say(f"Guest ({plan.disk_id}, row {row.number}, {row.status.value}): {row.sentence}")
            if row.remedy:
                console.say(f"    {row.remedy}")
        for step in plan.steps:
            if step.kind is StepKind.GUEST_UNMOUNT:
                kind = step.params.get("Type", "")
                console.say(f"Script sent to the guest of {plan.instance_id} for {plan.disk_id} ({kind}):")
                for line in step.params.get("CommandContent", "").splitlines():
                    console.say(f"    {line}")


_SHOWN = (RowStatus.FAIL, RowStatus.FIXABLE, RowStatus.UNKNOWN)


def _typed_confirmation(console: Console, expected: str, why: str) -> None:
    typed = console.ask(f"{why} Type {expected} to go ahead (anything else cancels): ")
    if typed != expected:
        raise CommandError(2, NOT_CONFIRMED)


def _yes_no(console: Console, question: str) -> None:
    typed = console.ask(f"{question} [y/N] ")
    if (typed or "").lower() not in ("y", "yes"):
        raise CommandError(2, NOT_CONFIRMED)


def confirm_guest_release(console: Console, plan: Plan) -> None:
    """A plan that releases the disk in the guest: the operator types its mount point (else the disk id)."""
    if not plan.has_step(StepKind.GUEST_UNMOUNT):
        return
    guest = plan.preconditions.guest if plan.preconditions is not None else None
    expected = (guest.mount_points[0] if guest is not None and guest.mount_points else "") or plan.disk_id
    _typed_confirmation(
        console,
        expected,
        f"Careful: disk {plan.disk_id} will be released in the guest of {plan.instance_id}.",
    )


def _confirm_detach(args: Any, console: Console, plan: Plan) -> None:
    if args.yes:
        return
    pre = plan.preconditions
    confirm_guest_release(console, plan)
    system = pre is not None and pre.is_system_disk
    stops = plan.has_step(StepKind.STOP_INSTANCE)
    if system or stops:
        reasons = []
        if system:
            reasons.append(f"{plan.disk_id} is the SYSTEM disk of {plan.instance_id}")
        if stops:
            reasons.append(f"instance {plan.instance_id} will be STOPPED")
        _typed_confirmation(console, plan.disk_id, "Careful: " + "; and ".join(reasons) + ".")
    else:
        _yes_no(console, f"Detach disk {plan.disk_id} from instance {plan.instance_id}?")


def _progress(context: Context) -> Progress:
    console = context.console
    return Progress(console, bar=console.stderr_is_tty(), real_time=not context.in_process_demo)


def _detach_sent(result: RunResult) -> str | None:
    """The request id of the DetachDisk this run sent (None: not sent)."""
    for step in result.steps:
        if step.action == "DetachDisk" and step.request_id:
            return step.request_id
    return None


def _report_result(
    console: Console,
    result: RunResult,
    command: str,
    *,
    no_wait: bool,
    interrupted: bool,
    demo_time: bool = False,
    words: Words = CLI_WORDS,
) -> int:
    code = result.exit_code
    request_ids = ", ".join(result.request_ids)
    if no_wait and result.outcome is Outcome.CANCELLED and not interrupted:
        request = _detach_sent(result)
        lead = (
            f"DetachDisk for {result.disk_id} was accepted (request {request})"
            if request
            else f"Disk {result.disk_id} is already detaching from {result.instance_id}"
        )
        console.say(f"{lead}; not waiting (--no-wait). Follow it: ecs-detach check {result.disk_id}")
        return 0
    if result.ok:
        console.say(f"✓ {result.message}")
        if result.elapsed:
            clock = f" ({DEMO_TIME}: the demo's clock runs faster than the wall clock)" if demo_time else ""
            console.say(f"  took {seconds_text(result.elapsed)}{clock}")
        if request_ids:
            console.say(f"  request ids: {request_ids}")
        return code
    if result.outcome is Outcome.CANCELLED:
        console.error(
            result.message, result.remedy_in(words) or f"Check it later: ecs-detach check {result.disk_id}"
        )
        return 4
    if request_ids:
        console.note(f"  request ids so far: {request_ids}")
    remedy = result.remedy_in(words)
    if not remedy and result.outcome is Outcome.FAILED:
        remedy = f"Check the disk's state (ecs-detach check {result.disk_id}) before trying again."
    console.error(result.message, remedy)
    return code


@dataclass(frozen=True, slots=True)
class Undo:
    """How to undo what one run did to one disk: the command that takes it back, with the journal's
    operation id (``attach --operation`` for a detach, ``move --undo`` for a move), and what it does."""

    disk_id: str
    operation_id: str
    command: tuple[str, ...]
    does: str

    def line(self, *, name_disk: bool = False) -> str:
        who = f" {self.disk_id}" if name_disk else ""
        return f"Undo{who}: {shlex.join(self.command)} ({self.does})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "disk_id": self.disk_id,
            "operation_id": self.operation_id,
            "command": list(self.command),
            "does": self.does,
        }


def session_flags(args: Any) -> tuple[str, ...]:
    """The options that chose this command's emulator, profile, endpoint and journal: a command it names
    (an undo) repeats them, so that it acts where this one did and finds its operation in the same journal.
    An endpoint's ``user:password@`` password is never repeated: it is shown as ``****``."""
    flags = ["--demo"] if getattr(args, "demo", False) else []
    for option in ("profile", "endpoint", "journal"):
        value = getattr(args, option, None)
        if value:
            flags += [f"--{option}", mask_endpoint(str(value)) if option == "endpoint" else str(value)]
    return tuple(flags)


def undo_of(
    result: RunResult,
    operations: Sequence[tuple[JournalRecord, JournalRecord | None]],
    flags: Sequence[str] = (),
) -> Undo | None:
    """The undo of `result`'s run as the journal (`operations`) recorded it: a move's AttachDisk that took
    effect is moved back; else its DetachDisk that took effect is attached back (and mounted back in the
    guest when our unmount preceded it). None when neither went through (or whether it did is unknown).
    The command ends with `flags` (`session_flags`)."""
    done = took_effect(operations, result.operation_ids)
    moved = [intent for intent in done if intent.action == "AttachDisk" and intent.context.get("move_from")]
    if moved:
        intent = moved[-1]
        source = intent.context["move_from"]
        back = ("ecs-detach", "move", "--undo", intent.operation_id, *flags)
        return Undo(intent.disk_id, intent.operation_id, back, f"moves it back to {source}")
    detached = [intent for intent in done if intent.action == "DetachDisk"]
    if not detached:
        return None
    intent = detached[-1]
    command: tuple[str, ...] = ("ecs-detach", "attach", "--operation", intent.operation_id, *flags)
    does = f"re-attaches it to {intent.instance_id}"
    if intent.context.get("disk_type") == "system":  # AttachDisk needs a logon credential, never journaled
        command += ("--bootable",)
        does += " as its system disk, once it is Stopped; add --password-env VAR or --key-pair NAME"
    remount = Remount.from_context(intent.context)
    if remount is not None:
        where = ", ".join(remount.mount_points) or "the disk"
        does += f", then in the guest: {where} {remount_words(remount.command_type).back}"
    return Undo(intent.disk_id, intent.operation_id, command, does)


def undo_words(args: Any) -> Words:
    """The CLI's words, with the undo to run again carrying this command's `session_flags` (exact)."""
    flags = shlex.join(session_flags(args)).replace("{", "{{").replace("}", "}}")
    again = CLI_WORDS[Choice.UNDO_AGAIN].replace(
        "{operation}", "{operation} " + flags if flags else "{operation}"
    )
    return {**CLI_WORDS, Choice.UNDO_AGAIN: again}


def show_undos(context: Context, results: Sequence[RunResult], *, name_disks: bool = False) -> list[Undo]:
    """Say how to undo each run of `results` that changed something (one line each), from the journal."""
    operations, flags = context.journal.operations(), session_flags(context.args)
    undos = [undo for undo in (undo_of(r, operations, flags) for r in results) if undo is not None]
    for undo in undos:
        context.console.say(undo.line(name_disk=name_disks))
    if undos and endpoint_password(str(getattr(context.args, "endpoint", "") or "")):
        context.console.say("  (the endpoint's password is shown as ****: put it back to run the undo)")
    if undos and context.in_process_demo:
        context.console.say(
            "  (--demo starts every command from the demo fleet afresh, so there the undo finds nothing to "
            "undo; on a served emulator (--endpoint URL) or a real account it undoes what this command did)"
        )
    return undos


def cmd_detach(args: Any, console: Console) -> int:
    dry_run = bool(getattr(args, "dry_run", False))
    if not dry_run:
        _refuse_without_terminal(args, console, "detach")
    options = _options(args)
    timeout = args.timeout or DEFAULT_TIMEOUT
    # A dry run reads and plans only: its client is read-only, so nothing mutating can be sent.
    context = open_context(args, console, banner=True, read_only=dry_run)
    with context.session:
        if not dry_run:
            context.ensure_writable()
            context.reconcile_pending()
        if len(args.disk_ids) > 1:
            return _bulk(context, args.disk_ids, options, timeout)
        return _single(context, args.disk_ids[0], options, timeout)


def _single(context: Context, disk_id: str, options: DetachOptions, timeout: float) -> int:
    from ecs_detach import workflow

    args, console = context.args, context.console
    plan = workflow.prepare(
        context.client,
        disk_id,
        options,
        facts=context.facts,
        timeout=timeout,
        journal=context.journal,
        guest_time=context.guest_time(),
    )
    pre = plan.preconditions
    document: dict[str, Any] = {
        "command": "detach",
        "disk_ids": [disk_id],
        "no_wait": bool(args.no_wait),
        "reconciled": [record.operation_id for record in context.reconciled],
        "preconditions": preconditions_json(pre) if pre is not None else None,
        "plan": plan.to_dict(),
        "result": None,
        "undo": [],
    }

    def finish(code: int, result: RunResult | None = None) -> int:
        document["result"] = result.to_dict() if result is not None else None
        if result is not None:
            document["undo"] = [undo.to_dict() for undo in show_undos(context, [result])]
        document["exit_code"] = code
        console.emit_json(document)
        return code

    if pre is not None:
        show_preconditions(console, pre, only_failing=True)
    if plan.nothing_to_do:
        console.say(f"✓ Disk {disk_id} is already detached: nothing was sent.")
        for warning in plan.warnings:  # e.g. an earlier run of ours left the instance Stopped
            console.say(f"Warning: {warning}")
        return finish(0)
    if not plan.executable:
        show_plan(console, plan)
        remedy = ""
        if pre is not None and pre.verdict is not Verdict.BLOCKED and pre.needs_stop:
            remedy = "Add --stop-instance to let ecs-detach stop it first (its workloads go down)."
        console.error(f"blocked, nothing was sent: {plan.refusal}", remedy)
        return finish(3)
    show_plan(console, plan)
    if args.dry_run:
        document["dry_run"] = True
        console.say("Dry run: nothing was sent (run it without --dry-run to detach).")
        return finish(0)
    _confirm_detach(args, console, plan)

    cancel = CancelToken()
    progress = _progress(context)

    def on_progress(event: Any) -> None:
        progress(event)
        if args.no_wait and event.phase == StepKind.WAIT_DISK_DETACHED.value:
            cancel.cancel()

    result, interrupted = run_in_worker(
        lambda: workflow.run(
            context.client,
            plan,
            journal=context.journal,
            on_progress=on_progress,
            cancel=cancel,
            timeout=timeout,
            **context.run_kwargs(),
        ),
        cancel,
        progress,
        console,
    )
    code = _report_result(
        console,
        result,
        "detach",
        no_wait=args.no_wait,
        interrupted=interrupted,
        demo_time=context.in_process_demo,
    )
    return finish(code, result)


def _bulk(context: Context, disk_ids: list[str], options: DetachOptions, timeout: float) -> int:
    from ecs_detach import workflow

    args, console = context.args, context.console
    items = [workflow.BulkItem(disk_id, options) for disk_id in disk_ids]
    plans = workflow.prepare_bulk(
        context.client,
        items,
        facts=context.facts,
        timeout=timeout,
        journal=context.journal,
        guest_time=context.guest_time(),
    )
    document: dict[str, Any] = {
        "command": "detach",
        "disk_ids": disk_ids,
        "reconciled": [record.operation_id for record in context.reconciled],
        "plans": [plan.to_dict() for plan in plans],
        "preconditions": [
            preconditions_json(plan.preconditions) if plan.preconditions is not None else None
            for plan in plans
        ],
        "report": None,
        "undo": [],
    }

    def finish(code: int) -> int:
        document["exit_code"] = code
        console.emit_json(document)
        return code

    console.table(bulk_plans_table(plans, f"Preflight: {len(plans)} disks"), BULK_PLAN_WIDTHS)
    show_bulk_guests(console, plans)
    runnable = [plan for plan in plans if plan.executable and not plan.nothing_to_do]
    if not runnable:
        if all(plan.nothing_to_do for plan in plans):
            console.say("✓ Every disk is already detached: nothing was sent.")
            return finish(0)
        console.error(
            "blocked, nothing was sent: no disk can be detached (see the Note column)",
            "Fix what the notes say, or leave those disks out.",
        )
        return finish(3)
    if args.dry_run:
        document["dry_run"] = True
        console.say(f"Dry run: {len(runnable)} disk(s) could be detached; nothing was sent.")
        return finish(0)
    skipped = len(plans) - len(runnable)
    eta = max(plan.eta_seconds for plan in runnable)
    console.say(
        f"{len(runnable)} disk(s) to detach, {skipped} left as they are; ETA about {eta:.0f} s "
        f"(up to {args.concurrency} instances at a time)."
    )
    for plan in runnable:
        for warning in plan.warnings:
            console.say(f"Warning ({plan.disk_id}): {warning}")
    if not args.yes:
        risky = [
            plan
            for plan in runnable
            if plan.has_step(StepKind.STOP_INSTANCE)
            or plan.has_step(StepKind.GUEST_UNMOUNT)
            or (plan.preconditions and plan.preconditions.is_system_disk)
        ]
        if risky:
            names = ", ".join(plan.disk_id for plan in risky)
            _typed_confirmation(
                console,
                str(len(runnable)),
                f"This stops instances, releases disks in their guests or detaches system disks ({names}).",
            )
        else:
            _yes_no(console, f"Detach {len(runnable)} disk(s)?")

    cancel = CancelToken()
    progress = Progress(console, bar=False, real_time=not context.in_process_demo)
    report, interrupted = run_in_worker(
        lambda: workflow.run_bulk(
            context.client,
            plans,
            concurrency=args.concurrency,
            rate=getattr(args, "rate", None),
            journal=context.journal,
            on_progress=progress,
            cancel=cancel,
            timeout=timeout,
            **context.run_kwargs(),
        ),
        cancel,
        progress,
        console,
    )
    document["report"] = report.to_dict()
    console.table(bulk_results_table(report), BULK_RESULT_WIDTHS)
    done, total = len(report.succeeded), len(report.results)
    code = report.exit_code
    if code == 0:
        console.say(f"✓ {done} of {total} disk(s) detached (or already detached).")
    else:
        failed = ", ".join(f"{r.disk_id} ({r.outcome.value})" for r in report.failed)
        remedy = "See the Message column; check each disk with `ecs-detach check DISK_ID` before retrying."
        if interrupted:
            remedy = "Waiting was stopped (Ctrl-C); the operations go on in the cloud. " + remedy
        console.error(f"{done} of {total} disk(s) done; not done: {failed}", remedy)
    document["undo"] = [undo.to_dict() for undo in show_undos(context, report.results, name_disks=True)]
    return finish(code)


# -- attach --------------------------------------------------------------------------------------------------


def _journal_record(context: Context, operation: str) -> JournalRecord:
    wanted = operation.strip()
    matches = [
        (intent, outcome)
        for intent, outcome in context.journal.operations(rotated=True)
        if intent.operation_id == wanted or (len(wanted) >= 6 and intent.operation_id.startswith(wanted))
    ]
    if not matches:
        raise CommandError(
            2,
            f"no operation {wanted!r} in the journal {context.journal.path}",
            "List operations with `ecs-detach journal` (or point --journal at the right file).",
        )
    if len(matches) > 1:
        raise CommandError(
            2, f"{wanted!r} matches {len(matches)} operations", "Give more of the operation id."
        )
    intent, outcome = matches[0]
    if intent.action != "DetachDisk":
        raise CommandError(
            2, f"operation {intent.operation_id} is a {intent.action}, not a DetachDisk: nothing to undo"
        )
    if outcome is None or not outcome.succeeded:
        state = "has no recorded outcome" if outcome is None else f"ended {outcome.result}"
        raise CommandError(
            2,
            f"operation {intent.operation_id} {state}, so there is no detach to undo",
            "Reconcile first (ecs-detach journal --reconcile), or check the disk (ecs-detach check DISK_ID).",
        )
    return intent


def _client_for(context: Context, record: JournalRecord) -> Any:
    """The client to undo `record` with: the same profile and endpoint (else refuse), the record's region."""
    session, console = context.session, context.console
    profile = str(session.client.profile_name or "")
    if record.profile != profile or (record.endpoint and record.endpoint != session.client.endpoint):
        made = f"profile {record.profile or '(environment)'} at {record.endpoint or '?'}"
        raise CommandError(
            2,
            f"operation {record.operation_id} was made with {made}, not with this session's "
            f"(profile {profile or '(environment)'} at {session.client.endpoint}); nothing was sent",
            "Run again with the --profile / --endpoint the operation was made with.",
        )
    if record.region and record.region != session.region_id:
        console.note(f"Operation {record.operation_id} was in region {record.region}: using that region.")
        return session.client.with_region(record.region)
    return session.client


def _password(args: Any) -> str | None:
    if not args.password_env:
        return None
    value = os.environ.get(args.password_env, "")
    if not value:
        raise CommandError(
            2,
            f"the environment variable {args.password_env} is not set (or empty)",
            f"Set it first, e.g. read -s {args.password_env} && export {args.password_env}",
        )
    return value


def cmd_attach(args: Any, console: Console) -> int:
    from ecs_detach import workflow

    _refuse_without_terminal(args, console, "attach")
    password = _password(args)
    timeout = args.timeout or DEFAULT_TIMEOUT
    context = open_context(args, console, banner=True)
    with context.session:
        context.ensure_writable()
        context.reconcile_pending()
        client = context.client
        if args.operation:
            record = _journal_record(context, args.operation)
            client = _client_for(context, record)
        else:
            record = JournalRecord(
                kind="intent",
                operation_id="",
                action="DetachDisk",
                at="",
                disk_id=args.disk_id,
                instance_id=args.instance,
                region=context.session.region_id,
            )
        credential = "password" if password else "key-pair" if args.key_pair else None
        plan = workflow.prepare_reattach(
            client,
            record,
            credential=credential,
            start_after=args.start_instance,
            facts=context.facts,
            timeout=timeout,
            remount=args.remount,
        )
        system = any(step.params.get("Bootable") == "true" for step in plan.steps)
        if system and not args.bootable:
            raise CommandError(
                2,
                f"disk {plan.disk_id} is a system disk: attaching it needs --bootable and a logon credential",
                "Add --bootable with --password-env VAR (the password in that variable) or --key-pair NAME.",
            )
        if args.bootable and not system:
            raise CommandError(
                2, f"disk {plan.disk_id} is a data disk: --bootable does not apply", "Drop it."
            )
        document: dict[str, Any] = {"command": "attach", "plan": plan.to_dict(), "result": None}
        show_plan(console, plan)
        if not plan.executable:
            console.error(f"blocked, nothing was sent: {plan.refusal}")
            document["exit_code"] = 3
            console.emit_json(document)
            return 3
        if not args.yes:
            if system:
                _typed_confirmation(
                    console, plan.disk_id, f"{plan.disk_id} becomes the SYSTEM disk of {plan.instance_id}."
                )
            else:
                _yes_no(console, f"Attach disk {plan.disk_id} to instance {plan.instance_id}?")
        cancel = CancelToken()
        progress = _progress(context)
        result, interrupted = run_in_worker(
            lambda: workflow.reattach(
                client,
                record,
                password=password,
                key_pair_name=args.key_pair,
                start_after=args.start_instance,
                remount=args.remount,
                journal=context.journal,
                on_progress=progress,
                cancel=cancel,
                timeout=timeout,
                **context.run_kwargs(),
            ),
            cancel,
            progress,
            console,
        )
        words = undo_words(args)
        code = _report_result(
            console,
            result,
            "attach",
            no_wait=False,
            interrupted=interrupted,
            demo_time=context.in_process_demo,
            words=words,
        )
        document["result"] = result.to_dict() | {"remedy": result.remedy_in(words)}
        document["exit_code"] = code
        console.emit_json(document)
        return code
