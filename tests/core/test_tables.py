"""Tables read well as text and HTML, and give plain records."""

from ecs_detach.models import Disk, Instance
from ecs_detach.tables import disks_table, instances_table

INSTANCE = Instance.from_api(
    {
        "InstanceId": "i-web01",
        "InstanceName": "web-01",
        "Status": "Running",
        "InstanceType": "ecs.g7.large",
        "RegionId": "cn-hangzhou",
        "ZoneId": "cn-hangzhou-h",
        "OperationLocks": {"LockReason": [{"LockReason": "security"}]},
    }
)
DISK = Disk.from_api(
    {
        "DiskId": "d-data01",
        "DiskName": "logs <&>",
        "Type": "data",
        "Category": "cloud_essd",
        "Size": 100,
        "Status": "In_use",
        "InstanceId": "i-web01",
        "Portable": True,
        "MultiAttach": "Disabled",
        "DeleteWithInstance": False,
    }
)


def test_text_table_shows_status_in_words_and_locks() -> None:
    text = str(instances_table([INSTANCE]))
    assert "Running" in text and "security" in text and "i-web01" in text


def test_records_keep_raw_values() -> None:
    [record] = disks_table([DISK]).to_records()
    assert record["status"] == "In_use"
    assert record["portable"] is True
    assert record["instance_ids"] == ("i-web01",)


def test_html_escapes_names() -> None:
    page = disks_table([DISK])._repr_html_()
    assert "<table>" in page and "logs &lt;&amp;&gt;" in page


def test_empty_table_says_none() -> None:
    assert "(none)" in str(disks_table([]))
