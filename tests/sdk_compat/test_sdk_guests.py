"""The official SDK drives Cloud Assistant on the emulator: agent status, RunCommand, the result."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sdk_served import Served

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

pytestmark = pytest.mark.sdk

ecs_client = pytest.importorskip("alibabacloud_ecs20140526.client")
ecs_models = pytest.importorskip("alibabacloud_ecs20140526.models")
openapi = pytest.importorskip("alibabacloud_tea_openapi.models")
tea_exceptions = pytest.importorskip("alibabacloud_tea_openapi.exceptions")


def make_client(served: Served) -> Any:
    config = openapi.Config(
        access_key_id=EMULATOR_ACCESS_KEY_ID,
        access_key_secret=EMULATOR_ACCESS_KEY_SECRET,
        endpoint=served.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    return ecs_client.Client(config)


def test_the_sdk_unmounts_through_cloud_assistant(served: Served) -> None:
    client = make_client(served)
    status = client.describe_cloud_assistant_status(
        ecs_models.DescribeCloudAssistantStatusRequest(
            region_id="cn-hangzhou", instance_id=["i-files-01", "i-noagent-01"]
        )
    ).body
    online = {
        s.instance_id: s.cloud_assistant_status
        for s in status.instance_cloud_assistant_status_set.instance_cloud_assistant_status
    }
    assert online == {"i-files-01": "true", "i-noagent-01": "false"}

    invoke = client.run_command(
        ecs_models.RunCommandRequest(
            region_id="cn-hangzhou",
            type="RunShellScript",
            instance_id=["i-files-01"],
            command_content="umount /data\nlsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL",
            timeout=60,
        )
    ).body
    assert invoke.invoke_id.startswith("t-")

    def read() -> Any:
        body = client.describe_invocation_results(
            ecs_models.DescribeInvocationResultsRequest(region_id="cn-hangzhou", invoke_id=invoke.invoke_id)
        ).body
        (row,) = body.invocation.invocation_results.invocation_result
        return row

    assert read().invocation_status == "Running"
    served.advance(2)
    row = read()
    assert (row.invocation_status, row.exit_code) == ("Success", 0)
    assert '"mountpoint": "/data"' not in base64.b64decode(row.output).decode()


def test_the_sdk_sees_the_documented_errors(served: Served) -> None:
    client = make_client(served)
    with pytest.raises(tea_exceptions.ClientException) as caught:
        client.run_command(
            ecs_models.RunCommandRequest(
                region_id="cn-hangzhou",
                type="RunShellScript",
                instance_id=["i-nope"],
                command_content="echo x",
            )
        )
    assert caught.value.code == "InvalidInstance.NotFound"
