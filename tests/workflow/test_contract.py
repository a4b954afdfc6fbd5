"""Contract: the code the preconditions predict is the emulator's answer to DetachDisk, in every state.

Each case builds a small fleet (two instances, a target disk in any state, other disks detaching, knobs
for the rows whose trigger the real service does not publish), loads it in an emulator, asks the
preconditions with the PlatformFacts read from the emulator's state, then calls DetachDisk through the
client and compares codes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import ApiError, NotFoundError
from ecs_detach.models import Disk, Instance
from ecs_detach.preconditions import DetachOptions, Verdict, check_detach, facts_from_fleet

ZONE = "cn-hangzhou-h"
INSTANCE_STATUSES = ("Running", "Stopped", "Starting", "Stopping", "Pending")
DISK_STATUSES = ("In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting")


@st.composite
def instances(draw: st.DrawFn, instance_id: str) -> dict[str, Any]:
    locks = draw(st.sampled_from([[], [], [], [], [], ["financial"], ["recycling"], ["security"]]))
    return {
        "InstanceId": instance_id,
        "Status": draw(st.sampled_from((*INSTANCE_STATUSES, "Running", "Stopped", "Stopped"))),
        "InstanceType": draw(st.sampled_from(["ecs.g7.large", "ecs.nohot", "ecs.nosys", "ecs.noeph"])),
        "ImageId": draw(st.sampled_from(["img-ok", "img-ok", "img-gone"])),
        "ZoneId": ZONE,
        "OperationLocks": {"LockReason": [{"LockReason": lock} for lock in locks]},
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], str, str, bool | None]:
    disk_type = draw(st.sampled_from(["data", "data", "system"]))
    multi = disk_type == "data" and draw(st.booleans())
    status = draw(st.sampled_from((*DISK_STATUSES, *("In_use",) * 5)))
    pending: list[dict[str, Any]] = []
    if status == "Available":
        owners: list[str] = []
    elif status in ("Creating", "ReIniting"):
        owners = draw(st.sampled_from([[], ["i-1"]]))
    elif multi:
        owners = draw(st.sampled_from([["i-1"], ["i-2"], ["i-1", "i-2"]]))
        if status == "In_use" and len(owners) == 2 and draw(st.booleans()):
            # One attachment detaching, the other in use: the disk reads In_use.
            pending.append(
                {"Action": "DetachDisk", "InstanceId": owners[0], "DiskId": "d-t", "RemainingSeconds": 30}
            )
    else:
        owners = [draw(st.sampled_from(["i-1", "i-2"]))]
    target: dict[str, Any] = {
        "DiskId": "d-t",
        "Type": disk_type,
        "Status": status,
        "ZoneId": ZONE,
        "MultiAttach": "Enabled" if multi else "Disabled",
        "Portable": draw(st.booleans()) if draw(st.integers(0, 4)) == 0 else True,
        "DiskChargeType": draw(st.sampled_from(["PostPaid", "PostPaid", "PrePaid"])),
        "Attachments": {"Attachment": [{"InstanceId": owner} for owner in owners]},
    }
    if draw(st.integers(0, 9)) == 0:
        target["OperationLocks"] = {"OperationLock": [{"LockReason": "financial"}]}
    # Today's rows: elastic ephemeral disks (19, 20) and a disk made from an image (21).
    if not multi and draw(st.integers(0, 3)) == 0:
        target["Category"] = draw(
            st.sampled_from(["elastic_ephemeral_disk_standard", "elastic_ephemeral_disk_premium"])
        )
    if disk_type == "system" or draw(st.integers(0, 4)) == 0:
        target["ImageId"] = "img-base"
    disks = [target]
    for n in range(draw(st.integers(0, 3))):
        disks.append(
            {
                "DiskId": f"d-busy-{n}",
                "Type": "data",
                "Status": "Detaching",
                "InstanceId": "i-1",
                "ZoneId": ZONE,
            }
        )
    emulator: dict[str, Any] = {
        "NoHotDetachInstanceTypes": ["ecs.nohot"],
        "NoSystemDiskDetachInstanceTypes": ["ecs.nosys"],
        "DeletedImageIds": ["img-gone"],
        "WhitelistRequiredDiskIds": ["d-t"] if draw(st.integers(0, 9)) == 0 else [],
        "MaxDetachingDisksPerInstance": draw(st.integers(1, 3)),
        "NoEphemeralDiskDetachInstanceTypes": ["ecs.noeph"],
        "BaseImageMissingDiskIds": ["d-t"] if draw(st.integers(0, 5)) == 0 else [],
    }
    if pending:
        emulator["PendingTransitions"] = pending
    fleet = {
        "Instances": [draw(instances("i-1")), draw(instances("i-2"))],
        "Disks": disks,
        "Emulator": emulator,
    }
    # Mostly the disk and (one of) its instance(s), sometimes another instance or ids that do not exist.
    disk_id = "d-missing" if draw(st.integers(0, 15)) == 0 else "d-t"
    choice = draw(st.integers(0, 15))
    if choice == 0:
        instance_id = "i-missing"
    elif choice <= 3 or not owners:
        instance_id = draw(st.sampled_from(["i-1", "i-2"]))
    else:
        instance_id = draw(st.sampled_from(owners))
    delete_with_instance = draw(st.sampled_from([None, None, None, None, True, False]))
    return fleet, disk_id, instance_id, delete_with_instance


def _read(client: EcsClient, disk_id: str, instance_id: str) -> tuple[Disk | None, Instance | None]:
    try:
        disk: Disk | None = client.get_disk(disk_id)
    except NotFoundError:
        disk = None
    try:
        instance: Instance | None = client.get_instance(instance_id)
    except NotFoundError:
        instance = None
    return disk, instance


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_predicted_code_equals_the_emulators_answer(
    case: tuple[dict[str, Any], str, str, bool | None],
) -> None:
    fleet, disk_id, instance_id, delete_with_instance = case
    emu = Emulator(fleet=fleet, clock=ManualClock())
    with EcsClient.for_emulator(emu, sleep=lambda _: None) as client:
        facts = facts_from_fleet(emu.state())
        disk, instance = _read(client, disk_id, instance_id)
        options = DetachOptions(instance_id=instance_id, delete_with_instance=delete_with_instance)
        pre = check_detach(disk, instance, options, facts=facts, disk_id=disk_id, region_id=client.region_id)
        try:
            client.detach_disk(disk_id, instance_id, delete_with_instance=delete_with_instance)
            answer = None
        except ApiError as exc:
            answer = exc.code
    event(f"answer: {answer}")
    assert pre.predicted_code == answer, pre.summary
    assert not pre.unknown_rows  # with the emulator's facts, nothing is left to guess
    # The verdict agrees: ready exactly when the API accepts; "already detached" when attached nowhere.
    assert (pre.verdict is Verdict.READY) == (answer is None)
    assert (pre.verdict is Verdict.ALREADY_DETACHED) == (disk is not None and disk.status == "Available")
