"""Properties of a run over generated fleet states: it does only what its confirmed plan shows."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_detach import workflow
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import EcsError
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import Outcome

from .test_contract import cases

MUTATIONS = ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.booleans(), st.booleans())
def test_a_run_does_only_what_its_plan_shows(
    case: tuple[dict[str, Any], str, str, bool | None], allow_stop: bool, restart: bool
) -> None:
    fleet, disk_id, instance_id, delete_with_instance = case
    emu = Emulator(fleet=fleet, clock=ManualClock())
    facts = workflow.emulator_facts(emu)
    options = DetachOptions(
        instance_id=instance_id,
        delete_with_instance=delete_with_instance,
        allow_stop=allow_stop,
        restart=restart,
    )
    with EcsClient.for_emulator(emu, sleep=emu.advance) as client:
        try:
            plan = workflow.prepare(client, disk_id, options, facts=facts)
        except EcsError:
            return
        result = workflow.run(client, plan, facts=facts, clock=emu.now, sleep=emu.advance)
    sent = [r for r in emu.requests if r["action"] in MUTATIONS]
    accepted = [r["action"] for r in sent if r["status"] == 200]
    # Nothing outside the plan: no stop, start or detach the plan did not list, each at most once.
    for action in set(accepted):
        assert action in plan.calls, (action, plan.calls)
        assert accepted.count(action) == 1, accepted
    if not plan.executable or plan.nothing_to_do:
        assert sent == []
    assert result.message.strip()
    disk = next((d for d in emu.state()["Disks"] if d["DiskId"] == disk_id), None)
    attached = disk is not None and any(
        a["InstanceId"] == instance_id for a in disk["Attachments"]["Attachment"]
    )
    if result.outcome is Outcome.DONE:
        assert not attached
        assert "DetachDisk" in accepted or "already" in result.message or plan.calls == ()
    if result.outcome in (Outcome.BLOCKED, Outcome.ALREADY_DETACHED):
        assert accepted == []
