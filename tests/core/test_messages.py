"""Messages that lead with the real reason: a missing disk, an already-detached disk, a RAM denial, a disk
that is not portable (per kind)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.fleet import load_fleet
from ecs_detach.errors import ApiError, remedy_for
from ecs_detach.models import Disk, Instance
from ecs_detach.preconditions import DetachOptions, RowStatus, Verdict, check_detach


def _disk(**fields: Any) -> Disk:
    raw = {
        "DiskId": "d-x",
        "Type": "data",
        "Category": "cloud_essd",
        "Status": "In_use",
        "RegionId": "cn-hangzhou",
        "InstanceId": "i-x",
        "Portable": True,
        "DiskChargeType": "PostPaid",
        **fields,
    }
    return Disk.from_api(raw)


@pytest.fixture
def instance_raw() -> dict[str, Any]:
    return {
        "InstanceId": "i-x",
        "Status": "Running",
        "InstanceType": "ecs.g7.large",
        "RegionId": "cn-hangzhou",
        "ImageId": "img-1",
    }


def test_a_missing_disk_leads_with_disk_not_found_not_a_missing_instance_id() -> None:
    pre = check_detach(None, None, DetachOptions(), disk_id="d-nope", region_id="cn-hangzhou")
    assert pre.predicted_code == "InvalidDiskId.NotFound"
    assert pre.row(1).status is RowStatus.NOT_APPLICABLE
    assert pre.failing_rows[0].number == 4
    assert "d-nope does not exist" in pre.summary and "No instance id" not in pre.summary
    assert "list the region's disks" in pre.failing_rows[0].remedy


def test_a_missing_disk_with_its_instance_named_is_row_4_too(instance_raw: dict[str, Any]) -> None:
    pre = check_detach(
        None, Instance.from_api(instance_raw), DetachOptions(instance_id="i-x"), disk_id="d-nope"
    )
    assert pre.row(1).status is RowStatus.PASS and pre.predicted_code == "InvalidDiskId.NotFound"


def test_an_already_detached_disk_names_invalid_disk_already_detached() -> None:
    spare = _disk(Status="Available", InstanceId="")
    pre = check_detach(spare, None, DetachOptions())
    assert pre.verdict is Verdict.ALREADY_DETACHED
    assert pre.predicted_code == "InvalidDisk.AlreadyDetached"
    assert pre.row(1).status is RowStatus.NOT_APPLICABLE and pre.row(7).status is RowStatus.FAIL


def test_a_multi_attach_disk_without_a_chosen_instance_still_needs_the_instance_id() -> None:
    shared = _disk(
        MultiAttach="Enabled",
        InstanceId="",
        Attachments={"Attachment": [{"InstanceId": "i-a"}, {"InstanceId": "i-b"}]},
    )
    pre = check_detach(shared, None, DetachOptions())
    assert pre.predicted_code == "InvalidParameter" and "i-a, i-b" in pre.row(1).remedy


def test_a_local_disk_is_never_offered_pay_as_you_go(instance_raw: dict[str, Any]) -> None:
    pre = check_detach(_disk(Category="local_hdd_pro", Portable=False), Instance.from_api(instance_raw))
    row = pre.row(10)
    assert row.status is RowStatus.FAIL and row.code == "DiskNotPortable"
    assert "local" in row.sentence and "never" in row.remedy
    assert "pay-as-you-go" not in row.remedy and "subscription" not in row.remedy


def test_a_subscription_disk_is_offered_the_conversion(instance_raw: dict[str, Any]) -> None:
    pre = check_detach(_disk(DiskChargeType="PrePaid", Portable=False), Instance.from_api(instance_raw))
    row = pre.row(10)
    assert row.status is RowStatus.FAIL and "subscription" in row.sentence
    assert (
        "pay-as-you-go" in row.remedy and "ModifyDiskChargeType" in row.remedy and "never" not in row.remedy
    )


def test_no_remedy_prints_a_placeholder() -> None:
    for code in ("Forbidden", "Forbidden.RAM"):
        assert "<" not in remedy_for(code) and "{" not in remedy_for(code)
        assert "ecs:DetachDisk" in remedy_for(code, action="DetachDisk")


def test_a_ram_denial_names_the_refused_action() -> None:
    fleet = copy.deepcopy(load_fleet("demo"))
    fleet["Emulator"]["AccessKeys"] = [
        {"AccessKeyId": "LTAI5tReadOnlyKeyOfOps", "AccessKeySecret": "ro-secret", "ReadOnly": True}
    ]
    emulator = Emulator(fleet=fleet, clock=ManualClock())
    credentials = Credentials("LTAI5tReadOnlyKeyOfOps", "ro-secret")
    client = EcsClient(credentials, "cn-hangzhou", transport=emulator.transport())
    with client, pytest.raises(ApiError) as caught:
        client.detach_disk("d-web-01-data", "i-web-01")
    assert caught.value.code == "Forbidden.RAM"
    assert "ecs:DetachDisk" in caught.value.remedy and "<Action>" not in caught.value.remedy
