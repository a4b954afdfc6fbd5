"""Contract, the guest rows: what the preconditions say of the guest (read through Cloud Assistant on the
emulator) is what the emulator's guest model holds, over random guests; and the API's predicted code does not
move with the guest (the API never answers the guest rows)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_detach import workflow
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import ApiError
from ecs_detach.preconditions import DetachOptions, RowStatus, Verdict

ZONE = "cn-hangzhou-h"


@st.composite
def guest_cases(draw: st.DrawFn) -> dict[str, Any]:
    os_type = draw(st.sampled_from(["linux", "linux", "linux", "windows"]))
    mounts, members = [], {}
    if draw(st.booleans()):
        mount: dict[str, Any] = {
            "DiskId": "d-t",
            "Partition": draw(st.integers(0, 2)),
            "MountPoint": "E:" if os_type == "windows" else draw(st.sampled_from(["/data", "/srv/app"])),
            "Mounted": draw(st.booleans()),
            "Busy": draw(st.booleans()) if os_type == "linux" else False,
        }
        if os_type == "linux":
            mount.update(
                Fstab=draw(st.booleans()),
                FstabBy=draw(st.sampled_from(["UUID", "LABEL", "device"])),
                Label="vol",
                Nofail=draw(st.booleans()),
            )
        mounts.append(mount)
    elif os_type == "linux":
        kind = draw(st.sampled_from([None, "Swap", "Lvm", "Raid"]))
        if kind:
            members[kind] = [{"DiskId": "d-t", "Partition": 1}]
    guest = {
        "OSType": os_type,
        "Agent": draw(st.sampled_from(["running"] * 4 + ["stopped", "absent"])),
        "Mounts": mounts,
    }
    guest.update(members)
    return {
        "Instances": [
            {
                "InstanceId": "i-1",
                "Status": draw(st.sampled_from(["Running", "Running", "Running", "Stopped"])),
                "ZoneId": ZONE,
                "OSType": os_type,
            }
        ],
        "Disks": [
            {"DiskId": "d-sys", "Type": "system", "InstanceId": "i-1", "ZoneId": ZONE},
            {"DiskId": "d-t", "Type": "data", "InstanceId": "i-1", "ZoneId": ZONE},
        ],
        "Emulator": {"Guests": {"i-1": guest}},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guest_cases())
def test_the_guest_rows_say_what_the_guest_model_holds(fleet: dict[str, Any]) -> None:
    emu = Emulator(fleet=fleet, clock=ManualClock())
    guest = fleet["Emulator"]["Guests"]["i-1"]
    running = fleet["Instances"][0]["Status"] == "Running"
    mounted = [m for m in guest["Mounts"] if m.get("Mounted", True)]
    fstab = [m for m in guest["Mounts"] if m.get("Fstab")]
    with EcsClient.for_emulator(emu, sleep=emu.advance) as client:
        time = workflow.GuestTime(sleep=emu.advance, clock=emu.now)
        options = DetachOptions(guest_check=True, unmount=True)
        plan = workflow.prepare(client, "d-t", options, facts=workflow.emulator_facts(emu), guest_time=time)
        pre = plan.preconditions
        assert pre is not None
        rows = {row.number: row.status for row in pre.rows if row.number >= 22}
        if not running:
            assert set(rows.values()) == {RowStatus.NOT_APPLICABLE}
        elif guest["Agent"] != "running":
            assert rows[22] is RowStatus.UNKNOWN and rows[23] is RowStatus.NOT_APPLICABLE
        else:
            assert rows[22] is RowStatus.PASS
            busy = any(m["Busy"] for m in mounted)
            expected = RowStatus.FAIL if busy else RowStatus.FIXABLE if mounted else RowStatus.PASS
            assert rows[23] is expected
            if guest["OSType"] == "linux":
                assert rows[24] is (RowStatus.FIXABLE if fstab else RowStatus.PASS)
            member = any(guest.get(kind) for kind in ("Swap", "Lvm", "Raid"))
            assert rows[25] is (RowStatus.FAIL if member else RowStatus.PASS)
        assert pre.predicted_code is None  # the API would detach it: the guest rows are ours, not its
        if plan.executable and pre.verdict is Verdict.FIXABLE:
            result = workflow.run(
                client, plan, facts=workflow.emulator_facts(emu), clock=emu.now, sleep=emu.advance
            )
            assert result.outcome is workflow.Outcome.DONE, result.message
            after = emu.state()["Emulator"]["Guests"]["i-1"]
            assert not any(m["Mounted"] for m in after["Mounts"]) and after["Hazards"] == []
            assert all(
                not line.startswith(("UUID", "LABEL", "/dev/disk")) or "/ ext4" in line
                for line in after["EtcFstab"]
            )
        else:
            try:
                client.detach_disk("d-t", "i-1")  # the API detaches it regardless: the hazard is the guest's
            except ApiError as exc:
                raise AssertionError(f"the API refused the detach: {exc}") from None
