"""Every disk of a fleet, as an operator reaches it: the palette's "Go to disk", then c, d and u.

For each disk the screen must name the disk chosen (the wizard's title, the undo screen's words) and the app
must be alive, with no exception caught or raised. The demo fleet (every region, through the all-regions
view) and a generated fleet with every kind of disk the generator lacks added by hand (multi-attach, local,
subscription, on a locked instance, Detaching, Attaching, and names with markup-like text in them).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, browse, build_app, palette_go_to_disk, screen_text, settle, unexpected_errors

from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from tui.app import EcsDetachApp
from tui.screens.undo import UndoScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio


def every_kind_fleet() -> dict[str, Any]:
    """A small generated fleet, with one disk of each kind the generator does not make."""
    fleet = copy.deepcopy(generate_fleet(instances=6, disks=14, regions=1, seed=4))
    instances, disks = fleet["Instances"], fleet["Disks"]
    first, second = instances[0]["InstanceId"], instances[1]["InstanceId"]
    instances[2]["OperationLocks"] = [{"LockReason": "security", "LockMsg": "Locked [?x=='y'] by [b]ops[/b]"}]
    instances[1]["InstanceName"] = "name [with] [b]markup[/b] $var"
    zone = instances[0]["ZoneId"]
    extra = [
        {
            "DiskId": "d-every-shared",
            "DiskName": "shared [?InstanceId=='x']",
            "Type": "data",
            "Category": "cloud_essd",
            "Size": 100,
            "MultiAttach": "Enabled",
            "ZoneId": zone,
            "Attachments": {
                "Attachment": [
                    {"InstanceId": first, "Device": "/dev/xvdz"},
                    {"InstanceId": second, "Device": "/dev/xvdz"},
                ]
            },
        },
        {
            "DiskId": "d-every-local",
            "Type": "data",
            "InstanceId": first,
            "Category": "local_hdd_pro",
            "Size": 5500,
            "ZoneId": zone,
        },
        {
            "DiskId": "d-every-prepaid",
            "Type": "data",
            "InstanceId": first,
            "Category": "cloud_essd",
            "Size": 50,
            "DiskChargeType": "PrePaid",
            "ZoneId": zone,
        },
        {
            "DiskId": "d-every-locked",
            "Type": "data",
            "InstanceId": instances[2]["InstanceId"],
            "Category": "cloud_essd",
            "Size": 50,
            "ZoneId": instances[2]["ZoneId"],
        },
        {
            "DiskId": "d-every-detaching",
            "Type": "data",
            "InstanceId": second,
            "Category": "cloud_essd",
            "Size": 50,
            "Status": "Detaching",
            "ZoneId": instances[1]["ZoneId"],
        },
        {
            "DiskId": "d-every-attaching",
            "Type": "data",
            "InstanceId": second,
            "Category": "cloud_essd",
            "Size": 50,
            "Status": "Attaching",
            "ZoneId": instances[1]["ZoneId"],
        },
    ]
    for disk in extra:
        disk.setdefault("ZoneId", zone)
    disks.extend(extra)
    return fleet


async def _visit_every_disk(app: EcsDetachApp, pilot: Any, disk_ids: list[str]) -> None:
    for disk_id in disk_ids:
        await palette_go_to_disk(pilot, disk_id)
        chosen = browse(app).chosen
        assert chosen is not None and chosen.disk.disk_id == disk_id, disk_id
        for key in ("c", "d", "u"):
            await pilot.press(key)
            await settle(pilot, 2)
            screen = app.screen
            if key == "u":
                assert isinstance(screen, UndoScreen) and screen.disk_id == disk_id, (disk_id, key)
            else:
                assert isinstance(screen, DetachWizard) and screen.disk_id == disk_id, (disk_id, key)
            assert disk_id in screen_text(app), (disk_id, key)
            assert app.is_running and not unexpected_errors(app), (disk_id, key, unexpected_errors(app))
            await pilot.press("escape")
            await pilot.pause()
        assert app.screen is browse(app)


@pytest.mark.parametrize(
    "fleet",
    [
        # 102 disks at ~4 s each on this shared machine: over the suite's budget, so marked slow
        pytest.param("demo", marks=pytest.mark.slow),
        "every-kind",
    ],
)
async def test_every_disk_with_go_to_disk_then_c_d_u(fleet: str, tmp_path: Path) -> None:
    emulator = Emulator(fleet="demo" if fleet == "demo" else every_kind_fleet(), clock=ManualClock())
    disk_ids = sorted(d["DiskId"] for d in emulator.state()["Disks"])
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")  # every region at once: each action goes to its disk's region
        await settle(pilot)
        await _visit_every_disk(app, pilot, disk_ids)
    assert not unexpected_errors(app)
