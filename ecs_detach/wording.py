"""Sentences that name a choice the operator makes, kept as data so that each face words the choice its way.

A remedy such as "Unmount it first: --unmount does it" is right on the command line and wrong in the TUI,
which has no flags but a tick box. The core therefore keeps such a sentence as a :class:`Worded`: its text
with a :class:`Choice` where the choice is named. The CLI's names (:data:`CLI_WORDS`) give the plain
``str`` the core has always carried (``Row.remedy``, ``Plan.refusal``, ``Preconditions.reason``), so the
CLI, the JSON and the notebooks read as before; the TUI passes its own names (``tui.checks.TUI_WORDS``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CLI_WORDS", "Choice", "Worded", "Words", "worded"]


class Choice(StrEnum):
    """A choice a sentence can ask the operator to make; the value is its place name in a template."""

    UNMOUNT = "unmount"  # release the disk in the guest first (DetachOptions.unmount)
    STOP_INSTANCE = "stop_instance"  # allow stopping the instance (DetachOptions.allow_stop)
    SKIP_GUEST_CHECK = "skip_guest_check"  # do not read the guest (DetachOptions.skip_guest_check)
    CHECK_AGAIN = "check_again"  # read the disk again and check every precondition
    STOP_TARGET = "stop_target"  # a move may stop its target instance (MoveOptions.stop_target)
    BOOTABLE = "bootable"  # a move attaches a system disk as the target's system disk (MoveOptions.bootable)


Words = Mapping[Choice, str]
"""How one face names each choice; ``{disk}`` in a name is the sentence's disk id."""

CLI_WORDS: Words = {
    Choice.UNMOUNT: "--unmount",
    Choice.STOP_INSTANCE: "--stop-instance",
    Choice.SKIP_GUEST_CHECK: "--skip-guest-check",
    Choice.CHECK_AGAIN: "ecs-detach check {disk}",
    Choice.STOP_TARGET: "--stop-target",
    Choice.BOOTABLE: "--bootable",
}


@dataclass(frozen=True, slots=True)
class Worded:
    """A sentence as pieces: plain text, and the choices it names (each face fills those in)."""

    parts: tuple[str | Choice, ...]
    disk_id: str = ""

    def say(self, words: Words) -> str:
        """The sentence with each choice named by `words`."""
        return "".join(
            words[part].format(disk=self.disk_id) if isinstance(part, Choice) else part for part in self.parts
        )

    @property
    def choices(self) -> tuple[Choice, ...]:
        return tuple(part for part in self.parts if isinstance(part, Choice))

    def after(self, text: str) -> Worded:
        """This sentence with plain `text` before it (e.g. a row's sentence before its remedy)."""
        return Worded((text, *self.parts), self.disk_id) if text else self

    def then(self, text: str) -> Worded:
        """This sentence with plain `text` after it."""
        return Worded((*self.parts, text), self.disk_id) if text else self


_CHOICES = {choice.value: choice for choice in Choice}


def worded(template: str, *, disk_id: str = "", **values: str) -> Worded:
    """`template` with ``{unmount}``-style places for choices and ``{name}`` places for `values`; a value
    is kept as plain text (never read as a template), so ids and mount points cannot break it."""
    parts: list[str | Choice] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if name is None:
            continue
        if name in _CHOICES:
            parts.append(_CHOICES[name])
        elif name in values:
            parts.append(values[name])
        else:
            raise KeyError(f"template place {{{name}}} is neither a choice nor a given value")
    return Worded(tuple(parts), disk_id)
