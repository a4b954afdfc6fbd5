"""The rows today's DetachDisk page adds (19-21): numbered after the older 18, checked at their API place."""

from __future__ import annotations

from ecs_detach.preconditions import (
    API_ORDER,
    ROWS,
    RULES,
    DetachOptions,
    PlatformFacts,
    RowStatus,
    Verdict,
    check_detach,
    facts_from_fleet,
)

from .builders import disk, instance

FACTS = PlatformFacts(
    no_hot_detach_types=frozenset(),
    no_system_detach_types=frozenset(),
    deleted_image_ids=frozenset(),
    whitelist_disk_ids=frozenset(),
    detaching_limit=2,
    detaching_counts={},
    no_ephemeral_detach_types=frozenset({"ecs.noeph"}),
    missing_base_image_disk_ids=frozenset({"d-sys"}),
)
EPHEMERAL = "elastic_ephemeral_disk_standard"


def test_every_row_is_in_the_api_order_once() -> None:
    assert sorted(API_ORDER) == [spec.number for spec in ROWS] == list(range(1, len(RULES) + 1))


def test_an_elastic_ephemeral_disk_needs_delete_with_instance_true() -> None:
    eph = disk(Category=EPHEMERAL)
    refused = check_detach(eph, instance(), facts=FACTS)
    assert refused.verdict is Verdict.BLOCKED
    assert refused.predicted_code == "InvalidParameter.DeleteWithInstance"
    assert refused.row(20).status is RowStatus.FAIL and "DeleteWithInstance" in refused.row(20).remedy
    ready = check_detach(eph, instance(), DetachOptions(delete_with_instance=True), facts=FACTS)
    assert (ready.verdict, ready.predicted_code) == (Verdict.READY, None)
    assert check_detach(disk(), instance(), facts=FACTS).row(20).status is RowStatus.NOT_APPLICABLE


def test_a_type_that_cannot_detach_an_ephemeral_disk_comes_before_the_parameter() -> None:
    pre = check_detach(disk(Category=EPHEMERAL), instance(InstanceType="ecs.noeph"), facts=FACTS)
    assert pre.predicted_code == "InvalidOperation.DiskCategoryUnsupported"
    assert {row.number for row in pre.failing_rows} == {19, 20}


def test_a_missing_base_image_answers_before_the_instance_status() -> None:
    system = disk(type="system", DiskId="d-sys", ImageId="img-1", Device="/dev/xvda")
    pre = check_detach(system, instance("Running"), facts=FACTS)  # row 14 fails too, but comes later
    assert pre.predicted_code == "InvalidDiskId.OperationNotSupported"
    assert pre.verdict is Verdict.BLOCKED and pre.row(21).status is RowStatus.FAIL
    # Without facts (a real account) the row is unknown, and only for a disk made from an image.
    assert check_detach(system, instance("Stopped")).row(21).status is RowStatus.UNKNOWN
    assert check_detach(disk(), instance()).row(21).status is RowStatus.NOT_APPLICABLE


def test_facts_from_a_fleet_read_the_new_knobs() -> None:
    facts = facts_from_fleet(
        {"Emulator": {"NoEphemeralDiskDetachInstanceTypes": ["ecs.x"], "BaseImageMissingDiskIds": ["d-1"]}}
    )
    assert facts.no_ephemeral_detach_types == frozenset({"ecs.x"})
    assert facts.missing_base_image_disk_ids == frozenset({"d-1"})


def test_the_rules_are_one_registry_in_api_order_found_by_name() -> None:
    from ecs_detach.preconditions import NOT_ATTACHED_HERE, RULES

    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    assert tuple(rule.number for rule in RULES) == API_ORDER
    for index, rule in enumerate(RULES):  # a rule is moot only by rules the API checks before it
        assert set(rule.moot_when) <= set(names[:index]), rule.name
    pre = check_detach(disk(), instance(), DetachOptions(instance_id="i-other"), facts=FACTS)
    assert pre.rule(NOT_ATTACHED_HERE).status is RowStatus.FAIL
    assert pre.rule(NOT_ATTACHED_HERE) is pre.row(8)
    assert pre.row(9).sentence == "Not applicable: the disk is not attached to i-other."
