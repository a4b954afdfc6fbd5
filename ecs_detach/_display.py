"""A mixin giving results a readable ``print`` and a Jupyter view, both rendered by `ecs_detach.render`."""

from __future__ import annotations

from typing import Any


class Displayable:
    """Text for terminals (``__str__``), HTML for Jupyter (``_repr_html_``), text for IPython's plain view."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython prefers a class's own __repr__ (dataclasses make one) to an inherited _repr_pretty_.
        cls._repr_pretty_ = Displayable._repr_pretty_  # type: ignore[method-assign]

    def _text(self) -> str:
        raise NotImplementedError

    def _html(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self._text()

    def _repr_html_(self) -> str:
        return self._html()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self._text())
