"""The legacy aliyun-python-sdk-core (CommonRequest: V1 HMAC-SHA1, GET, Format=JSON) against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sdk_served import Served

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

pytestmark = pytest.mark.sdk

acs_client = pytest.importorskip("aliyunsdkcore.client")
acs_request = pytest.importorskip("aliyunsdkcore.request")
acs_exceptions = pytest.importorskip("aliyunsdkcore.acs_exception.exceptions")

INSTANCE = "i-db-primary"
DATA_DISK = "d-db-primary-data"
SYSTEM_DISK = "d-db-primary-sys"


class Caller:
    def __init__(self, served: Served, secret: str = EMULATOR_ACCESS_KEY_SECRET) -> None:
        self.client = acs_client.AcsClient(EMULATOR_ACCESS_KEY_ID, secret, "cn-hangzhou", auto_retry=False)
        self.endpoint = served.endpoint

    def __call__(self, action: str, **params: str) -> dict[str, Any]:
        request = acs_request.CommonRequest()
        request.set_domain(self.endpoint)
        request.set_protocol_type("http")
        request.set_version("2014-05-26")
        request.set_action_name(action)
        request.set_accept_format("json")
        for name, value in params.items():
            request.add_query_param(name, value)
        body: dict[str, Any] = json.loads(self.client.do_action_with_exception(request))
        return body


def disk(call: Caller, disk_id: str) -> tuple[str, str]:
    body = call("DescribeDisks", RegionId="cn-hangzhou", DiskIds=json.dumps([disk_id]))
    (found,) = body["Disks"]["Disk"]
    return found["Status"], found["InstanceId"]


def status(call: Caller, instance_id: str) -> str:
    found: str = call("DescribeInstanceAttribute", InstanceId=instance_id)["Status"]
    return found


def test_full_detach_cycle_with_common_request_get(served: Served) -> None:
    call = Caller(served)
    listed = call("DescribeDisks", RegionId="cn-hangzhou", InstanceId=INSTANCE, PageSize="100")
    assert {DATA_DISK, SYSTEM_DISK} <= {d["DiskId"] for d in listed["Disks"]["Disk"]}

    assert call("DetachDisk", DiskId=DATA_DISK, InstanceId=INSTANCE, DeleteWithInstance="false")["RequestId"]
    assert disk(call, DATA_DISK) == ("Detaching", INSTANCE)
    served.advance(60)
    assert disk(call, DATA_DISK) == ("Available", "")

    call("AttachDisk", DiskId=DATA_DISK, InstanceId=INSTANCE)
    served.advance(60)
    assert disk(call, DATA_DISK) == ("In_use", INSTANCE)

    call("StopInstance", InstanceId=INSTANCE)
    served.advance(60)
    assert status(call, INSTANCE) == "Stopped"
    call("DetachDisk", DiskId=SYSTEM_DISK, InstanceId=INSTANCE)
    served.advance(60)
    assert disk(call, SYSTEM_DISK) == ("Available", "")

    with pytest.raises(acs_exceptions.ServerException) as refused:
        call("StartInstance", InstanceId=INSTANCE)
    assert refused.value.get_error_code() == "InvalidInstance.NotFoundSystemDisk"
    assert refused.value.get_http_status() == 400
    assert refused.value.get_request_id()

    call("AttachDisk", DiskId=SYSTEM_DISK, InstanceId=INSTANCE, Bootable="true", Password="Emulat0r!Pass")
    served.advance(60)
    assert disk(call, SYSTEM_DISK) == ("In_use", INSTANCE)
    call("StartInstance", InstanceId=INSTANCE)
    served.advance(60)
    assert status(call, INSTANCE) == "Running"

    logged = served.control.get("/_emulator/requests").json()["requests"]
    assert all(entry["signature"] == "V1" and entry["method"] == "GET" for entry in logged)
    assert "Emulat0r!Pass" not in json.dumps(logged)


def test_errors_arrive_as_server_exceptions(served: Served) -> None:
    call = Caller(served)
    with pytest.raises(acs_exceptions.ServerException) as conflict:
        call(
            "DetachDisk", DiskId="d-cluster-shared", InstanceId="i-cluster-node-1", DeleteWithInstance="false"
        )
    assert conflict.value.get_error_code() == "DeleteWithInstance.Conflict"
    assert conflict.value.get_http_status() == 403
    assert (
        conflict.value.get_error_msg() == "Multi attach disk cannot be set to DeleteWithInstance attribute."
    )


def test_a_wrong_secret_is_refused(served: Served) -> None:
    """ECS answers a V1 request signed with the wrong secret IncompleteSignature (not SignatureDoesNotMatch),
    with its string to sign, as live replies show; this core then keeps the code as it is."""
    with pytest.raises(acs_exceptions.ServerException) as refused:
        Caller(served, secret="wrong")("DescribeRegions")
    assert refused.value.get_error_code() == "IncompleteSignature"
    assert refused.value.get_http_status() == 400
    assert refused.value.get_error_msg().startswith(
        "The request signature does not conform to Aliyun standards. server string to sign is:GET&%2F&"
    )
