"""What decides safety stays on screen from 80x24 up: the region and endpoint, the Locks and Status columns,
the checklist's sentences, the steps to be run while an id is typed, the whole of a bulk reason, and Quit.

Each test drives the real app at the size where the item was broken and reads what the terminal shows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from tui_helpers import browse, go_to_disk, screen_text, settle, type_text

from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.rows import Column
from tui.screens.bulk import BulkDetachScreen
from tui.screens.confirm import ConfirmScreen
from tui.services import Services
from tui.widgets.identity import Identity, identity_line
from tui.widgets.tables import RowTable, fit_columns

pytestmark = pytest.mark.anyio

SMALL = (80, 24)
LARGE = (120, 36)


def _lines(app: EcsDetachApp) -> list[str]:
    return screen_text(app).splitlines()


def _header(app: EcsDetachApp, first_label: str) -> str:
    """The table header line that starts with ``first_label`` (e.g. "Instance ID")."""
    headers = [line for line in _lines(app) if line.strip().startswith(first_label)]
    assert headers, f"no header starting with {first_label!r} on screen:\n{screen_text(app)}"
    return headers[0]


def _flat(app: EcsDetachApp) -> str:
    """The screen's words as one line: wrapped text reads as it was written."""
    return " ".join(screen_text(app).split())


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_identity_bar_keeps_region_and_endpoint(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        bar = _lines(app)[0]
        assert "cn-hangzhou" in bar and "in-process emulator" in bar and "demo" in bar
        assert "DEMO" in bar and "WRITES ARMED" in bar


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_all_regions_keeps_the_endpoint_in_the_identity_bar(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        bar = _lines(app)[0]
        assert "ALL" in bar and "in-process emulator" in bar and "WRITES ARMED" in bar


def test_a_demo_on_a_served_emulator_shows_its_endpoint_not_in_process() -> None:
    """`--demo --endpoint URL` talks to that URL: the bar says so (errors point at the endpoint shown)."""
    client = EcsClient(
        Credentials("LTAI5tEmulatorDemoKey", "s"), "cn-hangzhou", endpoint="http://127.0.0.1:8470"
    )
    identity = Services(client=client, profile="demo", demo=True).identity(read_only=False)
    assert identity.endpoint == "http://127.0.0.1:8470" and identity.demo


def test_the_identity_line_gives_up_words_before_facts() -> None:
    identity = Identity(
        "production-admin", "LTAI****Key", "cn-hangzhou", "https://ecs.cn-hangzhou.aliyuncs.com"
    )
    wide = identity_line(identity, 200)
    assert wide.plain.startswith(" ecs-detach ") and "profile production-admin" in wide.plain
    for width in (70, 56, 50, 44):
        line = identity_line(identity, width).plain
        assert len(line) <= width, (width, line)
        assert "production-admin" in line and "cn-hangzhou" in line, (width, line)
        assert "ecs.cn-ha" in line, (width, line)  # the endpoint is cut last
    assert "ecs.cn-hangzhou.aliyuncs.com" in identity_line(identity, 62).plain
    tiny = identity_line(identity, 20).plain
    assert len(tiny) <= 20 and tiny.endswith("…")


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_instances_table_shows_status_and_locks(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert browse(app).query_one("#instances", RowTable).select_key("i-jump-01")
        await settle(pilot, 1)
        header = _header(app, "Instance ID")
        assert "Status" in header and "Locks" in header
        (row,) = [line for line in _lines(app) if "i-jump-01" in line and "Running" in line]
        assert "⚠ security" in row


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_disks_tables_show_status_and_the_instance(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        header = _header(app, "Disk ID")
        assert "Status" in header and "Role" in header
        await pilot.press("escape", "2")  # every disk of the region
        await settle(pilot, 1)
        header = _header(app, "Disk ID")
        assert "Instance" in header and "Status" in header and "Role" in header
        assert browse(app).query_one("#all-disks", RowTable).select_key("d-web-01-data")
        await settle(pilot, 1)
        (row,) = [line for line in _lines(app) if "d-web-01-data" in line]
        assert "i-web-01" in row and "In_use" in row


async def _wizard(pilot: Pilot[int], instance: str, disk: str, key: str = "d") -> None:
    await settle(pilot)
    await go_to_disk(pilot, instance, disk)
    await pilot.press(key)
    await settle(pilot)


async def test_the_checklist_shows_its_sentences_at_80x24(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await _wizard(pilot, "jump-01", "d-jump-01-data", "c")
        text = _flat(app)
        assert "BLOCKED" in text
        assert "5. Instance i-jump-01 is locked for security reasons" in text  # what refuses it, first
        assert "23. Nothing of the disk is mounted in the guest." in text
        assert "q Quit" in _lines(app)[-1]
        await pilot.press("tab")  # the rest of the list, by keyboard
        assert app.focused is not None and app.focused.id == "wizard-checks"
        for _ in range(12):
            if "Disk d-jump-01-data exists (In_use)." in _flat(app):
                break
            await pilot.press("down")
        text = _flat(app)
        assert "Instance i-jump-01 exists (Running)." in text
        assert "Disk d-jump-01-data exists (In_use)." in text


async def test_the_stop_case_shows_the_fix_and_the_steps_at_80x24(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await _wizard(pilot, "web-01", "d-web-01-sys")
        await pilot.press("s")
        await settle(pilot)
        text = _flat(app)
        assert "↻ FIXABLE" in text and "Stop the instance" in text
        assert "1. Stop instance i-web-01" in text and "3. Detach disk d-web-01-sys" in text
        assert "Stop and detach…" in text


async def test_the_confirmation_keeps_the_steps_in_sight_while_the_id_is_typed(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await _wizard(pilot, "web-01", "d-web-01-sys")
        await pilot.press("s")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await type_text(pilot, "i-web-01")
        await settle(pilot, 1)
        text = _flat(app)
        assert "1. Stop instance i-web-01" in text
        assert "3. Detach disk d-web-01-sys from instance i-web-01" in text
        assert "type i-web-01" in text and "Stop and detach" in text


async def test_bulk_reasons_are_readable_whole(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "jump-01", "d-jump-01-data")
        await pilot.press("space")
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("space")
        assert browse(app).marked == {"d-jump-01-data", "d-web-01-data"}
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        (blocked,) = [p for p in screen.plans if p.disk_id == "d-jump-01-data"]
        reason = blocked.preconditions.reason if blocked.preconditions else ""
        assert len(reason) > 60
        await pilot.press("down" if screen.plans[0].disk_id != "d-jump-01-data" else "up")
        await settle(pilot, 1)
        assert " ".join(reason.split()) in _flat(app)
        assert "q Quit" in _lines(app)[-1]


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_footer_keeps_quit(make_app: Callable[..., EcsDetachApp], size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "q Quit" in _lines(app)[-1]
        await _wizard(pilot, "web-01", "d-web-01-sys")
        assert "q Quit" in _lines(app)[-1]


def test_columns_are_narrowed_then_given_up_by_priority() -> None:
    columns = [
        Column("id", "ID"),
        Column("name", "Name", priority=3, shrink=3),
        Column("status", "Status", priority=1),
        Column("size", "Size", priority=4),
        Column("instance", "Instance", priority=1, shrink=2),
    ]
    widths = [10, 20, 8, 6, 30]
    assert fit_columns(columns, widths, 200, 2) == list(enumerate(widths))
    # size goes first, then the name is narrowed, then given up; the instance is narrowed before status goes
    assert fit_columns(columns, widths, 74, 2) == [(0, 10), (1, 18), (2, 8), (4, 30)]
    assert fit_columns(columns, widths, 50, 2) == [(0, 10), (2, 8), (4, 26)]
    assert fit_columns(columns, widths, 20, 2) == [(0, 10)]  # id stays, even if the table must scroll
    assert fit_columns(columns, widths, 5, 2) == [(0, 10)]


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_a_locked_disk_shows_its_lock(
    make_app: Callable[..., EcsDetachApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-03", "d-web-03-archive")
        assert "Locks" in _header(app, "Disk ID")
        (row,) = [line for line in _lines(app) if "d-web-03-archive" in line]
        assert "⚠ financial" in row and "In_use" in row


def _visible(app: EcsDetachApp, *pieces: str) -> list[str]:
    """The pieces not on the terminal right now (each must sit whole on one screen line)."""
    lines = _lines(app)
    return [piece for piece in pieces if not any(piece in line for line in lines)]


GUEST_LINES = (
    "23. Mounted in the guest at /data",
    "24. /etc/fstab names the disk",
    "22. Cloud Assistant read the guest",
)


async def test_the_wizard_shows_the_guest_rows_and_its_button_at_120x36(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await _wizard(pilot, "files-01", "d-files-01-data")
        assert _visible(app, *GUEST_LINES, "Unmount it in the guest (/etc/fstab lines commented out)") == []
        await pilot.click("#allow-unmount")
        await settle(pilot)
        assert _visible(app, *GUEST_LINES, "Unmount and detach…") == []


async def test_the_wizard_at_80x24_shows_the_guest_first_and_signposts_the_rest(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await _wizard(pilot, "files-01", "d-files-01-data")
        assert _visible(app, *GUEST_LINES, "↓ more below: tab here, then ↓ or PgDn") == []
        await pilot.press("tab")  # from Cancel (focused first) round to the checklist
        assert app.focused is not None and app.focused.id == "wizard-checks"
        await pilot.press("end")
        await settle(pilot)
        assert "↓ more below" not in screen_text(app)
        assert "18. 0 disk(s) detaching from the instance" in _flat(app)  # the last row, by number
        assert "Detach…" in screen_text(app)


def _left_column(app: EcsDetachApp) -> str:
    """The wizard's checklist pane at 120x36 (left of the plan pane's border), with every blank removed: a
    word folded onto the next line reads whole."""
    return "".join("".join(line.split("▏")[0].split()) for line in _lines(app))


@pytest.mark.parametrize(
    ("instance", "disk", "word"),
    [
        ("batch-03", "d-batch-03-scratch", "(InvalidOperation.DiskDetachingFromThisEcs)"),
        ("files-01", "d-files-01-data", "`UUID=5a4d7ba4-60c4-4734-8718-9524fde2ed95"),
    ],
)
async def test_a_word_longer_than_the_checklist_column_is_folded_not_cut(
    make_app: Callable[..., EcsDetachApp], instance: str, disk: str, word: str
) -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await _wizard(pilot, instance, disk)
        assert word in _left_column(app)


def _right_column(app: EcsDetachApp) -> str:
    """The wizard's plan pane at 120x36 (right of the checklist pane's border), with every blank removed."""
    return "".join("".join(line.split("▏", 1)[1].split()) for line in _lines(app) if "▏" in line)


async def test_a_check_that_needs_a_stop_shows_what_d_would_do(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    """c on a system disk of a Running instance: the right-hand pane is not empty but shows the plan d would
    run once the stop is allowed, its steps and commands, and nothing is sent."""
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await _wizard(pilot, "web-01", "d-web-01-sys", "c")
        right = _right_column(app)
        assert "Whatdwoulddo,onceyouallowthestop" in right
        assert "1.Stopinstancei-web-01" in right and "3.Detachdiskd-web-01-sys" in right
        assert "aliyunecsStopInstance" in right and "aliyunecsDetachDisk" in right
        assert "Stop and detach…" not in screen_text(app)  # a check offers no button that sends
        assert not any(r["action"] in {"StopInstance", "DetachDisk"} for r in emulator.requests)


async def test_the_bulk_table_keeps_what_happens_at_80x24_beside_a_wide_verdict(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    """A disk already detaching ("◐ already detaching", the widest verdict) marked with a ready one: at
    80x24 the table still says what happens to each disk (the role, said again under the table, goes
    first)."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "batch-03", "d-batch-03-data")
        await pilot.press("space", "space")  # the data disk, then the scratch disk (Detaching)
        assert browse(app).marked == {"d-batch-03-data", "d-batch-03-scratch"}
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, BulkDetachScreen)
        assert "What happens" in _header(app, "Disk")
        rows = {line.split()[0]: line for line in _lines(app) if " i-batch-03 " in line and " — " not in line}
        assert "◐ already detaching" in rows["d-batch-03-scratch"]
        assert "nothing to send" in rows["d-batch-03-scratch"]
        assert "✓ ready" in rows["d-batch-03-data"] and "DetachDisk" in rows["d-batch-03-data"]
