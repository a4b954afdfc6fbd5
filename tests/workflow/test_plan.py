"""Plans: steps, expected changes, ETA, the equivalent aliyun commands, refusals (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_detach.models import Disk, Instance
from ecs_detach.plan import Plan, StepKind, plan_detach, plan_reattach
from ecs_detach.preconditions import DetachOptions, Durations, PlatformFacts, check_detach

from .builders import disk, instance

FACTS = PlatformFacts(
    no_hot_detach_types=frozenset(),
    no_system_detach_types=frozenset(),
    deleted_image_ids=frozenset(),
    whitelist_disk_ids=frozenset(),
    detaching_limit=8,
    detaching_counts={},
)


def _plan(d: Disk, i: Instance, **options: Any) -> Plan:
    opts = DetachOptions(**options)
    return plan_detach(check_detach(d, i, opts, facts=FACTS, region_id="cn-hangzhou"), opts)


def test_a_ready_data_disk_plans_a_detach_and_a_wait_with_the_aliyun_command() -> None:
    plan = _plan(disk(), instance())
    assert plan.executable and not plan.nothing_to_do
    assert [s.kind for s in plan.steps] == [StepKind.DETACH_DISK, StepKind.WAIT_DISK_DETACHED]
    assert plan.calls == ("DetachDisk",)
    assert plan.aliyun_commands[0] == (
        "aliyun ecs DetachDisk --RegionId cn-hangzhou --InstanceId i-web --DiskId d-data"
    )
    assert "--waiter" in plan.aliyun_commands[1] and "to=Available" in plan.aliyun_commands[1]
    assert plan.eta_seconds == 60
    assert "In_use → Detaching" in plan.steps[0].expected_change
    text = plan.describe()
    assert "aliyun ecs DetachDisk" in text and "ETA" in text


def test_a_system_disk_needs_the_stop_to_be_allowed() -> None:
    refused = _plan(disk(type="system"), instance())
    assert not refused.executable
    assert "--stop-instance" in refused.refusal
    plan = _plan(
        disk(type="system"), instance(), allow_stop=True, force_stop=True, stopped_mode="KeepCharging"
    )
    assert plan.executable
    assert plan.calls == ("StopInstance", "DetachDisk")
    assert plan.aliyun_commands[0] == (
        "aliyun ecs StopInstance --RegionId cn-hangzhou --InstanceId i-web --ForceStop true "
        "--StoppedMode KeepCharging"
    )
    assert any("cannot start" in w for w in plan.warnings)
    assert any("DeleteWithInstance defaults to true" in w for w in plan.warnings)


def test_restart_is_planned_only_for_a_data_disk_on_an_instance_this_plan_stopped() -> None:
    facts = PlatformFacts(no_hot_detach_types=frozenset({"ecs.g7.large"}))
    opts = DetachOptions(allow_stop=True, restart=True)
    plan = plan_detach(
        check_detach(disk(), instance(), opts, facts=facts), opts, durations=Durations(10, 10, 5, 7)
    )
    assert plan.calls == ("StopInstance", "DetachDisk", "StartInstance")
    assert plan.eta_seconds == 5 + 10 + 7
    system = _plan(disk(type="system"), instance(), allow_stop=True, restart=True)
    assert "StartInstance" not in system.calls
    assert any("Not restarting" in w for w in system.warnings)


def test_blocked_already_detached_and_in_progress() -> None:
    blocked = _plan(disk(), instance(locks=["security"]))
    assert not blocked.executable and "security" in blocked.refusal and not blocked.steps
    done = _plan(disk("Available"), instance(), instance_id="i-web")
    assert done.nothing_to_do and done.executable and not done.steps
    following = _plan(disk("Detaching"), instance())
    assert [s.kind for s in following.steps] == [StepKind.WAIT_DISK_DETACHED]
    assert following.calls == ()


def test_delete_with_instance_is_refused_for_a_multi_attach_disk() -> None:
    shared = disk(MultiAttach="Enabled", Attachments={"Attachment": [{"InstanceId": "i-web"}]})
    plan = _plan(shared, instance(), instance_id="i-web", delete_with_instance=True)
    assert not plan.executable
    assert "multi-attach" in plan.refusal
    ok = _plan(shared, instance(), instance_id="i-web")
    assert "no longer attached to i-web" in ok.steps[-1].description


def test_reattach_of_a_system_disk_needs_a_credential_and_never_shows_it() -> None:
    refused = plan_reattach("d-sys", "i-web", "cn-hangzhou", system_disk=True)
    assert not refused.executable and "password or a key pair" in refused.refusal
    plan = plan_reattach(
        "d-sys", "i-web", "cn-hangzhou", system_disk=True, credential="password", start_after=True
    )
    assert plan.executable
    assert plan.calls == ("AttachDisk", "StartInstance")
    assert "--Bootable true --Password <password>" in plan.aliyun_commands[0]
    assert "Password" not in plan.steps[0].params


def _on(device: str, **fields: Any) -> Disk:
    """A disk attached to i-web at `device` (its Device and its attachment both say so)."""
    attachment = {"Attachment": [{"InstanceId": "i-web", "Device": device}]}
    return disk(Device=device, Attachments=attachment, **fields)


def _shape(plan: Plan) -> tuple[Any, ...]:
    return (plan.executable, plan.refusal, plan.warnings, [s.kind for s in plan.steps], plan.aliyun_commands)


def test_the_builders_attach_a_system_disk_where_ecs_does() -> None:
    assert disk(type="system").device_on("i-web") == "/dev/xvda"
    assert disk().device_on("i-web") == "/dev/xvdb"


@pytest.mark.parametrize("device", ["/dev/xvdb", "/dev/vda", "/dev/nvme0n1", ""])
@pytest.mark.parametrize(
    "options",
    [{}, {"allow_stop": True}, {"allow_stop": True, "restart": True, "delete_with_instance": False}],
)
def test_the_api_s_type_says_which_is_the_system_disk_never_its_device_name(
    device: str, options: dict[str, Any]
) -> None:
    """Every warning, step and refusal of a plan is the same wherever the disk is attached: a system disk
    (Type=system) at any device name plans as at /dev/xvda, a data disk at /dev/xvda as at /dev/xvdb."""
    for kind, usual in (("system", "/dev/xvda"), ("data", "/dev/xvdb")):
        for status in ("Running", "Stopped"):
            where = _plan(_on(device, type=kind), instance(status), **options)
            assert _shape(where) == _shape(_plan(_on(usual, type=kind), instance(status), **options))
    system_at_b = _plan(_on("/dev/xvdb", type="system"), instance("Stopped"), allow_stop=True)
    assert any("is the system disk" in w for w in system_at_b.warnings)
    data_at_a = _plan(_on("/dev/xvda", type="data"), instance("Stopped"), allow_stop=True)
    assert not any("system disk" in w for w in data_at_a.warnings) and data_at_a.executable
