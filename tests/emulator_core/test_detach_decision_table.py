"""DetachDisk answers each row of the design's decision table with the reference's status, code, message."""

from __future__ import annotations

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.fleet import load_fleet

from .conftest import disk, error_of

M = {
    "InvalidParameter": "The input parameter is mandatory for processing this request is empty.",
    "InvalidRegionId.MalFormed": "The specified RegionId is not valid.",  # today's page ends it with "."
    "InvalidInstanceId.NotFound": "The specified InstanceId does not exist.",
    "InvalidDiskId.NotFound": "The specified disk does not exist.",
    "InstanceLockedForSecurity": "The instance is locked due to security.",
    "DeleteWithInstance.Conflict": "Multi attach disk cannot be set to DeleteWithInstance attribute.",
    "InvalidDisk.AlreadyDetached": "The specified disk has been detached.",
    "DependencyViolation": "The specified disk has not been attached on the specified instance.",
    "InvalidOperation.DiskDetachingFromThisEcs": "The specified disk is detaching from this ecs.",
    "DiskNotPortable": "The specified disk is not a portable disk.",
    "UserNotInTheWhiteList": "The user is not in disk white list.",
    "IncorrectDiskStatus": "The current disk status does not support this operation.",
    "DiskTypeViolation": "The specified disk is a system disk and cannot support the operation.",
    "IncorrectInstanceStatus": "The current status of the resource does not support this operation.",
    "InvalidInstance.ImageCategory": (
        "The image category of the specified instance does not support detaching system disk."
    ),
    "InvalidOperation.InstanceTypeNotSupport": (
        "The instance type of the specified instance does not support hot detach disk."
    ),
    "DisksDetachingOnEcsExceeded": "The number of disks detaching on the instance exceeds the limit.",
}

# (row, params, status, code) -- each a demo-fleet pair that README-demo.md lists
ROWS = [
    (1, {"InstanceId": "i-web-01"}, 400, "InvalidParameter"),
    (1, {"DiskId": "", "InstanceId": "i-web-01"}, 400, "InvalidParameter"),
    (1, {"DiskId": "d-web-01-data"}, 400, "InvalidParameter"),
    (
        2,
        {"DiskId": "d-web-01-data", "InstanceId": "i-web-01", "RegionId": "mars-north-1"},
        400,
        "InvalidRegionId.MalFormed",
    ),
    (3, {"DiskId": "d-web-01-data", "InstanceId": "i-nope"}, 404, "InvalidInstanceId.NotFound"),
    (4, {"DiskId": "d-nope", "InstanceId": "i-web-01"}, 404, "InvalidDiskId.NotFound"),
    (5, {"DiskId": "d-jump-01-data", "InstanceId": "i-jump-01"}, 403, "InstanceLockedForSecurity"),
    (
        6,
        {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-1", "DeleteWithInstance": "false"},
        403,
        "DeleteWithInstance.Conflict",
    ),
    (7, {"DiskId": "d-spare-01", "InstanceId": "i-web-01"}, 404, "InvalidDisk.AlreadyDetached"),
    (8, {"DiskId": "d-web-02-data", "InstanceId": "i-web-01"}, 403, "DependencyViolation"),
    (
        9,
        {"DiskId": "d-batch-07-scratch1", "InstanceId": "i-batch-07"},
        403,
        "InvalidOperation.DiskDetachingFromThisEcs",
    ),
    (10, {"DiskId": "d-bigdata-01-hdd1", "InstanceId": "i-bigdata-01"}, 403, "DiskNotPortable"),
    (10, {"DiskId": "d-erp-01-data", "InstanceId": "i-erp-01"}, 403, "DiskNotPortable"),
    (11, {"DiskId": "d-vault-01-data", "InstanceId": "i-vault-01"}, 403, "UserNotInTheWhiteList"),
    (12, {"DiskId": "d-web-03-archive", "InstanceId": "i-web-03"}, 403, "IncorrectDiskStatus"),
    (12, {"DiskId": "d-batch-04-input", "InstanceId": "i-batch-04"}, 403, "IncorrectDiskStatus"),
    (13, {"DiskId": "d-tiny-01-sys", "InstanceId": "i-tiny-01"}, 403, "DiskTypeViolation"),
    (14, {"DiskId": "d-web-01-sys", "InstanceId": "i-web-01"}, 403, "IncorrectInstanceStatus"),
    (15, {"DiskId": "d-legacy-01-sys", "InstanceId": "i-legacy-01"}, 403, "InvalidInstance.ImageCategory"),
    (16, {"DiskId": "d-report-01-data", "InstanceId": "i-report-01"}, 403, "IncorrectInstanceStatus"),
    (
        17,
        {"DiskId": "d-metal-01-data", "InstanceId": "i-metal-01"},
        400,
        "InvalidOperation.InstanceTypeNotSupport",
    ),
    (18, {"DiskId": "d-batch-07-data", "InstanceId": "i-batch-07"}, 400, "DisksDetachingOnEcsExceeded"),
]


@pytest.mark.parametrize(("row", "params", "status", "code"), ROWS, ids=[f"row{r[0]}-{r[3]}" for r in ROWS])
def test_each_row_gives_the_reference_status_code_and_message(
    backend: Backend, row: int, params: dict[str, str], status: int, code: str
) -> None:
    error = error_of(backend, "DetachDisk", params)
    assert (error.status, error.code, error.message) == (status, code, M[code])


def test_every_row_from_5_to_18_has_a_demo_case() -> None:
    assert {row for row, *_ in ROWS} == set(range(1, 19))


def test_a_refused_detach_changes_nothing(backend: Backend) -> None:
    before = backend.snapshot()
    for _, params, _, _ in ROWS:
        error_of(backend, "DetachDisk", params)
    assert backend.snapshot() == before


def test_first_matching_row_wins(backend: Backend) -> None:
    # Security lock (5) beats the disk not being attached there (8) and a missing region check passes first.
    assert error_of(backend, "DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-jump-01"}).code == (
        "InstanceLockedForSecurity"
    )
    # Missing parameters (1) come before a bad region (2).
    assert (
        error_of(backend, "DetachDisk", {"DiskId": "d-x", "RegionId": "nowhere"}).code == "InvalidParameter"
    )
    # Unknown instance (3) before unknown disk (4).
    assert error_of(backend, "DetachDisk", {"DiskId": "d-x", "InstanceId": "i-x"}).code == (
        "InvalidInstanceId.NotFound"
    )
    # Available (7) before "not attached here" (8), and DeleteWithInstance on multi-attach (6) before both.
    assert error_of(backend, "DetachDisk", {"DiskId": "d-spare-01", "InstanceId": "i-web-02"}).code == (
        "InvalidDisk.AlreadyDetached"
    )


def test_region_hint_and_region_parameter(backend: Backend) -> None:
    params = {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}
    # The Host names another region: the objects do not exist there.
    assert (
        error_of(backend, "DetachDisk", params, region_hint="cn-shanghai").code
        == "InvalidInstanceId.NotFound"
    )
    # A valid RegionId of another region, no Host hint: the same.
    assert error_of(backend, "DetachDisk", params | {"RegionId": "ap-southeast-1"}).code == (
        "InvalidInstanceId.NotFound"
    )
    assert backend.handle("DetachDisk", params | {"RegionId": "cn-hangzhou"}, region_hint="cn-hangzhou") == {}


def test_happy_path_data_disk_detaches_after_the_detach_time(backend: Backend, clock: ManualClock) -> None:
    assert (
        backend.handle("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}, region_hint=None)
        == {}
    )
    detaching = disk(backend, "d-web-01-data")
    assert detaching["Status"] == "Detaching"
    assert detaching["InstanceId"] == "i-web-01"
    assert detaching["DeleteWithInstance"] is False
    clock.advance(59)
    assert disk(backend, "d-web-01-data")["Status"] == "Detaching"
    clock.advance(1)
    done = disk(backend, "d-web-01-data")
    assert done["Status"] == "Available"
    assert (done["InstanceId"], done["Device"]) == ("", "")
    assert done["Attachments"]["Attachment"] == []
    assert done["DetachedTime"] == "2026-01-01T00:01:00Z"
    assert error_of(backend, "DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}).code == (
        "InvalidDisk.AlreadyDetached"
    )


def test_system_disk_of_a_stopped_instance_detaches_and_keeps_delete_with_instance(
    backend: Backend, clock: ManualClock
) -> None:
    params = {"DiskId": "d-db-replica-sys", "InstanceId": "i-db-replica"}
    assert backend.handle("DetachDisk", params, region_hint="cn-hangzhou") == {}
    assert disk(backend, "d-db-replica-sys")["DeleteWithInstance"] is True
    clock.advance(60)
    assert disk(backend, "d-db-replica-sys")["Status"] == "Available"


def test_delete_with_instance_takes_the_passed_value(backend: Backend, clock: ManualClock) -> None:
    backend.handle(
        "DetachDisk",
        {"DiskId": "d-db-replica-sys", "InstanceId": "i-db-replica", "DeleteWithInstance": "False"},
        region_hint=None,
    )
    backend.handle(
        "DetachDisk",
        {"DiskId": "d-web-02-data", "InstanceId": "i-web-02", "DeleteWithInstance": "TRUE"},
        region_hint=None,
    )
    clock.advance(60)
    assert disk(backend, "d-db-replica-sys")["DeleteWithInstance"] is False
    assert disk(backend, "d-web-02-data")["DeleteWithInstance"] is True


def test_multi_attach_disk_loses_only_that_attachment(backend: Backend, clock: ManualClock) -> None:
    backend.handle(
        "DetachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-1"}, region_hint=None
    )
    shared = disk(backend, "d-cluster-shared")
    assert shared["Status"] == "In_use"  # still attached to node 2
    assert error_of(
        backend, "DetachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-1"}
    ).code == ("InvalidOperation.DiskDetachingFromThisEcs")
    clock.advance(60)
    shared = disk(backend, "d-cluster-shared")
    assert [a["InstanceId"] for a in shared["Attachments"]["Attachment"]] == ["i-cluster-node-2"]
    assert shared["Status"] == "In_use"
    assert (shared["InstanceId"], shared["Device"]) == ("", "")
    assert error_of(
        backend, "DetachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-1"}
    ).code == ("DependencyViolation")
    backend.handle(
        "DetachDisk", {"DiskId": "d-cluster-shared", "InstanceId": "i-cluster-node-2"}, region_hint=None
    )
    assert disk(backend, "d-cluster-shared")["Status"] == "Detaching"
    clock.advance(60)
    assert disk(backend, "d-cluster-shared")["Status"] == "Available"


def test_the_detaching_limit_counts_disks_on_the_instance(backend: Backend, clock: ManualClock) -> None:
    # web-01 has a data and a logs disk; the demo limit is 2 at once, so a third would be refused.
    for disk_id in ("d-web-01-data", "d-web-01-logs"):
        backend.handle("DetachDisk", {"DiskId": disk_id, "InstanceId": "i-web-01"}, region_hint=None)
    backend.handle("StopInstance", {"InstanceId": "i-web-01"}, region_hint=None)
    clock.advance(10)
    error = error_of(backend, "DetachDisk", {"DiskId": "d-web-01-sys", "InstanceId": "i-web-01"})
    assert error.code == "DisksDetachingOnEcsExceeded"
    clock.advance(60)
    assert (
        backend.handle("DetachDisk", {"DiskId": "d-web-01-sys", "InstanceId": "i-web-01"}, region_hint=None)
        == {}
    )


# --- Rows of today's API page that the older copy lacks (numbers 19-21, checked at their place) ------------

TODAY = {
    "InvalidOperation.DiskCategoryUnsupported": (
        403,
        "The DetachDisk operation is not supported for elastic ephemeral disk.",
    ),
    "InvalidParameter.DeleteWithInstance": (
        403,
        "The DeleteWithInstance for the elastic ephemeral disk must be set to true.",
    ),
    "InvalidDiskId.OperationNotSupported": (
        404,
        "The operation is not supported due to base image not exist.",
    ),
}


def ephemeral_fleet() -> dict[str, object]:
    """The demo fleet plus two elastic ephemeral disks, one on a type that cannot detach them, and a
    system disk whose base image is gone."""
    fleet = load_fleet("demo")
    common = {"Type": "data", "Category": "elastic_ephemeral_disk_standard", "RegionId": "cn-hangzhou"}
    fleet["Disks"] += [
        {**common, "DiskId": "d-eph-web-01", "InstanceId": "i-web-01", "ZoneId": "cn-hangzhou-h"},
        {**common, "DiskId": "d-eph-metal-01", "InstanceId": "i-metal-01", "ZoneId": "cn-hangzhou-i"},
    ]
    metal_type = next(i["InstanceType"] for i in fleet["Instances"] if i["InstanceId"] == "i-metal-01")
    fleet["Emulator"]["NoEphemeralDiskDetachInstanceTypes"] = [metal_type]
    fleet["Emulator"]["BaseImageMissingDiskIds"] = ["d-web-02-sys"]
    return fleet


@pytest.fixture
def today(clock: ManualClock) -> Backend:
    return Backend(ephemeral_fleet(), clock)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            {"DiskId": "d-eph-metal-01", "InstanceId": "i-metal-01", "DeleteWithInstance": "true"},
            "InvalidOperation.DiskCategoryUnsupported",
        ),
        ({"DiskId": "d-eph-web-01", "InstanceId": "i-web-01"}, "InvalidParameter.DeleteWithInstance"),
        (
            {"DiskId": "d-eph-web-01", "InstanceId": "i-web-01", "DeleteWithInstance": "false"},
            "InvalidParameter.DeleteWithInstance",
        ),
        # Row 21 comes before row 14: the Running instance is not even looked at.
        ({"DiskId": "d-web-02-sys", "InstanceId": "i-web-02"}, "InvalidDiskId.OperationNotSupported"),
        # Row 19 before 20, row 20 before 7 and 8.
        (
            {"DiskId": "d-eph-metal-01", "InstanceId": "i-metal-01"},
            "InvalidOperation.DiskCategoryUnsupported",
        ),
        ({"DiskId": "d-eph-web-01", "InstanceId": "i-web-02"}, "InvalidParameter.DeleteWithInstance"),
    ],
)
def test_todays_rows_answer_todays_codes(today: Backend, params: dict[str, str], code: str) -> None:
    error = error_of(today, "DetachDisk", params)
    status, message = TODAY[code]
    assert (error.status, error.code, error.message) == (status, code, message)


def test_an_elastic_ephemeral_disk_goes_back_only_to_its_instance(today: Backend, clock: ManualClock) -> None:
    today.handle(
        "DetachDisk", {"DiskId": "d-eph-web-01", "InstanceId": "i-web-01", "DeleteWithInstance": "true"}
    )
    clock.advance(60)
    detached = disk(today, "d-eph-web-01")
    assert (detached["Status"], detached["DeleteWithInstance"]) == ("Available", True)
    elsewhere = error_of(today, "AttachDisk", {"DiskId": "d-eph-web-01", "InstanceId": "i-web-02"})
    assert (elsewhere.status, elsewhere.code) == (403, "InvalidOperation.OtherInstanceUnsupported")
    assert elsewhere.message.startswith("The elastic ephemeral disk can only be attached to the instance")
    assert today.handle("AttachDisk", {"DiskId": "d-eph-web-01", "InstanceId": "i-web-01"}) == {}
