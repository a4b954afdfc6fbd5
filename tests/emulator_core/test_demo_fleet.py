"""The demo fleet has every case README-demo.md promises, and ships as package data."""

from __future__ import annotations

from importlib import resources

from ecs_detach.emulator.fleet import load_fleet


def test_demo_fleet_covers_the_promised_cases() -> None:
    fleet = load_fleet("demo")
    instances = {i["InstanceId"]: i for i in fleet["Instances"]}
    disks = {d["DiskId"]: d for d in fleet["Disks"]}
    assert {r["RegionId"] for r in fleet["Regions"]} == {"cn-hangzhou", "cn-shanghai", "ap-southeast-1"}
    locks = {lock["LockReason"] for i in instances.values() for lock in i["OperationLocks"]["LockReason"]}
    assert locks == {"financial", "security", "recycling", "dedicatedhostfinancial", "refunded"}
    shared = disks["d-cluster-shared"]
    assert shared["MultiAttach"] == "Enabled"
    assert len(shared["Attachments"]["Attachment"]) == 2
    assert any(d["Category"].startswith("local_") and not d["Portable"] for d in disks.values())
    assert any(
        d["DiskChargeType"] == "PrePaid" and d["Type"] == "data" and not d["Portable"] for d in disks.values()
    )
    statuses = {d["Status"] for d in disks.values()}
    assert {"In_use", "Available", "Attaching", "Detaching"} <= statuses
    with_system = {
        a["InstanceId"]
        for d in disks.values()
        if d["Type"] == "system"
        for a in d["Attachments"]["Attachment"]
    }
    assert instances["i-rescue-01"]["Status"] == "Stopped" and "i-rescue-01" not in with_system
    assert instances["i-db-replica"]["Status"] == "Stopped" and "i-db-replica" in with_system
    names = {i["InstanceName"] for i in instances.values()}
    assert {"web-01", "db-primary", "batch-07"} <= names


def test_demo_fleet_and_its_readme_are_package_data() -> None:
    data = resources.files("ecs_detach.emulator").joinpath("data")
    assert data.joinpath("demo_fleet.json").is_file()
    readme = data.joinpath("README-demo.md").read_text(encoding="utf-8")
    for row in range(1, 19):
        assert f"\n| {row} |" in readme
