"""The scripting subcommands' arguments: one argparse parser; ids, region and numbers checked before any
request."""

from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

__all__ = [
    "UsageError",
    "build_parser",
    "check_disk_id",
    "check_instance_id",
    "check_region",
    "parse_args",
]

MAX_ID_LENGTH = 64
_ID_BODY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UsageError(Exception):
    """Bad usage or input (exit 2), found before anything was sent."""

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.remedy = remedy


def _check_id(text: str, prefix: str, noun: str, other: tuple[str, str]) -> str:
    value = text.strip()
    example = f"{prefix}bp1abcdefghijklmnopq"
    a = "an" if noun[0] in "aeiou" else "a"
    if not value:
        raise UsageError(f"an empty {noun} id was given", f"Pass {a} {noun} id such as {example}.")
    if value.startswith(other[0]):
        raise UsageError(
            f"{value!r} looks like {other[1]} id, not {a} {noun} id",
            f"{noun.capitalize()} ids start with {prefix!r} (e.g. {example}).",
        )
    if not value.startswith(prefix):
        raise UsageError(
            f"{value!r} is not {a} {noun} id: {noun} ids start with {prefix!r}",
            f"Pass {a} {noun} id such as {example} (list them with `ecs-detach {noun}s`).",
        )
    if len(value) > MAX_ID_LENGTH:
        raise UsageError(
            f"{value[:20]!r}... is too long for a {noun} id "
            f"({len(value)} characters, at most {MAX_ID_LENGTH})",
            "Copy the id again from `ecs-detach instances` / `ecs-detach disks`.",
        )
    body = value[len(prefix) :]
    if not _ID_BODY.match(body):
        raise UsageError(
            f"{value!r} is not {a} {noun} id: only letters, digits and '-' may follow {prefix!r}",
            "Copy the id again from `ecs-detach instances` / `ecs-detach disks`.",
        )
    return value


def check_disk_id(text: str) -> str:
    """A disk id (``d-`` then letters, digits and dashes, at most 64 characters) or UsageError."""
    return _check_id(text, "d-", "disk", ("i-", "an instance"))


def check_instance_id(text: str) -> str:
    """An instance id (``i-`` then letters, digits and dashes, at most 64 characters) or UsageError."""
    return _check_id(text, "i-", "instance", ("d-", "a disk"))


def check_region(text: str) -> str:
    value = text.strip()
    if not _REGION.match(value) or len(value) > 40:
        raise UsageError(
            f"{text!r} is not a region id", "Pass a region id such as cn-hangzhou or ap-southeast-1."
        )
    return value


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout {text!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"--timeout {text} is out of range (more than 0, at most 86400 s)")
    return value


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--concurrency {text!r} is not a whole number") from None
    if not 1 <= value <= 32:
        raise argparse.ArgumentTypeError(f"--concurrency {value} is out of range (1 to 32)")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rate {text!r} is not a number of calls per second") from None
    if not 0 < value <= 10_000:
        raise argparse.ArgumentTypeError(f"--rate {text} is out of range (more than 0, at most 10000 per s)")
    return value


def _env_name(text: str) -> str:
    if not _ENV_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"--password-env takes the NAME of an environment variable, and {text!r} is not one "
            "(never pass the password itself on the command line)"
        )
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, f"See `{self.prog} --help`.")


def _common() -> _Parser:
    common = _Parser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--json", action="store_true", help="print stable JSON for machines on stdout")
    group.add_argument("--region", help="region id (default: the profile's, else cn-hangzhou)")
    group.add_argument("--profile", help="credentials profile (aliyun CLI config or credentials.ini)")
    group.add_argument(
        "--endpoint", metavar="URL", help="API endpoint, e.g. http://127.0.0.1:8470 (an emulator)"
    )
    group.add_argument("--demo", action="store_true", help="the built-in emulator and its demo fleet")
    group.add_argument("--read-only", action="store_true", help="refuse every change before it is sent")
    group.add_argument("--journal", metavar="PATH", help="journal file (default: ~/.local/state/ecs-detach)")
    return common


def _add_move(move: argparse.ArgumentParser) -> None:
    move.add_argument("disk_id", metavar="DISK_ID", nargs="?")
    move.add_argument("--to", metavar="ID", help="the instance to attach the disk to")
    move.add_argument("--instance", metavar="ID", help="the source attachment (multi-attach disks)")
    move.add_argument(
        "--undo", metavar="OP_ID", help="move it back (the operation id of the move's AttachDisk)"
    )
    move.add_argument("--stop-instance", action="store_true", help="allow stopping the source if needed")
    move.add_argument(
        "--restart-instance", action="store_true", help="start the source again if this move stopped it"
    )
    move.add_argument("--stop-target", action="store_true", help="allow stopping the target if needed")
    move.add_argument(
        "--start-target", action="store_true", help="start the target again if this move stopped it"
    )
    move.add_argument("--force-stop", action="store_true", help="stop forcibly (unsaved data is lost)")
    move.add_argument("--stopped-mode", choices=("StopCharging", "KeepCharging"), help="how to stop")
    move.add_argument("--bootable", action="store_true", help="attach as the target's system disk")
    move.add_argument(
        "--password-env", type=_env_name, metavar="VAR", help="--bootable: the logon password's env variable"
    )
    move.add_argument("--key-pair", metavar="NAME", help="--bootable: the key pair to log on with")
    move.add_argument("--snapshot", action="store_true", help="CreateSnapshot first (snapshots are billed)")
    move.add_argument(
        "--unmount",
        action="store_true",
        help="release the disk in the source's guest first (unmount it, comment out its /etc/fstab lines, a "
        "backup kept) by Cloud Assistant RunCommand",
    )
    move.add_argument(
        "--skip-guest-check",
        action="store_true",
        help="do not read the source's guest (what it has mounted is then unknown; a warning is shown)",
    )
    move.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    move.add_argument("--dry-run", action="store_true", help="print the plan and send nothing")
    move.add_argument("--timeout", type=_timeout, metavar="S", help="bound each wait (default 300 s)")


def _check_move(args: Any) -> None:
    if args.undo:
        if args.disk_id or args.to:
            raise UsageError(
                "--undo takes the disk and the instances from the journal",
                "Give either --undo OP_ID, or DISK_ID --to INSTANCE.",
            )
        return
    if not args.disk_id or not args.to:
        raise UsageError(
            "move needs DISK_ID and --to INSTANCE (or --undo OP_ID)",
            "e.g. ecs-detach move d-... --to i-...",
        )
    args.disk_id = check_disk_id(args.disk_id)
    args.to = check_instance_id(args.to)
    if (args.password_env or args.key_pair) and not args.bootable:
        raise UsageError("--password-env and --key-pair go with --bootable", "Add --bootable or drop them.")
    if args.password_env and args.key_pair:
        raise UsageError("give --password-env or --key-pair, not both", "Pick one logon credential.")
    stop_flags = [
        f for f, on in (("--force-stop", args.force_stop), ("--stopped-mode", args.stopped_mode)) if on
    ]
    if stop_flags and not (args.stop_instance or args.stop_target):
        raise UsageError(
            f"{stop_flags[0]} only applies when stopping is allowed",
            "Add --stop-instance or --stop-target (or drop it).",
        )
    if args.restart_instance and not args.stop_instance:
        raise UsageError("--restart-instance goes with --stop-instance", "Add --stop-instance or drop it.")
    if args.start_target and not args.stop_target:
        raise UsageError("--start-target goes with --stop-target", "Add --stop-target or drop it.")


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="ecs-detach", allow_abbrev=False, description="Detach ECS disks safely.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, parents=[common], help=help_text, description=help_text, allow_abbrev=False
        )

    add("instances", "list the instances of a region")
    disks = add("disks", "list the disks of a region (or of one instance)")
    disks.add_argument("--instance", metavar="ID", help="only the disks attached to this instance")

    check = add("check", "the preconditions report for detaching a disk (sends nothing)")
    check.add_argument("disk_id", metavar="DISK_ID")
    check.add_argument("--instance", metavar="ID", help="the attachment to check (multi-attach disks)")
    check.add_argument(
        "--skip-guest-check", action="store_true", help="do not read the guest through Cloud Assistant"
    )

    detach = add("detach", "detach one disk (or several: a bulk run), following it to Available")
    detach.add_argument("disk_ids", metavar="DISK_ID", nargs="+")
    detach.add_argument("--instance", metavar="ID", help="the instance to detach from (multi-attach disks)")
    detach.add_argument("--stop-instance", action="store_true", help="allow stopping the instance if needed")
    detach.add_argument("--force-stop", action="store_true", help="stop forcibly (unsaved data is lost)")
    detach.add_argument("--stopped-mode", choices=("StopCharging", "KeepCharging"), help="how to stop")
    detach.add_argument(
        "--restart-instance", action="store_true", help="start the instance again if this run stopped it"
    )
    detach.add_argument(
        "--delete-with-instance", choices=("true", "false"), help="set DeleteWithInstance on the disk"
    )
    detach.add_argument(
        "--snapshot",
        action="store_true",
        help="CreateSnapshot of the disk first and detach once it is accomplished (snapshots are billed)",
    )
    detach.add_argument(
        "--unmount",
        action="store_true",
        help="release the disk in the guest first (unmount it, comment out its /etc/fstab lines, a backup "
        "kept) by Cloud Assistant RunCommand",
    )
    detach.add_argument(
        "--skip-guest-check",
        action="store_true",
        help="do not read the guest (what it has mounted is then unknown; a warning is shown and journaled)",
    )
    detach.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    detach.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (steps, ETA, preconditions, aliyun commands) and send nothing: exit 0 if it "
        "could run, 3 if blocked",
    )
    detach.add_argument("--no-wait", action="store_true", help="send DetachDisk, do not follow it")
    detach.add_argument("--timeout", type=_timeout, metavar="S", help="bound each wait (default 300 s)")
    detach.add_argument(
        "--concurrency",
        type=_concurrency,
        default=4,
        metavar="N",
        help="bulk: instances checked or changed at a time (4); disks already detaching do not count",
    )
    detach.add_argument(
        "--rate",
        type=_rate,
        metavar="N",
        help="bulk: the account's DetachDisk limit, calls per second (paced at 90 %%; default: adaptive)",
    )

    attach = add("attach", "attach a disk back (undo a detach from the journal, or name disk and instance)")
    attach.add_argument("disk_id", metavar="DISK_ID", nargs="?")
    attach.add_argument("--operation", metavar="OP_ID", help="undo this DetachDisk from the journal")
    attach.add_argument("--instance", metavar="ID", help="the instance to attach the disk to")
    attach.add_argument("--bootable", action="store_true", help="attach as the system disk")
    attach.add_argument(
        "--password-env", type=_env_name, metavar="VAR", help="system disk: the logon password's env variable"
    )
    attach.add_argument("--key-pair", metavar="NAME", help="system disk: the key pair to log on with")
    attach.add_argument("--start-instance", action="store_true", help="start the instance afterwards")
    attach.add_argument(
        "--no-remount",
        dest="remount",
        action="store_false",
        help="undo of a detach that unmounted the disk: do not mount it back in the guest (default: mount it "
        "back and restore its /etc/fstab line; on Windows, bring it online again)",
    )
    attach.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    attach.add_argument("--timeout", type=_timeout, metavar="S", help="bound each wait (default 300 s)")

    _add_move(add("move", "move a disk to another instance: detach it here, attach it there (one plan)"))

    journal = add("journal", "what was done, with request ids (the local journal)")
    journal.add_argument("--pending", action="store_true", help="only calls whose outcome is not recorded")
    journal.add_argument(
        "--reconcile", action="store_true", help="read the live state for pending calls and record it"
    )

    snapshot = add("snapshot-fleet", "capture the account read-only as a fleet file for the emulator")
    snapshot.add_argument("--output", "-o", metavar="PATH", help="write here (default: stdout)")
    return parser


def parse_args(argv: list[str]) -> Any:
    """Parsed arguments, or UsageError; ids, region and option combinations are checked here too."""
    args = build_parser().parse_args(argv)
    if args.region is not None:
        args.region = check_region(args.region)
    if getattr(args, "instance", None) is not None:
        args.instance = check_instance_id(args.instance)
    if args.command in ("check",):
        args.disk_id = check_disk_id(args.disk_id)
    if args.command == "attach" and args.disk_id is not None:
        args.disk_id = check_disk_id(args.disk_id)
    if args.command == "detach":
        args.disk_ids = [check_disk_id(d) for d in args.disk_ids]
        seen: set[str] = set()
        for disk_id in args.disk_ids:
            if disk_id in seen:
                raise UsageError(f"disk {disk_id} is named twice", "Name each disk once.")
            seen.add(disk_id)
        needs_stop = [
            flag
            for flag, on in (
                ("--force-stop", args.force_stop),
                ("--stopped-mode", args.stopped_mode),
                ("--restart-instance", args.restart_instance),
            )
            if on
        ]
        if needs_stop and not args.stop_instance:
            raise UsageError(
                f"{needs_stop[0]} only applies when stopping is allowed",
                "Add --stop-instance (or drop the stop options).",
            )
        if args.snapshot and len(args.disk_ids) > 1:
            raise UsageError(
                "--snapshot works with one disk at a time", "Detach the disks one by one with --snapshot."
            )
        if args.no_wait and len(args.disk_ids) > 1:
            raise UsageError("--no-wait works with one disk at a time", "Drop --no-wait for a bulk detach.")
        if args.no_wait and args.restart_instance:
            raise UsageError(
                "--restart-instance needs the detach to finish, and --no-wait does not wait for it",
                "Use one of the two.",
            )
    if args.command == "move":
        _check_move(args)
    if args.command == "attach":
        if args.password_env and args.key_pair:
            raise UsageError("give --password-env or --key-pair, not both", "Pick one logon credential.")
        if (args.password_env or args.key_pair) and not args.bootable:
            raise UsageError(
                "--password-env and --key-pair are for a system disk",
                "Add --bootable to attach a system disk (or drop them for a data disk).",
            )
        if args.operation:
            if args.disk_id or args.instance:
                raise UsageError(
                    "--operation takes the disk and instance from the journal",
                    "Give either --operation OP_ID, or DISK_ID --instance ID.",
                )
        elif not args.disk_id or not args.instance:
            raise UsageError(
                "attach needs --operation OP_ID (from `ecs-detach journal`), or DISK_ID and --instance ID",
                "e.g. ecs-detach attach --operation 3f2a... or ecs-detach attach d-... --instance i-...",
            )
    return args
