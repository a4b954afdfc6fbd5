"""The models read the API's objects as the API spells them, tolerate what real replies leave out, and stay
immutable values: equal, hashable, printable and picklable by their fields."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError

import pytest

from ecs_detach.models import Disk, Instance

DISK_RAW = {
    "DiskId": "d-bp1data0001",
    "DiskName": "logs",
    "Type": "data",
    "Category": "cloud_essd",
    "Size": "200",
    "Status": "In_use",
    "RegionId": "cn-hangzhou",
    "ZoneId": "cn-hangzhou-h",
    "InstanceId": "i-bp1web01",
    "Device": "/dev/xvdb",
    "Portable": "true",
    "MultiAttach": "Enabled",
    "DeleteWithInstance": True,
    "DiskChargeType": "PostPaid",
    "Attachments": {
        "Attachment": [
            {"InstanceId": "i-bp1web01", "Device": "/dev/xvdb", "AttachedTime": "2026-01-01T00:00:00Z"},
            {"InstanceId": "i-bp1web02", "Device": "/dev/xvdc", "AttachedTime": "2026-01-02T00:00:00Z"},
        ]
    },
    "OperationLocks": {"OperationLock": [{"LockReason": "financial"}]},
}


def test_a_disk_reads_every_field_from_the_wire_names() -> None:
    disk = Disk.from_api(DISK_RAW)
    assert (disk.disk_id, disk.name, disk.type, disk.category) == (
        "d-bp1data0001",
        "logs",
        "data",
        "cloud_essd",
    )
    assert (disk.size_gib, disk.status, disk.zone_id) == (200, "In_use", "cn-hangzhou-h")
    assert disk.portable is True and disk.delete_with_instance is True and disk.is_multi_attach
    assert disk.attached_instance_ids == ("i-bp1web01", "i-bp1web02")
    assert disk.device_on("i-bp1web02") == "/dev/xvdc"
    assert disk.lock_reasons == ("financial",) and disk.financially_locked
    assert disk.raw is DISK_RAW


def test_missing_or_malformed_fields_get_the_api_defaults() -> None:
    disk = Disk.from_api({"DiskId": "d-1", "Size": "big", "MultiAttach": "", "OperationLocks": []})
    assert (disk.type, disk.size_gib, disk.multi_attach, disk.charge_type) == (
        "data",
        0,
        "Disabled",
        "PostPaid",
    )
    assert disk.portable is True and disk.attachments == () and disk.lock_reasons == ()
    instance = Instance.from_api(
        {"InstanceId": "i-1", "OperationLocks": {"LockReason": [{"LockReason": "security"}]}}
    )
    assert instance.security_locked and instance.status == "" and instance.lock_messages == ("",)


def test_models_are_immutable_values() -> None:
    disk = Disk.from_api(DISK_RAW)
    with pytest.raises(FrozenInstanceError):
        disk.status = "Available"  # type: ignore[misc]
    twin = Disk.from_api(dict(DISK_RAW))
    assert twin == disk and hash(twin) == hash(disk) and len({disk, twin}) == 1
    assert disk != Disk.from_api({**DISK_RAW, "Status": "Available"})
    assert disk != Instance.from_api(DISK_RAW)
    assert repr(disk).startswith("Disk(disk_id='d-bp1data0001', name='logs', type='data'")
    assert pickle.loads(pickle.dumps(disk)) == disk and copy.deepcopy(disk) == disk


def _every_field(view: Disk | Instance) -> dict[str, object]:
    """Every public field and property of a view, and (for a disk) the device on each instance."""
    names = [name for name in dir(type(view)) if not name.startswith("_") and name not in {"raw", "packed"}]
    values = {name: getattr(view, name) for name in names if not callable(getattr(view, name))}
    if isinstance(view, Disk):
        values["device_on"] = [view.device_on(i) for i in ("i-bp1web01", "i-bp1web02", view.instance_id)]
    return values


def test_a_packed_view_keeps_every_field_and_the_whole_reply() -> None:
    from ecs_detach.client import EcsClient
    from ecs_detach.emulator import Emulator, ManualClock

    client = EcsClient.for_emulator(Emulator(fleet="demo", clock=ManualClock()))
    views: list[Disk | Instance] = [Disk.from_api(DISK_RAW)]
    views += [disk for page, _ in client.disk_pages(page_size=100) for disk in page]
    views += [instance for page, _ in client.instance_pages(page_size=100) for instance in page]
    assert len(views) > 20
    for view in views:
        packed = view.packed()
        assert _every_field(packed) == _every_field(view), view
        assert packed.raw == view.raw and packed.raw is not view.raw
        assert packed == view and hash(packed) == hash(view) and repr(packed) == repr(view)
        assert packed.same_reply(view) and view.same_reply(packed) and packed.packed() is packed
        assert pickle.loads(pickle.dumps(packed)) == view
        with pytest.raises(FrozenInstanceError):
            packed.status = "Available"  # type: ignore[misc]
    changed = Disk.from_api({**DISK_RAW, "Description": "moved"}).packed()
    assert changed == views[0] and not changed.same_reply(views[0].packed())
