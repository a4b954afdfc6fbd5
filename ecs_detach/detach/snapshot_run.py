"""Snapshot before detach, the run half: send CreateSnapshot (journaled), follow it to `accomplished`.

`take_snapshot` runs the plan's CREATE_SNAPSHOT and WAIT_SNAPSHOT steps just before the DetachDisk, so the
detach is sent only once the snapshot is accomplished. A lost answer is settled by reading the disk's
snapshots (ours carries the plan's SnapshotName and was created after the intent); a snapshot that fails,
or a refusal, ends the run before anything is detached.
"""

from __future__ import annotations

from ecs_detach.detach.results import Outcome, StepResult
from ecs_detach.detach.runner import Runner
from ecs_detach.detach.send import Answer, Sent, send, settled
from ecs_detach.errors import EcsError
from ecs_detach.journal import Result
from ecs_detach.models import SNAPSHOT_ACCOMPLISHED, SNAPSHOT_FAILED, Snapshot
from ecs_detach.plan import Plan, StepKind
from ecs_detach.wording import worded

__all__ = ["snapshot_state", "take_snapshot"]

# Refusals that change nothing and that the operator can act on: blocked, not failed.
_BLOCKING = frozenset(
    {
        "IncorrectDiskStatus.CreatingSnapshot",
        "QuotaExceed.Snapshot",
        "DiskCategory.OperationNotSupported",
        "InstanceLockedForSecurity",
        "DiskInArrears",
        "IncorrectDiskStatus.NeverAttached",
    }
)


def snapshot_state(snapshot: Snapshot | None) -> str:
    """What a wait shows of a snapshot: ``progressing 40%``, ``accomplished``, ``failed``, ``NotFound``."""
    if snapshot is None:
        return "NotFound"
    if snapshot.status == SNAPSHOT_ACCOMPLISHED or snapshot.status == SNAPSHOT_FAILED:
        return snapshot.status
    return f"{snapshot.status} {snapshot.progress}%"


def take_snapshot(runner: Runner, plan: Plan, timeout: float, expected: float) -> bool:
    """Take the plan's snapshot and wait until it is accomplished; True when done (`runner.snapshot_id`),
    False when CreateSnapshot was not applied (throttled: read again, then decide afresh). Raises
    `RunStopped` when the run must end here (the disk is not detached)."""
    step = next(s for s in plan.steps if s.kind is StepKind.CREATE_SNAPSHOT)
    params = dict(step.params)
    sent = send(
        runner,
        StepKind.CREATE_SNAPSHOT,
        params,
        context={"before": "DetachDisk", "instance_id": plan.instance_id},
        describe=f"Taking a snapshot of disk {plan.disk_id} before the detach",
    )
    if sent.answer is Answer.NOT_APPLIED:
        return False
    snapshot_id = sent.returned.get("SnapshotId", "") if sent.answer is Answer.DONE else ""
    if not snapshot_id:
        snapshot_id = _settle(runner, plan, params, sent)
    _wait_accomplished(runner, snapshot_id, timeout, expected)
    runner.snapshot_id = snapshot_id
    runner.steps.append(
        StepResult(
            StepKind.WAIT_SNAPSHOT.value, f"Snapshot {snapshot_id} of disk {plan.disk_id} is accomplished"
        )
    )
    return True


def _settle(runner: Runner, plan: Plan, params: dict[str, str], sent: Sent) -> str:
    """The id of our snapshot after an answer that did not give it; raises `RunStopped` if there is none."""
    if (error := sent.api_error) is not None:
        blocked = error.code in _BLOCKING and not runner.mutated
        raise runner.stop(
            Outcome.BLOCKED if blocked else Outcome.FAILED,
            f"CreateSnapshot was refused: {error}. Disk {plan.disk_id} was not detached.",
            code=error.code,
            remedy=error.remedy_worded or error.remedy,
        )
    if sent.answer is Answer.NOT_SENT:
        raise runner.stop(
            Outcome.FAILED,
            f"CreateSnapshot was not sent: {sent.error}. Disk {plan.disk_id} was not detached.",
            remedy=getattr(sent.error, "remedy", ""),
        )
    since = sent.intent.at if sent.intent is not None else ""
    try:
        found = runner.client.list_snapshots(disk_id=plan.disk_id, name=params.get("SnapshotName"))
    except EcsError as exc:
        raise runner.read_failed(f"the snapshots of disk {plan.disk_id}", exc) from None
    ours = [s for s in found if not since or s.creation_time >= since[:19]]
    if not ours:
        since_said = f" since {since[:19]}" if since else ""
        settled(
            runner,
            sent,
            Result.UNKNOWN,
            f"No snapshot {params.get('SnapshotName', '')} of disk {plan.disk_id} created{since_said} "
            "shows up; whether CreateSnapshot took effect is unknown.",
        )
        raise runner.stop(
            Outcome.FAILED,
            f"The answer to CreateSnapshot was lost and no snapshot of disk {plan.disk_id} taken since "
            f"shows up; disk {plan.disk_id} was not detached. Nothing more was sent.",
            code="TransportError",
            remedy="Check the disk's snapshots (aliyun ecs DescribeSnapshots), then run the detach again.",
        )
    snapshot = ours[0]  # the API lists newest first
    settled(
        runner,
        sent,
        Result.WENT_THROUGH,
        f"Snapshot {snapshot.snapshot_id} ({params.get('SnapshotName', '')}) of disk {plan.disk_id} "
        "shows up: the snapshot went through.",
    )
    return snapshot.snapshot_id


def _wait_accomplished(runner: Runner, snapshot_id: str, timeout: float, expected: float) -> None:
    def read() -> str:
        found = runner.client.list_snapshots(snapshot_ids=[snapshot_id])
        return snapshot_state(found[0] if found else None)

    state = runner.wait(
        StepKind.WAIT_SNAPSHOT,
        f"snapshot {snapshot_id}",
        read,
        lambda s: s in (SNAPSHOT_ACCOMPLISHED, SNAPSHOT_FAILED, "NotFound"),
        expected=expected,
        timeout=timeout,
        target=SNAPSHOT_ACCOMPLISHED,
    )
    if state != SNAPSHOT_ACCOMPLISHED:
        raise runner.stop(
            Outcome.FAILED,
            f"Snapshot {snapshot_id} is {state}: disk {runner.disk_id} was not detached (nothing was sent "
            "after CreateSnapshot).",
            code="SnapshotFailed",
            remedy=worded("Delete the failed snapshot, then run the detach again (or without {snapshot})."),
        )
