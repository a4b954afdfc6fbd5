"""Error mapping (every DetachDisk table code and gateway code has a kind and a remedy) and endpoints."""

from __future__ import annotations

import pickle

import pytest

from ecs_detach.endpoints import endpoint_host, resolve_endpoint
from ecs_detach.errors import (
    ApiError,
    AuthError,
    CredentialsError,
    EcsError,
    IncorrectStateError,
    InvalidParameterError,
    LockedError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    ThrottledError,
    TransportError,
    error_for,
    kind_for,
    remedy_for,
)

# The DetachDisk decision table of design.md, in order: (code, expected kind).
DETACH_TABLE = [
    ("InvalidParameter", InvalidParameterError),
    ("InvalidRegionId.MalFormed", InvalidParameterError),
    ("InvalidInstanceId.NotFound", NotFoundError),
    ("InvalidDiskId.NotFound", NotFoundError),
    ("InstanceLockedForSecurity", LockedError),
    ("DeleteWithInstance.Conflict", InvalidParameterError),
    ("InvalidDisk.AlreadyDetached", IncorrectStateError),
    ("DependencyViolation", IncorrectStateError),
    ("InvalidOperation.DiskDetachingFromThisEcs", IncorrectStateError),
    ("DiskNotPortable", IncorrectStateError),
    ("UserNotInTheWhiteList", AuthError),
    ("IncorrectDiskStatus", IncorrectStateError),
    ("DiskTypeViolation", IncorrectStateError),
    ("IncorrectInstanceStatus", IncorrectStateError),
    ("InvalidInstance.ImageCategory", IncorrectStateError),
    ("InvalidOperation.InstanceTypeNotSupport", IncorrectStateError),
    ("DisksDetachingOnEcsExceeded", IncorrectStateError),
]
# Gateway and common errors of ecs-api.md §4.
GATEWAY = [
    ("Throttling", ThrottledError),
    ("Throttling.User", ThrottledError),
    ("Throttling.Api", ThrottledError),
    ("SignatureDoesNotMatch", AuthError),
    ("IncompleteSignature", AuthError),
    ("InvalidAccessKeyId.NotFound", AuthError),
    ("InvalidAccessKeyId.Inactive", AuthError),
    ("Forbidden.AccessKeyDisabled", AuthError),
    ("SignatureNonceUsed", AuthError),
    ("InvalidTimeStamp.Expired", AuthError),
    ("InvalidTimeStamp.Format", AuthError),
    ("MissingParameter", InvalidParameterError),
    ("InvalidApi.NotFound", NotFoundError),
    ("InvalidAction.NotFound", NotFoundError),
    ("UnsupportedHTTPMethod", InvalidParameterError),
    ("InvalidSignatureMethod", AuthError),
    ("Forbidden.RAM", AuthError),
    ("Forbidden", AuthError),
    ("OperationConflict", IncorrectStateError),
    ("InternalError", ServerError),
    ("ServiceUnavailable", ServerError),
    ("ServiceUnavailable.RegionMaintaining", ServerError),
]


@pytest.mark.parametrize(("code", "kind"), DETACH_TABLE + GATEWAY)
def test_every_known_code_has_a_kind_and_its_own_remedy(code: str, kind: type[ApiError]) -> None:
    assert kind_for(code) is kind
    remedy = remedy_for(code)
    assert remedy and "\n" not in remedy and len(remedy) < 200
    error = error_for(code, "Some message.", "R-1", 403, action="DetachDisk")
    assert isinstance(error, kind) and isinstance(error, ApiError) and isinstance(error, EcsError)
    assert error.remedy == remedy_for(code, action="DetachDisk") and error.kind == kind.kind


def test_table_remedies_are_specific_not_the_generic_fallback() -> None:
    generic = {remedy_for(f"Unknown.Code.{status}", status) for status in (400, 403, 404, 500)}
    for code, _ in DETACH_TABLE + GATEWAY:
        assert remedy_for(code) not in generic, code


def test_unknown_codes_fall_back_on_prefix_and_status() -> None:
    assert kind_for("Throttling.Something") is ThrottledError
    assert kind_for("Forbidden.NewThing") is AuthError
    assert kind_for("InvalidFoo.NotFound") is NotFoundError
    assert kind_for("Mystery", 503) is ServerError
    assert kind_for("Mystery", 429) is ThrottledError
    assert kind_for("Mystery", 403) is ApiError


def test_str_is_one_readable_line() -> None:
    error = error_for(
        "IncorrectInstanceStatus",
        "The current status of the resource\ndoes not support this operation.",
        "7AA5E1A6",
        403,
        action="DetachDisk",
    )
    assert str(error) == (
        "DetachDisk failed: IncorrectInstanceStatus: The current status of the resource does not support "
        "this operation. (HTTP 403, request 7AA5E1A6)"
    )
    assert (error.code, error.request_id, error.http_status) == ("IncorrectInstanceStatus", "7AA5E1A6", 403)
    assert "stop it first" in error.remedy


def test_errors_survive_pickling_for_worker_threads_and_processes() -> None:
    error = error_for("InvalidDiskId.NotFound", "The specified disk does not exist.", "R", 404, action="X")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFoundError and str(copy) == str(error)
    for other in (
        ReadOnlyError("DetachDisk"),
        TransportError("lost", action="DetachDisk", outcome_unknown=True),
        CredentialsError("no credentials found"),
    ):
        again = pickle.loads(pickle.dumps(other))
        assert type(again) is type(other) and str(again) == str(other) and again.remedy == other.remedy
    assert pickle.loads(pickle.dumps(TransportError("x", outcome_unknown=True))).outcome_unknown


def test_other_errors() -> None:
    refused = ReadOnlyError("DetachDisk")
    assert "read-only" in str(refused) and "DetachDisk" in str(refused)
    lost = TransportError("no answer", action="DetachDisk", outcome_unknown=True)
    assert "unknown" in lost.remedy and "read the resource" in lost.remedy
    assert not isinstance(lost, ApiError)
    unreachable = TransportError("could not reach", action="DescribeDisks")
    assert "network" in unreachable.remedy


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"),
        ("cn-shanghai-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
        ("cn-wuhan", "ecs.aliyuncs.com"),
        ("cn-zhangbei", "ecs.aliyuncs.com"),
        ("cn-beijing", "ecs.cn-beijing.aliyuncs.com"),
        ("ap-southeast-1", "ecs.ap-southeast-1.aliyuncs.com"),
        ("eu-central-1", "ecs.eu-central-1.aliyuncs.com"),
    ],
)
def test_endpoint_hosts(region: str, host: str) -> None:
    assert endpoint_host(region) == host
    assert resolve_endpoint(region) == f"https://{host}"


def test_endpoint_override_and_validation() -> None:
    assert resolve_endpoint("cn-beijing", "http://127.0.0.1:8470/") == "http://127.0.0.1:8470"
    assert resolve_endpoint("cn-beijing", "ecs.example.test:8443") == "https://ecs.example.test:8443"
    with pytest.raises(ValueError, match="only http"):
        resolve_endpoint("cn-beijing", "ftp://x")
    with pytest.raises(ValueError, match="region id is needed"):
        endpoint_host("")
    with pytest.raises(ValueError, match="not a region id"):
        endpoint_host("cn hangzhou")
