"""Describe* on a generated multi-region fleet: each region's pages hold exactly its objects, in fleet order,
and a reply never shares dicts with the emulator's state (the per-region index and the fast page copy behind
the benchmarks' figures must not change what callers see)."""

from __future__ import annotations

from typing import Any

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.generate import generate_fleet


def walk(backend: Backend, action: str, outer: str, inner: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        body = backend.handle(action, {"MaxResults": "100", "NextToken": token, **params}, region_hint=None)
        items += body[outer][inner]
        token = body["NextToken"]
        if not token:
            return items


def test_pages_of_each_region_hold_exactly_its_objects_in_fleet_order() -> None:
    fleet = generate_fleet(instances=300, disks=700, regions=4, seed=3)
    backend = Backend(fleet, ManualClock())
    state = backend.snapshot()
    owner = {i["InstanceId"]: i["RegionId"] for i in state["Instances"]}
    for region in (r["RegionId"] for r in state["Regions"]):
        disks = walk(backend, "DescribeDisks", "Disks", "Disk", RegionId=region)
        instances = walk(backend, "DescribeInstances", "Instances", "Instance", RegionId=region)
        assert [d["DiskId"] for d in disks] == [
            d["DiskId"] for d in state["Disks"] if (d.get("RegionId") or owner[d["InstanceId"]]) == region
        ]
        assert [i["InstanceId"] for i in instances] == [
            i["InstanceId"] for i in state["Instances"] if i["RegionId"] == region
        ]
        assert disks == [d for d in state["Disks"] if d["DiskId"] in {x["DiskId"] for x in disks}]


def test_filters_still_apply_within_the_region() -> None:
    backend = Backend(generate_fleet(instances=200, disks=500, regions=3, seed=5), ManualClock())
    region = backend.snapshot()["Regions"][1]["RegionId"]
    everything = walk(backend, "DescribeDisks", "Disks", "Disk", RegionId=region)
    system = walk(backend, "DescribeDisks", "Disks", "Disk", RegionId=region, DiskType="system")
    assert system == [d for d in everything if d["Type"] == "system"]
    assert 0 < len(system) < len(everything)


def test_a_reply_is_a_copy_changing_it_changes_nothing() -> None:
    backend = Backend(generate_fleet(instances=20, disks=40, regions=2, seed=1), ManualClock())
    region = backend.snapshot()["Regions"][0]["RegionId"]
    body = backend.handle("DescribeDisks", {"RegionId": region, "MaxResults": "10"}, region_hint=None)
    first = body["Disks"]["Disk"][0]
    first["Status"] = "Tampered"
    first["Attachments"]["Attachment"].clear()
    again = backend.handle("DescribeDisks", {"RegionId": region, "MaxResults": "10"}, region_hint=None)
    assert again["Disks"]["Disk"][0]["Status"] != "Tampered"
    assert again["Disks"]["Disk"][0]["Attachments"]["Attachment"]
    page = {"RegionId": region, "MaxResults": "10"}
    instances = backend.handle("DescribeInstances", page, region_hint=None)
    instances["Instances"]["Instance"][0]["Tags"]["Tag"].append({"TagKey": "x", "TagValue": "y"})
    fresh = backend.handle("DescribeInstances", page, region_hint=None)
    assert {"TagKey": "x", "TagValue": "y"} not in fresh["Instances"]["Instance"][0]["Tags"]["Tag"]


def test_a_detach_shows_in_the_next_page() -> None:
    backend = Backend(generate_fleet(instances=10, disks=30, regions=1, seed=2), ManualClock())
    state = backend.snapshot()
    data = next(d for d in state["Disks"] if d["Type"] == "data" and d.get("InstanceId"))
    params = {"DiskId": data["DiskId"], "InstanceId": data["InstanceId"]}
    backend.handle("DetachDisk", params, region_hint=None)
    disks = walk(backend, "DescribeDisks", "Disks", "Disk", RegionId=state["Regions"][0]["RegionId"])
    assert next(d for d in disks if d["DiskId"] == data["DiskId"])["Status"] == "Detaching"
