"""`ecs-detach emulator`: the emulator over HTTP (placeholder until the gateway lands)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    print("ecs-detach emulator: not yet available", file=sys.stderr)
    return 2
