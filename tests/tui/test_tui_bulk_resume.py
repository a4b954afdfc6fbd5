"""The bulk screen plans with the journal, as the wizard and the CLI do.

An earlier run stopped instance i-metal-01 (its type cannot hot-detach a data disk) to detach d-metal-01-data,
and was killed before its DetachDisk: the journal holds the stop (done); the instance is Stopped, the disk
still In_use. Marking the disk and pressing D plans it with the app's journal: the preflight names the
earlier run's stop, and says the instance is left Stopped and how to start it (a bulk detach never starts
or stops instances: the wizard does).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import SIZE, browse, build_app, go_to_disk, screen_text, settle

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator
from ecs_detach.journal import Journal, Result
from tui.screens.bulk import BulkDetachScreen
from tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.anyio

DISK, INSTANCE = "d-metal-01-data", "i-metal-01"
START = f"aliyun ecs StartInstance --RegionId cn-hangzhou --InstanceId {INSTANCE}"


def killed_after_its_stop(emulator: Emulator, journal_path: Path) -> None:
    """What the earlier run left: its stop done and journaled; it died before its DetachDisk."""
    client = EcsClient.for_emulator(emulator)
    journal = Journal(journal_path, clock=emulator.now, new_id=lambda: "run1-stop")
    stop = journal.intent(
        "StopInstance",
        instance_id=INSTANCE,
        params={"InstanceId": INSTANCE},
        context={"reason": f"detach {DISK}"},
        profile="demo",
        region="cn-hangzhou",
        endpoint=client.endpoint,
    )
    journal.outcome(stop, Result.OK, request_id=client.stop_instance(INSTANCE))
    emulator.advance(10)  # Stopped
    client.close()


def _sent(emulator: Emulator) -> list[str]:
    mutating = {"StopInstance", "DetachDisk", "StartInstance"}
    return [r["action"] for r in emulator.requests if r["action"] in mutating and not r["code"]]


def _status(emulator: Emulator, kind: str, key: str, wanted: str) -> str:
    (item,) = [i for i in emulator.state()[kind] if i[key] == wanted]
    return str(item["Status"])


def _flat(text: str) -> str:
    """Screen text with its wrapped lines joined again."""
    return " ".join(text.split())


async def test_the_bulk_preflight_names_the_instance_a_killed_run_stopped(
    emulator: Emulator, tmp_path: Path
) -> None:
    killed_after_its_stop(emulator, tmp_path / "journal.jsonl")
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "metal-01", DISK)
        await pilot.press("space")
        assert browse(app).marked == {DISK}
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        (plan,) = screen.plans
        assert plan.calls == ("DetachDisk",)  # no stop (it is Stopped), and a bulk run starts nothing
        assert any(
            w.startswith(f"Instance {INSTANCE} was stopped by an earlier ecs-detach run")
            for w in plan.warnings
        )
        text = _flat(screen_text(app))
        assert "✓ ready" in text and "1 of 1 can be detached now." in text
        assert f"⚠ Instance {INSTANCE} was stopped by an earlier ecs-detach run (at " in text
        assert f"⚠ Instance {INSTANCE} is left Stopped" in text and START in text
        assert "the wizard's “Start it again afterwards” (d on the disk; a bulk run starts nothing)" in text
        assert "--restart-instance" not in text

        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert _sent(emulator) == ["StopInstance"]  # nothing sent before confirming
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        assert [job.outcome for job in app.jobs.jobs] == ["done"]
        assert _status(emulator, "Disks", "DiskId", DISK) == "Available"
        assert _status(emulator, "Instances", "InstanceId", INSTANCE) == "Stopped"
        assert _sent(emulator) == ["StopInstance", "DetachDisk"]  # one DetachDisk, no start


async def test_an_instance_someone_else_stopped_is_not_named_as_ours(
    emulator: Emulator, tmp_path: Path
) -> None:
    client = EcsClient.for_emulator(emulator)
    client.stop_instance(INSTANCE)  # someone else (or a run whose journal this is not)
    client.close()
    emulator.advance(10)
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "metal-01", DISK)
        await pilot.press("space", "D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        text = _flat(screen_text(app))
        assert "✓ ready" in text
        assert "earlier ecs-detach run" not in text and "⚠" not in text  # not ours: nothing to say
