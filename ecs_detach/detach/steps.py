"""The step kinds, each defined once: its API action, its API parameters, what reconciling it reads (pure).

The plan (`ecs_detach.plan`) builds its steps' parameters and aliyun lines from here; the runner sends them
through `ecs_detach.detach.send`, whose executors are the only place a mutating client call is made.
Adding a mutating step kind: a `StepKind` member, a `MutatingStep` in `MUTATING_STEPS` (with its parameter
builder here), one executor in `send.EXECUTORS`, and the plan step that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ecs_detach.preconditions import DetachOptions

__all__ = [
    "MUTATING_STEPS",
    "MutatingStep",
    "StepKind",
    "api_bool",
    "detach_params",
    "flag",
    "guest_params",
    "guest_shown",
    "start_params",
    "stop_params",
]


class StepKind(StrEnum):
    WAIT_DISK_IN_USE = "wait-disk-in-use"
    WAIT_INSTANCE_SETTLED = "wait-instance-settled"
    STOP_INSTANCE = "stop-instance"
    WAIT_INSTANCE_STOPPED = "wait-instance-stopped"
    WAIT_DETACHES = "wait-detaches"
    DETACH_DISK = "detach-disk"
    WAIT_DISK_DETACHED = "wait-disk-detached"
    ATTACH_DISK = "attach-disk"
    START_INSTANCE = "start-instance"
    WAIT_INSTANCE_RUNNING = "wait-instance-running"
    GUEST_UNMOUNT = "guest-unmount"  # RunCommand: unmount in the guest, comment out /etc/fstab lines
    GUEST_REMOUNT = "guest-remount"  # RunCommand (undo): restore the /etc/fstab lines, mount again


@dataclass(frozen=True, slots=True)
class MutatingStep:
    """A step kind that changes something: the API action it calls, and whether reconciling a lost answer
    reads the disk (else only the instance)."""

    kind: StepKind
    action: str
    reconcile_reads_disk: bool


MUTATING_STEPS: Mapping[StepKind, MutatingStep] = {
    step.kind: step
    for step in (
        MutatingStep(StepKind.STOP_INSTANCE, "StopInstance", reconcile_reads_disk=False),
        MutatingStep(StepKind.DETACH_DISK, "DetachDisk", reconcile_reads_disk=True),
        MutatingStep(StepKind.ATTACH_DISK, "AttachDisk", reconcile_reads_disk=True),
        MutatingStep(StepKind.START_INSTANCE, "StartInstance", reconcile_reads_disk=False),
        MutatingStep(StepKind.GUEST_UNMOUNT, "RunCommand", reconcile_reads_disk=False),
        MutatingStep(StepKind.GUEST_REMOUNT, "RunCommand", reconcile_reads_disk=False),
    )
}


def api_bool(value: bool) -> str:
    """A boolean as the API's parameters spell it."""
    return "true" if value else "false"


def flag(params: Mapping[str, str], name: str) -> bool | None:
    """A boolean parameter read back (None when absent)."""
    value = params.get(name)
    return None if value is None else value == "true"


def stop_params(instance_id: str, options: DetachOptions) -> dict[str, str]:
    """StopInstance's API parameters."""
    params = {"InstanceId": instance_id}
    if options.force_stop:
        params["ForceStop"] = "true"
    if options.stopped_mode:
        params["StoppedMode"] = options.stopped_mode
    return params


def detach_params(disk_id: str, instance_id: str, options: DetachOptions) -> dict[str, str]:
    """DetachDisk's API parameters."""
    params = {"InstanceId": instance_id, "DiskId": disk_id}
    if options.delete_with_instance is not None:
        params["DeleteWithInstance"] = api_bool(options.delete_with_instance)
    return params


def start_params(instance_id: str) -> dict[str, str]:
    """StartInstance's API parameters."""
    return {"InstanceId": instance_id}


def guest_params(instance_id: str, command_type: str, script: str) -> dict[str, str]:
    """RunCommand's API parameters for a guest step (the script exactly as the plan shows it)."""
    return {"InstanceId": instance_id, "Type": command_type, "CommandContent": script}


def guest_shown(params: Mapping[str, str]) -> dict[str, str]:
    """A guest step's parameters as the aliyun CLI spells RunCommand's (``--InstanceId.1``)."""
    return {("InstanceId.1" if key == "InstanceId" else key): value for key, value in params.items()}
