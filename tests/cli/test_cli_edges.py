"""What an operator notices at the edges: the progress bar on a terminal, broken pipes, Ctrl-C outside a wait,
bugs and corrupt journal lines as one message (never a traceback), arming a protected profile, id shapes."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from cli_helpers import CliRunner, HttpEmulator
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_detach.commands._console import Console, Progress
from ecs_detach.commands._parser import UsageError, check_disk_id, check_instance_id
from ecs_detach.journal import Journal
from ecs_detach.workflow import ProgressEvent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_one_bar_with_state_elapsed_eta_and_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setenv("COLUMNS", "120")
    progress = Progress(Console("detach"), bar=True, real_time=False)
    progress(ProgressEvent("detach-disk", "Detaching disk d-1 from instance i-1", "d-1", "i-1"))
    wait = "wait-disk-detached"
    progress(ProgressEvent(wait, "Waiting", "d-1", "i-1", state="Detaching", elapsed=15, eta=45, timeout=300))
    text = screen.getvalue()
    assert "  Detaching disk d-1 from instance i-1\n" in text
    bar = text.rsplit("\r", 1)[-1]
    assert bar.startswith("\x1b[2Kd-1 [")
    assert "Detaching · 15 s elapsed (demo time) · ETA ~45 s · timeout 5 min 00 s" in bar
    assert bar.count("█") == 6 and bar.count("░") == 18  # a quarter of the way
    progress(
        ProgressEvent(wait, "Waiting", "d-1", "i-1", state="Detaching", elapsed=70, eta=None, timeout=300)
    )
    assert "taking longer than usual" in screen.getvalue().rsplit("\r", 1)[-1]
    progress.finish()
    assert screen.getvalue().endswith("\r\x1b[2K")


def test_off_a_terminal_progress_is_plain_lines_without_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    progress = Progress(Console("detach"), bar=False, real_time=True)
    for _ in range(2):
        progress(ProgressEvent("check", "Checking disk d-1", "d-1", "i-1"))
    assert log.getvalue() == "  Checking disk d-1\n"
    assert "\r" not in log.getvalue()


def test_a_broken_pipe_is_one_message(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    from ecs_detach import commands

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = commands.main(["instances", "--demo"])
    assert code == 1
    assert err.getvalue().strip() == "ecs-detach instances: the output was closed early (broken pipe)"


def test_ctrl_c_before_anything_is_sent_and_a_bug_are_one_message(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecs_detach.session

    def interrupted(**kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ecs_detach.session, "open_client", interrupted)
    ran = cli("instances", "--demo")
    assert ran.code == 1 and "interrupted (Ctrl-C) before anything was changed" in ran.err

    def broken(**kw: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ecs_detach.session, "open_client", broken)
    ran = cli("instances", "--demo", "--json")
    assert ran.code == 1
    assert "unexpected error (RuntimeError: boom)" in ran.err and "ECS_DETACH_DEBUG=1" in ran.err
    assert "Traceback" not in ran.text
    assert ran.json()["error"]["code"] == "Internal"


def test_help_exits_0(cli: CliRunner) -> None:
    ran = cli("detach", "--help")
    assert ran.code == 0 and "--stop-instance" in ran.out and "--delete-with-instance" in ran.out


def test_a_corrupt_journal_line_is_a_warning_not_a_crash(cli: CliRunner, journal: Journal) -> None:
    journal.path.parent.mkdir(parents=True)
    journal.path.write_text("{not json\n", encoding="utf-8")
    ran = cli("journal")
    assert ran.code == 0
    assert "ecs-detach journal: warning:" in ran.err and "skipped a corrupt journal line" in ran.err
    assert "Traceback" not in ran.text and "JournalWarning" not in ran.text


def test_a_protected_profile_is_armed_by_typing_its_name(
    cli: CliRunner, http_emulator: HttpEmulator, monkeypatch: pytest.MonkeyPatch, journal: Journal
) -> None:
    monkeypatch.setenv("ECS_DETACH_PROTECTED_PROFILES", "*")
    wrong = cli("detach", "d-web-01-data", *http_emulator.endpoint_args, typed="prod\n")
    assert wrong.code == 2 and "writes not armed" in wrong.err
    assert journal.operations() == []
    # Environment credentials: the name to type is the region.
    armed = cli("detach", "d-web-01-data", *http_emulator.endpoint_args, typed="cn-hangzhou\ny\n")
    assert armed.code == 0, armed.err
    assert "Writes armed" in armed.err


_ID = re.compile(r"^[di]-[A-Za-z0-9][A-Za-z0-9-]*$")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_an_id_of_the_right_shape_or_a_usage_error(text: str) -> None:
    for check, prefix in ((check_disk_id, "d-"), (check_instance_id, "i-")):
        try:
            value = check(text)
        except UsageError as exc:
            assert str(exc) and exc.remedy
        else:
            assert _ID.match(value) and value.startswith(prefix) and len(value) <= 64


def test_the_journal_flag_points_at_another_file(cli: CliRunner, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.jsonl"
    ran = cli("detach", "d-web-01-data", "--demo", "--yes", "--journal", str(elsewhere))
    assert ran.code == 0
    assert len(Journal(elsewhere).operations()) == 1
    assert (
        cli("journal", "--journal", str(elsewhere), "--json").json()["operations"][0]["disk_id"]
        == "d-web-01-data"
    )
