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
        raw["InstanceId"] = "i-web"
        raw["Device"] = "/dev/xvdb"
        raw["Attachments"] = {"Attachment": [{"InstanceId": "i-web", "Device": "/dev/xvdb"}]}
    locks = fields.pop("locks", ())
    if locks:
        raw["OperationLocks"] = {"OperationLock": [{"LockReason": reason} for reason in locks]}
    raw.update(fields)
    return Disk.from_api(raw)
