"""The demo fleet has every case README-demo.md promises, and ships as package data."""

from __future__ import annotations

import re
from importlib import resources

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.errors import EmulatorError
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


def _pairs_in_readme() -> list[tuple[str, dict[str, str], str]]:
    """(row, params, expected code or "ok") for every line of README-demo.md's DetachDisk table."""
    readme = (
        resources.files("ecs_detach.emulator").joinpath("data", "README-demo.md").read_text(encoding="utf-8")
    )
    table = readme.split("## DetachDisk: which pair shows which row", 1)[1].split("\n## ", 1)[0]
    pairs = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not (cells[0].isdigit() or cells[0] == "ok"):
            continue
        row, disk_cell, instance_cell, answer = cells
        disks = disk_cell.split(" / ")
        instances = instance_cell.split(" / ")
        for disk_part, instance_part in zip(disks, instances * len(disks), strict=False):
            disk_ids = re.findall(r"`(d-[\w-]+)`", disk_part)
            instance_ids = re.findall(r"`(i-[\w-]+)`", instance_part)
            params = {"InstanceId": instance_ids[0]} if instance_ids else {}
            if disk_ids:
                params["DiskId"] = disk_ids[0]
            if not instance_ids and "their instance" in instance_part:
                continue  # "d-web-01-data, ... | their instance": covered by the other tests
            extra = re.search(r"`RegionId=([\w-]+)`", disk_part + instance_part)
            if extra:
                params["RegionId"] = extra.group(1)
            if "with `DeleteWithInstance`" in disk_part:
                params["DeleteWithInstance"] = "true"
            code = re.search(r"`([\w.]+)`", answer)
            pairs.append((row, params, code.group(1) if code and row != "ok" else "ok"))
    return pairs


def test_every_line_of_the_readme_table_is_what_the_emulator_answers() -> None:
    pairs = _pairs_in_readme()
    assert {row for row, _, _ in pairs} >= {str(n) for n in range(1, 19)} | {"ok"}
    for row, params, expected in pairs:
        backend = Backend("demo", ManualClock())
        try:
            backend.handle("DetachDisk", params, region_hint=None)
            answer = "ok"
        except EmulatorError as error:
            answer = error.code
        assert answer == expected, (row, params)
