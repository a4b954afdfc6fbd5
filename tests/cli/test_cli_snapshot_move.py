"""``detach --snapshot`` and ``move`` from the outside: ``ecs-detach ...`` in a subprocess against
``ecs-detach emulator`` (instant transitions), the emulator's request log as the witness; and the in-process
demo (virtual time) for the snapshot's progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CliRunner, Served, instant_fleet
from test_cli_e2e import run

MUTATING = ("CreateSnapshot", "DetachDisk", "AttachDisk", "StopInstance", "StartInstance")


@pytest.fixture
def emu(served: Served) -> Served:
    fleet = instant_fleet()
    fleet["Emulator"]["Durations"]["CreateSnapshot"] = 0
    served.reset(fleet)
    return served


def _mutations(emu: Served) -> list[str]:
    return [r["action"] for r in emu.requests() if r["action"] in MUTATING]


def _state(emu: Served) -> dict[str, Any]:
    with emu.control() as http:
        state: dict[str, Any] = http.get("/_emulator/state").json()
    return state


def test_detach_snapshot_sends_create_snapshot_first_and_detaches_once_accomplished(
    emu: Served, tmp_path: Path
) -> None:
    result = run(emu, tmp_path, "detach", "d-web-01-data", "--snapshot", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    snapshot_id = data["result"]["snapshot_id"]
    assert snapshot_id.startswith("s-") and data["result"]["outcome"] == "done"
    log = [r for r in emu.requests() if r["action"] in ("CreateSnapshot", "DescribeSnapshots", "DetachDisk")]
    actions = [r["action"] for r in log]
    assert actions[0] == "CreateSnapshot" and actions[-1] == "DetachDisk"
    assert "DescribeSnapshots" in actions[1:-1]  # followed to accomplished in between
    (snapshot,) = _state(emu)["Emulator"]["Snapshots"]
    assert snapshot["SnapshotId"] == snapshot_id and snapshot["Status"] == "accomplished"
    assert snapshot["LastModifiedTime"] <= log[-1]["emulator_time"]
    assert any("billed" in warning for warning in data["plan"]["warnings"])


def test_move_ends_with_the_disk_in_use_on_the_target(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "move", "d-web-01-data", "--to", "i-web-02", "--yes")
    assert result.returncode == 0, result.stderr
    assert "moved from i-web-01 to i-web-02: it is In_use there" in result.stdout
    disk = next(d for d in _state(emu)["Disks"] if d["DiskId"] == "d-web-01-data")
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-web-02")
    assert _mutations(emu) == ["DetachDisk", "AttachDisk"]


def test_a_zone_mismatch_exits_3_and_sends_nothing(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "move", "d-web-01-data", "--to", "i-db-primary", "--yes", "--json")
    assert result.returncode == 3
    assert "ResourcesNotInSameZone" in result.stderr
    data = json.loads(result.stdout)
    zone = next(c for c in data["plan"]["target_checks"] if c["name"] == "same-zone")
    assert zone["status"] == "fail" and data["result"] is None
    assert _mutations(emu) == []


def test_the_demo_shows_the_snapshot_progress(cli: CliRunner) -> None:
    ran = cli("detach", "d-web-01-data", "--snapshot", "--demo", "--yes")
    assert ran.code == 0, ran.err
    assert "progressing 0%" in ran.err and "is accomplished" in ran.err
    assert ran.err.index("is accomplished") < ran.err.index("Detaching disk d-web-01-data")
    assert "was taken first (accomplished)" in ran.out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["move", "d-web-01-data"], "move needs DISK_ID and --to INSTANCE"),
        (["move", "d-web-01-data", "--to", "web-02"], "is not an instance id"),
        (["move", "--undo", "abc", "--to", "i-web-02"], "--undo takes the disk"),
        (["move", "d-web-01-data", "--to", "i-web-02", "--key-pair", "k"], "go with --bootable"),
        (["detach", "d-web-01-data", "d-web-01-logs", "--snapshot"], "--snapshot works with one disk"),
    ],
)
def test_bad_usage_exits_2(cli: CliRunner, argv: list[str], expected: str) -> None:
    ran = cli(*argv, "--demo", "--yes")
    assert ran.code == 2 and expected in ran.err
