"""A multi-attach disk moved off one of its instances stays attached to the others between the halves:
the plan's warning says so (never "attached nowhere (Available)"); a plain disk's still says Available."""

from __future__ import annotations

from ecs_detach.workflow import MoveOptions, prepare_move

from .conftest import EnvFactory
from .test_move import demo


def test_the_move_of_a_multi_attach_disk_warns_it_stays_attached_to_its_other_instances(
    make_env: EnvFactory,
) -> None:
    env = make_env(demo())
    options = MoveOptions("i-web-01", source_instance_id="i-cluster-node-1")
    plan = prepare_move(env.client, "d-cluster-shared", options, facts=env.kw["facts"], journal=env.journal)
    assert plan.executable, plan.plan.refusal
    (between,) = [w for w in plan.plan.warnings if w.startswith("Between the two halves")]
    assert "attached nowhere" not in between and "Available" not in between
    assert "still attached to i-cluster-node-2 only" in between
    assert "if the attach fails it stays attached there" in between
    assert "i-web-01" in between and "i-cluster-node-1" in between


def test_a_plain_disk_s_move_still_warns_it_is_available_between_the_halves(make_env: EnvFactory) -> None:
    env = make_env(demo())
    plan = prepare_move(
        env.client, "d-web-01-data", MoveOptions("i-web-02"), facts=env.kw["facts"], journal=env.journal
    )
    (between,) = [w for w in plan.plan.warnings if w.startswith("Between the two halves")]
    assert "is attached nowhere (Available)" in between and "it stays Available" in between
