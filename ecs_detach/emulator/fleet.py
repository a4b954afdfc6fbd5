"""Fleet files: the emulator's state as JSON, in the API's own object shapes.

A fleet file is ``{"Regions": [...], "Instances": [...], "Disks": [...], "Emulator": {...}}``. Regions,
Instances and Disks use the field names of DescribeRegions / DescribeInstances / DescribeDisks, so a capture
of a real account replays as-is; a hand-written fleet may give only a few fields (``DiskId``,
``InstanceId``, ``Type``, ``Status`` ...) and :func:`load_fleet` fills the rest with sensible defaults.
``Emulator`` holds what the API does not expose: durations, behaviour knobs, extra access keys, and (in
snapshots) the system disks' original instances and the transitions still under way.

Every problem is reported as a :class:`FleetError` that says what is wrong and where, for example
``Disks[3] (d-web-01-data): InstanceId 'i-nope' is not an instance of the fleet``.

The ``Emulator`` section (every key optional; the values shown are the defaults)::

    "Emulator": {
      "DefaultRegion": "cn-hangzhou",
      "Durations": {"DetachDisk": 60, "AttachDisk": 20, "StopInstance": 10, "StartInstance": 15,
                    "RunCommand": 2},
      "NoHotDetachInstanceTypes": [],          # DetachDisk row 17 (and AttachDisk) on a Running instance
      "NoSystemDiskDetachInstanceTypes": [],   # row 13
      "DeletedImageIds": [],                   # row 15
      "WhitelistRequiredDiskIds": [],          # row 11
      "MaxDetachingDisksPerInstance": 8,       # row 18
      "NoEphemeralDiskDetachInstanceTypes": [],  # row 19: cannot detach an elastic ephemeral disk
      "BaseImageMissingDiskIds": [],           # row 21: disks whose base image no longer exists
      "RateLimits": {"DetachDisk": {"Count": 500, "PerSeconds": 60}},   # null removes a limit
      "AccessKeys": [{"AccessKeyId": "...", "AccessKeySecret": "...", "ReadOnly": false}],
      "SystemDiskOrigins": {"d-...": "i-..."},  # a detached system disk re-attaches only there
      "PendingTransitions": [{"Action": "DetachDisk", "DiskId": "d-...", "InstanceId": "i-...",
                              "RemainingSeconds": 12.5}],
      "Guests": {"i-...": {"OSType": "linux", "Agent": "running", "Mounts": [...]}}  # guests.py
    }

A disk or instance given in a transitional status without a ``PendingTransitions`` entry finishes one full
duration after loading. Keys starting with ``_`` are ignored (comments).
"""

from __future__ import annotations

import gc
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .fields import disk_fields, instance_fields
from .guests import GuestError, normalize_guests

EMULATOR_ACCESS_KEY_ID = "LTAI5tEmulatorDemoKey"
EMULATOR_ACCESS_KEY_SECRET = "emulator-demo-secret"
DEFAULT_REGION = "cn-hangzhou"

DISK_STATUSES = ("In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting")
ATTACHED_DISK_STATUSES = frozenset({"In_use", "Attaching", "Detaching"})
INSTANCE_STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
INSTANCE_LOCK_REASONS = ("financial", "security", "recycling", "dedicatedhostfinancial", "refunded")
DISK_LOCK_REASONS = ("financial", "security", "recycling", "dedicatedhostfinancial")
DISK_TYPES = ("system", "data")
DISK_CATEGORIES = (
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "cloud_essd",
    "cloud_auto",
    "cloud_essd_entry",
    "cloud_regional_disk_auto",
    "elastic_ephemeral_disk_standard",
    "elastic_ephemeral_disk_premium",
    "local_ssd_pro",
    "local_hdd_pro",
    "ephemeral",
    "ephemeral_ssd",
)
LOCAL_DISK_CATEGORIES = frozenset({"local_ssd_pro", "local_hdd_pro", "ephemeral", "ephemeral_ssd"})
CHARGE_TYPES = ("PrePaid", "PostPaid")
MULTI_ATTACH_VALUES = ("Disabled", "Enabled")
TRANSITION_ACTIONS = ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance")

# RegionId -> (LocalName in Chinese, English name): defaults, and DescribeRegions with AcceptLanguage=en-US.
KNOWN_REGIONS: dict[str, tuple[str, str]] = {
    "cn-hangzhou": ("华东1（杭州）", "China (Hangzhou)"),
    "cn-shanghai": ("华东2（上海）", "China (Shanghai)"),
    "cn-qingdao": ("华北1（青岛）", "China (Qingdao)"),
    "cn-beijing": ("华北2（北京）", "China (Beijing)"),
    "cn-zhangjiakou": ("华北3（张家口）", "China (Zhangjiakou)"),
    "cn-huhehaote": ("华北5（呼和浩特）", "China (Hohhot)"),
    "cn-wulanchabu": ("华北6（乌兰察布）", "China (Ulanqab)"),
    "cn-shenzhen": ("华南1（深圳）", "China (Shenzhen)"),
    "cn-heyuan": ("华南2（河源）", "China (Heyuan)"),
    "cn-guangzhou": ("华南3（广州）", "China (Guangzhou)"),
    "cn-chengdu": ("西南1（成都）", "China (Chengdu)"),
    "cn-hongkong": ("中国香港", "China (Hong Kong)"),
    "ap-northeast-1": ("日本（东京）", "Japan (Tokyo)"),
    "ap-northeast-2": ("韩国（首尔）", "South Korea (Seoul)"),
    "ap-southeast-1": ("新加坡", "Singapore"),
    "ap-southeast-3": ("马来西亚（吉隆坡）", "Malaysia (Kuala Lumpur)"),
    "ap-southeast-5": ("印度尼西亚（雅加达）", "Indonesia (Jakarta)"),
    "ap-southeast-6": ("菲律宾（马尼拉）", "Philippines (Manila)"),
    "ap-southeast-7": ("泰国（曼谷）", "Thailand (Bangkok)"),
    "us-east-1": ("美国（弗吉尼亚）", "US (Virginia)"),
    "us-west-1": ("美国（硅谷）", "US (Silicon Valley)"),
    "eu-central-1": ("德国（法兰克福）", "Germany (Frankfurt)"),
    "eu-west-1": ("英国（伦敦）", "UK (London)"),
    "me-east-1": ("阿联酋（迪拜）", "UAE (Dubai)"),
}

DEFAULT_DURATIONS: dict[str, float] = {
    "DetachDisk": 60.0,
    "AttachDisk": 20.0,
    "StopInstance": 10.0,
    "StartInstance": 15.0,
    "CreateSnapshot": 40.0,
    "RunCommand": 2.0,  # a Cloud Assistant invocation: Running, then its result
}
DEFAULT_RATE_LIMITS: dict[str, tuple[int, float]] = {"DetachDisk": (500, 60.0)}
DEFAULT_MAX_DETACHING_PER_INSTANCE = 8
DEFAULT_TIME = "2026-01-01T00:00:00Z"
DEFAULT_IMAGE_ID = "aliyun_3_x64_20G_alibase_20250629.vhd"
DEFAULT_INSTANCE_TYPE = "ecs.g7.large"

_REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z0-9]+)+$")
_DEVICE_LETTERS = "bcdefghijklmnopqrstuvwxyz"

_TOP_LEVEL_KEYS = ("Regions", "Instances", "Disks", "Emulator")
_EMULATOR_KEYS = (
    "DefaultRegion",
    "Durations",
    "NoHotDetachInstanceTypes",
    "NoSystemDiskDetachInstanceTypes",
    "DeletedImageIds",
    "WhitelistRequiredDiskIds",
    "MaxDetachingDisksPerInstance",
    "NoEphemeralDiskDetachInstanceTypes",
    "BaseImageMissingDiskIds",
    "RateLimits",
    "AccessKeys",
    "SystemDiskOrigins",
    "PendingTransitions",
    "FailedSnapshotDiskIds",
    "UnsupportedDiskCategories",
    "Snapshots",
    "Guests",
)


class FleetError(ValueError):
    """A fleet file that cannot be loaded; the message says what is wrong and where."""


# --------------------------------------------------------------------------------------------------
# Settings (the ``Emulator`` section)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessKey:
    secret: str
    read_only: bool = False

    def __repr__(self) -> str:  # never show a secret
        return f"AccessKey(secret='***', read_only={self.read_only!r})"


def _default_keys() -> dict[str, AccessKey]:
    return {EMULATOR_ACCESS_KEY_ID: AccessKey(EMULATOR_ACCESS_KEY_SECRET)}


@dataclass(frozen=True)
class EmulatorSettings:
    """The knobs of a fleet's ``Emulator`` section, with their defaults."""

    default_region: str = DEFAULT_REGION
    durations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))
    no_hot_detach_instance_types: frozenset[str] = frozenset()
    no_system_disk_detach_instance_types: frozenset[str] = frozenset()
    deleted_image_ids: frozenset[str] = frozenset()
    whitelist_required_disk_ids: frozenset[str] = frozenset()
    max_detaching_per_instance: int = DEFAULT_MAX_DETACHING_PER_INSTANCE
    no_ephemeral_detach_instance_types: frozenset[str] = frozenset()
    base_image_missing_disk_ids: frozenset[str] = frozenset()
    failed_snapshot_disk_ids: frozenset[str] = frozenset()
    unsupported_disk_categories: dict[str, frozenset[str]] = field(default_factory=dict)
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    access_keys: dict[str, AccessKey] = field(default_factory=_default_keys)

    def __hash__(self) -> int:
        return id(self)

    @property
    def detach_seconds(self) -> float:
        return self.durations["DetachDisk"]

    @property
    def attach_seconds(self) -> float:
        return self.durations["AttachDisk"]

    @property
    def stop_seconds(self) -> float:
        return self.durations["StopInstance"]

    @property
    def start_seconds(self) -> float:
        return self.durations["StartInstance"]

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> EmulatorSettings:
        """Parse (and validate) a fleet's ``Emulator`` section; missing keys take their defaults."""
        if section is None:
            return cls()
        where = "Emulator"
        if not isinstance(section, Mapping):
            raise FleetError(f"{where}: expected an object, got {_kind(section)}")
        unknown = [key for key in section if key not in _EMULATOR_KEYS and not str(key).startswith("_")]
        if unknown:
            raise FleetError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(_EMULATOR_KEYS)}")

        default_region = section.get("DefaultRegion", DEFAULT_REGION)
        if not isinstance(default_region, str) or not _REGION_RE.match(default_region):
            raise FleetError(
                f"{where}.DefaultRegion: {default_region!r} is not a region id (like 'cn-hangzhou')"
            )

        durations = dict(DEFAULT_DURATIONS)
        raw_durations = section.get("Durations", {})
        if not isinstance(raw_durations, Mapping):
            raise FleetError(f'{where}.Durations: expected an object like {{"DetachDisk": 60}}')
        for action, seconds in raw_durations.items():
            if action not in DEFAULT_DURATIONS:
                raise FleetError(
                    f"{where}.Durations: unknown action {action!r}; known: {', '.join(DEFAULT_DURATIONS)}"
                )
            durations[action] = _non_negative(seconds, f"{where}.Durations.{action}")

        max_detaching = section.get("MaxDetachingDisksPerInstance", DEFAULT_MAX_DETACHING_PER_INSTANCE)
        if isinstance(max_detaching, bool) or not isinstance(max_detaching, int) or max_detaching < 1:
            raise FleetError(
                f"{where}.MaxDetachingDisksPerInstance: expected a positive integer, got {max_detaching!r}"
            )

        rate_limits = dict(DEFAULT_RATE_LIMITS)
        raw_limits = section.get("RateLimits", {})
        if not isinstance(raw_limits, Mapping):
            raise FleetError(
                f'{where}.RateLimits: expected an object like {{"DetachDisk": {{"Count": 500, '
                f'"PerSeconds": 60}}}}'
            )
        for action, limit in raw_limits.items():
            place = f"{where}.RateLimits.{action}"
            if limit is None:
                rate_limits.pop(str(action), None)
                continue
            if isinstance(limit, Mapping):
                count, per = limit.get("Count"), limit.get("PerSeconds", 60)
            elif isinstance(limit, list | tuple) and len(limit) == 2:
                count, per = limit
            else:
                raise FleetError(f'{place}: expected {{"Count": N, "PerSeconds": S}} (or null for no limit)')
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise FleetError(f"{place}.Count: expected a positive integer, got {count!r}")
            per_seconds = _non_negative(per, f"{place}.PerSeconds")
            if per_seconds <= 0:
                raise FleetError(f"{place}.PerSeconds: expected a positive number of seconds")
            rate_limits[str(action)] = (count, per_seconds)

        keys = _default_keys()
        raw_keys = section.get("AccessKeys", [])
        if not isinstance(raw_keys, list):
            raise FleetError(
                f'{where}.AccessKeys: expected a list of {{"AccessKeyId", "AccessKeySecret", "ReadOnly"}}'
            )
        for index, item in enumerate(raw_keys):
            place = f"{where}.AccessKeys[{index}]"
            if not isinstance(item, Mapping):
                raise FleetError(f"{place}: expected an object, got {_kind(item)}")
            key_id, secret = item.get("AccessKeyId"), item.get("AccessKeySecret")
            if not isinstance(key_id, str) or not key_id:
                raise FleetError(f"{place}.AccessKeyId: expected a non-empty string")
            if not isinstance(secret, str) or not secret:
                raise FleetError(f"{place}.AccessKeySecret: expected a non-empty string")
            read_only = _as_bool(item.get("ReadOnly", False), f"{place}.ReadOnly")
            if key_id == EMULATOR_ACCESS_KEY_ID and secret != EMULATOR_ACCESS_KEY_SECRET:
                raise FleetError(
                    f"{place}: {EMULATOR_ACCESS_KEY_ID} is the demo key; its secret cannot change"
                )
            keys[key_id] = AccessKey(secret, read_only)

        return cls(
            default_region=default_region,
            durations=durations,
            no_hot_detach_instance_types=_str_set(section, "NoHotDetachInstanceTypes", where),
            no_system_disk_detach_instance_types=_str_set(section, "NoSystemDiskDetachInstanceTypes", where),
            deleted_image_ids=_str_set(section, "DeletedImageIds", where),
            whitelist_required_disk_ids=_str_set(section, "WhitelistRequiredDiskIds", where),
            max_detaching_per_instance=max_detaching,
            no_ephemeral_detach_instance_types=_str_set(section, "NoEphemeralDiskDetachInstanceTypes", where),
            base_image_missing_disk_ids=_str_set(section, "BaseImageMissingDiskIds", where),
            failed_snapshot_disk_ids=_str_set(section, "FailedSnapshotDiskIds", where),
            unsupported_disk_categories=_categories_by_type(section, where),
            rate_limits=rate_limits,
            access_keys=keys,
        )

    def to_section(self) -> dict[str, Any]:
        """The ``Emulator`` section that gives back these settings (the demo key is implied, so left out)."""
        return {
            "DefaultRegion": self.default_region,
            "Durations": dict(self.durations),
            "NoHotDetachInstanceTypes": sorted(self.no_hot_detach_instance_types),
            "NoSystemDiskDetachInstanceTypes": sorted(self.no_system_disk_detach_instance_types),
            "DeletedImageIds": sorted(self.deleted_image_ids),
            "WhitelistRequiredDiskIds": sorted(self.whitelist_required_disk_ids),
            "MaxDetachingDisksPerInstance": self.max_detaching_per_instance,
            "NoEphemeralDiskDetachInstanceTypes": sorted(self.no_ephemeral_detach_instance_types),
            "BaseImageMissingDiskIds": sorted(self.base_image_missing_disk_ids),
            "FailedSnapshotDiskIds": sorted(self.failed_snapshot_disk_ids),
            "UnsupportedDiskCategories": {
                instance_type: sorted(categories)
                for instance_type, categories in self.unsupported_disk_categories.items()
            },
            "RateLimits": {
                action: {"Count": count, "PerSeconds": per}
                for action, (count, per) in self.rate_limits.items()
            }
            | {action: None for action in DEFAULT_RATE_LIMITS if action not in self.rate_limits},
            "AccessKeys": [
                {"AccessKeyId": key_id, "AccessKeySecret": key.secret, "ReadOnly": key.read_only}
                for key_id, key in self.access_keys.items()
                if key_id != EMULATOR_ACCESS_KEY_ID
            ],
        }


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def demo_fleet_text() -> str:
    return (
        resources.files("ecs_detach.emulator").joinpath("data", "demo_fleet.json").read_text(encoding="utf-8")
    )


def load_fleet(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Load a fleet (``"demo"``, a path, or an already-parsed mapping), fill defaults, and validate it.

    Returns a new dict, a complete fleet file: loading its own output gives it back unchanged.
    """
    if isinstance(source, Mapping):
        raw: Any = source
    elif isinstance(source, str) and source == "demo":
        raw = json.loads(demo_fleet_text())
    elif isinstance(source, str | Path):
        path = Path(source)
        try:
            text = _read_fleet_file(path)
        except FleetError:
            raise
        except FileNotFoundError:
            raise FleetError(f"{path}: no such fleet file (give a JSON fleet file, or 'demo')") from None
        except OSError as exc:
            raise FleetError(f"{path}: cannot read the fleet file: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise FleetError(f"{path}: the fleet file is not UTF-8 text") from None
        except ValueError:  # a NUL character: no file can have that name
            raise FleetError(f"{str(source)!r} is not a fleet file path (it holds a NUL character)") from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FleetError(
                f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
    else:
        raise FleetError(f"a fleet is 'demo', a path or a mapping, not {_kind(source)}")
    if isinstance(source, Mapping) or source == "demo":
        return normalize_fleet(raw)
    try:
        return normalize_fleet(raw)
    except (FleetError, RecursionError) as exc:  # a file's values are not repeated: it may not be a fleet
        raise FleetError(f"{source}: {_without_values(exc)}") from None


MAX_FLEET_FILE_BYTES = 512 * 1024 * 1024
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _read_fleet_file(path: Path) -> str:
    """A fleet file's text: a regular file of at most ``MAX_FLEET_FILE_BYTES`` (never a device or a FIFO)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise FleetError(f"{path}: not a regular file (give a JSON fleet file, or 'demo')")
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(MAX_FLEET_FILE_BYTES + 1)
    if len(data) > MAX_FLEET_FILE_BYTES:
        raise FleetError(f"{path}: larger than {MAX_FLEET_FILE_BYTES // 2**20} MiB; not a fleet file")
    return data.decode("utf-8")


def _without_values(exc: Exception) -> str:
    """A validation message with the values it quotes from the file replaced by ``…``."""
    if isinstance(exc, RecursionError):
        return "nested too deeply to be a fleet file"
    return _QUOTED.sub("…", str(exc))


def normalize_fleet(raw: Any) -> dict[str, Any]:
    with paused_gc():
        return _normalize_fleet(raw)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Build or copy many small dicts without the cyclic collector rescanning them all the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _normalize_fleet(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise FleetError(
            f"a fleet file is a JSON object with Regions, Instances, Disks, Emulator; got {_kind(raw)}"
        )
    unknown = [key for key in raw if key not in _TOP_LEVEL_KEYS and not str(key).startswith("_")]
    if unknown:
        raise FleetError(
            f"unknown top-level key {unknown[0]!r}; a fleet file has {', '.join(_TOP_LEVEL_KEYS)}"
        )

    emulator_section = raw.get("Emulator")
    settings = EmulatorSettings.from_section(emulator_section)
    default_region = settings.default_region

    raw_instances = _list(raw, "Instances")
    raw_disks = _list(raw, "Disks")

    instances: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(raw_instances):
        instance = _normalize_instance(item, f"Instances[{index}]", default_region)
        if instance["InstanceId"] in instances:
            raise FleetError(f"Instances[{index}]: InstanceId {instance['InstanceId']!r} appears twice")
        instances[instance["InstanceId"]] = instance

    regions = _normalize_regions(raw.get("Regions"), instances, raw_disks, default_region)
    for index, instance in enumerate(instances.values()):
        if instance["RegionId"] not in regions:
            raise FleetError(
                f"Instances[{index}] ({instance['InstanceId']}): RegionId {instance['RegionId']!r} "
                f"is not one of the fleet's Regions ({', '.join(regions)})"
            )

    disks: dict[str, dict[str, Any]] = {}
    devices: dict[str, set[str]] = {}
    system_disk_of: dict[str, str] = {}
    for index, item in enumerate(raw_disks):
        where = f"Disks[{index}]"
        disk = _normalize_disk(item, where, instances, regions, default_region, devices)
        disk_id = disk["DiskId"]
        if disk_id in disks:
            raise FleetError(f"{where}: DiskId {disk_id!r} appears twice")
        if disk_id in instances:
            raise FleetError(f"{where}: DiskId {disk_id!r} is also an InstanceId; ids must be unique")
        if disk["Type"] == "system":
            for attachment in disk["Attachments"]["Attachment"]:
                owner = attachment["InstanceId"]
                if owner in system_disk_of:
                    raise FleetError(
                        f"{where} ({disk_id}): instance {owner} already has "
                        f"system disk {system_disk_of[owner]}"
                    )
                system_disk_of[owner] = disk_id
        disks[disk_id] = disk

    fleet: dict[str, Any] = {
        "Regions": list(regions.values()),
        "Instances": list(instances.values()),
        "Disks": list(disks.values()),
        "Emulator": settings.to_section(),
    }
    section = emulator_section if isinstance(emulator_section, Mapping) else {}
    origins = _normalize_origins(section.get("SystemDiskOrigins"), instances, disks)
    if origins:
        fleet["Emulator"]["SystemDiskOrigins"] = origins
    pending = _normalize_pending(section.get("PendingTransitions"), instances, disks)
    if pending:
        fleet["Emulator"]["PendingTransitions"] = pending
    snapshots = section.get("Snapshots")
    if snapshots is not None:
        if not isinstance(snapshots, list):
            raise FleetError("Emulator.Snapshots: expected a list of snapshot objects")
        fleet["Emulator"]["Snapshots"] = clone(snapshots)  # validated by the snapshot store on install
    try:
        guests = normalize_guests(section.get("Guests"), instances, disks)
    except GuestError as exc:
        raise FleetError(str(exc)) from None
    if guests:
        fleet["Emulator"]["Guests"] = guests
    return fleet


def settings_of(fleet: Mapping[str, Any]) -> EmulatorSettings:
    """The settings of a fleet that :func:`load_fleet` returned."""
    return EmulatorSettings.from_section(fleet.get("Emulator"))


# --------------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------------


def region_object(region_id: str, local_name: str | None = None) -> dict[str, Any]:
    names = KNOWN_REGIONS.get(region_id)
    return {
        "RegionId": region_id,
        "LocalName": local_name if local_name is not None else (names[0] if names else region_id),
        "RegionEndpoint": f"ecs.{region_id}.aliyuncs.com",
        "Status": "available",
    }


def _normalize_regions(
    raw: Any, instances: Mapping[str, Mapping[str, Any]], raw_disks: list[Any], default_region: str
) -> dict[str, dict[str, Any]]:
    regions: dict[str, dict[str, Any]] = {}
    if raw is None:
        seen = [default_region]
        seen += [instance["RegionId"] for instance in instances.values()]
        seen += [
            d["RegionId"] for d in raw_disks if isinstance(d, Mapping) and isinstance(d.get("RegionId"), str)
        ]
        for region_id in seen:
            if region_id not in regions:
                regions[region_id] = region_object(region_id)
        return regions
    if not isinstance(raw, list):
        raise FleetError(f"Regions: expected a list of region objects (or omit it), got {_kind(raw)}")
    for index, item in enumerate(raw):
        where = f"Regions[{index}]"
        if isinstance(item, str):
            item = {"RegionId": item}
        if not isinstance(item, Mapping):
            raise FleetError(f'{where}: expected a region object like {{"RegionId": "cn-hangzhou"}}')
        raw_id = item.get("RegionId")
        if not isinstance(raw_id, str) or not _REGION_RE.match(raw_id):
            raise FleetError(f"{where}.RegionId: {raw_id!r} is not a region id (like 'cn-hangzhou')")
        region_id = raw_id
        if region_id in regions:
            raise FleetError(f"{where}: RegionId {region_id!r} appears twice")
        local_name = item.get("LocalName")
        region = region_object(region_id, local_name if isinstance(local_name, str) else None)
        status = item.get("Status", "available")
        if status not in ("available", "soldOut"):
            raise FleetError(f"{where}.Status: expected 'available' or 'soldOut', got {status!r}")
        region.update({k: clone(v) for k, v in item.items() if k not in region})
        region["Status"] = status
        if isinstance(item.get("RegionEndpoint"), str) and item["RegionEndpoint"]:
            region["RegionEndpoint"] = item["RegionEndpoint"]
        regions[region_id] = region
    if not regions:
        raise FleetError("Regions: the list is empty; give at least one region (or omit Regions)")
    return regions


# --------------------------------------------------------------------------------------------------
# Instances
# --------------------------------------------------------------------------------------------------


def _region_of_zone(zone_id: str) -> str:
    """``cn-hangzhou-h`` -> ``cn-hangzhou``; ``ap-southeast-1a`` -> ``ap-southeast-1``."""
    if re.match(r"^.+-[0-9]+[a-z]$", zone_id):
        return zone_id[:-1]
    return zone_id.rsplit("-", 1)[0] if "-" in zone_id else zone_id


def default_zone(region_id: str) -> str:
    return f"{region_id}-a" if not region_id[-1].isdigit() else f"{region_id}a"


def _ip(seed: str, prefix: str) -> str:
    value = zlib.crc32(seed.encode("utf-8"))
    return f"{prefix}.{(value >> 8) % 250 + 1}.{value % 250 + 2}"


def _normalize_instance(item: Any, where: str, default_region: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise FleetError(f"{where}: expected an instance object, got {_kind(item)}")
    instance_id = item.get("InstanceId")
    if not isinstance(instance_id, str) or not instance_id.strip():
        raise FleetError(f"{where}.InstanceId: every instance needs a non-empty InstanceId")
    where = f"{where} ({instance_id})"
    for key in ("InstanceName", "Status", "InstanceType", "RegionId", "ZoneId", "ImageId", "OSType"):
        if key in item and not isinstance(item[key], str):
            raise FleetError(f"{where}.{key}: expected a string, got {_kind(item[key])}")

    zone_id = item.get("ZoneId")
    region_id = item.get("RegionId") or (_region_of_zone(zone_id) if zone_id else default_region)
    if not _REGION_RE.match(region_id):
        raise FleetError(f"{where}.RegionId: {region_id!r} is not a region id (like 'cn-hangzhou')")
    zone_id = zone_id or default_zone(region_id)
    if not zone_id.startswith(region_id):
        raise FleetError(f"{where}.ZoneId: zone {zone_id!r} is not in region {region_id!r}")

    status = item.get("Status", "Running")
    if status not in INSTANCE_STATUSES:
        raise FleetError(
            f"{where}.Status: {status!r} is not an instance status ({', '.join(INSTANCE_STATUSES)})"
        )
    instance_type = item.get("InstanceType", DEFAULT_INSTANCE_TYPE)
    name = item.get("InstanceName", instance_id)
    os_type = item.get("OSType", "linux")
    charge = item.get("InstanceChargeType", "PostPaid")
    if charge not in CHARGE_TYPES:
        raise FleetError(f"{where}.InstanceChargeType: expected PrePaid or PostPaid, got {charge!r}")
    cpu = _int_field(item, "Cpu", 2, where)
    memory = _int_field(item, "Memory", 8192, where)
    private_ip = _ip(instance_id, "172.16")
    locks = _instance_locks(item.get("OperationLocks"), f"{where}.OperationLocks")
    stopped_mode = item.get("StoppedMode", "KeepCharging" if status == "Stopped" else "Not-applicable")
    family = instance_type.rsplit(".", 1)[0] if instance_type.count(".") >= 2 else instance_type

    instance: dict[str, Any] = {
        "InstanceId": instance_id,
        "InstanceName": name,
        "HostName": name if re.match(r"^[A-Za-z0-9.-]{2,64}$", name) else instance_id,
        "Description": "",
        "Status": status,
        "InstanceType": instance_type,
        "InstanceTypeFamily": family,
        "Cpu": cpu,
        "Memory": memory,
        "RegionId": region_id,
        "ZoneId": zone_id,
        "ImageId": DEFAULT_IMAGE_ID
        if os_type == "linux"
        else "win2022_21H2_x64_dtc_en-us_40G_alibase_20250610.vhd",
        "OSType": os_type,
        "OSName": "Alibaba Cloud Linux 3.2104 LTS 64位"
        if os_type == "linux"
        else "Windows Server 2022 数据中心版",
        "OSNameEn": "Alibaba Cloud Linux 3.2104 LTS 64 bit"
        if os_type == "linux"
        else "Windows Server 2022 Datacenter",
        "InstanceChargeType": charge,
        "InternetChargeType": "PayByTraffic",
        "InstanceNetworkType": "vpc",
        "IoOptimized": True,
        "DeletionProtection": False,
        "CreationTime": DEFAULT_TIME,
        "StartTime": DEFAULT_TIME,
        "ExpiredTime": "2099-12-31T15:59Z",
        "StoppedMode": stopped_mode,
        "KeyPairName": "",
        "SerialNumber": f"{zlib.crc32(instance_id.encode('utf-8')):08x}-0000-4000-8000-000000000000",
        "ResourceGroupId": "",
        "SpotStrategy": "NoSpot",
        "DeviceAvailable": True,
        "Recyclable": False,
        "InternetMaxBandwidthIn": 0,
        "InternetMaxBandwidthOut": 0,
        "InnerIpAddress": {"IpAddress": []},
        "PublicIpAddress": {"IpAddress": []},
        "EipAddress": {"AllocationId": "", "IpAddress": "", "Bandwidth": 0, "InternetChargeType": ""},
        "SecurityGroupIds": {"SecurityGroupId": [f"sg-{region_id}-default"]},
        "VpcAttributes": {
            "VpcId": f"vpc-{region_id}-default",
            "VSwitchId": f"vsw-{zone_id}-default",
            "PrivateIpAddress": {"IpAddress": [private_ip]},
            "NatIpAddress": "",
        },
        "OperationLocks": {"LockReason": locks},
        "Tags": {"Tag": _tags(item.get("Tags"), f"{where}.Tags")},
    }
    for key, value in item.items():
        if key not in ("OperationLocks", "Tags"):
            instance[key] = value if type(value) not in _CONTAINERS else clone(value)
    instance["RegionId"], instance["ZoneId"], instance["Status"] = region_id, zone_id, status
    for key in ("IoOptimized", "DeletionProtection", "DeviceAvailable", "Recyclable"):
        instance[key] = _as_bool(instance[key], f"{where}.{key}")
    for key, value in instance_fields(instance).items():
        instance.setdefault(key, value)
    return instance


def _instance_locks(raw: Any, where: str) -> list[dict[str, str]]:
    items = _unwrap(raw, "LockReason", where)
    locks: list[dict[str, str]] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = {"LockReason": item}
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("LockReason"), str)
            or not item["LockReason"]
        ):
            raise FleetError(f"{where}[{index}]: expected a lock reason ({', '.join(INSTANCE_LOCK_REASONS)})")
        reason = item["LockReason"]
        if reason.lower() not in INSTANCE_LOCK_REASONS:
            raise FleetError(
                f"{where}[{index}]: {reason!r} is not a lock reason ({', '.join(INSTANCE_LOCK_REASONS)})"
            )
        lock = {
            "LockReason": reason,
            "LockMsg": str(item.get("LockMsg", _LOCK_MESSAGES.get(reason.lower(), ""))),
        }
        locks.append(lock)
    return locks


_LOCK_MESSAGES = {
    "financial": "The specified instance is locked due to an overdue payment.",
    "security": "The specified instance is locked due to security.",
    "recycling": "The specified spot instance is about to be released.",
    "dedicatedhostfinancial": "The dedicated host of the instance is locked due to an overdue payment.",
    "refunded": "The specified instance has been refunded.",
}


# --------------------------------------------------------------------------------------------------
# Disks
# --------------------------------------------------------------------------------------------------


def _normalize_disk(
    item: Any,
    where: str,
    instances: Mapping[str, Mapping[str, Any]],
    regions: Mapping[str, Any],
    default_region: str,
    devices: dict[str, set[str]],
) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise FleetError(f"{where}: expected a disk object, got {_kind(item)}")
    disk_id = item.get("DiskId")
    if not isinstance(disk_id, str) or not disk_id.strip():
        raise FleetError(f"{where}.DiskId: every disk needs a non-empty DiskId")
    where = f"{where} ({disk_id})"
    for key in (
        "DiskName",
        "Type",
        "Category",
        "Status",
        "InstanceId",
        "Device",
        "RegionId",
        "ZoneId",
        "MultiAttach",
    ):
        if key in item and not isinstance(item[key], str):
            raise FleetError(f"{where}.{key}: expected a string, got {_kind(item[key])}")

    disk_type, category, multi_attach, charge = _disk_kind(item, where)
    is_multi = multi_attach == "Enabled"
    attachments = _disk_attachments(item, where, instances, is_multi)
    owner_instance, region_id, zone_id = _disk_place(
        item, where, attachments, instances, regions, default_region
    )
    status = _disk_status(item, where, attachments)
    _assign_devices(attachments, devices, disk_type, where)
    return _disk_record(
        item,
        where,
        disk_id=disk_id,
        disk_type=disk_type,
        category=category,
        multi_attach=multi_attach,
        charge=charge,
        attachments=attachments,
        owner_instance=owner_instance,
        region_id=region_id,
        zone_id=zone_id,
        status=status,
    )


def _disk_kind(item: Mapping[str, Any], where: str) -> tuple[str, str, str, str]:
    """A disk's Type, Category, MultiAttach and DiskChargeType, checked (defaults filled in)."""
    disk_type = item.get("Type", "data")
    if disk_type not in DISK_TYPES:
        raise FleetError(f"{where}.Type: expected 'system' or 'data', got {disk_type!r}")
    category = item.get("Category", "cloud_essd")
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", category):  # newer categories than DISK_CATEGORIES are fine
        raise FleetError(
            f"{where}.Category: {category!r} is not a disk category (like {', '.join(DISK_CATEGORIES[:6])})"
        )
    multi_attach = item.get("MultiAttach", "Disabled")
    if multi_attach not in MULTI_ATTACH_VALUES:
        raise FleetError(f"{where}.MultiAttach: expected 'Enabled' or 'Disabled', got {multi_attach!r}")
    if multi_attach == "Enabled" and disk_type == "system":
        raise FleetError(f"{where}: a multi-attach disk cannot be a system disk")
    charge = item.get("DiskChargeType", "PostPaid")
    if charge not in CHARGE_TYPES:
        raise FleetError(f"{where}.DiskChargeType: expected PrePaid or PostPaid, got {charge!r}")
    return disk_type, category, multi_attach, charge


def _disk_attachments(
    item: Mapping[str, Any], where: str, instances: Mapping[str, Mapping[str, Any]], is_multi: bool
) -> list[dict[str, str]]:
    """A disk's attachments: from InstanceId/Device (a plain disk) or the Attachments list (a multi-attach
    disk), each to an instance of the fleet, at most once."""
    attachments = []
    for index, raw_attachment in enumerate(
        _unwrap(item.get("Attachments"), "Attachment", f"{where}.Attachments")
    ):
        place = f"{where}.Attachments[{index}]"
        if not isinstance(raw_attachment, Mapping) or not isinstance(raw_attachment.get("InstanceId"), str):
            raise FleetError(f'{place}: expected {{"InstanceId": ..., "Device": ...}}')
        attachments.append(
            {
                "InstanceId": raw_attachment["InstanceId"],
                "Device": str(raw_attachment.get("Device", "") or ""),
                "AttachedTime": str(raw_attachment.get("AttachedTime", "") or ""),
            }
        )
    top_instance = item.get("InstanceId", "") or ""
    top_device = item.get("Device", "") or ""
    if top_instance and not any(a["InstanceId"] == top_instance for a in attachments):
        attachments.insert(
            0,
            {
                "InstanceId": top_instance,
                "Device": top_device,
                "AttachedTime": str(item.get("AttachedTime", "") or ""),
            },
        )
    if len(attachments) > 1 and not is_multi:
        raise FleetError(
            f"{where}: attached to {len(attachments)} instances but MultiAttach is not 'Enabled'"
        )
    seen_ids: set[str] = set()
    for attachment in attachments:
        owner = attachment["InstanceId"]
        if owner not in instances:
            raise FleetError(f"{where}: InstanceId {owner!r} is not an instance of the fleet")
        if owner in seen_ids:
            raise FleetError(f"{where}: attached to {owner} twice")
        seen_ids.add(owner)
    return attachments


def _disk_place(
    item: Mapping[str, Any],
    where: str,
    attachments: list[dict[str, str]],
    instances: Mapping[str, Mapping[str, Any]],
    regions: Mapping[str, Any],
    default_region: str,
) -> tuple[Mapping[str, Any] | None, str, str]:
    """The instance a disk is (first) attached to, and the disk's region and zone (its instances' zone)."""
    owner_instance = instances[attachments[0]["InstanceId"]] if attachments else None
    zone_id = item.get("ZoneId") or (owner_instance["ZoneId"] if owner_instance else None)
    region_id = (
        item.get("RegionId")
        or (owner_instance["RegionId"] if owner_instance else None)
        or (_region_of_zone(zone_id) if zone_id else default_region)
    )
    if region_id not in regions:
        raise FleetError(
            f"{where}.RegionId: {region_id!r} is not one of the fleet's Regions ({', '.join(regions)})"
        )
    zone_id = zone_id or default_zone(region_id)
    if not zone_id.startswith(region_id):
        raise FleetError(f"{where}.ZoneId: zone {zone_id!r} is not in region {region_id!r}")
    for attachment in attachments:
        owner = instances[attachment["InstanceId"]]
        if owner["ZoneId"] != zone_id:
            raise FleetError(
                f"{where}: disk is in zone {zone_id} but instance {owner['InstanceId']} "
                f"is in {owner['ZoneId']}; "
                "a disk attaches only to instances of its own zone"
            )
    return owner_instance, region_id, zone_id


def _disk_status(item: Mapping[str, Any], where: str, attachments: list[dict[str, str]]) -> str:
    status = item.get("Status") or ("In_use" if attachments else "Available")
    if status not in DISK_STATUSES:
        raise FleetError(f"{where}.Status: {status!r} is not a disk status ({', '.join(DISK_STATUSES)})")
    if status in ATTACHED_DISK_STATUSES and not attachments:
        raise FleetError(f"{where}: Status {status} needs the InstanceId it is attached to")
    if status == "Available" and attachments:
        raise FleetError(
            f"{where}: Status Available but attached to {attachments[0]['InstanceId']}; "
            "use In_use, or drop the InstanceId"
        )
    return status


def _assign_devices(
    attachments: list[dict[str, str]], devices: dict[str, set[str]], disk_type: str, where: str
) -> None:
    """Give each attachment a device name free on its instance (and an attach time), marking it used."""
    for attachment in attachments:
        used = devices.setdefault(attachment["InstanceId"], set())
        if not attachment["Device"]:
            attachment["Device"] = _next_device(used, disk_type)
        if attachment["Device"] in used:
            raise FleetError(
                f"{where}: device {attachment['Device']} is already used on {attachment['InstanceId']}"
            )
        used.add(attachment["Device"])
        if not attachment["AttachedTime"]:
            attachment["AttachedTime"] = DEFAULT_TIME


def _disk_record(
    item: Mapping[str, Any],
    where: str,
    *,
    disk_id: str,
    disk_type: str,
    category: str,
    multi_attach: str,
    charge: str,
    attachments: list[dict[str, str]],
    owner_instance: Mapping[str, Any] | None,
    region_id: str,
    zone_id: str,
    status: str,
) -> dict[str, Any]:
    """The disk as the emulator keeps it: every field the API shows, defaults under the fleet's values."""
    is_multi = multi_attach == "Enabled"
    size = _int_field(item, "Size", 40 if disk_type == "system" else 100, where)
    if size < 1:
        raise FleetError(f"{where}.Size: expected a positive size in GiB, got {size}")
    portable_default = not (
        category in LOCAL_DISK_CATEGORIES or (disk_type == "data" and charge == "PrePaid")
    )
    image_id = owner_instance["ImageId"] if (owner_instance is not None and disk_type == "system") else ""

    disk: dict[str, Any] = {
        "DiskId": disk_id,
        "DiskName": "",
        "Description": "",
        "Type": disk_type,
        "Category": category,
        "Size": size,
        "Status": status,
        "InstanceId": "",
        "Device": "",
        "Portable": portable_default,
        "DeleteWithInstance": disk_type == "system",
        "DeleteAutoSnapshot": False,
        "EnableAutoSnapshot": False,
        "EnableAutomatedSnapshotPolicy": False,
        "AutoSnapshotPolicyId": "",
        "BurstingEnabled": False,
        "Encrypted": False,
        "KMSKeyId": "",
        "MultiAttach": multi_attach,
        "DiskChargeType": charge,
        "RegionId": region_id,
        "ZoneId": zone_id,
        "ImageId": image_id,
        "SourceSnapshotId": "",
        "CreationTime": DEFAULT_TIME,
        "AttachedTime": attachments[0]["AttachedTime"] if attachments else "",
        "DetachedTime": "",
        "ExpiredTime": "2999-09-08T16:00Z",
        "PerformanceLevel": "PL1" if category == "cloud_essd" else "",
        "IOPS": _default_iops(category, size),
        "SerialNumber": disk_id.removeprefix("d-"),
        "ResourceGroupId": "",
        "StorageSetId": "",
        "MountInstanceNum": 0,
        "MountInstances": {"MountInstance": []},
        "OperationLocks": {"OperationLock": []},
        "Attachments": {"Attachment": attachments},
        "Tags": {"Tag": []},
    }
    for key, value in item.items():
        if key not in ("Attachments", "OperationLocks", "Tags", "InstanceId", "Device"):
            disk[key] = value if type(value) not in _CONTAINERS else clone(value)
    disk.update(
        {"Type": disk_type, "Category": category, "Status": status, "RegionId": region_id, "ZoneId": zone_id}
    )
    disk["Size"] = size
    for key in ("Portable", "DeleteWithInstance", "DeleteAutoSnapshot", "EnableAutoSnapshot", "Encrypted"):
        disk[key] = _as_bool(disk[key], f"{where}.{key}")
    disk["OperationLocks"] = {
        "OperationLock": _disk_locks(item.get("OperationLocks"), f"{where}.OperationLocks")
    }
    disk["Tags"] = {"Tag": _tags(item.get("Tags"), f"{where}.Tags")}
    # A plain disk shows its one attachment at the top level; a multi-attach disk never does.
    if attachments and not is_multi:
        disk["InstanceId"], disk["Device"] = attachments[0]["InstanceId"], attachments[0]["Device"]
    if is_multi:
        disk["AttachedTime"] = ""
    for key, value in disk_fields(disk).items():
        disk.setdefault(key, value)
    return disk


def _next_device(used: set[str], disk_type: str) -> str:
    if disk_type == "system" and "/dev/xvda" not in used:
        return "/dev/xvda"
    for letter in _DEVICE_LETTERS:
        if f"/dev/xvd{letter}" not in used:
            return f"/dev/xvd{letter}"
    for first in _DEVICE_LETTERS:
        for second in _DEVICE_LETTERS:
            if f"/dev/xvd{first}{second}" not in used:
                return f"/dev/xvd{first}{second}"
    raise FleetError("no free device name left on the instance")


def next_device(used: Iterable[str], disk_type: str) -> str:
    return _next_device(set(used), disk_type)


def _default_iops(category: str, size: int) -> int:
    if category in ("cloud_essd", "cloud_auto", "cloud_essd_entry"):
        return min(1800 + 50 * size, 50000)
    if category == "cloud_ssd":
        return min(2400 + 30 * size, 25000)
    if category == "cloud_efficiency":
        return min(1800 + 8 * size, 5000)
    return 0


def _disk_locks(raw: Any, where: str) -> list[dict[str, str]]:
    locks: list[dict[str, str]] = []
    for index, item in enumerate(_unwrap(raw, "OperationLock", where)):
        if isinstance(item, str):
            item = {"LockReason": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("LockReason"), str):
            raise FleetError(f"{where}[{index}]: expected a lock reason ({', '.join(DISK_LOCK_REASONS)})")
        if item["LockReason"].lower() not in DISK_LOCK_REASONS:
            raise FleetError(
                f"{where}[{index}]: {item['LockReason']!r} is not a disk lock reason "
                f"({', '.join(DISK_LOCK_REASONS)})"
            )
        locks.append({"LockReason": item["LockReason"]})
    return locks


def _tags(raw: Any, where: str) -> list[dict[str, str]]:
    if isinstance(raw, Mapping) and "Tag" not in raw:
        return [{"TagKey": str(k), "TagValue": str(v)} for k, v in raw.items()]
    tags = []
    for index, item in enumerate(_unwrap(raw, "Tag", where)):
        if not isinstance(item, Mapping) or "TagKey" not in item:
            raise FleetError(f'{where}[{index}]: expected {{"TagKey": ..., "TagValue": ...}}')
        tags.append({"TagKey": str(item["TagKey"]), "TagValue": str(item.get("TagValue", ""))})
    return tags


# --------------------------------------------------------------------------------------------------
# Emulator state (snapshots)
# --------------------------------------------------------------------------------------------------


def _normalize_origins(
    raw: Any, instances: Mapping[str, Any], disks: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    if raw is None:
        return {}
    where = "Emulator.SystemDiskOrigins"
    if not isinstance(raw, Mapping):
        raise FleetError(f"{where}: expected an object mapping a system DiskId to its original InstanceId")
    origins: dict[str, str] = {}
    for disk_id, instance_id in raw.items():
        if disk_id not in disks:
            raise FleetError(f"{where}: {disk_id!r} is not a disk of the fleet")
        if disks[disk_id]["Type"] != "system":
            raise FleetError(
                f"{where}: {disk_id} is a data disk; only system disks have an original instance"
            )
        if not isinstance(instance_id, str) or instance_id not in instances:
            raise FleetError(f"{where}.{disk_id}: {instance_id!r} is not an instance of the fleet")
        origins[str(disk_id)] = instance_id
    return origins


def _normalize_pending(
    raw: Any, instances: Mapping[str, Mapping[str, Any]], disks: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    if raw is None:
        return []
    where = "Emulator.PendingTransitions"
    if not isinstance(raw, list):
        raise FleetError(f"{where}: expected a list")
    pending: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        place = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise FleetError(f"{place}: expected an object")
        action = item.get("Action")
        if action not in TRANSITION_ACTIONS:
            raise FleetError(
                f"{place}.Action: expected one of {', '.join(TRANSITION_ACTIONS)}, got {action!r}"
            )
        instance_id = item.get("InstanceId")
        if not isinstance(instance_id, str) or instance_id not in instances:
            raise FleetError(f"{place}.InstanceId: {instance_id!r} is not an instance of the fleet")
        entry: dict[str, Any] = {"Action": action, "InstanceId": instance_id}
        if action in ("DetachDisk", "AttachDisk"):
            disk_id = item.get("DiskId")
            if not isinstance(disk_id, str) or disk_id not in disks:
                raise FleetError(f"{place}.DiskId: {disk_id!r} is not a disk of the fleet")
            disk = disks[disk_id]
            if not any(a["InstanceId"] == instance_id for a in disk["Attachments"]["Attachment"]):
                raise FleetError(f"{place}: disk {disk_id} is not attached to {instance_id}")
            expected = "Detaching" if action == "DetachDisk" else "Attaching"
            if disk["MultiAttach"] != "Enabled" and disk["Status"] != expected:
                raise FleetError(f"{place}: disk {disk_id} is {disk['Status']}, not {expected}")
            entry["DiskId"] = disk_id
        else:
            expected = "Stopping" if action == "StopInstance" else "Starting"
            if action == "StopInstance":
                mode = item.get("StoppedMode", "KeepCharging")
                if mode not in ("KeepCharging", "StopCharging"):
                    raise FleetError(
                        f"{place}.StoppedMode: expected KeepCharging or StopCharging, got {mode!r}"
                    )
                entry["StoppedMode"] = mode
            if instances[instance_id]["Status"] not in (
                expected,
                "Pending" if action == "StartInstance" else "",
            ):
                raise FleetError(
                    f"{place}: instance {instance_id} is {instances[instance_id]['Status']}, not {expected}"
                )
        entry["RemainingSeconds"] = _non_negative(
            item.get("RemainingSeconds", 0), f"{place}.RemainingSeconds"
        )
        pending.append(entry)
    return pending


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars); much faster than ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: clone(item) if type(item) in _CONTAINERS else item for key, item in value.items()}
    if kind is list:
        return [clone(item) if type(item) in _CONTAINERS else item for item in value]
    if isinstance(value, Mapping):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [clone(item) for item in value]
    return value


_CONTAINERS = frozenset({dict, list, tuple})


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key, [])
    if value is None:
        return []
    if isinstance(value, Mapping):  # the API's wrapped form: {"Instances": {"Instance": [...]}}
        inner = value.get(key[:-1])
        if isinstance(inner, list):
            return inner
    if not isinstance(value, list):
        raise FleetError(f"{key}: expected a list of {key[:-1].lower()} objects, got {_kind(value)}")
    return value


def _unwrap(raw: Any, inner_key: str, where: str) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        inner = raw.get(inner_key, [])
        if not isinstance(inner, list):
            raise FleetError(f"{where}.{inner_key}: expected a list")
        return inner
    if isinstance(raw, list):
        return raw
    raise FleetError(f'{where}: expected a list or {{"{inner_key}": [...]}}, got {_kind(raw)}')


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise FleetError(f"{where}: expected true or false, got {value!r}")


def _int_field(item: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        raise FleetError(f"{where}.{key}: expected an integer, got {value!r}")
    return value


def _non_negative(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not value >= 0
        or value == float("inf")
    ):
        raise FleetError(f"{where}: expected a number of seconds >= 0, got {value!r}")
    return float(value)


def _categories_by_type(section: Mapping[str, Any], where: str) -> dict[str, frozenset[str]]:
    """``UnsupportedDiskCategories``: instance type -> the disk categories it cannot take (AttachDisk)."""
    raw = section.get("UnsupportedDiskCategories", {})
    place = f"{where}.UnsupportedDiskCategories"
    if not isinstance(raw, Mapping):
        raise FleetError(f'{place}: expected an object like {{"ecs.t5-lc1m1.small": ["cloud_essd"]}}')
    found: dict[str, frozenset[str]] = {}
    for instance_type, categories in raw.items():
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise FleetError(f"{place}.{instance_type}: expected a list of disk categories")
        found[str(instance_type)] = frozenset(categories)
    return found


def _str_set(section: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FleetError(f"{where}.{key}: expected a list of strings")
    return frozenset(value)
