"""The `ecs-detach` command: the TUI by default, the emulator, and the scripting subcommands.

Each face lives in its own module and is imported only when chosen, so `ecs-detach emulator` and the scripting
subcommands never load Textual.
"""

from __future__ import annotations

import sys

SCRIPTING_SUBCOMMANDS = frozenset(
    {"instances", "disks", "check", "detach", "attach", "journal", "snapshot-fleet"}
)


def main(argv: list[str] | None = None) -> int:
    from ecs_detach._startup import skip_httpx_cli

    skip_httpx_cli()
    args = list(sys.argv[1:] if argv is None else argv)
    exit_code: int
    if args and args[0] == "emulator":
        from ecs_detach.emulator.server import main as emulator_main

        exit_code = emulator_main(args[1:])
    elif args and args[0] in SCRIPTING_SUBCOMMANDS:
        from ecs_detach.commands import main as commands_main

        exit_code = commands_main(args)
    else:
        from tui.app import main as tui_main  # the one place the core hands over to the TUI

        exit_code = tui_main(args)
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
