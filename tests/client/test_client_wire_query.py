"""The query on the wire: RFC 3986-encoded once, by the client (``+`` is never a space, ``*`` is ``%2A``), and
left exactly as sent by the signer; the emulator reads back the values the caller gave."""

from __future__ import annotations

import httpx

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock

AWKWARD = "web 01*+/~é中"


class Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.queries: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(request.url.query)
        return self.inner.handle_request(request)


def test_values_reach_the_api_unchanged_and_rfc3986_encoded() -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    transport = Recording(emulator.transport())
    for signature in ("v3", "v1"):
        with EcsClient.for_emulator(emulator, transport=transport, signature=signature) as client:
            assert client.list_disks(disk_name=AWKWARD) == []
        assert emulator.requests[-1]["params"]["DiskName"] == AWKWARD
        assert emulator.requests[-1]["status"] == 200
        sent = transport.queries[-1].decode("ascii")
        assert "DiskName=web%2001%2A%2B%2F~%C3%A9%E4%B8%AD" in sent
        assert "+" not in sent


def test_a_call_without_parameters_but_the_region() -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    transport = Recording(emulator.transport())
    with EcsClient.for_emulator(emulator, transport=transport) as client:
        assert client.describe_regions()
    assert transport.queries[-1].decode("ascii").startswith("RegionId=cn-hangzhou")
