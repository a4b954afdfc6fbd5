"""Read-only: a session in read-only mode sends zero mutating requests, whatever is asked of it.

Checked three ways, each against the emulator's request log: the library (session, workflow, bulk, undo, raw
calls, async client), the scripting CLI (``--read-only`` on every writing command, and a protected profile
that cannot be armed without a terminal), and the TUI (a pilot pressing every mutating key, then a seeded
storm of keys, in read-only mode).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_detach import commands, workflow
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ImmediateClock, ManualClock
from ecs_detach.emulator.server import ServerThread
from ecs_detach.errors import ReadOnlyError
from ecs_detach.journal import Journal
from ecs_detach.preconditions import DetachOptions
from ecs_detach.session import open_client
from ecs_detach.workflow import Outcome, emulator_facts


def writes(requests: list[dict[str, Any]]) -> list[str]:
    """Every call in the log that is not a read (a Describe*: mutations, RunCommand, and anything unknown)."""
    return [r["action"] for r in requests if not r["action"].startswith("Describe")]


def _journal_with_a_detach(emu: Emulator, path: Path) -> Journal:
    """A journal holding a real DetachDisk (so undo has something to offer), made before read-only starts."""
    journal = Journal(path, clock=emu.now)
    with EcsClient.for_emulator(emu, sleep=emu.advance) as writer:
        kw: dict[str, Any] = {"facts": emulator_facts(emu), "clock": emu.now, "sleep": emu.advance}
        plan = workflow.prepare(writer, "d-web-02-data", DetachOptions(), facts=kw["facts"])
        assert workflow.run(writer, plan, journal=journal, **kw).outcome is Outcome.DONE
    emu.gateway.clear_log()
    return journal


# --- the library --------------------------------------------------------------------------------


def test_a_read_only_session_sends_no_mutation_through_any_door(tmp_path: Path) -> None:
    session = open_client(demo=True, read_only=True, clock=ManualClock())
    emu = session.emulator
    assert emu is not None
    journal = _journal_with_a_detach(emu, tmp_path / "journal.jsonl")
    client = session.client
    kw: dict[str, Any] = {"facts": emulator_facts(emu), "clock": emu.now, "sleep": emu.advance}

    plan = workflow.prepare(
        client, "d-web-01-sys", DetachOptions(allow_stop=True, restart=True), **kw_facts(kw)
    )
    result = workflow.run(client, plan, journal=journal, **kw)
    assert result.outcome is Outcome.FAILED and "read-only" in result.message.lower(), result.message
    plans = workflow.prepare_bulk(client, ["d-web-01-data", "d-db-01-data", "d-web-01-sys"], **kw_facts(kw))
    report = workflow.run_bulk(client, plans, journal=journal, **kw)
    assert not report.ok
    last = journal.last_detach("d-web-02-data")
    assert last is not None
    undo = workflow.reattach(client, last[0], journal=journal, **kw)
    assert not undo.ok
    for action in ("StopInstance", "DetachDisk", "RebootInstance", "DeleteDisk", "ModifyDiskAttribute"):
        with pytest.raises(ReadOnlyError):
            client.call(action, {"InstanceId": "i-web-01", "DiskId": "d-web-01-data"})
    calls: list[Callable[[], str]] = [
        lambda: client.stop_instance("i-web-01"),
        lambda: client.start_instance("i-web-01"),
        lambda: client.detach_disk("d-web-01-data", "i-web-01"),
        lambda: client.attach_disk("d-web-02-data", "i-web-02"),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyError):
            call()
    assert writes(emu.requests) == []
    assert [r.action for r in journal.records()][2:] == []  # only the writer's detach: nothing journaled
    session.close()


def kw_facts(kw: dict[str, Any]) -> dict[str, Any]:
    return {"facts": kw["facts"]}


@pytest.mark.anyio
async def test_the_async_client_refuses_mutations_in_read_only_mode_too() -> None:
    session = open_client(demo=True, read_only=True, clock=ManualClock())
    assert session.emulator is not None
    client = session.async_client()
    try:
        for action in ("DetachDisk", "StopInstance", "AttachDisk", "RebootInstance"):
            with pytest.raises(ReadOnlyError):
                await client.call(action, {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"})
        assert len(await client.list_disks()) > 0  # reads still work
    finally:
        await client.aclose()
    assert writes(session.emulator.requests) == []
    session.close()


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[ServerThread]:
    server = Emulator("demo", clock=ImmediateClock()).serve_in_thread()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


WRITING_COMMANDS = [
    ["detach", "d-web-01-data", "--yes"],
    ["detach", "d-web-01-sys", "--yes", "--stop-instance", "--restart-instance"],
    ["detach", "d-web-01-data", "d-db-01-data", "d-web-01-sys", "--yes", "--stop-instance"],
    ["detach", "d-web-01-data", "--yes", "--no-wait", "--json"],
    ["attach", "d-web-02-data", "--instance", "i-web-02", "--yes"],
]


@pytest.mark.parametrize("argv", WRITING_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_cli_read_only_sends_zero_mutating_requests(
    served: ServerThread, home: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    served.emulator.reset()
    code = commands.main([*argv, "--read-only", "--demo", "--endpoint", served.url])
    err = capsys.readouterr().err
    assert code == 2 and "read-only" in err and "Traceback" not in err
    assert writes(served.emulator.requests) == []


def test_cli_a_protected_profile_stays_read_only_without_a_terminal(
    served: ServerThread, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tEmulatorDemoKey")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-secret")
    monkeypatch.setenv("ECS_DETACH_PROTECTED_PROFILES", "env")
    for argv in WRITING_COMMANDS:
        served.emulator.reset()
        code = commands.main([*argv, "--endpoint", served.url])
        err = capsys.readouterr().err
        assert code == 2 and "protected" in err, (argv, err)
        assert writes(served.emulator.requests) == []


# --- the TUI ------------------------------------------------------------------------------------

STORM = 20
MUTATING_KEYS = ["d", "D", "u", "space", "enter", "tab", "y", "ctrl+s"]
STORM_KEYS = [
    *("d", "D", "u", "c", "j", "o", "1", "2", "i", "v", "slash", "escape", "question_mark"),
    *("space", "enter", "tab", "shift+tab", "up", "down", "left", "right", "y", "Y", "x", "w-e-b"),
]


@pytest.mark.anyio
async def test_tui_in_read_only_mode_sends_nothing_whatever_is_pressed(tmp_path: Path) -> None:
    pytest.importorskip("textual")
    from tui.app import EcsDetachApp
    from tui.services import Services

    emu = Emulator("demo", clock=ManualClock())
    journal = _journal_with_a_detach(emu, tmp_path / "journal.jsonl")
    services = Services(
        client=EcsClient.for_emulator(emu),
        profile="demo",
        demo=True,
        clock=emu.now,
        emulator=emu,
        facts=emulator_facts(emu),
        journal=journal,
        sleep=emu.advance,
    )
    app = EcsDetachApp(services, read_only=True, auto_refresh=False)
    rng = random.Random(8)
    async with app.run_test(size=(120, 36)) as pilot:

        async def settle() -> None:
            for _ in range(3):
                await pilot.pause()
                await app.workers.wait_for_complete()

        await settle()
        assert app.read_only
        # The mutating keys on a disk row: detach, mark and bulk-detach, undo; then the journal's undo.
        await pilot.press("tab")
        for keys in [("d", "escape"), ("space", "D", "escape"), ("u", "escape"), ("c", "enter", "escape")]:
            await pilot.press(*keys)
            await settle()
        await pilot.press("j", "u")
        await settle()
        await pilot.press("escape", "escape", "2", "down")  # the all-disks view, another disk
        for key in MUTATING_KEYS:
            await pilot.press(key, "escape")
        await settle()
        # A seeded storm of keys (never ctrl+w, which arms writes on purpose, nor q, which quits).
        for _ in range(STORM):
            key = rng.choice(STORM_KEYS)
            await pilot.press(*(list(key.replace("-", "")) if key == "w-e-b" else [key]))
        await settle()
        assert app.read_only
        notes = " ".join(str(n.message) for n in app._notifications)
    assert writes(emu.requests) == [], writes(emu.requests)
    assert [r.action for r in journal.records()] == ["DetachDisk", "DetachDisk"]  # the writer's, only
    assert "Read-only" in notes or "read-only" in notes
