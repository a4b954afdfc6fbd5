"""The `ecs-detach` command: the TUI by default, the emulator, the scripting subcommands, and
`--version`, `completion bash|zsh|fish` and `man` (generated from the parsers, `ecs_detach.cli_reference`).

Each face lives in its own module and is imported only when chosen, so `ecs-detach emulator` and the scripting
subcommands never load Textual.
"""

from __future__ import annotations

import contextlib
import sys

SCRIPTING_SUBCOMMANDS = frozenset(
    {"instances", "disks", "check", "detach", "attach", "move", "journal", "snapshot-fleet"}
)
REFERENCE_SUBCOMMANDS = frozenset({"completion", "man"})


INTERRUPTED_AT_START = "ecs-detach: interrupted (Ctrl-C) before anything was changed"


def main(argv: list[str] | None = None) -> int:
    """Run one face of the command. A Ctrl-C before the face takes over (imports take tens of milliseconds)
    is one line and exit 1, never a traceback; each face handles its own Ctrl-C after that."""
    try:
        tolerate_unencodable_output()
        return _run_face(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print(INTERRUPTED_AT_START, file=sys.stderr)
        return 1


def tolerate_unencodable_output() -> None:
    """On a terminal or pipe that is not UTF-8 (``LANG=C``, ``PYTHONIOENCODING=ascii``), print what cannot be
    encoded as replacement characters instead of failing the command over a ``✓``."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding != "utf8" and reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a stream that cannot change: left as it is
                reconfigure(errors="replace")


_LEADING_OPTIONS = {"--demo": 0, "--read-only": 0, "--profile": 1, "--region": 1, "--endpoint": 1}
"""The options a subcommand shares with the TUI face, and how many values each takes."""


def subcommand_first(args: list[str]) -> list[str]:
    """``ecs-detach --demo check d-1`` as ``ecs-detach check --demo d-1``: shared options written before a
    scripting subcommand are moved after it (each subcommand takes them), instead of being refused."""
    i = 0
    while i < len(args) and args[i].split("=", 1)[0] in _LEADING_OPTIONS:
        name = args[i].split("=", 1)[0]
        i += 1 + (_LEADING_OPTIONS[name] if "=" not in args[i] else 0)
    if 0 < i < len(args) and args[i] in SCRIPTING_SUBCOMMANDS:
        return [args[i], *args[:i], *args[i + 1 :]]
    return args


def _run_face(args: list[str]) -> int:
    from ecs_detach._startup import skip_httpx_cli

    skip_httpx_cli()
    args = subcommand_first(args)
    exit_code: int
    if args and args[0] in ("--version", "-V"):
        from ecs_detach.cli_reference import package_version

        print(f"ecs-detach {package_version()}")
        exit_code = 0
    elif args and args[0] in REFERENCE_SUBCOMMANDS:
        exit_code = _reference(args)
    elif args and args[0] == "emulator":
        from ecs_detach.emulator.server import main as emulator_main

        exit_code = emulator_main(args[1:])
    elif args and args[0] in SCRIPTING_SUBCOMMANDS:
        from ecs_detach.commands import main as commands_main

        exit_code = commands_main(args)
    else:
        from tui.app import main as tui_main  # the one place the core hands over to the TUI

        exit_code = tui_main(args)
    return exit_code


def _reference(args: list[str]) -> int:
    """``completion bash|zsh|fish`` and ``man``: generated from the parsers, printed on stdout."""
    from ecs_detach.cli_reference import SHELLS, completion_script, man_page

    if "--help" in args or "-h" in args:
        print("usage: ecs-detach completion {bash,zsh,fish}\n       ecs-detach man  (then: | man -l -)")
        return 0
    if args[0] == "man":
        if len(args) > 1:
            print(f"ecs-detach man: takes no arguments (got {' '.join(args[1:])})", file=sys.stderr)
            return 2
        sys.stdout.write(man_page())
        return 0
    if len(args) != 2 or args[1] not in SHELLS:
        print(
            f"ecs-detach completion: name one shell: {', '.join(SHELLS)}\n"
            "  what to do: e.g. ecs-detach completion bash "
            "> ~/.local/share/bash-completion/completions/ecs-detach",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(completion_script(args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
