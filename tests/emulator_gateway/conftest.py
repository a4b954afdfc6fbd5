"""Fixtures: the emulator in-process (manual clock) and over HTTP (uvicorn in a thread on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gw_signing import READ_ONLY_KEY, Signed

from ecs_detach.emulator import Emulator, ManualClock


def gateway_fleet() -> dict[str, Any]:
    """The demo fleet plus a read-only key and a tight AttachDisk rate limit the tests control."""
    import copy

    from ecs_detach.emulator.fleet import load_fleet

    fleet = copy.deepcopy(load_fleet("demo"))
    section = fleet.setdefault("Emulator", {})
    section.setdefault("AccessKeys", []).append(
        {"AccessKeyId": READ_ONLY_KEY[0], "AccessKeySecret": READ_ONLY_KEY[1], "ReadOnly": True}
    )
    section.setdefault("RateLimits", {})["DescribeRegions"] = {"Count": 5, "PerSeconds": 10}
    return fleet


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


def send(http: httpx.Client, signed: Signed) -> httpx.Response:
    headers = dict(signed.headers)
    headers.pop("host", None)  # httpx sets Host itself (with the port): signatures use it verbatim
    return http.request(signed.method, "/?" + signed.query, headers=headers, content=signed.body)
