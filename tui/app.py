"""The Textual operator UI (placeholder until the TUI lands)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    print("ecs-detach: the terminal UI is not yet available", file=sys.stderr)
    return 2
