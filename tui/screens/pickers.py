"""Small modal screens: pick one of a list (region, profile), and arm writes on a protected profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option


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
                    Option(("● " if value == self._current else "  ") + label, id=value)
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


class ArmWritesScreen(ModalScreen[bool]):
    """Arming writes on a protected profile needs the profile's name typed; Cancel has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(False)", "Cancel")]

    def __init__(self, profile: str) -> None:
        super().__init__()
        self._profile = profile

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Arm writes on a PROTECTED profile", classes="dialog-title")
            yield Label(
                f"Profile [b]{self._profile}[/b] is marked protected. Writes (detach, stop, re-attach) "
                f"will reach it.\nType the profile name to arm writes:"
            )
            yield Input(placeholder=self._profile, id="typed")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Arm writes", id="arm", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#arm", Button).disabled = event.value.strip() != self._profile

    @on(Input.Submitted, "#typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self._profile:
            self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#arm")
    def _arm(self) -> None:
        if self.query_one("#typed", Input).value.strip() == self._profile:
            self.dismiss(True)
