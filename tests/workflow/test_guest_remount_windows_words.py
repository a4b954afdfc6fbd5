"""A Windows undo brings the disk online: every place that reports the remount says "online", never
"mounted" (the plan, the run's progress and message, the journal; the Linux wording is unchanged)."""

from __future__ import annotations

from ecs_detach import workflow
from ecs_detach.plan import StepKind
from ecs_detach.workflow import ProgressEvent

from .conftest import EnvFactory
from .test_guest import MOUNTED, fleet
from .test_guest_remount import detached_after_unmount
from .test_guest_remount_windows import FLEET


def test_a_windows_undo_says_the_disk_is_online_again_everywhere(make_env: EnvFactory) -> None:
    env = make_env(FLEET)
    record = detached_after_unmount(env)
    plan = workflow.prepare_reattach(env.client, record, remount=True)
    (step,) = [s for s in plan.steps if s.kind is StepKind.GUEST_REMOUNT]
    assert step.expected_change == "guest: D: online again"
    said: list[str] = []

    def hear(event: ProgressEvent) -> None:
        said.append(event.message)

    result = workflow.run(env.client, plan, **(env.kw | {"on_progress": hear}))
    assert result.outcome is workflow.Outcome.DONE, result.message
    assert result.message.endswith("In the guest: D: online again.")
    assert "In the guest of i-app: D: online again" in said
    journaled = env.journal.path.read_text()
    assert "mounted again" not in journaled and "mount it back" not in journaled
    assert not [m for m in said if "mounted again" in m or "mount it back" in m]


def test_a_windows_undo_run_again_says_already_online(make_env: EnvFactory) -> None:
    env = make_env(FLEET)
    record = detached_after_unmount(env)
    plan = workflow.prepare_reattach(env.client, record, remount=True)
    assert workflow.run(env.client, plan, **env.kw).outcome is workflow.Outcome.DONE
    again = workflow.run(env.client, workflow.prepare_reattach(env.client, record, remount=True), **env.kw)
    assert "D: already online (nothing to bring online)" in again.message, again.message


def test_a_linux_undo_still_says_mounted_again(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    plan = workflow.prepare_reattach(env.client, record, remount=True)
    (step,) = [s for s in plan.steps if s.kind is StepKind.GUEST_REMOUNT]
    assert step.expected_change == "guest: /data mounted again"
    result = workflow.run(env.client, plan, **env.kw)
    assert result.message.endswith("In the guest: /data mounted again.")
