"""Guests: what the operating system inside an instance uses, and Cloud Assistant over it.

The fleet file's ``Emulator.Guests`` section describes, per instance, the guest the emulator pretends runs
there (the keys the guest-aware issue pins, plus a few of our own)::

    "Guests": {"i-...": {
        "OSType": "linux" | "windows",            # default linux
        "Agent": "running" | "stopped" | "absent",  # Cloud Assistant Agent; default running
        "Mounts": [{"DiskId": "d-...", "Partition": 1, "MountPoint": "/data", "FsType": "ext4",
                    "Fstab": true, "FstabBy": "UUID" | "LABEL" | "device", "Nofail": false,
                    "Busy": false, "Holder": {"Command": "java", "Pid": 2211, "User": "app"},
                    "Label": "data", "Mounted": true,
                    "MountError": ""}],  # Windows: "MountPoint": "D:"
        "Swap": [{"DiskId": "d-...", "Partition": 1}],
        "Lvm": [{"DiskId": "d-...", "Partition": 1, "VolumeGroup": "vg_data", "LogicalVolume": "lv_data",
                 "MountPoint": "/srv"}],
        "Raid": [{"DiskId": "d-...", "Partition": 1, "Array": "md0", "Level": "raid1"}],
        "OfflineDisks": ["d-..."],                 # Windows: disks taken offline
        "HangOn": "",                              # fault knob: scripts containing it never finish
        "EtcFstab": ["..."]}}                      # filled from Mounts when absent; edits change it

A mount's ``MountError`` (a fault knob, default none) makes ``mount MOUNTPOINT`` fail with that text
(``mount: /data: TEXT``, exit 32), as a damaged file system or a missing helper would; the state shows the key
only when it is set, and a reset without it clears the fault.

A guest's ``HangOn`` (a fault knob, default none) keeps every invocation whose script contains that text
``Running`` for ever (a script that never returns, an agent that never reports): ``"HangOn": "lsblk"`` hangs
the toolkit's probe, ``"HangOn": "umount"`` its unmount.

An instance the section does not name runs a Linux guest with the agent running and nothing mounted but its
root file system. The guest sees a disk as a block device whose serial is the disk id without ``d-`` (the
first 20 characters, the virtio-blk limit), under the device name the API reports (``/dev/xvdb`` is
``vdb``); on Windows, disks are numbered in device order.

Cloud Assistant (``DescribeCloudAssistantStatus``, ``RunCommand``, ``DescribeInvocationResults``) follows
the API's parameters and shapes. An invocation is ``Running`` until ``Durations.RunCommand`` seconds
(2) of emulator time have passed, then the script runs against the model and the result is ``Success``
(exit 0) or ``Failed`` (``ExitCodeNonzero``); an instance not Running, or an agent not running, ends the
invocation as ``Aborted`` with the documented ``ErrorCode``/``ErrorInfo``. ``Output`` is base64 unless
``ContentEncoding=PlainText``.

The guest shell runs one command a line (blank lines and ``#`` comments skipped; ``set -e`` stops at the
first failure; ``exit N``); it knows only what the toolkit's probe and fixes use, with their real output:
``echo``, ``sync``, ``lsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL``, ``cat /etc/fstab``,
``cat /proc/swaps``, ``cp -p /etc/fstab FILE``, ``fuser -vm MOUNTPOINT``, ``findmnt -n -o SOURCE MOUNTPOINT``,
``umount MOUNTPOINT``, ``mount MOUNTPOINT`` (from /etc/fstab), ``sed -i 's|^LITERAL|TEXT|' /etc/fstab`` and
``sed -i 's|^# ecs-detach: ||' /etc/fstab`` (the toolkit's comment marker). Anything else answers
``sh: line N: NAME: command not found`` with exit 127. The PowerShell side knows ``Write-Output``,
``Get-Disk | Select-Object Number,SerialNumber,IsOffline,OperationalStatus | ConvertTo-Json``,
``Get-Partition | Select-Object DiskNumber,PartitionNumber,DriveLetter | ConvertTo-Json`` and
``Set-Disk -Number N -IsOffline $true|$false`` and ``Get-Disk -SerialNumber 'SERIAL' | Set-Disk
-IsOffline $true|$false`` (no such disk: "No MSFT_Disk objects found", exit 1); anything else answers
PowerShell's "is not recognized" error (exit 1).

DetachDisk of a mounted disk still succeeds (as the real API does); ``hazards`` then records what the guest
lost (writes in flight, a dangling /etc/fstab line), and the snapshot's ``Guests`` section shows them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .clock import iso_time
from .errors import RECOMMEND_URL, EmulatorError, missing_parameter

OS_TYPES = ("linux", "windows")
AGENT_STATES = ("running", "stopped", "absent")
COMMAND_TYPES = ("RunShellScript", "RunPowerShellScript", "RunBatScript")
FSTAB_MARKER = "# ecs-detach: "
_ROOT_FSTAB = "UUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 defaults 1 1"
_MAX_INSTANCES = 100

# Attached disks of an instance as the guest sees them: (disk id, the API's device name), in device order.
Attached = Callable[[str], list[tuple[str, str]]]
StatusOf = Callable[[str], str | None]  # an instance's Status, None if there is no such instance


class GuestError(ValueError):
    """A bad ``Emulator.Guests`` section; the fleet loader reports it as a FleetError."""


def _error(status: int, code: str, message: str) -> EmulatorError:
    return EmulatorError(status, code, message, recommend=RECOMMEND_URL.format(code=code))


def serial_of(disk_id: str) -> str:
    """The block device serial the guest sees for a disk: its id without ``d-``, at most 20 characters."""
    return (disk_id[2:] if disk_id.startswith("d-") else disk_id)[:20]


def fs_uuid(disk_id: str, partition: int) -> str:
    digest = hashlib.sha256(f"{disk_id}/{partition}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


# --------------------------------------------------------------------------------------------------
# The section: normalization
# --------------------------------------------------------------------------------------------------


def normalize_guests(
    raw: Any, instance_ids: Mapping[str, Any], disk_ids: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``Guests`` section with defaults filled in; raises GuestError saying what is wrong and where."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise GuestError('Emulator.Guests: expected an object like {"i-...": {"OSType": "linux", ...}}')
    guests: dict[str, Any] = {}
    for instance_id, item in raw.items():
        where = f"Emulator.Guests.{instance_id}"
        if instance_id not in instance_ids:
            raise GuestError(f"{where}: {instance_id!r} is not an instance of the fleet")
        if not isinstance(item, Mapping):
            raise GuestError(f"{where}: expected an object")
        guests[str(instance_id)] = _normalize_guest(item, where, disk_ids)
    return guests


def _choice(item: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str, where: str) -> str:
    value = item.get(key, default)
    if value not in allowed:
        raise GuestError(f"{where}.{key}: expected one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _normalize_guest(item: Mapping[str, Any], where: str, disk_ids: Mapping[str, Any]) -> dict[str, Any]:
    os_type = _choice(item, "OSType", OS_TYPES, "linux", where)
    guest: dict[str, Any] = {
        "OSType": os_type,
        "Agent": _choice(item, "Agent", AGENT_STATES, "running", where),
        "Mounts": [
            _normalize_mount(m, f"{where}.Mounts[{i}]", disk_ids, os_type)
            for i, m in enumerate(_items(item, "Mounts", where))
        ],
    }
    for key in ("Swap", "Lvm", "Raid"):
        guest[key] = [
            _normalize_member(m, f"{where}.{key}[{i}]", disk_ids, key)
            for i, m in enumerate(_items(item, key, where))
        ]
    offline = item.get("OfflineDisks", [])
    if not isinstance(offline, list) or any(d not in disk_ids for d in offline):
        raise GuestError(f"{where}.OfflineDisks: expected a list of disk ids of the fleet")
    guest["OfflineDisks"] = list(offline)
    fstab = item.get("EtcFstab")
    if fstab is None:
        fstab = (
            [_ROOT_FSTAB] + [fstab_line(m) for m in guest["Mounts"] if m["Fstab"]]
            if os_type == "linux"
            else []
        )
    if not isinstance(fstab, list) or not all(isinstance(line, str) for line in fstab):
        raise GuestError(f"{where}.EtcFstab: expected a list of lines")
    guest["EtcFstab"] = list(fstab)
    hang_on = item.get("HangOn", "")
    if not isinstance(hang_on, str):
        raise GuestError(f"{where}.HangOn: expected a piece of script text like 'umount', got {hang_on!r}")
    if hang_on:
        guest["HangOn"] = hang_on  # kept out of the state unless set
    guest["Backups"] = dict(item.get("Backups", {})) if isinstance(item.get("Backups"), Mapping) else {}
    guest["Hazards"] = list(item.get("Hazards", [])) if isinstance(item.get("Hazards"), list) else []
    return guest


def _items(item: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise GuestError(f"{where}.{key}: expected a list of objects")
    return value


def _disk_and_partition(m: Mapping[str, Any], where: str, disk_ids: Mapping[str, Any]) -> tuple[str, int]:
    disk_id = m.get("DiskId")
    if not isinstance(disk_id, str) or disk_id not in disk_ids:
        raise GuestError(f"{where}.DiskId: {disk_id!r} is not a disk of the fleet")
    partition = m.get("Partition", 1)
    if isinstance(partition, bool) or not isinstance(partition, int) or not 0 <= partition <= 128:
        raise GuestError(f"{where}.Partition: expected 0 (the whole disk) to 128, got {partition!r}")
    return disk_id, partition


def _flag(m: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = m.get(key, default)
    if not isinstance(value, bool):
        raise GuestError(f"{where}.{key}: expected true or false, got {value!r}")
    return value


def _normalize_mount(
    m: Mapping[str, Any], where: str, disk_ids: Mapping[str, Any], os_type: str
) -> dict[str, Any]:
    disk_id, partition = _disk_and_partition(m, where, disk_ids)
    mount_point = m.get("MountPoint")
    pattern = r"[A-Z]:" if os_type == "windows" else r"/[A-Za-z0-9._/-]*"
    if not isinstance(mount_point, str) or not re.fullmatch(pattern, mount_point):
        shape = "a drive letter like 'D:'" if os_type == "windows" else "an absolute path like '/data'"
        raise GuestError(f"{where}.MountPoint: expected {shape}, got {mount_point!r}")
    holder = m.get("Holder", {"Command": "bash", "Pid": 4242, "User": "root"})
    if isinstance(holder, str):
        holder = {"Command": holder, "Pid": 4242, "User": "root"}
    if not isinstance(holder, Mapping):
        raise GuestError(f"{where}.Holder: expected a command name or {{Command, Pid, User}}")
    normalized = {
        "DiskId": disk_id,
        "Partition": partition,
        "MountPoint": mount_point,
        "FsType": str(m.get("FsType", "NTFS" if os_type == "windows" else "ext4")),
        "Fstab": _flag(m, "Fstab", False, where),
        "FstabBy": _choice(m, "FstabBy", ("UUID", "LABEL", "device"), "UUID", where),
        "Nofail": _flag(m, "Nofail", False, where),
        "Busy": _flag(m, "Busy", False, where),
        "Holder": {
            "Command": str(holder.get("Command", "bash")),
            "Pid": int(holder.get("Pid", 4242)),
            "User": str(holder.get("User", "root")),
        },
        "Label": str(m.get("Label", "")),
        "Mounted": _flag(m, "Mounted", True, where),
    }
    mount_error = m.get("MountError", "")
    if not isinstance(mount_error, str):
        raise GuestError(f"{where}.MountError: expected the text mount prints, got {mount_error!r}")
    if mount_error:
        normalized["MountError"] = mount_error  # kept out of the state unless set
    return normalized


def _normalize_member(
    m: Mapping[str, Any], where: str, disk_ids: Mapping[str, Any], kind: str
) -> dict[str, Any]:
    disk_id, partition = _disk_and_partition(m, where, disk_ids)
    member: dict[str, Any] = {"DiskId": disk_id, "Partition": partition}
    if kind == "Lvm":
        member["VolumeGroup"] = str(m.get("VolumeGroup", "vg_data"))
        member["LogicalVolume"] = str(m.get("LogicalVolume", "lv_data"))
        member["MountPoint"] = str(m.get("MountPoint", ""))
    elif kind == "Raid":
        member["Array"] = str(m.get("Array", "md0"))
        member["Level"] = str(m.get("Level", "raid1"))
    return member


def fstab_line(mount: Mapping[str, Any], device: str = "") -> str:
    """The /etc/fstab line of a mount (by UUID, LABEL or device path)."""
    if mount["FstabBy"] == "LABEL" and mount["Label"]:
        spec = f"LABEL={mount['Label']}"
    elif mount["FstabBy"] == "device":
        part = f"-part{mount['Partition']}" if mount["Partition"] else ""
        spec = device or f"/dev/disk/by-id/virtio-{serial_of(mount['DiskId'])}{part}"
    else:
        spec = f"UUID={fs_uuid(mount['DiskId'], mount['Partition'])}"
    options = "defaults,nofail" if mount["Nofail"] else "defaults"
    return f"{spec} {mount['MountPoint']} {mount['FsType']} {options} 0 2"


# --------------------------------------------------------------------------------------------------
# Cloud Assistant
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Invocation:
    invoke_id: str
    command_id: str
    instance_id: str
    command_type: str
    content: str
    start: float
    due: float
    name: str
    status: str = "Running"
    output: str = ""
    exit_code: int = 0
    error_code: str = ""
    error_info: str = ""
    finished: float | None = None


_ABORTS = {
    "InstanceNotRunning": "the instance is not running when create task",
    "ClientNotRunning": "the aliyun service is not running on the instance",
    "ClientNotResponse": "the aliyun service in the instance does not response",
    "CommandNotApplicable": "the command is not applicable",
}


class Guests:
    """The guests of a fleet and Cloud Assistant over them (the backend holds the lock)."""

    def __init__(self, section: Mapping[str, Any], attached: Attached, status_of: StatusOf) -> None:
        self.guests: dict[str, dict[str, Any]] = {k: dict(v) for k, v in section.items()}
        self._attached = attached
        self._status_of = status_of
        self._invocations: dict[str, _Invocation] = {}
        self._seq = 0

    def guest(self, instance_id: str) -> dict[str, Any]:
        """The guest of an instance (an implied plain Linux guest if the section does not name it)."""
        if instance_id not in self.guests:
            self.guests[instance_id] = _normalize_guest({}, instance_id, {})
            self.guests[instance_id]["_implied"] = True
        return self.guests[instance_id]

    def to_section(self) -> dict[str, Any]:
        return {
            i: {k: v for k, v in g.items() if not k.startswith("_")}
            for i, g in self.guests.items()
            if not g.get("_implied") or g["Hazards"]
        }

    # --- time -------------------------------------------------------------------------------------

    def fire_due(self, now: float) -> bool:
        """Finish the invocations that are due; True if any did (the state changed)."""
        fired = False
        for invocation in self._invocations.values():
            if invocation.status == "Running" and invocation.due <= now:
                self._finish(invocation)
                fired = True
        return fired

    def _finish(self, inv: _Invocation) -> None:
        inv.finished = inv.due
        abort = self._abort_code(inv.instance_id, inv.command_type)
        if abort:
            inv.status = "Invalid" if abort == "CommandNotApplicable" else "Aborted"
            inv.error_code, inv.error_info, inv.exit_code = abort, _ABORTS[abort], 0
            return
        guest = self.guest(inv.instance_id)
        shell = (
            _PowerShell(self, inv.instance_id)
            if guest["OSType"] == "windows"
            else _Shell(self, inv.instance_id)
        )
        inv.output, inv.exit_code = shell.run(inv.content)
        if inv.exit_code == 0:
            inv.status = "Success"
        else:
            inv.status = "Failed"
            inv.error_code, inv.error_info = (
                "ExitCodeNonzero",
                "the command execution exits with a non-zero code",
            )

    def _abort_code(self, instance_id: str, command_type: str) -> str:
        if self._status_of(instance_id) != "Running":
            return "InstanceNotRunning"
        guest = self.guest(instance_id)
        if guest["Agent"] == "absent":
            return "ClientNotResponse"
        if guest["Agent"] == "stopped":
            return "ClientNotRunning"
        windows = guest["OSType"] == "windows"
        if windows != (command_type != "RunShellScript"):
            return "CommandNotApplicable"
        return ""

    # --- hazards ----------------------------------------------------------------------------------

    def on_detach(self, disk_id: str, instance_id: str, at: float) -> None:
        """DetachDisk went through: what the guest still had on that disk is lost or left dangling."""
        guest = self.guests.get(instance_id)
        if guest is None:
            return
        for mount in guest["Mounts"]:
            if mount["DiskId"] != disk_id or not mount["Mounted"]:
                continue
            mount["Mounted"] = False
            guest["Hazards"].append(
                {
                    "DiskId": disk_id,
                    "Time": iso_time(at),
                    "Hazard": f"detached while mounted on {mount['MountPoint']}: writes in flight were lost",
                }
            )
        for line in guest["EtcFstab"]:
            if _line_is_for(line, self, instance_id, disk_id):
                guest["Hazards"].append(
                    {
                        "DiskId": disk_id,
                        "Time": iso_time(at),
                        "Hazard": f"/etc/fstab still names the detached disk: {line}",
                    }
                )

    # --- actions ----------------------------------------------------------------------------------

    def describe_status(
        self, params: Mapping[str, Any], region: str | None, in_region: Callable[[str], bool]
    ) -> dict[str, Any]:
        ids = _numbered(params, "InstanceId")
        os_type = params.get("OSType")
        if os_type and str(os_type).lower() not in ("linux", "windows", "freebsd"):
            raise _error(400, "InvalidParameter", "The specified parameter OSType is not valid.")
        rows = []
        for instance_id in ids:
            if self._status_of(instance_id) is None or not in_region(instance_id):
                continue  # the API leaves unknown instances out of the set
            guest = self.guest(instance_id)
            if os_type and guest["OSType"] != str(os_type).lower():
                continue
            online = guest["Agent"] == "running" and self._status_of(instance_id) == "Running"
            invocations = [i for i in self._invocations.values() if i.instance_id == instance_id]
            rows.append(
                {
                    "InstanceId": instance_id,
                    "CloudAssistantStatus": "true" if online else "false",
                    "CloudAssistantVersion": "" if guest["Agent"] == "absent" else "2.2.3.857",
                    "OSType": guest["OSType"].capitalize(),
                    "InvocationCount": len(invocations),
                    "ActiveTaskCount": sum(1 for i in invocations if i.status == "Running"),
                    "LastInvokedTime": iso_time(max(i.start for i in invocations)) if invocations else "",
                    "SupportSessionManager": guest["Agent"] != "absent",
                }
            )
        return {
            "InstanceCloudAssistantStatusSet": {"InstanceCloudAssistantStatus": rows},
            "TotalCount": len(rows),
            "PageNumber": 1,
            "PageSize": max(len(ids), 1),
        }

    def run_command(
        self, params: Mapping[str, Any], now: float, duration: float, in_region: Callable[[str], bool]
    ) -> dict[str, Any]:
        command_type = params.get("Type")
        if not command_type:
            raise missing_parameter("Type")
        if command_type not in COMMAND_TYPES:
            raise _error(400, "InvalidCmdType.NotFound", "The specified command type does not exist.")
        content = params.get("CommandContent")
        if not content:
            raise missing_parameter("CommandContent")
        if str(params.get("ContentEncoding", "PlainText")).lower() == "base64":
            try:
                content = base64.b64decode(str(content), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _error(
                    400, "InvalidParameter.CommandContent", "The CommandContent is not valid Base64."
                ) from None
        ids = _numbered(params, "InstanceId")
        if not ids:
            raise missing_parameter("InstanceId")
        if len(ids) > _MAX_INSTANCES:
            raise _error(
                400, "InvalidParameter.InstanceIds", "The number of instances exceeds the limit of 100."
            )
        for instance_id in ids:
            if self._status_of(instance_id) is None or not in_region(instance_id):
                raise _error(404, "InvalidInstance.NotFound", "The specified instance does not exist.")
        self._seq += 1
        command_id = f"c-emu{self._seq:012d}"
        invoke_id = f"t-emu{self._seq:012d}"
        for instance_id in ids:
            key = f"{invoke_id}/{instance_id}"
            self._invocations[key] = _Invocation(
                invoke_id,
                command_id,
                instance_id,
                str(command_type),
                str(content),
                now,
                now + duration,
                str(params.get("Name", "")),
            )
            hang_on = self.guest(instance_id).get("HangOn")
            if hang_on and hang_on in str(content):
                self._invocations[key].due = float("inf")  # the HangOn knob: it never finishes
            elif duration <= 0:
                self._finish(self._invocations[key])
        return {"CommandId": command_id, "InvokeId": invoke_id}

    def describe_results(self, params: Mapping[str, Any]) -> dict[str, Any]:
        invoke_id, instance_id = params.get("InvokeId"), params.get("InstanceId")
        status = params.get("InvokeRecordStatus")
        plain = str(params.get("ContentEncoding", "Base64")).lower() == "plaintext"
        rows = []
        for inv in self._invocations.values():
            if (invoke_id and inv.invoke_id != invoke_id) or (instance_id and inv.instance_id != instance_id):
                continue
            record = (
                "Running"
                if inv.status == "Running"
                else ("Finished" if inv.status == "Success" else "Failed")
            )
            if status and status != record:
                continue
            output = inv.output if plain else base64.b64encode(inv.output.encode()).decode()
            rows.append(
                {
                    "CommandId": inv.command_id,
                    "InvokeId": inv.invoke_id,
                    "InstanceId": inv.instance_id,
                    "InvocationStatus": inv.status,
                    "InvokeRecordStatus": record,
                    "Output": output,
                    "ExitCode": inv.exit_code,
                    "ErrorCode": inv.error_code,
                    "ErrorInfo": inv.error_info,
                    "StartTime": iso_time(inv.start),
                    "FinishedTime": iso_time(inv.finished) if inv.finished is not None else "",
                    "StopTime": "",
                    "Repeats": 1,
                    "Dropped": 0,
                    "Username": "root" if inv.command_type == "RunShellScript" else "system",
                }
            )
        page_size = int(params.get("PageSize", 10) or 10)
        page_number = int(params.get("PageNumber", 1) or 1)
        start = (page_number - 1) * page_size
        return {
            "Invocation": {
                "InvocationResults": {"InvocationResult": rows[start : start + page_size]},
                "TotalCount": len(rows),
                "PageNumber": page_number,
                "PageSize": page_size,
                "NextToken": "",
            }
        }

    # --- what the guest sees ----------------------------------------------------------------------

    def devices(self, instance_id: str) -> list[tuple[str, str]]:
        """(disk id, guest device name like ``vdb``) of the disks attached to the instance, in order."""
        return [(disk_id, _guest_name(device)) for disk_id, device in self._attached(instance_id)]


def _guest_name(api_device: str) -> str:
    name = api_device.rsplit("/", 1)[-1]
    return "v" + name[2:] if name.startswith("xvd") else name


def _numbered(params: Mapping[str, Any], name: str) -> list[str]:
    found = []
    for key, value in params.items():
        match = re.fullmatch(rf"{name}\.([0-9]{{1,3}})", str(key))
        if match and value:
            found.append((int(match.group(1)), str(value)))
    return [value for _, value in sorted(found)]


def _line_is_for(line: str, guests: Guests, instance_id: str, disk_id: str) -> bool:
    fields = line.split()
    if not fields or line.lstrip().startswith("#"):
        return False
    spec = fields[0]
    guest = guests.guest(instance_id)
    for mount in guest["Mounts"]:
        if mount["DiskId"] != disk_id:
            continue
        serial = serial_of(disk_id)
        if (
            spec
            in (
                f"UUID={fs_uuid(disk_id, mount['Partition'])}",
                f"LABEL={mount['Label']}" if mount["Label"] else "\0",
            )
            or serial in spec
        ):
            return True
    return False


# --------------------------------------------------------------------------------------------------
# The guest shells
# --------------------------------------------------------------------------------------------------


class _Shell:
    """A tiny POSIX shell over a Linux guest's model: only the commands the toolkit's scripts use."""

    def __init__(self, guests: Guests, instance_id: str) -> None:
        self.guests = guests
        self.instance_id = instance_id
        self.guest = guests.guest(instance_id)
        self.out: list[str] = []

    def run(self, script: str) -> tuple[str, int]:
        errexit, code = False, 0
        for number, raw in enumerate(script.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#") or line.startswith("#!"):
                continue
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                self.out.append(f"sh: line {number}: syntax error: unterminated quoted string")
                return self._output(), 2
            if not words:
                continue
            if words == ["set", "-e"]:
                errexit = True
                continue
            if words[0] == "exit":
                return self._output(), int(words[1]) if len(words) > 1 and words[1].isdigit() else code
            code = self._command(words, number)
            if code and errexit:
                break
        return self._output(), code

    def _output(self) -> str:
        return "".join(line + "\n" for line in self.out)

    def _command(self, words: list[str], number: int) -> int:
        name, args = words[0], words[1:]
        handler: Callable[[], int] | None = {
            "echo": lambda: self._echo(args),
            "sync": lambda: 0,
            "lsblk": lambda: self._lsblk(args),
            "cat": lambda: self._cat(args),
            "cp": lambda: self._cp(args),
            "fuser": lambda: self._fuser(args),
            "findmnt": lambda: self._findmnt(args),
            "umount": lambda: self._umount(args),
            "mount": lambda: self._mount(args),
            "sed": lambda: self._sed(args),
        }.get(name)
        if handler is None:
            self.out.append(f"sh: line {number}: {name}: command not found")
            return 127
        return handler()

    def _echo(self, args: list[str]) -> int:
        self.out.append(" ".join(args))
        return 0

    # -- block devices -----------------------------------------------------------------------------

    def _partitions(self, disk_id: str) -> list[int]:
        numbers = {
            m["Partition"]
            for key in ("Mounts", "Swap", "Lvm", "Raid")
            for m in self.guest[key]
            if m["DiskId"] == disk_id
        }
        return sorted(numbers)

    def _node(self, disk_id: str, partition: int, name: str) -> dict[str, Any]:
        node: dict[str, Any] = {
            "name": name,
            "serial": serial_of(disk_id) if partition == 0 else None,
            "type": "disk" if partition == 0 else "part",
            "fstype": None,
            "mountpoint": None,
            "uuid": None,
            "label": None,
        }
        for mount in self.guest["Mounts"]:
            if mount["DiskId"] == disk_id and mount["Partition"] == partition:
                node.update(
                    fstype=mount["FsType"], uuid=fs_uuid(disk_id, partition), label=mount["Label"] or None
                )
                if mount["Mounted"]:
                    node["mountpoint"] = mount["MountPoint"]
        for swap in self.guest["Swap"]:
            if swap["DiskId"] == disk_id and swap["Partition"] == partition:
                node.update(fstype="swap", uuid=fs_uuid(disk_id, partition), mountpoint="[SWAP]")
        for lvm in self.guest["Lvm"]:
            if lvm["DiskId"] == disk_id and lvm["Partition"] == partition:
                node.update(fstype="LVM2_member", uuid=fs_uuid(disk_id, partition))
                node["children"] = [
                    {
                        "name": f"{lvm['VolumeGroup']}-{lvm['LogicalVolume']}",
                        "serial": None,
                        "type": "lvm",
                        "fstype": "xfs",
                        "mountpoint": lvm["MountPoint"] or None,
                        "uuid": fs_uuid(lvm["VolumeGroup"], 0),
                        "label": None,
                    }
                ]
        for raid in self.guest["Raid"]:
            if raid["DiskId"] == disk_id and raid["Partition"] == partition:
                node.update(fstype="linux_raid_member", uuid=fs_uuid(raid["Array"], 0))
                node["children"] = [
                    {
                        "name": raid["Array"],
                        "serial": None,
                        "type": raid["Level"],
                        "fstype": None,
                        "mountpoint": None,
                        "uuid": None,
                        "label": None,
                    }
                ]
        return node

    def _lsblk(self, args: list[str]) -> int:
        if args != ["-J", "-o", "NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL"]:
            self.out.append(
                "lsblk: this guest only answers: lsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL"
            )
            return 1
        devices = []
        for index, (disk_id, name) in enumerate(self.guests.devices(self.instance_id)):
            disk = self._node(disk_id, 0, name)
            if index == 0 and name.endswith("a"):  # the system disk: root on partition 1
                disk["children"] = [
                    {
                        "name": f"{name}1",
                        "serial": None,
                        "type": "part",
                        "fstype": "ext4",
                        "mountpoint": "/",
                        "uuid": _ROOT_FSTAB.split()[0][5:],
                        "label": None,
                    }
                ]
            parts = [self._node(disk_id, p, f"{name}{p}") for p in self._partitions(disk_id) if p > 0]
            if parts:
                disk["children"] = parts
            devices.append(disk)
        self.out.extend(json.dumps({"blockdevices": devices}, indent=3).splitlines())
        return 0

    def _device_of(self, mount: Mapping[str, Any]) -> str:
        for disk_id, name in self.guests.devices(self.instance_id):
            if disk_id == mount["DiskId"]:
                return f"/dev/{name}{mount['Partition']}" if mount["Partition"] else f"/dev/{name}"
        return ""

    def _mount_at(self, target: str) -> dict[str, Any] | None:
        mounts: list[dict[str, Any]] = self.guest["Mounts"]
        for mount in mounts:
            if mount["Mounted"] and target in (mount["MountPoint"], self._device_of(mount)):
                return mount
        return None

    # -- files -------------------------------------------------------------------------------------

    def _cat(self, args: list[str]) -> int:
        if args == ["/etc/fstab"]:
            self.out.extend(self.guest["EtcFstab"])
            return 0
        if args == ["/proc/swaps"]:
            self.out.append("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority")
            for swap in self.guest["Swap"]:
                device = self._device_of({"DiskId": swap["DiskId"], "Partition": swap["Partition"]})
                if device:
                    self.out.append(f"{device}\t\t\t\tpartition\t2097148\t\t0\t\t-2")
            return 0
        if len(args) == 1 and args[0] in self.guest["Backups"]:
            self.out.extend(self.guest["Backups"][args[0]])
            return 0
        self.out.append(f"cat: {' '.join(args)}: No such file or directory")
        return 1

    def _cp(self, args: list[str]) -> int:
        if len(args) == 3 and args[0] == "-p" and args[1] == "/etc/fstab" and args[2].startswith("/etc/"):
            self.guest["Backups"][args[2]] = list(self.guest["EtcFstab"])
            return 0
        self.out.append("cp: this guest only copies /etc/fstab to a file under /etc (cp -p /etc/fstab FILE)")
        return 1

    def _sed(self, args: list[str]) -> int:
        if len(args) != 3 or args[0] != "-i" or args[2] != "/etc/fstab":
            self.out.append(
                "sed: this guest only edits /etc/fstab in place (sed -i 's|^...|...|' /etc/fstab)"
            )
            return 1
        match = re.fullmatch(r"s\|\^((?:[^|\\]|\\.)*)\|([^|]*)\|", args[1])
        if match is None:
            self.out.append(f"sed: -e expression #1: unsupported by this guest: {args[1]}")
            return 1
        literal = re.sub(r"\\(.)", r"\1", match.group(1))
        replacement = match.group(2)
        lines = self.guest["EtcFstab"]
        for index, line in enumerate(lines):
            if line.startswith(literal):
                lines[index] = replacement.replace("&", literal) + line[len(literal) :]
        return 0

    # -- mounts ------------------------------------------------------------------------------------

    def _fuser(self, args: list[str]) -> int:
        if len(args) != 2 or args[0] != "-vm":
            self.out.append("fuser: this guest only answers: fuser -vm MOUNTPOINT")
            return 1
        mount = self._mount_at(args[1])
        if mount is None:
            self.out.append(f"Cannot stat file {args[1]}: No such file or directory")
            return 1
        self.out.append(f"{'':21}USER        PID ACCESS COMMAND")
        self.out.append(f"{mount['MountPoint'] + ':':21}root     kernel mount {mount['MountPoint']}")
        if not mount["Busy"]:
            return 1  # fuser exits 1 when no process uses the file system
        holder = mount["Holder"]
        self.out.append(f"{'':21}{holder['User']:<8} {holder['Pid']:>5} ..c.. {holder['Command']}")
        return 0

    def _findmnt(self, args: list[str]) -> int:
        if len(args) != 4 or args[:3] != ["-n", "-o", "SOURCE"]:
            self.out.append("findmnt: this guest only answers: findmnt -n -o SOURCE MOUNTPOINT")
            return 1
        mount = self._mount_at(args[3])
        if mount is None:
            return 1
        self.out.append(self._device_of(mount))
        return 0

    def _umount(self, args: list[str]) -> int:
        if len(args) != 1:
            self.out.append("umount: this guest only unmounts one mount point: umount MOUNTPOINT")
            return 1
        mount = self._mount_at(args[0])
        if mount is None:
            self.out.append(f"umount: {args[0]}: not mounted.")
            return 32
        if mount["Busy"]:
            self.out.append(f"umount: {mount['MountPoint']}: target is busy.")
            return 32
        mount["Mounted"] = False
        return 0

    def _mount(self, args: list[str]) -> int:
        if len(args) != 1:
            self.out.append("mount: this guest only mounts what /etc/fstab names: mount MOUNTPOINT")
            return 1
        for line in self.guest["EtcFstab"]:
            fields = line.split()
            if len(fields) >= 2 and not line.startswith("#") and fields[1] == args[0]:
                break
        else:
            self.out.append(f"mount: {args[0]}: can't find in /etc/fstab.")
            return 1
        for mount in self.guest["Mounts"]:
            if mount["MountPoint"] == args[0]:
                if not self._device_of(mount):
                    self.out.append(f"mount: {args[0]}: special device {fields[0]} does not exist.")
                    return 32
                if mount["Mounted"]:
                    self.out.append(
                        f"mount: {args[0]}: {self._device_of(mount)} already mounted on {args[0]}."
                    )
                    return 32
                if mount.get("MountError"):
                    self.out.append(f"mount: {args[0]}: {mount['MountError']}")
                    return 32
                mount["Mounted"] = True
                return 0
        self.out.append(f"mount: {args[0]}: special device {fields[0]} does not exist.")
        return 32


class _PowerShell:
    """PowerShell over a Windows guest's model: only the cmdlets the toolkit's scripts use."""

    _GET_DISK = "Get-Disk | Select-Object Number,SerialNumber,IsOffline,OperationalStatus | ConvertTo-Json"
    _GET_PARTITION = "Get-Partition | Select-Object DiskNumber,PartitionNumber,DriveLetter | ConvertTo-Json"

    def __init__(self, guests: Guests, instance_id: str) -> None:
        self.guests = guests
        self.instance_id = instance_id
        self.guest = guests.guest(instance_id)
        self.out: list[str] = []

    def run(self, script: str) -> tuple[str, int]:
        for raw in script.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line == "$ErrorActionPreference = 'Stop'":
                continue
            code = self._command(line)
            if code:
                return "".join(x + "\n" for x in self.out), code
        return "".join(x + "\n" for x in self.out), 0

    def _command(self, line: str) -> int:
        disks = self.guests.devices(self.instance_id)
        rows: list[dict[str, Any]]
        if line == self._GET_DISK:
            rows = [
                {
                    "Number": n,
                    "SerialNumber": serial_of(disk_id),
                    "IsOffline": disk_id in self.guest["OfflineDisks"],
                    "OperationalStatus": "Offline" if disk_id in self.guest["OfflineDisks"] else "Online",
                }
                for n, (disk_id, _) in enumerate(disks)
            ]
            self.out.extend(json.dumps(rows, indent=4).splitlines())
            return 0
        if line == self._GET_PARTITION:
            rows = [{"DiskNumber": 0, "PartitionNumber": 1, "DriveLetter": "C"}]
            for n, (disk_id, _) in enumerate(disks):
                for mount in self.guest["Mounts"]:
                    if mount["DiskId"] == disk_id and n > 0:
                        online = disk_id not in self.guest["OfflineDisks"]
                        letter = mount["MountPoint"][0] if online and mount["Mounted"] else None
                        rows.append(
                            {
                                "DiskNumber": n,
                                "PartitionNumber": mount["Partition"] or 1,
                                "DriveLetter": letter,
                            }
                        )
            self.out.extend(json.dumps(rows, indent=4).splitlines())
            return 0
        match = re.fullmatch(r"Set-Disk -Number ([0-9]+) -IsOffline \$(true|false)", line)
        by_serial = re.fullmatch(
            r"Get-Disk -SerialNumber '([^']*)' \| Set-Disk -IsOffline \$(true|false)", line
        )
        found = match or by_serial
        if found is not None:
            offline = found.group(2) == "true"
            if found is match:
                number = int(found.group(1))
                wanted = ("Set-Disk", "Number", found.group(1))
            else:
                serial = found.group(1)
                number = next((n for n, (d, _) in enumerate(disks) if serial_of(d) == serial), len(disks))
                wanted = ("Get-Disk", "SerialNumber", serial)
            if number >= len(disks):
                self.out.append(
                    f"{wanted[0]} : No MSFT_Disk objects found with property '{wanted[1]}' equal to "
                    f"'{wanted[2]}'. Verify the value of the property and retry."
                )
                return 1
            disk_id = disks[number][0]
            if offline and disk_id not in self.guest["OfflineDisks"]:
                self.guest["OfflineDisks"].append(disk_id)
            elif not offline and disk_id in self.guest["OfflineDisks"]:
                self.guest["OfflineDisks"].remove(disk_id)
            for mount in self.guest["Mounts"]:
                if mount["DiskId"] == disk_id:
                    mount["Mounted"] = not offline
            return 0
        match = re.fullmatch(r"Write-Output '([^']*)'", line)
        if match:
            self.out.append(match.group(1))
            return 0
        name = line.split()[0]
        self.out.append(
            f"{name} : The term '{name}' is not recognized as the name of a cmdlet, function, script file, "
            "or operable program."
        )
        return 1
