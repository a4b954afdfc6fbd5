"""The identity bar: who, where and how, always on screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from ..text import marked


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


class IdentityBar(Horizontal):
    """``profile · key · region · endpoint`` and the DEMO / READ-ONLY / PROTECTED badges, as words."""

    def __init__(self, identity: Identity, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._identity = identity

    def compose(self) -> ComposeResult:
        yield Label("ecs-detach", id="identity-title")
        yield Label("", id="identity-text")
        yield Label("DEMO", id="badge-demo", classes="badge")
        yield Label("READ-ONLY", id="badge-read-only", classes="badge")
        yield Label("WRITES ARMED", id="badge-armed", classes="badge")
        yield Label("PROTECTED", id="badge-protected", classes="badge")

    def on_mount(self) -> None:
        self.show(self._identity)

    def show(self, identity: Identity) -> None:
        self._identity = identity
        text = marked(
            "profile [b]$profile[/b] │ key $key │ region [b]$region[/b] │ $endpoint",
            profile=identity.profile,
            key=identity.access_key,
            region=identity.region,
            endpoint=identity.endpoint,
        )
        self.query_one("#identity-text", Label).update(text)
        self.query_one("#badge-demo").display = identity.demo
        self.query_one("#badge-read-only").display = identity.read_only
        self.query_one("#badge-armed").display = not identity.read_only
        self.query_one("#badge-protected").display = identity.protected

    @property
    def identity(self) -> Identity:
        return self._identity
