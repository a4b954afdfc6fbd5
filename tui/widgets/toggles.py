"""A checkbox and a radio button whose state reads without colour: ✓ or blank, ● or ○."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox, RadioButton


class TickBox(Checkbox):
    """A Checkbox that shows ✓ when ticked and nothing when not (Textual's shows X in both, coloured)."""

    def render(self) -> Content:
        self.BUTTON_INNER = "✓" if self.value else " "
        return super().render()


class RadioChoice(RadioButton):
    """A RadioButton that shows ● when chosen and ○ when not."""

    def render(self) -> Content:
        self.BUTTON_INNER = "●" if self.value else "○"
        return super().render()
