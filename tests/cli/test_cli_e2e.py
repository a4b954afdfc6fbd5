"""End to end: ``ecs-detach ...`` in a subprocess against ``ecs-detach emulator --port 0 --fleet demo`` (real
time, scale 1), credentials from the environment. Every exit code, seen from the outside, with the emulator's
request log as the witness of what was (not) sent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import DEMO_SECRET, Served, instant_fleet

CLI = [sys.executable, "-m", "ecs_detach.cli"]


def run(served: Served, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*CLI, *args, "--endpoint", served.url],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=served.env(tmp_path, **env),
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert DEMO_SECRET not in result.stdout + result.stderr
    return result


@pytest.fixture
def emu(served: Served) -> Served:
    served.reset()
    return served


def test_exit_0_a_data_disk_is_detached_and_followed_to_available(emu: Served, tmp_path: Path) -> None:
    emu.reset(instant_fleet())  # the detach completes at the next read: no waiting on real time
    result = run(emu, tmp_path, "detach", "d-web-01-data", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["result"]["outcome"] == "done" and data["result"]["disk_status"] == "Available"
    assert [r["status"] for r in emu.requests("DetachDisk")] == [200]
    journal = (tmp_path / "state" / "ecs-detach" / "journal.jsonl").read_text()
    assert '"DetachDisk"' in journal and data["result"]["steps"][0]["request_id"] in journal


def test_exit_0_no_wait_then_the_emulator_clock_moves_it_to_available(emu: Served, tmp_path: Path) -> None:
    sent = run(emu, tmp_path, "detach", "d-web-01-logs", "--yes", "--no-wait")
    assert sent.returncode == 0, sent.stderr
    assert "not waiting (--no-wait)" in sent.stdout
    with emu.control() as http:
        assert http.post("/_emulator/clock", json={"advance_seconds": 120}).status_code == 200
    check = run(emu, tmp_path, "check", "d-web-01-logs", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["verdict"] == "already-detached"


def test_exit_1_the_api_refuses_the_detach(emu: Served, tmp_path: Path) -> None:
    result = run(
        emu,
        tmp_path,
        "detach",
        "d-web-01-data",
        "--yes",
        ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tEmulatorReadOnly",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET="emulator-readonly-secret",
    )
    assert result.returncode == 1
    assert "Forbidden.RAM" in result.stderr and "what to do:" in result.stderr
    assert "emulator-readonly-secret" not in result.stdout + result.stderr
    assert [r["code"] for r in emu.requests("DetachDisk")] == ["Forbidden.RAM"]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["detach", "disk-1", "--yes"], {}, "is not a disk id"),
        (["detach", "d-web-01-data"], {}, "stdin is not a terminal"),
        (["detach", "d-web-01-data", "--yes", "--profile", "nope"], {}, "unknown profile 'nope'"),
    ],
)
def test_exit_2_bad_input_sends_nothing(
    emu: Served, tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = run(emu, tmp_path, *args, **env)
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stdout == ""
    assert emu.requests() == []


@pytest.mark.parametrize(
    ("disk", "code"),
    [("d-jump-01-data", "InstanceLockedForSecurity"), ("d-bigdata-01-hdd1", "DiskNotPortable")],
)
def test_exit_3_a_precondition_blocks_and_no_detach_is_sent(
    emu: Served, tmp_path: Path, disk: str, code: str
) -> None:
    result = run(emu, tmp_path, "detach", disk, "--yes")
    assert result.returncode == 3
    assert code in result.stdout and "blocked, nothing was sent" in result.stderr
    assert emu.requests()  # it read the disk and the instance ...
    assert emu.requests("DetachDisk") == []  # ... and sent nothing


def test_exit_4_the_wait_times_out_and_the_detach_goes_on(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "detach", "d-web-01-data", "--yes", "--timeout", "0.3")
    assert result.returncode == 4
    assert "goes on in the cloud" in result.stderr and "ecs-detach check d-web-01-data" in result.stderr
    assert [r["status"] for r in emu.requests("DetachDisk")] == [200]


def test_exit_4_ctrl_c_stops_the_wait_not_the_detach(emu: Served, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*CLI, "detach", "d-web-02-data", "--yes", "--endpoint", emu.url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=emu.env(tmp_path),
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # plain progress lines off a terminal; wait for the first poll
        seen.append(line)
        if "Waiting for disk d-web-02-data" in line:
            break
    process.send_signal(signal.SIGINT)
    stdout, rest = process.communicate(timeout=30)
    stderr = "".join(seen) + rest
    assert process.returncode == 4
    assert "Ctrl-C: stopping the wait" in stderr and "goes on in the cloud" in stderr
    assert "ecs-detach check d-web-02-data" in stderr
    assert "Traceback" not in stdout + stderr
    assert [r["status"] for r in emu.requests("DetachDisk")] == [200]
    with emu.control() as http:
        disk = next(d for d in http.get("/_emulator/state").json()["Disks"] if d["DiskId"] == "d-web-02-data")
    assert disk["Status"] == "Detaching"


def test_read_commands_print_json_that_parses(emu: Served, tmp_path: Path) -> None:
    for args in (["instances"], ["disks", "--instance", "i-web-01"], ["check", "d-web-01-sys"], ["journal"]):
        result = run(emu, tmp_path, *args, "--json")
        assert result.returncode == 0, (args, result.stderr)
        assert isinstance(json.loads(result.stdout), dict)


def test_bulk_partial_failure_end_to_end(emu: Served, tmp_path: Path) -> None:
    emu.reset(instant_fleet())
    result = run(emu, tmp_path, "detach", "d-web-01-data", "d-jump-01-data", "--yes", "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)["report"]
    assert [(r["disk_id"], r["outcome"]) for r in report["results"]] == [
        ("d-web-01-data", "done"),
        ("d-jump-01-data", "blocked"),
    ]
    assert [r["params"]["DiskId"] for r in emu.requests("DetachDisk")] == ["d-web-01-data"]
