"""The key footer: Textual's ``Footer``, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED_ACTIONS = frozenset({"help", "quit_app"})
"""Keys kept in sight at the right end, beside the palette's, however many keys the screen has (the others
are cut at the edge)."""


class KeyFooter(Footer):
    """Textual's ``Footer`` starts empty and rebuilds every key it shows on each bindings signal (a screen
    resumed, focus moved, ``refresh_bindings``), one rebuild per signal, each after the next refresh.
    Starting the browse screen sent three such signals with the same keys each time: the first frame had
    an empty footer, and the rebuilds came after the tables were filled, holding the first full screen
    back. Here the keys known when the footer is built (its screen's and the app's) are shown at once,
    the signals that arrive before a rebuild runs share it, and a rebuild whose keys are the ones already
    shown (a focused widget with keys of its own changes them) is skipped."""

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
        self.set_reactive(Footer._bindings_ready, True)
        self._shown = self._keys()
        pinned: list[FooterKey] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
                # A key bound to the footer's ``compact`` starts compact, then takes the footer's setting:
                # both changes restyled it (twice per key, every build). It starts with the footer's
                # setting instead. (The palette key is not bound: it stays compact.)
                widget.set_reactive(FooterKey.compact, self.compact)
            if isinstance(widget, FooterKey) and (
                widget.action in PINNED_ACTIONS or widget.has_class("-command-palette")
            ):
                pinned.append(widget)
                continue
            yield widget
        if pinned:
            yield HorizontalGroup(*pinned, id="footer-pinned")

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
            self._fit_keys()

    def on_resize(self) -> None:
        self._fit_keys()

    def _fit_keys(self) -> None:
        """Show the keys that fit whole beside the pinned ones, in order; a key cut at the edge ("g" without
        "Region") reads as a different key, so from the first that does not fit on, none is shown."""
        if not self.size.width:
            return
        container, viewport = self.size, self.app.size

        def width(widget: Widget) -> int:
            styles = widget.styles
            return widget.get_content_width(container, viewport) + styles.margin.width + styles.padding.width

        others = [child for child in self.children if child.id != "footer-pinned"]
        room = self.size.width - sum(width(child) for child in self.query("#footer-pinned > *"))
        used, fits = 0, True
        for child in others:
            used += width(child)
            fits = fits and used <= room
            child.display = fits
