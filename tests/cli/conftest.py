"""The scripting CLI under test: in-process (``commands.main`` with capsys) in an isolated home, and end to
end (``ecs-detach`` in a subprocess against ``ecs-detach emulator --port 0 --fleet demo``)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_detach import commands
from ecs_detach.journal import Journal

DEMO_SECRET = "emulator-demo-secret"
_CREDENTIAL_VARS = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ECS_DETACH_PROTECTED_PROFILES",
    "ECS_DETACH_PROTECTED_REGIONS",
)


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        import json

        return json.loads(self.out)


class FakeTerminal(io.StringIO):
    """Stdin as a terminal an operator types into."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated HOME and XDG_STATE_HOME (so the journal lands in tmp_path), no credentials in the env."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def journal(home: Path) -> Journal:
    return Journal(home / "state" / "ecs-detach" / "journal.jsonl")


@pytest.fixture
def demo_journal(home: Path) -> Journal:
    """The journal demo mode writes, apart from real accounts'."""
    return Journal(home / "state" / "ecs-detach" / "journal-demo.jsonl")


CliRunner = Callable[..., Ran]


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


# -- end to end ----------------------------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def reset(self, fleet: Any = None) -> None:
        with self.control() as http:
            response = http.post("/_emulator/reset", json=fleet) if fleet else http.post("/_emulator/reset")
            assert response.status_code == 200, response.text
            assert http.delete("/_emulator/faults").status_code == 200

    def requests(self, action: str | None = None) -> list[dict[str, Any]]:
        with self.control() as http:
            logged: list[dict[str, Any]] = http.get("/_emulator/requests").json()["requests"]
        return [r for r in logged if action is None or r.get("action") == action]

    def env(self, tmp_path: Path, **extra: str) -> dict[str, str]:
        """A subprocess environment: the emulator's key, an isolated home, nothing else that matters."""
        env = {k: v for k, v in os.environ.items() if k not in _CREDENTIAL_VARS}
        env.update(
            HOME=str(tmp_path),
            XDG_STATE_HOME=str(tmp_path / "state"),
            ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tEmulatorDemoKey",
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=DEMO_SECRET,
        )
        env.update(extra)
        return env


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


def instant_fleet() -> dict[str, Any]:
    """The demo fleet with every transition instant, for runs over HTTP that must not wait on real time."""
    import copy

    from ecs_detach.emulator.fleet import load_fleet

    fleet = copy.deepcopy(load_fleet("demo"))
    fleet["Emulator"]["Durations"] = {"DetachDisk": 0, "AttachDisk": 0, "StopInstance": 0, "StartInstance": 0}
    return fleet


@dataclass
class HttpEmulator:
    emulator: Any
    url: str

    @property
    def endpoint_args(self) -> list[str]:
        return ["--endpoint", self.url]


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
