"""Undo run again after its remount failed: the disk is already attached, and the remount is still owed."""

from __future__ import annotations

from typing import Any

from ecs_detach import workflow
from ecs_detach.guest import FstabEntry, GuestPartition, GuestReport, GuestState, RemountState, remount_owed
from ecs_detach.plan import StepKind

from .conftest import Env, EnvFactory
from .test_guest import MOUNTED, fleet, guest_state
from .test_guest_remount import detached_after_unmount, undo

BAD_SUPERBLOCK = "wrong fs type, bad option, bad superblock on /dev/vdb1, missing codepage or helper program."


def set_mount_error(env: Env, text: str | None) -> None:
    """The guest model's fault knob: `mount /data` fails with `text` (None: the fault is fixed)."""
    state = env.emu.state()
    mount: dict[str, Any] = state["Emulator"]["Guests"]["i-app"]["Mounts"][0]
    mount.pop("MountError", None)
    if text is not None:
        mount["MountError"] = text
    env.emu.reset(state)


def remounts(env: Env) -> list[str | None]:
    """The journaled remount RunCommands (the emulator's request log starts afresh at each reset)."""
    return [
        outcome.result if outcome else None
        for intent, outcome in env.journal.operations()
        if intent.context.get("guest_step") == "guest-remount"
    ]


def test_a_rerun_after_a_failed_remount_mounts_it_back(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    before = list(guest_state(env)["EtcFstab"])
    record = detached_after_unmount(env)
    set_mount_error(env, BAD_SUPERBLOCK)
    _, first = undo(env, record, remount=True)
    assert first.outcome is workflow.Outcome.FAILED
    assert "the guest did not mount it back" in first.message and "bad superblock" in first.message
    assert "by hand" in first.remedy and "mount /data" in first.remedy  # the script is named
    assert guest_state(env)["Mounts"][0]["Mounted"] is False

    set_mount_error(env, None)
    plan, again = undo(env, record, remount=True)
    assert plan.has_step(StepKind.GUEST_REMOUNT)  # the same plan as the first time
    assert again.outcome is workflow.Outcome.DONE, again.message
    assert again.message == (
        "Disk d-app-data is already attached to instance i-app. In the guest: /data mounted again."
    )
    guest = guest_state(env)
    assert guest["Mounts"][0]["Mounted"] is True
    assert guest["EtcFstab"] == before
    assert remounts(env) == ["ok", "ok"]  # the one whose mount failed, and the one that mounted it
    assert [i.action for i, _ in env.journal.operations()].count("AttachDisk") == 1


def test_a_rerun_once_it_is_mounted_back_sends_no_remount(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    _, first = undo(env, record, remount=True)
    assert first.outcome is workflow.Outcome.DONE, first.message
    _, again = undo(env, record, remount=True)
    assert again.outcome is workflow.Outcome.DONE, again.message
    assert again.message.endswith("In the guest: /data already mounted (nothing to mount back).")
    assert len(remounts(env)) == 1


def test_a_rerun_on_a_stopped_instance_says_to_start_it_first(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    set_mount_error(env, BAD_SUPERBLOCK)
    undo(env, record, remount=True)
    state = env.emu.state()
    state["Instances"][0]["Status"] = "Stopped"
    env.emu.reset(state)
    _, again = undo(env, record, remount=True)
    assert again.outcome is workflow.Outcome.BLOCKED
    assert "is not mounted back" in again.message and "Start instance i-app" in again.remedy
    assert len(remounts(env)) == 1


def test_a_rerun_whose_guest_cannot_be_read_sends_nothing_and_says_what_to_run(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    set_mount_error(env, BAD_SUPERBLOCK)
    undo(env, record, remount=True)
    state = env.emu.state()
    state["Emulator"]["Guests"]["i-app"]["Agent"] = "stopped"
    env.emu.reset(state)
    _, again = undo(env, record, remount=True)
    assert again.outcome is workflow.Outcome.FAILED
    assert "whether it is mounted back in the guest is unknown" in again.message
    assert "not online" in again.message and "mount /data" in again.remedy
    assert len(remounts(env)) == 1


def report(**kw: Any) -> GuestReport:
    return GuestReport("i-app", "d-app-data", kw.pop("os_type", "linux"), GuestState.READ, True, **kw)


def test_remount_owed_reads_the_mount_lines_the_markers_and_windows_offline() -> None:
    script = "set -e\nsed -i 's|^# ecs-detach: UUID=u |UUID=u |' /etc/fstab\nmount /data"
    mounted = GuestPartition("/dev/vdb1", "ext4", "/data", "u", "")
    unmounted = GuestPartition("/dev/vdb1", "ext4", "", "u", "")
    line = "UUID=u /data ext4 defaults 0 2"
    commented = FstabEntry(f"# ecs-detach: {line}", "UUID=u", "/data", "ext4", "defaults")
    active = FstabEntry(line, "UUID=u", "/data", "ext4", "defaults")
    assert remount_owed(script, report(partitions=(unmounted,), fstab=(active,)))
    assert remount_owed(script, report(partitions=(mounted,), fstab=(commented,)))
    assert not remount_owed(script, report(partitions=(mounted,), fstab=(active,)))
    windows = "Set-Disk -Number 1 -IsOffline $false"
    assert remount_owed(windows, report(os_type="windows", offline=True, drive_letters=("D",)))
    assert not remount_owed(windows, report(os_type="windows", drive_letters=("D",)))


def test_read_remount_says_what_the_rerun_would_do_and_sends_nothing(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    plan = workflow.prepare_reattach(env.client, record, remount=True)
    when = workflow.GuestTime(sleep=env.emu.advance, clock=env.emu.now)
    assert (
        workflow.read_remount(env.client, plan, guest_time=when) is None
    )  # Available: the undo attaches first

    set_mount_error(env, BAD_SUPERBLOCK)
    undo(env, record, remount=True)
    set_mount_error(env, None)
    journaled = len(env.journal.records())
    now = workflow.read_remount(env.client, plan, guest_time=when)
    assert now is not None and now.state is RemountState.OWED
    assert now.what_is_owed == "/data is not mounted in the guest"
    assert len(env.journal.records()) == journaled  # a read: nothing journaled, nothing changed
    assert guest_state(env)["Mounts"][0]["Mounted"] is False

    state = env.emu.state()  # mounted by hand, its fstab line commented out again
    guest = state["Emulator"]["Guests"]["i-app"]
    guest["Mounts"][0]["Mounted"] = True
    guest["EtcFstab"] = [f"# ecs-detach: {line}" if " /data " in line else line for line in guest["EtcFstab"]]
    env.emu.reset(state)
    now = workflow.read_remount(env.client, plan, guest_time=when)
    assert now is not None and now.state is RemountState.OWED
    assert now.what_is_owed == "its /etc/fstab line is still commented out in the guest"

    guest["EtcFstab"] = [line.removeprefix("# ecs-detach: ") for line in guest["EtcFstab"]]
    env.emu.reset(state)
    now = workflow.read_remount(env.client, plan, guest_time=when)
    assert now is not None and now.state is RemountState.DONE and now.where == "/data"
