"""The official generated SDK (alibabacloud-ecs20140526) against the emulator, V3 (default) and V1 signing.

A full cycle: describe, detach a data disk, wait, re-attach it, stop the instance, detach the system
disk, start refused, re-attach it as the system disk, start. Errors arrive as the SDK's own exceptions
with code and status.
"""

from __future__ import annotations

from typing import Any

import pytest
from sdk_served import Served

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

pytestmark = pytest.mark.sdk

ecs_client = pytest.importorskip("alibabacloud_ecs20140526.client")
ecs_models = pytest.importorskip("alibabacloud_ecs20140526.models")
openapi = pytest.importorskip("alibabacloud_tea_openapi.models")
tea_exceptions = pytest.importorskip("alibabacloud_tea_openapi.exceptions")

INSTANCE = "i-web-01"
DATA_DISK = "d-web-01-data"
SYSTEM_DISK = "d-web-01-sys"


def make_client(served: Served, signature: str | None) -> Any:
    config = openapi.Config(
        access_key_id=EMULATOR_ACCESS_KEY_ID,
        access_key_secret=EMULATOR_ACCESS_KEY_SECRET,
        endpoint=served.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if signature is not None:
        config.signature_algorithm = signature
    return ecs_client.Client(config)


def disks_of(client: Any, instance_id: str) -> dict[str, Any]:
    request = ecs_models.DescribeDisksRequest(region_id="cn-hangzhou", instance_id=instance_id, page_size=100)
    body = client.describe_disks(request).body
    return {disk.disk_id: disk for disk in body.disks.disk}


def disk_status(client: Any, disk_id: str) -> tuple[str, str]:
    request = ecs_models.DescribeDisksRequest(region_id="cn-hangzhou", disk_ids=f'["{disk_id}"]')
    (disk,) = client.describe_disks(request).body.disks.disk
    return disk.status, disk.instance_id


def instance_status(client: Any, instance_id: str) -> str:
    request = ecs_models.DescribeInstanceAttributeRequest(instance_id=instance_id)
    status: str = client.describe_instance_attribute(request).body.status
    return status


@pytest.mark.parametrize("signature", [None, "v2"], ids=["v3-default", "v1-signature_algorithm=v2"])
def test_full_detach_cycle(served: Served, signature: str | None) -> None:
    client = make_client(served, signature)

    # describe
    disks = disks_of(client, INSTANCE)
    assert {DATA_DISK, SYSTEM_DISK} <= set(disks)
    assert disks[DATA_DISK].status == "In_use"

    # detach the data disk, wait
    reply = client.detach_disk(ecs_models.DetachDiskRequest(disk_id=DATA_DISK, instance_id=INSTANCE))
    assert reply.status_code == 200 and reply.body.request_id
    assert disk_status(client, DATA_DISK) == ("Detaching", INSTANCE)
    served.advance(60)
    assert disk_status(client, DATA_DISK) == ("Available", "")

    # re-attach it
    client.attach_disk(ecs_models.AttachDiskRequest(disk_id=DATA_DISK, instance_id=INSTANCE))
    served.advance(60)
    assert disk_status(client, DATA_DISK) == ("In_use", INSTANCE)

    # stop the instance, detach the system disk
    client.stop_instance(ecs_models.StopInstanceRequest(instance_id=INSTANCE))
    served.advance(60)
    assert instance_status(client, INSTANCE) == "Stopped"
    client.detach_disk(ecs_models.DetachDiskRequest(disk_id=SYSTEM_DISK, instance_id=INSTANCE))
    served.advance(60)
    assert disk_status(client, SYSTEM_DISK) == ("Available", "")

    # starting without a system disk is refused, as the SDK's own exception
    with pytest.raises(tea_exceptions.ClientException) as refused:
        client.start_instance(ecs_models.StartInstanceRequest(instance_id=INSTANCE))
    assert refused.value.code == "InvalidInstance.NotFoundSystemDisk"
    assert refused.value.status_code == 400
    assert refused.value.request_id

    # re-attach it as the system disk, start
    client.attach_disk(
        ecs_models.AttachDiskRequest(
            disk_id=SYSTEM_DISK, instance_id=INSTANCE, bootable=True, key_pair_name="kp1"
        )
    )
    served.advance(60)
    assert disk_status(client, SYSTEM_DISK) == ("In_use", INSTANCE)
    client.start_instance(ecs_models.StartInstanceRequest(instance_id=INSTANCE))
    served.advance(60)
    assert instance_status(client, INSTANCE) == "Running"


@pytest.mark.parametrize("signature", [None, "v2"], ids=["v3-default", "v1-signature_algorithm=v2"])
def test_errors_are_the_sdks_own_exceptions(served: Served, signature: str | None) -> None:
    client = make_client(served, signature)
    with pytest.raises(tea_exceptions.ClientException) as locked:
        client.detach_disk(ecs_models.DetachDiskRequest(disk_id="d-jump-01-data", instance_id="i-jump-01"))
    assert (locked.value.code, locked.value.status_code) == ("InstanceLockedForSecurity", 403)
    assert "The instance is locked due to security." in locked.value.message

    with pytest.raises(tea_exceptions.ClientException) as missing:
        client.detach_disk(ecs_models.DetachDiskRequest(disk_id="d-nope", instance_id=INSTANCE))
    assert (missing.value.code, missing.value.status_code) == ("InvalidDiskId.NotFound", 404)


def test_a_wrong_secret_is_a_signature_error_for_the_sdk(served: Served) -> None:
    config = openapi.Config(
        access_key_id=EMULATOR_ACCESS_KEY_ID,
        access_key_secret="not-the-secret",
        endpoint=served.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    with pytest.raises(tea_exceptions.ClientException) as refused:
        ecs_client.Client(config).describe_regions(ecs_models.DescribeRegionsRequest())
    assert (refused.value.code, refused.value.status_code) == ("SignatureDoesNotMatch", 400)


def test_injected_faults_reach_the_sdk_as_its_exceptions(served: Served) -> None:
    client = make_client(served, None)
    plan = {"rate": 1, "kinds": ["service_unavailable"], "actions": ["DescribeRegions"]}
    served.control.post("/_emulator/faults", json=plan)
    with pytest.raises(tea_exceptions.ServerException) as unavailable:
        client.describe_regions(ecs_models.DescribeRegionsRequest())
    assert (unavailable.value.code, unavailable.value.status_code) == ("ServiceUnavailable", 503)

    plan = {
        "rate": 1,
        "kinds": ["throttling_retry_after"],
        "actions": ["DescribeRegions"],
        "retry_after_ms": 150,
    }
    served.control.post("/_emulator/faults", json=plan)
    with pytest.raises(tea_exceptions.ThrottlingException) as throttled:
        client.describe_regions(ecs_models.DescribeRegionsRequest())
    assert (throttled.value.code, throttled.value.status_code, throttled.value.retry_after) == (
        "Throttling.User",
        429,
        150,
    )


def test_read_only_key_gets_forbidden_ram(served: Served) -> None:
    config = openapi.Config(
        access_key_id="LTAI5tEmulatorReadOnly",
        access_key_secret="emulator-readonly-secret",
        endpoint=served.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    client = ecs_client.Client(config)
    assert disks_of(client, INSTANCE)
    with pytest.raises(tea_exceptions.ClientException) as denied:
        client.detach_disk(ecs_models.DetachDiskRequest(disk_id=DATA_DISK, instance_id=INSTANCE))
    assert (denied.value.code, denied.value.status_code) == ("Forbidden.RAM", 403)
    assert denied.value.access_denied_detail == {
        "AuthAction": "ecs:DetachDisk",
        "NoPermissionType": "ImplicitDeny",
    }
