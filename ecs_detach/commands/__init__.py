"""The scripting CLI: ``ecs-detach instances|disks|check|detach|attach|journal|snapshot-fleet``.

Exit codes: 0 done, 1 the operation failed, 2 bad usage or input, 3 blocked by a precondition, 4 timed out (or
the wait was stopped with Ctrl-C). Every error is one message on stderr saying what was wrong and what to do,
never a traceback (``ECS_DETACH_DEBUG=1`` shows one for a bug report). ``--json`` prints one JSON document on
stdout (with ``{"error": ...}`` when the command failed before producing its own).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

from ecs_detach.commands._console import CommandError, Console
from ecs_detach.commands._parser import UsageError, parse_args
from ecs_detach.guest import GuestReadInterrupted

__all__ = ["EXIT_BAD_USAGE", "EXIT_BLOCKED", "EXIT_FAILED", "EXIT_OK", "EXIT_TIMED_OUT", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_USAGE = 2
EXIT_BLOCKED = 3
EXIT_TIMED_OUT = 4

Command = Callable[[Any, Console], int]


def _commands() -> dict[str, Command]:
    from ecs_detach.commands._move import cmd_move
    from ecs_detach.commands._read import cmd_check, cmd_disks, cmd_instances, cmd_journal, cmd_snapshot_fleet
    from ecs_detach.commands._write import cmd_attach, cmd_detach

    return {
        "instances": cmd_instances,
        "disks": cmd_disks,
        "check": cmd_check,
        "detach": cmd_detach,
        "attach": cmd_attach,
        "move": cmd_move,
        "journal": cmd_journal,
        "snapshot-fleet": cmd_snapshot_fleet,
    }


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    """Run one scripting subcommand (``argv[0]`` names it); returns the exit code."""
    name = argv[0] if argv else "?"
    json_mode = "--json" in argv
    console = Console(name, json_mode=json_mode)

    def fail(code: int, message: str, remedy: str = "", error_code: str = "") -> int:
        console.error(message, remedy)
        console.emit_json(
            {"error": {"message": message, "remedy": remedy, "code": error_code}, "exit_code": code}
        )
        return code

    def show_warning(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
        console.note(f"ecs-detach {name}: warning: {message}")

    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        try:
            try:
                args = parse_args(argv)
            except SystemExit as exit_:  # --help
                return int(exit_.code or 0)
            console.command = args.command
            return _commands()[args.command](args, console)
        except UsageError as exc:
            return fail(EXIT_BAD_USAGE, str(exc), exc.remedy)
        except CommandError as exc:
            return fail(exc.exit_code, str(exc), exc.remedy, exc.error_code)
        except GuestReadInterrupted as exc:  # the wait for a guest probe, stopped: as any stopped wait
            return fail(EXIT_TIMED_OUT, exc.message, exc.remedy, "Interrupted")
        except KeyboardInterrupt:
            return fail(EXIT_FAILED, "interrupted (Ctrl-C) before anything was changed")
        except BrokenPipeError:
            _silence_stdout()
            console.note(f"ecs-detach {name}: the output was closed early (broken pipe)")
            return EXIT_FAILED
        except Exception as exc:
            return _unexpected(exc, fail)


def _unexpected(exc: Exception, fail: Callable[..., int]) -> int:
    from ecs_detach.errors import ApiError, CredentialsError, EcsError, ReadOnlyError
    from ecs_detach.journal import JournalPathError

    if isinstance(exc, JournalPathError):
        return fail(EXIT_BAD_USAGE, str(exc), exc.remedy, "JournalPath")
    if isinstance(exc, CredentialsError):
        return fail(EXIT_BAD_USAGE, f"credentials: {exc}", exc.remedy, "Credentials")
    if isinstance(exc, ReadOnlyError):
        return fail(EXIT_BAD_USAGE, str(exc), exc.remedy, "ReadOnly")
    if isinstance(exc, ApiError):
        return fail(EXIT_FAILED, str(exc), exc.remedy, exc.code)
    if isinstance(exc, EcsError):
        return fail(EXIT_FAILED, str(exc), exc.remedy, str(getattr(exc, "kind", "")))
    if os.environ.get("ECS_DETACH_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    return fail(
        EXIT_FAILED,
        f"unexpected error ({type(exc).__name__}: {exc}); nothing more was sent",
        "This is a bug: rerun with ECS_DETACH_DEBUG=1 and report the output (it holds no secrets).",
        "Internal",
    )
