"""The step kinds, each defined once: its API action, its API parameters, its aliyun line, what
reconciling it reads, and the `PlanStep` a plan is made of (pure).

The plan (`ecs_detach.plan`) and the fix ladder (`ecs_detach.detach.fixes`) build their steps from here; the
runner sends them through `ecs_detach.detach.send`, whose executors are the only place a mutating client call
is made. Adding a mutating step kind: a `StepKind` member, a `MutatingStep` in `MUTATING_STEPS` (with its
parameter builder here), one executor in `send.EXECUTORS`, and the plan step that uses it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ecs_detach.actions import MUTATING, MutatingAction
from ecs_detach.preconditions import DetachOptions

__all__ = [
    "DEFAULT_TIMEOUT",
    "MUTATING_STEPS",
    "NO_TARGET",
    "SECRET_PLACEHOLDER",
    "AliyunTarget",
    "MutatingStep",
    "PlanStep",
    "StepKind",
    "aliyun_command",
    "api_bool",
    "api_step",
    "detach_params",
    "flag",
    "guest_params",
    "guest_shown",
    "snapshot_params",
    "start_params",
    "stop_params",
    "wait_attachment_gone_line",
    "wait_disk_line",
    "wait_instance_line",
]

DEFAULT_TIMEOUT = 300.0  # seconds; "about a minute" is not a safe bound (design.md, safety rule 6)
SECRET_PLACEHOLDER = "<password>"


class StepKind(StrEnum):
    WAIT_DISK_IN_USE = "wait-disk-in-use"
    WAIT_INSTANCE_SETTLED = "wait-instance-settled"
    STOP_INSTANCE = "stop-instance"
    WAIT_INSTANCE_STOPPED = "wait-instance-stopped"
    WAIT_DETACHES = "wait-detaches"
    DETACH_DISK = "detach-disk"
    WAIT_DISK_DETACHED = "wait-disk-detached"
    ATTACH_DISK = "attach-disk"
    CREATE_SNAPSHOT = "create-snapshot"
    WAIT_SNAPSHOT = "wait-snapshot-accomplished"
    START_INSTANCE = "start-instance"
    WAIT_INSTANCE_RUNNING = "wait-instance-running"
    GUEST_UNMOUNT = "guest-unmount"  # RunCommand: unmount in the guest, comment out /etc/fstab lines
    GUEST_REMOUNT = "guest-remount"  # RunCommand (undo): restore the /etc/fstab lines, mount again


@dataclass(frozen=True, slots=True)
class MutatingStep:
    """A step kind that changes something: the API action it calls (one of `actions.MUTATING`, which says
    how long the call may take and how a lost answer is settled)."""

    kind: StepKind
    api: MutatingAction

    @property
    def action(self) -> str:
        return self.api.name

    @property
    def reconcile_reads_disk(self) -> bool:
        """Whether settling a lost answer reads the disk (else only the instance)."""
        return self.api.reads_disk


MUTATING_STEPS: Mapping[StepKind, MutatingStep] = {
    step.kind: step
    for step in (
        MutatingStep(StepKind.STOP_INSTANCE, MUTATING["StopInstance"]),
        MutatingStep(StepKind.DETACH_DISK, MUTATING["DetachDisk"]),
        MutatingStep(StepKind.ATTACH_DISK, MUTATING["AttachDisk"]),
        MutatingStep(StepKind.START_INSTANCE, MUTATING["StartInstance"]),
        MutatingStep(StepKind.CREATE_SNAPSHOT, MUTATING["CreateSnapshot"]),
        MutatingStep(StepKind.GUEST_UNMOUNT, MUTATING["RunCommand"]),
        MutatingStep(StepKind.GUEST_REMOUNT, MUTATING["RunCommand"]),
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


def snapshot_params(disk_id: str, instance_id: str) -> dict[str, str]:
    """CreateSnapshot's API parameters: a name that says who took it and a description that says why."""
    return {
        "DiskId": disk_id,
        "SnapshotName": f"ecs-detach-{disk_id}",
        "Description": f"Taken by ecs-detach before detaching {disk_id} from {instance_id or 'its instance'}",
    }


@dataclass(frozen=True, slots=True)
class PlanStep:
    kind: StepKind
    description: str
    expected_change: str
    eta_seconds: float
    aliyun: str
    params: Mapping[str, str] = field(default_factory=dict)  # the API parameters (never a secret)

    @property
    def action(self) -> str | None:
        """The API action this step calls (None for a wait)."""
        step = MUTATING_STEPS.get(self.kind)
        return step.action if step is not None else None

    @property
    def mutating(self) -> bool:
        return self.kind in MUTATING_STEPS


@dataclass(frozen=True, slots=True)
class AliyunTarget:
    """What an ``aliyun`` command needs to reach what ecs-detach reached: the profile and the endpoint.

    The aliyun CLI takes ``--endpoint`` as a host (``host[:port]``) and speaks https unless told
    ``--insecure`` (its flag for plain http), so ``http://127.0.0.1:8472`` becomes
    ``--endpoint 127.0.0.1:8472 --insecure``.

    >>> AliyunTarget("prod", "http://127.0.0.1:8472").flags()
    ['--profile', 'prod', '--endpoint', '127.0.0.1:8472', '--insecure']
    """

    profile: str = ""
    endpoint: str = ""  # a base URL (``https://ecs.cn-beijing.aliyuncs.com``) or a bare host

    def flags(self) -> list[str]:
        parts: list[str] = []
        if self.profile:
            parts += ["--profile", shlex.quote(self.profile)]
        if self.endpoint:
            scheme, _, rest = self.endpoint.rpartition("://")
            host = rest.split("/", 1)[0]
            parts += ["--endpoint", shlex.quote(host)]
            if scheme.lower() == "http":
                parts.append("--insecure")
        return parts


NO_TARGET = AliyunTarget()


def aliyun_command(
    action: str,
    region_id: str,
    params: Mapping[str, str],
    *,
    waiter: str = "",
    target: AliyunTarget = NO_TARGET,
) -> str:
    """The equivalent aliyun CLI command line (`aliyun ecs <Action> --RegionId ... --Key value ... --profile P
    --endpoint H`), to paste as is."""
    parts = ["aliyun", "ecs", action]
    if region_id:
        parts += ["--RegionId", region_id]
    for key, value in params.items():
        parts += [f"--{key}", value if value == SECRET_PLACEHOLDER else shlex.quote(value)]
    if waiter:
        parts.append(waiter)
    return " ".join([*parts, *target.flags()])  # where to send it last: the call reads first


def api_step(
    kind: StepKind,
    description: str,
    expected_change: str,
    region_id: str,
    params: Mapping[str, str],
    target: AliyunTarget,
    *,
    shown: Mapping[str, str] | None = None,
) -> PlanStep:
    """A step that calls the API: its action is its step kind's, its aliyun line shows `params` (or `shown`,
    with placeholders for what is never written down)."""
    line = aliyun_command(
        MUTATING_STEPS[kind].action, region_id, params if shown is None else shown, target=target
    )
    return PlanStep(kind, description, expected_change, 0.0, line, params)


def wait_disk_line(region_id: str, disk_id: str, target: str, timeout: float, to: AliyunTarget) -> str:
    return aliyun_command(
        "DescribeDisks",
        region_id,
        {"DiskIds": json.dumps([disk_id])},
        waiter=f"--waiter expr='Disks.Disk[0].Status' to={target} timeout={min(int(timeout), 600)}",
        target=to,
    )


def wait_attachment_gone_line(
    region_id: str, disk_id: str, instance_id: str, timeout: float, to: AliyunTarget
) -> str:
    expr = f"length(Disks.Disk[0].Attachments.Attachment[?InstanceId=='{instance_id}'])"
    return aliyun_command(
        "DescribeDisks",
        region_id,
        {"DiskIds": json.dumps([disk_id])},
        waiter=f'--waiter expr="{expr}" to=0 timeout={min(int(timeout), 600)}',
        target=to,
    )


def wait_instance_line(
    region_id: str, instance_id: str, target: str, timeout: float, to: AliyunTarget
) -> str:
    return aliyun_command(
        "DescribeInstances",
        region_id,
        {"InstanceIds": json.dumps([instance_id])},
        waiter=f"--waiter expr='Instances.Instance[0].Status' to={target} timeout={min(int(timeout), 600)}",
        target=to,
    )


def guest_params(instance_id: str, command_type: str, script: str) -> dict[str, str]:
    """RunCommand's API parameters for a guest step (the script exactly as the plan shows it)."""
    return {"InstanceId": instance_id, "Type": command_type, "CommandContent": script}


def guest_shown(params: Mapping[str, str]) -> dict[str, str]:
    """A guest step's parameters as the aliyun CLI spells RunCommand's (``--InstanceId.1``)."""
    return {("InstanceId.1" if key == "InstanceId" else key): value for key, value in params.items()}
