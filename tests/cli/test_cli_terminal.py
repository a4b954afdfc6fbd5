"""The CLI on a narrow terminal: the live progress line fits and is redrawn in place, a log gets one line
per state change; demo mode names its endpoint and its time for what they are."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from cli_helpers import CliRunner

from ecs_detach.commands._console import Console, Progress, bar_line, terminal_width
from ecs_detach.vocabulary import DEMO_TIME, IN_PROCESS_ENDPOINT
from ecs_detach.workflow import ProgressEvent

LONG_DISK = "d-" + "averyveryverylongdiskname" * 3


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _wait(
    elapsed: float, eta: float | None, state: str = "Detaching", disk: str = LONG_DISK
) -> ProgressEvent:
    return ProgressEvent(
        phase="wait-disk-detached",
        message=f"Waiting for disk {disk} to be detached: {state} after {elapsed:.0f} s",
        disk_id=disk,
        instance_id="i-web-01",
        state=state,
        elapsed=elapsed,
        eta=eta,
        timeout=300.0,
    )


def _polls() -> list[ProgressEvent]:
    start = ProgressEvent("detach-disk", "Detaching disk", LONG_DISK, "i-web-01")
    waits = [_wait(t, max(0.0, 60.0 - t) if t < 60 else None) for t in range(0, 120, 2)]
    return [start, *waits, _wait(120, None, state="Available")]


@pytest.mark.parametrize("columns", [40, 80, 120])
@pytest.mark.parametrize("real_time", [True, False])
def test_the_bar_fits_the_terminal(columns: int, real_time: bool) -> None:
    for event in _polls()[1:]:
        line = bar_line(event, event.elapsed, columns, demo_time=not real_time)
        assert len(line) < columns, line
        assert line.startswith(LONG_DISK[: min(len(LONG_DISK), columns - 2)])


def test_the_bar_keeps_the_state_and_times_first_on_80_columns() -> None:
    line = bar_line(_wait(26, 34, disk="d-web-01-data"), 26, 80, demo_time=True)
    assert "d-web-01-data" in line and "Detaching" in line and "26 s elapsed" in line
    assert f"({DEMO_TIME})" in line and "ETA ~34 s" in line and len(line) < 80


def test_a_redrawn_line_on_a_tty_of_80_columns_never_leaves_a_line_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    err = FakeTty()
    monkeypatch.setattr(sys, "stderr", err)
    progress = Progress(Console("detach"), bar=True, real_time=False)
    events = _polls()
    for event in events:
        progress(event)
        progress.tick()
    progress.finish()
    text = err.getvalue()
    # One line per step that is not a wait (the DetachDisk note); every redraw stays on its own line.
    assert text.count("\n") == 1
    for segment in text.split("\r"):
        shown = segment.replace("\x1b[2K", "").rstrip("\n")
        assert len(shown) < 80, shown
    assert text.endswith("\r\x1b[2K")  # the live line is cleared at the end


def test_without_a_tty_a_wait_is_one_line_per_state_change(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress = Progress(Console("detach"), bar=False, real_time=True)
    for event in _polls():
        progress(event)
    progress.finish()
    lines = err.getvalue().splitlines()
    assert len(lines) == 3, lines  # Detaching disk; ...Detaching...; ...Available...
    assert "\r" not in err.getvalue() and "\x1b" not in err.getvalue()


def test_terminal_width_reads_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "57")
    assert terminal_width(io.StringIO()) == 57
    monkeypatch.setenv("COLUMNS", "junk")
    assert terminal_width(io.StringIO()) > 0


# -- demo mode's endpoint and time ---------------------------------------------------------------------------


def test_demo_detach_names_the_emulator_not_a_cloud_url_and_its_time_as_demo_time(
    cli: CliRunner, home: Path
) -> None:
    ran = cli("detach", "d-web-01-data", "--demo", "--yes")
    assert ran.code == 0, ran.err
    assert "aliyuncs.com" not in ran.text
    assert IN_PROCESS_ENDPOINT in ran.err  # the banner
    waits = [line for line in ran.err.splitlines() if "Waiting for disk d-web-01-data" in line]
    assert len(waits) == 1  # not a TTY: one line per state, not one per poll
    assert f"times are {DEMO_TIME}" in ran.err
    assert re.search(rf"took \d+ s \({DEMO_TIME}", ran.out)
    records = [
        json.loads(line)
        for line in (home / "state" / "ecs-detach" / "journal-demo.jsonl").read_text().splitlines()
    ]
    assert records and {r["endpoint"] for r in records} == {IN_PROCESS_ENDPOINT}


def test_demo_json_keeps_its_shape_and_names_the_emulator(cli: CliRunner) -> None:
    ran = cli("check", "d-web-01-data", "--demo", "--json")
    assert ran.code == 0 and json.loads(ran.out)["verdict"] == "ready"


def test_the_missing_disk_check_leads_with_not_found(cli: CliRunner) -> None:
    ran = cli("check", "d-nope", "--demo")
    assert ran.code == 3
    assert "Verdict: ✗ blocked — Detaching d-nope is blocked: Disk d-nope does not exist" in ran.out
    assert "DetachDisk would now answer: InvalidDiskId.NotFound" in ran.out
    assert "No instance id was given" not in ran.out
    assert "Remedy: Check the disk id" in ran.out


def test_an_already_detached_disk_names_the_code_the_api_answers(cli: CliRunner) -> None:
    ran = cli("check", "d-spare-01", "--demo")
    assert ran.code == 0
    assert "DetachDisk would now answer: InvalidDisk.AlreadyDetached" in ran.out
    assert "InvalidParameter" not in ran.out
