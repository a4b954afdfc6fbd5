"""Tag filters through the official generated SDK (alibabacloud-ecs20140526): its ``tag`` list is sent as
``Tag.N.Key`` / ``Tag.N.Value``, and the emulator keeps what has every tag, exactly (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_served import Served

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

pytestmark = pytest.mark.sdk

ecs_client = pytest.importorskip("alibabacloud_ecs20140526.client")
ecs_models = pytest.importorskip("alibabacloud_ecs20140526.models")
openapi = pytest.importorskip("alibabacloud_tea_openapi.models")


def _client(served: Served) -> Any:
    config = openapi.Config(
        access_key_id=EMULATOR_ACCESS_KEY_ID,
        access_key_secret=EMULATOR_ACCESS_KEY_SECRET,
        endpoint=served.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    return ecs_client.Client(config)


def _disks(client: Any, *tags: tuple[str, str | None]) -> list[str]:
    request = ecs_models.DescribeDisksRequest(
        region_id="cn-hangzhou",
        max_results=500,
        tag=[ecs_models.DescribeDisksRequestTag(key=key, value=value) for key, value in tags],
    )
    return [disk.disk_id for disk in client.describe_disks(request).body.disks.disk]


def _instances(client: Any, *tags: tuple[str, str | None]) -> list[str]:
    request = ecs_models.DescribeInstancesRequest(
        region_id="cn-hangzhou",
        max_results=100,
        tag=[ecs_models.DescribeInstancesRequestTag(key=key, value=value) for key, value in tags],
    )
    return [i.instance_id for i in client.describe_instances(request).body.instances.instance]


def test_the_sdks_tag_list_filters_disks_and_instances(served: Served) -> None:
    client = _client(served)
    assert _disks(client, ("team", "storage")) == ["d-spare-01", "d-spare-02", "d-spare-03"]
    db = _disks(client, ("env", "prod"), ("team", None))  # both tags; the second with any value
    assert db and all(d.startswith(("d-db-primary-", "d-db-replica-")) for d in db)
    assert _disks(client, ("team", "Storage")) == []  # values match case-sensitive
    assert _instances(client, ("app", "web"), ("env", "prod")) == ["i-web-01", "i-web-02", "i-web-03"]
    assert _instances(client, ("App", "web")) == []
    (asked,) = [r for r in served.emulator.requests if r["action"] == "DescribeInstances"][-1:]
    params = asked["params"]
    assert (params["Tag.1.Key"], params["Tag.1.Value"]) == ("App", "web")
