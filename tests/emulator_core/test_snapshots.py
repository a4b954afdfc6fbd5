"""CreateSnapshot / DescribeSnapshots on the emulator clock, and AttachDisk's rules for a disk coming from
another instance (codes and messages of the API pages; the README's "Snapshot and move" names them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock

from .conftest import disk, error_of

REGION = "cn-hangzhou"


def create(backend: Backend, disk_id: str, **params: str) -> str:
    body = backend.handle("CreateSnapshot", {"RegionId": REGION, "DiskId": disk_id, **params})
    return str(body["SnapshotId"])


def snapshots(backend: Backend, **params: str) -> list[dict[str, Any]]:
    body = backend.handle("DescribeSnapshots", {"RegionId": REGION, **params})
    return list(body["Snapshots"]["Snapshot"])


def fleet_with(backend: Backend, **section: Any) -> Backend:
    fleet = backend.snapshot()
    fleet["Emulator"].update(section)
    return Backend(fleet, ManualClock())


def test_a_snapshot_progresses_on_the_clock_and_ends_accomplished(
    backend: Backend, clock: ManualClock
) -> None:
    snapshot_id = create(backend, "d-web-01-data", SnapshotName="before-detach", Description="kept")
    (taken,) = snapshots(backend, SnapshotIds=json.dumps([snapshot_id]))
    assert (taken["Status"], taken["Progress"], taken["RemainTime"]) == ("progressing", "0%", 40)
    assert (taken["SourceDiskId"], taken["SourceDiskType"], taken["SnapshotName"]) == (
        "d-web-01-data",
        "data",
        "before-detach",
    )
    assert taken["Available"] is False
    clock.advance(10)
    (taken,) = snapshots(backend, DiskId="d-web-01-data")
    assert (taken["Status"], taken["Progress"]) == ("progressing", "25%")
    clock.advance(30)
    (taken,) = snapshots(backend, DiskId="d-web-01-data", Status="accomplished")
    assert (taken["Status"], taken["Progress"], taken["RemainTime"], taken["Available"]) == (
        "accomplished",
        "100%",
        0,
        True,
    )


def test_the_duration_knob_and_a_failing_disk() -> None:
    base = Backend("demo", ManualClock())
    fleet = base.snapshot()
    fleet["Emulator"]["Durations"]["CreateSnapshot"] = 5
    fleet["Emulator"]["FailedSnapshotDiskIds"] = ["d-web-01-logs"]
    clock = ManualClock()
    backend = Backend(fleet, clock)
    good, bad = create(backend, "d-web-01-data"), create(backend, "d-web-01-logs")
    clock.advance(5)
    states = {s["SnapshotId"]: s["Status"] for s in snapshots(backend, InstanceId="i-web-01")}
    assert states == {good: "accomplished", bad: "failed"}


def test_a_progressing_snapshot_survives_a_state_round_trip(backend: Backend, clock: ManualClock) -> None:
    snapshot_id = create(backend, "d-web-01-data")
    clock.advance(20)
    again_clock = ManualClock()
    again = Backend(backend.snapshot(), again_clock)
    (taken,) = snapshots(again, SnapshotIds=json.dumps([snapshot_id]))
    assert (taken["Status"], taken["Progress"], taken["RemainTime"]) == ("progressing", "50%", 20)
    again_clock.advance(20)
    assert snapshots(again, SnapshotIds=json.dumps([snapshot_id]))[0]["Status"] == "accomplished"


@pytest.mark.parametrize(
    ("disk_id", "status", "code"),
    [
        ("d-nope", 404, "InvalidDiskId.NotFound"),
        ("d-bigdata-01-hdd1", 400, "DiskCategory.OperationNotSupported"),  # a local disk
        ("d-jump-01-data", 403, "InstanceLockedForSecurity"),
        ("d-web-03-archive", 403, "DiskInArrears"),  # financial lock
        ("d-batch-07-scratch1", 403, "IncorrectDiskStatus"),  # Detaching
        ("d-report-01-data", 400, "IncorrectInstanceStatus"),  # its instance is Stopping
    ],
)
def test_create_snapshot_refusals(backend: Backend, disk_id: str, status: int, code: str) -> None:
    region = "cn-shanghai" if disk_id == "d-bigdata-01-hdd1" else REGION
    params = {"DiskId": disk_id, "RegionId": region}
    if disk_id == "d-bigdata-01-hdd1":
        params.pop("RegionId")
    error = error_of(backend, "CreateSnapshot", params)
    assert (error.status, error.code) == (status, code)


def test_create_snapshot_parameter_and_state_refusals(backend: Backend) -> None:
    assert error_of(backend, "CreateSnapshot", {"RegionId": REGION}).code == "MissingDiskId"
    bad_name = {"RegionId": REGION, "DiskId": "d-web-01-data", "SnapshotName": "auto-nightly"}
    assert error_of(backend, "CreateSnapshot", bad_name).code == "InvalidSnapshotName.Malformed"
    bad_text = {"RegionId": REGION, "DiskId": "d-web-01-data", "Description": "http://x"}
    assert error_of(backend, "CreateSnapshot", bad_text).code == "InvalidDescription.Malformed"
    create(backend, "d-web-01-data")
    again = error_of(backend, "CreateSnapshot", {"RegionId": REGION, "DiskId": "d-web-01-data"})
    assert (again.status, again.code, again.message) == (
        403,
        "IncorrectDiskStatus.CreatingSnapshot",
        "A previous snapshot creation is in process.",
    )
    dry = error_of(
        backend, "CreateSnapshot", {"RegionId": REGION, "DiskId": "d-web-01-logs", "DryRun": "true"}
    )
    assert dry.code == "DryRunOperation"
    assert snapshots(backend, DiskId="d-web-01-logs") == []


def test_a_never_attached_disk_and_the_quota() -> None:
    base = Backend("demo", ManualClock())
    fleet = base.snapshot()
    spare = next(d for d in fleet["Disks"] if d["DiskId"] == "d-spare-01")
    spare["AttachedTime"] = spare["DetachedTime"] = ""
    fleet["Emulator"]["Snapshots"] = [
        {
            "SnapshotId": f"s-old{n:05d}",
            "SourceDiskId": "d-web-01-data",
            "SourceDiskType": "data",
            "RegionId": REGION,
            "CreationTime": "2025-01-01T00:00:00Z",
            "Status": "accomplished",
            "Progress": "100%",
            "SnapshotType": "user",
        }
        for n in range(256)
    ]
    backend = Backend(fleet, ManualClock())
    never = error_of(backend, "CreateSnapshot", {"RegionId": REGION, "DiskId": "d-spare-01"})
    assert never.code == "IncorrectDiskStatus.NeverAttached"
    quota = error_of(backend, "CreateSnapshot", {"RegionId": REGION, "DiskId": "d-web-01-data"})
    assert (quota.status, quota.code) == (403, "QuotaExceed.Snapshot")


def test_describe_snapshots_pages_and_filters(backend: Backend, clock: ManualClock) -> None:
    for disk_id in ("d-web-01-data", "d-web-01-logs", "d-web-02-data"):
        create(backend, disk_id)
        clock.advance(1)
    body = backend.handle("DescribeSnapshots", {"RegionId": REGION, "PageSize": "2"})
    assert (body["TotalCount"], len(body["Snapshots"]["Snapshot"]), body["PageNumber"]) == (3, 2, 1)
    assert body["Snapshots"]["Snapshot"][0]["SourceDiskId"] == "d-web-02-data"  # newest first
    assert len(snapshots(backend, SourceDiskType="data", Status="progressing")) == 3
    assert snapshots(backend, Status="accomplished") == []
    assert error_of(backend, "DescribeSnapshots", {"RegionId": REGION, "Status": "done"}).code == (
        "InvalidParameter"
    )
    assert error_of(backend, "DescribeSnapshots", {}).code == "MissingRegionId"


# --- AttachDisk for a disk coming from another instance --------------------------------------------------


def _detached(backend: Backend, clock: ManualClock, disk_id: str, instance_id: str) -> None:
    backend.handle("DetachDisk", {"DiskId": disk_id, "InstanceId": instance_id})
    clock.advance(60)
    assert disk(backend, disk_id)["Status"] == "Available"


def test_a_data_disk_moves_to_another_instance_in_its_zone(backend: Backend, clock: ManualClock) -> None:
    _detached(backend, clock, "d-web-01-data", "i-web-01")
    backend.handle("AttachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-02"})
    clock.advance(20)
    moved = disk(backend, "d-web-01-data")
    assert (moved["Status"], moved["InstanceId"]) == ("In_use", "i-web-02")


def test_attach_from_another_instance_refusals(backend: Backend, clock: ManualClock) -> None:
    _detached(backend, clock, "d-web-01-data", "i-web-01")
    zone = error_of(backend, "AttachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-db-primary"})
    assert (zone.status, zone.code, zone.message) == (
        403,
        "ResourcesNotInSameZone",
        "The specified instance and disk are not in the same zone.",
    )
    locked = error_of(backend, "AttachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-jump-01"})
    assert locked.code == "InstanceLockedForSecurity"
    in_use = error_of(backend, "AttachDisk", {"DiskId": "d-web-02-data", "InstanceId": "i-web-01"})
    assert in_use.code == "IncorrectDiskStatus"


def test_a_system_disk_from_another_instance_is_refused(backend: Backend, clock: ManualClock) -> None:
    backend.handle("StopInstance", {"InstanceId": "i-web-01"})
    backend.handle("StopInstance", {"InstanceId": "i-web-02"})
    clock.advance(10)
    _detached(backend, clock, "d-web-01-sys", "i-web-01")
    _detached(backend, clock, "d-web-02-sys", "i-web-02")
    params = {
        "DiskId": "d-web-01-sys",
        "InstanceId": "i-web-02",
        "Bootable": "true",
        "Password": "Pw-1234567",
    }
    error = error_of(backend, "AttachDisk", params)
    assert (error.status, error.code) == (400, "InvalidInstance.NotOriginInstance")
    no_credentials = {"DiskId": "d-web-01-sys", "InstanceId": "i-web-01", "Bootable": "true"}
    assert error_of(backend, "AttachDisk", no_credentials).code == "InvalidParameter.AllEmpty"


def test_a_category_the_target_type_cannot_take(backend: Backend) -> None:
    knob = fleet_with(backend, UnsupportedDiskCategories={"ecs.t5-lc1m1.small": ["cloud_essd"]})
    clock = knob.clock
    assert isinstance(clock, ManualClock)
    _detached(knob, clock, "d-web-01-data", "i-web-01")
    error = error_of(knob, "AttachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-tiny-01"})
    assert (error.status, error.code, error.message) == (
        403,
        "InvalidInstanceType.NotSupportDiskCategory",
        "The instance type of the specified instance does not support this disk category.",
    )
