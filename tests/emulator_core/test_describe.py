"""Describe* actions: shapes as ecs-api.md §2.5, filters, both pagination styles, region rules."""

from __future__ import annotations

import json

import pytest

from ecs_detach.emulator.backend import Backend

from .conftest import error_of


def describe(backend: Backend, action: str, region_hint: str | None = None, **params: str) -> dict:  # type: ignore[type-arg]
    return backend.handle(action, params, region_hint=region_hint)


def disk_ids(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [d["DiskId"] for d in body["Disks"]["Disk"]]


def instance_ids(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [i["InstanceId"] for i in body["Instances"]["Instance"]]


def all_pages(backend: Backend, action: str, key: str, **params: str) -> list[str]:
    ids: list[str] = []
    token = ""
    while True:
        body = describe(backend, action, NextToken=token, MaxResults="10", **params)
        ids += [item[f"{key}Id"] for item in body[f"{key}s"][key]]
        token = body["NextToken"]
        if not token:
            return ids


def test_describe_disks_shape(backend: Backend) -> None:
    body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", DiskIds='["d-web-01-data"]')
    assert set(body) == {"TotalCount", "PageNumber", "PageSize", "NextToken", "Disks"}
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"], body["NextToken"]) == (1, 1, 10, "")
    (disk,) = body["Disks"]["Disk"]
    assert disk["DiskId"] == "d-web-01-data"
    assert disk["Status"] == "In_use"
    assert disk["InstanceId"] == "i-web-01"
    assert disk["Device"] == "/dev/xvdb"
    assert isinstance(disk["Size"], int) and not isinstance(disk["Size"], bool)
    for flag in ("Portable", "DeleteWithInstance", "Encrypted", "DeleteAutoSnapshot", "EnableAutoSnapshot"):
        assert isinstance(disk[flag], bool), flag
    assert disk["Attachments"] == {
        "Attachment": [
            {"InstanceId": "i-web-01", "Device": "/dev/xvdb", "AttachedTime": "2026-01-01T00:00:00Z"}
        ]
    }
    assert disk["OperationLocks"] == {"OperationLock": []}
    assert disk["Tags"] == {
        "Tag": [{"TagKey": "app", "TagValue": "web"}, {"TagKey": "env", "TagValue": "prod"}]
    }
    json.dumps(body)  # plain JSON all the way down


def test_describe_instances_shape(backend: Backend) -> None:
    body = describe(backend, "DescribeInstances", RegionId="cn-hangzhou", InstanceIds='["i-jump-01"]')
    assert set(body) == {"TotalCount", "PageNumber", "PageSize", "NextToken", "Instances"}
    (instance,) = body["Instances"]["Instance"]
    assert instance["InstanceName"] == "jump-01"
    assert instance["OperationLocks"] == {
        "LockReason": [{"LockReason": "security", "LockMsg": "Locked after a security incident."}]
    }
    assert isinstance(instance["Cpu"], int) and isinstance(instance["Memory"], int)
    assert isinstance(instance["IoOptimized"], bool)
    assert instance["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]
    assert instance["SecurityGroupIds"]["SecurityGroupId"]


def test_describe_instance_attribute_and_regions(backend: Backend) -> None:
    body = describe(backend, "DescribeInstanceAttribute", InstanceId="i-jump-01")
    assert body["OperationLocks"] == {"LockReason": [{"LockReason": "security"}]}
    assert body["IoOptimized"] == "optimized"
    assert body["RegionId"] == "cn-hangzhou"
    assert error_of(backend, "DescribeInstanceAttribute", {"InstanceId": "i-nope"}).code == (
        "InvalidInstanceId.NotFound"
    )
    regions = describe(backend, "DescribeRegions")["Regions"]["Region"]
    assert [r["RegionId"] for r in regions] == ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
    assert regions[0] == {
        "RegionId": "cn-hangzhou",
        "LocalName": "华东1（杭州）",
        "RegionEndpoint": "ecs.cn-hangzhou.aliyuncs.com",
        "Status": "available",
    }
    english = describe(backend, "DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]
    assert english[0]["LocalName"] == "China (Hangzhou)"
    assert (
        error_of(backend, "DescribeRegions", {"AcceptLanguage": "xx"}).code
        == "InvalidAcceptLanguage.NotFound"
    )


def test_page_number_and_page_size(backend: Backend) -> None:
    first = describe(backend, "DescribeDisks", RegionId="cn-hangzhou")
    total = first["TotalCount"]
    assert len(first["Disks"]["Disk"]) == 10
    seen: list[str] = []
    page = 1
    while True:
        body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", PageNumber=str(page), PageSize="7")
        assert (body["PageNumber"], body["PageSize"], body["TotalCount"]) == (page, 7, total)
        if not body["Disks"]["Disk"]:
            break
        seen += disk_ids(body)
        page += 1
    assert len(seen) == len(set(seen)) == total
    big = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", PageSize="100")
    assert len(big["Disks"]["Disk"]) == total
    for bad in ("0", "101", "-1", "ten", "1.5", "", " 5"):
        if bad == "":
            continue
        assert error_of(backend, "DescribeDisks", {"RegionId": "cn-hangzhou", "PageSize": bad}).status == 400
    assert error_of(backend, "DescribeDisks", {"RegionId": "cn-hangzhou", "PageNumber": "0"}).status == 400


def test_next_token_and_max_results(backend: Backend) -> None:
    total = describe(backend, "DescribeDisks", RegionId="cn-hangzhou")["TotalCount"]
    ids = all_pages(backend, "DescribeDisks", "Disk", RegionId="cn-hangzhou")
    assert len(ids) == len(set(ids)) == total
    by_pages = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", PageSize="100")
    assert ids == disk_ids(by_pages)
    # MaxResults below 10 counts as 10; the cap is 500 for disks and 100 for instances.
    assert (
        len(describe(backend, "DescribeDisks", RegionId="cn-hangzhou", MaxResults="1")["Disks"]["Disk"]) == 10
    )
    body = describe(backend, "DescribeInstances", RegionId="cn-hangzhou", MaxResults="1000")
    assert body["NextToken"] == ""
    assert "PageNumber" not in body
    instances = all_pages(backend, "DescribeInstances", "Instance", RegionId="cn-hangzhou")
    assert len(instances) == body["TotalCount"]
    bad_token = error_of(backend, "DescribeDisks", {"RegionId": "cn-hangzhou", "NextToken": "not-a-token"})
    assert (bad_token.status, bad_token.code) == (400, "InvalidParameter")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"InstanceId": "i-web-01"}, ["d-web-01-sys", "d-web-01-data", "d-web-01-logs"]),
        ({"InstanceId": "i-web-01", "DiskType": "system"}, ["d-web-01-sys"]),
        ({"InstanceId": "i-web-01", "DiskType": "data"}, ["d-web-01-data", "d-web-01-logs"]),
        ({"InstanceId": "i-cluster-node-2", "DiskType": "data"}, ["d-cluster-shared"]),
        ({"DiskIds": '["d-spare-01", "d-web-02-data", "d-sg-spare-01"]'}, ["d-web-02-data", "d-spare-01"]),
        ({"DiskIds": "[]"}, []),
        ({"Status": "Available", "ZoneId": "cn-hangzhou-h"}, ["d-rescue-01-sys", "d-spare-01", "d-spare-02"]),
        ({"Status": "Detaching"}, ["d-batch-07-scratch1", "d-batch-07-scratch2", "d-batch-03-scratch"]),
        (
            {"Category": "local_hdd_pro", "Portable": "false"},
            ["d-bigdata-01-hdd1", "d-bigdata-01-hdd2", "d-bigdata-01-hdd3"],
        ),
        ({"MultiAttach": "Enabled"}, ["d-cluster-shared"]),
        ({"LockReason": "financial"}, ["d-web-03-archive"]),
        ({"DiskName": "web-0*-data"}, ["d-web-01-data", "d-web-02-data", "d-web-03-data"]),
        ({"DiskName": "*scratch*", "Status": "In_use"}, []),
        ({"Tag.1.Key": "nope"}, []),
    ],
)
def test_disk_filters(backend: Backend, params: dict[str, str], expected: list[str]) -> None:
    body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", PageSize="100", **params)
    assert disk_ids(body) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"InstanceName": "web-*"}, ["i-web-01", "i-web-02", "i-web-03"]),
        ({"InstanceName": "db-primary"}, ["i-db-primary"]),
        ({"InstanceIds": '["i-web-01", "i-sh-web-01"]'}, ["i-web-01"]),
        ({"InstanceIds": "[]"}, []),
        ({"LockReason": "security"}, ["i-jump-01"]),
        ({"LockReason": "recycling"}, ["i-spot-worker-01"]),
        ({"Status": "Stopping"}, ["i-report-01"]),
        ({"InstanceType": "ecs.ebmg7.32xlarge"}, ["i-metal-01"]),
        ({"Tag.1.Key": "app", "Tag.1.Value": "cluster"}, ["i-cluster-node-1", "i-cluster-node-2"]),
        (
            {"ZoneId": "cn-hangzhou-i", "Status": "Stopped", "InstanceName": "*r*"},
            ["i-db-replica", "i-old-crm-01"],
        ),
    ],
)
def test_instance_filters(backend: Backend, params: dict[str, str], expected: list[str]) -> None:
    body = describe(backend, "DescribeInstances", RegionId="cn-hangzhou", PageSize="100", **params)
    assert instance_ids(body) == expected


def test_region_comes_from_the_host_then_the_parameter(backend: Backend) -> None:
    by_host = describe(backend, "DescribeInstances", region_hint="cn-shanghai", PageSize="100")
    assert {i["RegionId"] for i in by_host["Instances"]["Instance"]} == {"cn-shanghai"}
    by_param = describe(backend, "DescribeInstances", RegionId="ap-southeast-1", PageSize="100")
    assert {i["RegionId"] for i in by_param["Instances"]["Instance"]} == {"ap-southeast-1"}
    missing = error_of(backend, "DescribeDisks", {})
    assert (missing.status, missing.code, missing.message) == (
        400,
        "MissingRegionId",
        "RegionId is mandatory for this action.",
    )
    bad = error_of(backend, "DescribeDisks", {"RegionId": "mars-north-1"})
    assert (bad.status, bad.code) == (400, "InvalidRegionId.MalFormed")
    # Without a hint or RegionId, single-object actions find the object in its own region.
    assert (
        describe(backend, "DescribeInstanceAttribute", InstanceId="i-sg-api-01")["RegionId"]
        == "ap-southeast-1"
    )


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"Portable": "yes"}, "Portable"),
        ({"DiskName": "*" * 200}, "DiskName"),
    ],
)
def test_malformed_filters_are_400_invalid_parameter(
    backend: Backend, params: dict[str, str], name: str
) -> None:
    error = error_of(backend, "DescribeDisks", {"RegionId": "cn-hangzhou", **params})
    assert (error.status, error.code) == (400, "InvalidParameter")
    assert name in error.message


@pytest.mark.parametrize(
    ("params", "status", "code", "message"),
    [
        (
            {"DiskIds": "not json"},
            400,
            "InvalidParameter.DiskIds",
            "The specified parameter diskIds is not valid.",
        ),
        (
            {"DiskIds": '{"a": 1}'},
            400,
            "InvalidParameter.DiskIds",
            "The specified parameter diskIds is not valid.",
        ),
        (
            {"DiskIds": "[1, 2]"},
            400,
            "InvalidParameter.DiskIds",
            "The specified parameter diskIds is not valid.",
        ),
        (
            {"DiskIds": "[" * 100_000},
            400,
            "InvalidParameter.DiskIds",
            "The specified parameter diskIds is not valid.",
        ),
        (
            {"DiskIds": json.dumps([f"d-{n}" for n in range(101)])},
            403,
            "InvalidDiskIds.Malformed",
            "The amount of specified disk Ids exceeds the limit.",
        ),
        (
            {"DiskType": "boot"},
            400,
            "InvalidDiskType.ValueNotSupported",
            "The specified disk type is not supported.",
        ),
        (
            {"Category": "bogus"},
            400,
            "InvalidCategory.ValueNotSupported",
            "The specified disk category is not supported.",
        ),
        (
            {"Status": "bogus"},
            400,
            "InvalidStatus.ValueNotSupported",
            "The specified disk status is not supported.",
        ),
        (
            {"Status": "in_use"},
            400,
            "InvalidStatus.ValueNotSupported",
            "The specified disk status is not supported.",
        ),
        ({"LockReason": "bogus"}, 404, "InvalidLockReason.NotFound", "The specified LockReason is not found"),
        (
            {"DiskChargeType": "Free"},
            404,
            "InvalidDiskChargeType.NotFound",
            "The DiskChargeType does not exist in our records",
        ),
        ({"Tag.21.Key": "k"}, 400, "InvalidTagCount", "The specified tags are beyond the permitted range."),
        (
            {"Tag.1.Value": "v"},
            400,
            "InvalidTag.Mismatch",
            "The specified Tag.n.Key and Tag.n.Value are not match.",
        ),
    ],
)
def test_bad_disk_filter_values_answer_the_documented_errors(
    backend: Backend, params: dict[str, str], status: int, code: str, message: str
) -> None:
    """A typo in a filter fails as it does against the cloud, instead of matching nothing."""
    error = error_of(backend, "DescribeDisks", {"RegionId": "cn-hangzhou", **params})
    assert (error.status, error.code, error.message) == (status, code, message)


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"Status": "Bogus"}, "InvalidStatus.NotFound", "The specified Status is not found"),
        ({"Status": "running"}, "InvalidStatus.NotFound", "The specified Status is not found"),
        (
            {"InstanceChargeType": "Free"},
            "InvalidInstanceChargeType.NotFound",
            "The InstanceChargeType does not exist in our records",
        ),
        (
            {"InternetChargeType": "x"},
            "InvalidInternetChargeType.ValueNotSupported",
            "The specified InternetChargeType is not valid",
        ),
        (
            {"InstanceNetworkType": "lan"},
            "InvalidNetworkType.NotFound",
            "The specified InstanceNetworkType is not found",
        ),
        ({"LockReason": "bogus"}, "InvalidLockReason.NotFound", "The specified LockReason is not found"),
    ],
)
def test_bad_instance_filter_values_answer_the_documented_errors(
    backend: Backend, params: dict[str, str], code: str, message: str
) -> None:
    error = error_of(backend, "DescribeInstances", {"RegionId": "cn-hangzhou", **params})
    assert (error.status, error.code, error.message) == (404, code, message)


def test_valid_filter_values_still_filter(backend: Backend) -> None:
    body = describe(backend, "DescribeInstances", RegionId="cn-hangzhou", Status="Stopped", PageSize="100")
    assert body["Instances"]["Instance"] and {i["Status"] for i in body["Instances"]["Instance"]} == {
        "Stopped"
    }
    body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", Category="cloud_essd", PageSize="100")
    assert body["Disks"]["Disk"] and {d["Category"] for d in body["Disks"]["Disk"]} == {"cloud_essd"}
    body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", Category="cloud_auto", Status="All")
    assert body["Disks"]["Disk"] == []


def test_booleans_parse_case_insensitively(backend: Backend) -> None:
    for value in ("true", "True", "TRUE"):
        body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", Portable=value, PageSize="100")
        assert all(d["Portable"] for d in body["Disks"]["Disk"])
    body = describe(backend, "DescribeDisks", RegionId="cn-hangzhou", Portable="False", PageSize="100")
    assert disk_ids(body) == ["d-bigdata-01-hdd1", "d-bigdata-01-hdd2", "d-bigdata-01-hdd3"]


def test_unknown_action(backend: Backend) -> None:
    error = error_of(backend, "DeleteEverything", {})
    assert (error.status, error.code) == (404, "InvalidAction.NotFound")


@pytest.mark.parametrize(
    ("action", "params", "expected"),
    [
        ("DescribeDisks", {"Tag.1.Key": "team", "Tag.1.Value": "dba"}, "db"),
        ("DescribeDisks", {"Tag.1.Key": "env", "Tag.1.Value": "prod"}, "web db"),
        # every tag must match (AND); a key without a value: any value
        (
            "DescribeDisks",
            {"Tag.1.Key": "env", "Tag.1.Value": "prod", "Tag.2.Key": "app", "Tag.2.Value": "web"},
            "web",
        ),
        ("DescribeDisks", {"Tag.1.Key": "app", "Tag.2.Key": "team"}, "db"),
        ("DescribeDisks", {"Tag.1.Key": "team", "Tag.1.Value": "storage", "Tag.2.Key": "env"}, ""),
        # exact and case-sensitive, keys and values
        ("DescribeDisks", {"Tag.1.Key": "env", "Tag.1.Value": "Prod"}, ""),
        ("DescribeDisks", {"Tag.1.Key": "Env", "Tag.1.Value": "prod"}, ""),
        ("DescribeDisks", {"Tag.1.Key": "env", "Tag.1.Value": "pro"}, ""),
        ("DescribeInstances", {"Tag.1.Key": "env", "Tag.1.Value": "prod", "Tag.2.Key": "app"}, "web"),
        ("DescribeInstances", {"Tag.1.Key": "env", "Tag.1.Value": "PROD"}, ""),
        ("DescribeInstances", {"Tag.1.Key": "app", "Tag.1.Value": "web", "Tag.20.Key": "env"}, "web"),
    ],
)
def test_tag_filters_match_every_tag_exactly_on_both_actions(
    backend: Backend, action: str, params: dict[str, str], expected: str
) -> None:
    """``expected``: which demo resources, by the ``app`` tag they carry (the demo's web ones are env=prod
    in cn-hangzhou; its db disks app=db, env=prod, team=dba; the db instances have no tags)."""
    body = describe(backend, action, RegionId="cn-hangzhou", PageSize="100", **params)
    found = disk_ids(body) if action == "DescribeDisks" else instance_ids(body)
    if not expected:
        assert found == []
        return
    prefixes = {"web": ("d-web-0", "i-web-0"), "db": ("d-db-primary-", "d-db-replica-")}
    wanted = tuple(p for name in expected.split() for p in prefixes[name])
    every = describe(backend, action, RegionId="cn-hangzhou", PageSize="100")
    listed = disk_ids(every) if action == "DescribeDisks" else instance_ids(every)
    assert found == [f for f in listed if f.startswith(wanted)] != []
