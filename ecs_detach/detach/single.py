"""The single-disk detach run: read, decide, fix, send DetachDisk, follow it, restart if planned."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ecs_detach.detach.fixes import FIXES, FixRun
from ecs_detach.detach.guest_steps import release_in_guest
from ecs_detach.detach.power import earlier_start_blocker, start_again, stop_for_detach
from ecs_detach.detach.results import Outcome, RunResult, StepResult
from ecs_detach.detach.runner import (
    MAX_RACES,
    MAX_RECONCILED_RETRIES,
    MAX_ROUNDS,
    Runner,
    durations_of,
)
from ecs_detach.detach.send import Answer, send
from ecs_detach.detach.snapshot_run import take_snapshot
from ecs_detach.detach.steps import detach_params
from ecs_detach.models import INSTANCE_RUNNING
from ecs_detach.plan import Plan, StepKind
from ecs_detach.preconditions import (
    NOT_ATTACHED_HERE,
    DetachOptions,
    Durations,
    Preconditions,
    Verdict,
)


def run_detach(runner: Runner, plan: Plan, *, allow_restart: bool) -> RunResult:
    if plan.nothing_to_do:
        return runner.result(
            Outcome.ALREADY_DETACHED, f"Disk {plan.disk_id} is already detached: nothing to do."
        )
    if not plan.executable:
        return runner.result(Outcome.BLOCKED, plan.refusal)
    timeout = runner.timeout or plan.timeout
    dur = durations_of(runner)
    options = replace(plan.options, instance_id=plan.instance_id or plan.options.instance_id)
    may_stop = plan.has_step(StepKind.STOP_INSTANCE)
    restart = allow_restart and plan.has_step(StepKind.START_INSTANCE)
    # A start without a stop: the plan starts an instance an earlier run of ours stopped and left Stopped.
    earlier_start = restart and not may_stop
    runner.earlier_stopped = earlier_start
    guest = plan.preconditions.guest if plan.preconditions is not None else None
    release_in_guest(runner, plan.steps, guest, options, timeout)  # the plan's guest step, first
    tries = _DetachTries()
    while True:
        tries.rounds += 1
        if tries.rounds > MAX_ROUNDS:
            raise runner.stop(
                Outcome.FAILED,
                f"Disk {plan.disk_id}: the state kept changing; gave up after {MAX_ROUNDS} checks.",
            )
        pre = runner.inspect(options)
        verdict = pre.verdict
        if verdict is Verdict.ALREADY_DETACHED or (tries.detach_sent and _detached(pre)):
            if tries.detach_sent:
                break
            if runner.mutated:
                raise runner.stop(
                    Outcome.ABORTED,
                    f"Disk {plan.disk_id} was detached behind our back (by someone else) "
                    "before our DetachDisk; "
                    "nothing more was done.",
                )
            if earlier_start:
                break  # only the start the plan showed is left
            return runner.result(Outcome.ALREADY_DETACHED, pre.summary)
        if verdict is Verdict.IN_PROGRESS:
            runner.emit(
                "check", f"Disk {plan.disk_id} is already detaching from {plan.instance_id}; following it"
            )
            runner.wait_detached(timeout, dur.detach)
            break
        if verdict is Verdict.BLOCKED:
            if tries.detach_sent and pre.rule(NOT_ATTACHED_HERE).failing:
                break  # the attachment is gone: our detach finished
            outcome = Outcome.ABORTED if runner.mutated else Outcome.BLOCKED
            lead = "The state changed for the worse: " if runner.mutated else ""
            raise runner.stop(outcome, lead + pre.reason, code=pre.predicted_code or "")
        if verdict is Verdict.FIXABLE:
            FIXES[pre.fixes[0].kind].execute(runner, FixRun(pre, options, may_stop, timeout))
            continue
        # READY: detach.
        if may_stop and not runner.stopped_instance and _running(pre):
            # The confirmed plan stops the instance first: follow it, even if this run's facts (or none)
            # say a stop is not needed; a detach the plan did not show would be refused.
            runner.emit(
                "check",
                f"The confirmed plan stops instance {plan.instance_id} before the detach; stopping it",
            )
            stop_for_detach(runner, options, timeout, dur.stop)
            continue
        if plan.has_step(StepKind.CREATE_SNAPSHOT) and not runner.snapshot_id:
            take_snapshot(runner, plan, timeout, dur.snapshot)
            continue  # a snapshot takes minutes: read again just before the detach
        if tries.resends > MAX_RECONCILED_RETRIES:
            raise runner.stop(
                Outcome.FAILED,
                f"DetachDisk for {plan.disk_id} got no clear answer {tries.resends} times, and each time it "
                "had not taken effect; stopping.",
                code="TransportError",
                remedy="Check the network or the endpoint, then try again.",
            )
        if _send_detach(runner, plan, options, pre, tries, timeout, dur):
            break
    return _finish_detach(
        runner, plan, restart=restart, earlier_start=earlier_start, timeout=timeout, dur=dur
    )


def _guest_check(plan: Plan) -> str:
    """What the plan knew of the guest, for the journal: read, skipped, agent-absent, ... or off."""
    guest = plan.preconditions.guest if plan.preconditions is not None else None
    return guest.state.value if guest is not None else "off"


@dataclass
class _DetachTries:
    """What one detach run has counted so far (bounds against ping-pong and blind re-sends)."""

    detach_sent: bool = False
    resends: int = 0  # DetachDisk re-sent after a lost answer reconciled as "did not happen"
    races: int = 0  # DetachDisk refused for a state our read did not show
    limit_since: float | None = None  # when DisksDetachingOnEcsExceeded was first answered
    rounds: int = 0  # re-inspections


def _send_detach(
    runner: Runner,
    plan: Plan,
    options: DetachOptions,
    pre: Preconditions,
    tries: _DetachTries,
    timeout: float,
    dur: Durations,
) -> bool:
    """Send DetachDisk for a READY disk and act on the answer: True when the detach is done (or finished
    behind our back), False to read again and decide afresh. Raises `RunStopped` when the run ends here."""
    disk = pre.disk
    context = {
        "disk_type": disk.type if disk else "",
        "device": disk.device_on(plan.instance_id) if disk else "",
        "multi_attach": bool(disk and disk.is_multi_attach),
        "delete_with_instance_before": bool(disk and disk.delete_with_instance),
        "instance_status": pre.instance.status if pre.instance else "",
        "guest_check": _guest_check(plan),
    }
    if runner.remount is not None:
        context |= runner.remount.to_context()  # the undo offers to mount it back
    if runner.snapshot_id:
        context["snapshot_id"] = runner.snapshot_id  # the undo screen and the journal name it
    sent = send(
        runner,
        StepKind.DETACH_DISK,
        detach_params(plan.disk_id, plan.instance_id, options),
        context=context,
        describe=f"Detaching disk {plan.disk_id} from instance {plan.instance_id}",
    )
    if sent.answer is Answer.NOT_APPLIED:
        return False  # not applied: read again (after the back-off) and decide afresh
    tries.detach_sent = True
    if sent.answer is Answer.DONE:
        runner.wait_detached(timeout, dur.detach)
        return True
    if sent.answer is Answer.DID_NOT_HAPPEN:
        tries.resends += 1
        return False  # not blind: the fresh read says it did not happen; check everything again
    if sent.answer is Answer.UNKNOWN:
        raise runner.stop(
            Outcome.FAILED,
            "The outcome of DetachDisk is unknown and the disk's state does not tell whether it went "
            "through "
            f"({runner.steps[-1].message}). Nothing more was sent.",
            code="TransportError",
        )
    if (error := sent.api_error) is not None:
        if error.code == "InvalidDisk.AlreadyDetached":
            runner.steps.append(StepResult("detach-disk", f"Disk {plan.disk_id} is already detached."))
            return True
        if error.code == "InvalidOperation.DiskDetachingFromThisEcs":
            runner.wait_detached(timeout, dur.detach)
            return True
        if error.code == "DisksDetachingOnEcsExceeded":
            # A limit the API does not publish: wait (bounded by the timeout) for other detaches to end.
            now = runner.clock()
            tries.limit_since = now if tries.limit_since is None else tries.limit_since
            if now - tries.limit_since >= timeout:
                raise runner.stop(
                    Outcome.TIMED_OUT,
                    f"Other disks were still detaching from {plan.instance_id} after "
                    f"{now - tries.limit_since:.0f} s (DisksDetachingOnEcsExceeded); nothing was detached.",
                    code=error.code,
                    remedy="Try again once they are Available.",
                )
            tries.rounds -= 1
            runner.emit(
                StepKind.WAIT_DETACHES.value,
                f"Too many disks are detaching from {plan.instance_id} (DisksDetachingOnEcsExceeded); "
                "checking again in 10 s",
            )
            runner.sleep(10.0)
            return False
        if error.code in _RACE_CODES and tries.races < MAX_RACES:
            # The state moved between our read and the call (or a limit we cannot see): wait a little,
            # then read again and decide afresh.
            tries.races += 1
            runner.emit("check", f"DetachDisk was refused ({error.code}); checking again in 2 s")
            runner.sleep(2.0)
            return False
        raise runner.stop(
            Outcome.FAILED,
            f"DetachDisk was refused: {error}",
            code=error.code,
            remedy=error.remedy_worded or error.remedy,
        )
    raise runner.stop(
        Outcome.FAILED,
        f"DetachDisk was not sent: {sent.error}",
        remedy=getattr(sent.error, "remedy", ""),
    )


def _finish_detach(
    runner: Runner, plan: Plan, *, restart: bool, earlier_start: bool, timeout: float, dur: Durations
) -> RunResult:
    """The detach is done: start the instance again if the plan says so, and say what became of it."""
    message = f"Disk {plan.disk_id} is detached from instance {plan.instance_id}."
    if runner.snapshot_id:
        message += f" Snapshot {runner.snapshot_id} was taken first (accomplished)."
    if earlier_start and not runner.stopped_instance:
        # The plan starts an instance an earlier run stopped: only if it is still Stopped, still ours
        # (the journal shows no start since), and has its system disk.
        why_not = earlier_start_blocker(runner, timeout, dur.stop)
        if why_not:
            runner.earlier_stopped = False  # the message says why it is not started
            message += f" {why_not}"
        else:
            runner.stopped_instance = True
    if restart and runner.stopped_instance:
        start_again(runner, timeout, dur.start)
        message += f" Instance {plan.instance_id} was started again."
    elif runner.stopped_instance and plan.has_step(StepKind.START_INSTANCE):
        message += f" Instance {plan.instance_id} is Stopped until the last disk on it is done."
    elif runner.stopped_instance:
        message += f" Instance {plan.instance_id} was stopped and is left Stopped."
    return runner.result(Outcome.DONE, message)


_RACE_CODES = frozenset({"IncorrectInstanceStatus", "IncorrectDiskStatus"})


def _running(pre: Preconditions) -> bool:
    return pre.instance is not None and pre.instance.status == INSTANCE_RUNNING


def _detached(pre: Preconditions) -> bool:
    disk = pre.disk
    return disk is not None and pre.instance_id not in disk.attached_instance_ids
