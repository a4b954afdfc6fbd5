"""A system disk moved to another instance as a data disk (to repair it there) moves back to its own
instance as that instance's system disk (`bootable`, with a password): the plan knows its origin from where
it was attached as the system device, or from the journal, and the emulator keeps that origin."""

from __future__ import annotations

from ecs_detach.move import CheckStatus
from ecs_detach.workflow import MoveOptions, Outcome, prepare_move, run_move

from .conftest import EnvFactory
from .test_move import demo, move, sent

BACK = MoveOptions(
    "i-web-01", allow_stop_source=True, stop_target=False, bootable=True, credential="password"
)


def test_a_system_disk_repaired_elsewhere_moves_back_bootable(make_env: EnvFactory) -> None:
    env = make_env(demo())
    _, away = move(env, "d-web-01-sys", MoveOptions("i-web-02", allow_stop_source=True))
    assert away.outcome is Outcome.DONE, away.message
    plan, back = move(env, "d-web-01-sys", BACK, password="Sup3r-Secret!")
    (system,) = [c for c in plan.checks if c.name == "system-disk"]
    assert system.status is CheckStatus.PASS and "its own" in system.sentence
    assert back.outcome is Outcome.DONE, back.message
    disk = env.disk("d-web-01-sys")
    assert (disk["Status"], disk["InstanceId"], disk["Device"]) == ("In_use", "i-web-01", "/dev/xvda")
    assert sent(env)[-2:] == ["DetachDisk", "AttachDisk"]
    assert "Sup3r-Secret!" not in env.journal.path.read_text()


def test_booting_another_instance_is_refused_and_names_the_disk_s_own(make_env: EnvFactory) -> None:
    env = make_env(demo())
    move(env, "d-web-01-sys", MoveOptions("i-web-02", allow_stop_source=True))
    to_third = MoveOptions("i-web-03", allow_stop_source=True, bootable=True, credential="password")
    plan = prepare_move(env.client, "d-web-01-sys", to_third, facts=env.kw["facts"], journal=env.journal)
    assert not plan.executable and "InvalidInstance.NotOriginInstance" in plan.refusal
    assert "system disk of i-web-01" in plan.refusal  # its own instance, not the one it is on now


def test_without_a_journal_the_origin_is_unknown_and_the_api_decides(make_env: EnvFactory) -> None:
    env = make_env(demo())
    _, away = move(env, "d-web-01-sys", MoveOptions("i-web-02", allow_stop_source=True))
    assert away.outcome is Outcome.DONE
    plan = prepare_move(env.client, "d-web-01-sys", BACK, facts=env.kw["facts"], journal=None)
    (system,) = [c for c in plan.checks if c.name == "system-disk"]
    assert system.status is CheckStatus.UNKNOWN and plan.executable
    result = run_move(env.client, plan, **env.kw, password="Sup3r-Secret!")
    assert result.outcome is Outcome.DONE, result.message  # the emulator still knows where it came from
