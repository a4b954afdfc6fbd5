"""The emulator over HTTP for the official SDKs: uvicorn in a thread on 127.0.0.1, a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sdk_served import Served

from ecs_detach.emulator import Emulator, ManualClock


@pytest.fixture(scope="session")
def sdk_server() -> Iterator[Served]:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    server = emulator.serve_in_thread()
    with httpx.Client(base_url=server.url, timeout=10) as control:
        try:
            yield Served(emulator, server.url, server.endpoint, control)
        finally:
            server.stop()


@pytest.fixture
def served(sdk_server: Served) -> Served:
    assert sdk_server.control.post("/_emulator/reset", json={"fleet": "demo"}).status_code == 200
    assert sdk_server.control.delete("/_emulator/faults").status_code == 200
    return sdk_server
