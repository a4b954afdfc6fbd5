"""Typed, frozen views of the ECS API's objects, parsed from the wire.

Each model keeps the raw dict it was parsed from (``raw``), so whatever is not modelled here is still at hand.
``Instance`` and ``Disk`` are views: their fields are read from the reply on access (see ``_ApiView``); a
program that holds a whole region of them packs each (``packed()``: the reply as compact JSON bytes).
Field names follow Python style; the wire names are the API's (see DescribeDisks / DescribeInstances).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, ClassVar, NoReturn, Self

import orjson

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


class _ApiView:
    """An immutable, typed view of one API object: each field is read from the reply when it is asked for.

    Parsing every field of every object up front cost about 7 µs a disk, the largest share of the client's CPU
    per page of 100 (``benchmarks/client_cpu.py``); a view costs about 0.2 µs and reads a field in well under
    1 µs. Views compare, hash and print by their fields, like the frozen dataclasses they replaced. ``raw`` is
    not copied: it is the reply's own dict, to be read, never changed.

    A packed view (:meth:`packed`) holds only the keys its fields read, and the whole reply as compact JSON
    bytes that ``raw`` parses when asked for: a 10,000-instance region's replies take about a sixth of the
    memory of their dicts (an instance's dict and its nested ones ~18 KB, its JSON ~3 KB).
    """

    __slots__ = ("_data", "_packed")
    _fields: ClassVar[tuple[str, ...]] = ()
    _wire_keys: ClassVar[tuple[str, ...]] = ()
    """The reply's keys the fields read: what a packed view keeps parsed."""
    _shared_keys: ClassVar[frozenset[str]] = frozenset()
    """Keys whose values repeat across a fleet (status, zone, type): a packed view keeps one copy of each."""
    _data: Mapping[str, Any]
    _packed: bytes | None

    def __init__(self, raw: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", raw)
        object.__setattr__(self, "_packed", None)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Self:
        return cls(raw)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The API's own object (parsed again from the packed bytes, for a packed view)."""
        packed = self._packed
        return self._data if packed is None else orjson.loads(packed)

    def packed(self) -> Self:
        """The same object, equal to this one, holding the reply as compact JSON bytes (see the class)."""
        if self._packed is not None:
            return self
        raw = self._data
        try:
            # Copied to a bytes object of its own length: orjson's buffer holds at least 4 KiB.
            packed = bytes(memoryview(orjson.dumps(raw)))
        except TypeError:  # not a JSON reply (a test's own object): stays as it is
            return self
        shared = self._shared_keys
        data = {
            key: sys.intern(raw[key]) if key in shared and isinstance(raw[key], str) else raw[key]
            for key in self._wire_keys
            if key in raw
        }
        view = object.__new__(type(self))
        object.__setattr__(view, "_data", data)
        object.__setattr__(view, "_packed", packed)
        return view

    def same_reply(self, other: _ApiView) -> bool:
        """True when both views hold the same reply (compared as bytes when both are packed)."""
        if self._packed is not None and other._packed is not None:
            return self._packed == other._packed
        return self.raw == other.raw

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Self], tuple[Mapping[str, Any]]]:
        return (type(self), (self.raw,))

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _ApiView)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"


def _tags(raw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """``(key, value)`` pairs of ``{"Tags": {"Tag": [{"TagKey": ..., "TagValue": ...}]}}``, as spelled."""
    return tuple(
        (_str(tag, "TagKey"), _str(tag, "TagValue"))
        for tag in unwrap(raw.get("Tags"), "Tag")
        if isinstance(tag, Mapping) and tag.get("TagKey")
    )


def _lock_values(raw: Mapping[str, Any], inner: str, key: str) -> tuple[str, ...]:
    return tuple(
        _str(lock, key) for lock in unwrap(raw.get("OperationLocks"), inner) if isinstance(lock, Mapping)
    )


class Instance(_ApiView):
    """An ECS instance as DescribeInstances returns it."""

    __slots__ = ()
    _fields = (
        "instance_id",
        "name",
        "status",
        "instance_type",
        "region_id",
        "zone_id",
        "image_id",
        "os_type",
        "charge_type",
        "lock_reasons",
        "lock_messages",
        "tags",
    )
    _wire_keys = (
        "InstanceId",
        "InstanceName",
        "Status",
        "InstanceType",
        "RegionId",
        "ZoneId",
        "ImageId",
        "OSType",
        "InstanceChargeType",
        "OperationLocks",
        "Tags",
    )
    _shared_keys = frozenset(
        {"Status", "InstanceType", "RegionId", "ZoneId", "ImageId", "OSType", "InstanceChargeType"}
    )

    @property
    def instance_id(self) -> str:
        return _str(self._data, "InstanceId")

    @property
    def name(self) -> str:
        return _str(self._data, "InstanceName")

    @property
    def status(self) -> str:
        return _str(self._data, "Status")

    @property
    def instance_type(self) -> str:
        return _str(self._data, "InstanceType")

    @property
    def region_id(self) -> str:
        return _str(self._data, "RegionId")

    @property
    def zone_id(self) -> str:
        return _str(self._data, "ZoneId")

    @property
    def image_id(self) -> str:
        return _str(self._data, "ImageId")

    @property
    def os_type(self) -> str:
        return _str(self._data, "OSType")

    @property
    def charge_type(self) -> str:
        return _str(self._data, "InstanceChargeType")

    @property
    def lock_reasons(self) -> tuple[str, ...]:
        return _lock_values(self._data, "LockReason", "LockReason")

    @property
    def lock_messages(self) -> tuple[str, ...]:
        return _lock_values(self._data, "LockReason", "LockMsg")

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        """``(key, value)`` pairs, case kept: the API's ``Tag.N.Key`` / ``Tag.N.Value`` match exactly."""
        return _tags(self._data)

    @property
    def security_locked(self) -> bool:
        return any(reason.lower() == "security" for reason in self.lock_reasons)

    @property
    def transitional(self) -> bool:
        return self.status in INSTANCE_TRANSITIONAL


class Disk(_ApiView):
    """A block storage device as DescribeDisks returns it."""

    __slots__ = ()
    _fields = (
        "disk_id",
        "name",
        "type",
        "category",
        "size_gib",
        "status",
        "region_id",
        "zone_id",
        "instance_id",
        "device",
        "portable",
        "multi_attach",
        "delete_with_instance",
        "charge_type",
        "attachments",
        "lock_reasons",
        "image_id",
        "attached_time",
        "detached_time",
        "tags",
    )
    _wire_keys = (
        "DiskId",
        "DiskName",
        "Type",
        "Category",
        "Size",
        "Status",
        "RegionId",
        "ZoneId",
        "InstanceId",
        "Device",
        "Portable",
        "MultiAttach",
        "DeleteWithInstance",
        "DiskChargeType",
        "Attachments",
        "OperationLocks",
        "ImageId",
        "AttachedTime",
        "DetachedTime",
        "Tags",
    )
    _shared_keys = frozenset(
        {
            "Type",
            "Category",
            "Status",
            "RegionId",
            "ZoneId",
            "Device",
            "MultiAttach",
            "DiskChargeType",
            "ImageId",
        }
    )

    @property
    def disk_id(self) -> str:
        return _str(self._data, "DiskId")

    @property
    def name(self) -> str:
        return _str(self._data, "DiskName")

    @property
    def type(self) -> str:
        """``system`` or ``data``."""
        return _str(self._data, "Type", "data")

    @property
    def category(self) -> str:
        return _str(self._data, "Category")

    @property
    def size_gib(self) -> int:
        return _int(self._data, "Size")

    @property
    def status(self) -> str:
        return _str(self._data, "Status")

    @property
    def region_id(self) -> str:
        return _str(self._data, "RegionId")

    @property
    def zone_id(self) -> str:
        return _str(self._data, "ZoneId")

    @property
    def instance_id(self) -> str:
        return _str(self._data, "InstanceId")

    @property
    def device(self) -> str:
        return _str(self._data, "Device")

    @property
    def portable(self) -> bool:
        return _bool(self._data, "Portable", True)

    @property
    def multi_attach(self) -> str:
        return _str(self._data, "MultiAttach", "Disabled") or "Disabled"

    @property
    def delete_with_instance(self) -> bool:
        return _bool(self._data, "DeleteWithInstance")

    @property
    def charge_type(self) -> str:
        return _str(self._data, "DiskChargeType", "PostPaid")

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(Attachment.from_api(a) for a in self._attachment_replies())

    def _attachment_replies(self) -> list[Mapping[str, Any]]:
        return [a for a in unwrap(self._data.get("Attachments"), "Attachment") if isinstance(a, Mapping)]

    @property
    def lock_reasons(self) -> tuple[str, ...]:
        return _lock_values(self._data, "OperationLock", "LockReason")

    @property
    def image_id(self) -> str:
        return _str(self._data, "ImageId")

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        """``(key, value)`` pairs, case kept: the API's ``Tag.N.Key`` / ``Tag.N.Value`` match exactly."""
        return _tags(self._data)

    @property
    def attached_time(self) -> str:
        return _str(self._data, "AttachedTime")

    @property
    def detached_time(self) -> str:
        return _str(self._data, "DetachedTime")

    @property
    def is_system(self) -> bool:
        return self.type == "system"

    @property
    def is_multi_attach(self) -> bool:
        return self.multi_attach == "Enabled"

    @property
    def attached_instance_ids(self) -> tuple[str, ...]:
        """Every instance the disk is attached to (one for a plain disk, several for a multi-attach disk)."""
        # Read from the replies, not through Attachment objects: the browse screen asks this of every disk
        # on each full read (at 20,000 disks, building them was most of the read's time on its thread).
        ids = [found for found in (_str(a, "InstanceId") for a in self._attachment_replies()) if found]
        if self.instance_id and self.instance_id not in ids:
            ids.insert(0, self.instance_id)
        return tuple(ids)

    def device_on(self, instance_id: str) -> str:
        for attachment in self._attachment_replies():
            if _str(attachment, "InstanceId") == instance_id:
                return _str(attachment, "Device")
        return self.device if self.instance_id == instance_id else ""

    @property
    def transitional(self) -> bool:
        return self.status in DISK_TRANSITIONAL

    @property
    def financially_locked(self) -> bool:
        return any(reason.lower() == "financial" for reason in self.lock_reasons)


SNAPSHOT_PROGRESSING = "progressing"
SNAPSHOT_ACCOMPLISHED = "accomplished"
SNAPSHOT_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A disk snapshot as DescribeSnapshots returns it (``Progress`` "40%" parsed to 40)."""

    snapshot_id: str
    source_disk_id: str = ""
    status: str = ""
    progress: int = 0
    name: str = ""
    source_disk_type: str = ""
    creation_time: str = ""
    remain_seconds: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Snapshot:
        progress = _str(raw, "Progress").rstrip("%").strip()
        return cls(
            snapshot_id=_str(raw, "SnapshotId"),
            source_disk_id=_str(raw, "SourceDiskId"),
            status=_str(raw, "Status"),
            progress=int(progress) if progress.isdigit() else 0,
            name=_str(raw, "SnapshotName"),
            source_disk_type=_str(raw, "SourceDiskType"),
            creation_time=_str(raw, "CreationTime"),
            remain_seconds=_int(raw, "RemainTime"),
            raw=raw,
        )

    @property
    def accomplished(self) -> bool:
        return self.status == SNAPSHOT_ACCOMPLISHED


@dataclass(frozen=True, slots=True)
class SnapshotCreated:
    """CreateSnapshot's answer: the new snapshot's id and the request id."""

    snapshot_id: str
    request_id: str


# --- Cloud Assistant (the guest-aware checks) ---

INVOCATION_RUNNING_STATES = frozenset({"Pending", "Scheduled", "Running", "Stopping"})


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """One row of DescribeCloudAssistantStatus: is the Cloud Assistant Agent there, and online."""

    instance_id: str
    online: bool  # CloudAssistantStatus "true"
    version: str  # "" when the agent is not installed
    os_type: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def installed(self) -> bool:
        return bool(self.version)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> AgentStatus:
        return cls(
            instance_id=_str(raw, "InstanceId"),
            online=_bool(raw, "CloudAssistantStatus"),
            version=_str(raw, "CloudAssistantVersion"),
            os_type=_str(raw, "OSType"),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """One instance's result of a RunCommand (DescribeInvocationResults); `output` is decoded."""

    invoke_id: str
    instance_id: str
    status: str  # InvocationStatus: Pending, Running, Success, Failed, Aborted, Invalid, Error, Timeout ...
    output: str
    exit_code: int
    error_code: str
    error_info: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status not in INVOCATION_RUNNING_STATES

    @property
    def succeeded(self) -> bool:
        return self.status == "Success"

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> InvocationResult:
        import base64
        import binascii

        encoded = _str(raw, "Output")
        try:
            output = base64.b64decode(encoded, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            output = encoded
        return cls(
            invoke_id=_str(raw, "InvokeId"),
            instance_id=_str(raw, "InstanceId"),
            status=_str(raw, "InvocationStatus"),
            output=output,
            exit_code=_int(raw, "ExitCode"),
            error_code=_str(raw, "ErrorCode"),
            error_info=_str(raw, "ErrorInfo"),
            raw=raw,
        )
