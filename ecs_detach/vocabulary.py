"""The words every face uses for the same thing: one symbol and one word per row status, verdict, outcome
and resource status, the name of a disk's role, and how the demo's endpoint and time are named.

The CLI (`ecs_detach.tables`, `ecs_detach.render`), the notebooks and the TUI (`tui.checks`) read these and
define none of their own, so a verdict reads the same everywhere. Symbols are plain Unicode that any terminal
font renders; a word always goes with the symbol, so nothing depends on colour.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEMO_TIME",
    "IN_PROCESS_ENDPOINT",
    "OUTCOMES",
    "ROLE",
    "ROW_STATUSES",
    "STATUSES",
    "VERDICTS",
    "Label",
    "legend",
    "outcome_label",
    "row_status_label",
    "status_label",
    "verdict_label",
]


@dataclass(frozen=True, slots=True)
class Label:
    """A symbol and a word, e.g. ``Label("↻", "fixable")``; ``str()`` gives ``"↻ fixable"``."""

    symbol: str
    word: str

    def __str__(self) -> str:
        return f"{self.symbol} {self.word}"

    @property
    def headline(self) -> str:
        """The label in capitals, for a banner: ``"↻ FIXABLE"``."""
        return f"{self.symbol} {self.word.upper()}"


# A precondition row (keys: `RowStatus` values).
ROW_STATUSES: dict[str, Label] = {
    "pass": Label("✓", "pass"),
    "fail": Label("✗", "fail"),
    "fixable": Label("↻", "fixable"),
    "unknown": Label("?", "unknown"),
    "not-applicable": Label("–", "n/a"),
}

# A preconditions report's verdict (keys: `Verdict` values).
VERDICTS: dict[str, Label] = {
    "ready": Label("✓", "ready"),
    "fixable": Label("↻", "fixable"),
    "blocked": Label("✗", "blocked"),
    "already-detached": Label("○", "already detached"),
    "in-progress": Label("◐", "already detaching"),
}

# How a run ended (keys: `workflow.Outcome` values).
OUTCOMES: dict[str, Label] = {
    "done": Label("✓", "done"),
    "already-detached": Label("○", "already detached"),
    "blocked": Label("✗", "blocked"),
    "aborted": Label("✗", "aborted"),
    "failed": Label("✗", "failed"),
    "timed-out": Label("⏱", "timed out"),
    "cancelled": Label("■", "cancelled"),
}

# An instance's or a disk's status: ● steady in use, ○ idle, ◐ in transition. The API's word is kept.
_IN_USE, _IDLE, _MOVING = "●", "○", "◐"
STATUSES: dict[str, Label] = {
    "Running": Label(_IN_USE, "Running"),
    "In_use": Label(_IN_USE, "In_use"),
    "Stopped": Label(_IDLE, "Stopped"),
    "Available": Label(_IDLE, "Available"),
    "Starting": Label(_MOVING, "Starting"),
    "Stopping": Label(_MOVING, "Stopping"),
    "Pending": Label(_MOVING, "Pending"),
    "Attaching": Label(_MOVING, "Attaching"),
    "Detaching": Label(_MOVING, "Detaching"),
}

ROLE = "Role"
"""The header for a disk's role, ``system`` or ``data`` (the API's ``Type``)."""

IN_PROCESS_ENDPOINT = "emulator (in-process, demo)"
"""What an in-process emulator client shows and journals as its endpoint: it reaches no cloud URL."""

DEMO_TIME = "demo time"
"""The words after a duration or a time measured on the emulator's demo clock, which runs faster than
the wall clock."""


def _label(table: dict[str, Label], key: str) -> str:
    found = table.get(key)
    return str(found) if found is not None else key


def row_status_label(status: str) -> str:
    """A precondition row's status with its symbol: ✓ pass, ✗ fail, ↻ fixable, ? unknown, – n/a."""
    return _label(ROW_STATUSES, status)


def verdict_label(verdict: str) -> str:
    """A verdict with its symbol: ✓ ready, ↻ fixable, ✗ blocked, ○ already detached, ◐ already detaching."""
    return _label(VERDICTS, verdict)


def outcome_label(outcome: str) -> str:
    """How a run ended, with its symbol: ✓ done, ✗ failed, ⏱ timed out, ..."""
    return _label(OUTCOMES, outcome)


def status_label(status: str) -> str:
    """A resource status with its shape: ● Running, ○ Available, ◐ Detaching (unknown statuses as given)."""
    return _label(STATUSES, status)


def legend() -> str:
    """One line naming every row status, for help screens."""
    return "  ".join(str(label) for label in ROW_STATUSES.values())
