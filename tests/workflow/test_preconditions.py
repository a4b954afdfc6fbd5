"""The preconditions report: every row, the verdict, the predicted code (pure, on models built from dicts)."""

from __future__ import annotations

from ecs_detach.preconditions import (
    RULES,
    DetachOptions,
    FixKind,
    PlatformFacts,
    RowStatus,
    Verdict,
    check_detach,
    facts_from_fleet,
)

from .builders import disk, instance

KNOWN = PlatformFacts(
    no_hot_detach_types=frozenset({"ecs.old.large"}),
    no_system_detach_types=frozenset({"ecs.bare.metal"}),
    deleted_image_ids=frozenset({"img-gone"}),
    whitelist_disk_ids=frozenset({"d-white"}),
    detaching_limit=2,
    detaching_counts={},
)


def test_a_data_disk_on_a_running_instance_is_ready_and_every_row_is_reported() -> None:
    pre = check_detach(disk(), instance(), facts=KNOWN)
    assert pre.verdict is Verdict.READY
    assert pre.predicted_code is None
    assert [row.number for row in pre.rows] == list(range(1, len(RULES) + 1))
    assert all(row.status in (RowStatus.PASS, RowStatus.NOT_APPLICABLE) for row in pre.rows)
    assert pre.instance_id == "i-web"
    assert "can be detached" in pre.summary


def test_unknown_platform_facts_are_said_unknown_not_guessed() -> None:
    pre = check_detach(disk(), instance())
    assert pre.verdict is Verdict.READY
    unknown = {row.number for row in pre.unknown_rows}
    assert unknown == {11, 17, 18}
    assert all("unknown, the API decides" in row.sentence for row in pre.unknown_rows)
    system = check_detach(disk(type="system"), instance("Stopped"))
    assert {row.number for row in system.unknown_rows} == {11, 13, 15, 18}


def test_a_system_disk_on_a_running_instance_is_fixable_by_stopping() -> None:
    pre = check_detach(disk(type="system"), instance("Running"), facts=KNOWN)
    assert pre.verdict is Verdict.FIXABLE
    assert pre.predicted_code == "IncorrectInstanceStatus"
    assert pre.row(14).status is RowStatus.FIXABLE
    assert [fix.kind for fix in pre.fixes] == [FixKind.STOP_INSTANCE]
    assert pre.needs_stop
    assert "stop instance i-web" in pre.summary


def test_a_security_lock_blocks_with_no_way_around_it() -> None:
    pre = check_detach(disk(type="system"), instance("Running", locks=["security"]), facts=KNOWN)
    assert pre.verdict is Verdict.BLOCKED
    assert pre.predicted_code == "InstanceLockedForSecurity"
    assert "locked for security" in pre.reason
    assert pre.fixes == ()
    # The other failing rows are still reported.
    assert pre.row(14).status is RowStatus.FIXABLE


def test_not_portable_whitelist_image_and_type_violations_are_blocked() -> None:
    cases = [
        (disk(Portable=False, DiskChargeType="PrePaid"), instance(), "DiskNotPortable"),
        (disk(DiskId="d-white"), instance(), "UserNotInTheWhiteList"),
        (disk(type="system"), instance("Stopped", ImageId="img-gone"), "InvalidInstance.ImageCategory"),
        (disk(type="system"), instance("Stopped", InstanceType="ecs.bare.metal"), "DiskTypeViolation"),
        (disk(locks=["financial"]), instance(), "IncorrectDiskStatus"),
    ]
    for d, i, code in cases:
        pre = check_detach(d, i, facts=KNOWN)
        assert pre.verdict is Verdict.BLOCKED, code
        assert pre.predicted_code == code
        assert pre.reason


def test_not_portable_subscription_disk_says_why() -> None:
    pre = check_detach(disk(Portable=False, DiskChargeType="PrePaid"), instance(), facts=KNOWN)
    assert "subscription" in pre.row(10).sentence


def test_already_detached_is_said_plainly() -> None:
    pre = check_detach(disk("Available"), instance(), DetachOptions(instance_id="i-web"), facts=KNOWN)
    assert pre.verdict is Verdict.ALREADY_DETACHED
    assert pre.predicted_code == "InvalidDisk.AlreadyDetached"
    assert "already detached" in pre.summary and "nothing to do" in pre.summary


def test_transitional_states_are_fixable_by_waiting() -> None:
    starting = check_detach(disk(), instance("Starting"), facts=KNOWN)
    assert starting.verdict is Verdict.FIXABLE
    assert starting.predicted_code == "IncorrectInstanceStatus"
    assert [f.kind for f in starting.fixes] == [FixKind.WAIT_INSTANCE]
    attaching = check_detach(disk("Attaching"), instance(), facts=KNOWN)
    assert attaching.verdict is Verdict.FIXABLE
    assert attaching.predicted_code == "IncorrectDiskStatus"
    assert [f.kind for f in attaching.fixes] == [FixKind.WAIT_DISK]


def test_a_type_that_cannot_hot_detach_needs_a_stop() -> None:
    pre = check_detach(disk(), instance(InstanceType="ecs.old.large"), facts=KNOWN)
    assert pre.verdict is Verdict.FIXABLE
    assert pre.predicted_code == "InvalidOperation.InstanceTypeNotSupport"
    assert pre.needs_stop
    stopped = check_detach(disk(), instance("Stopped", InstanceType="ecs.old.large"), facts=KNOWN)
    assert stopped.verdict is Verdict.READY


def test_too_many_detaching_is_fixable_by_waiting() -> None:
    facts = PlatformFacts(detaching_limit=1, detaching_counts={"i-web": 1})
    pre = check_detach(disk(), instance(), facts=facts)
    assert pre.predicted_code == "DisksDetachingOnEcsExceeded"
    assert [f.kind for f in pre.fixes] == [FixKind.WAIT_DETACHES]


def test_already_detaching_is_in_progress() -> None:
    pre = check_detach(disk("Detaching"), instance(), facts=KNOWN)
    assert pre.verdict is Verdict.IN_PROGRESS
    assert pre.predicted_code == "InvalidOperation.DiskDetachingFromThisEcs"


def test_multi_attach_needs_an_instance_and_refuses_delete_with_instance() -> None:
    shared = disk(
        MultiAttach="Enabled",
        InstanceId="",
        Device="",
        Attachments={"Attachment": [{"InstanceId": "i-web"}, {"InstanceId": "i-db"}]},
    )
    unchosen = check_detach(shared, None, facts=KNOWN)
    assert unchosen.predicted_code == "InvalidParameter"
    assert "i-web, i-db" in unchosen.row(1).remedy
    chosen = check_detach(shared, instance(), DetachOptions(instance_id="i-web"), facts=KNOWN)
    assert chosen.verdict is Verdict.READY
    conflict = check_detach(
        shared, instance(), DetachOptions(instance_id="i-web", delete_with_instance=False), facts=KNOWN
    )
    assert conflict.verdict is Verdict.BLOCKED
    assert conflict.predicted_code == "DeleteWithInstance.Conflict"


def test_wrong_instance_and_missing_objects() -> None:
    other = check_detach(disk(), instance(InstanceId="i-other"), DetachOptions(instance_id="i-other"))
    assert other.predicted_code == "DependencyViolation"
    assert "attached to i-web" in other.row(8).sentence
    gone = check_detach(None, instance(), DetachOptions(instance_id="i-web"), disk_id="d-gone")
    assert gone.predicted_code == "InvalidDiskId.NotFound"
    assert gone.verdict is Verdict.BLOCKED
    no_instance = check_detach(disk(), None, DetachOptions(instance_id="i-gone"))
    assert no_instance.predicted_code == "InvalidInstanceId.NotFound"


def test_the_report_serialises_for_json() -> None:
    data = check_detach(disk(type="system"), instance(), facts=KNOWN).to_dict()
    assert data["verdict"] == "fixable"
    assert data["predicted_code"] == "IncorrectInstanceStatus"
    assert len(data["rows"]) == len(RULES)
    assert data["fixes"][0]["kind"] == "stop-instance"


def test_facts_from_a_fleet_file() -> None:
    fleet = {
        "Regions": [{"RegionId": "cn-hangzhou"}],
        "Disks": [
            {"DiskId": "d-1", "Status": "Detaching", "InstanceId": "i-1", "Type": "data"},
        ],
        "Emulator": {
            "NoHotDetachInstanceTypes": ["t1"],
            "DeletedImageIds": ["img-x"],
            "WhitelistRequiredDiskIds": ["d-w"],
            "MaxDetachingDisksPerInstance": 3,
            "Durations": {"DetachDisk": 5},
        },
    }
    facts = facts_from_fleet(fleet)
    assert facts.no_hot_detach_types == frozenset({"t1"})
    assert facts.no_system_detach_types == frozenset()
    assert facts.deleted_image_ids == frozenset({"img-x"})
    assert facts.whitelist_disk_ids == frozenset({"d-w"})
    assert facts.detaching_limit == 3
    assert facts.detaching_counts == {"i-1": 1}
    assert facts.durations.detach == 5
    assert facts.regions == frozenset({"cn-hangzhou"})
