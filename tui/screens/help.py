"""Key help: every key, grouped by where it works, in words."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ecs_detach.vocabulary import legend

HELP_TEXT = """\
[b]Browse[/b]
  ↑ ↓ / mouse   move            enter   instance → its disks      tab   next table
  1 / 2         instances view / disks view (every disk in the region)
  /             filter: fuzzy text, field:value, field=value, -negate (esc clears)
                fields: id name status type zone region locks disks; disks also role category
                size portable multiattach dwi device instance
  i             detail pane on/off            v   raw JSON on/off
  r             refresh now (auto-refresh is fast while anything is moving)
  g             switch region (or all regions)   a   all regions on/off   P   switch profile

[b]Act[/b] (inert while read-only; each says why)
  c             check a disk: every DetachDisk precondition, nothing sent
  d             detach the disk under the cursor: checklist → fix → plan → confirm → follow
  space         mark a disk        D   detach the marked disks (per-disk preflight table)
  u             undo: re-attach a disk you detached (from the journal)
  ctrl+w        arm / disarm writes (protected profiles need the profile name typed)

[b]In the detach wizard[/b]
  s             allow the stop the fix needs (then ForceStop / StoppedMode / restart are yours to set)
  tab, enter    move to the Detach… button and press it; the confirmation focuses Cancel
  r             check again (fresh reads)      esc   back; a started job goes on (o follows it)

[b]Anywhere[/b]
  o             jobs: progress of every operation, which goes on while you browse
  j             journal: what was done, with request ids
  ctrl+p        command palette (themes, regions, go to a disk, …)
  ?             this help            esc   back            q   quit

Confirmation dialogs focus [b]Cancel[/b]. Detaching a system disk or stopping an instance needs the
id typed. Every state is shown as a symbol and a word: ● running/in use  ○ stopped/available  ◐ moving
"""
HELP_TEXT += f"{legend()}  (? unknown: the API decides; – n/a: the row does not apply).\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Static("Keys", classes="dialog-title")
            yield Static(HELP_TEXT)
