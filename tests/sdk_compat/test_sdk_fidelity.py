"""Issue 17 through the official SDKs: today's API answers, the new actions, and the models' fields filled.

Each behaviour is met by the generated SDK with V3 signing and with V1 (``signature_algorithm="v2"``), and by
the legacy aliyun-python-sdk-core.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from sdk_served import Served

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET
from ecs_detach.emulator.fleet import load_fleet

pytestmark = pytest.mark.sdk

ecs_client = pytest.importorskip("alibabacloud_ecs20140526.client")
ecs_models = pytest.importorskip("alibabacloud_ecs20140526.models")
openapi = pytest.importorskip("alibabacloud_tea_openapi.models")
tea_exceptions = pytest.importorskip("alibabacloud_tea_openapi.exceptions")
acs_client = pytest.importorskip("aliyunsdkcore.client")
acs_request = pytest.importorskip("aliyunsdkcore.request")
acs_exceptions = pytest.importorskip("aliyunsdkcore.acs_exception.exceptions")

HZ = "cn-hangzhou"
LOCKED = "The specified operation is denied as your instance is locked for security reasons."
SIGNATURES = pytest.mark.parametrize("signature", [None, "v2"], ids=["v3", "v1"])


def tea(served: Served, signature: str | None, secret: str = EMULATOR_ACCESS_KEY_SECRET) -> Any:
    config = openapi.Config(
        access_key_id=EMULATOR_ACCESS_KEY_ID,
        access_key_secret=secret,
        endpoint=served.endpoint,
        protocol="http",
        region_id=HZ,
    )
    if signature is not None:
        config.signature_algorithm = signature
    return ecs_client.Client(config)


def core(served: Served, action: str, **params: str) -> dict[str, Any]:
    client = acs_client.AcsClient(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET, HZ, auto_retry=False)
    request = acs_request.CommonRequest()
    request.set_domain(served.endpoint)
    request.set_protocol_type("http")
    request.set_version("2014-05-26")
    request.set_action_name(action)
    request.set_accept_format("json")
    for name, value in params.items():
        request.add_query_param(name, value)
    body: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    return body


def tea_error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(tea_exceptions.ClientException) as caught:
        call()
    return caught.value.code, caught.value.status_code, caught.value.message


def core_error(served: Served, action: str, **params: str) -> tuple[str, int, str]:
    with pytest.raises(acs_exceptions.ServerException) as caught:
        core(served, action, **params)
    error = caught.value
    return error.get_error_code(), error.get_http_status(), error.get_error_msg()


@SIGNATURES
def test_bad_filter_values_fail_as_in_the_cloud(served: Served, signature: str | None) -> None:
    client = tea(served, signature)
    request = ecs_models.DescribeInstancesRequest(region_id=HZ, status="Bogus")
    assert tea_error(lambda: client.describe_instances(request))[:2] == ("InvalidStatus.NotFound", 404)
    request = ecs_models.DescribeDisksRequest(region_id=HZ, category="bogus")
    assert tea_error(lambda: client.describe_disks(request))[:2] == ("InvalidCategory.ValueNotSupported", 400)
    many = ecs_models.DescribeDisksRequest(region_id=HZ, disk_ids=json.dumps([f"d-{n}" for n in range(101)]))
    assert tea_error(lambda: client.describe_disks(many))[:2] == ("InvalidDiskIds.Malformed", 403)


def test_bad_filter_values_with_the_legacy_core(served: Served) -> None:
    assert core_error(served, "DescribeDisks", RegionId=HZ, DiskType="boot")[:2] == (
        "InvalidDiskType.ValueNotSupported",
        400,
    )
    assert core_error(served, "DescribeDisks", RegionId=HZ, DiskIds="not json")[:2] == (
        "InvalidParameter.DiskIds",
        400,
    )
    assert core_error(served, "DescribeInstances", RegionId=HZ, LockReason="bogus")[:2] == (
        "InvalidLockReason.NotFound",
        404,
    )
    assert core_error(served, "StopInstance")[:2] == ("MissingInstanceId", 400)


@SIGNATURES
def test_stop_and_start_on_a_locked_instance_use_their_own_message(
    served: Served, signature: str | None
) -> None:
    client = tea(served, signature)
    stop = ecs_models.StopInstanceRequest(instance_id="i-jump-01")
    code, status, message = tea_error(lambda: client.stop_instance(stop))
    assert (code, status) == ("InstanceLockedForSecurity", 403) and LOCKED in message
    assert core_error(served, "StartInstance", InstanceId="i-jump-01") == (
        "InstanceLockedForSecurity",
        403,
        LOCKED,
    )


@SIGNATURES
def test_poll_with_describe_instance_status_and_stop_in_a_batch(
    served: Served, signature: str | None
) -> None:
    client = tea(served, signature)
    batch = ecs_models.StopInstancesRequest(
        region_id=HZ, instance_id=["i-web-01", "i-jump-01"], batch_optimization="SuccessFirst"
    )
    entries = client.stop_instances(batch).body.instance_responses.instance_response
    assert [(e.instance_id, e.code, e.current_status) for e in entries] == [
        ("i-web-01", "200", "Stopping"),
        ("i-jump-01", "InstanceLockedForSecurity", "Running"),
    ]
    served.advance(10)
    poll = ecs_models.DescribeInstanceStatusRequest(region_id=HZ, instance_id=["i-web-01", "i-jump-01"])
    body = client.describe_instance_status(poll).body
    assert {s.instance_id: s.status for s in body.instance_statuses.instance_status} == {
        "i-web-01": "Stopped",
        "i-jump-01": "Running",
    }
    together = ecs_models.StartInstancesRequest(region_id=HZ, instance_id=["i-web-01", "i-jump-01"])
    assert tea_error(lambda: client.start_instances(together))[:2] == ("InstanceLockedForSecurity", 403)
    core_body = core(served, "StartInstances", RegionId=HZ, **{"InstanceId.1": "i-web-01"})
    assert core_body["InstanceResponses"]["InstanceResponse"][0]["CurrentStatus"] == "Starting"


@SIGNATURES
def test_dry_run_answers_dry_run_operation_without_acting(served: Served, signature: str | None) -> None:
    client = tea(served, signature)
    read = ecs_models.DescribeInstancesRequest(region_id=HZ, dry_run=True)
    assert tea_error(lambda: client.describe_instances(read))[:2] == ("DryRunOperation", 400)
    stop = ecs_models.StopInstanceRequest(instance_id="i-web-01", dry_run=True)
    assert tea_error(lambda: client.stop_instance(stop))[:2] == ("DryRunOperation", 400)
    assert core_error(served, "DescribeDisks", RegionId=HZ, DryRun="true")[0] == "DryRunOperation"
    status = client.describe_instance_status(
        ecs_models.DescribeInstanceStatusRequest(region_id=HZ, instance_id=["i-web-01"])
    )
    assert status.body.instance_statuses.instance_status[0].status == "Running"


def _todays_fleet() -> dict[str, Any]:
    fleet = load_fleet("demo")
    fleet["Disks"].append(
        {
            "DiskId": "d-eph-01",
            "InstanceId": "i-web-01",
            "Type": "data",
            "Category": "elastic_ephemeral_disk_standard",
            "RegionId": HZ,
            "ZoneId": "cn-hangzhou-h",
        }
    )
    fleet["Emulator"]["BaseImageMissingDiskIds"] = ["d-web-02-sys"]
    return fleet


@SIGNATURES
def test_todays_detach_rows(served: Served, signature: str | None) -> None:
    assert served.control.post("/_emulator/reset", json=_todays_fleet()).status_code == 200
    client = tea(served, signature)
    plain = ecs_models.DetachDiskRequest(disk_id="d-eph-01", instance_id="i-web-01")
    code, status, message = tea_error(lambda: client.detach_disk(plain))
    assert (code, status) == ("InvalidParameter.DeleteWithInstance", 403)
    assert "The DeleteWithInstance for the elastic ephemeral disk must be set to true." in message
    based = ecs_models.DetachDiskRequest(disk_id="d-web-02-sys", instance_id="i-web-02")
    assert tea_error(lambda: client.detach_disk(based))[:2] == ("InvalidDiskId.OperationNotSupported", 404)
    kept = ecs_models.DetachDiskRequest(disk_id="d-eph-01", instance_id="i-web-01", delete_with_instance=True)
    assert client.detach_disk(kept).body.request_id
    served.advance(60)
    elsewhere = ecs_models.AttachDiskRequest(disk_id="d-eph-01", instance_id="i-web-02")
    assert tea_error(lambda: client.attach_disk(elsewhere))[:2] == (
        "InvalidOperation.OtherInstanceUnsupported",
        403,
    )
    assert core_error(served, "DetachDisk", DiskId="d-web-02-sys", InstanceId="i-web-02")[0] == (
        "InvalidDiskId.OperationNotSupported"
    )


def test_a_v1_wrong_secret_is_incomplete_signature_for_the_generated_sdk(served: Served) -> None:
    client = tea(served, "v2", secret="not-the-secret")
    code, status, message = tea_error(lambda: client.describe_regions(ecs_models.DescribeRegionsRequest()))
    assert (code, status) == ("IncompleteSignature", 400)
    assert "not-the-secret" not in message


def _coverage(model: Any, objects: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """The share of the model's fields the replies fill, and the keys of ours the model does not keep."""
    names = [name for name in inspect.signature(model.__init__).parameters if name != "self"]
    filled: set[str] = set()
    dropped: set[str] = set()
    for raw in objects:
        parsed = model().from_map(raw)
        filled.update(name for name in names if getattr(parsed, name) is not None)
        dropped.update(_dropped(raw, parsed.to_map(), ""))
    return len(filled) / len(names), sorted(dropped)


def _dropped(ours: Any, kept: Any, path: str) -> list[str]:
    if isinstance(ours, dict):
        return [
            found
            for key, value in ours.items()
            for found in (
                [f"{path}/{key}"]
                if not isinstance(kept, dict) or key not in kept
                else _dropped(value, kept[key], f"{path}/{key}")
            )
        ]
    if isinstance(ours, list) and isinstance(kept, list):
        return [found for a, b in zip(ours, kept, strict=False) for found in _dropped(a, b, f"{path}[]")]
    return []


def test_the_sdk_models_see_at_least_80_percent_of_their_fields_filled(served: Served) -> None:
    client = tea(served, None)
    instances = client.describe_instances(ecs_models.DescribeInstancesRequest(region_id=HZ, page_size=100))
    disks = client.describe_disks(ecs_models.DescribeDisksRequest(region_id=HZ, page_size=100))
    raw_instances = [i.to_map() for i in instances.body.instances.instance]
    raw_disks = [d.to_map() for d in disks.body.disks.disk]
    # The wire replies themselves, as the legacy core gets them (nothing dropped by a model on the way).
    wire_instances = core(served, "DescribeInstances", RegionId=HZ, PageSize="100")["Instances"]["Instance"]
    wire_disks = core(served, "DescribeDisks", RegionId=HZ, PageSize="100")["Disks"]["Disk"]
    assert len(raw_instances) == len(wire_instances) and len(raw_disks) == len(wire_disks)
    share, dropped = _coverage(ecs_models.DescribeInstancesResponseBodyInstancesInstance, wire_instances)
    assert share >= 0.8 and not dropped, (share, dropped)
    share, dropped = _coverage(ecs_models.DescribeDisksResponseBodyDisksDisk, wire_disks)
    assert share >= 0.8 and not dropped, (share, dropped)
    first = instances.body.instances.instance[0]
    assert first.network_interfaces.network_interface[0].primary_ip_address
    assert first.cpu_options.core_count * first.cpu_options.threads_per_core == first.cpu
    assert first.metadata_options.http_endpoint == "enabled"
    essd = next(d for d in disks.body.disks.disk if d.category == "cloud_essd")
    assert essd.throughput > 0 and essd.iopsread + essd.iopswrite <= essd.iops
