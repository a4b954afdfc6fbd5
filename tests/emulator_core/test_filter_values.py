"""One table of values (``emulator/fleet.py``): what a fleet may hold is what the Describe filters accept,
so a fleet can hold every resource a filter can select, and a filter never refuses a value a fleet holds."""

from __future__ import annotations

from ecs_detach.emulator import backend as api
from ecs_detach.emulator import fleet
from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock


def test_every_disk_lock_the_filter_accepts_can_be_held_and_selected() -> None:
    disks = [
        {"DiskId": f"d-{reason}", "OperationLocks": [reason], "RegionId": "cn-hangzhou"}
        for reason in api.DISK_LOCK_REASONS
    ]
    backend = Backend({"Disks": [*disks, {"DiskId": "d-free", "RegionId": "cn-hangzhou"}]}, ManualClock())
    for reason in api.DISK_LOCK_REASONS:
        body = backend.handle("DescribeDisks", {"RegionId": "cn-hangzhou", "LockReason": reason})
        assert [d["DiskId"] for d in body["Disks"]["Disk"]] == [f"d-{reason}"]


def test_the_filters_accept_exactly_the_fleet_values_and_their_all() -> None:
    assert set(api.DISK_STATUSES) == {*fleet.DISK_STATUSES, "All"}
    assert set(api.DISK_CATEGORIES) == {*fleet.DISK_CATEGORIES, "all"}
    assert set(api.DISK_TYPES) == {*fleet.DISK_TYPES, "all"}
    assert api.INSTANCE_STATUSES == fleet.INSTANCE_STATUSES
    assert api.INSTANCE_LOCK_REASONS == fleet.INSTANCE_LOCK_REASONS
