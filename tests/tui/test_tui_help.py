"""The help is written from the real bindings (issue 12): every key of every screen is in it, F1 too, and
nothing it says names an action no key has."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

import pytest
from textual.screen import Screen
from tui_helpers import screen_text, settle

import tui.screens
from tui.app import EcsDetachApp
from tui.screens.help import ACTION_WORDS_BY_SCREEN, WORDS, HelpScreen, bindings_of, help_entries, sections


def _tui_screens() -> set[type[Screen[object]]]:
    """Every screen class the TUI defines (a new one without a help section fails the test below): every
    module of tui.screens is imported first, so the answer does not depend on what other tests imported."""
    for module in pkgutil.iter_modules(tui.screens.__path__):
        importlib.import_module(f"{tui.screens.__name__}.{module.name}")
    found: set[type[Screen[object]]] = set()
    todo = list(Screen.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        # tui.screens.base holds the typed base every screen derives from; it is never shown itself.
        if cls.__module__.startswith(tui.screens.__name__ + ".") and cls.__module__ != "tui.screens.base":
            found.add(cls)
    return found


@pytest.mark.anyio
async def test_every_key_of_every_screen_is_in_the_help_with_its_words(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        covered = {owner for section in sections(EcsDetachApp) for owner in section.owners}
        missing_screens = {cls.__name__ for cls in _tui_screens()} - {cls.__name__ for cls in covered}
        assert not missing_screens
        actions: set[str] = {"command_palette"}
        for section in sections(EcsDetachApp):
            entries = help_entries(app, section)
            keys_listed = {key for keys, _ in entries for key in keys.split(" ")}
            for owner in section.owners:
                for binding in bindings_of(owner):
                    actions.add(binding.action)
                    assert app.get_key_display(binding) in keys_listed, (section.title, binding.key)
            assert all(words.strip() for _, words in entries)
        assert "f1" in {
            key for keys, _ in help_entries(app, sections(EcsDetachApp)[0]) for key in keys.split()
        }
        assert set(WORDS) <= actions, set(WORDS) - actions  # no words for a key that is gone
        assert {a for by_screen in ACTION_WORDS_BY_SCREEN.values() for a in by_screen} <= actions


@pytest.mark.anyio
@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_f1_shows_f1_sorting_and_the_palette_and_closes_again(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        pages = [screen_text(app)]
        for _ in range(8):  # the help scrolls: what an operator reads paging down
            await pilot.press("pagedown")
            await pilot.pause()
            pages.append(screen_text(app))
        text = "\n".join(pages)
        assert "? f1" in text and "this help" in text
        assert "sort by the next column" in text and "^p" in text
        await pilot.press("f1")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
