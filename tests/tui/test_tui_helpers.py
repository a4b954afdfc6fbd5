"""The TUI's pure helpers: rows, filtering, formatting, refresh policy. Plain functions, no Textual."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_detach.models import Disk, Instance
from tui.filtering import filter_rows, fuzzy_match, parse_query
from tui.formatting import duration, eta_text, mask_key, status_text
from tui.policy import FAST_REFRESH_SECONDS, SLOW_REFRESH_SECONDS, refresh_interval, write_refusal
from tui.rows import (
    disk_details,
    disk_rows,
    disks_of,
    instance_columns,
    instance_details,
    instance_rows,
    raw_json,
)


def _instance(i: int, **over: Any) -> Instance:
    raw: dict[str, Any] = {
        "InstanceId": f"i-{i:06d}",
        "InstanceName": f"web-{i}",
        "Status": "Running",
        "InstanceType": "ecs.g7.large",
        "RegionId": "cn-hangzhou",
        "ZoneId": "cn-hangzhou-h",
        "OperationLocks": {"LockReason": []},
    }
    raw.update(over)
    return Instance.from_api(raw)


def _disk(disk_id: str, instance_id: str = "", **over: Any) -> Disk:
    raw: dict[str, Any] = {
        "DiskId": disk_id,
        "DiskName": disk_id.replace("d-", "vol-"),
        "Type": "data",
        "Category": "cloud_essd",
        "Size": 40,
        "Status": "In_use" if instance_id else "Available",
        "RegionId": "cn-hangzhou",
        "ZoneId": "cn-hangzhou-h",
        "InstanceId": instance_id,
        "Device": "/dev/xvdb" if instance_id else "",
        "Portable": True,
    }
    raw.update(over)
    return Disk.from_api(raw)


def test_instance_rows_show_status_in_words_and_count_disks() -> None:
    locked = _instance(2, OperationLocks={"LockReason": [{"LockReason": "security", "LockMsg": "abuse"}]})
    disks = [_disk("d-a", "i-000001"), _disk("d-b", "i-000001"), _disk("d-c")]
    rows = instance_rows([_instance(1), locked], disks)
    assert rows[0].cells == (
        "i-000001",
        "web-1",
        "● Running",
        "ecs.g7.large",
        "cn-hangzhou-h",
        "-",
        "2",
    )
    assert rows[1].cells[5] == "⚠ security"
    assert rows[1].cells[6] == "0"
    with_region = instance_rows([_instance(1)], disks, with_region=True)
    assert with_region[0].cells[0] == "cn-hangzhou"


def test_multi_attach_disk_counts_for_each_instance_and_shows_its_device_there() -> None:
    shared = _disk(
        "d-shared",
        "",
        Status="In_use",
        MultiAttach="Enabled",
        Attachments={
            "Attachment": [
                {"InstanceId": "i-000001", "Device": "/dev/vdc"},
                {"InstanceId": "i-000002", "Device": "/dev/vdd"},
            ]
        },
    )
    rows = instance_rows([_instance(1), _instance(2)], [shared])
    assert [r.cells[-1] for r in rows] == ["1", "1"]
    (row,) = disk_rows([shared], instance_id="i-000002")
    assert row.cells[-1] == "/dev/vdd"
    assert row.cells[7] == "yes"  # multi-attach


def test_disks_of_lists_the_system_disk_first() -> None:
    disks = [
        _disk("d-data", "i-000001", Device="/dev/xvdb"),
        _disk("d-sys", "i-000001", Type="system", Device="/dev/xvda"),
        _disk("d-other", "i-000002"),
    ]
    assert [d.disk_id for d in disks_of(disks, "i-000001")] == ["d-sys", "d-data"]


def test_marked_disks_carry_a_visible_mark() -> None:
    rows = disk_rows([_disk("d-a", "i-1"), _disk("d-b", "i-1")], marked={"d-b"})
    assert [r.cells[0][0] for r in rows] == [" ", "✚"]


def test_details_name_every_attribute_and_raw_json_is_sorted() -> None:
    disk = _disk("d-a", "i-000001", OperationLocks={"OperationLock": [{"LockReason": "financial"}]})
    details = dict(disk_details(disk))
    assert details["Attached to"] == "i-000001 /dev/xvdb"
    assert details["Locks"] == "financial"
    assert details["Portable"] == "yes"
    inst = dict(instance_details(_instance(1)))
    assert inst["Locks"] == "none"
    assert raw_json({"b": 1, "a": 2}).index('"a"') < raw_json({"b": 1, "a": 2}).index('"b"')


def test_fuzzy_terms_match_letters_in_order() -> None:
    assert fuzzy_match("wb1", "web-1")
    assert not fuzzy_match("1bw", "web-1")
    rows = instance_rows([_instance(1), _instance(22)], [])
    assert [r.key for r in filter_rows(rows, "web22")] == ["i-000022"]


def test_field_terms_contain_equal_and_negate() -> None:
    stopped = _instance(3, Status="Stopped")
    rows = instance_rows([_instance(1), stopped], [])
    assert [r.key for r in filter_rows(rows, "status:stop")] == ["i-000003"]
    assert [r.key for r in filter_rows(rows, "state=running")] == ["i-000001"]
    assert [r.key for r in filter_rows(rows, "-status:running")] == ["i-000003"]
    assert [r.key for r in filter_rows(rows, "status:running web-1")] == ["i-000001"]
    assert filter_rows(rows, "") == rows


def test_unknown_fields_are_reported_not_ignored() -> None:
    rows = instance_rows([_instance(1)], [])
    query = parse_query("colour:red web", rows[0].fields)
    assert query.unknown_fields == ("colour",)
    assert len(query.terms) == 1


def test_unbalanced_quotes_while_typing_do_not_raise() -> None:
    rows = instance_rows([_instance(1)], [])
    assert filter_rows(rows, '"web') == rows


def test_filtering_ten_thousand_rows_is_a_quick_pure_function() -> None:
    instances = [_instance(i, Status="Stopped" if i % 7 == 0 else "Running") for i in range(10_000)]
    rows = instance_rows(instances, [])
    stopped = filter_rows(rows, "status:stopped")
    fuzzy = filter_rows(rows, "wb99")
    assert len(stopped) == len([i for i in range(10_000) if i % 7 == 0])
    assert "i-000099" in {r.key for r in fuzzy}


def test_formatting_never_relies_on_colour_and_masks_keys() -> None:
    assert status_text("Detaching") == "◐ Detaching"
    assert status_text("Stopped") == "○ Stopped"
    assert mask_key("LTAI5tEmulatorDemoKey") == "LTAI…oKey"
    assert "Emulator" not in mask_key("LTAI5tEmulatorDemoKey")
    assert duration(65) == "1:05"
    assert duration(3723) == "1:02:03"
    assert eta_text(42, 60) == "~0:18 left"
    assert eta_text(72, 60) == "overdue by 0:12"


def test_refresh_is_fast_while_anything_moves() -> None:
    assert refresh_interval(transitional=True, active_jobs=0) == FAST_REFRESH_SECONDS
    assert refresh_interval(transitional=False, active_jobs=1) == FAST_REFRESH_SECONDS
    assert refresh_interval(transitional=False, active_jobs=0) == SLOW_REFRESH_SECONDS
    assert write_refusal(read_only=False, protected=True) is None
    assert "profile name" in (write_refusal(read_only=True, protected=True) or "")


def test_a_table_lists_a_window_of_a_huge_result_around_the_cursor() -> None:
    from tui.widgets.tables import column_widths, window

    rows = instance_rows([_instance(i) for i in range(10_000)], [])
    assert [r.key for r in window(rows, None, 500)] == [r.key for r in rows[:500]]
    around = window(rows, "i-007000", 500)
    assert len(around) == 500 and "i-007000" in {r.key for r in around}
    assert window(rows[:10], "i-000003", 500) == rows[:10]
    widths = column_widths(instance_columns(), rows[:3])
    assert widths[0] == len("Instance ID")  # the label is wider than these ids


def test_command_line_options_and_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.app import parse_args

    args = parse_args(["--demo", "--region", "cn-shanghai", "--read-only"])
    assert args.demo and args.region == "cn-shanghai" and args.read_only and args.profile is None
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--bogus"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_profile_names_come_from_both_config_files_and_nothing_secret(tmp_path: Path) -> None:
    from tui.launch import configured_profiles

    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text(
        json.dumps({"current": "prod", "profiles": [{"name": "prod", "access_key_secret": "s3cret"}]})
    )
    (tmp_path / ".alibabacloud").mkdir()
    (tmp_path / ".alibabacloud" / "credentials.ini").write_text("[default]\ntype = access_key\n[staging]\n")
    assert configured_profiles(tmp_path, env={}) == ("prod", "default", "staging")
    assert configured_profiles(tmp_path / "nowhere", env={}) == ()


def test_fuzzy_letters_must_fall_within_one_field() -> None:
    rows = instance_rows([_instance(1, InstanceName="sh-web-01", ZoneId="cn-shanghai-2")], [])
    assert filter_rows(rows, "web-02") == []  # not "web-0" from the name and "2" from the zone
    assert len(filter_rows(rows, "shweb")) == 1
