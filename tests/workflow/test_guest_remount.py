"""Undo after our unmount: the re-attach offers to mount the disk back and restore its /etc/fstab line."""

from __future__ import annotations

from typing import Any

from ecs_detach import workflow
from ecs_detach.plan import StepKind

from .conftest import Env, EnvFactory
from .test_guest import MOUNTED, UNMOUNT, fleet, guest_state, plan_for


def detached_after_unmount(env: Env) -> Any:
    result = workflow.run(env.client, plan_for(env, UNMOUNT), **env.kw)
    assert result.outcome is workflow.Outcome.DONE, result.message
    found = env.journal.last_detach("d-app-data")
    assert found is not None
    return found[0]


def undo(env: Env, record: Any, *, remount: bool) -> tuple[workflow.Plan, workflow.RunResult]:
    plan = workflow.prepare_reattach(env.client, record, remount=remount)
    return plan, workflow.run(env.client, plan, **env.kw)


def test_the_detach_journals_how_to_mount_it_back(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    assert record.context["unmounted"] == "/data"
    assert record.context["fstab_backup"] == "/etc/fstab.ecs-detach-d-app-data.bak"
    assert "mount /data" in record.context["remount_script"]


def test_undo_with_remount_mounts_it_back_and_restores_the_fstab_line(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    before = list(guest_state(env)["EtcFstab"])
    plan, result = undo(env, detached_after_unmount(env), remount=True)
    assert [s.kind for s in plan.steps][-1] is StepKind.GUEST_REMOUNT
    step = plan.steps[-1]
    assert step.description == "Mount /data back in the guest of i-app and restore its /etc/fstab line"
    assert "mount /data" in step.aliyun and step.params["CommandContent"].endswith("mount /data")
    assert result.outcome is workflow.Outcome.DONE, result.message
    assert result.message.endswith("In the guest: /data mounted again.")
    guest = guest_state(env)
    assert guest["Mounts"][0]["Mounted"] is True
    assert guest["EtcFstab"] == before  # the line is back, uncommented
    actions = [r["action"] for r in env.emu.requests if r["action"] in ("RunCommand", "AttachDisk")]
    assert actions[-2:] == ["AttachDisk", "RunCommand"]
    journaled = [
        (i.action, i.context.get("guest_step"), o.result if o else None) for i, o in env.journal.operations()
    ]
    assert journaled[-2:] == [("AttachDisk", None, "ok"), ("RunCommand", "guest-remount", "ok")]


def test_undo_without_remount_only_attaches(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    plan, result = undo(env, detached_after_unmount(env), remount=False)
    assert not plan.has_step(StepKind.GUEST_REMOUNT)
    assert result.outcome is workflow.Outcome.DONE, result.message
    guest = guest_state(env)
    assert guest["Mounts"][0]["Mounted"] is False
    assert any(line.startswith("# ecs-detach: UUID=") for line in guest["EtcFstab"])
    assert not [i for i, _ in env.journal.operations() if i.context.get("guest_step") == "guest-remount"]
    assert [r["action"] for r in env.emu.requests][-1] != "RunCommand"


def test_a_detach_without_our_unmount_offers_no_remount(make_env: EnvFactory) -> None:
    env = make_env(fleet({}))
    result = workflow.run(env.client, plan_for(env), **env.kw)
    assert result.outcome is workflow.Outcome.DONE, result.message
    found = env.journal.last_detach("d-app-data")
    assert found is not None
    assert not workflow.prepare_reattach(env.client, found[0]).has_step(StepKind.GUEST_REMOUNT)


def test_a_failed_remount_says_what_to_run_by_hand_and_the_disk_stays_attached(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    state = env.emu.state()
    guest = state["Emulator"]["Guests"]["i-app"]
    guest["EtcFstab"] = [line for line in guest["EtcFstab"] if "/data" not in line]  # someone removed it
    env.emu.reset(state)
    _, result = undo(env, record, remount=True)
    assert result.outcome is workflow.Outcome.FAILED
    assert "attached to i-app again, but the guest did not mount it back" in result.message
    assert "can't find in /etc/fstab" in result.message
    assert "run this in the guest of i-app by hand" in result.remedy and "mount /data" in result.remedy
    (disk,) = [d for d in env.emu.state()["Disks"] if d["DiskId"] == "d-app-data"]
    assert disk["Status"] == "In_use" and disk["InstanceId"] == "i-app"


def test_a_lost_remount_names_the_same_undo_again_where_a_face_can_run_it(make_env: EnvFactory) -> None:
    from ecs_detach.wording import CLI_WORDS
    from tui.words import TUI_WORDS

    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    env.emu.set_faults(rate=1.0, kinds=["internal_error"], actions=["RunCommand"])
    plan, result = undo(env, record, remount=True)
    assert plan.undoes == record.operation_id
    assert result.outcome is workflow.Outcome.FAILED and "the remount was not sent again" in result.message
    cli = result.remedy_in(CLI_WORDS)
    assert cli == result.remedy and cli.startswith(
        "Disk d-app-data stays attached; run the same undo again, which is safe (ecs-detach attach "
        f"--operation {record.operation_id}: it reads the guest first"
    )
    assert "or run this in the guest of i-app by hand:\n" in cli and cli.endswith("mount /data")
    # The TUI's u on the disk again reads the guest and mounts it back if still owed: it names that.
    tui = result.remedy_in(TUI_WORDS)
    assert tui.startswith("Disk d-app-data stays attached; press u on the disk again, which is safe")
    assert "or run this in the guest of i-app by hand:\n" in tui and tui.endswith("mount /data")
    assert "ecs-detach" not in tui.split("\n", 1)[0]
