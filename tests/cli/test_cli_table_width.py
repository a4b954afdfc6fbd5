"""The CLI's tables fit COLUMNS: low-priority columns shrink or go, the id, status and locks stay;
--json is the same whatever the width."""

from __future__ import annotations

import pytest
from cli_helpers import CliRunner

from ecs_detach.tables import Column, Table

COMMANDS = {
    "instances": (("instances", "--demo"), ("Instance", "Status", "Locks")),
    "disks": (("disks", "--demo"), ("Disk", "Role", "Status", "Instances", "Locks")),
    "check": (("check", "d-web-01-sys", "--demo"), ("#", "Result", "Detail")),
    "check-multi": (("check", "d-cluster-shared", "--demo"), ("#", "Result", "Detail")),
}


def _table_lines(out: str) -> list[str]:
    """The table's lines (the header, the rule and the rows), without the sentences around it."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    end = next((i for i in range(rule + 1, len(lines)) if lines[i].startswith(("Verdict:", "("))), len(lines))
    return lines[rule - 1 : end]


@pytest.mark.parametrize("name", list(COMMANDS))
@pytest.mark.parametrize("columns", [80, 120])
def test_tables_fit_the_terminal_and_keep_what_decides_safety(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, name: str, columns: int
) -> None:
    argv, essential = COMMANDS[name]
    monkeypatch.setenv("COLUMNS", str(columns))
    ran = cli(*argv)
    assert ran.code in (0, 3), ran.err
    table = _table_lines(ran.out)
    assert max(len(line) for line in table) < columns, "\n".join(table)
    header = table[0].split()
    assert all(word in header for word in essential), header


def test_the_journal_fits_80_columns_with_operation_ids_attach_accepts(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("detach", "d-web-01-data", "--demo", "--yes").code == 0
    monkeypatch.setenv("COLUMNS", "80")
    ran = cli("journal", "--demo")
    table = _table_lines(ran.out)
    assert max(len(line) for line in table) < 80, "\n".join(table)
    assert {"Operation", "Action", "Disk", "Instance", "Result"} <= set(table[0].split())
    wide = cli("journal", "--demo", "--json").json()["operations"][0]["operation_id"]
    assert wide[:12] in table[2] and wide not in table[2]  # a prefix: `attach --operation` takes 6 or more


def test_a_wide_terminal_shows_every_column(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    header = _table_lines(cli("disks", "--demo").out)[0].split()
    assert header == [
        "Disk", "Name", "Role", "Category", "GiB", "Status", "Instances", "Portable", "Multi",
        "DelWithInst", "Locks",
    ]  # fmt: skip


def test_json_is_the_same_at_any_width(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    wide = cli("disks", "--demo", "--json").json()
    monkeypatch.setenv("COLUMNS", "60")
    assert cli("disks", "--demo", "--json").json() == wide


def test_a_table_names_the_columns_it_left_out() -> None:
    columns = (
        Column("Id", "id", lambda r: r[0]),
        Column("Notes", "notes", lambda r: r[1], drop=1),
    )
    table = Table.build([("d-1", "x" * 70)], columns, "T")
    narrow = table.render(width=40)
    assert "Notes" not in narrow.splitlines()[1] and "not shown, to fit 40 columns: Notes" in narrow
    assert "x" * 70 in table.render()  # no width: unchanged


def test_wrapping_comes_before_dropping() -> None:
    columns = (
        Column("Id", "id", lambda r: r[0]),
        Column("Detail", "detail", lambda r: r[1], wrap=12),
        Column("Extra", "extra", lambda r: r[2], drop=1),
    )
    table = Table.build([("d-1", "a sentence that is long enough to wrap", "e")], columns)
    text = table.render(width=40)
    assert "Extra" in text.splitlines()[0] and max(len(line) for line in text.splitlines()) < 40
