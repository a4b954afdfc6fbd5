"""The key footer: Textual's ``Footer``, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's ``Footer`` rebuilds every key it shows on each bindings signal (a screen resumed, focus
    moved, ``refresh_bindings``), one rebuild per signal. Starting the browse screen sent three such
    signals with the same keys each time: two of the rebuilds came after the tables were filled, and held
    the first full screen back. Here the signals that arrive before a rebuild runs share it, and a rebuild
    whose keys are the ones already shown is skipped."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Any, ...] | None = None
        self._rebuild_pending = False

    def _keys(self) -> tuple[Any, ...]:
        """What the footer shows: every key it lists, with its label, state and tooltip, in order."""
        keys = tuple(
            (
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip,
                binding.group,
            )
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        return (keys, self.show_command_palette, self.compact)

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._rebuild_pending = False
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()
