"""Transitions finish after their durations; StopInstance, StartInstance and AttachDisk follow their rules."""

from __future__ import annotations

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ImmediateClock, ManualClock, ScaledClock

from .conftest import disk, error_of, instance


def handle(backend: Backend, action: str, **params: str) -> dict[str, object]:
    return backend.handle(action, params, region_hint=None)


# --- transitions of the demo fleet's own transitional objects -------------------------------------


def test_transitional_objects_of_the_fleet_settle_after_their_durations(
    backend: Backend, clock: ManualClock
) -> None:
    assert disk(backend, "d-batch-04-input")["Status"] == "Attaching"
    assert disk(backend, "d-batch-03-scratch")["Status"] == "Detaching"
    assert instance(backend, "i-ci-runner-01")["Status"] == "Starting"
    clock.advance(15)
    assert instance(backend, "i-ci-runner-01")["Status"] == "Running"
    assert disk(backend, "d-batch-04-input")["Status"] == "Attaching"
    clock.advance(5)
    assert disk(backend, "d-batch-04-input")["Status"] == "In_use"
    clock.advance(40)
    scratch = disk(backend, "d-batch-03-scratch")
    assert scratch["Status"] == "Available"
    assert scratch["InstanceId"] == ""
    # The stuck ones are still under way an hour minus a second later.
    clock.advance(3600 - 61)
    assert instance(backend, "i-report-01")["Status"] == "Stopping"
    clock.advance(1)
    assert instance(backend, "i-report-01")["Status"] == "Stopped"


def test_backend_advance_works_on_any_clock() -> None:
    scaled = Backend("demo", ScaledClock(1.0))
    scaled.handle("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}, region_hint=None)
    scaled.advance(61)
    assert disk(scaled, "d-web-01-data")["Status"] == "Available"


def test_immediate_clock_finishes_everything_by_the_next_call() -> None:
    immediate = Backend("demo", ImmediateClock())
    immediate.handle("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}, region_hint=None)
    assert disk(immediate, "d-web-01-data")["Status"] == "Available"
    immediate.handle("StopInstance", {"InstanceId": "i-web-02"}, region_hint=None)
    assert instance(immediate, "i-web-02")["Status"] == "Stopped"


def test_manual_clock_refuses_to_go_backwards() -> None:
    with pytest.raises(ValueError, match="backwards"):
        ManualClock().advance(-1)


# --- StopInstance / StartInstance -----------------------------------------------------------------


def test_stop_then_start(backend: Backend, clock: ManualClock) -> None:
    assert (
        handle(backend, "StopInstance", InstanceId="i-web-01", StoppedMode="StopCharging", ForceStop="true")
        == {}
    )
    assert instance(backend, "i-web-01")["Status"] == "Stopping"
    assert error_of(backend, "StopInstance", {"InstanceId": "i-web-01"}).code == "IncorrectInstanceStatus"
    clock.advance(10)
    stopped = instance(backend, "i-web-01")
    assert (stopped["Status"], stopped["StoppedMode"]) == ("Stopped", "StopCharging")
    assert handle(backend, "StartInstance", InstanceId="i-web-01") == {}
    assert instance(backend, "i-web-01")["Status"] == "Starting"
    clock.advance(15)
    started = instance(backend, "i-web-01")
    assert (started["Status"], started["StoppedMode"]) == ("Running", "Not-applicable")


def test_stop_refusals(backend: Backend) -> None:
    # StopInstance's own table words the security lock differently from DetachDisk's.
    locked = error_of(backend, "StopInstance", {"InstanceId": "i-jump-01"})
    assert (locked.status, locked.code, locked.message) == (
        403,
        "InstanceLockedForSecurity",
        "The specified operation is denied as your instance is locked for security reasons.",
    )
    started = error_of(backend, "StartInstance", {"InstanceId": "i-jump-01"})
    assert (started.code, started.message) == ("InstanceLockedForSecurity", locked.message)
    stopped = error_of(backend, "StopInstance", {"InstanceId": "i-db-replica"})
    assert (stopped.status, stopped.code) == (403, "IncorrectInstanceStatus")
    assert error_of(backend, "StopInstance", {"InstanceId": "i-nope"}).code == "InvalidInstanceId.NotFound"
    missing = error_of(backend, "StopInstance", {})
    assert (missing.status, missing.code, missing.message) == (
        400,
        "MissingInstanceId",
        "InstanceId is mandatory for this action.",
    )
    assert error_of(backend, "StopInstance", {"InstanceId": "i-web-01", "StoppedMode": "Nap"}).status == 400
    assert error_of(backend, "StopInstance", {"InstanceId": "i-web-01", "ForceStop": "yes"}).status == 400


def test_dry_run_checks_without_changing_anything(backend: Backend) -> None:
    error = error_of(backend, "StopInstance", {"InstanceId": "i-web-01", "DryRun": "true"})
    assert (error.status, error.code) == (400, "DryRunOperation")
    assert instance(backend, "i-web-01")["Status"] == "Running"


def test_economical_mode_is_ignored_for_a_subscription_instance(backend: Backend, clock: ManualClock) -> None:
    backend.handle(
        "StopInstance", {"InstanceId": "i-erp-01", "StoppedMode": "StopCharging"}, region_hint=None
    )
    clock.advance(10)
    assert instance(backend, "i-erp-01")["StoppedMode"] == "KeepCharging"


def test_start_refusals(backend: Backend) -> None:
    no_system = error_of(backend, "StartInstance", {"InstanceId": "i-rescue-01"})
    assert (no_system.status, no_system.code, no_system.message) == (
        400,
        "InvalidInstance.NotFoundSystemDisk",
        "The specified instance does not have system disk.",
    )
    running = error_of(backend, "StartInstance", {"InstanceId": "i-web-01"})
    assert (running.status, running.code) == (403, "IncorrectInstanceStatus")
    stopping = error_of(backend, "StartInstance", {"InstanceId": "i-report-01"})
    assert stopping.code == "IncorrectInstanceStatus"


def test_an_instance_whose_system_disk_was_detached_cannot_start(
    backend: Backend, clock: ManualClock
) -> None:
    handle(backend, "DetachDisk", DiskId="d-db-replica-sys", InstanceId="i-db-replica")
    assert error_of(backend, "StartInstance", {"InstanceId": "i-db-replica"}).code == "InstanceNotReady"
    clock.advance(60)
    assert error_of(backend, "StartInstance", {"InstanceId": "i-db-replica"}).code == (
        "InvalidInstance.NotFoundSystemDisk"
    )


# --- AttachDisk -----------------------------------------------------------------------------------


def test_attach_a_data_disk(backend: Backend, clock: ManualClock) -> None:
    assert handle(backend, "AttachDisk", DiskId="d-spare-01", InstanceId="i-web-01") == {}
    attaching = disk(backend, "d-spare-01")
    assert (attaching["Status"], attaching["InstanceId"], attaching["Device"]) == (
        "Attaching",
        "i-web-01",
        "/dev/xvdd",
    )
    clock.advance(20)
    attached = disk(backend, "d-spare-01")
    assert attached["Status"] == "In_use"
    assert attached["AttachedTime"] == "2026-01-01T00:00:20Z"
    assert attached["DeleteWithInstance"] is False


def test_detach_then_reattach_round_trip(backend: Backend, clock: ManualClock) -> None:
    handle(backend, "DetachDisk", DiskId="d-web-01-data", InstanceId="i-web-01")
    clock.advance(60)
    handle(backend, "AttachDisk", DiskId="d-web-01-data", InstanceId="i-web-01", DeleteWithInstance="true")
    clock.advance(20)
    back = disk(backend, "d-web-01-data")
    assert (back["Status"], back["InstanceId"], back["DeleteWithInstance"]) == ("In_use", "i-web-01", True)


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"DiskId": "d-spare-01"}, 400, "MissingInstanceId"),
        ({"InstanceId": "i-web-01"}, 400, "MissingDiskId"),
        ({"DiskId": "d-spare-01", "InstanceId": "i-nope"}, 404, "InvalidInstanceId.NotFound"),
        ({"DiskId": "d-nope", "InstanceId": "i-web-01"}, 404, "InvalidDiskId.NotFound"),
        ({"DiskId": "d-spare-01", "InstanceId": "i-jump-01"}, 403, "InstanceLockedForSecurity"),
        ({"DiskId": "d-web-02-data", "InstanceId": "i-web-01"}, 403, "IncorrectDiskStatus"),
        ({"DiskId": "d-spare-03", "InstanceId": "i-web-01"}, 403, "ResourcesNotInSameZone"),
        ({"DiskId": "d-sh-spare-01", "InstanceId": "i-web-01"}, 403, "ResourcesNotInSameZone"),
        ({"DiskId": "d-spare-01", "InstanceId": "i-report-01"}, 400, "IncorrectInstanceStatus"),
        (
            {"DiskId": "d-spare-03", "InstanceId": "i-metal-01"},
            400,
            "InvalidOperation.InstanceTypeNotSupport",
        ),
        (
            {"DiskId": "d-spare-01", "InstanceId": "i-web-01", "Bootable": "true"},
            400,
            "InvalidDisk.DiskNotBootable",
        ),
        (
            {"DiskId": "d-rescue-01-sys", "InstanceId": "i-legacy-01", "Bootable": "true", "Password": "x"},
            400,
            "InvalidInstance.NotOriginInstance",
        ),
        (
            {"DiskId": "d-rescue-01-sys", "InstanceId": "i-rescue-01", "Bootable": "true"},
            403,
            "InvalidParameter.AllEmpty",
        ),
        ({"DiskId": "d-spare-01", "InstanceId": "i-web-01", "Bootable": "maybe"}, 400, "InvalidParameter"),
        (
            {"DiskId": "d-spare-01", "InstanceId": "i-web-01", "Device": "/dev/xvdb"},
            403,
            "InvalidDevice.InUse",
        ),
        ({"DiskId": "d-spare-01", "InstanceId": "i-web-01", "Device": "sda"}, 400, "InvalidParameter"),
        (
            {"DiskId": "d-spare-01", "InstanceId": "i-web-01", "RegionId": "nowhere"},
            400,
            "InvalidRegionId.MalFormed",
        ),
    ],
)
def test_attach_refusals(backend: Backend, params: dict[str, str], status: int, code: str) -> None:
    error = error_of(backend, "AttachDisk", params)
    assert (error.status, error.code) == (status, code)


def test_attach_system_disk_back_to_its_original_instance(backend: Backend, clock: ManualClock) -> None:
    params = {
        "DiskId": "d-rescue-01-sys",
        "InstanceId": "i-rescue-01",
        "Bootable": "True",
        "KeyPairName": "ops",
    }
    assert backend.handle("AttachDisk", params, region_hint="cn-hangzhou") == {}
    assert disk(backend, "d-rescue-01-sys")["Device"] == "/dev/xvda"
    assert error_of(backend, "StartInstance", {"InstanceId": "i-rescue-01"}).code == "InstanceNotReady"
    clock.advance(20)
    assert handle(backend, "StartInstance", InstanceId="i-rescue-01") == {}
    clock.advance(15)
    assert instance(backend, "i-rescue-01")["Status"] == "Running"


def test_attach_system_disk_needs_a_stopped_instance_without_one(
    backend: Backend, clock: ManualClock
) -> None:
    # The orphan system disk has no known origin: any instance of its zone qualifies, if stopped and empty.
    orphan = {"DiskId": "d-spare-sys-01", "Bootable": "true", "Password": "Secret#123"}
    running = error_of(backend, "AttachDisk", orphan | {"InstanceId": "i-db-primary"})
    assert (running.status, running.code) == (400, "IncorrectInstanceStatus")
    has_one = error_of(backend, "AttachDisk", orphan | {"InstanceId": "i-db-replica"})
    assert (has_one.status, has_one.code) == (403, "InvalidDevice.InUse")
    # After its own system disk is detached, db-replica takes the orphan as its system disk.
    handle(backend, "DetachDisk", DiskId="d-db-replica-sys", InstanceId="i-db-replica")
    clock.advance(60)
    assert backend.handle("AttachDisk", orphan | {"InstanceId": "i-db-replica"}, region_hint=None) == {}
    # ... and its old system disk now belongs to db-replica only.
    other = error_of(
        backend,
        "AttachDisk",
        {"DiskId": "d-db-replica-sys", "InstanceId": "i-db-primary", "Bootable": "true", "Password": "x"},
    )
    assert other.code == "InvalidInstance.NotOriginInstance"


def test_attach_multi_attach_disk(backend: Backend, clock: ManualClock) -> None:
    conflict = error_of(
        backend,
        "AttachDisk",
        {"DiskId": "d-cluster-shared", "InstanceId": "i-web-01", "DeleteWithInstance": "false"},
    )
    assert conflict.code == "DeleteWithInstance.Conflict"
    system = error_of(
        backend, "AttachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-web-01", "Bootable": "true"}
    )
    assert system.code == "InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk"
    again = error_of(backend, "AttachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-1"})
    assert again.code == "IncorrectDiskStatus"
    assert handle(backend, "AttachDisk", DiskId="d-cluster-shared", InstanceId="i-web-01") == {}
    clock.advance(20)
    shared = disk(backend, "d-cluster-shared")
    assert [a["InstanceId"] for a in shared["Attachments"]["Attachment"]] == [
        "i-cluster-node-1",
        "i-cluster-node-2",
        "i-web-01",
    ]
    assert shared["Status"] == "In_use"


def test_non_portable_and_arrears_disks_cannot_attach(backend: Backend, clock: ManualClock) -> None:
    fleet = backend.snapshot()
    for item in fleet["Disks"]:
        if item["DiskId"] == "d-spare-01":
            item["OperationLocks"] = {"OperationLock": [{"LockReason": "financial"}]}
        if item["DiskId"] == "d-spare-02":
            item["Portable"] = False
    backend.reset(fleet)
    assert (
        error_of(backend, "AttachDisk", {"DiskId": "d-spare-01", "InstanceId": "i-web-01"}).code
        == "DiskInArrears"
    )
    assert error_of(backend, "AttachDisk", {"DiskId": "d-spare-02", "InstanceId": "i-web-01"}).code == (
        "DiskNotPortable"
    )


def test_immediate_clock_also_finishes_the_fleets_long_transitions() -> None:
    immediate = Backend("demo", ImmediateClock())
    assert disk(immediate, "d-batch-07-scratch1")["Status"] == "Available"
    assert instance(immediate, "i-report-01")["Status"] == "Stopped"


def test_a_pending_stop_keeps_its_stopped_mode_across_a_snapshot(
    backend: Backend, clock: ManualClock
) -> None:
    backend.handle(
        "StopInstance", {"InstanceId": "i-web-01", "StoppedMode": "StopCharging"}, region_hint=None
    )
    clone = Backend(backend.snapshot(), ManualClock(start=clock.now()))
    clone.advance(10)
    assert instance(clone, "i-web-01")["StoppedMode"] == "StopCharging"


def test_a_pending_instance_becomes_running() -> None:
    fleet = {
        "Instances": [{"InstanceId": "i-new", "Status": "Pending"}],
        "Disks": [{"DiskId": "d-new", "InstanceId": "i-new", "Type": "system"}],
    }
    backend = Backend(fleet, ManualClock())
    snapshot = backend.snapshot()
    assert Backend(snapshot, ManualClock()).snapshot() == snapshot
    backend.advance(15)
    assert instance(backend, "i-new")["Status"] == "Running"


def test_a_multi_attach_disk_cannot_detach_from_an_instance_it_is_still_attaching_to(
    backend: Backend, clock: ManualClock
) -> None:
    handle(backend, "AttachDisk", DiskId="d-cluster-shared", InstanceId="i-web-01")
    assert disk(backend, "d-cluster-shared")["Status"] == "In_use"  # the other two attachments are in use
    error = error_of(backend, "DetachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-web-01"})
    assert (error.status, error.code) == (403, "IncorrectDiskStatus")
    clock.advance(20)
    assert handle(backend, "DetachDisk", DiskId="d-cluster-shared", InstanceId="i-web-01") == {}


def test_pending_transitions_list_what_is_under_way(backend: Backend, clock: ManualClock) -> None:
    handle(backend, "DetachDisk", DiskId="d-web-01-data", InstanceId="i-web-01")
    clock.advance(15)
    pending = backend.pending_transitions()
    assert {
        "Action": "DetachDisk",
        "InstanceId": "i-web-01",
        "DiskId": "d-web-01-data",
        "RemainingSeconds": 45,
    } in (pending)
    assert [p["RemainingSeconds"] for p in pending] == sorted(p["RemainingSeconds"] for p in pending)
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            backend.advance(bad)


def test_concurrent_calls_from_threads_stay_consistent(backend: Backend, clock: ManualClock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def detach(disk_id: str) -> str:
        try:
            backend.handle("DetachDisk", {"DiskId": disk_id, "InstanceId": "i-web-01"}, region_hint=None)
        except Exception as error:  # the test records, not raises
            return type(error).__name__ + ":" + getattr(error, "code", "")
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(detach, ["d-web-01-data"] * 16))
    assert results.count("ok") == 1
    assert set(results) == {"ok", "EmulatorError:InvalidOperation.DiskDetachingFromThisEcs"}
    clock.advance(60)
    assert disk(backend, "d-web-01-data")["Status"] == "Available"
