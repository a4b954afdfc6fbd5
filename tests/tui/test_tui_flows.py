"""Complete flows through the UI on the in-process emulator with a manual clock.

Each test drives the app with keys, as an operator would, and checks what is on screen, what the emulator's
state became, and what the journal recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from journal_helpers import KILLED
from tui_helpers import SIZE, browse, build_app, go_to_disk, screen_text, settle, type_text

from ecs_detach.emulator import Emulator
from ecs_detach.journal import Journal
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.pickers import PickerScreen
from tui.screens.undo import UndoScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio


def _disk_status(emulator: Emulator, disk_id: str) -> str:
    (disk,) = [d for d in emulator.state()["Disks"] if d["DiskId"] == disk_id]
    return str(disk["Status"])


def _instance_status(emulator: Emulator, instance_id: str) -> str:
    (inst,) = [i for i in emulator.state()["Instances"] if i["InstanceId"] == instance_id]
    return str(inst["Status"])


async def test_data_disk_detach_then_undo_from_the_journal(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "27 instances in cn-hangzhou" in screen_text(app)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        text = screen_text(app)
        assert "✓ READY" in text
        assert "aliyun ecs DetachDisk --RegionId cn-hangzhou" in text
        assert wizard.plan is not None and wizard.plan.calls == ("DetachDisk",)
        assert app.focused is not None and app.focused.id == "cancel"  # the safe choice has the focus

        await pilot.click("#go")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.typed_id is None  # a data disk on a running instance: no id to type
        assert app.focused is not None and app.focused.id == "cancel"
        assert _disk_status(emulator, "d-web-01-data") == "In_use"  # nothing sent before confirming
        await pilot.press("tab", "enter")  # from Cancel to Detach
        await settle(pilot, 6)

        assert _disk_status(emulator, "d-web-01-data") == "Available"
        text = screen_text(app)
        assert "✓ done" in text
        assert "Detaching" in text and "Available" in text  # the state timeline
        (job,) = app.jobs.jobs
        assert job.succeeded and job.request_ids
        ops = app.services.journal.operations()
        assert [(i.action, i.disk_id, o.result if o else None) for i, o in ops] == [
            ("DetachDisk", "d-web-01-data", "ok")
        ]
        assert ops[0][1] is not None and ops[0][1].request_id == job.request_ids[0]

        await pilot.press("escape")
        await settle(pilot)
        assert browse(app).disk("d-web-01-data") is not None
        assert browse(app).disk("d-web-01-data").status == "Available"  # type: ignore[union-attr]

        await pilot.press("j")  # the journal shows what was done, with the request id
        await settle(pilot)
        text = screen_text(app)
        assert "DetachDisk" in text and "d-web-01-data" in text and "✓ accepted" in text
        (job,) = app.jobs.jobs
        assert job.request_ids[0] in text

        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UndoScreen)
        text = screen_text(app)
        assert "Ready to re-attach" in text
        assert "aliyun ecs AttachDisk --RegionId cn-hangzhou" in text
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        assert _disk_status(emulator, "d-web-01-data") == "In_use"
        assert "✓ done" in screen_text(app)
        actions = [(i.action, o.result if o else None) for i, o in app.services.journal.operations()]
        assert actions == [("DetachDisk", "ok"), ("AttachDisk", "ok")]


async def test_system_disk_needs_the_stop_fix_and_the_instance_id_typed(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-sys")
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        assert "↻ FIXABLE" in text
        assert "fixable" in text and "IncorrectInstanceStatus" in text
        go = app.screen.query_one("#go")
        assert go.disabled  # nothing to run until the stop is allowed

        await pilot.click("#allow-stop")
        await settle(pilot)
        text = screen_text(app)
        assert "aliyun ecs StopInstance --RegionId cn-hangzhou" in text
        assert not app.screen.query_one("#go").disabled

        await pilot.click("#go")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.typed_id == "i-web-01"
        assert dialog.query_one("#confirm").disabled
        await type_text(pilot, "i-web-0")  # typing while Cancel has the focus fills the id box
        assert dialog.query_one("#confirm").disabled  # not yet the whole id
        await pilot.press("enter")
        assert app.screen is dialog  # enter on a partial id confirms nothing
        await type_text(pilot, "1")
        assert not dialog.query_one("#confirm").disabled
        await pilot.press("enter")
        await settle(pilot, 8)

        assert _instance_status(emulator, "i-web-01") == "Stopped"
        assert _disk_status(emulator, "d-web-01-sys") == "Available"
        assert "✓ done" in screen_text(app)
        actions = [i.action for i, _ in app.services.journal.operations()]
        assert actions == ["StopInstance", "DetachDisk"]


async def test_a_blocked_disk_says_why_and_offers_nothing(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "jump-01", "d-jump-01-data")
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        assert "✗ BLOCKED" in text
        assert "locked for security" in text
        assert "InstanceLockedForSecurity" in text
        assert app.screen.query_one("#go").disabled
        assert "Fix:" not in text and "Plan" not in text  # nothing that would fail is offered
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)  # no confirmation appears
        assert not any(r["action"] in {"DetachDisk", "StopInstance"} for r in emulator.requests)


async def test_read_only_keys_are_inert_and_say_why(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in screen_text(app)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        assert not isinstance(app.screen, DetachWizard)
        assert any("Read-only" in n.message for n in app._notifications)
        await pilot.press("c")  # checking stays possible: it sends nothing
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)
        assert not app.screen.query_one("#go").display
        await pilot.press("escape", "ctrl+w")  # arm writes
        await settle(pilot)
        assert "WRITES ARMED" in screen_text(app)
        assert not app.read_only and not app.services.client.read_only


async def test_protected_profile_needs_its_name_typed_to_arm_writes(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app(protected=True, profile="prod")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "PROTECTED" in text and "READ-ONLY" in text
        await pilot.press("ctrl+w")
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "cancel"
        await type_text(pilot, "pro")  # typed while Cancel has the focus; "o" is not the jobs key here
        await pilot.press("enter")
        await settle(pilot)
        assert app.read_only  # a partial name arms nothing
        assert isinstance(app.screen, ConfirmScreen)
        await type_text(pilot, "d")
        await pilot.press("enter")
        await settle(pilot)
        assert not app.read_only and "WRITES ARMED" in screen_text(app)


async def test_api_errors_arrive_as_words_with_the_remedy(emulator: Emulator, tmp_path: Path) -> None:
    from ecs_detach.client import EcsClient
    from ecs_detach.credentials import Credentials

    app = build_app(emulator, tmp_path / "journal.jsonl")
    # A key that may read but not write: DetachDisk is refused by RAM (Forbidden.RAM).
    readonly_key = Credentials("LTAI5tEmulatorReadOnly", "emulator-readonly-secret")
    app.services.client = EcsClient(readonly_key, "cn-hangzhou", transport=emulator.transport())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        (job,) = app.jobs.jobs
        assert job.outcome == "failed"
        text = screen_text(app)
        assert "✗ failed" in text and "Forbidden.RAM" in text
        assert "→" in text  # the remedy, on screen
        notes = [n.message for n in app._notifications]
        assert any("Forbidden.RAM" in n and "→" in n for n in notes)
        assert not any("Traceback" in n for n in notes)
        assert _disk_status(emulator, "d-web-01-data") == "In_use"


async def test_a_failed_read_says_what_to_do(emulator: Emulator, tmp_path: Path) -> None:
    from ecs_detach.client import EcsClient

    app = build_app(emulator, tmp_path / "journal.jsonl")
    app.services.client = EcsClient.for_emulator(emulator, sleep=lambda seconds: None)  # retries: no waiting
    emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["DescribeInstances"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Could not read the fleet" in screen_text(app)
        notes = [n.message for n in app._notifications]
        assert any("→" in n for n in notes) and not any("Traceback" in n for n in notes)
        emulator.clear_faults()
        await pilot.press("r")
        await settle(pilot)
        assert "27 instances in cn-hangzhou" in screen_text(app)


async def test_unfinished_operations_are_reconciled_on_start(emulator: Emulator, tmp_path: Path) -> None:
    app = build_app(emulator, tmp_path / "journal.jsonl")
    journal = Journal(app.services.journal.path, owner=KILLED)
    # A previous session sent DetachDisk and died before recording the answer; the disk is Detaching.
    journal.intent("DetachDisk", disk_id="d-batch-03-scratch", instance_id="i-batch-03", region="cn-hangzhou")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not journal.pending()
        notes = [n.title + " " + n.message for n in app._notifications]
        assert any("Reconciled 1" in n and "d-batch-03-scratch" in n for n in notes)


async def test_bulk_detach_checks_each_marked_disk_and_leaves_the_system_disk(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-sys")
        await pilot.press("space", "space", "space")  # mark the system disk, the data disk and the logs disk
        assert browse(app).marked == {"d-web-01-sys", "d-web-01-data", "d-web-01-logs"}
        assert "✚ d-web-01-data" in screen_text(app)
        await pilot.press("D")
        await settle(pilot)
        text = screen_text(app)
        assert "✓ ready" in text and "↻ skipped" in text and "system disk: one at a time" in text
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "cancel"
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        assert _disk_status(emulator, "d-web-01-data") == "Available"
        assert _disk_status(emulator, "d-web-01-logs") == "Available"
        assert _disk_status(emulator, "d-web-01-sys") == "In_use"
        assert [job.outcome for job in app.jobs.jobs] == ["done", "done"]


async def test_all_regions_and_region_switch_show_in_the_identity_bar(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        text = screen_text(app)
        assert "41 instances in all regions" in text and "region ALL" in text
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("down", "down", "enter")  # from "All regions" (highlighted) to the second region
        await settle(pilot)
        text = screen_text(app)
        assert "7 instances in cn-shanghai" in text and "region cn-shanghai" in text
