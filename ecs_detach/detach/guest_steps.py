"""The guest step of a detach run: release the disk in the guest (RunCommand), read the result, and refuse
the detach when the guest could not let go of it (a busy mount: what holds it is shown)."""

from __future__ import annotations

from ecs_detach.detach.guest_read import GuestClient, read_guest, run_probe, wait_invocation
from ecs_detach.detach.reads import read_disk, read_instance
from ecs_detach.detach.results import Outcome
from ecs_detach.detach.runner import Runner
from ecs_detach.detach.send import Answer, Sent, send, settled
from ecs_detach.detach.steps import PlanStep, StepKind
from ecs_detach.errors import EcsError
from ecs_detach.guest import GuestReport, Remount, holders_script, parse_holders
from ecs_detach.journal import Result
from ecs_detach.preconditions import DetachOptions, Verdict

__all__ = ["GUEST_BUSY", "REMOUNT_FAILED", "mount_back", "release", "release_in_guest"]

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
    disk: the detach is then not sent."""
    mine = [step for step in steps if step.kind is StepKind.GUEST_UNMOUNT]
    if not mine or guest is None:
        return
    pre = runner.inspect(options)  # fresh: only a disk still attached here is released
    if pre.verdict in (Verdict.BLOCKED, Verdict.ALREADY_DETACHED, Verdict.IN_PROGRESS):
        return  # the run's own checks say what happens next
    for step in mine:
        release(runner, step, guest, timeout)


def release(runner: Runner, step: PlanStep, guest: GuestReport, timeout: float) -> None:
    """Send one guest step (journaled), wait for its result; raise `RunStopped` if the guest refused."""
    disk_id, instance_id, mount_points = guest.disk_id, guest.instance_id, guest.mount_points
    context = {"disk_id": disk_id, "mount_points": ",".join(mount_points), "guest_step": step.kind.value}
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
            remedy=f"Check the guest by hand, then run the detach again (ecs-detach check {disk_id}).",
        )
    client: GuestClient = runner.client  # type: ignore[assignment]  # a plan with a guest step read the guest
    try:
        result = wait_invocation(
            client, sent.request_id, instance_id, sleep=runner.sleep, clock=runner.clock, timeout=timeout
        )
    except EcsError as exc:
        raise runner.read_failed(f"the result of RunCommand {sent.request_id}", exc) from None
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


def _mounts_now(runner: Runner, disk_id: str, instance_id: str, timeout: float) -> tuple[str, ...] | None:
    """Where the guest has the disk mounted now (the read-only probe); None when that cannot be read."""
    try:
        disk, instance = read_disk(runner.client, disk_id), read_instance(runner.client, instance_id)
    except EcsError:
        return None
    client: GuestClient = runner.client  # type: ignore[assignment]  # only a guest step gets here
    report = read_guest(client, disk, instance, sleep=runner.sleep, clock=runner.clock, timeout=timeout)
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
        remedy=f"Check the guest (ecs-detach check {disk_id}), then run the detach again.",
    )


def _unsettled(runner: Runner, sent: Sent, step: str, instance_id: str, shows: str) -> str:
    """Journal a lost guest step the guest read could not settle (`shows` what it saw; "" when the guest
    could not be read); returns the sentence that says so."""
    shows = shows or "could not be read"
    sentence = f"The answer to the {step} was lost and the guest of {instance_id} {shows}"
    settled(runner, sent, Result.UNKNOWN, f"{sentence}: whether the {step} ran is unknown.")
    return sentence


def _holders(
    runner: Runner, client: GuestClient, instance_id: str, mount_points: tuple[str, ...], timeout: float
) -> str:
    """What holds the mounts now (a read-only fuser probe); "" when that cannot be read."""
    try:
        invoke_id = run_probe(client, instance_id, holders_script(mount_points), "RunShellScript", timeout)
        result = wait_invocation(
            client, invoke_id, instance_id, sleep=runner.sleep, clock=runner.clock, timeout=timeout
        )
    except EcsError:
        return ""
    holders = parse_holders(result.output)
    return f" (held by {'; '.join(str(h) for h in holders)})" if holders else ""


def mount_back(runner: Runner, step: PlanStep, disk_id: str, timeout: float) -> str:
    """The undo's guest step, once the disk is attached again: send the remount script (journaled), read
    its result. Returns what changed ("/data mounted again"); raises `RunStopped` (FAILED, the disk stays
    attached) with the script to run by hand when the guest did not mount it."""
    instance_id = step.params["InstanceId"]
    script = step.params["CommandContent"]
    by_hand = f"Disk {disk_id} stays attached; run this in the guest of {instance_id} by hand:\n{script}"
    context = {"disk_id": disk_id, "guest_step": step.kind.value, "undo": True}
    sent = send(runner, step.kind, step.params, describe=step.description, context=context)
    changed = step.expected_change.removeprefix("guest: ")
    if sent.answer is Answer.UNKNOWN:  # a lost answer: the guest's mounts tell, never a second send
        mounted = _mounts_now(runner, disk_id, instance_id, timeout)
        if mounted:
            shows = f"The guest of {instance_id} has disk {disk_id} mounted at {', '.join(mounted)}"
            settled(runner, sent, Result.WENT_THROUGH, f"{shows}: the remount went through.")
            runner.emit("guest", f"In the guest of {instance_id}: {changed}")
            return changed
        shows = "does not show it mounted" if mounted is not None else ""
        sentence = _unsettled(runner, sent, "remount", instance_id, shows)
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again, but {sentence[0].lower()}{sentence[1:]}; "
            "the remount was not sent again.",
            code="TransportError",
            remedy=by_hand,
        )
    if sent.answer is not Answer.DONE or not sent.request_id:
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again, but RunCommand to mount it back did not "
            f"go through ({sent.error}).",
            code=getattr(sent.error, "code", "") or REMOUNT_FAILED,
            remedy=by_hand,
        )
    client: GuestClient = runner.client  # type: ignore[assignment]  # a remount plan came from our unmount
    try:
        result = wait_invocation(
            client, sent.request_id, instance_id, sleep=runner.sleep, clock=runner.clock, timeout=timeout
        )
    except EcsError as exc:
        raise runner.read_failed(f"the result of RunCommand {sent.request_id}", exc) from None
    if not result.succeeded:
        said = " ".join(result.output.strip().splitlines()[-2:]) or result.error_info or result.status
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {disk_id} is attached to {instance_id} again, but the guest did not mount it back: {said}",
            code=result.error_code or REMOUNT_FAILED,
            remedy=by_hand,
        )
    runner.emit("guest", f"In the guest of {instance_id}: {changed}")
    return changed
