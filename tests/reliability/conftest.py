"""The reliability tests' served emulator, and the fault matrix's CLI runner.

A module that uses ``server`` (or ``served``) defines ``FLEET``, and ``TIME_SCALE`` for the emulator's
``--time-scale`` (1 unless set); the server is started once a module and reset by each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fault_proxy import FaultProxy, Rule
from .helpers import Server, serve_emulator
from .matrix import Run, Served


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """``ecs-detach emulator`` on the module's ``FLEET``, served in a subprocess for the module's tests."""
    with serve_emulator(request.module.FLEET, getattr(request.module, "TIME_SCALE", 1.0)) as served:
        yield served


@pytest.fixture(scope="module")
def served(server: Server) -> Iterator[Served]:
    """The module's `server` with the fault proxy in front (the fault matrix)."""
    with FaultProxy(server.url) as proxy:
        yield Served(server, proxy)


@pytest.fixture
def cli(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(argv, *rules, reset=True) -> Run``: ``ecs-detach ARGV`` through the proxy, a journal per test."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def run(argv: list[str], *rules: Rule, reset: bool = True) -> Run:
        return served.run(argv, *rules, journal=tmp_path / "journal.jsonl", capsys=capsys, reset=reset)

    return run
