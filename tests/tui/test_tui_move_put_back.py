"""`m` on a disk just detached (still listed under its instance): the picker says where it was detached from
and offers that instance too; choosing it shows the move screen's refusal, which names u (putting it back is
the undo's to do), whole, at 80x24 and 120x36. Like any target no option can change, it offers no option and
no greyed Move… button."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import OptionList
from tui_helpers import browse, go_to_disk, screen_text, settle

from tui.app import EcsDetachApp
from tui.screens.move import MoveScreen
from tui.screens.pickers import PickerScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio

PUT_BACK = (
    "Disk d-web-01-data is no longer attached to i-web-01, which it was detached from: putting it back is "
    "not a move: u on the disk (it attaches it back to i-web-01)."
)


def _flat(app: EcsDetachApp) -> str:
    return " ".join(screen_text(app).replace("█", " ").split())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_m_back_to_the_instance_it_was_detached_from_names_u(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")  # the confirmation's Detach
        await settle(pilot, 10)
        await pilot.press("escape")
        await settle(pilot, 4)
        chosen = browse(app).chosen
        assert (
            chosen is not None
            and chosen.disk.disk_id == "d-web-01-data"
            and not chosen.disk.attached_instance_ids
        )
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert "Move data disk d-web-01-data (detached from i-web-01) to which instance?" in _flat(app)
        ids = [value for value, _ in picker._options]
        assert "i-web-01" in ids  # offered: the move screen says how to put it back
        (line,) = [label for value, label in picker._options if value == "i-web-01"]
        assert "detached from here: u puts it back" in line
        picker.query_one(OptionList).highlighted = ids.index("i-web-01")
        await pilot.press("enter")
        await settle(pilot, 6)
        screen = app.screen
        assert isinstance(screen, MoveScreen)
        text = _flat(app)
        assert "Move d-web-01-data (data disk) (detached from i-web-01) to i-web-01" in text
        assert PUT_BACK in text
        assert "ecs-detach" not in text.replace("ecs-detach profile", "")  # no CLI command on screen
        assert "--" not in text
        assert screen.query_one("#go").disabled
        # Nothing on this screen can turn the refusal round: no option, no greyed Move… button.
        assert "Snapshot the disk first" not in text and "Move…" not in text


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_a_target_no_option_can_change_offers_no_option_nor_a_dead_button(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    """A move to an instance locked for security is refused whatever is ticked: nothing is offered."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        ids = [value for value, _ in picker._options]
        picker.query_one(OptionList).highlighted = ids.index("i-jump-01")
        await pilot.press("enter")
        await settle(pilot, 6)
        screen = app.screen
        assert isinstance(screen, MoveScreen)
        text = _flat(app)
        assert "✗ blocked" in text and "locked for security" in text
        for option in ("#move-snapshot", "#move-stop-source", "#move-unmount", "#move-stop-target"):
            assert not screen.query_one(option).display, option
        assert "Move…" not in text
