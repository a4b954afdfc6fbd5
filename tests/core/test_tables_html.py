"""A notebook table of a large fleet shows its head and tail, not megabytes of HTML."""

from __future__ import annotations

from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.models import Disk
from ecs_detach.tables import HTML_EDGE_ROWS, disks_table


def test_a_large_table_shows_head_tail_and_how_many_are_left_out() -> None:
    fleet = generate_fleet(instances=400, disks=2000, regions=1, seed=3)
    disks = [Disk.from_api(raw) for raw in fleet["Disks"]]
    table = disks_table(disks)
    page = table._repr_html_()
    assert len(page) < 60_000  # all 2000 rows were ~600 kB
    assert page.count("<tr>") == 2 * HTML_EDGE_ROWS + 2  # header, head, the gap row, tail
    assert f"… {2000 - 2 * HTML_EDGE_ROWS:,} more rows" in page
    assert disks[0].disk_id in page and disks[-1].disk_id in page and disks[1000].disk_id not in page
    assert "(2000 rows)" in page or table.title == ""
    assert len(str(table).splitlines()) >= 2000  # the text form keeps every row


def test_a_small_table_shows_every_row() -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    disks = [Disk.from_api(raw) for raw in emulator.state()["Disks"]]
    page = disks_table(disks)._repr_html_()
    assert all(disk.disk_id in page for disk in disks) and "more rows" not in page
