"""The scripting CLI under test: in-process (``commands.main`` with capsys) in an isolated home, and end to
end (``ecs-detach`` in a subprocess against ``ecs-detach emulator --port 0 --fleet demo``)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import (
    CREDENTIAL_VARS,
    DEMO_SECRET,
    CliRunner,
    FakeTerminal,
    HttpEmulator,
    Ran,
    Served,
    instant_fleet,
)

from ecs_detach import commands
from ecs_detach.journal import Journal


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated HOME and XDG_STATE_HOME (so the journal lands in tmp_path), no credentials in the env."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def journal(home: Path) -> Journal:
    return Journal(home / "state" / "ecs-detach" / "journal.jsonl")


@pytest.fixture
def demo_journal(home: Path) -> Journal:
    """The journal demo mode writes, apart from real accounts'."""
    return Journal(home / "state" / "ecs-detach" / "journal-demo.jsonl")


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """``cli("check", "d-...", "--demo", typed="...")``: run in-process; `typed` makes stdin a terminal."""

    def run(*argv: str, typed: str | None = None) -> Ran:
        stdin: io.StringIO = FakeTerminal(typed) if typed is not None else io.StringIO("")
        monkeypatch.setattr(sys, "stdin", stdin)
        capsys.readouterr()
        code = commands.main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """``ecs-detach emulator --port 0 --fleet demo`` in a subprocess, as the gateway tests start it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0", "--fleet", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().rstrip("\n")
    match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:\d+)", first)
    assert match, first
    try:
        yield Served(match.group(1), process)
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpEmulator]:
    from ecs_detach.emulator import Emulator, ManualClock

    emulator = Emulator(fleet=instant_fleet(), clock=ManualClock())
    server = emulator.serve_in_thread()
    try:
        yield HttpEmulator(emulator, server.url)
    finally:
        server.stop()


@pytest.fixture
def http_emulator(http_server: HttpEmulator, home: Path, monkeypatch: pytest.MonkeyPatch) -> HttpEmulator:
    """The emulator over HTTP (instant transitions), reset, with its key in the environment."""
    http_server.emulator.reset()
    http_server.emulator.clear_faults()
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tEmulatorDemoKey")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_SECRET)
    return http_server
