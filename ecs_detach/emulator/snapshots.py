"""CreateSnapshot and DescribeSnapshots: the emulator's snapshots of disks.

A snapshot is the API's own object (DescribeSnapshots' ``Snapshots.Snapshot[]`` fields). It is created
``progressing`` at ``0%``, moves on the emulator's clock over the ``Durations.CreateSnapshot`` knob and ends
``accomplished`` at ``100%`` (or ``failed`` for a disk the ``FailedSnapshotDiskIds`` knob names). A fleet's
``Emulator.Snapshots`` lists the snapshots to start with; a progressing one carries its ``RemainTime``
(seconds), so ``Backend.snapshot()`` gives back the same state.

CreateSnapshot checks, in this order (the first failure answers; codes and messages of the CreateSnapshot
API page, see the README's "Snapshot and move"): DiskId missing (400 ``MissingDiskId``); bad region;
malformed SnapshotName / Description / RetentionDays / Category; no such disk (404
``InvalidDiskId.NotFound``); a local disk (400 ``DiskCategory.OperationNotSupported``); the instance it is
attached to is locked for security (403 ``InstanceLockedForSecurity``); the disk has an overdue payment (403
``DiskInArrears``); disk neither ``In_use`` nor ``Available`` (403 ``IncorrectDiskStatus``); an ``Available``
disk that was never attached (403 ``IncorrectDiskStatus.NeverAttached``); the instance neither ``Running``
nor ``Stopped`` (400 ``IncorrectInstanceStatus``); a snapshot of the disk still progressing (403
``IncorrectDiskStatus.CreatingSnapshot``); 256 manual snapshots of the disk (403 ``QuotaExceed.Snapshot``).

This module imports nothing from the rest of ``ecs_detach`` (only its emulator siblings).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .clock import iso_time
from .errors import EmulatorError, api_error, invalid_parameter, missing_parameter
from .fleet import FleetError

__all__ = [
    "LOCAL_DISK_CATEGORIES",
    "MANUAL_SNAPSHOT_QUOTA",
    "SnapshotStore",
]

MANUAL_SNAPSHOT_QUOTA = 256  # today's page; older copies said 64
LOCAL_DISK_CATEGORIES = frozenset({"ephemeral", "ephemeral_ssd", "local_ssd_pro", "local_hdd_pro"})
STATUSES = ("progressing", "accomplished", "failed", "all")
SNAPSHOT_TYPES = ("auto", "user", "all")
SOURCE_DISK_TYPES = ("system", "data")
CATEGORIES = ("Standard", "Flash")  # CreateSnapshot's; DescribeSnapshots also filters by archive
_NAME_RE = re.compile(r"[^\W\d_][\w:.\-]{1,127}")
_MAX_IDS = 100


class SnapshotParams(Protocol):
    """What the backend's defensive parameter reader offers (``backend._Params``)."""

    def get(self, name: str) -> str | None: ...
    def text(self, name: str) -> str: ...
    def boolean(self, name: str) -> bool | None: ...
    def integer(self, name: str) -> int | None: ...


@dataclass
class _Taking:
    """A snapshot still progressing: when it started and when it ends (emulator time)."""

    started: float
    due: float


@dataclass
class SnapshotStore:
    """The snapshots of one fleet, by id, and the clock they progress on."""

    now: Callable[[], float]
    duration: Callable[[], float]
    failing_disk_ids: frozenset[str] = frozenset()
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    taking: dict[str, _Taking] = field(default_factory=dict)
    seq: int = 0

    # -- fleet ------------------------------------------------------------------------------------------

    def load(self, entries: object) -> None:
        """The fleet's ``Emulator.Snapshots`` (validated; a clear ``FleetError`` for a bad one)."""
        self.snapshots.clear()
        self.taking.clear()
        if entries is None:
            return
        if not isinstance(entries, list):
            raise FleetError("Emulator.Snapshots: expected a list of snapshot objects")
        now = self.now()
        for index, entry in enumerate(entries):
            where = f"Emulator.Snapshots[{index}]"
            if not isinstance(entry, Mapping):
                raise FleetError(f"{where}: expected an object")
            snapshot_id, disk_id = entry.get("SnapshotId"), entry.get("SourceDiskId")
            if not isinstance(snapshot_id, str) or not snapshot_id.startswith("s-"):
                raise FleetError(f"{where}.SnapshotId: expected an id like 's-bp1...'")
            if not isinstance(disk_id, str) or not disk_id:
                raise FleetError(f"{where}.SourceDiskId: expected the id of the disk it was taken of")
            status = entry.get("Status", "accomplished")
            if status not in STATUSES[:3]:
                raise FleetError(f"{where}.Status: expected one of {', '.join(STATUSES[:3])}")
            snapshot = dict(entry)
            snapshot["Status"] = status
            self.snapshots[snapshot_id] = snapshot
            if status == "progressing":
                remain = entry.get("RemainTime", 0)
                if isinstance(remain, bool) or not isinstance(remain, int | float) or remain < 0:
                    raise FleetError(f"{where}.RemainTime: expected a number of seconds >= 0")
                percent = _percent(snapshot.get("Progress"))
                total = remain / (1 - percent / 100) if percent < 100 else 0.0
                self.taking[snapshot_id] = _Taking(now - (total - remain), now + remain)
        self.tick()

    def dump(self) -> list[dict[str, Any]]:
        """The snapshots as the fleet's ``Emulator.Snapshots`` (progressing ones with ``RemainTime``)."""
        self.tick()
        return [json.loads(json.dumps(s)) for s in self.snapshots.values()]

    # -- time -------------------------------------------------------------------------------------------

    def tick(self) -> bool:
        """Bring every progressing snapshot to the clock; True if anything shown changed."""
        if not self.taking:
            return False
        now = self.now()
        changed = False
        for snapshot_id, taking in list(self.taking.items()):
            snapshot = self.snapshots[snapshot_id]
            before = (snapshot["Status"], snapshot["Progress"], snapshot["RemainTime"])
            if now >= taking.due:
                del self.taking[snapshot_id]
                failed = snapshot["SourceDiskId"] in self.failing_disk_ids
                snapshot.update(
                    Status="failed" if failed else "accomplished",
                    Progress="100%",
                    RemainTime=0,
                    Available=not failed,
                    LastModifiedTime=iso_time(taking.due),
                )
            else:
                span = taking.due - taking.started
                done = 0 if span <= 0 else int(100 * (now - taking.started) / span)
                snapshot.update(Progress=f"{min(99, max(0, done))}%", RemainTime=math.ceil(taking.due - now))
            changed |= before != (snapshot["Status"], snapshot["Progress"], snapshot["RemainTime"])
        return changed

    # -- CreateSnapshot ---------------------------------------------------------------------------------

    def create(
        self,
        p: SnapshotParams,
        *,
        disk_of: Callable[[str], dict[str, Any]],
        instance_of: Callable[[str], dict[str, Any] | None],
        region_of: Callable[[], str | None],
    ) -> dict[str, Any]:
        """CreateSnapshot (the order of checks is the module's docstring's)."""
        action = "CreateSnapshot"
        disk_id = p.get("DiskId")
        if not disk_id:
            raise missing_parameter("DiskId")
        region_of()
        name, description = p.text("SnapshotName"), p.text("Description")
        if name and (not _NAME_RE.fullmatch(name) or _bad_start(name) or name.startswith("auto")):
            raise _error("InvalidSnapshotName.Malformed")
        if description and (not 2 <= len(description) <= 256 or _bad_start(description)):
            raise _error("InvalidDescription.Malformed")
        retention = p.integer("RetentionDays")
        if retention is not None and not 1 <= retention <= 65536:
            raise invalid_parameter("RetentionDays")
        category = p.get("Category")
        if category and category not in CATEGORIES:
            raise invalid_parameter("Category")
        p.boolean("InstantAccess")
        p.integer("InstantAccessRetentionDays")
        dry_run = p.boolean("DryRun")
        disk = disk_of(disk_id)
        self.tick()
        self._check_disk(disk, instance_of)
        if dry_run:
            raise api_error(action, "DryRunOperation")
        return {"SnapshotId": self._take(disk, name, description, retention, category)}

    def _check_disk(
        self, disk: Mapping[str, Any], instance_of: Callable[[str], dict[str, Any] | None]
    ) -> None:
        disk_id = disk["DiskId"]
        if disk["Category"] in LOCAL_DISK_CATEGORIES:
            raise _error("DiskCategory.OperationNotSupported")
        instances = [
            found for a in disk["Attachments"]["Attachment"] if (found := instance_of(a["InstanceId"]))
        ]
        if any(_locked(i, "security", "LockReason") for i in instances):
            raise _error("InstanceLockedForSecurity")
        if _locked(disk, "financial", "OperationLock"):
            raise _error("DiskInArrears")
        if disk["Status"] not in ("In_use", "Available"):
            raise _error("IncorrectDiskStatus")
        if disk["Status"] == "Available" and not (disk.get("AttachedTime") or disk.get("DetachedTime")):
            raise _error("IncorrectDiskStatus.NeverAttached")
        if any(i["Status"] not in ("Running", "Stopped") for i in instances):
            raise _error("IncorrectInstanceStatus")
        of_disk = [s for s in self.snapshots.values() if s["SourceDiskId"] == disk_id]
        if any(s["Status"] == "progressing" for s in of_disk):
            raise _error("IncorrectDiskStatus.CreatingSnapshot")
        if sum(1 for s in of_disk if s.get("SnapshotType", "user") == "user") >= MANUAL_SNAPSHOT_QUOTA:
            raise _error("QuotaExceed.Snapshot")

    def _take(
        self,
        disk: Mapping[str, Any],
        name: str,
        description: str,
        retention: int | None,
        category: str | None,
    ) -> str:
        self.seq += 1
        digest = hashlib.sha1(f"{disk['DiskId']}/{self.seq}/{len(self.snapshots)}".encode()).hexdigest()
        snapshot_id = f"s-{disk['DiskId'][2:5]}{digest[:17]}"
        now = self.now()
        seconds = self.duration()
        self.snapshots[snapshot_id] = {
            "SnapshotId": snapshot_id,
            "SnapshotName": name,
            "Description": description,
            "Status": "progressing",
            "Progress": "0%",
            "RemainTime": math.ceil(seconds),
            "Available": False,
            "SourceDiskId": disk["DiskId"],
            "SourceDiskType": disk["Type"],
            "SourceDiskSize": str(disk.get("Size", "")),
            "SourceStorageType": "disk",
            "SourceRegionId": "",
            "SourceSnapshotId": "",
            "RegionId": disk["RegionId"],
            "CreationTime": iso_time(now),
            "LastModifiedTime": iso_time(now),
            "RetentionDays": retention or 0,
            "Category": (category or "Standard").lower(),
            "InstantAccess": False,
            "InstantAccessRetentionDays": 0,
            "Encrypted": bool(disk.get("Encrypted", False)),
            "KMSKeyId": disk.get("KMSKeyId", ""),
            "ProductCode": "",
            "ResourceGroupId": disk.get("ResourceGroupId", ""),
            "SnapshotLinkId": f"sl-{hashlib.sha1(disk['DiskId'].encode()).hexdigest()[:17]}",
            "SnapshotSN": str(64000000000 + self.seq),
            "SnapshotType": "user",
            "Usage": "none",
            "Tags": {"Tag": []},
        }
        self.taking[snapshot_id] = _Taking(now, now + seconds)
        self.tick()  # a zero duration (or an immediate clock) finishes at once
        return snapshot_id

    # -- DescribeSnapshots ------------------------------------------------------------------------------

    def describe(
        self,
        p: SnapshotParams,
        *,
        region: str,
        attached_to: Callable[[str], Iterable[str]],
        paginate: Callable[[list[dict[str, Any]]], tuple[list[Any], dict[str, Any]]],
    ) -> dict[str, Any]:
        """DescribeSnapshots: the filters, then a page (PageNumber/PageSize or NextToken/MaxResults)."""
        self.tick()
        checks = _filters(p, attached_to)
        found = [
            s
            for s in self.snapshots.values()
            if s["RegionId"] == region and all(check(s) for check in checks)
        ]
        found.sort(key=lambda s: (s["CreationTime"], s["SnapshotId"]), reverse=True)  # newest first
        page, meta = paginate(found)
        return {"Snapshots": {"Snapshot": page}, **meta}


def _filters(
    p: SnapshotParams, attached_to: Callable[[str], Iterable[str]]
) -> list[Callable[[Mapping[str, Any]], bool]]:
    checks: list[Callable[[Mapping[str, Any]], bool]] = []
    raw_ids = p.get("SnapshotIds")
    if raw_ids:
        ids = _id_list(raw_ids)
        checks.append(lambda s: s["SnapshotId"] in ids)
    status = p.get("Status")
    if status:
        if status not in STATUSES:
            raise invalid_parameter("Status")
        if status != "all":
            checks.append(lambda s: s["Status"] == status)
    snapshot_type = p.get("SnapshotType")
    if snapshot_type:
        if snapshot_type not in SNAPSHOT_TYPES:
            raise invalid_parameter("SnapshotType")
        if snapshot_type != "all":
            checks.append(lambda s: s.get("SnapshotType", "user") == snapshot_type)
    source_type = p.get("SourceDiskType")
    if source_type:
        if source_type.lower() not in SOURCE_DISK_TYPES:
            raise invalid_parameter("SourceDiskType")
        checks.append(lambda s: s["SourceDiskType"] == source_type.lower())
    for name, key in (("DiskId", "SourceDiskId"), ("SnapshotName", "SnapshotName"), ("Usage", "Usage")):
        value = p.get(name)
        if value:
            checks.append(_equals(key, value))
    category = p.get("Category")
    if category:
        checks.append(lambda s: s.get("Category", "").lower() == category.lower())
    instance_id = p.get("InstanceId")
    if instance_id:
        checks.append(lambda s: instance_id in attached_to(s["SourceDiskId"]))
    p.boolean("Encrypted")
    p.boolean("DryRun")
    return checks


def _equals(key: str, value: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda snapshot: snapshot.get(key) == value


def _id_list(raw: str) -> frozenset[str]:
    """SnapshotIds: a JSON array of up to 100 ids (commas are also accepted, as the page says)."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_parameter("SnapshotIds")
    if len(value) > _MAX_IDS:
        raise invalid_parameter("SnapshotIds")
    return frozenset(value)


def _error(code: str) -> EmulatorError:
    return api_error("CreateSnapshot", code)


def _bad_start(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _locked(obj: Mapping[str, Any], reason: str, inner: str) -> bool:
    locks = obj.get("OperationLocks", {})
    entries = locks.get(inner, []) if isinstance(locks, Mapping) else []
    return any(isinstance(e, Mapping) and e.get("LockReason") == reason for e in entries)


def _percent(progress: object) -> float:
    if isinstance(progress, str) and progress.endswith("%") and progress[:-1].isdigit():
        return min(100.0, float(progress[:-1]))
    return 0.0
