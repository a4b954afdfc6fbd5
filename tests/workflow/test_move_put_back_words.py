"""A move to the instance the disk was detached from (a move that failed after its detach, then ``m`` back
to the source): it is refused, as it is the undo's to do, with a sentence that is true (it said "already
attached" of a disk attached nowhere) and names how each face puts it back."""

from __future__ import annotations

from ecs_detach.models import Disk, Instance
from ecs_detach.move import CheckStatus, MoveCheck, MoveOptions, check_target
from ecs_detach.wording import CLI_WORDS
from tui.words import MOVE_WORDS

SOURCE = Instance.from_api(
    {"InstanceId": "i-web-01", "Status": "Running", "ZoneId": "cn-hangzhou-h", "RegionId": "cn-hangzhou"}
)
AVAILABLE = Disk.from_api(
    {
        "DiskId": "d-web-01-data",
        "Status": "Available",
        "Type": "data",
        "Category": "cloud_essd",
        "ZoneId": "cn-hangzhou-h",
        "RegionId": "cn-hangzhou",
        "Portable": True,
    }
)


def _identity(disk: Disk, source_id: str) -> MoveCheck:
    checks = check_target(disk, source_id, SOURCE, [], MoveOptions(target_instance_id="i-web-01"), None)
    return next(c for c in checks if c.name == "target-other")


def test_a_move_back_to_the_source_of_a_detached_disk_points_to_putting_it_back() -> None:
    check = _identity(AVAILABLE, "i-web-01")
    assert check.status is CheckStatus.FAIL
    cli = check.sentence_in(CLI_WORDS)
    assert "already attached" not in cli
    assert "no longer attached to i-web-01" in cli
    assert "ecs-detach attach d-web-01-data --instance i-web-01" in cli
    assert "u on the disk" in check.sentence_in(MOVE_WORDS)


def test_a_disk_attached_to_the_target_is_still_already_attached() -> None:
    attached = Disk.from_api({**AVAILABLE.raw, "Status": "In_use", "InstanceId": "i-web-01"})
    check = _identity(attached, "i-web-01")
    assert check.status is CheckStatus.FAIL
    assert check.sentence == "Disk d-web-01-data is already attached to i-web-01."
