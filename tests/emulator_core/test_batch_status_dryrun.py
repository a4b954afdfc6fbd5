"""DescribeInstanceStatus, the batch StopInstances/StartInstances, and DryRun on reads and instance calls."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock

from .conftest import error_of, instance

HZ = {"RegionId": "cn-hangzhou"}


def ids(*instance_ids: str) -> dict[str, str]:
    """The repeat list the SDKs send: ``InstanceId.1``, ``InstanceId.2``, ..."""
    return {f"InstanceId.{k}": value for k, value in enumerate(instance_ids, start=1)}


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {s["InstanceId"]: s["Status"] for s in body["InstanceStatuses"]["InstanceStatus"]}


def test_describe_instance_status_polls_what_a_stop_does(backend: Backend, clock: ManualClock) -> None:
    wanted = ids("i-web-01", "i-db-replica", "i-nope")
    body = backend.handle("DescribeInstanceStatus", {**HZ, **wanted})
    assert statuses(body) == {"i-web-01": "Running", "i-db-replica": "Stopped"}  # unknown ids left out
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (2, 1, 10)
    backend.handle("StopInstance", {"InstanceId": "i-web-01"})
    assert statuses(backend.handle("DescribeInstanceStatus", {**HZ, **wanted}))["i-web-01"] == "Stopping"
    clock.advance(10)
    assert statuses(backend.handle("DescribeInstanceStatus", {**HZ, **wanted}))["i-web-01"] == "Stopped"


def test_describe_instance_status_pages_and_zones(backend: Backend) -> None:
    everything = backend.handle("DescribeInstanceStatus", {**HZ, "PageSize": "50"})
    assert everything["TotalCount"] == 27 and len(statuses(everything)) == 27
    zone = backend.handle("DescribeInstanceStatus", {**HZ, "ZoneId": "cn-hangzhou-i", "PageSize": "50"})
    assert "i-db-primary" in statuses(zone) and "i-web-01" not in statuses(zone)
    second = backend.handle("DescribeInstanceStatus", {**HZ, "PageSize": "20", "PageNumber": "2"})
    assert len(statuses(second)) == 7
    assert error_of(backend, "DescribeInstanceStatus", {**HZ, "PageSize": "51"}).code == "InvalidParameter"
    assert error_of(backend, "DescribeInstanceStatus", {}).code == "MissingRegionId"


def test_stop_instances_all_together_refuses_the_whole_batch(backend: Backend) -> None:
    batch = {**HZ, **ids("i-web-01", "i-db-replica")}  # the second is already Stopped
    error = error_of(backend, "StopInstances", batch)
    assert (error.status, error.code) == (403, "IncorrectInstanceStatus")
    assert instance(backend, "i-web-01")["Status"] == "Running"  # nothing applied


def test_stop_instances_success_first_reports_each(backend: Backend, clock: ManualClock) -> None:
    batch = {**HZ, **ids("i-web-01", "i-db-replica", "i-jump-01"), "BatchOptimization": "SuccessFirst"}
    body = backend.handle("StopInstances", batch)
    entries = {e["InstanceId"]: e for e in body["InstanceResponses"]["InstanceResponse"]}
    assert (entries["i-web-01"]["Code"], entries["i-web-01"]["PreviousStatus"]) == ("200", "Running")
    assert entries["i-web-01"]["CurrentStatus"] == "Stopping"
    assert entries["i-db-replica"]["Code"] == "IncorrectInstanceStatus"
    assert entries["i-jump-01"]["Code"] == "InstanceLockedForSecurity"
    assert entries["i-jump-01"]["Message"] == (
        "The specified operation is denied as your instance is locked for security reasons."
    )
    clock.advance(10)
    assert instance(backend, "i-web-01")["Status"] == "Stopped"
    started = backend.handle("StartInstances", {**HZ, **ids("i-web-01", "i-db-replica")})
    assert [e["CurrentStatus"] for e in started["InstanceResponses"]["InstanceResponse"]] == [
        "Starting",
        "Starting",
    ]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (HZ, "MissingInstanceId"),
        ({**HZ, "InstanceId.101": "i-web-01"}, "InvalidParameter"),
        ({**HZ, "InstanceId.1": "i-web-01", "BatchOptimization": "Whatever"}, "InvalidParameter"),
        ({"InstanceId.1": "i-web-01"}, "MissingRegionId"),
    ],
)
def test_batch_parameter_errors(backend: Backend, params: dict[str, str], code: str) -> None:
    assert error_of(backend, "StopInstances", params).code == code


def test_dry_run_checks_without_acting(backend: Backend) -> None:
    for action, params in (
        ("StopInstance", {"InstanceId": "i-web-01"}),
        ("StartInstance", {"InstanceId": "i-db-replica"}),
        ("StopInstances", {**HZ, **ids("i-web-01")}),
        ("StartInstances", {**HZ, **ids("i-db-replica")}),
        ("DescribeInstances", HZ),
        ("DescribeDisks", HZ),
    ):
        error = error_of(backend, action, {**params, "DryRun": "true"})
        assert (error.status, error.code, error.message) == (
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ), action
    assert instance(backend, "i-web-01")["Status"] == "Running"
    assert instance(backend, "i-db-replica")["Status"] == "Stopped"
    # A check that fails answers its own error, not DryRunOperation.
    refused = error_of(backend, "StopInstance", {"InstanceId": "i-jump-01", "DryRun": "true"})
    assert refused.code == "InstanceLockedForSecurity"
    bad_filter = error_of(backend, "DescribeDisks", {**HZ, "Category": "bogus", "DryRun": "true"})
    assert bad_filter.code == "InvalidCategory.ValueNotSupported"
    success_first = backend.handle(
        "StopInstances",
        {**HZ, **ids("i-web-01", "i-jump-01"), "BatchOptimization": "SuccessFirst", "DryRun": "true"},
    )
    codes = [e["Code"] for e in success_first["InstanceResponses"]["InstanceResponse"]]
    assert codes == ["DRYRUN.SUCCESS", "DRYRUN.SUCCESS"]
    assert instance(backend, "i-web-01")["Status"] == "Running"
