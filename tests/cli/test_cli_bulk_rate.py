"""``detach --rate N`` (bulk): the account's DetachDisk limit; bad values are refused, nothing sent."""

from __future__ import annotations

from cli_helpers import CliRunner, HttpEmulator

from ecs_detach.journal import Journal


def test_bulk_detach_with_a_rate_is_done(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli("detach", "d-web-01-data", "d-web-02-data", "--demo", "--yes", "--rate", "5", "--json")
    assert ran.code == 0, ran.err
    outcomes = {r["disk_id"]: r["outcome"] for r in ran.json()["report"]["results"]}
    assert outcomes == {"d-web-01-data": "done", "d-web-02-data": "done"}
    assert "throttled" not in ran.err


def test_a_bad_rate_is_refused_and_nothing_is_sent(cli: CliRunner, demo_journal: Journal) -> None:
    for bad in ("0", "-3", "fast", "1e9"):
        ran = cli("detach", "d-web-01-data", "d-web-02-data", "--demo", "--yes", "--rate", bad)
        assert ran.code == 2, (bad, ran.err)
        assert "--rate" in ran.err and "Traceback" not in ran.err
    assert list(demo_journal.records()) == []


def test_demo_on_a_served_emulator_paces_by_its_limit(http_emulator: HttpEmulator) -> None:
    from ecs_detach.detach.facts import served_emulator_facts

    facts = served_emulator_facts(http_emulator.url)
    limits = http_emulator.emulator.state()["Emulator"]["RateLimits"]["DetachDisk"]
    assert facts.rate_limit("DetachDisk") == limits["Count"] / limits["PerSeconds"]  # type: ignore[attr-defined]
    assert facts().durations is not None  # the facts themselves, as before
    assert served_emulator_facts("http://127.0.0.1:9").rate_limit("DetachDisk") is None  # type: ignore[attr-defined]
