"""The confirmation dialog: restates what will happen; Cancel has the focus; risky plans need an id typed."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..text import marked


class ConfirmScreen(ModalScreen[bool]):
    """``dismiss(True)`` only on the confirm button (enabled once the id, if any, is typed exactly)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str | Content, body: str | Content, *, confirm_label: str, typed_id: str | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm_label = confirm_label
        self.typed_id = typed_id

    def compose(self) -> ComposeResult:
        # The body scrolls on its own: what is typed and the buttons stay below it, and the body keeps its
        # first lines (the steps) in sight while the id box has the focus.
        with Vertical(classes="dialog wide", id="confirm-dialog"):
            yield Label(self._title, classes="dialog-title")
            with VerticalScroll(id="confirm-scroll"):
                yield Static(self._body, id="confirm-body")
            if self.typed_id:
                yield Label(
                    marked("To confirm, type [b]$id[/b] and press enter (esc cancels):", id=self.typed_id)
                )
                yield Input(placeholder="type it here", id="typed", select_on_focus=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self._confirm_label, id="confirm", variant="error", disabled=bool(self.typed_id))

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.typed_id

    @on(Input.Submitted, "#typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.typed_id:
            self.dismiss(True)  # the id typed exactly, then enter: as deliberate as it gets

    def on_key(self, event: events.Key) -> None:
        """Typing while Cancel has the focus goes to the id box (Cancel stays the default for enter)."""
        if not self.typed_id or event.character is None or not event.is_printable:
            return
        box = self.query_one("#typed", Input)
        if self.focused is box or event.key in ("space", "tab"):
            return
        box.focus()
        box.insert_text_at_cursor(event.character)
        event.stop()
        event.prevent_default()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.typed_id and self.query_one("#typed", Input).value.strip() != self.typed_id:
            return
        self.dismiss(True)
