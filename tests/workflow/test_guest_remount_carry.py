"""A run killed between its unmount and its DetachDisk: the next run's DetachDisk carries the remount."""

from __future__ import annotations

import pytest

from ecs_detach import workflow
from ecs_detach.plan import StepKind
from ecs_detach.workflow import ProgressEvent

from .conftest import Env, EnvFactory
from .test_guest import GUEST, MOUNTED, UNMOUNT, fleet, guest_state, plan_for
from .test_guest_remount import undo


class Killed(BaseException):
    """The process died here: nothing after this point ran (no outcome, no DetachDisk)."""


def killed_after_the_unmount(env: Env) -> None:
    def die_once_released(event: ProgressEvent) -> None:
        if event.phase == "guest" and event.message.startswith("Released in the guest"):
            raise Killed

    kw = env.kw | {"on_progress": die_once_released}
    with pytest.raises(Killed):
        workflow.run(env.client, plan_for(env, UNMOUNT), **kw)
    assert guest_state(env)["Mounts"][0]["Mounted"] is False
    assert [r["action"] for r in env.emu.requests].count("DetachDisk") == 0


def test_the_next_runs_detach_carries_the_killed_runs_unmount(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    before = list(guest_state(env)["EtcFstab"])
    killed_after_the_unmount(env)
    plan = plan_for(env, GUEST)  # the guest no longer shows the mount: nothing to unmount now
    assert not plan.has_step(StepKind.GUEST_UNMOUNT), plan.describe()
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is workflow.Outcome.DONE, result.message
    assert any("An earlier run (operation" in e.message and "/data" in e.message for e in env.events)
    found = env.journal.last_detach("d-app-data")
    assert found is not None
    record = found[0]
    assert record.context["unmounted"] == "/data"
    assert record.context["fstab_backup"] == "/etc/fstab.ecs-detach-d-app-data.bak"
    assert "mount /data" in record.context["remount_script"]
    _, undone = undo(env, record, remount=True)
    assert undone.outcome is workflow.Outcome.DONE, undone.message
    assert guest_state(env)["Mounts"][0]["Mounted"] is True
    assert guest_state(env)["EtcFstab"] == before


def test_an_unmount_already_undone_is_not_carried(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    first = workflow.run(env.client, plan_for(env, UNMOUNT), **env.kw)
    assert first.outcome is workflow.Outcome.DONE, first.message
    found = env.journal.last_detach("d-app-data")
    assert found is not None
    _, undone = undo(env, found[0], remount=False)  # attached back, left unmounted by choice
    assert undone.outcome is workflow.Outcome.DONE, undone.message
    again = workflow.run(env.client, plan_for(env, GUEST), **env.kw)
    assert again.outcome is workflow.Outcome.DONE, again.message
    latest = env.journal.last_detach("d-app-data")
    assert latest is not None and latest[0].operation_id != found[0].operation_id
    assert "remount_script" not in latest[0].context  # that unmount belonged to the first detach
