"""The official generated SDK drives CreateSnapshot, DescribeSnapshots and AttachDisk (a disk moved from
another instance) against the emulator: the SDK's own models parse every answer, errors arrive as its
exceptions with the API's code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sdk_served import Served
from test_sdk_tea import disk_status, make_client

pytestmark = pytest.mark.sdk

ecs_models = pytest.importorskip("alibabacloud_ecs20140526.models")
tea_exceptions = pytest.importorskip("alibabacloud_tea_openapi.exceptions")


def describe(client: Any, snapshot_id: str) -> Any:
    request = ecs_models.DescribeSnapshotsRequest(
        region_id="cn-hangzhou", snapshot_ids=json.dumps([snapshot_id]), page_size=10
    )
    body = client.describe_snapshots(request).body
    assert body.total_count == 1
    (snapshot,) = body.snapshots.snapshot
    return snapshot


@pytest.mark.parametrize("signature", [None, "v2"], ids=["v3-default", "v1"])
def test_snapshot_then_move_a_disk_with_the_sdk(served: Served, signature: str | None) -> None:
    client = make_client(served, signature)
    created = client.create_snapshot(
        ecs_models.CreateSnapshotRequest(
            disk_id="d-web-01-data", snapshot_name="before-move", description="taken by the SDK test"
        )
    ).body
    assert created.snapshot_id.startswith("s-") and created.request_id
    snapshot = describe(client, created.snapshot_id)
    assert (snapshot.status, snapshot.progress, snapshot.source_disk_id) == (
        "progressing",
        "0%",
        "d-web-01-data",
    )
    served.advance(40)
    snapshot = describe(client, created.snapshot_id)
    assert (snapshot.status, snapshot.progress, snapshot.available) == ("accomplished", "100%", True)

    client.detach_disk(ecs_models.DetachDiskRequest(instance_id="i-web-01", disk_id="d-web-01-data"))
    served.advance(60)
    with pytest.raises(tea_exceptions.ClientException) as caught:
        client.attach_disk(ecs_models.AttachDiskRequest(instance_id="i-db-primary", disk_id="d-web-01-data"))
    assert caught.value.code == "ResourcesNotInSameZone"
    client.attach_disk(ecs_models.AttachDiskRequest(instance_id="i-web-02", disk_id="d-web-01-data"))
    served.advance(20)
    assert disk_status(client, "d-web-01-data") == ("In_use", "i-web-02")


def test_create_snapshot_of_a_missing_disk_is_refused_with_the_sdk(served: Served) -> None:
    client = make_client(served, None)
    with pytest.raises(tea_exceptions.ClientException) as caught:
        client.create_snapshot(ecs_models.CreateSnapshotRequest(disk_id="d-nope"))
    assert (caught.value.code, caught.value.status_code) == ("InvalidDiskId.NotFound", 404)
