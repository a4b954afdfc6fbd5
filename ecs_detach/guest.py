"""What the guest operating system uses on a disk (pure: scripts to send, parsers of what they print).

ECS shows a disk to the guest as a block device whose serial is the disk id without ``d-`` (virtio-blk keeps
20 characters: ``/dev/disk/by-id/virtio-<serial>``; NVMe shows it as the namespace's serial, ``lsblk -o
SERIAL``). The probe lists block devices with their serials (``lsblk -J``), ``/etc/fstab`` and
``/proc/swaps``, read-only; a second probe asks ``fuser -vm`` what holds each mount point. On Windows the
probe reads ``Get-Disk`` (serial, online) and ``Get-Partition`` (drive letters).

`parse_probe` turns the output into a frozen `GuestReport`; `unmount_script` / `remount_script` are the fix
and its undo, shown in the plan word for word and sent by RunCommand.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "FSTAB_MARKER",
    "FstabEntry",
    "GuestPartition",
    "GuestReadInterrupted",
    "GuestReport",
    "GuestState",
    "Holder",
    "Remount",
    "RemountNow",
    "RemountState",
    "RemountWords",
    "backup_path",
    "command_type",
    "disk_serial",
    "holders_script",
    "manual_commands",
    "parse_holders",
    "parse_probe",
    "probe_script",
    "remount_now",
    "remount_owed",
    "remount_script",
    "remount_words",
    "unmount_script",
    "unread_report",
]

FSTAB_MARKER = "# ecs-detach: "
_SECTION = "--- "
_LSBLK = "lsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL"
_GET_DISK = "Get-Disk | Select-Object Number,SerialNumber,IsOffline,OperationalStatus | ConvertTo-Json"
_GET_PARTITION = "Get-Partition | Select-Object DiskNumber,PartitionNumber,DriveLetter | ConvertTo-Json"


class GuestState(StrEnum):
    READ = "read"  # the probe ran and its output was understood
    AGENT_ABSENT = "agent-absent"  # no Cloud Assistant Agent on the instance
    AGENT_OFFLINE = "agent-offline"  # the agent is installed but not online
    NOT_RUNNING = "not-running"  # the instance is not Running: nothing is mounted
    NOT_NEEDED = "not-needed"  # e.g. a system disk (detached only from a Stopped instance)
    SKIPPED = "skipped"  # --skip-guest-check
    UNREADABLE = "unreadable"  # the probe failed or printed what we do not understand


@dataclass(frozen=True, slots=True)
class GuestPartition:
    device: str  # /dev/vdb1 (or the whole disk, /dev/vdb)
    fstype: str
    mount_point: str  # "" when not mounted; "[SWAP]" for active swap
    uuid: str
    label: str
    members: tuple[str, ...] = ()  # what is built on it: "lvm vg_data-lv_data", "raid1 md0"


@dataclass(frozen=True, slots=True)
class FstabEntry:
    line: str
    spec: str  # UUID=..., LABEL=..., /dev/...
    mount_point: str
    fstype: str
    options: str

    @property
    def nofail(self) -> bool:
        return "nofail" in self.options.split(",")


@dataclass(frozen=True, slots=True)
class Holder:
    mount_point: str
    user: str
    pid: int
    command: str

    def __str__(self) -> str:
        return f"{self.command} (pid {self.pid}, user {self.user}) on {self.mount_point}"


@dataclass(frozen=True, slots=True)
class GuestReport:
    """What the guest of `instance_id` does with `disk_id` (or why that could not be read)."""

    instance_id: str
    disk_id: str
    os_type: str  # "linux" | "windows"
    state: GuestState
    found: bool = False  # the disk's block device was seen in the guest
    partitions: tuple[GuestPartition, ...] = ()
    fstab: tuple[FstabEntry, ...] = ()
    holders: tuple[Holder, ...] = ()
    disk_number: int | None = None  # Windows
    offline: bool = False  # Windows: the disk is offline
    drive_letters: tuple[str, ...] = ()  # Windows
    detail: str = ""  # why it could not be read
    invoke_ids: tuple[str, ...] = field(default=(), compare=False)

    @property
    def read(self) -> bool:
        return self.state is GuestState.READ

    @property
    def mount_points(self) -> tuple[str, ...]:
        if self.os_type == "windows":
            return tuple(f"{letter}:" for letter in self.drive_letters) if not self.offline else ()
        return tuple(p.mount_point for p in self.partitions if p.mount_point and p.mount_point != "[SWAP]")

    @property
    def swap(self) -> tuple[str, ...]:
        return tuple(p.device for p in self.partitions if p.fstype == "swap" or p.mount_point == "[SWAP]")

    @property
    def lvm(self) -> tuple[str, ...]:
        return tuple(
            f"{p.device} ({', '.join(p.members) or 'LVM2_member'})"
            for p in self.partitions
            if p.fstype == "LVM2_member"
        )

    @property
    def raid(self) -> tuple[str, ...]:
        return tuple(
            f"{p.device} ({', '.join(p.members) or 'linux_raid_member'})"
            for p in self.partitions
            if p.fstype == "linux_raid_member"
        )

    @property
    def active_fstab(self) -> tuple[FstabEntry, ...]:
        return tuple(e for e in self.fstab if not e.line.lstrip().startswith("#"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "disk_id": self.disk_id,
            "os_type": self.os_type,
            "state": self.state.value,
            "found": self.found,
            "mount_points": list(self.mount_points),
            "partitions": [
                {
                    "device": p.device,
                    "fstype": p.fstype,
                    "mount_point": p.mount_point,
                    "uuid": p.uuid,
                    "label": p.label,
                    "members": list(p.members),
                }
                for p in self.partitions
            ],
            "fstab": [
                {"line": e.line, "mount_point": e.mount_point, "nofail": e.nofail} for e in self.active_fstab
            ],
            "swap": list(self.swap),
            "lvm": list(self.lvm),
            "raid": list(self.raid),
            "holders": [str(h) for h in self.holders],
            "drive_letters": list(self.drive_letters),
            "detail": self.detail,
        }


def disk_serial(disk_id: str) -> str:
    """The serial the guest sees for an ECS disk: the id without ``d-`` (virtio-blk keeps 20 characters)."""
    return (disk_id[2:] if disk_id.startswith("d-") else disk_id)[:20]


def command_type(os_type: str) -> str:
    return "RunPowerShellScript" if os_type.lower() == "windows" else "RunShellScript"


def unread_report(
    instance_id: str, disk_id: str, os_type: str, state: GuestState, detail: str
) -> GuestReport:
    return GuestReport(instance_id, disk_id, _os(os_type), state, detail=detail)


def _os(os_type: str) -> str:
    return "windows" if os_type.lower() == "windows" else "linux"


# --------------------------------------------------------------------------------------------------
# Probes
# --------------------------------------------------------------------------------------------------


def probe_script(os_type: str) -> str:
    """The read-only probe (the same for every disk: the parser picks the disk by its serial)."""
    if _os(os_type) == "windows":
        return "\n".join(
            [
                "# ecs-detach guest probe (read-only): disks and partitions",
                f"Write-Output '{_SECTION}disks'",
                _GET_DISK,
                f"Write-Output '{_SECTION}partitions'",
                _GET_PARTITION,
            ]
        )
    return "\n".join(
        [
            "# ecs-detach guest probe (read-only): block devices, /etc/fstab, swap",
            f"echo '{_SECTION}lsblk'",
            _LSBLK,
            f"echo '{_SECTION}fstab'",
            "cat /etc/fstab",
            f"echo '{_SECTION}swaps'",
            "cat /proc/swaps",
        ]
    )


def holders_script(mount_points: tuple[str, ...]) -> str:
    """What holds each mount point (read-only): ``fuser -vm``."""
    lines = ["# ecs-detach guest probe (read-only): what holds the mounts"]
    for mount_point in mount_points:
        lines += [f"echo {shlex.quote(_SECTION + mount_point)}", f"fuser -vm {shlex.quote(mount_point)}"]
    return "\n".join(lines)


def _sections(output: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith(_SECTION):
            current = sections.setdefault(line[len(_SECTION) :].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def parse_probe(instance_id: str, disk_id: str, os_type: str, output: str) -> GuestReport:
    """The report from the probe's output; UNREADABLE (with why) when it is not what the probe prints."""
    sections = _sections(output)
    try:
        if _os(os_type) == "windows":
            return _parse_windows(instance_id, disk_id, sections)
        return _parse_linux(instance_id, disk_id, sections)
    except (KeyError, ValueError, TypeError) as exc:
        detail = f"the probe's output could not be understood ({type(exc).__name__}: {exc})"
        return unread_report(instance_id, disk_id, os_type, GuestState.UNREADABLE, detail)


def _text(node: dict[str, Any], key: str) -> str:
    value = node.get(key)
    return value if isinstance(value, str) else ""


def _partition(node: dict[str, Any]) -> GuestPartition:
    members = tuple(
        f"{_text(child, 'type')} {_text(child, 'name')}"
        + (f" on {_text(child, 'mountpoint')}" if _text(child, "mountpoint") else "")
        for child in node.get("children") or []
    )
    return GuestPartition(
        device=f"/dev/{_text(node, 'name')}",
        fstype=_text(node, "fstype"),
        mount_point=_text(node, "mountpoint"),
        uuid=_text(node, "uuid"),
        label=_text(node, "label"),
        members=members,
    )


def _parse_linux(instance_id: str, disk_id: str, sections: dict[str, list[str]]) -> GuestReport:
    tree = json.loads("\n".join(sections["lsblk"]))
    serial = disk_serial(disk_id)
    disk = next((d for d in tree["blockdevices"] if _text(d, "serial") in (serial, disk_id)), None)
    fstab_lines = sections.get("fstab", [])
    if disk is None:
        return GuestReport(instance_id, disk_id, "linux", GuestState.READ, found=False)
    parts = [c for c in disk.get("children") or [] if _text(c, "type") == "part"]
    nodes = parts if parts else [disk]
    partitions = tuple(_partition(node) for node in nodes if parts or _text(node, "fstype"))
    entries = tuple(
        e for e in map(_fstab_entry, fstab_lines) if e is not None and _names(e, partitions, serial)
    )
    return GuestReport(instance_id, disk_id, "linux", GuestState.READ, True, partitions, entries)


def _fstab_entry(line: str) -> FstabEntry | None:
    text = line.strip()
    commented = text.startswith("#")
    fields = (text[len(FSTAB_MARKER) :] if text.startswith(FSTAB_MARKER) else text).split()
    if not fields or (commented and not text.startswith(FSTAB_MARKER)) or len(fields) < 3:
        return None
    options = fields[3] if len(fields) > 3 else "defaults"
    return FstabEntry(line=text, spec=fields[0], mount_point=fields[1], fstype=fields[2], options=options)


def _names(entry: FstabEntry, partitions: tuple[GuestPartition, ...], serial: str) -> bool:
    spec = entry.spec
    for p in partitions:
        if spec in (p.device, f"UUID={p.uuid}" if p.uuid else "\0", f"LABEL={p.label}" if p.label else "\0"):
            return True
    return spec.startswith("/dev/disk/by-id/") and serial in spec


def _parse_windows(instance_id: str, disk_id: str, sections: dict[str, list[str]]) -> GuestReport:
    disks = _json_list("\n".join(sections["disks"]))
    serial = disk_serial(disk_id)
    disk = next((d for d in disks if str(d.get("SerialNumber", "")).strip() in (serial, disk_id)), None)
    if disk is None:
        return GuestReport(instance_id, disk_id, "windows", GuestState.READ, found=False)
    number = int(disk["Number"])
    letters = tuple(
        str(p["DriveLetter"])
        for p in _json_list("\n".join(sections.get("partitions", [])))
        if int(p.get("DiskNumber", -1)) == number and p.get("DriveLetter")
    )
    return GuestReport(
        instance_id,
        disk_id,
        "windows",
        GuestState.READ,
        found=True,
        disk_number=number,
        offline=bool(disk.get("IsOffline")),
        drive_letters=letters,
    )


def _json_list(text: str) -> list[dict[str, Any]]:
    value = json.loads(text) if text.strip() else []
    return [value] if isinstance(value, dict) else list(value)  # ConvertTo-Json gives one object bare


def parse_holders(output: str) -> tuple[Holder, ...]:
    """The processes ``fuser -vm`` names, per mount point (the kernel's own mount line left out)."""
    holders = []
    for mount_point, lines in _sections(output).items():
        for line in lines:
            fields = line.split()
            if len(fields) >= 4 and fields[1].isdigit():
                holders.append(Holder(mount_point, fields[0], int(fields[1]), fields[3]))
    return tuple(holders)


# --------------------------------------------------------------------------------------------------
# The fix and its undo
# --------------------------------------------------------------------------------------------------


def backup_path(disk_id: str) -> str:
    return f"/etc/fstab.ecs-detach-{disk_id}.bak"


def _bre(literal: str) -> str:
    """A literal as a sed basic regular expression between ``|`` delimiters."""
    return "".join("\\" + ch if ch in "\\.[]*^$|" else ch for ch in literal)


def unmount_script(report: GuestReport) -> str:
    """Unmount every file system of the disk and comment out its /etc/fstab lines (a backup kept); on
    Windows, take the disk offline. `set -e`: the first failure (a busy mount) stops the script."""
    if report.os_type == "windows":
        return "\n".join(
            [
                f"# ecs-detach: take disk {report.disk_id} offline before DetachDisk",
                "$ErrorActionPreference = 'Stop'",
                f"Set-Disk -Number {report.disk_number} -IsOffline $true",
            ]
        )
    lines = ["set -e", f"# ecs-detach: release disk {report.disk_id} in the guest before DetachDisk", "sync"]
    lines += [f"umount {shlex.quote(mp)}" for mp in report.mount_points]
    if report.active_fstab:
        lines.append(f"cp -p /etc/fstab {backup_path(report.disk_id)}")
        for entry in report.active_fstab:
            expression = "s|^" + _bre(entry.spec + " ") + "|" + FSTAB_MARKER + "&|"
            lines.append(f"sed -i {shlex.quote(expression)} /etc/fstab")
    return "\n".join(lines)


def remount_script(report: GuestReport) -> str:
    """The undo: restore the commented /etc/fstab lines and mount again (Windows: bring the disk online)."""
    if report.os_type == "windows":
        # By serial: the disk number read before the detach may name another disk once it is attached back.
        return "\n".join(
            [
                f"# ecs-detach: bring disk {report.disk_id} online again",
                "$ErrorActionPreference = 'Stop'",
                f"Get-Disk -SerialNumber '{disk_serial(report.disk_id)}' | Set-Disk -IsOffline $false",
            ]
        )
    lines = ["set -e", f"# ecs-detach: mount disk {report.disk_id} again as it was"]
    for entry in report.active_fstab:
        expression = "s|^" + _bre(FSTAB_MARKER + entry.spec + " ") + "|" + entry.spec + " |"
        lines.append(f"sed -i {shlex.quote(expression)} /etc/fstab")
    lines += [
        f"mount {shlex.quote(mp)}"
        for mp in report.mount_points
        if any(e.mount_point == mp for e in report.active_fstab)
    ]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Remount:
    """What an undo needs to mount a disk back as our unmount found it (journaled with the DetachDisk)."""

    script: str  # `remount_script` of the report the unmount was planned from
    command_type: str  # RunShellScript | RunPowerShellScript
    mount_points: tuple[str, ...]
    fstab_backup: str = ""  # the copy the unmount kept ("" when no /etc/fstab line was commented out)

    @classmethod
    def of(cls, report: GuestReport) -> Remount:
        backup = backup_path(report.disk_id) if report.active_fstab and report.os_type != "windows" else ""
        return cls(remount_script(report), command_type(report.os_type), report.mount_points, backup)

    def to_context(self) -> dict[str, str]:
        return {
            "remount_script": self.script,
            "remount_type": self.command_type,
            "unmounted": ",".join(self.mount_points),
            "fstab_backup": self.fstab_backup,
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Remount | None:
        """The remount a DetachDisk record carries; None when our unmount did not precede it."""
        script, kind = context.get("remount_script"), context.get("remount_type")
        if not isinstance(script, str) or not script or not isinstance(kind, str) or not kind:
            return None
        unmounted = context.get("unmounted")
        points = tuple(p for p in unmounted.split(",") if p) if isinstance(unmounted, str) else ()
        backup = context.get("fstab_backup")
        return cls(script, kind, points, backup if isinstance(backup, str) else "")


@dataclass(frozen=True, slots=True)
class RemountWords:
    """How the undo's guest step is told: Linux mounts a disk back, Windows brings it online again."""

    state: str  # "mounted" | "online"
    again: str  # "mounted again" | "online again"
    verb: str  # "mount it back" | "bring it online"
    verbed: str  # "mounted it back" | "brought it online"
    nothing: str  # "nothing to mount back" | "nothing to bring online"
    back: str  # "mounted back" | "online again"


_MOUNT_WORDS = RemountWords(
    "mounted", "mounted again", "mount it back", "mounted it back", "nothing to mount back", "mounted back"
)
_ONLINE_WORDS = RemountWords(
    "online",
    "online again",
    "bring it online",
    "brought it online",
    "nothing to bring online",
    "online again",
)


def remount_words(os_or_command_type: str) -> RemountWords:
    """The words for the remount of a guest: an OS type ("windows") or a RunCommand type
    ("RunPowerShellScript") says which."""
    windows = os_or_command_type.lower() in ("windows", command_type("windows").lower())
    return _ONLINE_WORDS if windows else _MOUNT_WORDS


def remount_owed(script: str, report: GuestReport) -> bool:
    """Whether a fresh read of the guest (`report`) still shows what the remount `script` undoes: a mount
    point it mounts not mounted, an /etc/fstab line our unmount commented out, or (Windows) the disk
    offline."""
    if report.os_type == "windows":
        return report.offline
    missing = any(mp not in report.mount_points for mp in _mounted_by(script))
    return missing or any(e.line.startswith(FSTAB_MARKER) for e in report.fstab)


class RemountState(StrEnum):
    """What a fresh read of the guest says about a remount an undo owes, once the disk is attached again."""

    OWED = "owed"  # the guest still shows what our unmount left: mount it back
    DONE = "done"  # the guest has it back (mounted, its /etc/fstab line restored): nothing is owed
    NOT_RUNNING = "not-running"  # the instance is not Running: nothing can be mounted
    UNKNOWN = "unknown"  # the guest could not be read, or does not show the disk


@dataclass(frozen=True, slots=True)
class RemountNow:
    """A remount `script` (its RunCommand `command_type`) against a fresh read of the guest (`report`):
    whether it is still owed, and the words to say so (`remount_now` decides)."""

    state: RemountState
    script: str
    command_type: str
    report: GuestReport

    @property
    def owed(self) -> bool:
        return self.state is RemountState.OWED

    @property
    def words(self) -> RemountWords:
        return remount_words(self.command_type)

    @property
    def where(self) -> str:
        """Where the guest has the disk now ("/data"), or the disk."""
        return ", ".join(self.report.mount_points) or f"disk {self.report.disk_id}"

    @property
    def why_unknown(self) -> str:
        return self.report.detail or f"the guest does not show disk {self.report.disk_id}."

    @property
    def what_is_owed(self) -> str:
        """What the guest still shows of our unmount: "/data is not mounted in the guest"."""
        if self.report.os_type == "windows":
            return f"disk {self.report.disk_id} is offline in the guest"
        missing = [mp for mp in _mounted_by(self.script) if mp not in self.report.mount_points]
        if missing:
            return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not mounted in the guest"
        return "its /etc/fstab line is still commented out in the guest"


def _mounted_by(script: str) -> list[str]:
    """The mount points a remount script mounts (its `mount MOUNTPOINT` lines)."""
    return [
        words[1] for words in map(shlex.split, script.splitlines()) if len(words) == 2 and words[0] == "mount"
    ]


def remount_now(script: str, command_type: str, report: GuestReport) -> RemountNow:
    """Whether the remount `script` is still owed, by a fresh read of the guest (`report`)."""
    if report.state is GuestState.NOT_RUNNING:
        state = RemountState.NOT_RUNNING
    elif not report.read or not report.found:
        state = RemountState.UNKNOWN
    else:
        state = RemountState.OWED if remount_owed(script, report) else RemountState.DONE
    return RemountNow(state, script, command_type, report)


class GuestReadInterrupted(KeyboardInterrupt):
    """Ctrl-C while the guest was being read for a plan: nothing was changed, and the guest was not read, so
    what it does with these disks is not known. Still a `KeyboardInterrupt` (whoever does not ask stops as
    for any Ctrl-C); a face that asks says what is left unknown and what to run by hand."""

    def __init__(self, instance_ids: tuple[str, ...], disk_ids: tuple[str, ...], os_type: str) -> None:
        self.instance_ids, self.disk_ids, self.os_type = instance_ids, disk_ids, _os(os_type)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        several = len(self.instance_ids) > 1
        guests = f"guest{'s' if several else ''} of {', '.join(self.instance_ids) or 'the instance'}"
        disks = ", ".join(self.disk_ids) or "its disks"
        verb = "are" if len(self.disk_ids) > 1 else "is"
        state = "online" if self.os_type == "windows" else "mounted or in /etc/fstab"
        return (
            f"interrupted (Ctrl-C) while reading the {guests}: nothing was changed, and the "
            f"guest{'s were' if several else ' was'} not read, so whether {disks} {verb} {state} there is "
            "not known"
        )

    @property
    def remedy(self) -> str:
        by_hand = "; ".join(
            command for disk_id in self.disk_ids[:1] for command in manual_commands(disk_id, self.os_type)
        )
        return f"Run the command again to read it, or check the guest by hand (run in it: {by_hand})."

    def _render_traceback_(self) -> list[str]:  # IPython's hook: a notebook shows what is left, no traceback
        return [f"{type(self).__name__}: {self.message}.", self.remedy]


def manual_commands(disk_id: str, os_type: str) -> tuple[str, ...]:
    """What an operator runs by hand in the guest when the toolkit cannot read it."""
    serial = disk_serial(disk_id)
    if _os(os_type) == "windows":
        return (
            f"Get-Disk | Where-Object SerialNumber -eq '{serial}'",
            "Get-Partition -DiskNumber <Number> | Select-Object PartitionNumber,DriveLetter",
            "Set-Disk -Number <Number> -IsOffline $true",
        )
    return (
        f"ls -l /dev/disk/by-id/ | grep {serial}",
        "lsblk -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL",
        "grep -v '^#' /etc/fstab; cat /proc/swaps",
        "sudo umount <MOUNTPOINT>   # then comment out its /etc/fstab line (keep a copy of the file)",
    )
