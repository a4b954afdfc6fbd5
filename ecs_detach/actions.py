"""The API's mutating actions, each named once: its read timeout, what settling a lost answer reads, and how
the live state judges whether it went through (pure: no I/O).

Everything else that names the mutating actions derives from `MUTATING`: the client core's
`MUTATING_ACTIONS` and timeouts (`ecs_detach._core`), the journal's reconcile (`ecs_detach.journal`), and the
detach stack's step kinds (`ecs_detach.detach.steps`). The emulator keeps its own table (it is the server and
imports nothing of the rest); a test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ecs_detach.models import (
    DISK_ATTACHING,
    DISK_AVAILABLE,
    DISK_DETACHING,
    DISK_IN_USE,
    INSTANCE_RUNNING,
    INSTANCE_STARTING,
    INSTANCE_STOPPED,
    INSTANCE_STOPPING,
    Disk,
    Instance,
)

__all__ = ["MUTATING", "MUTATING_ACTIONS", "MutatingAction", "Result", "judge"]


class Result:
    """The `result` of an outcome record."""

    OK = "ok"  # the API accepted the call
    ERROR = "error"  # the API refused the call (code says why); nothing changed
    UNKNOWN = "unknown"  # no answer: the call may or may not have been applied
    WENT_THROUGH = "went-through"  # reconciled: the live state shows the call was applied
    DID_NOT_HAPPEN = "did-not-happen"  # reconciled: the live state shows it was not
    IN_PROGRESS = "in-progress"  # reconciled: applied, the transition is still under way


Judge = Callable[[str, str, Disk | None, Instance | None], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class MutatingAction:
    """A mutating API action: its read timeout (seconds, the legacy official SDK's table, ecs-api.md §1.7),
    whether settling a lost answer reads the disk and the instance, and how their state judges it
    (`judge(disk_id, instance_id, disk, instance)` -> (result, sentence)). `settled_by` names what a run
    reads instead when the disk and the instance cannot show it (the run's step settles it, not `judge`)."""

    name: str
    timeout: float
    reads_disk: bool
    reads_instance: bool
    judge: Judge
    settled_by: str = ""


def _judge_detach(d_id: str, i_id: str, disk: Disk | None, _: Instance | None) -> tuple[str, str]:
    if disk is None:
        return Result.UNKNOWN, f"Disk {d_id} no longer exists; whether the detach went through is unknown."
    attached = i_id in disk.attached_instance_ids
    if disk.status == DISK_DETACHING and attached:
        return Result.IN_PROGRESS, f"Disk {d_id} is Detaching from {i_id}: the detach went through."
    if not attached:
        return Result.WENT_THROUGH, f"Disk {d_id} is no longer attached to {i_id}: the detach went through."
    if disk.status == DISK_IN_USE:
        return Result.DID_NOT_HAPPEN, f"Disk {d_id} is still In_use on {i_id}: the detach did not happen."
    return Result.UNKNOWN, f"Disk {d_id} is {disk.status} on {i_id}; the detach's outcome is unknown."


def _judge_attach(d_id: str, i_id: str, disk: Disk | None, _: Instance | None) -> tuple[str, str]:
    if disk is None:
        return Result.UNKNOWN, f"Disk {d_id} no longer exists; whether the attach went through is unknown."
    attached = i_id in disk.attached_instance_ids
    if attached and disk.status == DISK_ATTACHING:
        return Result.IN_PROGRESS, f"Disk {d_id} is Attaching to {i_id}: the attach went through."
    if attached:
        return Result.WENT_THROUGH, f"Disk {d_id} is attached to {i_id}: the attach went through."
    if disk.status == DISK_AVAILABLE:
        return Result.DID_NOT_HAPPEN, f"Disk {d_id} is Available: the attach did not happen."
    return Result.UNKNOWN, f"Disk {d_id} is {disk.status}; the attach's outcome is unknown."


def _judge_snapshot(d_id: str, _: str, disk: Disk | None, __: Instance | None) -> tuple[str, str]:
    """A disk's state does not show its snapshots: the run settles a lost CreateSnapshot by reading them
    (`detach.snapshot_run`); reconciling on start leaves it to the operator."""
    if disk is None:
        return Result.UNKNOWN, f"Disk {d_id} no longer exists; whether its snapshot was taken is unknown."
    return (
        Result.UNKNOWN,
        f"Whether the snapshot of disk {d_id} was taken does not show on the disk; list its snapshots "
        f"(aliyun ecs DescribeSnapshots --DiskId {d_id}).",
    )


def _judge_guest_command(_: str, i_id: str, __: Disk | None, ___: Instance | None) -> tuple[str, str]:
    """RunCommand acts inside the guest: neither the disk nor the instance shows whether it ran. A run reads
    the guest again before anything more is sent; reconciling on start leaves it to the operator."""
    return (
        Result.UNKNOWN,
        f"Whether the command ran in the guest of {i_id} does not show on the instance; read its invocations "
        f"(aliyun ecs DescribeInvocations --InstanceId {i_id}) or check the guest by hand.",
    )


def _power_judge(verb: str, done: str, moving: str, before: str) -> Judge:
    def judge_power(_: str, i_id: str, __: Disk | None, instance: Instance | None) -> tuple[str, str]:
        if instance is None:
            return Result.UNKNOWN, f"Instance {i_id} no longer exists; the outcome is unknown."
        status = instance.status
        if status == moving:
            return Result.IN_PROGRESS, f"Instance {i_id} is {status}: the {verb} went through."
        if status == done:
            return Result.WENT_THROUGH, f"Instance {i_id} is {status}: the {verb} went through."
        if status == before:
            return Result.DID_NOT_HAPPEN, f"Instance {i_id} is still {status}: the {verb} did not happen."
        return Result.UNKNOWN, f"Instance {i_id} is {status}; the {verb}'s outcome is unknown."

    return judge_power


MUTATING: Mapping[str, MutatingAction] = {
    action.name: action
    for action in (
        MutatingAction(
            "StopInstance",
            27.0,
            reads_disk=False,
            reads_instance=True,
            judge=_power_judge("stop", INSTANCE_STOPPED, INSTANCE_STOPPING, INSTANCE_RUNNING),
        ),
        MutatingAction(
            "StartInstance",
            46.0,
            reads_disk=False,
            reads_instance=True,
            judge=_power_judge("start", INSTANCE_RUNNING, INSTANCE_STARTING, INSTANCE_STOPPED),
        ),
        MutatingAction("DetachDisk", 17.0, reads_disk=True, reads_instance=False, judge=_judge_detach),
        MutatingAction("AttachDisk", 36.0, reads_disk=True, reads_instance=False, judge=_judge_attach),
        MutatingAction(
            "CreateSnapshot",
            20.0,
            reads_disk=True,
            reads_instance=False,
            judge=_judge_snapshot,
            settled_by="the disk's snapshots",
        ),
        MutatingAction(
            "RunCommand",
            20.0,
            reads_disk=False,
            reads_instance=True,
            judge=_judge_guest_command,
            settled_by="the guest",
        ),
    )
}
MUTATING_ACTIONS = frozenset(MUTATING)


def judge(
    action: str, disk_id: str, instance_id: str, disk: Disk | None, instance: Instance | None
) -> tuple[str, str]:
    """Did the call `action` take effect, judging by the live state? (result, sentence)."""
    known = MUTATING.get(action)
    if known is None:
        return Result.UNKNOWN, f"{action}: no rule to reconcile it; check the resource by hand."
    return known.judge(disk_id, instance_id, disk, instance)
