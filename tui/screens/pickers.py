"""A small modal screen: pick one of a list (region, profile, the target or source of a move)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..text import plain

if TYPE_CHECKING:
    from ecs_detach.models import Disk, Instance


def move_target_choices(
    disk: Disk, source_id: str | None, instances: Sequence[Instance]
) -> list[tuple[str, str]]:
    """The instances `disk` can be moved to, its own zone first: of its region, none it is attached to (the
    source; both of a multi-attach disk's). Each as (id, one short line). A disk just detached, still listed
    under `source_id`, is attached to none: that instance is offered too, with a word on putting it back (the
    move screen refuses it and names u)."""
    taken = set(disk.attached_instance_ids)
    others = [i for i in instances if i.region_id == disk.region_id and i.instance_id not in taken]
    others.sort(key=lambda i: (i.zone_id != disk.zone_id, i.name, i.instance_id))
    return [
        (
            i.instance_id,
            f"{i.instance_id}  {i.name}  {i.status}"
            + ("" if i.zone_id == disk.zone_id else f"  {i.zone_id} (other zone)")
            + ("  (detached from here: u puts it back)" if i.instance_id == source_id else ""),
        )
        for i in others
    ]


def move_source(disk: Disk, source_id: str | None) -> str | None:
    """The instance the move detaches `disk` from: `source_id` (the one it is listed under) while it is
    attached there, else None (a disk just detached: the move's plan finds where it was in the journal)."""
    return source_id if source_id in disk.attached_instance_ids else None


def move_title(disk: Disk, source_id: str | None) -> str:
    """The target picker's question: which disk, and from which instance (a multi-attach disk has several;
    a disk just detached says where from)."""
    where = ""
    if source_id:
        where = f" from {source_id}" if move_source(disk, source_id) else f" (detached from {source_id})"
    kind = "multi-attach disk" if disk.is_multi_attach else f"{disk.type} disk"
    return f"Move {kind} {disk.disk_id}{where} to which instance?"


class PickerScreen(ModalScreen[str | None]):
    """A list to pick from; enter picks, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, options: Sequence[tuple[str, str]], *, current: str = "") -> None:
        super().__init__()
        self._title = title
        self._options = list(options)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield OptionList(
                *[
                    Option(plain(("● " if value == self._current else "  ") + label), id=value)
                    for value, label in self._options
                ],
                id="picker",
            )
            yield Label("enter: choose · esc: cancel", classes="hint")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.focus()
        for index, (value, _) in enumerate(self._options):
            if value == self._current:
                picker.highlighted = index

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
