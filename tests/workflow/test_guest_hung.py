"""A guest invocation that never finishes (the emulator's HangOn knob), on the manual clock: the probe and
the guest steps wait at most the run's timeout (and never past GUEST_TIMEOUT, RunCommand's own 60 s), a
cancel stops the wait at once, and what the guest did is then said to be unknown, with what to run by hand."""

from __future__ import annotations

from typing import Any

from ecs_detach import workflow
from ecs_detach.detach.guest_read import GUEST_TIMEOUT
from ecs_detach.preconditions import RowStatus
from ecs_detach.workflow import CancelToken, ProgressEvent

from .conftest import Env, EnvFactory
from .test_guest import MOUNTED, UNMOUNT, fleet, guest_state, plan_for
from .test_guest_remount import detached_after_unmount, undo
from .test_guest_remount_rerun import BAD_SUPERBLOCK, set_mount_error


def hung_on(text: str) -> dict[str, Any]:
    return fleet({**MOUNTED, "HangOn": text})


def detach_sent(env: Env) -> int:
    return [r["action"] for r in env.emu.requests].count("DetachDisk")


def test_a_probe_that_never_finishes_is_unknown_after_guest_timeout_with_the_manual_commands(
    make_env: EnvFactory,
) -> None:
    env = make_env(hung_on("lsblk"))
    start = env.emu.now()
    plan = plan_for(env, UNMOUNT)
    assert env.emu.now() - start <= GUEST_TIMEOUT + 1  # virtual time: the wait is bounded
    assert plan.preconditions is not None
    row = plan.preconditions.row(22)
    assert row.status is RowStatus.UNKNOWN
    assert "had not finished after 60 s: what the guest has mounted is not known" in row.sentence
    assert "ls -l /dev/disk/by-id/ | grep app-data" in row.remedy and "sudo umount" in row.remedy


def test_an_unmount_that_never_finishes_times_out_unknown_and_sends_no_detach(make_env: EnvFactory) -> None:
    env = make_env(hung_on("umount"))
    plan = plan_for(env, UNMOUNT)
    start = env.emu.now()
    result = workflow.run(env.client, plan, **env.kw, timeout=300)
    assert result.outcome is workflow.Outcome.TIMED_OUT and result.exit_code == 4
    assert env.emu.now() - start <= GUEST_TIMEOUT + 1  # not the run's 300 s
    assert result.code == "GuestTimeout"
    assert "had not finished after 60 s" in result.message
    assert "whether disk d-app-data was released in the guest of i-app is unknown" in result.message
    assert "DetachDisk was not sent" in result.message
    assert "Check the guest by hand" in result.remedy and "sudo umount" in result.remedy
    assert detach_sent(env) == 0


def test_the_runs_own_shorter_timeout_bounds_the_guest_wait(make_env: EnvFactory) -> None:
    env = make_env(hung_on("umount"))
    plan = plan_for(env, UNMOUNT)
    start = env.emu.now()
    result = workflow.run(env.client, plan, **env.kw, timeout=20)
    assert result.outcome is workflow.Outcome.TIMED_OUT
    assert "had not finished after 20 s" in result.message
    assert env.emu.now() - start <= 21


def test_cancel_stops_the_wait_for_the_guest_at_once(make_env: EnvFactory) -> None:
    env = make_env(hung_on("umount"))
    plan = plan_for(env, UNMOUNT)
    token = CancelToken()

    def cancel_once_sent(event: ProgressEvent) -> None:
        if event.phase == "guest-unmount":
            token.cancel()  # Ctrl-C while the unmount runs in the guest

    start = env.emu.now()
    result = workflow.run(env.client, plan, **(env.kw | {"on_progress": cancel_once_sent}), cancel=token)
    assert result.outcome is workflow.Outcome.CANCELLED and result.exit_code == 4
    assert env.emu.now() - start < 2  # at once, not after the guest's timeout
    assert "its result was not read" in result.message and "DetachDisk was not sent" in result.message
    assert detach_sent(env) == 0


def test_a_cancelled_undo_rerun_says_the_guest_was_not_read(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    record = detached_after_unmount(env)
    set_mount_error(env, BAD_SUPERBLOCK)
    undo(env, record, remount=True)  # attached, not mounted back
    set_mount_error(env, None)
    state = env.emu.state()
    state["Emulator"]["Guests"]["i-app"]["HangOn"] = "lsblk"
    env.emu.reset(state)
    token = CancelToken()
    token.cancel()
    plan = workflow.prepare_reattach(env.client, record, remount=True)
    result = workflow.run(env.client, plan, **env.kw, cancel=token)
    assert result.outcome is workflow.Outcome.CANCELLED
    assert "the guest was not read (cancelled)" in result.message
    assert "mount /data" in result.remedy
    assert guest_state(env)["Mounts"][0]["Mounted"] is False
