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
    UNDO_AGAIN = "undo_again"  # run the same undo again (it sends only what is still owed): its operation
    STOP_TARGET = "stop_target"  # a move may stop its target instance (MoveOptions.stop_target)
    BOOTABLE = "bootable"  # a move attaches a system disk as the target's system disk (MoveOptions.bootable)
    SNAPSHOT = "snapshot"  # take a snapshot before the detach (DetachOptions.snapshot)
    ATTACH = "attach"  # attach the (Available) disk to an instance, named with the choice
    PUT_BACK = "put_back"  # attach the disk back to the instance it was detached from (the undo)
    ATTACH_ANEW = "attach_anew"  # attach a disk no journaled detach took anywhere, named with the instance
    # The session's settings, named by the errors' remedies (``ecs_detach.errors``) and the runs' reconcile.
    REGION = "region"  # the region the session reads and acts in
    REAL_REGION = "real_region"  # how to give a well-formed region id instead of a malformed one
    PROFILE = "profile"  # the credentials profile the session signs with
    ENDPOINT = "endpoint"  # the API endpoint the session talks to
    CHECK_ENDPOINT = "check_endpoint"  # look at that endpoint (an action or method it refuses)
    DEMO = "demo"  # the built-in emulator: everything, without an account
    CONFIGURE_CREDENTIALS = "configure_credentials"  # where to read how credentials are configured
    WRITES = "writes"  # turn read-only mode off (ReadOnlyError)
    RECONCILE = "reconcile"  # settle the journal's pending calls by reading the live state
    JOURNAL = "journal"  # point ecs-detach at another journal file (JournalError)
    RESTART = "restart"  # start the instance again after the detach (DetachOptions.restart)


Words = Mapping[Choice, str]
"""How one face names each choice; ``{disk}`` in a name is the sentence's disk id, ``{instance}`` the
instance the choice is made for (see :data:`Pick`), ``{operation}`` the journal's operation it is about."""

Pick = tuple[Choice, str]
"""A choice made for one instance, e.g. ``(Choice.ATTACH, "i-web-02")``."""

CLI_WORDS: Words = {
    Choice.UNMOUNT: "--unmount",
    Choice.STOP_INSTANCE: "--stop-instance",
    Choice.SKIP_GUEST_CHECK: "--skip-guest-check",
    Choice.CHECK_AGAIN: "ecs-detach check {disk}",
    Choice.UNDO_AGAIN: "run the same undo again, which is safe (ecs-detach attach --operation {operation}: "
    "it reads the guest first and sends the remount only if it is still owed), or ",
    Choice.STOP_TARGET: "--stop-target",
    Choice.BOOTABLE: "--bootable",
    Choice.SNAPSHOT: "--snapshot",
    Choice.ATTACH: "ecs-detach attach {disk} --instance {instance}",
    Choice.PUT_BACK: "ecs-detach attach {disk} --instance {instance}",
    Choice.RESTART: "--restart-instance / DetachOptions(restart=True)",
    Choice.ATTACH_ANEW: "attach it with `ecs-detach attach {disk} --instance {instance}`",
    Choice.REGION: "--region",
    Choice.REAL_REGION: "pass a real region id, e.g. --region cn-hangzhou",
    Choice.PROFILE: "--profile",
    Choice.ENDPOINT: "--endpoint",
    Choice.CHECK_ENDPOINT: "check --endpoint",
    Choice.DEMO: "ecs-detach --demo",
    Choice.CONFIGURE_CREDENTIALS: "configure them (see --help) or use --demo",
    Choice.WRITES: "Start without --read-only",
    Choice.RECONCILE: "Run `ecs-detach journal`",
    Choice.JOURNAL: "--journal PATH (or journal = PATH in config.toml), journal_path= in the notebooks",
}


@dataclass(frozen=True, slots=True)
class Worded:
    """A sentence as pieces: plain text, and the choices it names (each face fills those in)."""

    parts: tuple[str | Choice | Pick, ...]
    disk_id: str = ""
    operation_id: str = ""  # the journal's operation the sentence is about ("" when none)

    def say(self, words: Words) -> str:
        """The sentence with each choice named by `words`."""
        return "".join(self._said(part, words) for part in self.parts)

    def _said(self, part: str | Choice | Pick, words: Words) -> str:
        if isinstance(part, Choice):
            return words[part].format(disk=self.disk_id, instance="", operation=self.operation_id)
        if isinstance(part, tuple):
            choice, instance_id = part
            return words[choice].format(disk=self.disk_id, instance=instance_id, operation=self.operation_id)
        return part

    @property
    def choices(self) -> tuple[Choice, ...]:
        named: list[Choice] = []
        for part in self.parts:
            if isinstance(part, Choice):  # first: a Choice is a str too (StrEnum)
                named.append(part)
            elif isinstance(part, tuple):
                named.append(part[0])
        return tuple(named)

    def after(self, text: str) -> Worded:
        """This sentence with plain `text` before it (e.g. a row's sentence before its remedy)."""
        return Worded((text, *self.parts), self.disk_id, self.operation_id) if text else self

    def then(self, text: str) -> Worded:
        """This sentence with plain `text` after it."""
        return Worded((*self.parts, text), self.disk_id, self.operation_id) if text else self


_CHOICES = {choice.value: choice for choice in Choice}


def worded(template: str, *, disk_id: str = "", operation_id: str = "", **values: str | Pick) -> Worded:
    """`template` with ``{unmount}``-style places for choices and ``{name}`` places for `values`; a value
    is plain text (never read as a template, so ids and mount points cannot break it) or a `Pick`."""
    parts: list[str | Choice | Pick] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if name is None:
            continue
        if name in values:  # a value given wins over a choice's place of the same name
            parts.append(values[name])
        elif name in _CHOICES:
            parts.append(_CHOICES[name])
        else:
            raise KeyError(f"template place {{{name}}} is neither a choice nor a given value")
    return Worded(tuple(parts), disk_id, operation_id)
