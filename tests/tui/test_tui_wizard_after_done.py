"""After a detach went through, the wizard says so: the fresh reads that follow (the disk no longer on that
instance) are no refusal. A multi-attach disk, still attached to its other instance, read as "This detach
would be refused ... the row marked ✗ says why" under a DONE banner, with no row shown (issue 12, found
walking the demo as an operator)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import palette_go_to_disk, screen_text, settle, unexpected_errors

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.wizard import DetachWizard


@pytest.mark.anyio
@pytest.mark.parametrize("disk_id", ["d-cluster-shared", "d-web-01-data"])
async def test_after_the_detach_went_through_the_wizard_says_done_not_refused(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator, disk_id: str
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await palette_go_to_disk(pilot, disk_id)
        await pilot.press("d")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        instance_id = wizard.instance_id
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        assert app.screen is wizard and wizard.job is not None and wizard.job.succeeded
        app.clear_notifications()
        await pilot.pause()
        text = screen_text(app)
        assert "DONE" in text
        assert "refused" not in text and "✗" not in text
        assert f"went through: disk {disk_id} is detached from {instance_id}" in " ".join(text.split())
        assert not unexpected_errors(app)


@pytest.mark.anyio
async def test_after_the_detach_went_through_no_empty_checklist_nor_dead_button(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    """At 120x36 the checklist's pane stood empty under its title beside "Nothing to do", and a greyed
    Detach… stayed by Back: both go once the detach went through."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await palette_go_to_disk(pilot, "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        assert "Preconditions" in screen_text(app)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        assert app.screen is wizard and wizard.job is not None and wizard.job.succeeded
        app.clear_notifications()
        await pilot.pause()
        text = screen_text(app)
        flat = " ".join(text.split())
        assert "Nothing to do. The detach went through" in flat
        assert "Preconditions" not in text
        assert "Detach…" not in text and "Back" in text
