"""The control API and ``--fleet`` under hostile input: deep JSON, paths, devices, another file's values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.fleet import FleetError, load_fleet

SECRET_VALUE = "s3cr3t-value-from-another-file"


@pytest.fixture
def control() -> httpx.Client:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    return httpx.Client(transport=emulator.transport(), base_url="http://emulator")


@pytest.mark.parametrize("route", ["/_emulator/reset", "/_emulator/faults", "/_emulator/clock"])
def test_deeply_nested_json_is_a_clear_400(control: httpx.Client, route: str) -> None:
    for depth in (40, 100_000):
        body = b"[" * depth + b"]" * depth
        reply = control.post(route, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text
        assert "levels deep" in reply.json()["error"]


def test_reset_reads_no_file_path(control: httpx.Client, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps({"Instances": [{"InstanceId": "i-only"}], "Disks": []}))
    reply = control.post("/_emulator/reset", json={"fleet": str(fleet)})
    assert reply.status_code == 400
    assert "reads no files" in reply.json()["error"]
    assert len(control.get("/_emulator/state").json()["Instances"]) > 1  # the demo fleet is still there


def test_a_fleet_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="not a regular file"):
        load_fleet("/dev/zero")
    with pytest.raises(FleetError, match="not a regular file"):
        load_fleet(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FleetError, match="not a regular file"):  # and no wait for a writer
        load_fleet(fifo)


def test_a_fleet_files_values_are_not_echoed_in_its_errors(tmp_path: Path) -> None:
    other = tmp_path / "config.json"
    other.write_text(json.dumps({"Instances": [{"InstanceId": "i-1", "RegionId": SECRET_VALUE}]}))
    with pytest.raises(FleetError) as caught:
        load_fleet(other)
    assert SECRET_VALUE not in str(caught.value)
    assert "Instances[0]" in str(caught.value) and ".RegionId" in str(caught.value)
    assert str(other) in str(caught.value)


@pytest.mark.parametrize("fleet", ["/dev/zero", "values"])
def test_the_served_emulator_refuses_such_fleets_with_exit_2(tmp_path: Path, fleet: str) -> None:
    if fleet == "values":
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"Instances": [{"InstanceId": "i-1", "ZoneId": SECRET_VALUE}]}))
        fleet = str(path)
    result = subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0", "--fleet", fleet],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "cannot load the fleet" in result.stderr and "Traceback" not in result.stderr
    assert SECRET_VALUE not in result.stderr and "MemoryError" not in result.stderr
