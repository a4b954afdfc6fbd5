"""A small modal screen: pick one of a list (region, profile)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..text import plain


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
