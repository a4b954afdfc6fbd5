"""What the journal says about a disk's earlier runs (which instance; did one of ours stop it)."""

from __future__ import annotations

from ecs_detach.detach.results import WorkflowClient
from ecs_detach.journal import Journal, JournalRecord
from ecs_detach.models import DISK_IN_USE, INSTANCE_STOPPED, INSTANCE_STOPPING, Disk

DOWN_STATES = (INSTANCE_STOPPED, INSTANCE_STOPPING)


def instance_from_journal(journal: Journal, disk_id: str) -> str:
    """The instance our latest DetachDisk of `disk_id` that took effect targeted, else the instance our latest
    StopInstance for detaching it stopped ("" if the journal names none)."""
    found = journal.last_detach(disk_id)
    if found is not None:
        return found[0].instance_id
    for intent, outcome in reversed(journal.operations()):
        ours = intent.action == "StopInstance" and intent.context.get("reason") == f"detach {disk_id}"
        if ours and outcome is not None and outcome.succeeded:
            return intent.instance_id
    return ""


def earlier_stop(journal: Journal, disk_id: str, instance_id: str) -> tuple[JournalRecord | None, str]:
    """The StopInstance an earlier run of ours made for detaching `disk_id`, that left `instance_id` Stopped
    (no StartInstance took effect since): (that stop, ""). A stop made for another disk's detach counts
    when this disk's DetachDisk from the instance followed it (one run, e.g. bulk); otherwise (None, what
    it was for). A stop recorded without its reason counts. (None, "") when the journal shows no such stop.
    """
    stop = journal.stopped_by_us(instance_id)
    if stop is None:
        return None, ""
    reason = str(stop.context.get("reason", "") or "")
    if not reason or reason == f"detach {disk_id}":
        return stop, ""
    after = False
    for intent, _ in journal.operations():
        same = intent.action == "DetachDisk" and (intent.disk_id, intent.instance_id) == (
            disk_id,
            instance_id,
        )
        if after and same:
            return stop, ""
        after = after or intent.operation_id == stop.operation_id
    return None, reason


def start_blocker(client: WorkflowClient, journal: Journal | None, instance_id: str) -> str:
    """Why `instance_id` must not be started (its system disk is not attached), or "".

    The journal: a system disk we detached from it and did not attach back. The live state, when the
    client can list disks: no system disk In_use on the instance.
    """
    if journal is not None:
        detached: dict[str, bool] = {}
        for intent, outcome in journal.operations():
            if intent.instance_id != instance_id or outcome is None or not outcome.succeeded:
                continue
            if intent.action == "DetachDisk" and intent.context.get("disk_type") == "system":
                detached[intent.disk_id] = True
            elif intent.action == "AttachDisk":
                detached.pop(intent.disk_id, None)
        if detached:
            return (
                f"its system disk {', '.join(detached)} was detached by an ecs-detach run, and an instance "
                "without its system disk cannot start."
            )
    list_disks = getattr(client, "list_disks", None)
    if callable(list_disks):
        disks = list_disks(instance_id=instance_id, disk_type="system")
        if not any(isinstance(d, Disk) and d.status == DISK_IN_USE for d in disks):
            return f"instance {instance_id} has no system disk In_use, and it cannot start without one."
    return ""
