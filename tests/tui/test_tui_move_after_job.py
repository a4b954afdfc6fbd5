"""When the move's job ends, the move screen reads the disk again and shows where it is now (as the wizard
does after a detach), instead of the plan made before the job."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from textual.widgets import Static
from tui_helpers import SIZE, go_to_disk, screen_text, settle

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.move import MoveScreen
from tui.screens.pickers import PickerScreen

pytestmark = pytest.mark.anyio


async def _move_and_confirm(
    pilot: object, app: EcsDetachApp, emulator: Emulator, *, attach_fails: bool
) -> str:
    await go_to_disk(pilot, "web-01", "d-web-01-data")  # type: ignore[arg-type]
    await pilot.press("m")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    picker = app.screen
    assert isinstance(picker, PickerScreen)
    picker.dismiss("i-web-02")
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, MoveScreen) and screen.move is not None and screen.move.executable
    before = str(screen.query_one("#move-plan", Static).render())
    assert "1. Detach disk d-web-01-data from instance i-web-01" in before
    if attach_fails:
        emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["AttachDisk"])
    await pilot.click("#go")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("tab", "enter")  # type: ignore[attr-defined]
    await settle(pilot, 10)  # type: ignore[arg-type]
    assert app.screen is screen and screen.job is not None and not screen.job.active
    return re.sub(r"\s+", " ", str(screen.query_one("#move-plan", Static).render()))


async def test_after_a_move_the_screen_says_where_the_disk_is_now(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await _move_and_confirm(pilot, app, emulator, attach_fails=False)
        assert "Read again just now: disk d-web-01-data is In_use on i-web-02." in text
        assert "Nothing left to do: the move went through." in text
        assert "Detach disk d-web-01-data from instance i-web-01" not in text  # the plan made before


async def test_after_a_failed_attach_the_screen_says_the_disk_is_attached_nowhere(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await _move_and_confirm(pilot, app, emulator, attach_fails=True)
        emulator.clear_faults()
        assert "Read again just now: disk d-web-01-data is Available, attached to no instance." in text
        assert "A new move from here (Esc, then m on the disk) would go like this:" in text
        assert "Detach disk d-web-01-data from instance i-web-01" not in text
        # What to do, in this screen's keys (the CLI's result names `ecs-detach attach ... --instance`).
        (job,) = app.jobs.jobs
        assert job.remedy == (
            "Attach it to i-web-02: m on the disk, then i-web-02; or put it back: u on the disk (it attaches "
            "it back to i-web-01)."
        )
        card = " ".join(screen_text(app).split())
        assert "ecs-detach attach" not in card and "m on the disk, then i-web-02" in card
