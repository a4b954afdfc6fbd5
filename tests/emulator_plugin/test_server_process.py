"""``EcsEmulatorServer``: the emulator in a child process keeps answering however much it writes to stderr,
and a server that does not start says why (what it wrote to stderr)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from ecs_detach.emulator.testing import EcsEmulatorServer

PIPE_BUFFER = 64 * 1024  # what a pipe holds before its writer blocks (Linux)
BOUND = 120.0  # seconds: a bound on a hang, not a measure of speed


def test_a_server_that_writes_a_lot_to_stderr_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The child inherits these: every import is written to stderr, well over a pipe's buffer (about 90 KiB
    # for the imports alone, and more with the import times).
    monkeypatch.setenv("PYTHONVERBOSE", "1")
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    answers: list[object] = []

    def use() -> None:
        with EcsEmulatorServer() as server:
            answers.append(httpx.get(server.url + "/_emulator/health", timeout=BOUND).status_code)
            answers.append(len(server.state()["Disks"]) > 0)

    worker = threading.Thread(target=use, daemon=True)
    worker.start()
    worker.join(BOUND)
    assert not worker.is_alive(), "the server hung (its stderr pipe filled and nobody read it)"
    assert answers == [200, True]


def test_a_server_that_does_not_start_says_what_it_wrote(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-fleet.json"
    with pytest.raises(RuntimeError) as raised:
        EcsEmulatorServer(missing)
    message = str(raised.value)
    assert message.startswith("the emulator server did not start: ecs-detach emulator: cannot load the fleet")
    assert str(missing) in message
