"""Over real HTTP (uvicorn, 127.0.0.1): the DetachDisk decision table, refusals, control API, faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gw_signing import send, v1, v3

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, Emulator

# Messages word for word: the DetachDisk API page first, then ecs-api.md §4 for the rows the page omits.
DECISION_TABLE = [
    # row, DiskId, InstanceId, extra params, HTTP, Code, Message
    (1, "", "i-web-01", {}, 400, "InvalidParameter",
     "The input parameter is mandatory for processing this request is empty."),
    (1, "d-web-01-data", "", {}, 400, "InvalidParameter",
     "The input parameter is mandatory for processing this request is empty."),
    (2, "d-web-01-data", "i-web-01", {"RegionId": "xx-nowhere-9"}, 400, "InvalidRegionId.MalFormed",
     "The specified RegionId is not valid."),
    (3, "d-web-01-data", "i-nope", {}, 404, "InvalidInstanceId.NotFound",
     "The specified InstanceId does not exist."),
    (4, "d-nope", "i-web-01", {}, 404, "InvalidDiskId.NotFound", "The specified disk does not exist."),
    (5, "d-jump-01-data", "i-jump-01", {}, 403, "InstanceLockedForSecurity",
     "The instance is locked due to security."),
    (6, "d-cluster-shared", "i-cluster-node-1", {"DeleteWithInstance": "false"}, 403,
     "DeleteWithInstance.Conflict", "Multi attach disk cannot be set to DeleteWithInstance attribute."),
    (7, "d-spare-01", "i-web-01", {}, 404, "InvalidDisk.AlreadyDetached",
     "The specified disk has been detached."),
    (8, "d-web-01-data", "i-web-02", {}, 403, "DependencyViolation",
     "The specified disk has not been attached on the specified instance."),
    (9, "d-batch-07-scratch1", "i-batch-07", {}, 403, "InvalidOperation.DiskDetachingFromThisEcs",
     "The specified disk is detaching from this ecs."),
    (10, "d-bigdata-01-hdd1", "i-bigdata-01", {}, 403, "DiskNotPortable",
     "The specified disk is not a portable disk."),
    (11, "d-vault-01-data", "i-vault-01", {}, 403, "UserNotInTheWhiteList",
     "The user is not in disk white list."),
    (12, "d-web-03-archive", "i-web-03", {}, 403, "IncorrectDiskStatus",
     "The current disk status does not support this operation."),
    (12, "d-batch-04-input", "i-batch-04", {}, 403, "IncorrectDiskStatus",
     "The current disk status does not support this operation."),
    (13, "d-tiny-01-sys", "i-tiny-01", {}, 403, "DiskTypeViolation",
     "The specified disk is a system disk and cannot support the operation."),
    (14, "d-web-01-sys", "i-web-01", {}, 403, "IncorrectInstanceStatus",
     "The current status of the resource does not support this operation."),
    (15, "d-legacy-01-sys", "i-legacy-01", {}, 403, "InvalidInstance.ImageCategory",
     "The image category of the specified instance does not support detaching system disk."),
    (16, "d-report-01-data", "i-report-01", {}, 403, "IncorrectInstanceStatus",
     "The current status of the resource does not support this operation."),
    (17, "d-metal-01-data", "i-metal-01", {}, 400, "InvalidOperation.InstanceTypeNotSupport",
     "The instance type of the specified instance does not support hot detach disk."),
    (18, "d-batch-07-data", "i-batch-07", {}, 400, "DisksDetachingOnEcsExceeded",
     "The number of disks detaching on the instance exceeds the limit."),
]  # fmt: skip


def api(http: httpx.Client, action: str, params: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    return send(http, v3(action, params, host=http.base_url.netloc.decode(), **kw))


def disk(http: httpx.Client, disk_id: str) -> dict[str, Any]:
    body = api(http, "DescribeDisks", {"RegionId": "cn-hangzhou", "DiskIds": f'["{disk_id}"]'}).json()
    found: dict[str, Any] = body["Disks"]["Disk"][0]
    return found


@pytest.mark.parametrize(
    ("row", "disk_id", "instance_id", "extra", "status", "code", "message"),
    DECISION_TABLE,
    ids=[f"row{r[0]}-{r[5]}-{r[1] or 'nodisk'}" for r in DECISION_TABLE],
)
def test_every_decision_table_row_over_http(
    http: httpx.Client,
    row: int,
    disk_id: str,
    instance_id: str,
    extra: dict[str, str],
    status: int,
    code: str,
    message: str,
) -> None:
    params = {"DiskId": disk_id, "InstanceId": instance_id, **extra}
    response = api(http, "DetachDisk", params)
    body = response.json()
    assert (response.status_code, body["Code"], body["Message"]) == (status, code, message)
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == "127.0.0.1"
    assert body["Recommend"] == (
        f"https://api.aliyun.com/troubleshoot?q={code}&product=Ecs&requestId={body['RequestId']}"
    )


def test_a_detach_goes_through_detaching_to_available_as_the_clock_advances(http: httpx.Client) -> None:
    response = api(http, "DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"})
    assert response.status_code == 200
    assert list(response.json()) == ["RequestId"]
    assert disk(http, "d-web-01-data")["Status"] == "Detaching"
    assert http.post("/_emulator/clock", json={"advance_seconds": 60}).status_code == 200
    detached = disk(http, "d-web-01-data")
    assert detached["Status"] == "Available"
    assert (detached["InstanceId"], detached["Device"], detached["DeleteWithInstance"]) == ("", "", False)
    assert detached["DetachedTime"]


def test_v1_get_reaches_the_same_backend_over_http(http: httpx.Client) -> None:
    signed = v1("DetachDisk", {"DiskId": "d-nope", "InstanceId": "i-web-01"})
    response = http.get("/?" + signed.query)
    assert (response.status_code, response.json()["Code"]) == (404, "InvalidDiskId.NotFound")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"key": (EMULATOR_ACCESS_KEY_ID, "wrong-secret")}, 400, "SignatureDoesNotMatch"),
        ({"key": ("LTAI5tUnknownKey000", "x")}, 404, "InvalidAccessKeyId.NotFound"),
        ({"date": "2020-01-01T00:00:00Z"}, 400, "InvalidTimeStamp.Expired"),
    ],
)
def test_gateway_refusals_over_http(
    http: httpx.Client, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = api(http, "DescribeRegions", **kwargs)
    assert (response.status_code, response.json()["Code"]) == (status, code)


def test_a_replayed_request_is_refused_over_http(http: httpx.Client) -> None:
    signed = v3("DescribeRegions", host=http.base_url.netloc.decode())
    assert send(http, signed).status_code == 200
    replay = send(http, signed)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")


# ---------------------------------------------------------------- control API


def test_health_state_and_requests(http: httpx.Client) -> None:
    assert http.get("/_emulator/health").json()["status"] == "ok"
    state = http.get("/_emulator/state").json()
    assert set(state) >= {"Regions", "Instances", "Disks", "Emulator"}
    api(http, "DescribeRegions")
    logged = http.get("/_emulator/requests").json()["requests"]
    assert [(e["action"], e["status"], e["code"]) for e in logged] == [("DescribeRegions", 200, "")]
    assert http.delete("/_emulator/requests").json() == {"requests": []}


def test_reset_takes_a_fleet_file_or_demo(http: httpx.Client) -> None:
    small = {"Regions": [{"RegionId": "cn-hangzhou"}], "Instances": [{"InstanceId": "i-only"}], "Disks": []}
    assert http.post("/_emulator/reset", json=small).json()["instances"] == 1
    assert [i["InstanceId"] for i in http.get("/_emulator/state").json()["Instances"]] == ["i-only"]
    assert http.post("/_emulator/reset", json={"fleet": "demo"}).json()["instances"] > 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/_emulator/reset", {"Instances": "nope"}, 400),
        ("/_emulator/reset", [1, 2], 400),
        ("/_emulator/reset", {"fleet": "/no/such/fleet.json"}, 400),
        ("/_emulator/clock", {"advance_seconds": -1}, 400),
        ("/_emulator/clock", {"advance_seconds": "60"}, 400),
        ("/_emulator/clock", {}, 400),
        ("/_emulator/faults", {"rate": 2}, 400),
        ("/_emulator/faults", {"kinds": ["meteor"]}, 400),
        ("/_emulator/faults", {"rate": 0.1, "colour": "red"}, 400),
        ("/_emulator/nothing", {}, 404),
    ],
)
def test_bad_control_requests_get_a_clear_4xx(http: httpx.Client, path: str, body: Any, status: int) -> None:
    response = http.post(path, json=body)
    assert response.status_code == status
    assert response.json()["error"]


def test_control_rejects_a_wrong_method(http: httpx.Client) -> None:
    assert http.get("/_emulator/reset").status_code == 405


@pytest.mark.anyio
async def test_the_control_api_answers_loopback_clients_only(http_emulator: Emulator) -> None:
    app = http_emulator.asgi_app()
    remote = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=remote, base_url="http://emulator") as client:
        response = await client.get("/_emulator/state")
        assert response.status_code == 403
        assert "loopback" in response.json()["error"]
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=local, base_url="http://emulator") as client:
        assert (await client.get("/_emulator/health")).status_code == 200


# ---------------------------------------------------------------- faults


def _codes_under_faults(http: httpx.Client, seed: int) -> list[str]:
    plan = {"rate": 0.5, "kinds": ["internal_error", "service_unavailable", "throttling"], "seed": seed}
    assert http.post("/_emulator/faults", json=plan).status_code == 200
    codes = []
    for _ in range(30):
        response = api(http, "DescribeRegions", {"AcceptLanguage": "en-US"})
        codes.append("ok" if response.status_code == 200 else response.json()["Code"])
    return codes


def test_faults_are_reproducible_by_seed(http: httpx.Client) -> None:
    http.post("/_emulator/reset", json={"fleet": "demo"})  # no rate limit on DescribeRegions
    first = _codes_under_faults(http, seed=7)
    again = _codes_under_faults(http, seed=7)
    other = _codes_under_faults(http, seed=8)
    assert first == again
    assert first != other
    assert {"ok", "InternalError", "ServiceUnavailable", "Throttling"} <= set(first)


def test_fault_statuses_and_retry_hint(http: httpx.Client) -> None:
    expected = {
        "internal_error": (500, "InternalError", None),
        "service_unavailable": (503, "ServiceUnavailable", None),
        "throttling": (400, "Throttling", None),
        "throttling_retry_after": (429, "Throttling.User", "250"),
    }
    for kind, (status, code, retry_after) in expected.items():
        http.post("/_emulator/faults", json={"rate": 1, "kinds": [kind], "retry_after_ms": 250})
        response = api(http, "DescribeRegions")
        assert (response.status_code, response.json()["Code"]) == (status, code)
        assert response.headers.get("x-acs-retry-after") == retry_after


def test_faults_target_only_the_named_actions(http: httpx.Client) -> None:
    http.post("/_emulator/faults", json={"rate": 1, "kinds": ["internal_error"], "actions": ["DetachDisk"]})
    assert api(http, "DescribeRegions").status_code == 200
    assert api(http, "DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}).status_code == 500
    assert disk(http, "d-web-01-data")["Status"] == "In_use"  # not applied


def test_a_reset_connection_leaves_the_disk_untouched(http: httpx.Client) -> None:
    http.post("/_emulator/faults", json={"rate": 1, "kinds": ["reset"], "actions": ["DetachDisk"]})
    with pytest.raises(httpx.TransportError):
        api(http, "DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"})
    http.delete("/_emulator/faults")
    assert disk(http, "d-web-01-data")["Status"] == "In_use"


def test_a_lost_response_applied_the_detach(http: httpx.Client) -> None:
    http.post("/_emulator/faults", json={"rate": 1, "kinds": ["lost_response"], "actions": ["DetachDisk"]})
    with pytest.raises(httpx.TransportError):
        api(http, "DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"})
    http.delete("/_emulator/faults")
    assert disk(http, "d-web-01-data")["Status"] == "Detaching"
    logged = http.get("/_emulator/requests").json()["requests"]
    assert [(e["action"], e.get("fault")) for e in logged][:1] == [("DetachDisk", "lost_response")]


def test_the_fault_plan_can_be_read_back_and_cleared(http: httpx.Client) -> None:
    plan = {"rate": 0.25, "kinds": ["reset"], "actions": ["DetachDisk"], "seed": 3, "latency_ms": 50}
    echoed = http.post("/_emulator/faults", json=plan).json()["faults"]
    assert {k: echoed[k] for k in plan} == plan
    assert http.get("/_emulator/faults").json()["faults"]["latency_ms"] == 50
    assert http.delete("/_emulator/faults").json()["faults"]["rate"] == 0


def test_a_reset_clears_the_fault_plan_unless_told_to_keep_it(http: httpx.Client) -> None:
    plan = {"rate": 1, "kinds": ["internal_error"], "actions": ["DescribeRegions"], "seed": 1}
    assert http.post("/_emulator/faults", json=plan).status_code == 200
    assert api(http, "DescribeRegions").status_code == 500
    kept = http.post("/_emulator/reset", json={"fleet": "demo", "keep_faults": True})
    assert kept.status_code == 200
    assert http.get("/_emulator/faults").json()["faults"]["rate"] == 1
    assert api(http, "DescribeRegions").status_code == 500
    assert http.post("/_emulator/reset", json={"fleet": "demo"}).status_code == 200
    assert http.get("/_emulator/faults").json()["faults"]["rate"] == 0
    assert api(http, "DescribeRegions").status_code == 200
    assert http.post("/_emulator/faults", json=plan).status_code == 200
    assert http.post("/_emulator/reset").status_code == 200  # an empty body: the first fleet, clean
    assert api(http, "DescribeRegions").status_code == 200
    refused = http.post("/_emulator/reset", json={"keep_faults": "yes"})
    assert refused.status_code == 400 and "keep_faults" in refused.json()["error"]
