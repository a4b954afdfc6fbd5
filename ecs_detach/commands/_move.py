"""`ecs-detach move DISK --to INSTANCE`: DetachDisk from the source and AttachDisk to the target, one plan
and one confirmation; `move --undo OP_ID` moves it back (the OP_ID of the move's AttachDisk).

Both sides are checked before anything is sent (exit 3 when either refuses, a zone mismatch included);
the journal's pending calls are reconciled first, so a move killed between its halves is finished by
running it again (only the attach is left).
"""

from __future__ import annotations

from typing import Any

from ecs_detach.commands._console import CommandError, Console, run_in_worker
from ecs_detach.commands._context import Context, open_context
from ecs_detach.commands._read import show_preconditions
from ecs_detach.commands._write import (
    _password,
    _progress,
    _refuse_without_terminal,
    _report_result,
    _typed_confirmation,
    _yes_no,
    confirm_guest_release,
    show_plan,
    show_undos,
)
from ecs_detach.journal import JournalRecord
from ecs_detach.plan import DEFAULT_TIMEOUT, StepKind

__all__ = ["cmd_move"]


def _options(args: Any, password: str | None) -> Any:
    from ecs_detach.workflow import MoveOptions

    return MoveOptions(
        target_instance_id=args.to,
        source_instance_id=args.instance,
        allow_stop_source=args.stop_instance,
        restart_source=args.restart_instance,
        force_stop=args.force_stop,
        stopped_mode=args.stopped_mode,
        stop_target=args.stop_target,
        start_target=args.start_target,
        bootable=args.bootable,
        credential="password" if password else "key-pair" if args.key_pair else None,
        snapshot=args.snapshot,
        guest_check=True,  # the source's guest, as a detach reads it
        unmount=args.unmount,
        skip_guest_check=args.skip_guest_check,
    )


def _move_record(context: Context, operation: str) -> JournalRecord:
    wanted = operation.strip()
    found = [
        intent
        for intent, outcome in context.journal.operations()
        if (intent.operation_id == wanted or (len(wanted) >= 6 and intent.operation_id.startswith(wanted)))
        and outcome is not None
        and outcome.succeeded
    ]
    if len(found) != 1 or found[0].action != "AttachDisk" or not found[0].context.get("move_from"):
        raise CommandError(
            2,
            f"no finished move {wanted!r} in the journal {context.journal.path}",
            "Give the operation id of a move's AttachDisk (see `ecs-detach journal`).",
        )
    return found[0]


def _confirm(args: Any, console: Console, move: Any) -> None:
    if args.yes:
        return
    plan = move.plan
    confirm_guest_release(console, move.detach)
    reasons = []
    pre = plan.preconditions
    if pre is not None and pre.is_system_disk:
        reasons.append(f"{plan.disk_id} is the SYSTEM disk of {move.source_instance_id}")
    if plan.has_step(StepKind.STOP_INSTANCE):
        reasons.append("an instance will be STOPPED")
    if reasons:
        _typed_confirmation(console, plan.disk_id, "Careful: " + "; and ".join(reasons) + ".")
    else:
        _yes_no(
            console,
            f"Move disk {plan.disk_id} from {move.source_instance_id} to {move.target_instance_id}?",
        )


def cmd_move(args: Any, console: Console) -> int:
    from ecs_detach import workflow

    if not args.dry_run:
        _refuse_without_terminal(args, console, "move")
    password = _password(args)
    timeout = args.timeout or DEFAULT_TIMEOUT
    context = open_context(args, console, banner=True, read_only=args.dry_run)
    with context.session:
        if not args.dry_run:
            context.ensure_writable()
            context.reconcile_pending()
        if args.undo:
            record = _move_record(context, args.undo)
            move = workflow.prepare_move_back(
                context.client, record, facts=context.facts, timeout=timeout, journal=context.journal
            )
        else:
            move = workflow.prepare_move(
                context.client,
                args.disk_id,
                _options(args, password),
                facts=context.facts,
                timeout=timeout,
                journal=context.journal,
                guest_time=context.guest_time(),
            )
        document: dict[str, Any] = {"command": "move", "plan": move.to_dict(), "result": None, "undo": []}

        def finish(code: int, result: Any = None) -> int:
            document["result"] = result.to_dict() if result is not None else None
            if result is not None:
                document["undo"] = [undo.to_dict() for undo in show_undos(context, [result])]
            document["exit_code"] = code
            console.emit_json(document)
            return code

        if move.detach.preconditions is not None and not move.resumed:
            show_preconditions(console, move.detach.preconditions, only_failing=True)
        for check in move.checks:
            if check.status.value != "pass":
                console.say(f"Target check [{check.status.value}] {check.condition}: {check.sentence}")
        show_plan(console, move.plan)
        if not move.executable:
            console.error(f"blocked, nothing was sent: {move.refusal}")
            return finish(3)
        if args.dry_run:
            console.say("Dry run: nothing was sent (run it without --dry-run to move the disk).")
            return finish(0)
        _confirm(args, console, move)
        cancel = workflow.CancelToken()
        progress = _progress(context)
        result, interrupted = run_in_worker(
            lambda: workflow.run_move(
                context.client,
                move,
                journal=context.journal,
                on_progress=progress,
                cancel=cancel,
                timeout=timeout,
                password=password,
                key_pair_name=args.key_pair,
                **context.run_kwargs(),
            ),
            cancel,
            progress,
            console,
        )
        code = _report_result(
            console, result, "move", no_wait=False, interrupted=interrupted, demo_time=context.in_process_demo
        )
        return finish(code, result)
