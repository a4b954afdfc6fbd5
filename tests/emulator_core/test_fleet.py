"""Fleet files: defaults, validation messages, settings, snapshots that round-trip, generated fleets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.fleet import (
    EMULATOR_ACCESS_KEY_ID,
    EMULATOR_ACCESS_KEY_SECRET,
    AccessKey,
    EmulatorSettings,
    FleetError,
    load_fleet,
    settings_of,
)
from ecs_detach.emulator.generate import generate_fleet

from .conftest import disk, error_of, instance

MINIMAL = {
    "Instances": [
        {"InstanceId": "i-a"},
        {"InstanceId": "i-b", "Status": "Stopped", "ZoneId": "cn-shanghai-l"},
    ],
    "Disks": [
        {"DiskId": "d-a-sys", "InstanceId": "i-a", "Type": "system"},
        {"DiskId": "d-a-data", "InstanceId": "i-a"},
        {"DiskId": "d-loose"},
        {"DiskId": "d-local", "InstanceId": "i-b", "Category": "local_ssd_pro"},
    ],
}


def test_a_minimal_fleet_gets_sensible_defaults() -> None:
    fleet = load_fleet(MINIMAL)
    assert [r["RegionId"] for r in fleet["Regions"]] == ["cn-hangzhou", "cn-shanghai"]
    a, b = fleet["Instances"]
    assert (a["RegionId"], a["ZoneId"], a["Status"], a["InstanceName"]) == (
        "cn-hangzhou",
        "cn-hangzhou-a",
        "Running",
        "i-a",
    )
    assert (b["RegionId"], b["StoppedMode"]) == ("cn-shanghai", "KeepCharging")
    sys_disk, data, loose, local = fleet["Disks"]
    assert (sys_disk["Status"], sys_disk["Device"], sys_disk["DeleteWithInstance"], sys_disk["Size"]) == (
        "In_use",
        "/dev/xvda",
        True,
        40,
    )
    assert sys_disk["ImageId"] == a["ImageId"]
    assert (data["Type"], data["Device"], data["DeleteWithInstance"], data["Portable"]) == (
        "data",
        "/dev/xvdb",
        False,
        True,
    )
    assert (loose["Status"], loose["InstanceId"], loose["RegionId"]) == ("Available", "", "cn-hangzhou")
    assert (local["Portable"], local["ZoneId"]) == (False, "cn-shanghai-l")
    assert fleet["Emulator"]["Durations"] == {
        "DetachDisk": 60,
        "AttachDisk": 20,
        "StopInstance": 10,
        "StartInstance": 15,
        "CreateSnapshot": 40,
        "RunCommand": 2,
    }


def test_loading_is_idempotent_and_does_not_touch_the_input() -> None:
    original = json.loads(json.dumps(MINIMAL))
    fleet = load_fleet(MINIMAL)
    assert original == MINIMAL
    assert load_fleet(fleet) == fleet


def test_load_from_a_path_a_string_and_demo(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert load_fleet(path) == load_fleet(str(path)) == load_fleet(MINIMAL)
    demo = load_fleet("demo")
    assert len(demo["Regions"]) == 3
    assert 30 <= len(demo["Instances"]) <= 60 and 80 <= len(demo["Disks"]) <= 130


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ([], "a fleet is 'demo', a path or a mapping, not a list"),
        ({"Instance": []}, "unknown top-level key 'Instance'"),
        (
            {"Instances": [{"InstanceName": "x"}]},
            "Instances[0].InstanceId: every instance needs a non-empty InstanceId",
        ),
        (
            {"Instances": [{"InstanceId": "i-a"}, {"InstanceId": "i-a"}]},
            "Instances[1]: InstanceId 'i-a' appears twice",
        ),
        (
            {"Instances": [{"InstanceId": "i-a", "Status": "Sleeping"}]},
            "Instances[0] (i-a).Status: 'Sleeping' is not",
        ),
        ({"Instances": [{"InstanceId": "i-a", "OperationLocks": ["angry"]}]}, "'angry' is not a lock reason"),
        (
            {"Disks": [{"DiskId": "d-a", "InstanceId": "i-nope"}]},
            "Disks[0] (d-a): InstanceId 'i-nope' is not an instance",
        ),
        ({"Disks": [{"DiskId": "d-a", "Type": "boot"}]}, "Disks[0] (d-a).Type: expected 'system' or 'data'"),
        ({"Disks": [{"DiskId": "d-a", "Size": "big"}]}, "Disks[0] (d-a).Size: expected an integer"),
        ({"Disks": [{"DiskId": "d-a", "Status": "In_use"}]}, "Status In_use needs the InstanceId"),
        (
            {
                "Instances": [{"InstanceId": "i-a"}],
                "Disks": [{"DiskId": "d-a", "InstanceId": "i-a", "Status": "Available"}],
            },
            "Status Available but attached to i-a",
        ),
        (
            {
                "Instances": [{"InstanceId": "i-a"}],
                "Disks": [
                    {"DiskId": "d-1", "InstanceId": "i-a", "Type": "system"},
                    {"DiskId": "d-2", "InstanceId": "i-a", "Type": "system"},
                ],
            },
            "instance i-a already has system disk d-1",
        ),
        (
            {
                "Instances": [{"InstanceId": "i-a", "ZoneId": "cn-hangzhou-h"}],
                "Disks": [{"DiskId": "d-a", "InstanceId": "i-a", "ZoneId": "cn-hangzhou-i"}],
            },
            "a disk attaches only to instances of its own zone",
        ),
        (
            {"Regions": ["cn-hangzhou"], "Instances": [{"InstanceId": "i-a", "RegionId": "cn-beijing"}]},
            "RegionId 'cn-beijing' is not one of the fleet's Regions",
        ),
        ({"Emulator": {"Duration": {}}}, "Emulator: unknown key 'Duration'"),
        ({"Emulator": {"Durations": {"DetachDisk": -1}}}, "Emulator.Durations.DetachDisk: expected a number"),
        ({"Emulator": {"MaxDetachingDisksPerInstance": 0}}, "Emulator.MaxDetachingDisksPerInstance"),
        ({"Emulator": {"RateLimits": {"DetachDisk": {"Count": 0}}}}, "Emulator.RateLimits.DetachDisk.Count"),
        ({"Emulator": {"AccessKeys": [{"AccessKeyId": "k"}]}}, "Emulator.AccessKeys[0].AccessKeySecret"),
        (
            {"Emulator": {"PendingTransitions": [{"Action": "Explode"}]}},
            "Emulator.PendingTransitions[0].Action",
        ),
    ],
)
def test_validation_says_what_is_wrong_and_where(fleet: Any, message: str) -> None:
    with pytest.raises(FleetError) as caught:
        load_fleet(fleet)
    assert message in str(caught.value)


def test_file_errors_are_fleet_errors(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="no such fleet file"):
        load_fleet(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{ nope", encoding="utf-8")
    with pytest.raises(FleetError, match=r"not valid JSON: .* line 1"):
        load_fleet(broken)


def test_settings_defaults_and_knobs() -> None:
    defaults = EmulatorSettings.from_section(None)
    assert defaults.default_region == "cn-hangzhou"
    assert defaults.detach_seconds == 60
    assert defaults.rate_limits == {"DetachDisk": (500, 60.0)}
    assert defaults.access_keys == {EMULATOR_ACCESS_KEY_ID: AccessKey(EMULATOR_ACCESS_KEY_SECRET, False)}
    settings = settings_of(load_fleet("demo"))
    assert settings.max_detaching_per_instance == 2
    assert settings.access_keys["LTAI5tEmulatorReadOnly"].read_only is True
    assert settings.access_keys[EMULATOR_ACCESS_KEY_ID].secret == EMULATOR_ACCESS_KEY_SECRET
    assert "secret" not in repr(settings.access_keys["LTAI5tEmulatorReadOnly"]).replace("secret='***'", "")
    custom = EmulatorSettings.from_section(
        {
            "RateLimits": {"DetachDisk": None, "DescribeDisks": {"Count": 5, "PerSeconds": 1}},
            "DefaultRegion": "cn-beijing",
        }
    )
    assert custom.rate_limits == {"DescribeDisks": (5, 1.0)}
    assert EmulatorSettings.from_section(custom.to_section()) == custom


def test_snapshot_round_trips_with_transitions_under_way(backend: Backend, clock: ManualClock) -> None:
    backend.handle("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}, region_hint=None)
    backend.handle(
        "DetachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-2"}, region_hint=None
    )
    backend.handle(
        "DetachDisk", {"DiskId": "d-db-replica-sys", "InstanceId": "i-db-replica"}, region_hint=None
    )
    backend.handle("StopInstance", {"InstanceId": "i-web-02"}, region_hint=None)
    clock.advance(30)
    snapshot = backend.snapshot()
    assert load_fleet(snapshot) == snapshot
    assert json.loads(json.dumps(snapshot)) == snapshot
    pending = {
        (p["Action"], p.get("DiskId", ""), p["InstanceId"]): p["RemainingSeconds"]
        for p in snapshot["Emulator"]["PendingTransitions"]
    }
    assert pending[("DetachDisk", "d-web-01-data", "i-web-01")] == 30
    assert ("StopInstance", "", "i-web-02") not in pending  # it stopped 20 s ago

    clone = Backend(snapshot, ManualClock(start=clock.now()))
    assert clone.snapshot() == snapshot
    for other in (backend, clone):
        other.advance(30)
    assert clone.snapshot() == backend.snapshot()
    assert disk(clone, "d-web-01-data")["Status"] == "Available"
    assert [a["InstanceId"] for a in disk(clone, "d-cluster-shared")["Attachments"]["Attachment"]] == [
        "i-cluster-node-1"
    ]
    # The system disk remembers its original instance across the snapshot.
    assert (
        error_of(
            clone,
            "AttachDisk",
            {"DiskId": "d-db-replica-sys", "InstanceId": "i-db-primary", "Bootable": "true", "Password": "x"},
        ).code
        == "InvalidInstance.NotOriginInstance"
    )


def test_reset_replaces_the_state(backend: Backend) -> None:
    backend.handle("StopInstance", {"InstanceId": "i-web-01"}, region_hint=None)
    backend.reset(MINIMAL)
    assert (
        backend.handle("DescribeInstances", {"RegionId": "cn-hangzhou"}, region_hint=None)["TotalCount"] == 1
    )
    backend.reset("demo")
    assert instance(backend, "i-web-01")["Status"] == "Running"
    with pytest.raises(FleetError):
        backend.reset({"Disks": "nope"})
    assert instance(backend, "i-web-01")["Status"] == "Running"


def test_the_host_hears_of_every_fleet_put_in_place() -> None:
    from ecs_detach.emulator import Emulator

    calls: list[str] = []
    emulator = Emulator(MINIMAL, ManualClock(), on_state_loaded=lambda: calls.append("loaded"))
    assert calls == ["loaded"]
    emulator.reset("demo")
    assert calls == ["loaded", "loaded"]
    with pytest.raises(FleetError):
        emulator.reset({"Disks": "nope"})
    assert calls == ["loaded", "loaded"]  # a fleet that did not load put nothing in place


def test_generated_fleet_is_deterministic_and_loads() -> None:
    small = generate_fleet(instances=200, disks=500, regions=5, seed=3)
    assert small == generate_fleet(instances=200, disks=500, regions=5, seed=3)
    assert small != generate_fleet(instances=200, disks=500, regions=5, seed=4)
    fleet = load_fleet(small)
    assert (len(fleet["Instances"]), len(fleet["Disks"]), len(fleet["Regions"])) == (200, 500, 5)
    systems = [d for d in fleet["Disks"] if d["Type"] == "system"]
    assert len(systems) == 200
    backend = Backend(fleet, ManualClock())
    region = fleet["Regions"][1]["RegionId"]
    body = backend.handle("DescribeDisks", {"RegionId": region, "MaxResults": "500"}, region_hint=None)
    assert body["TotalCount"] == sum(1 for d in fleet["Disks"] if d["RegionId"] == region)


def test_the_default_generated_fleet_is_big_and_loads() -> None:
    fleet = generate_fleet()
    assert (len(fleet["Instances"]), len(fleet["Disks"]), len(fleet["Regions"])) == (10_000, 20_000, 20)
    backend = Backend(fleet, ManualClock())
    body = backend.handle(
        "DescribeInstances", {"RegionId": "cn-hangzhou", "MaxResults": "100"}, region_hint=None
    )
    assert body["TotalCount"] == 500
    assert len(body["Instances"]["Instance"]) == 100


def test_a_fresh_backend_snapshot_is_the_loaded_fleet() -> None:
    fleet = load_fleet("demo")
    snapshot = Backend(fleet, ManualClock()).snapshot()
    assert snapshot["Instances"] == fleet["Instances"]
    assert snapshot["Disks"] == fleet["Disks"]
    assert snapshot["Regions"] == fleet["Regions"]


@pytest.mark.parametrize(("instances", "disks", "regions"), [(0, 0, 1), (0, 5, 2), (50, 10, 30), (3, 100, 1)])
def test_generated_fleets_of_odd_sizes_load(instances: int, disks: int, regions: int) -> None:
    fleet = load_fleet(generate_fleet(instances=instances, disks=disks, regions=regions, seed=1))
    sizes = (len(fleet["Instances"]), len(fleet["Disks"]), len(fleet["Regions"]))
    assert sizes == (instances, disks, regions)
