"""Pure formatting helpers: words and symbols for states, masked keys, durations. No Textual here.

Every state is shown as a symbol *and* a word, so nothing depends on colour alone (NO_COLOR, colour-blind
users).
"""

from __future__ import annotations

import math

from ecs_detach.errors import EcsError
from ecs_detach.models import (
    DISK_ATTACHING,
    DISK_AVAILABLE,
    DISK_DETACHING,
    DISK_IN_USE,
    INSTANCE_PENDING,
    INSTANCE_RUNNING,
    INSTANCE_STARTING,
    INSTANCE_STOPPED,
    INSTANCE_STOPPING,
)

from .words import TUI_WORDS

_STATUS_SYMBOLS = {
    INSTANCE_RUNNING: "●",
    INSTANCE_STOPPED: "○",
    INSTANCE_STARTING: "◐",
    INSTANCE_STOPPING: "◐",
    INSTANCE_PENDING: "◐",
    DISK_IN_USE: "●",
    DISK_AVAILABLE: "○",
    DISK_ATTACHING: "◐",
    DISK_DETACHING: "◐",
    "Creating": "◐",
    "ReIniting": "◐",
}


def status_text(status: str) -> str:
    """``"● Running"``: a symbol that reads without colour, then the API's own word."""
    if not status:
        return "?"
    return f"{_STATUS_SYMBOLS.get(status, '·')} {status}"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def mask_key(access_key_id: str) -> str:
    """Show enough of an AccessKeyId to recognise it, never all of it: ``LTAI…oKey``."""
    key = access_key_id.strip()
    if not key:
        return "(none)"
    if len(key) <= 8:
        return key[:2] + "…" if len(key) > 2 else "…"
    return f"{key[:4]}…{key[-4:]}"


def duration(seconds: float) -> str:
    """``"0:42"``, ``"1:05"``, ``"1:02:03"``; negative values count as zero."""
    total = max(0, math.floor(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def eta_text(elapsed: float, expected: float) -> str:
    """What is left of an expected duration, honestly: ``"~0:18 left"``, or ``"overdue by 0:12"``."""
    left = expected - elapsed
    if left >= 0:
        return f"~{duration(left)} left"
    return f"overdue by {duration(-left)}"


def size_text(size_gib: int) -> str:
    return f"{size_gib} GiB"


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def error_text(error: BaseException) -> tuple[str, str]:
    """(title, body) for a notification: the error in one line and the remedy, never a traceback; a setting
    they name (the region, the profile, ...) is named in the TUI's words: its keys, not the CLI's flags."""
    if isinstance(error, EcsError):
        message, remedy = error.message_in(TUI_WORDS) or type(error).__name__, error.remedy_in(TUI_WORDS)
    else:
        message = str(error) or type(error).__name__
        remedy = str(getattr(error, "remedy", "") or "")
    code = str(getattr(error, "code", "") or "")
    title = code or type(error).__name__
    if not hasattr(error, "remedy"):
        title = f"Unexpected error ({type(error).__name__})"
        remedy = remedy or "Press r to refresh; if it persists, report it with the steps that led here."
    body = message if not remedy else f"{message}\n→ {remedy}"
    return title, body
