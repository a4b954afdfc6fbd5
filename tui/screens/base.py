"""The base of the app's own screens: `ecs_app` is the app, typed, so a screen reaches the core through it
(plans, runs, the session's services) without a cast."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.screen import Screen

if TYPE_CHECKING:
    from ..app import EcsDetachApp

ResultType = TypeVar("ResultType")


class AppScreen(Screen[ResultType]):
    """A screen of `EcsDetachApp` (it is mounted by the app, never alone)."""

    @property
    def ecs_app(self) -> EcsDetachApp:
        from ..app import EcsDetachApp  # the app imports its screens: looked up when asked, not at load

        app = self.app
        if not isinstance(app, EcsDetachApp):
            raise TypeError(f"{type(self).__name__} is a screen of EcsDetachApp, not of {type(app).__name__}")
        return app
