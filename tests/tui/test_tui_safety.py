"""What an operator hits first (issue 12): text from the API on screen as typed, no crash ends the app, and
every action key acts on the disk the operator chose.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input
from tui_helpers import (
    SIZE,
    browse,
    go_to_disk,
    palette_go_to_disk,
    screen_text,
    settle,
    unexpected_errors,
)

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.launch import exit_code
from tui.screens.browse import BrowseScreen
from tui.screens.undo import UndoScreen
from tui.screens.wizard import DetachWizard
from tui.widgets.tables import RowTable

pytestmark = pytest.mark.anyio

WAITER = "Attachment[?InstanceId=='i-cluster-node-1']"
"""The aliyun waiter of a multi-attach disk's detach: Textual's markup parser choked on it."""


@pytest.mark.parametrize("key", ["c", "d"])
async def test_a_multi_attach_disk_opens_the_wizard_with_its_aliyun_waiter_as_typed(
    make_app: Callable[..., EcsDetachApp], key: str
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "cluster-node-1", "d-cluster-shared")
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)
        assert app.screen.disk_id == "d-cluster-shared"
        commands = str(app.screen.query_one("#commands").render())
        if key == "d":
            assert WAITER in commands
        assert "d-cluster-shared" in screen_text(app)
        assert app.is_running and not unexpected_errors(app)


async def test_go_to_disk_selects_a_disk_of_the_instance_already_shown(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-sys")
        await palette_go_to_disk(pilot, "d-web-01-logs")
        await pilot.press("d")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        assert wizard.disk_id == "d-web-01-logs"
        assert "Detach disk d-web-01-logs" in screen_text(app)


async def test_go_to_disk_selects_a_multi_attach_disk_hidden_by_the_filter(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-sys")  # the instances are filtered to web-01
        await palette_go_to_disk(pilot, "d-cluster-shared")
        await pilot.press("c")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        assert wizard.disk_id == "d-cluster-shared"
        assert "Check disk d-cluster-shared" in screen_text(app)


async def test_undo_after_a_detach_targets_the_disk_just_detached(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        assert "✓ done" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        chosen = browse(app).chosen
        assert chosen is not None and chosen.disk.disk_id == "d-web-01-data"
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UndoScreen)
        assert app.screen.disk_id == "d-web-01-data"
        assert "re-attach d-web-01-data to i-web-01" in screen_text(app)


async def test_action_keys_on_the_instances_table_say_no_disk_is_chosen(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("c", "d", "u"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is browse(app), key
        titles = [n.title for n in app._notifications]
        assert titles.count("Choose a disk") == 3


class _BrokenScreen(Screen[None]):
    """A screen with a bug: its first message raises (a stand-in for any unexpected exception)."""

    def on_mount(self) -> None:
        raise KeyError("a bug in a screen")


class _AppWithBugs(EcsDetachApp):
    """The real app with two keys that reach a bug: one in a screen, one in the app's own handler."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f7", "broken_screen", "Broken screen"),
        Binding("f8", "broken_app", "Broken app"),
    ]

    def action_broken_screen(self) -> None:
        self.push_screen(_BrokenScreen())

    def action_broken_app(self) -> None:
        self.call_later(self._bug)  # in the app's own message loop, which then stops

    def _bug(self) -> None:
        raise RuntimeError("a bug in the app itself\nsecond line never shown")


async def test_an_unexpected_error_in_a_screen_closes_it_and_the_app_goes_on(
    make_app: Callable[..., EcsDetachApp], tmp_path: Path
) -> None:
    app = make_app(app_class=_AppWithBugs)
    app.services.error_log = tmp_path / "errors.log"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert app.is_running and app._exception is None
        assert app.screen is browse(app)  # back where the operator was
        (note,) = [n for n in app._notifications if n.title == "Unexpected error"]
        assert (
            "KeyError: 'a bug in a screen'" in note.message and "The app and its jobs go on" in note.message
        )
        assert "Traceback" not in note.message
        assert "Traceback" in (tmp_path / "errors.log").read_text()
        await go_to_disk(pilot, "web-01", "d-web-01-data")  # still usable
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)
    assert [type(e) for e in app.unexpected_errors] == [KeyError]


class _BrowseWithABug(BrowseScreen):
    """The browse screen with two keys that reach a bug: in its own message loop (a callback), and in an
    action (which Textual runs in the app's loop, as every key binding)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "bug_in_a_callback", "Bug in a callback"),
        Binding("f10", "bug_in_an_action", "Bug in an action"),
    ]

    def action_bug_in_a_callback(self) -> None:
        self.call_later(self._bug)

    def action_bug_in_an_action(self) -> None:
        self._bug()

    def _bug(self) -> None:
        raise KeyError("a bug in the browse screen")


class _AppWithABrowseBug(EcsDetachApp):
    def get_default_screen(self) -> Screen[Any]:
        return _BrowseWithABug()


@pytest.mark.parametrize("key", ["f9", "f10"])
async def test_an_unexpected_error_in_the_browse_screen_brings_a_fresh_one(
    make_app: Callable[..., EcsDetachApp], tmp_path: Path, key: str
) -> None:
    app = make_app(app_class=_AppWithABrowseBug)
    app.services.error_log = tmp_path / "errors.log"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = browse(app)
        await pilot.press(key)
        await settle(pilot, 3)
        assert app.is_running and app._exception is None
        assert app.screen is browse(app) and app.screen is not first  # a fresh one
        (note,) = [n for n in app._notifications if n.title == "Unexpected error"]
        assert "KeyError: 'a bug in the browse screen'" in note.message
        assert "This screen was closed; nothing more was sent." in note.message
        assert "Traceback" in (tmp_path / "errors.log").read_text()
        await go_to_disk(pilot, "web-01", "d-web-01-data")  # the fresh screen lists the fleet again
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)
    assert [type(e) for e in app.unexpected_errors] == [KeyError]


async def test_an_unexpected_error_in_a_screens_action_closes_that_screen(
    make_app: Callable[..., EcsDetachApp], tmp_path: Path
) -> None:
    app = make_app()
    app.services.error_log = tmp_path / "errors.log"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("c")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)

        def bug() -> None:
            raise KeyError("a bug in the wizard's action")

        wizard.action_bug = bug  # type: ignore[attr-defined]
        await app.run_action("bug", wizard)  # as a key binding of the wizard would
        await settle(pilot)
        assert app.is_running and app._exception is None
        assert app.screen is browse(app)
        (note,) = [n for n in app._notifications if n.title == "Unexpected error"]
        assert 'KeyError: "a bug in the wizard\'s action"' in note.message


async def test_an_error_the_app_cannot_survive_exits_1_with_one_line(
    make_app: Callable[..., EcsDetachApp], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(app_class=_AppWithBugs)
    app.services.error_log = tmp_path / "errors.log"
    with pytest.raises(RuntimeError):  # a test run re-raises it; an operator sees only the line below
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f8")
    assert app.return_code == 1 and exit_code(app.return_code, None) == 1
    assert not capsys.readouterr().err  # no traceback printed
    line = app.exit_line  # the one line printed after the app (tui.launch.run)
    assert line.startswith("ecs-detach stopped on an unexpected error: RuntimeError: a bug in the app itself")
    assert line.endswith(f"(details: {tmp_path / 'errors.log'})")
    assert "Traceback" in (tmp_path / "errors.log").read_text()


async def test_a_filter_term_that_cannot_match_is_said_and_each_view_keeps_its_own_filter(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        app.screen.query_one("#filter", Input).value = "size:>100"  # instances have no size
        await settle(pilot, 1)
        assert "“size:>100”: no field size here" in screen_text(app)
        await pilot.press("enter")
        await pilot.press("2")  # the all-disks view: its own filter, none yet
        await settle(pilot, 1)
        assert "102 disks" not in screen_text(app)  # one region: cn-hangzhou's disks, all listed
        screen = browse(app)
        assert len(screen.query_one("#all-disks", RowTable).row_keys) == len(screen.disks)
        assert "the instances view has its own filter “size:>100”" in screen_text(app)
        await pilot.press("slash")
        app.screen.query_one("#filter", Input).value = "size:>1000"  # disks have a size: compared as numbers
        await settle(pilot, 1)
        shown = screen.query_one("#all-disks", RowTable).row_keys
        assert shown and all(d.size_gib > 1000 for d in screen.disks if d.disk_id in shown)
        app.screen.query_one("#filter", Input).value = "size:>big"
        await settle(pilot, 1)
        assert "“size:>big”: > compares numbers" in screen_text(app)
