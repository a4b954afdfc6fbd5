"""The in-process transport: sync and async, any Host, real-network errors for dropped connections."""

from __future__ import annotations

import httpx
import pytest
from gw_signing import send, v3

from ecs_detach.emulator import Emulator


def test_any_host_works_and_names_the_region(emulator: Emulator) -> None:
    with httpx.Client(
        transport=emulator.transport(), base_url="https://ecs.ap-southeast-1.aliyuncs.com"
    ) as client:
        signed = v3(
            "DescribeInstanceAttribute", {"InstanceId": "i-sg-api-01"}, host="ecs.ap-southeast-1.aliyuncs.com"
        )
        assert send(client, signed).json()["InstanceId"] == "i-sg-api-01"


@pytest.mark.parametrize("kind", ["reset", "lost_response"])
def test_dropped_connections_raise_a_network_error(
    emulator: Emulator, client: httpx.Client, kind: str
) -> None:
    emulator.set_faults(rate=1.0, kinds=[kind], actions=["DetachDisk"])
    with pytest.raises(httpx.ReadError):
        send(client, v3("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}))
    emulator.clear_faults()
    listed = send(client, v3("DescribeDisks", {"RegionId": "cn-hangzhou", "DiskIds": '["d-web-01-data"]'}))
    status = listed.json()["Disks"]["Disk"][0]["Status"]
    assert status == ("In_use" if kind == "reset" else "Detaching")


@pytest.mark.anyio
async def test_dropped_connections_raise_in_async_clients_too(emulator: Emulator) -> None:
    emulator.set_faults(rate=1.0, kinds=["reset"])
    signed = v3("DescribeRegions")
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://127.0.0.1") as client:
        with pytest.raises(httpx.ReadError):
            await client.post(
                "/?" + signed.query, headers={k: v for k, v in signed.headers.items() if k != "host"}
            )


def test_latency_is_a_fixed_delay_on_every_reply(emulator: Emulator) -> None:
    emulator.set_faults(latency_ms=50)
    signed = v3("DescribeRegions")
    reply = emulator.gateway.dispatch("POST", "/", signed.query, list(signed.headers.items()), b"")
    assert (reply.status, reply.delay) == (200, 0.05)
    bad = emulator.gateway.dispatch("POST", "/", "", [], b"")
    assert (bad.status, bad.delay) == (400, 0.05)  # refusals are delayed too
    emulator.set_faults(latency_ms=50, actions=["DetachDisk"])
    signed = v3("DescribeRegions")
    assert (
        emulator.gateway.dispatch("POST", "/", signed.query, list(signed.headers.items()), b"").delay == 0.0
    )
    emulator.clear_faults()
    signed = v3("DescribeRegions")
    assert (
        emulator.gateway.dispatch("POST", "/", signed.query, list(signed.headers.items()), b"").delay == 0.0
    )


def test_the_control_api_is_reachable_in_process(emulator: Emulator, client: httpx.Client) -> None:
    assert client.get("/_emulator/health").json()["status"] == "ok"
    assert client.post("/_emulator/clock", json={"advance_seconds": 5}).status_code == 200
    assert client.post("/_emulator/faults", json={"rate": 0.5, "seed": 1}).json()["faults"]["rate"] == 0.5
    assert emulator.faults.rate == 0.5


def test_seeded_faults_repeat_in_process(emulator: Emulator, client: httpx.Client) -> None:
    def run() -> list[int]:
        emulator.set_faults(rate=0.4, seed=11, actions=["DescribeInstances"])
        return [
            send(client, v3("DescribeInstances", {"RegionId": "cn-hangzhou"})).status_code for _ in range(25)
        ]

    assert run() == run()


@pytest.mark.anyio
async def test_a_bug_in_the_emulator_is_a_500_reply_not_a_crash(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(emulator.gateway, "dispatch", broken)
    transport = httpx.ASGITransport(app=emulator.asgi_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/?Action=DescribeRegions")
    assert (response.status_code, response.json()["Code"]) == (500, "InternalError")
