"""What a job says while it runs and after it ends (issue 12, "Words that mislead").

A timed-out wait that sent nothing says so and what to press (no CLI flag, no "100 %"); the wizard's banner
follows the job (running, then done) and shows no failure after a detach that went through.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.widgets import ProgressBar
from tui_helpers import SIZE, build_app, go_to_disk, screen_text, settle

from ecs_detach.emulator import Emulator, ManualClock
from tui.screens.confirm import ConfirmScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio


def _fleet(instance_status: str) -> dict[str, object]:
    return {
        "Instances": [
            {
                "InstanceId": "i-app",
                "InstanceName": "app-01",
                "Status": instance_status,
                "InstanceType": "ecs.g7.large",
            }
        ],
        "Disks": [
            {"DiskId": "d-app-sys", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
            {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
        ],
        "Emulator": {"Durations": {"StartInstance": 3600, "DetachDisk": 20}},
    }


async def _detach_through_the_wizard(app, pilot) -> DetachWizard:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await go_to_disk(pilot, "app-01", "d-app-data")
    await pilot.press("d")
    await settle(pilot)
    wizard = app.screen
    assert isinstance(wizard, DetachWizard)
    await pilot.click("#go")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("tab", "enter")
    return wizard


async def test_a_timed_out_wait_that_sent_nothing_says_so_and_what_to_press(tmp_path: Path) -> None:
    emulator = Emulator(fleet=_fleet("Starting"), clock=ManualClock())
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await _detach_through_the_wizard(app, pilot)
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.outcome == "timed-out" and not job.sent
        text = screen_text(app)
        assert "Nothing was sent" in text and "goes on in the cloud" not in text
        assert "--timeout" not in text and "Press c" in text
        assert not app.screen.query_one(ProgressBar).display  # no "100 %" for a job that did not succeed
        assert "TIMED-OUT" in text and "READY" not in text
    assert [r["action"] for r in emulator.requests if r["action"] == "DetachDisk"] == []


async def test_the_wizard_banner_follows_the_job_and_shows_no_failure_after_success(tmp_path: Path) -> None:
    emulator = Emulator(fleet=_fleet("Running"), clock=ManualClock())
    gate = threading.Event()

    def sleep(seconds: float) -> None:  # the job's waits are held (not spun) until the test lets them go
        assert gate.wait(60)
        emulator.advance(seconds)

    app = build_app(emulator, tmp_path / "journal.jsonl", sleep=sleep)
    async with app.run_test(size=SIZE) as pilot:
        await _detach_through_the_wizard(app, pilot)
        await settle(pilot, 2, workers=False)
        running = screen_text(app)
        assert "RUNNING" in running and "READY" not in running
        gate.set()
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.succeeded
        text = screen_text(app)
        assert "✓ DONE" in text
        assert "✗" not in text  # the fresh check after success says "already detached", not a failure


async def test_a_bulk_run_ends_with_one_summary_not_a_toast_per_disk(tmp_path: Path) -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("space", "space")  # the data disk and the logs disk
        await pilot.press("D")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        app.clear_notifications()
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        assert [job.outcome for job in app.jobs.jobs] == ["done", "done"]
        finished = [n for n in app._notifications if "Job" in n.title or "Bulk" in n.title]
        assert [n.title for n in finished] == ["Bulk detach of 2 disk(s): 2 done"]
