"""One vocabulary: the CLI's `check` and the TUI's checklist show the same symbol and word for every row
status and verdict, and the disk's role has one name in every table."""

from __future__ import annotations

import re

import pytest
from cli_helpers import CliRunner, HttpEmulator, Ran

from ecs_detach import workflow
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.preconditions import GUEST_RULES, ROWS, DetachOptions, Preconditions, RowStatus
from ecs_detach.vocabulary import ROLE, ROW_STATUSES, VERDICTS
from tui import checks

# Between them, these disks show every row status and every verdict.
DISKS = (
    "d-web-01-sys",  # fixable: a system disk on a Running instance
    "d-web-01-data",  # ready
    "d-jump-01-data",  # blocked: security lock
    "d-bigdata-01-hdd1",  # blocked: not portable
    "d-spare-01",  # already detached
    "d-batch-07-scratch1",  # already detaching
)


def _report(disk_id: str, *, facts: bool = True) -> Preconditions:
    """The report as the CLI makes it: with the emulator's facts (demo), or none (an account)."""
    emulator = Emulator(fleet="demo", clock=ManualClock())
    with EcsClient.for_emulator(emulator) as client:
        known = workflow.emulator_facts(emulator) if facts else None
        guest_time = workflow.GuestTime(sleep=emulator.advance, clock=emulator.now)
        options = DetachOptions(guest_check=True)  # as `check` reads it: the guest rows too
        return workflow.inspect(client, disk_id, options, facts=known, guest_time=guest_time)


def _cli_row_labels(out: str) -> dict[int, str]:
    """Row number -> the Result cell of the CLI's preconditions table."""
    labels = {}
    symbols = "".join(label.symbol for label in ROW_STATUSES.values())
    for line in out.splitlines():
        match = re.match(rf"(\d+)\s+.*?\s([{re.escape(symbols)}] [a-z/]+)\s", line)
        if match:
            labels[int(match.group(1))] = match.group(2)
    return labels


def _same_labels(pre: Preconditions, ran: Ran) -> None:
    assert ran.code in (0, 3), ran.err
    cli_rows = _cli_row_labels(ran.out)
    tui_rows = {
        line.number: f"{line.symbol} {line.word}"
        for line in checks.checklist(pre, include_not_applicable=True)
    }
    assert len(tui_rows) == len(ROWS) + len(GUEST_RULES) and cli_rows == tui_rows
    assert f"Verdict: {checks.verdict_short(pre)} — " in ran.out
    banner, _ = checks.verdict_banner(pre)
    assert banner.startswith(VERDICTS[pre.verdict.value].headline)


@pytest.mark.parametrize("disk_id", DISKS)
def test_cli_check_and_tui_checklist_use_the_same_symbol_and_word(cli: CliRunner, disk_id: str) -> None:
    _same_labels(_report(disk_id), cli("check", disk_id, "--demo"))


def test_the_same_words_for_rows_the_api_decides(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    """On an account (no emulator knobs known) rows are unknown: the same ? unknown on both faces."""
    pre = _report("d-web-01-data", facts=False)
    assert pre.unknown_rows
    _same_labels(pre, cli("check", "d-web-01-data", *http_emulator.endpoint_args))


def test_the_disks_cover_every_status_and_verdict() -> None:
    reports = [_report(disk_id) for disk_id in DISKS] + [_report("d-web-01-data", facts=False)]
    assert {row.status for pre in reports for row in pre.rows} == set(RowStatus)
    assert {pre.verdict.value for pre in reports} == set(VERDICTS)


def test_the_tui_knows_no_other_symbols() -> None:
    for status in RowStatus:
        symbol, word = checks.ROW_SYMBOLS[status]
        assert (symbol, word) == (ROW_STATUSES[status.value].symbol, ROW_STATUSES[status.value].word)


def test_the_disk_role_has_one_name(cli: CliRunner) -> None:
    ran = cli("disks", "--demo", "--instance", "i-web-01")
    header = ran.out.splitlines()[1]
    assert ROLE in header.split() and "Kind" not in header
    assert ran.code == 0
