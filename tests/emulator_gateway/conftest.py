"""Fixtures: the emulator in-process (manual clock) and over HTTP (uvicorn in a thread on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gw_signing import gateway_fleet

from ecs_detach.emulator import Emulator, ManualClock


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet=gateway_fleet(), clock=ManualClock())


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator.transport(), base_url="http://127.0.0.1") as http:
        yield http


@pytest.fixture(scope="session")
def http_emulator() -> Iterator[Emulator]:
    emulator = Emulator(fleet=gateway_fleet(), clock=ManualClock())
    server = emulator.serve_in_thread()
    emulator.base_url = server.url  # type: ignore[attr-defined]
    try:
        yield emulator
    finally:
        server.stop()


@pytest.fixture
def http(http_emulator: Emulator) -> Iterator[httpx.Client]:
    """A real HTTP client against the session server, reset to the starting fleet with no faults."""
    with httpx.Client(base_url=http_emulator.base_url, timeout=10) as session:  # type: ignore[attr-defined]
        assert session.post("/_emulator/reset").status_code == 200
        assert session.delete("/_emulator/faults").status_code == 200
        yield session
