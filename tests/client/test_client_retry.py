"""Retry decisions (pure) and the drivers' retry loop, on a deterministic fake transport with recorded sleeps.

The fake transport is used only here, for backoff and failure modes the emulator cannot produce on demand
(a read timeout after sending, a connection refused); everything else runs against the emulator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_detach._core import BaseEcsClient
from ecs_detach.client import AsyncEcsClient, EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.errors import (
    AuthError,
    ReadOnlyError,
    ServerError,
    ThrottledError,
    TransportError,
    error_for,
)
from ecs_detach.retry import RetryPolicy, backoff_delay, decide, parse_retry_after

CREDS = Credentials("LTAI5tRetryTestKey0001", "retry-test-secret-value")
Handler = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers or {})


def error_reply(status: int, code: str, message: str = "m", **headers: str) -> httpx.Response:
    return reply(status, {"Code": code, "Message": message, "RequestId": f"R-{status}"}, headers)


OK_DISKS = {"RequestId": "R-ok", "Disks": {"Disk": [{"DiskId": "d-1", "Status": "In_use"}]}, "NextToken": ""}


class Script:
    """A transport that answers from a list, records every request, and can raise transport errors."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_client(script: Script, **kw: object) -> tuple[EcsClient, list[float]]:
    sleeps: list[float] = []
    client = EcsClient(
        CREDS,
        "cn-hangzhou",
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        retry=kw.pop("retry", RetryPolicy(seed=7)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return client, sleeps


# --- pure decisions -----------------------------------------------------------------------------------------


def test_full_jitter_is_bounded_and_reproducible() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, seed=1)
    first = [backoff_delay(policy, n, policy.new_rng()) for n in range(1, 8)]
    again = [backoff_delay(policy, n, policy.new_rng()) for n in range(1, 8)]
    assert first == again
    rng = random.Random(3)
    for attempt in range(1, 12):
        assert 0.0 <= backoff_delay(policy, attempt, rng) <= min(4.0, 0.5 * 2 ** (attempt - 1))


def test_decisions() -> None:
    policy = RetryPolicy(max_attempts=3, max_retry_after=2.0)
    rng = random.Random(0)
    throttled = error_for("Throttling.User", "m", "R", 429, retry_after=0.15)
    assert decide(policy, attempt=1, mutating=True, error=throttled, rng=rng).delay == 0.15
    slow = error_for("Throttling.User", "m", "R", 429, retry_after=30.0)
    assert decide(policy, attempt=1, mutating=False, error=slow, rng=rng).delay == 2.0
    assert not decide(policy, attempt=3, mutating=False, error=throttled, rng=rng).retry
    internal = error_for("InternalError", "m", "R", 500)
    assert decide(policy, attempt=1, mutating=False, error=internal, rng=rng).retry
    assert not decide(policy, attempt=1, mutating=True, error=internal, rng=rng).retry
    unavailable = error_for("ServiceUnavailable", "m", "R", 503)
    assert not decide(policy, attempt=1, mutating=True, error=unavailable, rng=rng).retry
    assert decide(policy, attempt=1, mutating=False, error=unavailable, rng=rng).retry
    lost = TransportError("x", action="DetachDisk", outcome_unknown=True)
    assert not decide(policy, attempt=1, mutating=True, error=lost, rng=rng).retry
    unsent = TransportError("x", action="DetachDisk", outcome_unknown=False)
    assert decide(policy, attempt=1, mutating=True, error=unsent, rng=rng).retry
    state = error_for("IncorrectInstanceStatus", "m", "R", 403)
    assert not decide(policy, attempt=1, mutating=False, error=state, rng=rng).retry


def test_retry_after_headers() -> None:
    assert parse_retry_after({"x-acs-retry-after": "150"}) == 0.15
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"x-acs-retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_policy_is_bounded() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=1000)


# --- the drivers --------------------------------------------------------------------------------------------


def test_503_then_200_sleeps_once_and_succeeds() -> None:
    script = Script(error_reply(503, "ServiceUnavailable"), reply(200, OK_DISKS))
    client, sleeps = make_client(script)
    assert [d.disk_id for d in client.list_disks()] == ["d-1"]
    assert len(script.requests) == 2 and len(sleeps) == 1
    assert 0.0 <= sleeps[0] <= 0.5
    nonces = {r.headers["x-acs-signature-nonce"] for r in script.requests}
    assert len(nonces) == 2  # every attempt is signed afresh


def test_throttling_honours_the_server_hint_then_gives_up() -> None:
    script = Script(error_reply(429, "Throttling.User", **{"x-acs-retry-after": "150"}))
    client, sleeps = make_client(script, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ThrottledError) as caught:
        client.detach_disk("d-1", "i-1")
    assert sleeps == [0.15, 0.15] and len(script.requests) == 3
    assert caught.value.code == "Throttling.User" and caught.value.request_id == "R-429"


def test_a_mutation_is_never_resent_after_a_lost_answer() -> None:
    script = Script(httpx.ReadTimeout("timed out"))
    client, sleeps = make_client(script)
    with pytest.raises(TransportError) as caught:
        client.detach_disk("d-1", "i-1")
    assert len(script.requests) == 1 and sleeps == []
    error = caught.value
    assert error.outcome_unknown and "outcome is unknown" in str(error)
    assert "read the resource" in error.remedy


def test_a_mutation_that_never_left_is_retried() -> None:
    script = Script(httpx.ConnectError("refused"), reply(200, {"RequestId": "R-detach"}))
    client, sleeps = make_client(script)
    assert client.detach_disk("d-1", "i-1") == "R-detach"
    assert len(script.requests) == 2 and len(sleeps) == 1


def test_a_mutation_is_not_resent_after_an_internal_error() -> None:
    script = Script(error_reply(500, "InternalError"))
    client, _ = make_client(script)
    with pytest.raises(ServerError):
        client.stop_instance("i-1")
    assert len(script.requests) == 1


def test_a_503_to_a_mutation_is_never_resent_and_says_the_outcome_is_unknown() -> None:
    script = Script(error_reply(503, "ServiceUnavailable"), reply(200, {"RequestId": "R-again"}))
    client, sleeps = make_client(script)
    with pytest.raises(ServerError) as caught:
        client.stop_instance("i-1")
    assert len(script.requests) == 1 and sleeps == []
    assert "outcome of StopInstance is unknown" in caught.value.api_message


GATEWAY_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>nginx</p></body></html>"
)


@pytest.mark.parametrize("action", ["DetachDisk", "DescribeDisks"])
def test_a_gateways_html_5xx_page_is_a_clear_server_error(action: str) -> None:
    page = httpx.Response(502, content=GATEWAY_PAGE, headers={"content-type": "text/html"})
    script = Script(page)
    client, _ = make_client(script, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ServerError) as caught:
        client.call(action, {"DiskId": "d-1", "InstanceId": "i-1"})
    error = caught.value
    assert error.code == "HTTP502" and error.http_status == 502
    assert "HTML page, not an API reply" in str(error) and "502 Bad Gateway" in str(error)
    assert "<" not in str(error)
    assert ("outcome of DetachDisk is unknown" in str(error)) == (action == "DetachDisk")


def test_signature_nonce_used_on_a_mutations_retry_means_an_earlier_attempt_arrived() -> None:
    script = Script(
        error_reply(429, "Throttling.User", **{"x-acs-retry-after": "10"}),
        error_reply(400, "SignatureNonceUsed", "Specified signature nonce was used already."),
    )
    client, _ = make_client(script)
    with pytest.raises(ServerError) as caught:
        client.detach_disk("d-1", "i-1")
    assert caught.value.code == "SignatureNonceUsed" and len(script.requests) == 2
    assert "an earlier attempt reached the service" in str(caught.value)
    assert "outcome of DetachDisk is unknown" in str(caught.value)


def test_signature_nonce_used_on_a_first_try_says_it_was_delivered_twice() -> None:
    script = Script(error_reply(400, "SignatureNonceUsed", "Specified signature nonce was used already."))
    client, _ = make_client(script)
    with pytest.raises(ServerError) as caught:
        client.start_instance("i-1")
    assert "delivered twice on the way" in str(caught.value) and len(script.requests) == 1
    with pytest.raises(AuthError):  # to a read it is what it says: a refused signature
        client.list_disks()


def test_reads_retry_transport_errors_a_bounded_number_of_times() -> None:
    script = Script(httpx.ReadTimeout("timed out"))
    client, sleeps = make_client(script, retry=RetryPolicy(max_attempts=4, seed=2))
    with pytest.raises(TransportError) as caught:
        client.list_disks()
    assert len(script.requests) == 4 and len(sleeps) == 3
    assert not caught.value.outcome_unknown and "could not reach" in str(caught.value)


def test_non_json_gateway_page_is_a_server_error_and_retried_for_reads() -> None:
    script = Script(httpx.Response(502, content=b"<html>bad gateway</html>"), reply(200, OK_DISKS))
    client, sleeps = make_client(script)
    assert len(client.list_disks()) == 1 and len(sleeps) == 1


# --- pure request building and error mapping (no transport at all) ------------------------------------------


def test_xml_error_bodies_are_read() -> None:
    base = BaseEcsClient(CREDS, "cn-hangzhou")
    call = base._prepare("DescribeDisks")
    xml = b"<Error><RequestId>R-XML</RequestId><Code>Forbidden</Code><Message>nope</Message></Error>"
    error = base._api_error(call, 403, {"Content-Type": "text/xml;charset=utf-8"}, xml)
    assert str(error) == "DescribeDisks failed: Forbidden: nope (HTTP 403, request R-XML)"


@settings(max_examples=50, deadline=None)
@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30))
def test_secrets_echoed_by_the_server_are_scrubbed(prefix: str, suffix: str) -> None:
    base = BaseEcsClient(CREDS, "cn-hangzhou")
    call = base._prepare("DescribeDisks")
    message = f"{prefix} string to sign: {CREDS.access_key_secret} by {CREDS.access_key_id} {suffix}"
    body = json.dumps({"Code": "SignatureDoesNotMatch", "Message": message, "RequestId": "R"}).encode()
    text = str(base._api_error(call, 400, {}, body))
    assert CREDS.access_key_secret not in text and CREDS.access_key_id not in text
    assert "\n" not in text


def test_per_action_timeouts() -> None:
    base = BaseEcsClient(CREDS, "cn-hangzhou")
    timeouts = {
        action: base._prepare(action).timeout for action in ("DetachDisk", "StartInstance", "DescribeDisks")
    }
    assert timeouts == {"DetachDisk": 17.0, "StartInstance": 46.0, "DescribeDisks": 19.0}
    assert BaseEcsClient(CREDS, "cn-hangzhou", timeout=3.0)._prepare("DetachDisk").timeout == 3.0


def test_read_only_refuses_before_any_request_is_built() -> None:
    base = BaseEcsClient(CREDS, "cn-hangzhou", read_only=True)
    for action in (
        "DetachDisk",
        "AttachDisk",
        "StopInstance",
        "StartInstance",
        "DeleteDisk",
        "RebootInstance",
    ):
        with pytest.raises(ReadOnlyError, match=action):
            base._prepare(action, {"DiskId": "d-1"})
    assert base._prepare("DescribeDisks").params == (("RegionId", "cn-hangzhou"),)


def test_parameters_are_flattened_like_the_api_expects() -> None:
    base = BaseEcsClient(CREDS, "cn-hangzhou")
    call = base._prepare(
        "DescribeDisks", {"Tag": [{"Key": "env", "Value": "prod"}], "Portable": False, "ZoneId": None}
    )
    assert call.params == (
        ("RegionId", "cn-hangzhou"),
        ("Tag.1.Key", "env"),
        ("Tag.1.Value", "prod"),
        ("Portable", "false"),
    )
    password = base._prepare("AttachDisk", {"DiskId": "d", "InstanceId": "i", "Password": "Hunter2!x"})
    assert "Hunter2!x" not in repr(password)


@pytest.mark.anyio
async def test_async_client_retries_the_same_way() -> None:
    script = Script(error_reply(503, "ServiceUnavailable"), reply(200, OK_DISKS))
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async with AsyncEcsClient(
        CREDS, "cn-hangzhou", transport=httpx.MockTransport(script), sleep=record, retry=RetryPolicy(seed=7)
    ) as client:
        assert [d.disk_id for d in await client.list_disks()] == ["d-1"]
        script.answers = [httpx.ReadTimeout("t")]
        with pytest.raises(TransportError) as caught:
            await client.detach_disk("d-1", "i-1")
    assert caught.value.outcome_unknown and len(sleeps) == 1


ERRORS = [
    error_for("Throttling.User", "m", "R", 429),
    error_for("Throttling", "m", "R", 400, retry_after=5.0),
    error_for("InternalError", "m", "R", 500),
    error_for("ServiceUnavailable", "m", "R", 503),
    error_for("IncorrectInstanceStatus", "m", "R", 403),
    error_for("InvalidDiskId.NotFound", "m", "R", 404),
    error_for("SignatureDoesNotMatch", "m", "R", 400),
    TransportError("lost", action="DetachDisk", outcome_unknown=True),
    TransportError("refused", action="DescribeDisks"),
]


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(min_value=1, max_value=25),
    mutating=st.booleans(),
    error=st.sampled_from(ERRORS),
    max_attempts=st.integers(min_value=1, max_value=20),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_retry_invariants(
    attempt: int, mutating: bool, error: Exception, max_attempts: int, seed: int
) -> None:
    policy = RetryPolicy(max_attempts=max_attempts, base_delay=0.5, max_delay=20.0, max_retry_after=60.0)
    decision = decide(policy, attempt=attempt, mutating=mutating, error=error, rng=random.Random(seed))  # type: ignore[arg-type]
    if decision.retry:
        assert attempt < max_attempts  # bounded
        assert 0.0 <= decision.delay <= 60.0
        assert not (isinstance(error, TransportError) and error.outcome_unknown)  # never re-sent blindly
        assert not (mutating and isinstance(error, ServerError))  # a 5xx may come after it was applied
        assert getattr(error, "kind", "") in {"Throttled", "Server", "Transport"}
