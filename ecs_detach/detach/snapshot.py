"""Snapshot before detach, the pure half: when the API cannot snapshot the disk, and what a plan says of it.

The rules apply only when a snapshot is asked for (`DetachOptions(snapshot=True)`, `detach --snapshot`):
each is one CreateSnapshot refusal the API would answer, checked on the disk and instance just read, in the
API's order. They are not rows of DetachDisk's decision table (`preconditions.RULES`): a refusal here keeps
the detach itself possible without the snapshot, and the plan's refusal says so. The run half (send,
wait until accomplished) is `ecs_detach.detach.snapshot_run`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecs_detach.models import DISK_AVAILABLE, DISK_IN_USE, Disk, Instance
from ecs_detach.wording import Worded, worded

__all__ = [
    "BILLING_WARNING",
    "LOCAL_DISK_CATEGORIES",
    "SNAPSHOT_RULES",
    "SnapshotRule",
    "snapshot_blocker",
    "snapshot_refusal",
]

# Local disks share the instance's hardware: the API snapshots none of them.
LOCAL_DISK_CATEGORIES = frozenset({"ephemeral", "ephemeral_ssd", "local_ssd_pro", "local_hdd_pro"})

BILLING_WARNING = (
    "The snapshot of disk {disk_id} is billed: snapshot storage is charged by size every month until you "
    "delete it (aliyun ecs DeleteSnapshot --SnapshotId ...)."
)


@dataclass(frozen=True, slots=True)
class SnapshotRule:
    """One reason CreateSnapshot would be refused: its name, the API code, and its check (a sentence that
    says why, or None when the rule passes)."""

    name: str
    code: str
    check: Callable[[Disk, Instance | None], str | None]


def _local(disk: Disk, _: Instance | None) -> str | None:
    if disk.category in LOCAL_DISK_CATEGORIES:
        return f"disk {disk.disk_id} is a local disk ({disk.category}); the API cannot snapshot local disks"
    return None


def _disk_status(disk: Disk, _: Instance | None) -> str | None:
    if disk.status not in (DISK_IN_USE, DISK_AVAILABLE):
        return f"disk {disk.disk_id} is {disk.status}; a snapshot needs it In_use or Available"
    return None


def _financial(disk: Disk, _: Instance | None) -> str | None:
    if any(reason.lower() == "financial" for reason in disk.lock_reasons):
        return f"disk {disk.disk_id} has an overdue payment (financial lock)"
    return None


def _security(_: Disk, instance: Instance | None) -> str | None:
    if instance is not None and instance.security_locked:
        return f"instance {instance.instance_id} is locked for security"
    return None


SNAPSHOT_RULES: tuple[SnapshotRule, ...] = (
    SnapshotRule("snapshot-not-local", "DiskCategory.OperationNotSupported", _local),
    SnapshotRule("snapshot-instance-unlocked", "InstanceLockedForSecurity", _security),
    SnapshotRule("snapshot-disk-paid", "DiskInArrears", _financial),
    SnapshotRule("snapshot-disk-status", "IncorrectDiskStatus", _disk_status),
)


def snapshot_blocker(disk: Disk | None, instance: Instance | None) -> tuple[str, str]:
    """(why, code) of the first rule that fails, e.g. ("disk d-1 is a local disk (...)...", code), or
    ("", "") when the API can snapshot the disk; a screen words it its own way around `why`."""
    if disk is None:
        return "", ""
    for rule in SNAPSHOT_RULES:
        why = rule.check(disk, instance)
        if why:
            return why, rule.code
    return "", ""


def snapshot_refusal(disk: Disk | None, instance: Instance | None) -> tuple[Worded | None, str]:
    """(sentence, code) of the first rule that fails, or (None, "") when the API can snapshot the disk; the
    sentence names the snapshot choice as data (each face words it: ``--snapshot``, the TUI's box).

    An instance that is Starting or Stopping is not a refusal: the plan waits for it to settle first.
    """
    why, code = snapshot_blocker(disk, instance)
    if not why:
        return None, ""
    return (
        worded(
            "A snapshot cannot be taken first: {why} (the API answers {code}). Detach without {snapshot}, or "
            "back the data up another way.",
            why=why,
            code=code,
        ),
        code,
    )
