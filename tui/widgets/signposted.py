"""A scrolling pane that says, on its last line, when something is below its fold and how to reach it."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

MORE_BELOW = "↓ more below: tab here, then ↓ or PgDn"


class SignpostedScroll(VerticalScroll):
    """A VerticalScroll (focusable: tab reaches it, ↓ / PgDn scroll it) whose bottom line reads
    :data:`MORE_BELOW` while any of its content is out of sight below."""

    def on_mount(self) -> None:
        self.mount(Static(MORE_BELOW, classes="more-below"))
        self.watch(self, "scroll_y", self._signpost, init=False)
        self.watch(self, "virtual_size", self._signpost, init=False)
        self._signpost()

    def on_resize(self) -> None:
        self._signpost()

    def _signpost(self) -> None:
        for sign in self.query(".more-below"):
            sign.display = self.max_scroll_y - self.scroll_y >= 1
