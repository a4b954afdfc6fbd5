"""Typed, frozen views of the ECS API's objects, parsed from the wire.

Each model keeps the raw dict it was parsed from (``raw``), so whatever is not modelled here is still at hand.
Field names follow Python style; the wire names are the API's (see DescribeDisks / DescribeInstances).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Status enums, as the API spells them.
DISK_IN_USE = "In_use"
DISK_AVAILABLE = "Available"
DISK_ATTACHING = "Attaching"
DISK_DETACHING = "Detaching"
DISK_TRANSITIONAL = frozenset({DISK_ATTACHING, DISK_DETACHING, "Creating", "ReIniting"})

INSTANCE_RUNNING = "Running"
INSTANCE_STOPPED = "Stopped"
INSTANCE_STARTING = "Starting"
INSTANCE_STOPPING = "Stopping"
INSTANCE_PENDING = "Pending"
INSTANCE_TRANSITIONAL = frozenset({INSTANCE_STARTING, INSTANCE_STOPPING, INSTANCE_PENDING})


def unwrap(container: Any, key: str) -> list[Any]:
    """Return the list the API wraps as ``{"Disks": {"Disk": [...]}}``; tolerate a bare list or nothing."""
    if isinstance(container, Mapping):
        inner = container.get(key)
        if isinstance(inner, list):
            return inner
        return []
    if isinstance(container, list):
        return container
    return []


def _str(raw: Mapping[str, Any], key: str, default: str = "") -> str:
    value = raw.get(key)
    return default if value is None else str(value)


def _int(raw: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = raw.get(key)
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def _bool(raw: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = raw.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return default


@dataclass(frozen=True, slots=True)
class Region:
    region_id: str
    local_name: str = ""
    endpoint: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Region:
        return cls(
            region_id=_str(raw, "RegionId"),
            local_name=_str(raw, "LocalName"),
            endpoint=_str(raw, "RegionEndpoint"),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    instance_id: str
    device: str = ""
    attached_time: str = ""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Attachment:
        return cls(
            instance_id=_str(raw, "InstanceId"),
            device=_str(raw, "Device"),
            attached_time=_str(raw, "AttachedTime"),
        )


@dataclass(frozen=True, slots=True)
class Instance:
    instance_id: str
    name: str
    status: str
    instance_type: str
    region_id: str
    zone_id: str
    image_id: str = ""
    os_type: str = ""
    charge_type: str = ""
    lock_reasons: tuple[str, ...] = ()
    lock_messages: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Instance:
        locks = unwrap(raw.get("OperationLocks"), "LockReason")
        return cls(
            instance_id=_str(raw, "InstanceId"),
            name=_str(raw, "InstanceName"),
            status=_str(raw, "Status"),
            instance_type=_str(raw, "InstanceType"),
            region_id=_str(raw, "RegionId"),
            zone_id=_str(raw, "ZoneId"),
            image_id=_str(raw, "ImageId"),
            os_type=_str(raw, "OSType"),
            charge_type=_str(raw, "InstanceChargeType"),
            lock_reasons=tuple(_str(lock, "LockReason") for lock in locks if isinstance(lock, Mapping)),
            lock_messages=tuple(_str(lock, "LockMsg") for lock in locks if isinstance(lock, Mapping)),
            raw=raw,
        )

    @property
    def security_locked(self) -> bool:
        return any(reason.lower() == "security" for reason in self.lock_reasons)

    @property
    def transitional(self) -> bool:
        return self.status in INSTANCE_TRANSITIONAL


@dataclass(frozen=True, slots=True)
class Disk:
    disk_id: str
    name: str
    type: str  # "system" | "data"
    category: str
    size_gib: int
    status: str
    region_id: str
    zone_id: str
    instance_id: str = ""
    device: str = ""
    portable: bool = True
    multi_attach: str = "Disabled"
    delete_with_instance: bool = False
    charge_type: str = "PostPaid"
    attachments: tuple[Attachment, ...] = ()
    lock_reasons: tuple[str, ...] = ()
    image_id: str = ""
    attached_time: str = ""
    detached_time: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Disk:
        locks = unwrap(raw.get("OperationLocks"), "OperationLock")
        return cls(
            disk_id=_str(raw, "DiskId"),
            name=_str(raw, "DiskName"),
            type=_str(raw, "Type", "data"),
            category=_str(raw, "Category"),
            size_gib=_int(raw, "Size"),
            status=_str(raw, "Status"),
            region_id=_str(raw, "RegionId"),
            zone_id=_str(raw, "ZoneId"),
            instance_id=_str(raw, "InstanceId"),
            device=_str(raw, "Device"),
            portable=_bool(raw, "Portable", True),
            multi_attach=_str(raw, "MultiAttach", "Disabled") or "Disabled",
            delete_with_instance=_bool(raw, "DeleteWithInstance"),
            charge_type=_str(raw, "DiskChargeType", "PostPaid"),
            attachments=tuple(
                Attachment.from_api(a)
                for a in unwrap(raw.get("Attachments"), "Attachment")
                if isinstance(a, Mapping)
            ),
            lock_reasons=tuple(_str(lock, "LockReason") for lock in locks if isinstance(lock, Mapping)),
            image_id=_str(raw, "ImageId"),
            attached_time=_str(raw, "AttachedTime"),
            detached_time=_str(raw, "DetachedTime"),
            raw=raw,
        )

    @property
    def is_system(self) -> bool:
        return self.type == "system"

    @property
    def is_multi_attach(self) -> bool:
        return self.multi_attach == "Enabled"

    @property
    def attached_instance_ids(self) -> tuple[str, ...]:
        """Every instance the disk is attached to (one for a plain disk, several for a multi-attach disk)."""
        ids = [a.instance_id for a in self.attachments if a.instance_id]
        if self.instance_id and self.instance_id not in ids:
            ids.insert(0, self.instance_id)
        return tuple(ids)

    def device_on(self, instance_id: str) -> str:
        for attachment in self.attachments:
            if attachment.instance_id == instance_id:
                return attachment.device
        return self.device if self.instance_id == instance_id else ""

    @property
    def transitional(self) -> bool:
        return self.status in DISK_TRANSITIONAL

    @property
    def financially_locked(self) -> bool:
        return any(reason.lower() == "financial" for reason in self.lock_reasons)
