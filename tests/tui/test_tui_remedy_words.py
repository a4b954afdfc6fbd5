"""A refusal or remedy that names a choice says the TUI's way to make it (its box or key), never a CLI flag:
the TUI has no flags. The core keeps such a sentence as data (`ecs_detach.wording`); the CLI still reads
"--unmount" (its tests pin that), the wizard, the move screen and the jobs read their own controls."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static
from tui_helpers import SIZE, go_to_disk, palette_go_to_disk, screen_text, settle

from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.emulator import Emulator
from ecs_detach.errors import (
    _REMEDIES,
    CredentialsError,
    EcsError,
    ReadOnlyError,
    TransportError,
    remedy_for,
    remedy_worded_for,
)
from ecs_detach.journal import JournalError, JournalPathError
from ecs_detach.retry import RetryPolicy
from tui.app import EcsDetachApp
from tui.checks import checklist
from tui.formatting import error_text
from tui.screens.move import MoveScreen
from tui.screens.pickers import PickerScreen
from tui.screens.wizard import DetachWizard
from tui.words import TUI_WORDS

pytestmark = pytest.mark.anyio

# A flag, or one of the command line's subcommands ("ecs-detach reconciles ..." is the tool, not a command).
CLI_FLAG = re.compile(
    r"--[a-z][a-z-]+|\becs-detach (?:instances|disks|check|detach|attach|move|journal|snapshot-fleet)\b"
)


def _flags(text: str) -> list[str]:
    return CLI_FLAG.findall(text)


async def test_the_wizards_checklist_names_the_unmount_box_not_the_flag(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "files-01", "d-files-01-data")
        await pilot.press("d")
        await settle(pilot, 6)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard) and wizard.preconditions is not None
        remedies = [line.remedy for line in checklist(wizard.preconditions) if line.remedy]
        assert "Unmount it first: the “Unmount it in the guest” option does it" in " ".join(remedies)
        assert (
            "Comment it out first (a backup is kept): the “Unmount it in the guest” option does it."
            in remedies
        )
        text = screen_text(app)  # the guest's rows come first: in sight without scrolling
        checks = re.sub(r"\s+", " ", " ".join(line.split("▏")[0] for line in text.splitlines()))
        assert "→ Unmount it first: the “Unmount it in the guest” option does it (umount," in checks
        assert _flags(text) == []
        # The CLI's words are the core's plain text, unchanged.
        assert "--unmount does it" in wizard.preconditions.row(23).remedy


async def _move(pilot: object, app: EcsDetachApp, instance: str, disk_id: str, target: str) -> MoveScreen:
    await go_to_disk(pilot, instance, disk_id)  # type: ignore[arg-type]
    await pilot.press("m")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    picker = app.screen
    assert isinstance(picker, PickerScreen)
    picker.dismiss(target)
    await settle(pilot, 6)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, MoveScreen) and screen.move is not None
    return screen


async def test_the_move_screens_refusal_names_its_unmount_box(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _move(pilot, app, "files-01", "d-files-01-data", "i-web-02")
        verdict = str(screen.query_one("#verdict", Static).render())
        assert verdict.startswith(
            "✗ blocked — Source i-files-01: Disk d-files-01-data is in use in the guest"
        )
        assert "release it first (the “Unmount it in the source's guest” option) to go on." in verdict
        assert _flags(screen_text(app)) == []
        assert screen.move is not None and "(--unmount) to go on" in screen.move.refusal  # the CLI's


async def test_the_move_screens_refusal_names_its_stop_box(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _move(pilot, app, "metal-01", "d-metal-01-data", "i-db-primary")
        verdict = str(screen.query_one("#verdict", Static).render())
        assert "must be stopped first" in verdict
        assert "allow stopping it (the “Stop the source instance” option) to go on." in verdict
        assert _flags(screen_text(app)) == []


async def test_the_move_screens_target_check_names_its_stop_box(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _move(pilot, app, "db-primary", "d-db-primary-data", "i-metal-01")
        text = re.sub(r"\s+", " ", str(screen.query_one("#move-plan", Static).render()))
        assert "needs it Stopped. Allow stopping it (the “Stop the target instance” option) to go on." in text
        verdict = str(screen.query_one("#verdict", Static).render())
        assert (
            "(the “Stop the target instance” option) to go on. (the API answers IncorrectInstanceStatus)"
            in (verdict)
        )
        assert _flags(screen_text(app)) == []


def test_every_choice_has_tui_words_without_a_flag() -> None:
    from ecs_detach.wording import CLI_WORDS, Choice

    assert set(TUI_WORDS) == set(Choice) == set(CLI_WORDS)
    assert [c for c in Choice if _flags(TUI_WORDS[c])] == []


async def test_a_failed_snapshot_says_to_untick_snapshot_first_not_the_flag(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    state = emulator.state()
    state["Emulator"]["FailedSnapshotDiskIds"] = ["d-web-01-data"]  # its CreateSnapshot ends "failed"
    emulator.reset(state)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#snapshot")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.outcome == "failed" and "was not detached" in job.message
        expected = "run the detach again (or without the “Snapshot first” option)."
        assert job.remedy.endswith(expected)
        assert _flags(" ".join(screen_text(app).split())) == []


# --- the errors' remedies: the region, the profile, the endpoint are the TUI's pickers and header, not flags


def _notices(app: EcsDetachApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def _client(emulator: Emulator, **kw: Any) -> EcsClient:
    return EcsClient.for_emulator(emulator, **kw)


async def test_a_region_the_api_refuses_says_to_pick_one_with_g(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app(client=_client(emulator, region_id="cn-nowhere"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        (notice,) = [n for n in _notices(app) if "InvalidRegionId.MalFormed" in n]
        assert "→ The region id is not valid: pick one with the region picker, g." in notice
        assert _flags(notice) == []
        await pilot.press("g")  # what it says is there
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen) and "Switch region" in screen_text(app)


async def test_an_unknown_access_key_says_to_switch_profile_with_p(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    key = Credentials("LTAI5tNoSuchKey00", "not-the-secret")
    app = make_app(client=EcsClient(key, "cn-hangzhou", transport=emulator.transport(), profile_name="ops"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        (notice,) = [n for n in _notices(app) if "InvalidAccessKeyId.NotFound" in n]
        assert "→ The AccessKey ID is unknown: re-check your credentials (the profile picker, P)." in notice
        assert _flags(notice) == []


def test_an_unknown_disk_says_to_check_the_region_with_g(emulator: Emulator) -> None:
    """The screens catch a disk or an instance gone since the listing with a check of their own (row 4, the
    move's target check); the API's NotFound still reaches a notification when it comes first."""
    with pytest.raises(EcsError) as raised:
        _client(emulator).get_disk("d-no-such-disk")
    title, body = error_text(raised.value)
    assert title == "InvalidDiskId.NotFound"
    assert body.endswith("→ No such disk in this region: check the id and the region (the region picker, g).")
    assert raised.value.remedy.endswith("check the id and the region (--region).")  # the CLI's, as before
    assert _flags(body) == []


async def test_no_answer_from_the_endpoint_points_at_the_header_not_a_flag(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    emulator.set_faults(rate=1, kinds=["reset"], actions=["DescribeInstances"])
    app = make_app(client=_client(emulator, retry=RetryPolicy(max_attempts=1)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        notices = [n for n in _notices(app) if "endpoint" in n]
        assert notices, _notices(app)
        assert (
            "→ Check the network, the endpoint (shown at the top of the screen; it is set when the TUI "
            "starts) and any proxy settings, then try again." in notices[0]
        )
        assert _flags(" ".join(notices)) == []


def test_no_error_remedy_names_a_flag_in_the_tui_and_the_cli_keeps_its_words() -> None:
    """Every remedy the client's errors carry, said in the TUI's words, names no flag or command."""
    codes = sorted({*_REMEDIES, *(f"Unknown.{kind}" for kind in ("A", "B"))})
    said = {code: remedy_worded_for(code, 403, action="DetachDisk") for code in codes}
    errors: list[EcsError] = [
        TransportError("no answer"),
        TransportError("no answer", action="DetachDisk", outcome_unknown=True),
        ReadOnlyError("DetachDisk"),
        CredentialsError("no AccessKey found"),
        JournalError("the disk is full"),
        JournalPathError("the journal path is a directory"),
    ]
    in_tui = [s.say(TUI_WORDS) for s in said.values()]
    in_tui += [f"{e.message_in(TUI_WORDS)} {e.remedy_in(TUI_WORDS)}" for e in errors]
    assert [text for text in in_tui if _flags(text)] == []
    assert remedy_for("InvalidRegionId.NotFound") == "No such region: list regions and pick one (--region)."
    assert errors[2].remedy == (
        "Start without --read-only (a protected profile: arm writes by typing the profile name)."
    )
    assert errors[2].remedy_in(TUI_WORDS) == (
        "Turn writes on with ctrl+w (a protected profile: arm writes by typing the profile name)."
    )
    assert "pick it with --profile; or try everything without an account: ecs-detach --demo." in str(
        errors[3]
    )
    tui_howto = "pick it with the profile picker, P; or try everything without an account: quit, and start"
    assert f"{tui_howto} the TUI in demo mode." in errors[3].message_in(TUI_WORDS)


class _DarkAfterDetach(httpx.BaseTransport):
    """The emulator, but DetachDisk's answer is lost and nothing answers after it (the network went down)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.dark = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.dark:
            raise httpx.ConnectError("connection refused", request=request)
        answer = self.inner.handle_request(request)
        action = request.headers.get("x-acs-action") or request.url.params.get("Action", "")
        if action == "DetachDisk":
            self.dark = True
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return answer


async def test_an_outcome_left_unknown_says_to_start_the_tui_again_not_the_journal_command(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    transport = _DarkAfterDetach(emulator.transport())
    app = make_app(client=_client(emulator, transport=transport, retry=RetryPolicy(max_attempts=1)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert transport.dark and job.outcome == "failed", job.message
        assert "whether it went through is unknown" in job.message
        assert job.remedy == "Start the TUI again later: pending calls are reconciled on start."
        notices = _notices(app)  # the job's, and the reads that failed after it (the endpoint's remedy)
        assert any("→ Start the TUI again later" in n for n in notices)
        assert _flags(" ".join(notices)) == []


def test_a_snapshot_the_api_would_refuse_says_to_untick_the_box_in_the_tui(emulator: Emulator) -> None:
    from ecs_detach.detach.snapshot import snapshot_refusal
    from ecs_detach.wording import CLI_WORDS

    disk = _client(emulator).get_disk("d-bigdata-01-hdd1")  # a local disk: never snapshotted
    said, code = snapshot_refusal(disk, None)
    assert said is not None and code == "DiskCategory.OperationNotSupported"
    assert said.say(CLI_WORDS).endswith(  # the command line's words, as before
        "(the API answers DiskCategory.OperationNotSupported). Detach without --snapshot, or back the data "
        "up another way."
    )
    assert said.say(TUI_WORDS).endswith(
        "Detach without the “Snapshot first” option, or back the data up another way."
    )
    assert _flags(said.say(TUI_WORDS)) == []


async def test_a_journal_that_cannot_be_used_says_to_set_it_in_config_toml_not_a_flag(
    make_app: Callable[..., EcsDetachApp], tmp_path: Path
) -> None:
    """The TUI takes no --journal: its journal is config.toml's ``journal`` (the CLI keeps its flag)."""
    (tmp_path / "journal.jsonl").mkdir()  # where make_app's journal is: a directory, not a file
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")  # the wizard reads the journal too (an earlier run of this detach)
        await settle(pilot)
        notices = [n for n in _notices(app) if "journal" in n]
        assert len(notices) == 2  # on start (the reconcile), and the wizard's check
        assert any(
            "journal = PATH in ecs-detach's config.toml, then start the TUI again" in n for n in notices
        ), notices
        assert _flags(" ".join(notices)) == []


async def test_an_unmount_refused_in_the_guest_says_c_on_the_disk_not_the_check_command(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app(client=_client(emulator, retry=RetryPolicy(max_attempts=1)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "files-01", "d-files-01-data")
        await pilot.press("d")
        await settle(pilot, 6)
        await pilot.click("#allow-unmount")
        await settle(pilot, 6)
        emulator.set_faults(rate=1, kinds=["throttling"], actions=["RunCommand"])  # Cloud Assistant says no
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press(*"/data", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.outcome == "failed" and "DetachDisk was not sent" in job.message
        assert job.remedy == "Check the guest by hand, then run the detach again (c on the disk)."
        assert _flags(" ".join(_notices(app))) == []


async def test_moving_a_disk_attached_nowhere_says_where_to_attach_it_not_the_attach_command(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_go_to_disk(pilot, "d-spare-01")  # Available, and no detach of it journaled
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        picker.dismiss("i-web-02")
        await settle(pilot, 6)
        screen = app.screen
        assert isinstance(screen, MoveScreen) and screen.move is not None
        verdict = " ".join(str(screen.query_one("#verdict", Static).render()).split())
        assert verdict == (
            "✗ blocked — Disk d-spare-01 is attached nowhere and no earlier detach of it is journaled; "
            "the TUI attaches only a disk it detached, so attach it to i-web-02 in the ECS console or from "
            "the command line."
        )
        cli = "attach it with `ecs-detach attach d-spare-01 --instance i-web-02`."  # the CLI's, as before
        assert screen.move.refusal.endswith(cli)
        assert _flags(screen_text(app)) == []
