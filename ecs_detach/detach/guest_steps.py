"""The guest step of a detach run: release the disk in the guest (RunCommand), read the result, and refuse
the detach when the guest could not let go of it (a busy mount: what holds it is shown)."""

from __future__ import annotations

from ecs_detach.detach.guest_read import GUEST_TIMEOUT, GuestClient, read_guest, run_probe, wait_invocation
from ecs_detach.detach.reads import read_disk, read_instance
from ecs_detach.detach.results import Outcome
from ecs_detach.detach.runner import Runner
from ecs_detach.detach.send import Answer, Sent, send, settled
from ecs_detach.detach.steps import PlanStep, StepKind
from ecs_detach.errors import EcsError
from ecs_detach.guest import (
    GuestReport,
    Remount,
    RemountState,
    holders_script,
    manual_commands,
    parse_holders,
    remount_now,
    remount_words,
)
from ecs_detach.journal import Journal, JournalError, Result
from ecs_detach.models import Disk, Instance, InvocationResult
from ecs_detach.preconditions import DetachOptions, Verdict
from ecs_detach.wording import Worded, worded

__all__ = [
    "GUEST_BUSY",
    "REMOUNT_FAILED",
    "earlier_unmount",
    "mount_back",
    "mount_back_if_owed",
    "release",
    "release_in_guest",
]

GUEST_BUSY = "GuestBusy"
REMOUNT_FAILED = "RemountFailed"


def release_in_guest(
    runner: Runner,
    steps: tuple[PlanStep, ...],
    guest: GuestReport | None,
    options: DetachOptions,
    timeout: float,
) -> None:
    """Run a confirmed plan's guest steps, before anything else: the run's later reads are of the disk and
    instance only (the guest was read for the plan). Raises `RunStopped` when the guest did not release the
    disk: the detach is then not sent. Without an unmount of its own, the run takes the remount of an
    earlier run's unmount from the journal (`earlier_unmount`), so that its DetachDisk record carries it."""
    mine = [step for step in steps if step.kind is StepKind.GUEST_UNMOUNT]
    if mine and guest is not None:
        pre = runner.inspect(options)  # fresh: only a disk still attached here is released
        if pre.verdict not in (Verdict.BLOCKED, Verdict.ALREADY_DETACHED, Verdict.IN_PROGRESS):
            for step in mine:  # else the run's own checks say what happens next
                release(runner, step, guest, timeout)
    if runner.remount is None and runner.journal is not None:
        found = earlier_unmount(runner.journal, runner.disk_id, runner.instance_id)
        if found is not None:  # a killed run released it: our DetachDisk carries how to mount it back
            runner.remount, operation_id = found
            where = ", ".join(runner.remount.mount_points) or f"disk {runner.disk_id}"
            runner.emit(
                "guest",
                f"An earlier run (operation {operation_id[:8]}) released {where} in the guest of "
                f"{runner.instance_id}; the undo of this detach mounts it back",
            )


def earlier_unmount(journal: Journal, disk_id: str, instance_id: str) -> tuple[Remount, str] | None:
    """The remount an earlier run's unmount of `disk_id` left owed, with that run's operation id: its
    RunCommand was sent (or may have been), and no DetachDisk of the disk took effect and no remount was
    sent since (a run killed between its unmount and its DetachDisk). None when the journal shows none."""
    found: tuple[Remount, str] | None = None
    try:
        operations = journal.operations()
    except JournalError:
        return None  # unreadable: the run's first intent says so, before anything is sent
    for intent, outcome in operations:
        if intent.instance_id != instance_id:
            continue
        if intent.action == "DetachDisk" and intent.disk_id == disk_id:
            found = None if outcome is not None and outcome.succeeded else found
        elif intent.action == "RunCommand" and intent.context.get("disk_id") == disk_id:
            refused = outcome is not None and outcome.result in (Result.ERROR, Result.DID_NOT_HAPPEN)
            if intent.context.get("guest_step") == StepKind.GUEST_REMOUNT.value and not refused:
                found = None
            elif intent.context.get("guest_step") == StepKind.GUEST_UNMOUNT.value and not refused:
                remount = Remount.from_context(intent.context)
                found = (remount, intent.operation_id) if remount is not None else found
    return found


def release(runner: Runner, step: PlanStep, guest: GuestReport, timeout: float) -> None:
    """Send one guest step (journaled), wait for its result; raise `RunStopped` if the guest refused."""
    disk_id, instance_id, mount_points = guest.disk_id, guest.instance_id, guest.mount_points
    context = {"disk_id": disk_id, "mount_points": ",".join(mount_points), "guest_step": step.kind.value}
    context |= Remount.of(guest).to_context()  # a run killed before its DetachDisk: the next one carries it
    sent = send(runner, step.kind, step.params, describe=step.description, context=context)
    if sent.answer is Answer.UNKNOWN:  # a lost answer: the guest's mounts tell, not the instance
        _settle_lost_release(runner, sent, guest, timeout)
        return
    if sent.answer is not Answer.DONE or not sent.request_id:
        raise runner.stop(
            Outcome.FAILED,
            f"RunCommand to release disk {disk_id} in the guest did not go through ({sent.error}); "
            "DetachDisk was not sent.",
            code=getattr(sent.error, "code", "") or "RunCommand",
            remedy=worded(
                "Check the guest by hand, then run the detach again ({check_again}).", disk_id=disk_id
            ),
        )
    client: GuestClient = runner.client  # type: ignore[assignment]  # a plan with a guest step read the guest
    by_hand = "; ".join(manual_commands(disk_id, guest.os_type))
    result = _finished(
        runner,
        sent.request_id,
        instance_id,
        timeout,
        what=f"whether disk {disk_id} was released in the guest of {instance_id} is unknown. DetachDisk was "
        "not sent.",
        remedy=f"Check the guest by hand (run in it: {by_hand}), then run the detach again.",
    )
    if result.succeeded:
        runner.remount = Remount.of(guest)
        runner.emit("guest", f"Released in the guest of {instance_id}: {', '.join(mount_points) or 'done'}")
        return
    said = " ".join(result.output.strip().splitlines()[-2:]) or result.error_info or result.status
    busy = "busy" in said
    held = _holders(runner, client, instance_id, mount_points, timeout) if busy else ""
    raise runner.stop(
        Outcome.BLOCKED,
        f"The guest of {instance_id} did not release disk {disk_id}: {said}{held} DetachDisk was not sent.",
        code=GUEST_BUSY if busy else (result.error_code or "ExitCodeNonzero"),
        remedy="Stop what holds it in the guest, then run the detach again.",
    )


def _holders(
    runner: Runner, client: GuestClient, instance_id: str, mount_points: tuple[str, ...], timeout: float
) -> str:
    """What holds the mounts now (a read-only fuser probe); "" when that cannot be read."""
    try:
        invoke_id = run_probe(client, instance_id, holders_script(mount_points), "RunShellScript", timeout)
        result = _wait(runner, client, invoke_id, instance_id, timeout)
    except EcsError:
        return ""
    holders = parse_holders(result.output)
    return f" (held by {'; '.join(str(h) for h in holders)})" if holders else ""


def _mounts_now(runner: Runner, disk_id: str, instance_id: str, timeout: float) -> tuple[str, ...] | None:
    """Where the guest has the disk mounted now (the read-only probe); None when that cannot be read."""
    try:
        disk, instance = read_disk(runner.client, disk_id), read_instance(runner.client, instance_id)
    except EcsError:
        return None
    report = _read_guest(runner, disk, instance, timeout)
    return report.mount_points if report.read else None


def _settle_lost_release(runner: Runner, sent: Sent, guest: GuestReport, timeout: float) -> None:
    """The unmount's answer was lost: read the guest again. Its mounts gone: the unmount went through, the
    run goes on. Still mounted, or unreadable: it is not sent again blind (it may not have run, have failed,
    or still be running); the run stops before DetachDisk and says what the guest shows."""
    disk_id, instance_id, points = guest.disk_id, guest.instance_id, guest.mount_points
    mounted = _mounts_now(runner, disk_id, instance_id, timeout)
    listed = ", ".join(points)
    if mounted is not None and not set(points) & set(mounted):
        settled(
            runner,
            sent,
            Result.WENT_THROUGH,
            f"The guest of {instance_id} no longer has {listed} mounted: the unmount went through.",
        )
        runner.remount = Remount.of(guest)
        return
    still = ", ".join(p for p in points if p in (mounted or ()))
    shows = f"still shows {still} mounted" if mounted is not None else ""
    sentence = _unsettled(runner, sent, "unmount", instance_id, shows)
    raise runner.stop(
        Outcome.FAILED,
        f"{sentence}, so disk {disk_id} was not released: DetachDisk was not sent, and the unmount was not "
        "sent again (it may not have run, or may still be running).",
        code="TransportError",
        remedy=worded("Check the guest ({check_again}), then run the detach again.", disk_id=disk_id),
    )


def _unsettled(runner: Runner, sent: Sent, step: str, instance_id: str, shows: str) -> str:
    """Journal a lost guest step the guest read could not settle (`shows` what it saw; "" when the guest
    could not be read); returns the sentence that says so."""
    shows = shows or "could not be read"
    sentence = f"The answer to the {step} was lost and the guest of {instance_id} {shows}"
    settled(runner, sent, Result.UNKNOWN, f"{sentence}: whether the {step} ran is unknown.")
    return sentence


def _read_guest(runner: Runner, disk: Disk | None, instance: Instance | None, timeout: float) -> GuestReport:
    """The guest read again on the run's time, its wait cancelled with the run."""
    client: GuestClient = runner.client  # type: ignore[assignment]  # only a guest step gets here
    return read_guest(
        client,
        disk,
        instance,
        sleep=runner.sleep,
        clock=runner.clock,
        timeout=timeout,
        cancelled=lambda: runner.cancel.cancelled,
    )


def _wait(
    runner: Runner, client: GuestClient, invoke_id: str, instance_id: str, timeout: float
) -> InvocationResult:
    """A guest invocation's result on the run's time, its wait cancelled with the run."""
    return wait_invocation(
        client,
        invoke_id,
        instance_id,
        sleep=runner.sleep,
        clock=runner.clock,
        timeout=timeout,
        cancelled=lambda: runner.cancel.cancelled,
    )


def _again_or_by_hand(disk_id: str, instance_id: str, script: str, undoes: str) -> str | Worded:
    """What to do when the remount's result is not known to be a success: run the same undo again (the
    DetachDisk `undoes` names: it reads the guest, and sends the remount only if still owed), or run the
    script in the guest by hand."""
    by_hand = f"run this in the guest of {instance_id} by hand:\n{script}"
    if not undoes:
        return f"Disk {disk_id} stays attached; {by_hand}"
    return worded(
        "Disk {disk} stays attached; {undo_again}{by_hand}",
        disk_id=disk_id,
        operation_id=undoes,
        disk=disk_id,
        by_hand=by_hand,
    )


def mount_back(runner: Runner, step: PlanStep, disk_id: str, timeout: float, undoes: str = "") -> str:
    """The undo's guest step, once the disk is attached again: send the remount script (journaled), read
    its result. Returns what changed ("/data mounted again"); raises `RunStopped` (FAILED, the disk stays
    attached) with the script to run by hand when the guest did not mount it; when whether it did is
    unknown (a lost answer, a refused or unfinished RunCommand), also with the same undo to run again (the
    operation `undoes`)."""
    instance_id = step.params["InstanceId"]
    script = step.params["CommandContent"]
    words = remount_words(step.params.get("Type", ""))
    by_hand = f"Disk {disk_id} stays attached; run this in the guest of {instance_id} by hand:\n{script}"
    again = _again_or_by_hand(disk_id, instance_id, script, undoes)
    context = {"disk_id": disk_id, "guest_step": step.kind.value, "undo": True}
    sent = send(runner, step.kind, step.params, describe=step.description, context=context)
    changed = step.expected_change.removeprefix("guest: ")
    if sent.answer is Answer.UNKNOWN:  # a lost answer: the guest's mounts tell, never a second send
        mounted = _mounts_now(runner, disk_id, instance_id, timeout)
        if mounted:
            shows = f"The guest of {instance_id} has disk {disk_id} {words.state} at {', '.join(mounted)}"
            settled(runner, sent, Result.WENT_THROUGH, f"{shows}: the remount went through.")
            runner.emit("guest", f"In the guest of {instance_id}: {changed}")
            return changed
        shows = f"does not show it {words.state}" if mounted is not None else ""
        sentence = _unsettled(runner, sent, "remount", instance_id, shows)
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again, but {sentence[0].lower()}{sentence[1:]}; "
            "the remount was not sent again.",
            code="TransportError",
            remedy=again,
        )
    if sent.answer is not Answer.DONE or not sent.request_id:
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again, but RunCommand to {words.verb} did not "
            f"go through ({sent.error}).",
            code=getattr(sent.error, "code", "") or REMOUNT_FAILED,
            remedy=again,
        )
    result = _finished(
        runner,
        sent.request_id,
        instance_id,
        timeout,
        what=f"disk {disk_id} is attached to {instance_id} again, but whether the guest {words.verbed} "
        "is unknown.",
        remedy=again,
    )
    if not result.succeeded:
        said = " ".join(result.output.strip().splitlines()[-2:]) or result.error_info or result.status
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again, but the guest did not {words.verb}: {said}",
            code=result.error_code or REMOUNT_FAILED,
            remedy=by_hand,
        )
    runner.emit("guest", f"In the guest of {instance_id}: {changed}")
    return changed


def mount_back_if_owed(
    runner: Runner, step: PlanStep, disk: Disk, instance: Instance, timeout: float, undoes: str = ""
) -> str:
    """An undo run that finds the disk already attached (an earlier undo attached it, then its remount failed
    or the run was killed): the journal's DetachDisk says our unmount preceded it (the plan's remount step);
    a fresh read of the guest says whether the remount is still owed. Mounts it back if so. Returns what the
    guest shows now; raises `RunStopped` when the guest cannot be read (nothing is sent then)."""
    instance_id, disk_id = instance.instance_id, disk.disk_id
    script = step.params["CommandContent"]
    words = remount_words(step.params.get("Type", ""))
    by_hand = f"Check the guest of {instance_id}; to {words.verb} by hand, run there:\n{script}"
    now = remount_now(script, step.params.get("Type", ""), _read_guest(runner, disk, instance, timeout))
    if runner.cancel.cancelled:
        raise runner.stop(
            Outcome.CANCELLED,
            f"Disk {disk_id} is attached to {instance_id} again; the guest was not read (cancelled), and "
            "nothing more was sent.",
            remedy=f"Run the undo again to {words.verb}, or run this in the guest by hand:\n{script}",
        )
    if now.state is RemountState.NOT_RUNNING:
        raise runner.stop(
            Outcome.BLOCKED,
            f"Disk {disk_id} is attached to {instance_id} again, but {now.report.detail} It is not "
            f"{words.back}.",
            code="IncorrectInstanceStatus",
            remedy=f"Start instance {instance_id}, then run the undo again to {words.verb}.",
        )
    if now.state is RemountState.UNKNOWN:
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again; whether it is {words.back} in the guest is "
            f"unknown: {now.why_unknown}",
            code=REMOUNT_FAILED,
            remedy=by_hand,
        )
    if not now.owed:
        return f"{now.where} already {words.state} ({words.nothing})"
    runner.emit("guest", f"The guest of {instance_id} still shows disk {disk_id} as our unmount left it")
    return mount_back(runner, step, disk_id, timeout, undoes)


def _finished(
    runner: Runner, invoke_id: str, instance_id: str, timeout: float, *, what: str, remedy: str | Worded
) -> InvocationResult:
    """The finished result of a guest step's invocation. Raises `RunStopped` when the wait was cancelled
    (at once) or the invocation had not finished within the run's timeout (at most `GUEST_TIMEOUT`): then
    `what` it did is unknown, and `remedy` says what to check by hand."""
    client: GuestClient = runner.client  # type: ignore[assignment]  # a guest step came from a guest read
    try:
        result = _wait(runner, client, invoke_id, instance_id, timeout)
    except EcsError as exc:
        raise runner.read_failed(f"the result of RunCommand {invoke_id}", exc) from None
    if result.finished:
        return result
    if runner.cancel.cancelled:
        raise runner.stop(
            Outcome.CANCELLED,
            f"Stopped waiting for RunCommand {invoke_id} in the guest of {instance_id} (cancelled): its "
            f"result was not read; {what}",
            code="Cancelled",
            remedy=remedy,
        )
    raise runner.stop(
        Outcome.TIMED_OUT,
        f"RunCommand {invoke_id} in the guest of {instance_id} had not finished after "
        f"{min(timeout, GUEST_TIMEOUT):.0f} s (it is {result.status}): {what}",
        code="GuestTimeout",
        remedy=remedy,
    )
