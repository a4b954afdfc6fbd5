"""The session is the runtime every face asks for: its facts, its clock, how a run waits, a client
per region."""

from __future__ import annotations

from ecs_detach.detach.results import CancelToken
from ecs_detach.emulator import ManualClock
from ecs_detach.preconditions import facts_from_fleet
from ecs_detach.session import open_client
from ecs_detach.workflow import facts_now


def test_an_in_process_demo_session_gives_the_emulators_facts_clock_and_waits() -> None:
    with open_client(demo=True, clock=ManualClock()) as session:
        emulator = session.emulator
        assert emulator is not None
        assert facts_now(session.facts_source) == facts_from_fleet(emulator.state())
        assert session.clock is not None and session.clock() == emulator.now()
        before = emulator.now()
        sleep = session.sleeper(CancelToken())
        assert sleep is not None
        sleep(30.0)
        assert emulator.now() == before + 30.0  # a manual clock moves: no real waiting


def test_a_cancelled_run_does_not_move_the_demo_clock() -> None:
    with open_client(demo=True, clock=ManualClock()) as session:
        assert session.emulator is not None
        token = CancelToken()
        token.cancel()
        sleep = session.sleeper(token)
        assert sleep is not None
        before = session.emulator.now()
        sleep(30.0)
        assert session.emulator.now() == before


def test_a_client_per_region_comes_from_the_session() -> None:
    with open_client(demo=True, clock=ManualClock()) as session:
        assert session.client_for(None) is session.client
        assert session.client_for(session.region_id) is session.client
        other = "cn-shanghai" if session.region_id != "cn-shanghai" else "cn-beijing"
        assert session.client_for(other).region_id == other


def test_a_real_account_has_no_facts_and_waits_in_real_time() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tExampleKey01", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret"}
    with open_client(region="cn-hangzhou", env=env) as session:
        assert session.facts_source is None
        assert session.clock is None
        assert session.sleeper(CancelToken()) is None
