"""`ecs-detach emulator` as an operator runs it: first line, credentials, exit 2 refusals, Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gw_signing import v3

COMMAND = [sys.executable, "-m", "ecs_detach.cli", "emulator"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--time-scale", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().rstrip("\n")
    match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:(\d+))", first)
    assert match, first
    lines = [first] + [process.stdout.readline().rstrip("\n") for _ in range(4)]
    try:
        yield process, match.group(1), lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_the_first_line_names_the_real_port_then_the_credentials(
    served: tuple[subprocess.Popen[str], str, list[str]],
) -> None:
    _, url, lines = served
    assert int(url.rsplit(":", 1)[1]) > 0
    text = "\n".join(lines)
    assert "LTAI5tEmulatorDemoKey" in text and "emulator-demo-secret" in text
    assert "cn-hangzhou" in text


def test_the_served_emulator_answers_api_and_control_calls(
    served: tuple[subprocess.Popen[str], str, list[str]],
) -> None:
    _, url, _ = served
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/_emulator/health").json()["status"] == "ok"
        signed = v3("DescribeRegions", host=http.base_url.netloc.decode())
        response = http.post(
            "/?" + signed.query, headers={k: v for k, v in signed.headers.items() if k != "host"}
        )
        assert response.status_code == 200


def test_ctrl_c_stops_it_cleanly(served: tuple[subprocess.Popen[str], str, list[str]]) -> None:
    process, _, _ = served
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in stderr + stdout
    assert "emulator stopped" in stdout


def test_a_non_loopback_host_is_refused_without_allow_remote() -> None:
    result = _run("--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "http"], "not a port number"),
        (["--port", "70000"], "not a port number"),
        (["--time-scale", "fast"], "not a number"),
        (["--time-scale", "-2"], "out of range"),
        (["--colour"], "unrecognized arguments"),
        (["--fleet", "/no/such/fleet.json"], "no such fleet file"),
    ],
)
def test_bad_flags_and_fleets_exit_2_with_a_clear_message(args: list[str], expected: str) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_invalid_fleet_file_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "fleet.json"
    broken.write_text("{not json", encoding="utf-8")
    result = _run("--fleet", str(broken), "--port", "0")
    assert result.returncode == 2
    assert "cannot load the fleet" in result.stderr and "Traceback" not in result.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"Instances": [{"InstanceId": ""}]}), encoding="utf-8")
    result = _run("--fleet", str(wrong), "--port", "0")
    assert result.returncode == 2
    assert "InstanceId" in result.stderr


def test_a_port_in_use_exits_2() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = _run("--port", str(taken.getsockname()[1]))
    assert result.returncode == 2
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr
