"""Stopping and starting the instance inside a run (each after a fresh read, journaled)."""

from __future__ import annotations

from ecs_detach.detach.history import start_blocker
from ecs_detach.detach.reads import read_instance
from ecs_detach.detach.results import Outcome
from ecs_detach.detach.runner import MAX_THROTTLED, Runner
from ecs_detach.detach.send import Answer, send
from ecs_detach.detach.steps import StepKind, start_params, stop_params
from ecs_detach.errors import EcsError
from ecs_detach.models import INSTANCE_RUNNING, INSTANCE_STOPPED, INSTANCE_STOPPING
from ecs_detach.preconditions import DetachOptions


def earlier_start_blocker(runner: Runner, timeout: float, expected: float) -> str:
    """Before starting an instance an earlier run stopped: a fresh read (waiting out a Stopping). Returns why
    it is not started ("" when it may be)."""
    instance_id = runner.instance_id
    try:
        instance = read_instance(runner.client, instance_id)
        if instance is not None and instance.status == INSTANCE_STOPPING:
            runner.wait_instance(INSTANCE_STOPPED, StepKind.WAIT_INSTANCE_STOPPED, timeout, expected)
            instance = read_instance(runner.client, instance_id)
        if instance is None or instance.status != INSTANCE_STOPPED:
            status = instance.status if instance is not None else "gone"
            return f"Instance {instance_id} is {status}, not Stopped: not starting it."
        if runner.journal is not None and runner.journal.stopped_by_us(instance_id) is None:
            return (
                f"Instance {instance_id} is Stopped, but the journal no longer shows it stopped by "
                "ecs-detach: not starting it."
            )
        blocker = start_blocker(runner.client, runner.journal, instance_id)
    except EcsError as exc:
        raise runner.read_failed(f"instance {instance_id}", exc) from None
    if blocker:
        return f"Not starting instance {instance_id}: {blocker} It is left Stopped."
    return ""


def stop_for_detach(runner: Runner, options: DetachOptions, timeout: float, expected: float) -> None:
    sent = send(
        runner,
        StepKind.STOP_INSTANCE,
        stop_params(runner.instance_id, options),
        context={"reason": f"detach {runner.disk_id}"},
        describe=f"Stopping instance {runner.instance_id}",
    )
    if sent.answer is Answer.NOT_APPLIED:
        return  # not applied: the next round reads again and decides
    if sent.answer is Answer.DID_NOT_HAPPEN:
        return  # the next round checks again
    if sent.answer is Answer.UNKNOWN:
        raise runner.stop(
            Outcome.FAILED,
            "The outcome of StopInstance is unknown, and the instance's state does not tell.",
        )
    if (error := sent.api_error) is not None:
        if error.code == "IncorrectInstanceStatus":
            return  # it moved between our read and the call; the next round sees where it is
        raise runner.stop(
            Outcome.FAILED,
            f"StopInstance was refused: {error}",
            code=error.code,
            remedy=error.remedy_worded or error.remedy,
        )
    if sent.answer is Answer.NOT_SENT:
        raise runner.stop(Outcome.FAILED, f"StopInstance was not sent: {sent.error}")
    runner.stopped_instance = True
    runner.wait_instance(INSTANCE_STOPPED, StepKind.WAIT_INSTANCE_STOPPED, timeout, expected)


def start_again(runner: Runner, timeout: float, expected: float, *, done: str = "detached") -> None:
    """Start the instance again (after a fresh read that finds it Stopped), then wait until Running."""
    lead = f"Disk {runner.disk_id} is {done}, but"
    for _ in range(MAX_THROTTLED + 1):
        runner.back_off()
        try:
            instance = read_instance(runner.client, runner.instance_id)
        except EcsError as exc:
            raise runner.read_failed(f"instance {runner.instance_id}", exc) from None
        if instance is None or instance.status != INSTANCE_STOPPED:
            status = instance.status if instance else "gone"
            runner.stopped_instance = runner.earlier_stopped = False  # no longer ours to report as Stopped
            raise runner.stop(
                Outcome.ABORTED,
                f"{lead} instance {runner.instance_id} is {status}, not Stopped: not starting it.",
            )
        sent = send(
            runner,
            StepKind.START_INSTANCE,
            start_params(runner.instance_id),
            describe=f"Starting instance {runner.instance_id} again",
        )
        if sent.answer is Answer.NOT_APPLIED:
            continue
        if sent.answer is Answer.DID_NOT_HAPPEN:
            continue  # read again above: still Stopped, so starting it again is safe (bounded)
        if sent.answer is Answer.UNKNOWN:
            raise runner.stop(
                Outcome.FAILED,
                f"{lead} starting instance {runner.instance_id} did not happen.",
                remedy=f"Start it by hand: aliyun ecs StartInstance --InstanceId {runner.instance_id}",
            )
        if (error := sent.api_error) is not None:
            raise runner.stop(
                Outcome.FAILED,
                f"{lead} StartInstance was refused: {error}",
                code=error.code,
                remedy=error.remedy_worded or error.remedy,
            )
        if sent.answer is Answer.NOT_SENT:
            raise runner.stop(Outcome.FAILED, f"{lead} StartInstance was not sent: {sent.error}")
        break
    else:
        raise runner.stop(
            Outcome.FAILED,
            f"{lead} starting instance {runner.instance_id} did not happen after {MAX_THROTTLED + 1} tries.",
            remedy=f"Start it by hand: aliyun ecs StartInstance --InstanceId {runner.instance_id}",
        )
    runner.stopped_instance = runner.earlier_stopped = False
    runner.wait_instance(INSTANCE_RUNNING, StepKind.WAIT_INSTANCE_RUNNING, timeout, expected)
