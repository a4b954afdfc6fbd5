"""The sync client against the real emulator, in-process: every action, every error kind, pagination,
inventory and read-only mode. Only the emulator's facade is used."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import (
    AuthError,
    IncorrectStateError,
    InvalidParameterError,
    LockedError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    ThrottledError,
    TransportError,
)
from ecs_detach.models import DISK_AVAILABLE, DISK_DETACHING, DISK_IN_USE, INSTANCE_STOPPED
from ecs_detach.retry import RetryPolicy


def calls(emulator: Emulator, action: str) -> list[dict[str, Any]]:
    return [r for r in emulator.requests if r["action"] == action]


def big_fleet(disks: int) -> dict[str, Any]:
    return {
        "Regions": [{"RegionId": "cn-hangzhou"}],
        "Instances": [{"InstanceId": "i-big", "Status": "Running", "RegionId": "cn-hangzhou"}],
        "Disks": [
            {"DiskId": f"d-big-{n:03d}", "Status": "Available", "RegionId": "cn-hangzhou"}
            for n in range(disks)
        ],
    }


# --- reads --------------------------------------------------------------------------------------------------


def test_describe_regions(client: EcsClient) -> None:
    regions = client.describe_regions()
    assert [r.region_id for r in regions] == ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
    assert regions[0].local_name == "China (Hangzhou)"


def test_every_action_sends_region_id(client: EcsClient, emulator: Emulator) -> None:
    client.describe_regions()
    client.list_instances()
    client.describe_instance_attribute("i-web-01")
    client.list_disks(instance_id="i-web-01")
    client.stop_instance("i-web-02")
    emulator.advance(30)
    client.start_instance("i-web-02")
    client.detach_disk("d-web-01-data", "i-web-01")
    emulator.advance(120)
    client.attach_disk("d-web-01-data", "i-web-01")
    actions = {r["action"] for r in emulator.requests}
    assert actions == {
        "DescribeRegions",
        "DescribeInstances",
        "DescribeInstanceAttribute",
        "DescribeDisks",
        "StopInstance",
        "StartInstance",
        "DetachDisk",
        "AttachDisk",
    }
    assert all(r["params"].get("RegionId") == "cn-hangzhou" for r in emulator.requests)
    assert all(r["status"] == 200 and r["signature"] == "V3" for r in emulator.requests)


def test_instances_by_region_status_and_id(client: EcsClient) -> None:
    assert len(client.list_instances()) == 27
    assert {i.region_id for i in client.list_instances(region_id="cn-shanghai")} == {"cn-shanghai"}
    stopped = client.list_instances(status=INSTANCE_STOPPED)
    assert stopped and all(i.status == INSTANCE_STOPPED for i in stopped)
    picked = client.list_instances(instance_ids=["i-web-01", "i-jump-01"])
    assert sorted(i.instance_id for i in picked) == ["i-jump-01", "i-web-01"]
    assert client.list_instances(instance_ids=[]) == []


def test_get_instance_and_attribute(client: EcsClient) -> None:
    jump = client.get_instance("i-jump-01")
    assert jump.security_locked and jump.lock_messages == ("Locked after a security incident.",)
    attribute = client.describe_instance_attribute("i-jump-01")
    assert attribute.instance_id == "i-jump-01" and attribute.security_locked
    with pytest.raises(NotFoundError) as caught:
        client.get_instance("i-does-not-exist")
    assert caught.value.code == "InvalidInstanceId.NotFound" and "i-does-not-exist" in str(caught.value)
    with pytest.raises(NotFoundError):
        client.describe_instance_attribute("i-does-not-exist")


def test_disks_filters_and_get(client: EcsClient) -> None:
    on_web = client.list_disks(instance_id="i-web-01")
    assert sorted(d.disk_id for d in on_web) == ["d-web-01-data", "d-web-01-logs", "d-web-01-sys"]
    system = client.list_disks(instance_id="i-web-01", disk_type="system")
    assert [d.disk_id for d in system] == ["d-web-01-sys"] and system[0].is_system
    spare = client.list_disks(status=DISK_AVAILABLE)
    assert spare and all(d.status == DISK_AVAILABLE for d in spare)
    shared = client.get_disk("d-cluster-shared")
    assert shared.is_multi_attach and set(shared.attached_instance_ids) == {
        "i-cluster-node-1",
        "i-cluster-node-2",
    }
    with pytest.raises(NotFoundError, match="d-nope"):
        client.get_disk("d-nope")


def test_pagination_follows_next_token_to_the_end(client: EcsClient, emulator: Emulator) -> None:
    disks = list(client.iter_disks(page_size=10))
    assert len(disks) == 67 and len({d.disk_id for d in disks}) == 67
    pages = calls(emulator, "DescribeDisks")
    assert len(pages) == 7
    assert "NextToken" not in pages[0]["params"] and all("NextToken" in p["params"] for p in pages[1:])
    assert all(p["params"]["MaxResults"] == "10" for p in pages)


def test_pagination_is_lazy(client: EcsClient, emulator: Emulator) -> None:
    first = next(client.iter_disks(page_size=10))
    assert first.disk_id and len(calls(emulator, "DescribeDisks")) == 1


def test_large_pages_and_many_ids() -> None:
    emulator = Emulator(fleet=big_fleet(250), clock=ManualClock())
    with EcsClient.for_emulator(emulator) as client:
        assert len(client.list_disks(page_size=500)) == 250
        ids = [f"d-big-{n:03d}" for n in range(150)]
        assert len(client.list_disks(disk_ids=ids)) == 150
    requests = calls(emulator, "DescribeDisks")
    chunks = [json.loads(r["params"]["DiskIds"]) for r in requests if "DiskIds" in r["params"]]
    assert [len(chunk) for chunk in chunks] == [100, 50]


def test_raw_call(client: EcsClient) -> None:
    body = client.call("DescribeDisks", {"DiskIds": json.dumps(["d-web-01-sys"])})
    assert body["RequestId"] and body["Disks"]["Disk"][0]["DiskId"] == "d-web-01-sys"


def test_with_region(client: EcsClient) -> None:
    shanghai = client.with_region("cn-shanghai")
    # In-process, the endpoint says so (no cloud URL); requests still name the region's host.
    assert shanghai.region_id == "cn-shanghai" and shanghai.endpoint == "emulator (in-process, demo)"
    assert {i.region_id for i in shanghai.list_instances()} == {"cn-shanghai"}


def test_v1_signature_works_too(emulator: Emulator) -> None:
    with EcsClient.for_emulator(emulator, signature="v1") as client:
        assert len(client.list_disks(instance_id="i-web-01")) == 3
    assert emulator.requests[-1]["signature"] == "V1"


# --- mutations ----------------------------------------------------------------------------------------------


def test_detach_lifecycle(client: EcsClient, emulator: Emulator) -> None:
    request_id = client.detach_disk("d-web-01-data", "i-web-01", delete_with_instance=False)
    assert request_id and calls(emulator, "DetachDisk")[0]["params"]["DeleteWithInstance"] == "false"
    assert client.get_disk("d-web-01-data").status == DISK_DETACHING
    emulator.advance(61)
    detached = client.get_disk("d-web-01-data")
    assert detached.status == DISK_AVAILABLE and detached.instance_id == "" and detached.detached_time


def test_system_disk_round_trip(client: EcsClient, emulator: Emulator) -> None:
    with pytest.raises(IncorrectStateError) as caught:
        client.detach_disk("d-web-02-sys", "i-web-02")
    assert caught.value.code == "IncorrectInstanceStatus" and "stop it first" in caught.value.remedy
    client.stop_instance("i-web-02")
    emulator.advance(15)
    assert client.get_instance("i-web-02").status == INSTANCE_STOPPED
    client.detach_disk("d-web-02-sys", "i-web-02")
    emulator.advance(61)
    assert client.get_disk("d-web-02-sys").status == DISK_AVAILABLE
    client.attach_disk("d-web-02-sys", "i-web-02", bootable=True, key_pair_name="kp-ops")
    emulator.advance(21)
    assert client.get_disk("d-web-02-sys").status == DISK_IN_USE
    client.start_instance("i-web-02")
    emulator.advance(16)
    assert client.get_instance("i-web-02").status == "Running"


# --- every error kind ---------------------------------------------------------------------------------------


def test_error_kinds_from_the_decision_table(client: EcsClient) -> None:
    cases = [
        (lambda: client.detach_disk("d-nope", "i-web-01"), NotFoundError, "InvalidDiskId.NotFound"),
        (
            lambda: client.detach_disk("d-spare-01", "i-web-01"),
            IncorrectStateError,
            "InvalidDisk.AlreadyDetached",
        ),
        (lambda: client.detach_disk("d-jump-01-data", "i-jump-01"), LockedError, "InstanceLockedForSecurity"),
        (lambda: client.detach_disk("", "i-web-01"), InvalidParameterError, "InvalidParameter"),
        (
            lambda: client.detach_disk("d-cluster-shared", "i-cluster-node-1", delete_with_instance=True),
            InvalidParameterError,
            "DeleteWithInstance.Conflict",
        ),
        (lambda: client.detach_disk("d-vault-01-data", "i-vault-01"), AuthError, "UserNotInTheWhiteList"),
        (
            lambda: client.detach_disk("d-bigdata-01-hdd1", "i-bigdata-01"),
            IncorrectStateError,
            "DiskNotPortable",
        ),
    ]
    for attempt, kind, code in cases:
        with pytest.raises(kind) as caught:
            attempt()
        error = caught.value
        assert error.code == code and error.request_id and error.http_status >= 400
        assert error.remedy and "\n" not in str(error)


def test_auth_errors(emulator: Emulator) -> None:
    wrong = Credentials("LTAI5tEmulatorDemoKey", "not-the-secret")
    with (
        EcsClient(wrong, "cn-hangzhou", transport=emulator.transport()) as client,
        pytest.raises(AuthError) as caught,
    ):
        client.list_disks()
    assert caught.value.code == "SignatureDoesNotMatch" and "not-the-secret" not in str(caught.value)
    unknown = Credentials("LTAI5tNobodyKnowsThisKey", "x")
    stranger = EcsClient(unknown, "cn-hangzhou", transport=emulator.transport())
    with stranger, pytest.raises(AuthError, match=r"InvalidAccessKeyId\.NotFound"):
        stranger.list_disks()
    read_only_key = Credentials("LTAI5tEmulatorReadOnly", "emulator-readonly-secret")
    with EcsClient(read_only_key, "cn-hangzhou", transport=emulator.transport()) as client:
        assert client.list_disks(instance_id="i-web-01")
        with pytest.raises(AuthError, match=r"Forbidden\.RAM"):
            client.detach_disk("d-web-01-data", "i-web-01")


def test_throttling_is_retried_then_raised(emulator: Emulator, sleeps: list[float]) -> None:
    emulator.set_faults(
        rate=1.0, kinds=["throttling_retry_after"], actions=["DetachDisk"], retry_after_ms=250
    )
    policy = RetryPolicy(max_attempts=3)
    client = EcsClient.for_emulator(emulator, sleep=sleeps.append, retry=policy)
    with client, pytest.raises(ThrottledError) as caught:
        client.detach_disk("d-web-01-data", "i-web-01")
    assert caught.value.code == "Throttling.User" and sleeps == [0.25, 0.25]
    assert len(calls(emulator, "DetachDisk")) == 3
    emulator.clear_faults()


def test_server_errors_are_retried_for_reads(emulator: Emulator, sleeps: list[float]) -> None:
    emulator.set_faults(
        rate=0.5, kinds=["service_unavailable", "internal_error"], actions=["DescribeDisks"], seed=3
    )
    with EcsClient.for_emulator(
        emulator, sleep=sleeps.append, retry=RetryPolicy(max_attempts=8, seed=1)
    ) as client:
        assert len(client.list_disks(page_size=10)) == 67
    assert sleeps and all(0 <= s <= 20 for s in sleeps)
    failed = [r for r in calls(emulator, "DescribeDisks") if r["status"] >= 500]
    assert len(failed) == len(sleeps)


def test_internal_error_on_a_mutation_is_not_resent(emulator: Emulator, client: EcsClient) -> None:
    emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["StopInstance"])
    with pytest.raises(ServerError) as caught:
        client.stop_instance("i-web-01")
    assert caught.value.code == "InternalError" and len(calls(emulator, "StopInstance")) == 1


def test_lost_answer_on_detach_is_reported_unknown_and_reconcilable(
    emulator: Emulator, client: EcsClient
) -> None:
    emulator.set_faults(rate=1.0, kinds=["lost_response"], actions=["DetachDisk"])
    with pytest.raises(TransportError) as caught:
        client.detach_disk("d-web-01-data", "i-web-01")
    assert caught.value.outcome_unknown and "outcome is unknown" in str(caught.value)
    emulator.clear_faults()
    # Reconciling by reading the disk shows the detach went through; it was sent exactly once.
    assert client.get_disk("d-web-01-data").status == DISK_DETACHING
    assert len(calls(emulator, "DetachDisk")) == 1


def test_reset_connections_are_retried_for_reads(emulator: Emulator, sleeps: list[float]) -> None:
    emulator.set_faults(rate=0.5, kinds=["reset"], actions=["DescribeInstances"], seed=5)
    with EcsClient.for_emulator(
        emulator, sleep=sleeps.append, retry=RetryPolicy(max_attempts=10, seed=1)
    ) as client:
        assert len(client.list_instances()) == 27


# --- inventory and read-only --------------------------------------------------------------------------------


def test_inventory_of_every_region(client: EcsClient) -> None:
    inventory = client.inventory(concurrency=2)
    assert inventory.regions == ("cn-hangzhou", "cn-shanghai", "ap-southeast-1")
    assert len(inventory.instances) == 41 and len(inventory.disks) == 102 and inventory.complete
    assert len(inventory.instances_in("ap-southeast-1")) == 7


def test_inventory_reports_a_failing_region_beside_the_others(client: EcsClient) -> None:
    inventory = client.inventory(["cn-hangzhou", "xx-nowhere-9", "cn-shanghai"])
    assert set(inventory.errors) == {"xx-nowhere-9"}
    assert isinstance(inventory.errors["xx-nowhere-9"], NotFoundError | InvalidParameterError)
    assert {i.region_id for i in inventory.instances} == {"cn-hangzhou", "cn-shanghai"}
    assert not inventory.complete


def test_read_only_mode_sends_nothing(emulator: Emulator) -> None:
    with EcsClient.for_emulator(emulator, read_only=True) as client:
        assert client.list_disks(instance_id="i-web-01")
        before = len(emulator.requests)
        with pytest.raises(ReadOnlyError, match="DetachDisk"):
            client.detach_disk("d-web-01-data", "i-web-01")
        with pytest.raises(ReadOnlyError):
            client.stop_instance("i-web-01")
        assert len(emulator.requests) == before
        armed = client.with_read_only(False)
        assert armed.detach_disk("d-web-01-data", "i-web-01")
        assert armed.get_disk("d-web-01-data").status == DISK_DETACHING


def test_debug_logs_never_carry_secrets(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    policy = RetryPolicy(max_attempts=2)
    with EcsClient.for_emulator(emulator, retry=policy, sleep=lambda _: None, signature="v1") as client:
        client.list_disks(instance_id="i-web-01")
        assert client.attach_disk("d-rescue-01-sys", "i-rescue-01", bootable=True, password="Sup3r-Secret!")
        emulator.set_faults(rate=1.0, kinds=["service_unavailable"], actions=["DescribeDisks"])
        with pytest.raises(ServerError):
            client.list_disks()
    logged = caplog.text
    assert "DescribeDisks" in logged and "AttachDisk" in logged and "Password=****" in logged
    assert "AccessKeyId=LTAI****Key" in logged
    for secret in ("emulator-demo-secret", "Sup3r-Secret!", "LTAI5tEmulatorDemoKey"):
        assert secret not in logged


def test_rate_limited_detach_waits_in_virtual_time_then_goes_through() -> None:
    fleet = {
        "Regions": [{"RegionId": "cn-hangzhou"}],
        "Instances": [{"InstanceId": "i-1", "Status": "Running", "RegionId": "cn-hangzhou"}],
        "Disks": [
            {"DiskId": f"d-{n}", "Status": "In_use", "InstanceId": "i-1", "RegionId": "cn-hangzhou"}
            for n in range(2)
        ],
        "Emulator": {"RateLimits": {"DetachDisk": {"Count": 1, "PerSeconds": 10}}},
    }
    emulator = Emulator(fleet=fleet, clock=ManualClock())
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # sleeping moves the emulator's clock, never real time
        slept.append(seconds)
        emulator.advance(seconds)

    policy = RetryPolicy(max_attempts=8, base_delay=2.0, seed=1)
    with EcsClient.for_emulator(emulator, retry=policy, sleep=sleep) as client:
        assert client.detach_disk("d-0", "i-1")
        assert client.detach_disk("d-1", "i-1")
        assert client.get_disk("d-1").status == DISK_DETACHING
    throttled = [r for r in calls(emulator, "DetachDisk") if r["code"].startswith("Throttling")]
    assert len(throttled) == len(slept) >= 1
    assert sum(slept) >= 9.0  # it waited out the 10-second window, in virtual time
