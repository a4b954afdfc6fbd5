"""The printed aliyun commands target what ecs-detach targeted: its profile, region and endpoint."""

from __future__ import annotations

from ecs_detach import workflow
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.plan import AliyunTarget, aliyun_command
from ecs_detach.preconditions import DetachOptions


def test_https_endpoints_need_no_insecure_and_odd_names_are_quoted() -> None:
    command = aliyun_command(
        "DetachDisk",
        "cn-beijing",
        {"InstanceId": "i-1", "DiskId": "d-1"},
        target=AliyunTarget("my prod", "https://ecs.cn-beijing.aliyuncs.com"),
    )
    assert command == (
        "aliyun ecs DetachDisk --RegionId cn-beijing --InstanceId i-1 --DiskId d-1 "
        "--profile 'my prod' --endpoint ecs.cn-beijing.aliyuncs.com"
    )
    assert AliyunTarget().flags() == []


def test_every_step_of_a_prepared_plan_carries_the_clients_profile_and_no_unreachable_endpoint() -> None:
    """The in-process demo has no endpoint an aliyun CLI could reach: its label is never printed as one,
    and neither is a production host (served endpoints: tests/cli/test_cli_ecosystem.py)."""
    emulator = Emulator(fleet="demo", clock=ManualClock())
    with EcsClient.for_emulator(emulator) as client:
        plan = workflow.prepare(client, "d-web-01-sys", DetachOptions(allow_stop=True, restart=True))
    assert len(plan.aliyun_commands) >= 4
    for command in plan.aliyun_commands:
        assert command.endswith(" --profile demo")
        assert "--endpoint" not in command and "aliyuncs.com" not in command
        assert " --RegionId cn-hangzhou " in command
