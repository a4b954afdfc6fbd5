"""The wizard plans with the journal, as the CLI does: resuming the detach of an earlier, killed run.

The earlier run stopped instance i-metal-01 (its type cannot hot-detach a data disk), sent DetachDisk for
d-metal-01-data and died before recording the answer: the journal holds the stop (done) and the detach's
intent (no outcome); the disk is Detaching, the instance Stopped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from journal_helpers import KILLED
from textual.pilot import Pilot
from textual.widgets import Button
from tui_helpers import SIZE, build_app, go_to_disk, screen_text, settle

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator
from ecs_detach.journal import Journal, Result
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio

DISK, INSTANCE = "d-metal-01-data", "i-metal-01"
DEMO_TARGET = "--profile demo"  # what the printed commands target
START = f"aliyun ecs StartInstance --RegionId cn-hangzhou --InstanceId {INSTANCE} {DEMO_TARGET}"
LEFT_STOPPED = f"⚠ Instance {INSTANCE} is left Stopped: this plan does not start it. Start it with `{START}`"


def killed_run(emulator: Emulator, journal_path: Path) -> None:
    """What the earlier run left: its stop done and journaled, its DetachDisk sent but not journaled."""
    client = EcsClient.for_emulator(emulator)
    ids = iter(("run1-stop", "run1-detach"))
    journal = Journal(journal_path, clock=emulator.now, new_id=lambda: next(ids), owner=KILLED)
    where = {"profile": "demo", "region": "cn-hangzhou", "endpoint": client.endpoint}
    stop = journal.intent(
        "StopInstance",
        instance_id=INSTANCE,
        params={"InstanceId": INSTANCE},
        context={"reason": f"detach {DISK}"},
        **where,
    )
    journal.outcome(stop, Result.OK, request_id=client.stop_instance(INSTANCE))
    emulator.advance(10)  # Stopped
    journal.intent(
        "DetachDisk",
        disk_id=DISK,
        instance_id=INSTANCE,
        params={"DiskId": DISK, "InstanceId": INSTANCE},
        context={"disk_type": "data"},
        **where,
    )
    client.detach_disk(DISK, INSTANCE)  # the run dies here, before writing the outcome


def _status(emulator: Emulator, kind: str, key: str, wanted: str) -> str:
    (item,) = [i for i in emulator.state()[kind] if i[key] == wanted]
    return str(item["Status"])


def _sent(emulator: Emulator) -> list[str]:
    mutating = {"StopInstance", "DetachDisk", "StartInstance"}
    return [r["action"] for r in emulator.requests if r["action"] in mutating and not r["code"]]


def plan_pane(app: EcsDetachApp) -> str:
    """The wizard's plan pane as on screen, its wrapped lines joined again (one long line): the right-hand
    pane, or the whole width once the detach went through (the checklist is then gone)."""
    lines = screen_text(app).splitlines()[:-1]  # not the footer (its palette key has a ▏ too)
    if not any("▏" in line for line in lines):
        return " ".join(line.strip() for line in lines)
    return " ".join(line.split("▏", 1)[1].strip() for line in lines if "▏" in line)


async def _open_wizard(app: EcsDetachApp, pilot: Pilot[int]) -> DetachWizard:
    await settle(pilot)
    await go_to_disk(pilot, "metal-01", DISK)
    await pilot.press("d")
    await settle(pilot)
    wizard = app.screen
    assert isinstance(wizard, DetachWizard)
    return wizard


async def test_the_wizard_follows_the_killed_runs_detach_and_starts_the_instance_it_stopped(
    emulator: Emulator, tmp_path: Path
) -> None:
    killed_run(emulator, tmp_path / "journal.jsonl")
    assert _status(emulator, "Disks", "DiskId", DISK) == "Detaching"
    assert _status(emulator, "Instances", "InstanceId", INSTANCE) == "Stopped"
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        wizard = await _open_wizard(app, pilot)
        assert "◐ ALREADY DETACHING" in screen_text(app)
        text = plan_pane(app)
        assert f"Instance {INSTANCE} was stopped by an earlier run ▐ ▌ Start it again afterwards" in text
        assert f"1. Wait until disk {DISK} is Available" in text
        # the plan's warnings, on screen
        assert f"⚠ Instance {INSTANCE} was stopped by an earlier ecs-detach run (at " in text
        assert LEFT_STOPPED in text
        # the restart it names is the wizard's box, not the command line's flag
        assert "(or ask for a restart: the “Start it again afterwards” option)" in text
        assert "--restart-instance" not in text and "DetachOptions" not in text
        go = wizard.query_one("#go", Button)
        assert str(go.label) == "Follow it" and not go.disabled
        assert wizard.plan is not None and wizard.plan.calls == ()

        await pilot.click("#restart")  # start it again afterwards
        await settle(pilot)
        text = plan_pane(app)
        assert f"2. Start instance {INSTANCE} again (stopped by an earlier run)" in text
        assert f"3. Wait until instance {INSTANCE} is Running" in text
        assert START in text  # among the equivalent aliyun commands
        assert f"⚠ Instance {INSTANCE} was stopped by an earlier ecs-detach run" in text
        assert "left Stopped" not in text
        assert str(go.label) == "Follow, then start…"
        assert wizard.plan is not None and wizard.plan.calls == ("StartInstance",)

        await pilot.click("#go")  # a start is a mutation: it is confirmed first
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "cancel"
        assert "stopped by an earlier ecs-detach run" in screen_text(app)
        assert _sent(emulator) == ["StopInstance", "DetachDisk"]  # nothing sent before confirming
        await pilot.press("tab", "enter")
        await settle(pilot, 8)

        assert "✓ done" in screen_text(app)
        assert _status(emulator, "Disks", "DiskId", DISK) == "Available"
        assert _status(emulator, "Instances", "InstanceId", INSTANCE) == "Running"
        assert _sent(emulator) == ["StopInstance", "DetachDisk", "StartInstance"]  # no second DetachDisk
        journal = app.services.journal
        assert journal.stopped_by_us(INSTANCE) is None
        assert [i.action for i, o in journal.operations() if o is not None and o.succeeded] == [
            "StopInstance",
            "DetachDisk",
            "StartInstance",
        ]


async def test_without_restart_the_wizard_warns_the_instance_was_left_stopped(
    emulator: Emulator, tmp_path: Path
) -> None:
    killed_run(emulator, tmp_path / "journal.jsonl")
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await _open_wizard(app, pilot)
        await pilot.click("#go")  # follow it: nothing to send, so no confirmation
        await settle(pilot, 8)
        assert not isinstance(app.screen, ConfirmScreen)
        assert _status(emulator, "Disks", "DiskId", DISK) == "Available"
        assert _status(emulator, "Instances", "InstanceId", INSTANCE) == "Stopped"
        assert _sent(emulator) == ["StopInstance", "DetachDisk"]
        # the banner says how the job ended; the re-check after it: nothing to do, and still the warning
        assert "✓ DONE" in screen_text(app)
        text = plan_pane(app)
        assert "Nothing to do." in text
        assert f"⚠ Instance {INSTANCE} was stopped by an earlier ecs-detach run" in text
        assert LEFT_STOPPED in text
