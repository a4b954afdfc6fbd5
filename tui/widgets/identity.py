"""The identity bar: who, where and how, always on screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Static

TITLE = "ecs-detach"
SEPARATOR = " │ "


@dataclass(frozen=True, slots=True)
class Identity:
    """What the operator must always see before acting. ``access_key`` is already masked."""

    profile: str
    access_key: str
    region: str
    endpoint: str
    demo: bool = False
    read_only: bool = False
    protected: bool = False
    region_note: str = ""
    """A hint shown after the region while there is room (e.g. how actions pick a region in all-regions
    mode); the first thing given up on a narrow terminal."""


@dataclass(frozen=True, slots=True)
class _Form:
    """One way of writing the identity, from the most words to the fewest."""

    title: bool = True
    note: bool = True
    labels: bool = True
    scheme: bool = True
    key: bool = True


_FORMS = (
    _Form(),
    _Form(note=False),
    _Form(note=False, title=False),
    _Form(note=False, title=False, labels=False),
    _Form(note=False, title=False, labels=False, scheme=False),
    _Form(note=False, title=False, labels=False, scheme=False, key=False),
)


def _endpoint(endpoint: str, *, scheme: bool) -> str:
    return endpoint if scheme else endpoint.split("://", 1)[-1]


def _compose(identity: Identity, form: _Form, title_style: Style | str) -> Text:
    def part(label: str, value: str) -> Text:
        text = Text(f"{label} " if form.labels else "")
        text.append(value, style="bold")
        return text

    region = part("region", identity.region)
    if form.note and identity.region_note:
        region.append(f" ({identity.region_note})")
    parts = [part("profile", identity.profile)]
    if form.key:
        parts.append(Text(f"key {identity.access_key}" if form.labels else identity.access_key))
    parts += [region, Text(_endpoint(identity.endpoint, scheme=form.scheme))]
    line = Text(SEPARATOR).join(parts)
    return Text.assemble((f" {TITLE} ", title_style) if form.title else "", " ", line)


def identity_line(identity: Identity, width: int, *, title_style: Style | str = "reverse bold") -> Text:
    """The identity in at most ``width`` cells: the title, the region's note, the labels, the endpoint's
    scheme and the key are given up in that order; profile, region and endpoint stay (cut with … only when
    even that does not fit)."""
    for form in _FORMS:
        line = _compose(identity, form, title_style)
        if line.cell_len <= width:
            return line
    line = _compose(identity, _FORMS[-1], title_style)
    line.truncate(max(width, 1), overflow="ellipsis")
    return line


class IdentityText(Static):
    """The identity line, written for the width it is given."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"identity-text--title"}

    def __init__(self, identity: Identity, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.identity = identity

    def render(self) -> Text:
        width = self.content_region.width or self.app.size.width
        title_style = self.get_component_rich_style("identity-text--title")
        return identity_line(self.identity, width, title_style=title_style)


class IdentityBar(Horizontal):
    """``profile · key · region · endpoint`` and the DEMO / READ-ONLY / PROTECTED badges, as words."""

    def __init__(self, identity: Identity, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._identity = identity

    def compose(self) -> ComposeResult:
        yield IdentityText(self._identity, id="identity-text")
        yield Label("DEMO", id="badge-demo", classes="badge")
        yield Label("READ-ONLY", id="badge-read-only", classes="badge")
        yield Label("WRITES ARMED", id="badge-armed", classes="badge")
        yield Label("PROTECTED", id="badge-protected", classes="badge")

    def on_mount(self) -> None:
        self.show(self._identity)

    def show(self, identity: Identity) -> None:
        self._identity = identity
        text = self.query_one("#identity-text", IdentityText)
        text.identity = identity
        text.refresh()
        self.query_one("#badge-demo").display = identity.demo
        self.query_one("#badge-read-only").display = identity.read_only
        self.query_one("#badge-armed").display = not identity.read_only
        self.query_one("#badge-protected").display = identity.protected

    @property
    def identity(self) -> Identity:
        return self._identity
