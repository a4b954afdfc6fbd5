"""A refusal or remedy that names a choice says the TUI's way to make it (its box or key), never a CLI flag:
the TUI has no flags. The core keeps such a sentence as data (`ecs_detach.wording`); the CLI still reads
"--unmount" (its tests pin that), the wizard, the move screen and the jobs read their own controls."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from textual.widgets import Static
from tui_helpers import SIZE, go_to_disk, screen_text, settle

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.checks import checklist
from tui.screens.move import MoveScreen
from tui.screens.pickers import PickerScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio

CLI_FLAG = re.compile(r"--[a-z][a-z-]+|ecs-detach check")


def _flags(text: str) -> list[str]:
    return CLI_FLAG.findall(text)


async def test_the_wizards_checklist_names_the_unmount_box_not_the_flag(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "files-01", "d-files-01-data")
        await pilot.press("d")
        await settle(pilot, 6)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard) and wizard.preconditions is not None
        remedies = [line.remedy for line in checklist(wizard.preconditions) if line.remedy]
        assert "Unmount it first: the “Unmount it in the guest” option does it" in " ".join(remedies)
        assert (
            "Comment it out first (a backup is kept): the “Unmount it in the guest” option does it."
            in remedies
        )
        text = screen_text(app)  # the guest's rows come first: in sight without scrolling
        checks = re.sub(r"\s+", " ", " ".join(line.split("▏")[0] for line in text.splitlines()))
        assert "→ Unmount it first: the “Unmount it in the guest” option does it (umount," in checks
        assert _flags(text) == []
        # The CLI's words are the core's plain text, unchanged.
        assert "--unmount does it" in wizard.preconditions.row(23).remedy


async def _move(pilot: object, app: EcsDetachApp, instance: str, disk_id: str, target: str) -> MoveScreen:
    await go_to_disk(pilot, instance, disk_id)  # type: ignore[arg-type]
    await pilot.press("m")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    picker = app.screen
    assert isinstance(picker, PickerScreen)
    picker.dismiss(target)
    await settle(pilot, 6)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, MoveScreen) and screen.move is not None
    return screen


async def test_the_move_screens_refusal_names_its_unmount_box(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _move(pilot, app, "files-01", "d-files-01-data", "i-web-02")
        verdict = str(screen.query_one("#verdict", Static).render())
        assert verdict.startswith(
            "✗ blocked — Source i-files-01: Disk d-files-01-data is in use in the guest"
        )
        assert "release it first (the “Unmount it in the source's guest” option) to go on." in verdict
        assert _flags(screen_text(app)) == []
        assert screen.move is not None and "(--unmount) to go on" in screen.move.refusal  # the CLI's


async def test_the_move_screens_refusal_names_its_stop_box(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _move(pilot, app, "metal-01", "d-metal-01-data", "i-db-primary")
        verdict = str(screen.query_one("#verdict", Static).render())
        assert "must be stopped first" in verdict
        assert "allow stopping it (the “Stop the source instance” option) to go on." in verdict
        assert _flags(screen_text(app)) == []


async def test_the_move_screens_target_check_names_its_stop_box(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _move(pilot, app, "db-primary", "d-db-primary-data", "i-metal-01")
        text = re.sub(r"\s+", " ", str(screen.query_one("#move-plan", Static).render()))
        assert "needs it Stopped. Allow stopping it (the “Stop the target instance” option) to go on." in text
        verdict = str(screen.query_one("#verdict", Static).render())
        assert (
            "(the “Stop the target instance” option) to go on. (the API answers IncorrectInstanceStatus)"
            in (verdict)
        )
        assert _flags(screen_text(app)) == []


def test_every_choice_has_tui_words_without_a_flag() -> None:
    from ecs_detach.wording import CLI_WORDS, Choice
    from tui.checks import TUI_WORDS

    assert set(TUI_WORDS) == set(Choice) == set(CLI_WORDS)
    assert [c for c in Choice if _flags(TUI_WORDS[c])] == []


async def test_a_failed_snapshot_says_to_untick_snapshot_first_not_the_flag(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    state = emulator.state()
    state["Emulator"]["FailedSnapshotDiskIds"] = ["d-web-01-data"]  # its CreateSnapshot ends "failed"
    emulator.reset(state)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#snapshot")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.outcome == "failed" and "was not detached" in job.message
        expected = "run the detach again (or without the “Snapshot first” option)."
        assert job.remedy.endswith(expected)
        assert _flags(" ".join(screen_text(app).split())) == []
