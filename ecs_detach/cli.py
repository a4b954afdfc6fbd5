"""The `ecs-detach` command: the TUI by default, the emulator, and the scripting subcommands."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "emulator":
        from ecs_detach.emulator.server import main as emulator_main

        exit_code: int = emulator_main(args[1:])
        return exit_code
    print("ecs-detach: not yet available; see README.md", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
