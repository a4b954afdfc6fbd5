"""Models built from API-shaped dicts, for the pure tests."""

from __future__ import annotations

from typing import Any

from ecs_detach.models import Disk, Instance


def instance(status: str = "Running", **fields: Any) -> Instance:
    raw: dict[str, Any] = {
        "InstanceId": "i-web",
        "InstanceName": "web",
        "Status": status,
        "InstanceType": "ecs.g7.large",
        "RegionId": "cn-hangzhou",
        "ZoneId": "cn-hangzhou-h",
        "ImageId": "img-1",
    }
    locks = fields.pop("locks", ())
    if locks:
        raw["OperationLocks"] = {"LockReason": [{"LockReason": reason} for reason in locks]}
    raw.update(fields)
    return Instance.from_api(raw)


def disk(status: str = "In_use", type: str = "data", **fields: Any) -> Disk:
    """A disk as DescribeDisks answers; `fields` override any key (e.g. ``Device="/dev/vdb"``)."""
    raw: dict[str, Any] = {
        "DiskId": "d-data",
        "DiskName": "data",
        "Type": type,
        "Category": "cloud_essd",
        "Size": 40,
        "Status": status,
        "RegionId": "cn-hangzhou",
        "ZoneId": "cn-hangzhou-h",
        "Portable": True,
        "DiskChargeType": "PostPaid",
    }
    if status in ("In_use", "Detaching", "Attaching"):
        # As ECS names them: the system disk is /dev/xvda, data disks /dev/xvdb on. Nothing may depend on
        # it (the API's Type says which disk is the system disk), but a test should not look unreal.
        device = "/dev/xvda" if type == "system" else "/dev/xvdb"
        raw["InstanceId"] = "i-web"
        raw["Device"] = device
        raw["Attachments"] = {"Attachment": [{"InstanceId": "i-web", "Device": device}]}
    locks = fields.pop("locks", ())
    if locks:
        raw["OperationLocks"] = {"OperationLock": [{"LockReason": reason} for reason in locks]}
    raw.update(fields)
    return Disk.from_api(raw)
