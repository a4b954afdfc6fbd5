"""Server-side filters for disks and tags (issue 18): the terms the API applies exactly are sent with the
read of a large region, so the screen reads less, and the rows are the ones the screen's own filter keeps.

A tag term (``tag:KEY=VALUE``, ``tag:KEY``) matches exactly and case-sensitive on the screen, as the API's
``Tag.N.Key`` / ``Tag.N.Value`` do. The all-disks view's filtered read is its own: the instances view keeps
the whole disk listing (each instance's disks and its disk count).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tui_helpers import SIZE, browse, build_app, screen_text, settle, type_text

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.models import Disk, Instance
from tui.app import EcsDetachApp
from tui.filtering import (
    TAG_FILTER_LIMIT,
    TagCounts,
    describe_api_filters,
    filter_rows,
    parse_query,
    server_filters,
    within_tag_limit,
)
from tui.rows import disk_details, disk_row, instance_details, instance_row
from tui.screens.browse import BrowseScreen

REGION = "cn-hangzhou"


def _instance(tags: dict[str, str], **raw: Any) -> Instance:
    tag_list = [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
    return Instance({"InstanceId": "i-1", "Status": "Running", "Tags": {"Tag": tag_list}, **raw})


# --- the grammar and the screen's match


def test_a_tag_term_matches_key_and_value_exactly_and_case_sensitive() -> None:
    row = instance_row(_instance({"env": "prod", "Team": "Storage"}), 1)
    assert filter_rows([row], "tag:env=prod") == [row]
    assert filter_rows([row], "tag=env=prod") == [row]  # = as well as :
    assert filter_rows([row], "tag:env") == [row]  # the key, any value
    assert filter_rows([row], "tag:Team=Storage") == [row]
    missing_terms = ("tag:env=Prod", "tag:Env=prod", "tag:env=pro", "tag:team", "tag:Team=storage", "tag:x")
    for missing in missing_terms:
        assert filter_rows([row], missing) == [], missing
    assert filter_rows([row], "-tag:env=prod") == []
    assert filter_rows([row], "!tag:env=dev") == [row]


def test_a_tag_term_is_known_in_every_view_and_keeps_spaces_in_quotes() -> None:
    disk = Disk({"DiskId": "d-1", "Tags": {"Tag": [{"TagKey": "cost center", "TagValue": "R&D 1"}]}})
    row = disk_row(disk, with_instance=True)
    query = parse_query('tag:"cost center=R&D 1"', row.fields)
    assert query.problems == () and filter_rows([row], query) == [row]
    assert filter_rows([row], 'tag:"cost center"') == [row]


def test_the_detail_pane_shows_the_tags_as_a_tag_term_names_them() -> None:
    assert dict(instance_details(_instance({"env": "prod", "Team": "Storage"})))["Tags"] == (
        "env=prod, Team=Storage"
    )
    assert dict(disk_details(Disk({"DiskId": "d-1"})))["Tags"] == "none"


def test_a_tag_term_without_a_key_says_what_works() -> None:
    query = parse_query("tag:=prod web", ["name"])
    assert [t.text for t in query.terms] == ["web"]
    assert query.problems == ("“tag:=prod”: a tag term names its key: tag:KEY or tag:KEY=VALUE",)


# --- what the API is asked


def test_tags_and_statuses_are_sent_to_describe_instances() -> None:
    params = server_filters(parse_query("tag:env=prod tag:team status:running -tag:x=y web"))
    assert params == {"Status": "Running", "Tag": [{"Key": "env", "Value": "prod"}, {"Key": "team"}]}
    assert describe_api_filters(params) == "Status=Running, Tag env=prod, Tag team"
    # an empty value (the API's meaning of it is not the screen's) stays the screen's
    assert server_filters(parse_query("tag:env=")) == {}
    many = " ".join(f"tag:k{n}" for n in range(25))
    assert len(server_filters(parse_query(many))["Tag"]) == 20  # the API takes Tag.1 to Tag.20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status:available", {"Status": "Available"}),
        ("status=In_use", {"Status": "In_use"}),
        ("category=cloud_essd", {"Category": "cloud_essd"}),
        ("role:system", {"DiskType": "system"}),
        ("type=data", {"DiskType": "data"}),
        ("zone=cn-hangzhou-h", {"ZoneId": "cn-hangzhou-h"}),
        ("portable:no", {"Portable": False}),
        ("multiattach:yes", {"MultiAttach": "Enabled"}),
        ("tag:env=prod status:available", {"Status": "Available", "Tag": [{"Key": "env", "Value": "prod"}]}),
        # what the API would keep differently stays the screen's
        ("category:cloud_essd", {}),  # would also be cloud_essd_entry on the screen
        ("category=cloud_new_kind", {}),  # a category the API does not know is refused by it
        ("status:avail", {}),
        ("multiattach:no", {}),  # the API's Disabled leaves out shared disks the screen shows as "no"
        ("zone:hangzhou", {}),
        ("-status:available", {}),
        ("size:>100", {}),
        ("role:system type:data", {}),  # one field named twice
        ("status:available status:in_use", {}),
    ],
)
def test_the_disk_terms_the_api_applies_exactly(text: str, expected: dict[str, Any]) -> None:
    assert server_filters(parse_query(text), "disks") == expected


def test_a_tag_carried_by_1000_rows_or_more_is_left_to_the_screen() -> None:
    """The API filters by tag only up to 1,000 resources: past that, the listing is read whole."""
    tagged = [
        instance_row(_instance({"env": "prod"}, InstanceId=f"i-{n}"), 0) for n in range(TAG_FILTER_LIMIT)
    ]
    query = parse_query("tag:env=prod status:running")
    params = server_filters(query)
    assert within_tag_limit(params, query, TagCounts.of(tagged[:-1])) == params
    assert within_tag_limit(params, query, TagCounts.of(tagged)) == {"Status": "Running"}
    # every tag asked must be carried: env=prod on 1,000 rows but team=core on none of them is sent
    both = parse_query("tag:env=prod tag:team=core")
    assert within_tag_limit(server_filters(both), both, TagCounts.of(tagged)) == server_filters(both)
    # no whole listing counted yet (a first read still coming): the screen filters by tag itself
    assert within_tag_limit(params, query, TagCounts()) == {"Status": "Running"}


# --- the API and the screen keep the same rows, on random fleets

_TAG_KEYS = ("env", "Env", "team")
_TAG_VALUES = ("prod", "Prod", "dev", "")
_TERMS = (
    "tag:env=prod",
    "tag:Env=prod",
    "tag:env=Prod",
    "tag:team",
    "tag:env",
    "tag:team=dev",
    "status:available",
    "status=In_use",
    "category=cloud_essd",
    "role:data",
    "portable:yes",
    "multiattach:yes",
    "zone=cn-hangzhou-h",
    "status:running",
    "status=Stopped",
)

_tags = st.dictionaries(st.sampled_from(_TAG_KEYS), st.sampled_from(_TAG_VALUES), max_size=3)


@st.composite
def _fleets(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 8))
    instances = [
        {
            "InstanceId": f"i-p{n}",
            "ZoneId": draw(st.sampled_from(["cn-hangzhou-h", "cn-hangzhou-i"])),
            "Status": draw(st.sampled_from(["Running", "Stopped"])),
            "Tags": draw(_tags),
        }
        for n in range(count)
    ]
    disks = []
    for n in range(draw(st.integers(0, 12))):
        owner = draw(st.sampled_from([None, *(i["InstanceId"] for i in instances)]))
        disk: dict[str, Any] = {
            "DiskId": f"d-p{n}",
            "Type": "data",
            "ZoneId": next((i["ZoneId"] for i in instances if i["InstanceId"] == owner), "cn-hangzhou-h"),
            "Category": draw(st.sampled_from(["cloud_essd", "cloud_essd_entry", "cloud_efficiency"])),
            "Tags": draw(_tags),
        }
        if owner is not None:
            disk["InstanceId"] = owner
        disks.append(disk)
    return {"Regions": [{"RegionId": REGION}], "Instances": instances, "Disks": disks}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleet=_fleets(), terms=st.lists(st.sampled_from(_TERMS), min_size=1, max_size=3))
def test_the_api_filter_then_the_screen_keeps_what_the_screen_alone_keeps(
    fleet: dict[str, Any], terms: list[str]
) -> None:
    client = EcsClient.for_emulator(Emulator(fleet=fleet, clock=ManualClock()))
    text = " ".join(terms)
    every_instance = [instance_row(i, 0) for i in client.list_instances()]
    every_disk = [disk_row(d, with_instance=True) for d in client.list_disks()]
    for view, every, read in (
        ("instances", every_instance, lambda p: [instance_row(i, 0) for i in client.list_instances(**p)]),
        ("disks", every_disk, lambda p: [disk_row(d, with_instance=True) for d in client.list_disks(**p)]),
    ):
        query = parse_query(text, every[0].fields if every else ())
        params = server_filters(query, view)
        by_the_api = filter_rows(read(params), query)
        assert [r.key for r in by_the_api] == [r.key for r in filter_rows(every, query)], (view, params)


# --- the screen of a large region


def _large_fleet(every: int = 7) -> dict[str, Any]:
    """1,000 instances and 2,000 disks in one region (a large region: 2,000 rows or more); each
    ``every``-th disk is tagged env=prod or env=Prod."""
    fleet = generate_fleet(instances=1000, disks=2000, regions=1)
    for n, disk in enumerate(fleet["Disks"]):
        if n % every == 0:
            disk["Tags"] = {"Tag": [{"TagKey": "env", "TagValue": "prod" if n % 2 else "Prod"}]}
    return fleet


def _describes(emulator: Emulator, action: str, since: int) -> list[dict[str, Any]]:
    return [r["params"] for r in emulator.requests[since:] if r["action"] == action]


def _live_app(emulator: Emulator, tmp_path: Path) -> EcsDetachApp:
    app = build_app(emulator, tmp_path / "journal.jsonl")
    app.live_refresh = True
    return app


def _disk_view_keys(screen: BrowseScreen) -> list[str]:
    rows = screen._all_disk_rows
    query = parse_query(screen.filters["disks"], rows[0].fields if rows else ())
    return [r.key for r in filter_rows(rows, query)]


async def _filter(pilot: Any, text: str) -> None:
    await pilot.press("slash")
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.anyio
async def test_a_disk_filter_in_a_large_region_reads_only_the_disks_it_keeps(tmp_path: Path) -> None:
    emulator = Emulator(fleet=_large_fleet(), clock=ManualClock())
    every = EcsClient.for_emulator(emulator).list_disks()
    available = sorted(d.disk_id for d in every if d.status == "Available")
    assert 0 < len(available) < 2000
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        counts = {row.key: row.fields["disks"] for row in screen._instance_rows}
        await pilot.press("2")
        await settle(pilot)
        since = len(emulator.requests)
        await _filter(pilot, "status:available")
        asked = _describes(emulator, "DescribeDisks", since)
        assert asked and all(p.get("Status") == "Available" for p in asked)
        assert _describes(emulator, "DescribeInstances", since) == []
        assert len(asked) == 1  # one page of 500 instead of four
        assert _disk_view_keys(screen) == available
        assert "read by the API's filter: Status=Available" in screen_text(app)
        # the instances view is untouched: every disk, each instance's count
        assert len(screen.disks) == 2000
        assert {row.key: row.fields["disks"] for row in screen._instance_rows} == counts

        # the slow cadence, while the filtered view is shown, reads its disks only
        since = len(emulator.requests)
        emulator.advance(31)
        screen.poll_refresh()
        await settle(pilot)
        assert _describes(emulator, "DescribeInstances", since) == []
        assert [p.get("Status") for p in _describes(emulator, "DescribeDisks", since)] == ["Available"]

        # back to the instances view: the whole listing is read again, the counts are still true
        since = len(emulator.requests)
        await pilot.press("1")
        await settle(pilot)
        whole = _describes(emulator, "DescribeDisks", since)
        assert len(whole) == 4 and not any("Status" in p for p in whole)
        assert {row.key: row.fields["disks"] for row in screen._instance_rows} == counts

        # clearing the filter shows the whole listing again
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert len(_disk_view_keys(screen)) == 2000
        assert "the API's filter" not in screen_text(app)


@pytest.mark.anyio
async def test_a_tag_filter_is_sent_as_tag_n_and_matches_case_sensitive(tmp_path: Path) -> None:
    emulator = Emulator(fleet=_large_fleet(), clock=ManualClock())
    every = EcsClient.for_emulator(emulator).list_disks()
    prod = sorted(d.disk_id for d in every if ("env", "prod") in d.tags)
    assert prod and len(prod) < len([d for d in every if d.tags])  # "Prod" is another value
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("2")
        await settle(pilot)
        since = len(emulator.requests)
        await _filter(pilot, "tag:env=prod")
        (asked,) = _describes(emulator, "DescribeDisks", since)
        assert (asked["Tag.1.Key"], asked["Tag.1.Value"]) == ("env", "prod")
        assert _disk_view_keys(screen) == prod
        assert "read by the API's filter: Tag env=prod" in screen_text(app)


@pytest.mark.anyio
async def test_a_tag_filter_of_instances_is_sent_with_describe_instances(tmp_path: Path) -> None:
    emulator = Emulator(fleet=_large_fleet(), clock=ManualClock())
    every = EcsClient.for_emulator(emulator).list_instances()
    web = {i.instance_id for i in every if ("role", "web") in i.tags}
    assert 0 < len(web) < 1000
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        since = len(emulator.requests)
        await _filter(pilot, "tag:role=web")
        asked = _describes(emulator, "DescribeInstances", since)
        assert asked and all((p["Tag.1.Key"], p["Tag.1.Value"]) == ("role", "web") for p in asked)
        assert {i.instance_id for i in screen.instances} == web
        assert len(screen.disks) == 2000
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert len(screen.instances) == 1000


@pytest.mark.anyio
async def test_a_tag_on_more_disks_than_the_api_filters_by_is_filtered_on_the_screen(tmp_path: Path) -> None:
    emulator = Emulator(fleet=_large_fleet(every=1), clock=ManualClock())  # every disk tagged
    every = EcsClient.for_emulator(emulator).list_disks()
    prod = sorted(d.disk_id for d in every if ("env", "prod") in d.tags)
    assert len(prod) >= TAG_FILTER_LIMIT
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("2")
        await settle(pilot)
        since = len(emulator.requests)
        await _filter(pilot, "tag:env=prod")
        assert _describes(emulator, "DescribeDisks", since) == []
        assert _disk_view_keys(screen) == prod
        assert "the API's filter" not in screen_text(app)


@pytest.mark.anyio
async def test_clearing_a_disk_filter_the_slow_cadence_read_alone_reads_the_whole_listing(
    tmp_path: Path,
) -> None:
    """The filtered view stood in for the whole listing on the slow cadence: esc reads it all again; a disk
    marked in the filtered view stays marked and chosen."""
    emulator = Emulator(fleet=_large_fleet(), clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("2")
        await settle(pilot)
        await _filter(pilot, "status:available")
        await pilot.press("space")  # mark the first available disk
        await settle(pilot)
        (marked,) = screen.marked
        assert screen.disk(marked).status == "Available"  # type: ignore[union-attr]
        emulator.advance(31)
        screen.poll_refresh()  # the filtered disks only
        await settle(pilot)
        since = len(emulator.requests)
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert len(_describes(emulator, "DescribeDisks", since)) == 4  # every disk, 500 a page
        assert _describes(emulator, "DescribeInstances", since)
        assert len(_disk_view_keys(screen)) == 2000
        assert screen.marked == {marked}
        assert "reading every disk again" not in screen_text(app)


def _narrowed_fleet() -> dict[str, Any]:
    """1,500 instances (and 1,500 disks: a large region), every one tagged team=core, only 400 Running:
    a read narrowed to Status=Running holds fewer than 1,000 of the tag's carriers."""
    fleet = generate_fleet(instances=1500, disks=1500, regions=1)
    for n, instance in enumerate(fleet["Instances"]):
        instance["Tags"] = {"Tag": [{"TagKey": "team", "TagValue": "core"}]}
        instance["Status"] = "Running" if n < 400 else "Stopped"
    return fleet


@pytest.mark.anyio
async def test_a_tag_is_counted_in_the_whole_listing_not_in_a_read_the_api_narrowed(tmp_path: Path) -> None:
    """The API filters by tag only up to 1,000 resources carrying it: the count is the whole listing's
    (its last read without an API filter), not the Status=Running read's 400."""
    emulator = Emulator(fleet=_narrowed_fleet(), clock=ManualClock())
    app = build_app(emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await _filter(pilot, "status:running")
        assert len(screen.instances) == 400  # read by the API's Status filter
        since = len(emulator.requests)
        await pilot.press("slash", "end")
        await type_text(pilot, " tag:team=core")
        await pilot.press("enter")
        await settle(pilot)
        asked = _describes(emulator, "DescribeInstances", since)
        assert not any("Tag.1.Key" in p for p in asked), asked
        text = screen_text(app)
        assert "read by the API's filter: Status=Running" in text and "Tag team" not in text
        query = parse_query(screen.filters["instances"], screen._instance_rows[0].fields)
        assert len(filter_rows(screen._instance_rows, query)) == 400
