"""The move screen (`m`) and the wizard's snapshot / unmount options on every kind of disk of the demo
fleet, at 80x24 and 120x36: the screen names the disk and both instances, acts on the disk chosen, offers
only the options that can change the plan, and says why it refuses (issue 12's walk over issue 16's
screens). And a bootable move: a system disk back to its own instance, with a logon password typed,
masked, and sent to AttachDisk only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scenarios import repaired_elsewhere
from textual.widgets import Checkbox, Input
from tui_helpers import (
    build_app,
    go_to_disk,
    palette_go_to_disk,
    screen_text,
    settle,
    type_text,
    unexpected_errors,
)

from ecs_detach.emulator import Emulator, ManualClock
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.move import MoveScreen, password_problem
from tui.screens.pickers import PickerScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio

SIZES = [(80, 24), (120, 36)]


def _disk(emulator: Emulator, disk_id: str) -> dict[str, Any]:
    (disk,) = [d for d in emulator.state()["Disks"] if d["DiskId"] == disk_id]
    return disk


def _sent(emulator: Emulator, *also: str) -> list[str]:
    """The mutating calls the emulator received, in order (and the actions in `also`)."""
    mutating = ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance", "CreateSnapshot", *also)
    return [r["action"] for r in emulator.requests if r["action"] in mutating]


async def _move_screen(pilot: Any, disk_id: str, target: str, *, instance: str = "") -> MoveScreen:
    if instance:
        await go_to_disk(pilot, instance, disk_id)
    else:
        await palette_go_to_disk(pilot, disk_id)
    await pilot.press("m")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PickerScreen)
    pilot.app.screen.dismiss(target)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MoveScreen) and screen.disk_id == disk_id
    return screen


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
async def test_the_picker_names_the_source_and_leaves_out_the_instances_holding_the_disk(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "cluster-node-2", "d-cluster-shared")
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        text = screen_text(app)
        assert "d-cluster-shared from i-cluster-node-2 to which" in text.replace("\n", " ").replace("█", "")
        ids = [value for value, _ in picker._options]
        assert "i-cluster-node-1" not in ids and "i-cluster-node-2" not in ids  # it is on both already
        assert "i-web-01" in ids
        assert "enter: choose" in text  # the hint stays in the dialog, at 80x24 too


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
async def test_a_multi_attach_move_says_from_which_instance_and_i_picks_another(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await _move_screen(pilot, "d-cluster-shared", "i-web-01", instance="cluster-node-2")
        text = screen_text(app)
        assert "from i-cluster-node-2 to i-web-01" in text
        assert "i From (multi-attach)" in text  # the footer offers the choice
        await pilot.press("i")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert [value for value, _ in picker._options] == ["i-cluster-node-1", "i-cluster-node-2"]
        picker.dismiss("i-cluster-node-1")
        await settle(pilot)
        assert app.screen is screen and screen.move is not None
        assert screen.move.source_instance_id == "i-cluster-node-1"
        text = screen_text(app)
        assert "from i-cluster-node-1 to i-web-01" in text
        assert "Detach disk d-cluster-shared from instance i-cluster-node-1" in text
        assert not unexpected_errors(app)


async def test_escape_leaves_the_move_screen(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _move_screen(pilot, "d-web-01-data", "i-web-02", instance="web-01")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.browse


SOURCE_REFUSALS = [
    ("d-bigdata-01-hdd1", "i-db-primary", "not portable"),  # a local disk
    ("d-jump-01-data", "i-web-02", "locked for security"),
    ("d-web-03-archive", "i-web-02", "overdue payment"),  # a financial lock on the disk
    ("d-erp-01-data", "i-sh-web-01", "not portable"),  # a subscription data disk (cn-shanghai)
]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
@pytest.mark.parametrize(("disk_id", "target", "why"), SOURCE_REFUSALS, ids=[c[0] for c in SOURCE_REFUSALS])
async def test_a_source_that_refuses_offers_no_option_and_lists_no_step(
    tmp_path: Path, disk_id: str, target: str, why: str, size: tuple[int, int]
) -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    app = build_app(emulator, tmp_path / "j.jsonl")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("a")  # every region: the subscription disk is in cn-shanghai
        await settle(pilot)
        screen = await _move_screen(pilot, disk_id, target)
        text = screen_text(app)
        assert f"Move {disk_id} (data disk) from" in text and f"to {target}" in text
        assert "✗ blocked" in text and why in text.replace("\n", " ")
        assert "Nothing to run" in text and "Attach disk" not in text
        for option in ("#move-snapshot", "#move-stop-source", "#move-stop-target", "#boot-section"):
            assert not screen.query_one(option).display, option
        assert not screen.query_one("#go").display
        assert _sent(emulator) == [] and not unexpected_errors(app)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
async def test_the_snapshot_is_refused_with_why_where_create_snapshot_would_be(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    # d-batch-04-input is Attaching (the manual clock holds it there): CreateSnapshot would answer
    # IncorrectDiskStatus, so neither screen lets "snapshot first" be ticked, and both say why.
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "batch-04", "d-batch-04-input")
        await pilot.press("d")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        box = wizard.query_one("#snapshot", Checkbox)
        assert box.display and box.disabled
        note = str(wizard.query_one("#snapshot-why").render())
        assert "is Attaching" in note and "IncorrectDiskStatus" in note
        await pilot.press("escape")
        await settle(pilot)
        screen = await _move_screen(pilot, "d-batch-04-input", "i-web-02", instance="batch-04")
        box = screen.query_one("#move-snapshot", Checkbox)
        assert box.display and box.disabled
        assert "No snapshot now" in screen_text(app) and "is Attaching" in screen_text(app)


async def test_the_move_reads_the_guest_and_offers_the_unmount_only_where_it_is_mounted(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        plain_disk = await _move_screen(pilot, "d-web-01-data", "i-web-02", instance="web-01")
        assert not plain_disk.query_one("#move-unmount").display  # nothing of it is mounted
        await pilot.press("escape")
        await settle(pilot)
        screen = await _move_screen(pilot, "d-files-01-data", "i-web-02", instance="files-01")
        assert "✗ blocked" in screen_text(app) and "/data" in screen_text(app)
        unmount = screen.query_one("#move-unmount", Checkbox)
        assert unmount.display
        unmount.value = True
        await settle(pilot)
        assert screen.move is not None and screen.move.executable, screen.move and screen.move.refusal
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.succeeded, job.message
        # The guest's probe, then its unmount, then the move (and the read-only probe of the read after it).
        sent = _sent(emulator, "RunCommand")
        assert sent.count("RunCommand") >= 2 and sent.index("RunCommand") < sent.index("DetachDisk")
        moved = sent.index("AttachDisk") + 1
        assert sent[sent.index("DetachDisk") - 1 : moved] == ["RunCommand", "DetachDisk", "AttachDisk"]
        assert set(sent[moved:]) <= {"RunCommand"}
        assert _disk(emulator, "d-files-01-data")["InstanceId"] == "i-web-02"


def test_the_password_rules_of_attach_disk_are_said_without_repeating_it() -> None:
    assert password_problem("Sup3r-Secret!") == ""
    assert "8 to 30" in password_problem("Ab1!")
    assert "8 to 30" in password_problem("Ab1!" * 8)
    assert "three of" in password_problem("alllowercase")
    assert "only letters, digits" in password_problem("Has space 1A")
    assert "cannot start with /" in password_problem("/Sup3r-Secret", windows=True)
    assert password_problem("/Sup3r-Secret") == ""
    assert "Type the logon password" in password_problem("")
    for weak in ("Ab1!", "alllowercase", "Has space 1A"):
        assert weak not in password_problem(weak)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
async def test_a_system_disk_moves_back_bootable_with_a_password_never_shown_or_kept(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    seen: list[str] = []

    def sleep(seconds: float) -> None:  # a job's wait: what its workers show of themselves, then time
        seen.extend(repr(worker) for worker in app.workers)
        emulator.advance(seconds)

    app = build_app(emulator, tmp_path / "j.jsonl", sleep=sleep)
    secret = "Sup3r-Secret!"
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        repaired_elsewhere(app, emulator)
        await pilot.press("r")
        await settle(pilot)
        screen = await _move_screen(pilot, "d-web-01-sys", "i-web-01", instance="web-02")
        assert "Move d-web-01-sys (system disk) from i-web-02 to i-web-01" in screen_text(app)
        assert not screen.query_one("#move-password").display  # only once the target is to boot from it
        screen.query_one("#move-stop-source", Checkbox).value = True
        await settle(pilot)
        screen.query_one("#move-bootable", Checkbox).value = True
        await settle(pilot)
        password = screen.query_one("#move-password", Input)
        assert password.display and password.password
        assert "Type the logon password" in screen_text(app).replace("\n", " ")
        assert screen.query_one("#go").disabled
        password.focus()
        await type_text(pilot, "weakpass")
        await settle(pilot)
        assert "three of" in screen_text(app).replace("\n", " ") and screen.query_one("#go").disabled
        password.value = ""
        await type_text(pilot, secret)
        await settle(pilot)
        assert secret not in screen_text(app) and "✓ The password meets" in screen_text(app)
        assert screen.move is not None and screen.move.executable, screen.move and screen.move.refusal
        assert not screen.query_one("#go").disabled
        await pilot.click("#go")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "i-web-01 boots from it" in screen_text(app).replace("\n", " ")
        assert secret not in screen_text(app)
        confirm.query_one("#typed", Input).value = "d-web-01-sys"  # a system disk: its id typed
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot, 8)
        jobs = [job for job in app.jobs.jobs if job.kind == "move"]
        assert jobs and jobs[-1].succeeded, jobs[-1].message
        assert password.value == ""  # the screen keeps no copy once the job has it
        assert secret not in screen_text(app)
    disk = _disk(emulator, "d-web-01-sys")
    assert (disk["Status"], disk["InstanceId"], disk["Device"]) == ("In_use", "i-web-01", "/dev/xvda")
    assert secret not in (tmp_path / "j.jsonl").read_text()
    assert seen and not any(secret in text for text in seen)
    assert not unexpected_errors(app)


async def test_every_disk_of_a_fleet_with_every_kind_gets_a_move_screen_naming_it(tmp_path: Path) -> None:
    from test_tui_every_disk import every_kind_fleet

    emulator = Emulator(fleet=every_kind_fleet(), clock=ManualClock())
    disk_ids = sorted(d["DiskId"] for d in emulator.state()["Disks"])
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for disk_id in disk_ids:
            await palette_go_to_disk(pilot, disk_id)
            await pilot.press("m")
            await settle(pilot)
            picker = app.screen
            if not isinstance(picker, PickerScreen):  # nothing to move it to: said, and nothing opened
                assert app.screen is app.browse, disk_id
                continue
            assert disk_id in screen_text(app), disk_id
            picker.dismiss(picker._options[0][0])
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MoveScreen) and screen.disk_id == disk_id, disk_id
            assert f"Move {disk_id}" in screen_text(app), disk_id
            assert app.is_running and not unexpected_errors(app), (disk_id, unexpected_errors(app))
            await pilot.press("escape")
            await settle(pilot, 1)
        assert _sent(emulator) == []
