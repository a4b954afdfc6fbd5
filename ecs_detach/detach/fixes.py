"""The fix ladder, each fix kind defined once: the plan steps it adds and the executor that runs it.

A precondition rule that can be fixed names a `FixKind` (the word, in `ecs_detach.preconditions`); its
`FixSpec` here says what that fix looks like in a plan (`plan_steps`: the steps and warnings the operator
confirms) and what the runner does for it (`execute`: one rung, after which the run reads again and decides
afresh). `ecs_detach.plan` draws a fix's steps from `FIXES`, and the single-disk run (`detach/single.py`) runs
it from `FIXES`: nothing else branches on a fix kind.

Adding a fix kind: a `FixKind` member (its place among the members is its place on the ladder), the rule
that names it (`preconditions.RULES`), and one `FixSpec` in `FIXES` with its two functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ecs_detach.detach.guest_steps import release
from ecs_detach.detach.power import stop_for_detach
from ecs_detach.detach.results import Outcome
from ecs_detach.detach.runner import Runner, durations_of
from ecs_detach.detach.steps import (
    AliyunTarget,
    PlanStep,
    StepKind,
    aliyun_command,
    api_step,
    guest_params,
    guest_shown,
    stop_params,
    wait_disk_line,
    wait_instance_line,
)
from ecs_detach.guest import backup_path, command_type, unmount_script
from ecs_detach.models import DISK_ATTACHING
from ecs_detach.preconditions import DetachOptions, Durations, FixKind, FixStep, Preconditions
from ecs_detach.wording import Worded, worded

__all__ = ["FIXES", "FixDraft", "FixPlan", "FixRun", "FixSpec"]


@dataclass(frozen=True, slots=True)
class FixPlan:
    """What a fix's plan steps are drawn from: the checked preconditions and the plan's settings."""

    pre: Preconditions
    options: DetachOptions
    durations: Durations
    timeout: float
    target: AliyunTarget


@dataclass(frozen=True, slots=True)
class FixDraft:
    """What a fix adds to a plan: its steps, in order, and the warnings they call for."""

    steps: tuple[PlanStep, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FixRun:
    """What the runner knows when it climbs a rung: the fresh preconditions, the run's options, whether the
    confirmed plan stops the instance, and the run's timeout."""

    pre: Preconditions
    options: DetachOptions
    may_stop: bool
    timeout: float


@dataclass(frozen=True, slots=True)
class FixSpec:
    kind: FixKind
    plan_steps: Callable[[FixPlan], FixDraft]
    execute: Callable[[Runner, FixRun], None]
    # Why the options do not allow this fix (None when they do): the plan is then refused with it.
    refusal: Callable[[FixPlan, FixStep], Worded | None] | None = None


def _refuse_unmount(fix: FixPlan, step: FixStep) -> Worded | None:
    if fix.options.unmount:
        return None
    return worded(
        "Disk {disk} is in use in the guest ({what}); allow ecs-detach to release it first ({unmount}) "
        "to go on.",
        disk=fix.pre.disk_id,
        what=step.description,
    )


def _plan_guest_unmount(fix: FixPlan) -> FixDraft:
    pre, guest = fix.pre, fix.pre.guest
    assert guest is not None  # the fix comes from a guest row
    params = guest_params(pre.instance_id, command_type(guest.os_type), unmount_script(guest))
    where = ", ".join(guest.mount_points) or "nothing mounted"
    if guest.os_type == "windows":
        description = f"Take disk {pre.disk_id} offline in the guest of {pre.instance_id} ({where})"
    else:
        backup = f"; comment out its /etc/fstab lines (backup {backup_path(pre.disk_id)})"
        description = (
            f"Unmount {where} in the guest of {pre.instance_id}{backup if guest.active_fstab else ''}"
        )
    step = api_step(
        StepKind.GUEST_UNMOUNT,
        description,
        f"guest: {where} released",
        pre.region_id,
        params,
        fix.target,
        shown=guest_shown(params),
    )
    return FixDraft(
        (PlanStep(step.kind, step.description, step.expected_change, 5.0, step.aliyun, step.params),)
    )


def _guest_unmount(runner: Runner, fix: FixRun) -> None:
    """A fresh read that still shows the disk in use in the guest (only a read with the guest does)."""
    guest = fix.pre.guest
    if guest is None:
        raise runner.stop(
            Outcome.FAILED,
            f"Disk {runner.disk_id} must be released in the guest first, and this read has no guest report.",
            remedy=worded(
                "Check it again ({check_again}) and run the detach with {unmount}.", disk_id=runner.disk_id
            ),
        )
    release(
        runner,
        _plan_guest_unmount(FixPlan(fix.pre, fix.options, Durations(), fix.timeout, AliyunTarget())).steps[0],
        guest,
        fix.timeout,
    )


def _plan_wait_disk(fix: FixPlan) -> FixDraft:
    pre, disk_id = fix.pre, fix.pre.disk_id
    step = PlanStep(
        StepKind.WAIT_DISK_IN_USE,
        f"Wait until disk {disk_id} finishes attaching",
        f"disk {disk_id}: Attaching → In_use",
        fix.durations.attach,
        wait_disk_line(pre.region_id, disk_id, "In_use", fix.timeout, fix.target),
    )
    return FixDraft((step,))


def _wait_disk(runner: Runner, fix: FixRun) -> None:
    runner.wait(
        StepKind.WAIT_DISK_IN_USE,
        f"disk {runner.disk_id}",
        runner.disk_state(runner.disk_id, runner.instance_id),
        lambda s: s != DISK_ATTACHING,
        expected=durations_of(runner).attach,
        timeout=fix.timeout,
        target="done attaching",
    )


def _plan_wait_instance(fix: FixPlan) -> FixDraft:
    pre, instance_id, dur = fix.pre, fix.pre.instance_id, fix.durations
    status = pre.instance.status if pre.instance else "?"
    settled = "Stopped" if status == "Stopping" else "Running"
    step = PlanStep(
        StepKind.WAIT_INSTANCE_SETTLED,
        f"Wait until instance {instance_id} leaves {status}",
        f"instance {instance_id}: {status} → {settled}",
        dur.stop if settled == "Stopped" else dur.start,
        wait_instance_line(pre.region_id, instance_id, settled, fix.timeout, fix.target),
    )
    return FixDraft((step,))


def _wait_instance(runner: Runner, fix: FixRun) -> None:
    runner.wait_instance("settled", StepKind.WAIT_INSTANCE_SETTLED, fix.timeout, durations_of(runner).stop)


def _plan_stop(fix: FixPlan) -> FixDraft:
    pre, instance_id, opts = fix.pre, fix.pre.instance_id, fix.options
    mode = " (force: like pulling the plug, unsaved data is lost)" if opts.force_stop else ""
    stop = api_step(
        StepKind.STOP_INSTANCE,
        f"Stop instance {instance_id}{mode}",
        f"instance {instance_id}: Running → Stopping",
        pre.region_id,
        stop_params(instance_id, opts),
        fix.target,
    )
    stopped = PlanStep(
        StepKind.WAIT_INSTANCE_STOPPED,
        f"Wait until instance {instance_id} is Stopped",
        f"instance {instance_id}: Stopping → Stopped",
        fix.durations.stop,
        wait_instance_line(pre.region_id, instance_id, "Stopped", fix.timeout, fix.target),
    )
    return FixDraft(
        (stop, stopped), (f"Instance {instance_id} will be stopped: whatever runs on it goes down.",)
    )


def _stop(runner: Runner, fix: FixRun) -> None:
    if not fix.may_stop:
        lead = "The state changed: " if runner.mutated else ""
        raise runner.stop(
            Outcome.ABORTED if runner.mutated else Outcome.BLOCKED,
            f"{lead}instance {runner.instance_id} must now be stopped first, and the confirmed plan "
            "did not include stopping it. Review the new plan and confirm again.",
            code=fix.pre.predicted_code or "",
        )
    stop_for_detach(runner, fix.options, fix.timeout, durations_of(runner).stop)


def _plan_wait_detaches(fix: FixPlan) -> FixDraft:
    pre, instance_id = fix.pre, fix.pre.instance_id
    step = PlanStep(
        StepKind.WAIT_DETACHES,
        f"Wait until the disks already detaching from {instance_id} finish",
        "other disks: Detaching → Available",
        fix.durations.detach,
        aliyun_command(
            "DescribeDisks",
            pre.region_id,
            {"InstanceId": instance_id, "Status": "Detaching"},
            waiter=f"--waiter expr='TotalCount' to=0 timeout={min(int(fix.timeout), 600)}",
            target=fix.target,
        ),
    )
    return FixDraft((step,))


def _wait_detaches(runner: Runner, fix: FixRun) -> None:
    runner.emit(StepKind.WAIT_DETACHES.value, f"Other disks are detaching from {runner.instance_id}; waiting")
    runner.sleep(min(10.0, durations_of(runner).detach))


FIXES: Mapping[FixKind, FixSpec] = {
    spec.kind: spec
    for spec in (
        FixSpec(FixKind.GUEST_UNMOUNT, _plan_guest_unmount, _guest_unmount, _refuse_unmount),
        FixSpec(FixKind.WAIT_DISK, _plan_wait_disk, _wait_disk),
        FixSpec(FixKind.WAIT_INSTANCE, _plan_wait_instance, _wait_instance),
        FixSpec(FixKind.STOP_INSTANCE, _plan_stop, _stop),
        FixSpec(FixKind.WAIT_DETACHES, _plan_wait_detaches, _wait_detaches),
    )
}
