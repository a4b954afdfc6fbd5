"""The emulator's state machine and actions.

:class:`Backend` holds regions, instances and disks as the API's own dicts, answers actions with the
response body (without ``RequestId``) or raises :class:`~ecs_detach.emulator.errors.EmulatorError`, and
moves disks and instances through their transitional states as (virtual) time passes:

* DetachDisk: ``In_use`` → ``Detaching`` → ``Available``;
* AttachDisk: ``Available`` → ``Attaching`` → ``In_use``;
* StopInstance: ``Running`` → ``Stopping`` → ``Stopped``;
* StartInstance: ``Stopped`` → ``Starting`` → ``Running``.

Due transitions fire before every call. DetachDisk follows the decision table of the design, row by row,
first match wins. The gateway (signatures, keys, throttling, faults) sits in front of this class; nothing
here knows about HTTP.
"""

from __future__ import annotations

import base64
import heapq
import json
import marshal
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import fleet as fleet_values
from .clock import Clock, ManualClock, is_immediate, iso_time
from .errors import EmulatorError, api_error, invalid_parameter, missing_parameter
from .fleet import (
    KNOWN_REGIONS,
    EmulatorSettings,
    clone,
    load_fleet,
    next_device,
    paused_gc,
    settings_of,
)
from .guests import Guests
from .snapshots import SnapshotStore

MUTATING_ACTIONS = frozenset(
    {
        "DetachDisk",
        "AttachDisk",
        "StopInstance",
        "StartInstance",
        "StopInstances",
        "StartInstances",
        "CreateSnapshot",
        "RunCommand",
    }
)
READ_ACTIONS = frozenset(
    {
        "DescribeRegions",
        "DescribeInstances",
        "DescribeDisks",
        "DescribeInstanceAttribute",
        "DescribeInstanceStatus",
        "DescribeSnapshots",
        "DescribeCloudAssistantStatus",
        "DescribeInvocationResults",
    }
)
ACTIONS = MUTATING_ACTIONS | READ_ACTIONS

MAX_PAGE_SIZE = 100
MAX_DATA_DISKS_PER_INSTANCE = 64  # today's limit (older pages: 16)
MAX_MULTI_ATTACHMENTS = 16  # instances one multi-attach disk may be attached to
DEFAULT_PAGE_SIZE = 10
MAX_IDS_PER_FILTER = 100
MAX_TAGS = 20
_TAG_PARAM_RE = re.compile(r"Tag\.([0-9]{1,6})\.(?:Key|Value)")
# Valid filter values, as the API documents them (anything else is an error, as a typo is in the cloud):
# the values a fleet holds (fleet.py's one table), and the filters' own "all"/"All".
INSTANCE_STATUSES = fleet_values.INSTANCE_STATUSES
INSTANCE_CHARGE_TYPES = fleet_values.CHARGE_TYPES
INTERNET_CHARGE_TYPES = ("PayByBandwidth", "PayByTraffic")
NETWORK_TYPES = ("classic", "vpc")
INSTANCE_LOCK_REASONS = fleet_values.INSTANCE_LOCK_REASONS
DISK_LOCK_REASONS = fleet_values.DISK_LOCK_REASONS
DISK_TYPES = ("all", *fleet_values.DISK_TYPES)
DISK_STATUSES = (*fleet_values.DISK_STATUSES, "All")
DISK_CATEGORIES = ("all", *fleet_values.DISK_CATEGORIES)
DISK_CHARGE_TYPES = fleet_values.CHARGE_TYPES
ELASTIC_EPHEMERAL_CATEGORIES = frozenset(
    {"elastic_ephemeral_disk_standard", "elastic_ephemeral_disk_premium"}
)
_MAX_PARAM_CHARS = 20_000
_MAX_NAME_PATTERN = 128
_MAX_ADVANCE = 100 * 365 * 86400.0
_INT_RE = re.compile(r"[0-9]{1,9}")
_ACCEPT_LANGUAGES = ("zh-CN", "en-US", "ja")
_RESOURCE_TYPES = ("instance", "disk", "reservedinstance", "scu")
_STOPPED_MODES = ("StopCharging", "KeepCharging")
_BATCH_MODES = ("AllTogether", "SuccessFirst")
COMMON_DRY_RUN_MESSAGE = "Request validation has been passed with DryRun flag set."

FleetSource = str | Path | Mapping[str, Any]


@dataclass(order=True)
class _Transition:
    due: float
    seq: int
    action: str = field(compare=False)
    instance_id: str = field(compare=False)
    disk_id: str = field(default="", compare=False)
    stopped_mode: str = field(default="", compare=False)


class _Params:
    """Request parameters, read defensively: every bad value becomes a 4xx ``EmulatorError``."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def get(self, name: str) -> str | None:
        value = self._raw.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def text(self, name: str) -> str:
        """The value, or ``""`` when absent."""
        return self.get(name) or ""

    def boolean(self, name: str) -> bool | None:
        value = self.get(name)
        if value is None or value == "":
            return None
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise invalid_parameter(name)

    def integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is None or value == "":
            return None
        if not _INT_RE.fullmatch(value):
            raise invalid_parameter(name)
        return int(value)

    def id_list(
        self, name: str, *, action: str = "", malformed: str = "", too_many: str = ""
    ) -> list[str] | None:
        """A JSON array of ids (``DiskIds``, ``InstanceIds``); ``[]`` is a valid, empty filter.

        ``malformed`` and ``too_many`` are ``action``'s own codes for a value that is not a JSON list of
        strings and for more than 100 ids (default: ``InvalidParameter``)."""
        value = self.get(name)
        if value is None or value == "":
            return None

        def refusal(code: str) -> EmulatorError:
            return api_error(action, code) if code else invalid_parameter(name)

        if len(value) > _MAX_PARAM_CHARS:
            raise refusal(malformed)
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise refusal(malformed) from None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise refusal(malformed)
        if len(parsed) > MAX_IDS_PER_FILTER:
            raise refusal(too_many or malformed)
        return parsed

    def numbered(self, name: str, *, limit: int, required: bool = True) -> list[str]:
        """A repeat list (``InstanceId.1``, ``InstanceId.2``, ...) in order, without duplicates; absent:
        ``Missing{name}`` when ``required``; more than ``limit`` entries: ``InvalidParameter``."""
        values: dict[int, str] = {}
        prefix = f"{name}."
        for key in self._raw:
            if isinstance(key, str) and key.startswith(prefix):
                number = key[len(prefix) :]
                if not _INT_RE.fullmatch(number) or not 1 <= int(number) <= limit:
                    raise invalid_parameter(key)
                value = self.get(key)
                if value:
                    values[int(number)] = value
        if len(values) > limit:
            raise invalid_parameter(name)
        if required and not values:
            raise missing_parameter(name)
        return list(dict.fromkeys(values[n] for n in sorted(values)))

    def choice(self, name: str, allowed: Collection[str], action: str, code: str) -> str | None:
        """The value when it is one of ``allowed`` (None when absent or empty), else ``action``'s error
        ``code``."""
        value = self.get(name)
        if not value:
            return None
        if value not in allowed:
            raise api_error(action, code)
        return value

    def tags(self, action: str = "") -> list[tuple[str, str | None]]:
        """``Tag.N.Key``/``Tag.N.Value`` pairs (N 1..20): more answers ``InvalidTagCount``, a value
        without its key ``InvalidTag.Mismatch``."""
        numbers = set()
        for name in self._raw:
            match = _TAG_PARAM_RE.fullmatch(name) if isinstance(name, str) else None
            if match:
                numbers.add(int(match.group(1)))
        if any(not 1 <= n <= MAX_TAGS for n in numbers):
            raise api_error(action, "InvalidTagCount")
        tags = []
        for n in sorted(numbers):
            key, value = self.get(f"Tag.{n}.Key"), self.get(f"Tag.{n}.Value")
            if key:
                tags.append((key, value))
            elif value:
                raise api_error(action, "InvalidTag.Mismatch")
        return tags


def _name_matcher(pattern: str, name: str) -> Callable[[str], bool]:
    """``web-*``-style matching (``*`` is the only wildcard)."""
    if len(pattern) > _MAX_NAME_PATTERN:
        raise invalid_parameter(name)
    if "*" not in pattern:
        return lambda value: value == pattern
    collapsed = re.sub(r"\*+", "*", pattern)
    regex = re.compile(".*".join(re.escape(part) for part in collapsed.split("*")), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


def _has_lock(obj: Mapping[str, Any], reason: str, inner: str) -> bool:
    return any(str(lock.get("LockReason", "")).lower() == reason for lock in obj["OperationLocks"][inner])


def _by_region(objects: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Objects grouped by ``RegionId``, each group in the fleet's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        groups.setdefault(obj["RegionId"], []).append(obj)
    return groups


def _matching(
    objects: list[dict[str, Any]], checks: Sequence[Callable[[dict[str, Any]], bool]]
) -> list[dict[str, Any]]:
    """The objects that pass every check, in order (all of them, copied, when there is no check)."""
    if not checks:
        return list(objects)
    return [obj for obj in objects if all(check(obj) for check in checks)]


def _deep_copy(body: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of an answer (handlers may return dicts of the live state, which later calls change).

    The state is plain JSON-like data, which ``marshal`` copies in C several times faster than ``clone``
    (a page of 100 disks: ~0.4 ms instead of ~2.4 ms); anything marshal refuses goes through ``clone``.
    """
    try:
        copied: dict[str, Any] = marshal.loads(marshal.dumps(body))
    except ValueError:
        copied = clone(body)
    return copied


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode("ascii").rstrip("=")


def _decode_token(token: str) -> int:
    if len(token) > 64:
        raise invalid_parameter("NextToken")
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (ValueError, UnicodeError):
        raise invalid_parameter("NextToken") from None
    prefix, _, number = text.partition(":")
    if prefix != "offset" or not _INT_RE.fullmatch(number):
        raise invalid_parameter("NextToken")
    return int(number)


class Backend:
    """The ECS state machine: ``handle(action, params, region_hint=...)`` answers like the API does."""

    def __init__(self, fleet: FleetSource = "demo", clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else ManualClock()
        self._lock = threading.RLock()
        self._offset = 0.0
        self._seq = 0
        self._actions: dict[str, Callable[[_Params, str | None], dict[str, Any]]] = {
            "DescribeRegions": self._describe_regions,
            "DescribeInstances": self._describe_instances,
            "DescribeDisks": self._describe_disks,
            "DescribeInstanceAttribute": self._describe_instance_attribute,
            "DetachDisk": self._detach_disk,
            "AttachDisk": self._attach_disk,
            "StopInstance": self._stop_instance,
            "StartInstance": self._start_instance,
            "StopInstances": self._stop_instances,
            "StartInstances": self._start_instances,
            "DescribeInstanceStatus": self._describe_instance_status,
            "CreateSnapshot": self._create_snapshot,
            "DescribeSnapshots": self._describe_snapshots,
            "DescribeCloudAssistantStatus": self._describe_cloud_assistant_status,
            "RunCommand": self._run_command,
            "DescribeInvocationResults": self._describe_invocation_results,
        }
        self._load(fleet)

    # ----------------------------------------------------------------------------------------------
    # Public surface
    # ----------------------------------------------------------------------------------------------

    @property
    def settings(self) -> EmulatorSettings:
        return self._settings

    def now(self) -> float:
        return self.clock.now() + self._offset

    def handle(
        self, action: str, params: Mapping[str, Any], *, region_hint: str | None = None
    ) -> dict[str, Any]:
        """Answer one API call: the response body without ``RequestId``; raises ``EmulatorError``."""
        with self._lock:
            return _deep_copy(self._answer(action, params, region_hint))

    def _answer(self, action: str, params: Mapping[str, Any], region_hint: str | None) -> dict[str, Any]:
        """The answer; it may share dicts with the state: copy or encode it before the lock is let go."""
        handler = self._actions.get(action) if isinstance(action, str) else None
        if handler is None:
            raise api_error("", "InvalidAction.NotFound")
        with self._lock:
            self._fire_due()
            try:
                return handler(_Params(params), region_hint or None)
            finally:
                if action in MUTATING_ACTIONS:
                    self._version += 1

    def version(self) -> int:
        """The version of the state, after firing what is due. Every mutating call, transition and reset
        changes it; while it stays the same, a read with the same parameters gives the same answer."""
        with self._lock:
            self._fire_due()
            return self._version

    def handle_read(
        self,
        action: str,
        params: Mapping[str, Any],
        *,
        region_hint: str | None = None,
        encode: Callable[[dict[str, Any]], bytes],
    ) -> tuple[bytes, int]:
        """A read's answer encoded while the state is held (so nothing is copied), with the version of the
        state it was read from (the gateway caches by it)."""
        with self._lock:
            return encode(self._answer(action, params, region_hint)), self._version

    def reset(self, fleet: FleetSource = "demo") -> None:
        """Replace the whole state with ``fleet`` (time keeps running)."""
        loaded = load_fleet(fleet)
        with self._lock:
            self._install(loaded)

    def snapshot(self) -> dict[str, Any]:
        """A fleet file of the current state: loading it gives back the same state, transitions included."""
        with self._lock, paused_gc():
            self._fire_due()
            now = self.now()
            emulator = self._settings.to_section()
            if self._origins:
                emulator["SystemDiskOrigins"] = dict(self._origins)
            pending = self._pending_entries(now)
            if pending:
                emulator["PendingTransitions"] = pending
            if self._snapshots.snapshots:
                emulator["Snapshots"] = self._snapshots.dump()
            guests = self._guests.to_section()
            if guests:
                emulator["Guests"] = clone(guests)
            return {
                "Regions": clone(list(self._regions.values())),
                "Instances": clone(list(self._instances.values())),
                "Disks": clone(list(self._disks.values())),
                "Emulator": emulator,
            }

    def advance(self, seconds: float) -> float:
        """Move virtual time forward and fire what is due.

        A manual clock is advanced itself; any other clock gets an offset.
        """
        if not 0 <= seconds < _MAX_ADVANCE:
            raise ValueError("seconds must be a number >= 0 (and less than a century)")
        with self._lock:
            if isinstance(self.clock, ManualClock):
                self.clock.advance(seconds)
            else:
                self._offset += float(seconds)
            self._fire_due()
            return self.now()

    def pending_transitions(self) -> list[dict[str, Any]]:
        """What is still under way (action, ids, seconds left), soonest first."""
        with self._lock:
            self._fire_due()
            return self._pending_entries(self.now())

    def _pending_entries(self, now: float) -> list[dict[str, Any]]:
        pending = []
        for transition in sorted(self._heap):
            entry: dict[str, Any] = {"Action": transition.action, "InstanceId": transition.instance_id}
            if transition.disk_id:
                entry["DiskId"] = transition.disk_id
            if transition.action == "StopInstance":
                entry["StoppedMode"] = transition.stopped_mode
            entry["RemainingSeconds"] = round(max(0.0, transition.due - now), 3)
            pending.append(entry)
        return pending

    # ----------------------------------------------------------------------------------------------
    # State
    # ----------------------------------------------------------------------------------------------

    def _load(self, fleet: FleetSource) -> None:
        self._install(load_fleet(fleet))

    def _install(self, fleet: dict[str, Any]) -> None:
        self._version: int = getattr(self, "_version", 0) + 1
        self._settings = settings_of(fleet)
        self._regions: dict[str, dict[str, Any]] = {r["RegionId"]: r for r in fleet["Regions"]}
        self._instances: dict[str, dict[str, Any]] = {i["InstanceId"]: i for i in fleet["Instances"]}
        self._disks: dict[str, dict[str, Any]] = {d["DiskId"]: d for d in fleet["Disks"]}
        # Objects never change region and are only added here: a page of a region need not scan the fleet.
        self._instances_in = _by_region(self._instances.values())
        self._disks_in = _by_region(self._disks.values())
        section = fleet.get("Emulator", {})
        self._origins: dict[str, str] = dict(section.get("SystemDiskOrigins", {}))
        self._guests = Guests(section.get("Guests", {}), self._guest_devices, self._instance_status)
        self._heap: list[_Transition] = []
        # (disk, instance) -> transition, for attachments still attaching or detaching
        self._detaching: dict[tuple[str, str], _Transition] = {}
        self._attaching: dict[tuple[str, str], _Transition] = {}
        now = self.now()
        immediate = is_immediate(self.clock)
        explicit: set[tuple[str, str, str]] = set()
        for entry in section.get("PendingTransitions", []):
            self._schedule(
                entry["Action"],
                entry["InstanceId"],
                entry.get("DiskId", ""),
                due=now if immediate else now + float(entry["RemainingSeconds"]),
                stopped_mode=entry.get("StoppedMode", ""),
            )
            explicit.add((entry["Action"], entry["InstanceId"], entry.get("DiskId", "")))
        # Transitional states a fleet gives without timing: they finish one full duration from now.
        for disk in self._disks.values():
            status = disk["Status"]
            if status not in ("Detaching", "Attaching"):
                continue
            action = "DetachDisk" if status == "Detaching" else "AttachDisk"
            for attachment in disk["Attachments"]["Attachment"]:
                key = (action, attachment["InstanceId"], disk["DiskId"])
                pair = (disk["DiskId"], attachment["InstanceId"])
                if key not in explicit and pair not in self._detaching and pair not in self._attaching:
                    self._schedule(action, attachment["InstanceId"], disk["DiskId"])
        for instance in self._instances.values():
            status = instance["Status"]
            implied = {
                "Stopping": "StopInstance",
                "Starting": "StartInstance",
                "Pending": "StartInstance",
            }.get(status)
            if implied and (implied, instance["InstanceId"], "") not in explicit:
                self._schedule(implied, instance["InstanceId"], stopped_mode="KeepCharging")
        for disk in self._disks.values():
            if disk["MultiAttach"] == "Enabled":
                self._settle_multi(disk)
        self._snapshots = SnapshotStore(
            now=self.now,
            duration=lambda: self._duration("CreateSnapshot"),
            failing_disk_ids=self._settings.failed_snapshot_disk_ids,
        )
        self._snapshots.load(section.get("Snapshots"))

    def _duration(self, action: str) -> float:
        return 0.0 if is_immediate(self.clock) else self._settings.durations[action]

    def _schedule(
        self,
        action: str,
        instance_id: str,
        disk_id: str = "",
        *,
        due: float | None = None,
        stopped_mode: str = "",
    ) -> _Transition:
        self._seq += 1
        transition = _Transition(
            due=self.now() + self._duration(action) if due is None else due,
            seq=self._seq,
            action=action,
            instance_id=instance_id,
            disk_id=disk_id,
            stopped_mode=stopped_mode,
        )
        heapq.heappush(self._heap, transition)
        if action == "DetachDisk":
            self._detaching[(disk_id, instance_id)] = transition
        elif action == "AttachDisk":
            self._attaching[(disk_id, instance_id)] = transition
        return transition

    def _fire_due(self) -> None:
        now = self.now()
        while self._heap and self._heap[0].due <= now:
            self._complete(heapq.heappop(self._heap))
        moved = self._snapshots.tick()  # a snapshot's Progress moved: cached reads are stale
        if self._guests.fire_due(now) or moved:
            self._version += 1

    def _complete(self, t: _Transition) -> None:
        self._version += 1
        at = iso_time(t.due)
        if t.action == "DetachDisk":
            self._detaching.pop((t.disk_id, t.instance_id), None)
            disk = self._disks[t.disk_id]
            attachments = disk["Attachments"]["Attachment"]
            attachments[:] = [a for a in attachments if a["InstanceId"] != t.instance_id]
            disk["DetachedTime"] = at
            if disk["MultiAttach"] == "Enabled":
                self._settle_multi(disk)
            else:
                disk.update({"Status": "Available", "InstanceId": "", "Device": ""})
        elif t.action == "AttachDisk":
            self._attaching.pop((t.disk_id, t.instance_id), None)
            disk = self._disks[t.disk_id]
            for attachment in disk["Attachments"]["Attachment"]:
                if attachment["InstanceId"] == t.instance_id:
                    attachment["AttachedTime"] = at
            if disk["MultiAttach"] == "Enabled":
                self._settle_multi(disk)
            else:
                disk.update({"Status": "In_use", "AttachedTime": at})
        elif t.action == "StopInstance":
            instance = self._instances[t.instance_id]
            instance.update({"Status": "Stopped", "StoppedMode": t.stopped_mode or "KeepCharging"})
        elif t.action == "StartInstance":
            instance = self._instances[t.instance_id]
            instance.update({"Status": "Running", "StartTime": at, "StoppedMode": "Not-applicable"})

    def _settle_multi(self, disk: dict[str, Any]) -> None:
        """A multi-attach disk's Status from the states of its attachments."""
        disk_id = disk["DiskId"]
        states = []
        for attachment in disk["Attachments"]["Attachment"]:
            pair = (disk_id, attachment["InstanceId"])
            states.append("d" if pair in self._detaching else "a" if pair in self._attaching else "u")
        if not states:
            status = "Available"
        elif "u" in states or ("d" in states and "a" in states):
            status = "In_use"
        elif "d" in states:
            status = "Detaching"
        else:
            status = "Attaching"
        disk.update({"Status": status, "InstanceId": "", "Device": ""})

    # ----------------------------------------------------------------------------------------------
    # Lookups
    # ----------------------------------------------------------------------------------------------

    def _region(self, action: str, p: _Params, region_hint: str | None) -> str | None:
        """The region the call targets: the Host's, else ``RegionId``, else None (any region)."""
        given = p.get("RegionId")
        if given and given not in self._regions:
            raise api_error(action, "InvalidRegionId.MalFormed")
        if region_hint:
            if region_hint not in self._regions:
                raise api_error(action, "InvalidRegionId.MalFormed")
            return region_hint
        return given or None

    def _required_region(self, action: str, p: _Params, region_hint: str | None) -> str:
        region = self._region(action, p, region_hint)
        if region is None:
            raise missing_parameter("RegionId")
        return region

    def _instance(self, action: str, instance_id: str, region: str | None) -> dict[str, Any]:
        instance = self._instances.get(instance_id)
        if instance is None or (region is not None and instance["RegionId"] != region):
            raise api_error(action, "InvalidInstanceId.NotFound")
        return instance

    def _disk(self, action: str, disk_id: str, region: str | None) -> dict[str, Any]:
        disk = self._disks.get(disk_id)
        if disk is None or (region is not None and disk["RegionId"] != region):
            raise api_error(action, "InvalidDiskId.NotFound")
        return disk

    def _attached_ids(self, disk: Mapping[str, Any]) -> list[str]:
        return [a["InstanceId"] for a in disk["Attachments"]["Attachment"]]

    def _disks_on(self, instance_id: str) -> Iterable[dict[str, Any]]:
        for disk in self._disks.values():
            if any(a["InstanceId"] == instance_id for a in disk["Attachments"]["Attachment"]):
                yield disk

    def _system_disk_of(self, instance_id: str) -> dict[str, Any] | None:
        for disk in self._disks_on(instance_id):
            if disk["Type"] == "system" and (disk["DiskId"], instance_id) not in self._detaching:
                return disk
        return None

    # ----------------------------------------------------------------------------------------------
    # Read actions
    # ----------------------------------------------------------------------------------------------

    def _describe_regions(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        language = p.text("AcceptLanguage") or "zh-CN"
        if language not in _ACCEPT_LANGUAGES:
            raise api_error("DescribeRegions", "InvalidAcceptLanguage.NotFound")
        resource_type = p.text("ResourceType") or "instance"
        if resource_type not in _RESOURCE_TYPES:
            raise api_error("DescribeRegions", "InvalidResourceType.NotFound")
        regions = clone(list(self._regions.values()))
        if language != "zh-CN":
            for region in regions:
                names = KNOWN_REGIONS.get(region["RegionId"])
                if names and region["LocalName"] == names[0]:
                    region["LocalName"] = names[1]
        return {"Regions": {"Region": regions}}

    def _paginate(
        self, items: list[dict[str, Any]], p: _Params, max_results_cap: int
    ) -> tuple[list[Any], dict[str, Any]]:
        total = len(items)
        if "NextToken" in p or "MaxResults" in p:
            max_results = p.integer("MaxResults")
            size = DEFAULT_PAGE_SIZE if max_results is None else min(max(max_results, 10), max_results_cap)
            token = p.text("NextToken")
            offset = _decode_token(token) if token else 0
            end = offset + size
            return items[offset:end], {
                "TotalCount": total,
                "NextToken": _encode_token(end) if end < total else "",
            }
        page_number = p.integer("PageNumber")
        page_size = p.integer("PageSize")
        if page_number is not None and page_number < 1:
            raise invalid_parameter("PageNumber")
        if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
            raise invalid_parameter("PageSize")
        page_number = page_number or 1
        page_size = page_size or DEFAULT_PAGE_SIZE
        start = (page_number - 1) * page_size
        end = start + page_size
        meta = {
            "TotalCount": total,
            "PageNumber": page_number,
            "PageSize": page_size,
            "NextToken": _encode_token(end) if end < total else "",
        }
        return items[start:end], meta

    def _describe_instances(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        action = "DescribeInstances"
        region = self._required_region(action, p, region_hint)
        checks: list[Callable[[dict[str, Any]], bool]] = []
        ids = p.id_list("InstanceIds")
        if ids is not None:
            wanted = set(ids)
            checks.append(lambda i: i["InstanceId"] in wanted)
        p.choice("Status", INSTANCE_STATUSES, action, "InvalidStatus.NotFound")
        p.choice("InstanceChargeType", INSTANCE_CHARGE_TYPES, action, "InvalidInstanceChargeType.NotFound")
        p.choice(
            "InternetChargeType", INTERNET_CHARGE_TYPES, action, "InvalidInternetChargeType.ValueNotSupported"
        )
        p.choice("InstanceNetworkType", NETWORK_TYPES, action, "InvalidNetworkType.NotFound")
        p.choice("LockReason", INSTANCE_LOCK_REASONS, action, "InvalidLockReason.NotFound")
        name = p.get("InstanceName")
        if name:
            matches = _name_matcher(name, "InstanceName")
            checks.append(lambda i: matches(i["InstanceName"]))
        for key in (
            "Status",
            "ZoneId",
            "InstanceType",
            "InstanceTypeFamily",
            "ImageId",
            "InstanceChargeType",
            "InternetChargeType",
            "InstanceNetworkType",
            "KeyPairName",
            "ResourceGroupId",
            "HpcClusterId",
        ):
            value = p.get(key)
            if value:
                checks.append(lambda i, k=key, v=value: str(i.get(k, "")) == v)  # type: ignore[misc]
        for key, path in (("VpcId", "VpcId"), ("VSwitchId", "VSwitchId")):
            value = p.get(key)
            if value:
                checks.append(lambda i, k=path, v=value: i.get("VpcAttributes", {}).get(k) == v)  # type: ignore[misc]
        group = p.get("SecurityGroupId")
        if group:
            checks.append(lambda i: group in i.get("SecurityGroupIds", {}).get("SecurityGroupId", []))
        lock = p.get("LockReason")
        if lock:
            checks.append(lambda i: _has_lock(i, lock.lower(), "LockReason"))
        for key in ("IoOptimized", "DeviceAvailable"):
            flag = p.boolean(key)
            if flag is not None:
                checks.append(lambda i, k=key, f=flag: bool(i.get(k)) == f)  # type: ignore[misc]
        for key, getter in (
            (
                "PrivateIpAddresses",
                lambda i: i.get("VpcAttributes", {}).get("PrivateIpAddress", {}).get("IpAddress", []),
            ),
            ("InnerIpAddresses", lambda i: i.get("InnerIpAddress", {}).get("IpAddress", [])),
            ("PublicIpAddresses", lambda i: i.get("PublicIpAddress", {}).get("IpAddress", [])),
            ("EipAddresses", lambda i: [i.get("EipAddress", {}).get("IpAddress", "")]),
        ):
            addresses = p.id_list(key)
            if addresses is not None:
                wanted_ips = set(addresses)
                checks.append(lambda i, g=getter, w=wanted_ips: bool(w.intersection(g(i))))  # type: ignore[misc]
        checks.extend(self._tag_checks(p, action))
        if p.boolean("DryRun"):  # every parameter checked, nothing read
            raise api_error(action, "DryRunOperation")
        matched = _matching(self._instances_in.get(region, []), checks)
        page, meta = self._paginate(matched, p, max_results_cap=100)
        return meta | {"Instances": {"Instance": page}}

    def _describe_disks(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        action = "DescribeDisks"
        region = self._required_region(action, p, region_hint)
        checks: list[Callable[[dict[str, Any]], bool]] = []
        ids = p.id_list(
            "DiskIds",
            action=action,
            malformed="InvalidParameter.DiskIds",
            too_many="InvalidDiskIds.Malformed",
        )
        if ids is not None:
            wanted = set(ids)
            checks.append(lambda d: d["DiskId"] in wanted)
        instance_id = p.get("InstanceId")
        if instance_id:
            checks.append(lambda d: instance_id in self._attached_ids(d))
        disk_type = p.choice("DiskType", DISK_TYPES, action, "InvalidDiskType.ValueNotSupported")
        if disk_type and disk_type != "all":
            checks.append(lambda d: d["Type"] == disk_type)
        status = p.choice("Status", DISK_STATUSES, action, "InvalidStatus.ValueNotSupported")
        if status and status != "All":
            checks.append(lambda d: d["Status"] == status)
        category = p.choice("Category", DISK_CATEGORIES, action, "InvalidCategory.ValueNotSupported")
        if category and category != "all":
            checks.append(lambda d: d["Category"] == category)
        p.choice("DiskChargeType", DISK_CHARGE_TYPES, action, "InvalidDiskChargeType.NotFound")
        p.choice("LockReason", DISK_LOCK_REASONS, action, "InvalidLockReason.NotFound")
        multi = p.get("MultiAttach")
        if multi:
            checks.append(lambda d: d["MultiAttach"] == multi)
        name = p.get("DiskName")
        if name:
            matches = _name_matcher(name, "DiskName")
            checks.append(lambda d: matches(d["DiskName"]))
        for key in (
            "ZoneId",
            "DiskChargeType",
            "ResourceGroupId",
            "AutoSnapshotPolicyId",
            "PerformanceLevel",
            "KMSKeyId",
        ):
            value = p.get(key)
            if value:
                checks.append(lambda d, k=key, v=value: str(d.get(k, "")) == v)  # type: ignore[misc]
        snapshot_id = p.get("SnapshotId")
        if snapshot_id:
            checks.append(lambda d: d.get("SourceSnapshotId") == snapshot_id)
        for key in (
            "Portable",
            "DeleteWithInstance",
            "DeleteAutoSnapshot",
            "EnableAutoSnapshot",
            "Encrypted",
            "EnableAutomatedSnapshotPolicy",
        ):
            flag = p.boolean(key)
            if flag is not None:
                checks.append(lambda d, k=key, f=flag: bool(d.get(k)) == f)  # type: ignore[misc]
        p.boolean("EnableShared")
        lock = p.get("LockReason")
        if lock:
            checks.append(lambda d: _has_lock(d, lock.lower(), "OperationLock"))
        checks.extend(self._tag_checks(p, action))
        if p.boolean("DryRun"):  # every parameter checked, nothing read
            raise api_error(action, "DryRunOperation")
        matched = _matching(self._disks_in.get(region, []), checks)
        page, meta = self._paginate(matched, p, max_results_cap=500)
        return meta | {"Disks": {"Disk": page}}

    def _tag_checks(self, p: _Params, action: str) -> list[Callable[[dict[str, Any]], bool]]:
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for key, value in p.tags(action):

            def check(obj: dict[str, Any], key: str = key, value: str | None = value) -> bool:
                return any(
                    t["TagKey"] == key and (value is None or t["TagValue"] == value)
                    for t in obj["Tags"]["Tag"]
                )

            checks.append(check)
        return checks

    def _describe_instance_attribute(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        action = "DescribeInstanceAttribute"
        instance_id = p.get("InstanceId")
        if not instance_id:
            raise missing_parameter("InstanceId")
        region = self._region(action, p, region_hint)
        i = self._instance(action, instance_id, region)
        keys = (
            "InstanceId",
            "InstanceName",
            "HostName",
            "Description",
            "Status",
            "InstanceType",
            "Cpu",
            "Memory",
            "RegionId",
            "ZoneId",
            "ImageId",
            "InstanceChargeType",
            "InternetChargeType",
            "InstanceNetworkType",
            "InternetMaxBandwidthIn",
            "InternetMaxBandwidthOut",
            "CreationTime",
            "ExpiredTime",
            "StoppedMode",
            "SerialNumber",
            "InnerIpAddress",
            "PublicIpAddress",
            "EipAddress",
            "SecurityGroupIds",
            "VpcAttributes",
        )
        body: dict[str, Any] = {key: clone(i[key]) for key in keys if key in i}
        body["IoOptimized"] = "optimized" if i.get("IoOptimized") else "none"
        body["OperationLocks"] = {
            "LockReason": [{"LockReason": lock["LockReason"]} for lock in i["OperationLocks"]["LockReason"]]
        }
        return body

    # ----------------------------------------------------------------------------------------------
    # DetachDisk: the decision table, row by row; first match wins
    # ----------------------------------------------------------------------------------------------

    def _detach_disk(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        action = "DetachDisk"
        disk_id, instance_id = p.get("DiskId"), p.get("InstanceId")
        if not disk_id or not instance_id:  # 1
            raise api_error(action, "InvalidParameter")
        region = self._region(action, p, region_hint)  # 2
        delete_with_instance = p.boolean("DeleteWithInstance")
        instance = self._instance(action, instance_id, region)  # 3
        disk = self._disk(action, disk_id, region)  # 4
        settings = self._settings
        if _has_lock(instance, "security", "LockReason"):  # 5
            raise api_error(action, "InstanceLockedForSecurity")
        is_multi = disk["MultiAttach"] == "Enabled"
        if delete_with_instance is not None and is_multi:  # 6
            raise api_error(action, "DeleteWithInstance.Conflict")
        ephemeral = disk["Category"] in ELASTIC_EPHEMERAL_CATEGORIES
        if ephemeral and instance["InstanceType"] in settings.no_ephemeral_detach_instance_types:  # 19
            raise api_error(action, "InvalidOperation.DiskCategoryUnsupported")
        if ephemeral and delete_with_instance is not True:  # 20
            raise api_error(action, "InvalidParameter.DeleteWithInstance")
        if disk["Status"] == "Available":  # 7
            raise api_error(action, "InvalidDisk.AlreadyDetached")
        if disk.get("ImageId") and disk_id in settings.base_image_missing_disk_ids:  # 21
            raise api_error(action, "InvalidDiskId.OperationNotSupported")
        if instance_id not in self._attached_ids(disk):  # 8
            raise api_error(action, "DependencyViolation")
        if (disk_id, instance_id) in self._detaching:  # 9
            raise api_error(action, "InvalidOperation.DiskDetachingFromThisEcs")
        if not disk["Portable"]:  # 10
            raise api_error(action, "DiskNotPortable")
        if disk_id in settings.whitelist_required_disk_ids:  # 11
            raise api_error(action, "UserNotInTheWhiteList")
        still_attaching = (
            disk_id,
            instance_id,
        ) in self._attaching  # a multi-attach disk can be In_use meanwhile
        if (
            disk["Status"] != "In_use" or still_attaching or _has_lock(disk, "financial", "OperationLock")
        ):  # 12
            raise api_error(action, "IncorrectDiskStatus")
        if disk["Type"] == "system":
            if instance["InstanceType"] in settings.no_system_disk_detach_instance_types:  # 13
                raise api_error(action, "DiskTypeViolation")
            if instance["Status"] != "Stopped":  # 14
                raise api_error(action, "IncorrectInstanceStatus")
            if instance["ImageId"] in settings.deleted_image_ids:  # 15
                raise api_error(action, "InvalidInstance.ImageCategory")
        else:
            if instance["Status"] not in ("Running", "Stopped"):  # 16
                raise api_error(action, "IncorrectInstanceStatus")
            if (
                instance["Status"] == "Running"
                and instance["InstanceType"] in settings.no_hot_detach_instance_types
            ):
                raise api_error(action, "InvalidOperation.InstanceTypeNotSupport")  # 17
        detaching_here = sum(1 for (_, owner) in self._detaching if owner == instance_id)
        if detaching_here >= settings.max_detaching_per_instance:  # 18
            raise api_error(action, "DisksDetachingOnEcsExceeded")

        self._schedule("DetachDisk", instance_id, disk_id)
        self._guests.on_detach(disk_id, instance_id, self.now())  # the API detaches a mounted disk too
        if is_multi:
            self._settle_multi(disk)
        else:
            disk["Status"] = "Detaching"
            disk["DeleteWithInstance"] = (
                delete_with_instance if delete_with_instance is not None else disk["Type"] == "system"
            )
        if ephemeral:  # attaches back only to the instance it came from
            self._origins[disk_id] = instance_id
        elif disk["Type"] == "system":  # boots only the instance it was first detached from, even after a
            self._origins.setdefault(disk_id, instance_id)  # stay on another one as a data disk
        return {}

    # ----------------------------------------------------------------------------------------------
    # AttachDisk
    # ----------------------------------------------------------------------------------------------

    def _attach_disk(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        """AttachDisk, checked in this order (the first failure answers).

        Missing ids (400 ``MissingInstanceId``/``MissingDiskId``); bad region; malformed Bootable,
        DeleteWithInstance, Force; no instance (404); no disk (404); instance security lock (403);
        multi-attach disk with DeleteWithInstance (403 ``DeleteWithInstance.Conflict``) or Bootable (403
        ``InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk``); disk not ``Available`` (a
        multi-attach disk may be ``In_use`` elsewhere) (403 ``IncorrectDiskStatus``); other zone (403
        ``ResourcesNotInSameZone``); the disk's category on an instance type that cannot take it (the
        ``UnsupportedDiskCategories`` knob; 403 ``InvalidInstanceType.NotSupportDiskCategory``); a
        multi-attach disk on 16 instances (403 ``DiskAttachedNumberExceeded``); a data disk on an instance
        that has 64 (403 ``InstanceDiskLimitExceeded``); disk financial lock (403 ``DiskInArrears``); not
        portable (403).
        System disk (``Bootable=true``): a data disk (400 ``InvalidDisk.DiskNotBootable``); not its
        original instance (400 ``InvalidInstance.NotOriginInstance``); instance not ``Stopped`` (400
        ``IncorrectInstanceStatus``); instance already has a system disk (403 ``InvalidDevice.InUse``);
        neither Password nor KeyPairName (403 ``InvalidParameter.AllEmpty``). Data disk: instance neither
        ``Running`` nor ``Stopped`` (400 ``IncorrectInstanceStatus``); ``Running`` on a type that cannot
        hot-swap (400 ``InvalidOperation.InstanceTypeNotSupport``); a Device in use (403).
        """
        action = "AttachDisk"
        disk_id, instance_id = p.get("DiskId"), p.get("InstanceId")
        if not instance_id:
            raise missing_parameter("InstanceId")
        if not disk_id:
            raise missing_parameter("DiskId")
        region = self._region(action, p, region_hint)
        bootable = p.boolean("Bootable")
        delete_with_instance = p.boolean("DeleteWithInstance")
        p.boolean("Force")
        device = p.text("Device")
        instance = self._instance(action, instance_id, region)
        disk = self._disk(action, disk_id, region)
        settings = self._settings
        if _has_lock(instance, "security", "LockReason"):
            raise api_error(action, "InstanceLockedForSecurity")
        is_multi = disk["MultiAttach"] == "Enabled"
        if is_multi and delete_with_instance is not None:
            raise api_error(action, "DeleteWithInstance.Conflict")
        if is_multi and bootable:
            raise api_error(action, "InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk")
        if is_multi:
            if disk["Status"] not in ("Available", "In_use") or instance_id in self._attached_ids(disk):
                raise api_error(action, "IncorrectDiskStatus")
        elif disk["Status"] != "Available":
            raise api_error(action, "IncorrectDiskStatus")
        if disk["ZoneId"] != instance["ZoneId"]:
            raise api_error(action, "ResourcesNotInSameZone")
        if disk["Category"] in settings.unsupported_disk_categories.get(instance["InstanceType"], ()):
            raise api_error(action, "InvalidInstanceType.NotSupportDiskCategory")
        if is_multi and len(disk["Attachments"]["Attachment"]) >= MAX_MULTI_ATTACHMENTS:
            raise api_error(action, "DiskAttachedNumberExceeded")
        if not bootable and sum(1 for d in self._disks_on(instance_id) if d["Type"] == "data") >= (
            MAX_DATA_DISKS_PER_INSTANCE
        ):
            raise api_error(action, "InstanceDiskLimitExceeded")
        if _has_lock(disk, "financial", "OperationLock"):
            raise api_error(action, "DiskInArrears")
        if not disk["Portable"]:
            raise api_error(action, "DiskNotPortable")
        origin = self._origins.get(disk_id)
        if disk["Category"] in ELASTIC_EPHEMERAL_CATEGORIES and origin not in (None, instance_id):
            raise api_error(action, "InvalidOperation.OtherInstanceUnsupported")
        used = {
            a["Device"]
            for d in self._disks_on(instance_id)
            for a in d["Attachments"]["Attachment"]
            if a["InstanceId"] == instance_id
        }
        if bootable:
            if disk["Type"] != "system":
                raise api_error(action, "InvalidDisk.DiskNotBootable")
            origin = self._origins.get(disk_id)
            if origin is not None and origin != instance_id:
                raise api_error(action, "InvalidInstance.NotOriginInstance")
            if instance["Status"] != "Stopped":
                raise api_error(action, "IncorrectInstanceStatus")
            if self._system_disk_of(instance_id) is not None or "/dev/xvda" in used:
                raise api_error(action, "InvalidDevice.InUse")
            if not p.get("Password") and not p.get("KeyPairName"):
                raise api_error(action, "InvalidParameter.AllEmpty")
            device = "/dev/xvda"
            if p.get("KeyPairName"):
                instance["KeyPairName"] = p.text("KeyPairName")
        else:
            if instance["Status"] not in ("Running", "Stopped"):
                raise api_error(action, "IncorrectInstanceStatus")
            if (
                instance["Status"] == "Running"
                and instance["InstanceType"] in settings.no_hot_detach_instance_types
            ):
                raise api_error(action, "InvalidOperation.InstanceTypeNotSupport")
            if device:
                if not re.fullmatch(r"/dev/x?vd[b-z]{1,2}", device):
                    raise invalid_parameter("Device")
                if device in used:
                    raise api_error(action, "InvalidDevice.InUse")
            else:
                device = next_device(used | {"/dev/xvda"}, "data")

        attachment = {"InstanceId": instance_id, "Device": device, "AttachedTime": ""}
        disk["Attachments"]["Attachment"].append(attachment)
        self._schedule("AttachDisk", instance_id, disk_id)
        if is_multi:
            self._settle_multi(disk)
        else:
            disk.update({"Status": "Attaching", "InstanceId": instance_id, "Device": device})
            disk["DeleteWithInstance"] = bool(delete_with_instance)
        return {}

    # ----------------------------------------------------------------------------------------------
    # CreateSnapshot / DescribeSnapshots (``snapshots.py``)
    # ----------------------------------------------------------------------------------------------

    def _create_snapshot(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        action = "CreateSnapshot"
        return self._snapshots.create(
            p,
            disk_of=lambda disk_id: self._disk(action, disk_id, self._region(action, p, region_hint)),
            instance_of=self._instances.get,
            region_of=lambda: self._region(action, p, region_hint),
        )

    def _describe_snapshots(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        region = self._required_region("DescribeSnapshots", p, region_hint)
        return self._snapshots.describe(
            p,
            region=region,
            attached_to=lambda disk_id: (
                self._attached_ids(self._disks[disk_id]) if disk_id in self._disks else []
            ),
            paginate=lambda items: self._paginate(items, p, MAX_PAGE_SIZE),
        )

    # ----------------------------------------------------------------------------------------------
    # StopInstance / StartInstance
    # ----------------------------------------------------------------------------------------------

    def _stop_instance(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        """StopInstance: missing id; bad region or flags; no instance (404); security lock (403);
        not ``Running`` (403 ``IncorrectInstanceStatus``); ``DryRun`` (400 ``DryRunOperation``).
        Then ``Stopping``, and ``Stopped`` after the stop time."""
        action = "StopInstance"
        instance_id = p.get("InstanceId")
        if not instance_id:
            raise missing_parameter("InstanceId")
        region = self._region(action, p, region_hint)
        dry_run, stopped_mode = self._stop_options(p)
        instance = self._stoppable(action, instance_id, region)
        if dry_run:
            raise api_error(action, "DryRunOperation")
        self._stop(instance, stopped_mode)
        return {}

    def _stop_options(self, p: _Params) -> tuple[bool, str]:
        for flag in ("ForceStop", "ConfirmStop", "Hibernate"):
            p.boolean(flag)
        dry_run = bool(p.boolean("DryRun"))
        stopped_mode = p.text("StoppedMode")
        if stopped_mode and stopped_mode not in _STOPPED_MODES:
            raise invalid_parameter("StoppedMode")
        return dry_run, stopped_mode

    def _stoppable(self, action: str, instance_id: str, region: str | None) -> dict[str, Any]:
        instance = self._instance(action, instance_id, region)
        if _has_lock(instance, "security", "LockReason"):
            raise api_error(action, "InstanceLockedForSecurity")
        if instance["Status"] != "Running":
            raise api_error(action, "IncorrectInstanceStatus")
        return instance

    def _stop(self, instance: dict[str, Any], stopped_mode: str) -> None:
        if stopped_mode == "StopCharging" and instance["InstanceChargeType"] != "PostPaid":
            stopped_mode = "KeepCharging"  # economical mode is silently ignored where unsupported
        instance["Status"] = "Stopping"
        self._schedule("StopInstance", instance["InstanceId"], stopped_mode=stopped_mode or "KeepCharging")

    def _start_instance(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        """StartInstance: missing id; bad region or flags; no instance (404); security lock (403);
        not ``Stopped`` (403 ``IncorrectInstanceStatus``); financial lock (403 ``InsufficientBalance``);
        no system disk (400 ``InvalidInstance.NotFoundSystemDisk``); system disk still attaching or
        detaching (403 ``InstanceNotReady``); ``DryRun``.
        Then ``Starting``, and ``Running`` after the start time."""
        action = "StartInstance"
        instance_id = p.get("InstanceId")
        if not instance_id:
            raise missing_parameter("InstanceId")
        region = self._region(action, p, region_hint)
        p.boolean("InitLocalDisk")
        dry_run = p.boolean("DryRun")
        instance = self._startable(action, instance_id, region)
        if dry_run:
            raise api_error(action, "DryRunOperation")
        self._start(instance)
        return {}

    def _startable(self, action: str, instance_id: str, region: str | None) -> dict[str, Any]:
        instance = self._instance(action, instance_id, region)
        if _has_lock(instance, "security", "LockReason"):
            raise api_error(action, "InstanceLockedForSecurity")
        if instance["Status"] != "Stopped":
            raise api_error(action, "IncorrectInstanceStatus")
        if _has_lock(instance, "financial", "LockReason") or _has_lock(
            instance, "dedicatedhostfinancial", "LockReason"
        ):
            raise api_error(action, "InsufficientBalance")
        system_disks = [d for d in self._disks_on(instance_id) if d["Type"] == "system"]
        if not system_disks:
            raise api_error(action, "InvalidInstance.NotFoundSystemDisk")
        if any(d["Status"] != "In_use" for d in system_disks):
            raise api_error(action, "InstanceNotReady")
        return instance

    def _start(self, instance: dict[str, Any]) -> None:
        instance["Status"] = "Starting"
        self._schedule("StartInstance", instance["InstanceId"])

    # ----------------------------------------------------------------------------------------------
    # StopInstances / StartInstances (batch) and DescribeInstanceStatus
    # ----------------------------------------------------------------------------------------------

    def _stop_instances(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        """StopInstances: ``InstanceId.N`` (1 to 100) in ``RegionId``, each checked as StopInstance does."""
        action = "StopInstances"
        region = self._required_region(action, p, region_hint)
        dry_run, stopped_mode = self._stop_options(p)
        return self._batch(
            action,
            p,
            region,
            dry_run,
            check=lambda instance_id: self._stoppable(action, instance_id, region),
            apply=lambda instance: self._stop(instance, stopped_mode),
        )

    def _start_instances(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        """StartInstances: ``InstanceId.N`` (1 to 100) in ``RegionId``, each checked as StartInstance does."""
        action = "StartInstances"
        region = self._required_region(action, p, region_hint)
        dry_run = bool(p.boolean("DryRun"))
        return self._batch(
            action,
            p,
            region,
            dry_run,
            check=lambda instance_id: self._startable(action, instance_id, region),
            apply=self._start,
        )

    def _batch(
        self,
        action: str,
        p: _Params,
        region: str,
        dry_run: bool,
        *,
        check: Callable[[str], dict[str, Any]],
        apply: Callable[[dict[str, Any]], None],
    ) -> dict[str, Any]:
        """``BatchOptimization``: ``AllTogether`` (the default) checks every instance first and answers the
        first refusal with nothing applied (a passing ``DryRun``: ``DryRunOperation``); ``SuccessFirst``
        applies each instance on its own and reports each (``DryRun``: ``DRYRUN.SUCCESS`` for every one,
        as the API documents)."""
        ids = p.numbered("InstanceId", limit=MAX_IDS_PER_FILTER)
        mode = p.text("BatchOptimization") or "AllTogether"
        if mode not in _BATCH_MODES:
            raise invalid_parameter("BatchOptimization")
        responses = []
        if mode == "AllTogether":
            instances = [check(instance_id) for instance_id in ids]
            if dry_run:
                raise api_error(action, "DryRunOperation")
            for instance in instances:
                before = instance["Status"]
                apply(instance)
                responses.append(_batch_entry(instance["InstanceId"], "200", "success", before, instance))
            return {"InstanceResponses": {"InstanceResponse": responses}}
        for instance_id in ids:
            known = self._instances.get(instance_id)
            found = known if known is not None and known["RegionId"] == region else None
            before = found["Status"] if found else ""
            if dry_run:
                message = COMMON_DRY_RUN_MESSAGE
                responses.append(_batch_entry(instance_id, "DRYRUN.SUCCESS", message, before, found))
                continue
            try:
                instance = check(instance_id)
            except EmulatorError as error:
                responses.append(_batch_entry(instance_id, error.code, error.message, before, found))
                continue
            apply(instance)
            responses.append(_batch_entry(instance_id, "200", "success", before, instance))
        return {"InstanceResponses": {"InstanceResponse": responses}}

    def _describe_instance_status(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        """DescribeInstanceStatus: the status of every instance of ``RegionId`` (or of ``InstanceId.N``,
        1 to 100; ids that do not exist are left out), optionally in ``ZoneId``; pages of 1 to 50."""
        action = "DescribeInstanceStatus"
        region = self._required_region(action, p, region_hint)
        ids = p.numbered("InstanceId", limit=MAX_IDS_PER_FILTER, required=False)
        zone = p.get("ZoneId")
        page_number = p.integer("PageNumber")
        page_size = p.integer("PageSize")
        if page_number is not None and page_number < 1:
            raise invalid_parameter("PageNumber")
        if page_size is not None and not 1 <= page_size <= 50:
            raise invalid_parameter("PageSize")
        checks: list[Callable[[dict[str, Any]], bool]] = []
        if ids:
            wanted = set(ids)
            checks.append(lambda i: i["InstanceId"] in wanted)
        if zone:
            checks.append(lambda i: i["ZoneId"] == zone)
        matched = _matching(self._instances_in.get(region, []), checks)
        number, size = page_number or 1, page_size or DEFAULT_PAGE_SIZE
        page = matched[(number - 1) * size : number * size]
        return {
            "TotalCount": len(matched),
            "PageNumber": number,
            "PageSize": size,
            "InstanceStatuses": {
                "InstanceStatus": [{"InstanceId": i["InstanceId"], "Status": i["Status"]} for i in page]
            },
        }

    # ----------------------------------------------------------------------------------------------
    # Cloud Assistant (the guests are modelled in guests.py)
    # ----------------------------------------------------------------------------------------------

    def _instance_status(self, instance_id: str) -> str | None:
        instance = self._instances.get(instance_id)
        return None if instance is None else str(instance["Status"])

    def _guest_devices(self, instance_id: str) -> list[tuple[str, str]]:
        """The disks the guest sees: attached (or still detaching) ones, by device name."""
        seen = []
        for disk in self._disks_on(instance_id):
            if disk["MultiAttach"] != "Enabled" and disk["Status"] not in ("In_use", "Detaching"):
                continue
            if (disk["DiskId"], instance_id) in self._attaching:
                continue
            for attachment in disk["Attachments"]["Attachment"]:
                if attachment["InstanceId"] == instance_id:
                    seen.append((disk["DiskId"], attachment["Device"] or disk["Device"]))
        return sorted(seen, key=lambda pair: pair[1])

    def _in_region(self, region: str | None) -> Callable[[str], bool]:
        return lambda instance_id: region is None or self._instances[instance_id]["RegionId"] == region

    def _describe_cloud_assistant_status(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        region = self._required_region("DescribeCloudAssistantStatus", p, region_hint)
        return self._guests.describe_status(p._raw, region, self._in_region(region))

    def _run_command(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        region = self._required_region("RunCommand", p, region_hint)
        seconds = self._duration("RunCommand")
        return self._guests.run_command(p._raw, self.now(), seconds, self._in_region(region))

    def _describe_invocation_results(self, p: _Params, region_hint: str | None) -> dict[str, Any]:
        self._required_region("DescribeInvocationResults", p, region_hint)
        return self._guests.describe_results(p._raw)


def _batch_entry(
    instance_id: str, code: str, message: str, before: str, instance: Mapping[str, Any] | None
) -> dict[str, str]:
    """One ``InstanceResponse`` of a batch action."""
    return {
        "InstanceId": instance_id,
        "Code": code,
        "Message": message,
        "PreviousStatus": before,
        "CurrentStatus": instance["Status"] if instance is not None else "",
    }
