"""inventory(): a region's instance pages and disk pages are two chains fetched at the same time (so a fleet's
inventory takes about its longest chain of pages), and a region with one failing chain is still reported as
a whole, beside the others."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
import pytest

from ecs_detach.client import AsyncEcsClient, EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.errors import ServerError
from ecs_detach.retry import NO_RETRY

FIRST_PAGES = ("DescribeInstances", "DescribeDisks")


class MeetingTransport(httpx.BaseTransport):
    """Holds the first DescribeInstances and the first DescribeDisks until both have arrived: a client that
    fetched them one after the other would never get past the first (the barrier breaks instead)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(2, timeout=30)
        self.waited: set[str] = set()
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        action = request.headers.get("x-acs-action", "")
        with self.lock:
            first = action in FIRST_PAGES and action not in self.waited
            self.waited.add(action)
        if first:
            self.barrier.wait()
        response: httpx.Response = self.inner.handle_request(request)
        return response


class AsyncMeetingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.arrived: set[str] = set()
        self.both = anyio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        action = request.headers.get("x-acs-action", "")
        if action in FIRST_PAGES and action not in self.arrived:
            self.arrived.add(action)
            if self.arrived == set(FIRST_PAGES):
                self.both.set()
            with anyio.fail_after(30):
                await self.both.wait()
        response: httpx.Response = await self.inner.handle_async_request(request)
        return response


def fleet() -> dict[str, Any]:
    return generate_fleet(instances=250, disks=600, regions=3, seed=4)


def test_instances_and_disks_of_one_region_are_fetched_at_the_same_time() -> None:
    emulator = Emulator(fleet=fleet(), clock=ManualClock())
    transport = MeetingTransport(emulator.transport())
    with EcsClient.for_emulator(emulator, transport=transport) as client:
        region = emulator.state()["Regions"][0]["RegionId"]
        inventory = client.inventory([region], concurrency=2)
        assert inventory.complete
        state = emulator.state()
        assert [i.instance_id for i in inventory.instances] == [
            i["InstanceId"] for i in state["Instances"] if i["RegionId"] == region
        ]
        assert len(inventory.disks) == len(client.list_disks(region_id=region))


@pytest.mark.anyio
async def test_async_instances_and_disks_of_one_region_are_fetched_at_the_same_time() -> None:
    emulator = Emulator(fleet=fleet(), clock=ManualClock())
    transport = AsyncMeetingTransport(emulator.transport())
    async with AsyncEcsClient.for_emulator(emulator, transport=transport) as client:
        region = emulator.state()["Regions"][1]["RegionId"]
        inventory = await client.inventory([region], concurrency=2)
        assert inventory.complete and inventory.instances and inventory.disks
        assert {d.region_id for d in inventory.disks} == {region}


def test_whole_fleet_in_region_order_and_every_object_once() -> None:
    emulator = Emulator(fleet=fleet(), clock=ManualClock())
    with EcsClient.for_emulator(emulator) as client:
        inventory = client.inventory()
    state = emulator.state()
    assert inventory.regions == tuple(r["RegionId"] for r in state["Regions"])
    assert sorted(i.instance_id for i in inventory.instances) == sorted(
        i["InstanceId"] for i in state["Instances"]
    )
    assert sorted(d.disk_id for d in inventory.disks) == sorted(d["DiskId"] for d in state["Disks"])
    order = [i.region_id for i in inventory.instances]
    assert order == sorted(order, key=inventory.regions.index)


def test_disks_come_in_the_largest_pages_the_api_allows_and_the_repr_counts() -> None:
    two_regions = generate_fleet(instances=300, disks=1_200, regions=2, seed=5)
    emulator = Emulator(fleet=two_regions, clock=ManualClock())
    with EcsClient.for_emulator(emulator) as client:
        inventory = client.inventory()
    pages = [r["params"] for r in emulator.requests if r["action"] == "DescribeDisks"]
    assert {p["MaxResults"] for p in pages} == {"500"}
    assert len(pages) == 4  # 2 regions of 600 disks: 500 + 100 each
    regions = list(inventory.regions)
    assert repr(inventory) == f"Inventory(300 instances, 1200 disks, regions={regions})"


def test_a_region_whose_disks_fail_is_reported_whole_beside_the_others() -> None:
    emulator = Emulator(fleet=fleet(), clock=ManualClock())
    regions = [r["RegionId"] for r in emulator.state()["Regions"]]
    with EcsClient.for_emulator(emulator, retry=NO_RETRY) as client:
        expected = {region: len(client.list_instances(region_id=region)) for region in regions}
        emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["DescribeDisks"])
        inventory = client.inventory(regions[:1])
        emulator.clear_faults()
        assert set(inventory.errors) == {regions[0]}
        assert isinstance(inventory.errors[regions[0]], ServerError)
        assert inventory.instances == () and inventory.disks == ()
        rest = client.inventory(regions[1:])
    assert rest.complete and len(rest.instances) == expected[regions[1]] + expected[regions[2]]
