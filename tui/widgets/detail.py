"""The detail pane: every attribute of the highlighted object, and its raw JSON on demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.containers import VerticalScroll
from textual.widgets import Static

from ..rows import raw_json
from ..text import lines, marked, plain


class DetailPane(VerticalScroll):
    """Attributes as a two-column list; ``raw`` switches to the API's own JSON.

    While hidden (terminals narrower than the browse screen's threshold, until ``i``), the pane only keeps
    what it was given, and renders it when :meth:`reveal` shows it; what it already shows is not rendered
    again (a cursor landing on a row sends several highlight events for the same object)."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = ""
        self._items: Sequence[tuple[str, str]] = ()
        self._raw: Mapping[str, Any] = {}
        self.show_raw = False
        self._rendered = True
        """The body shows ``_title``/``_items``/``_raw`` as ``show_raw`` says."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Nothing selected.", id="detail-body")

    def show(self, title: str, items: Sequence[tuple[str, str]], raw: Mapping[str, Any]) -> None:
        items = tuple(items)
        if self._rendered and (title, items, raw) == (self._title, self._items, self._raw):
            return
        self._title, self._items, self._raw = title, items, raw
        self._rendered = False
        if self.display:
            self._render_body()

    def reveal(self, visible: bool) -> None:
        """Show or hide the pane; shown, it is brought up to date first."""
        if visible and not self._rendered:
            self._render_body()
        self.display = visible

    def clear_detail(self) -> None:
        self.show("", (), {})

    def toggle_raw(self) -> None:
        self.show_raw = not self.show_raw
        self._rendered = False
        if self.display:
            self._render_body()

    def _render_body(self) -> None:
        self._rendered = True
        body = self.query_one("#detail-body", Static)
        if not self._title:
            body.update("Nothing selected.")
            return
        self.border_title = f"{self._title} — {'raw JSON' if self.show_raw else 'details'} (v: toggle)"
        if self.show_raw:
            body.update(plain(raw_json(self._raw)))
            return
        width = max((len(k) for k, _ in self._items), default=0)
        body.update(lines(marked("[b]$key[/b]  $value", key=k.ljust(width), value=v) for k, v in self._items))
