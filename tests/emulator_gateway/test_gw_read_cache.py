"""The gateway's cache of encoded read replies: the same bytes as encoding afresh, and never stale (every
mutation, transition, clock move that fires one, and reset shows in the very next read)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.emulator.wire import encode_body, success_response, success_response_encoded
from ecs_detach.errors import ApiError

DATA_DISK, INSTANCE = "d-web-01-data", "i-web-01"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {
            "RequestId": "ignored",
            "Regions": {"Region": [{"RegionId": "cn-hangzhou", "LocalName": "华东1（杭州）"}]},
        },
        {"TotalCount": 0, "NextToken": "", "Disks": {"Disk": []}},
    ],
)
def test_encoded_reply_is_byte_for_byte_the_plain_one(body: dict[str, Any]) -> None:
    plain = success_response("DescribeRegions", body, "REQ-1")
    cached = success_response_encoded(encode_body(body), "REQ-1")
    assert (cached.status, cached.headers, cached.body) == (plain.status, plain.headers, plain.body)
    assert json.loads(cached.body)["RequestId"] == "REQ-1"


def status(client: EcsClient) -> str:
    return client.get_disk(DATA_DISK).status


def test_every_change_shows_in_the_next_read() -> None:
    clock = ManualClock()
    emulator = Emulator(fleet="demo", clock=clock)
    with EcsClient.for_emulator(emulator) as client:
        assert status(client) == status(client) == "In_use"
        client.detach_disk(DATA_DISK, INSTANCE)
        assert status(client) == status(client) == "Detaching"
        clock.advance(3600)  # the clock itself, not emulator.advance(): the due transition fires on the read
        assert status(client) == status(client) == "Available"
        client.attach_disk(DATA_DISK, INSTANCE)
        assert status(client) == "Attaching"
        emulator.reset()
        assert status(client) == status(client) == "In_use"
        request_ids = {r["request_id"] for r in emulator.requests}
        assert len(request_ids) == len(emulator.requests)  # a cached reply still gets its own RequestId


def test_cached_replies_always_match_the_state_under_random_calls() -> None:
    rng = random.Random(11)
    emulator = Emulator(fleet=generate_fleet(instances=30, disks=80, regions=2, seed=9), clock=ManualClock())
    regions = [r["RegionId"] for r in emulator.state()["Regions"]]
    with EcsClient.for_emulator(emulator) as client:
        detached = reads = 0
        for _ in range(120):
            roll = rng.random()
            state = emulator.state()
            if roll < 0.25:
                attached = [d for d in state["Disks"] if d["Type"] == "data" and d.get("InstanceId")]
                if attached:
                    disk = rng.choice(attached)
                    params = {"DiskId": disk["DiskId"], "InstanceId": disk["InstanceId"]}
                    try:
                        client.call("DetachDisk", params, region_id=disk["RegionId"])
                        detached += 1
                    except ApiError:
                        pass  # a refusal (locked, not running, ...) changes nothing: reads must say so too
            elif roll < 0.4:
                emulator.advance(rng.choice((1, 30, 120)))
            else:
                region = rng.choice(regions)
                params = {"RegionId": region, "MaxResults": "100"}
                seen = client.call("DescribeDisks", params, region_id=region)
                truth = emulator.backend.handle("DescribeDisks", params, region_hint=None)
                assert {k: v for k, v in seen.items() if k != "RequestId"} == truth
                reads += 1
    assert detached > 5 and reads > 30
