"""The scripting subcommands (placeholder until the workflow lands)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    print(f"ecs-detach {argv[0]}: not yet available", file=sys.stderr)
    return 2
