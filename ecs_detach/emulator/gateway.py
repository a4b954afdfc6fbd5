"""The emulator's API gateway: everything between a parsed request and ``Backend.handle``.

Order of checks, the first failure wins (the same order a real gateway applies):

1. the request itself: path ``/``, method GET or POST, well-formed parameters (``wire.parse_request``);
2. a signature is present and well formed (``IncompleteSignature``, ``InvalidSignatureMethod``);
3. the access key exists (``InvalidAccessKeyId.NotFound``);
4. the signature matches (V1: ``IncompleteSignature``, V3: ``SignatureDoesNotMatch``, as ECS answers each);
5. the timestamp is well formed and within 15 minutes of *real* time (``InvalidTimeStamp.Format`` /
   ``.Expired``) — real time, not the emulator's clock: a manual clock parked on a fixed date must still
   accept requests that real SDKs sign with the wall clock;
6. the nonce was not used before (``SignatureNonceUsed``; remembered only while its timestamp is acceptable);
7. Action and Version are given;
8. a read-only key may not call a mutating action (``Forbidden.RAM``);
9. per-key, per-action rate limits over a sliding window of the emulator's clock (``Throttling``);
10. injected faults;
11. ``Backend.handle``.

Every API call is logged (action, parameters without secrets, status, code), in a bounded list.
"""

from __future__ import annotations

import calendar
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ecs_detach.emulator import verify
from ecs_detach.emulator.errors import EmulatorError
from ecs_detach.emulator.faults import FaultInjector
from ecs_detach.emulator.wire import (
    ApiRequest,
    ErrorLike,
    GatewayError,
    WireResponse,
    encode_body,
    error_response,
    parse_request,
    safe_headers,
    success_response,
    success_response_encoded,
)

logger = logging.getLogger(__name__)

API_VERSION = "2014-05-26"
TIMESTAMP_TOLERANCE = 15 * 60  # seconds either side of real time
DEFAULT_LOG_SIZE = 10_000
DEFAULT_NONCE_CAPACITY = 200_000
SECRET_PARAMS = frozenset({"Signature", "SecurityToken", "Password"})
# Parameters that differ on every call but never change the answer (left out of the read cache's key).
VOLATILE_PARAMS = frozenset({"Signature", "SignatureNonce", "Timestamp"})
READ_CACHE_BYTES = 64 * 1024 * 1024

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$")
_REGION_HOST = re.compile(r"^ecs(?:-vpc)?[.-]([a-z0-9-]+)\.aliyuncs\.com$")


class AccessKeyLike(Protocol):
    @property
    def secret(self) -> str: ...

    @property
    def read_only(self) -> bool: ...


class SettingsLike(Protocol):
    @property
    def access_keys(self) -> Mapping[str, AccessKeyLike]: ...

    @property
    def rate_limits(self) -> Mapping[str, tuple[int, float]]: ...


class BackendLike(Protocol):
    @property
    def settings(self) -> SettingsLike: ...

    def handle(
        self, action: str, params: Mapping[str, str], *, region_hint: str | None
    ) -> dict[str, Any]: ...

    def version(self) -> int: ...

    def handle_read(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        region_hint: str | None,
        encode: Callable[[dict[str, Any]], bytes],
    ) -> tuple[bytes, int]: ...


class ClockLike(Protocol):
    def now(self) -> float: ...


def region_hint(host: str) -> str | None:
    """The region a Host names (``ecs.<region>.aliyuncs.com``, ``ecs-<region>.aliyuncs.com``), else None."""
    name = host.strip().lower()
    if name.startswith("["):
        return None
    name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    match = _REGION_HOST.match(name)
    return match.group(1) if match else None


def parse_timestamp(value: str) -> float:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM:SSZ``; ``InvalidTimeStamp.Format`` for anything else."""
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        raise GatewayError("InvalidTimeStamp.Format")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        raise GatewayError("InvalidTimeStamp.Format")
    try:
        return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
    except (OverflowError, ValueError):
        raise GatewayError("InvalidTimeStamp.Format") from None


def mask_access_key(access_key_id: str) -> str:
    if len(access_key_id) <= 8:
        return "****"
    return f"{access_key_id[:4]}****{access_key_id[-3:]}"


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


class NonceCache:
    """Nonces seen while their request could still be replayed; bounded, oldest forgotten first."""

    def __init__(self, capacity: int = DEFAULT_NONCE_CAPACITY) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def add(self, key: tuple[str, str], forget_after: float, now: float) -> bool:
        """Record ``key``; False if it is already there (a replay)."""
        while self._seen:
            oldest_key, expiry = next(iter(self._seen.items()))
            if expiry > now and len(self._seen) < self.capacity:
                break
            del self._seen[oldest_key]
        if key in self._seen:
            return False
        self._seen[key] = forget_after
        return True

    def clear(self) -> None:
        self._seen.clear()

    def __len__(self) -> int:
        return len(self._seen)


class RateLimiter:
    """Per-key, per-action sliding windows: at most ``count`` calls in any ``per_seconds``."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], deque[float]] = {}

    def allow(self, key: tuple[str, str], count: int, per_seconds: float, now: float) -> bool:
        window = self._calls.setdefault(key, deque())
        while window and window[0] <= now - per_seconds:
            window.popleft()
        if len(window) >= count:
            return False
        window.append(now)
        return True

    def clear(self) -> None:
        self._calls.clear()


class Gateway:
    """Checks, logs and dispatches API requests to a backend; thread-safe."""

    def __init__(
        self,
        backend: BackendLike,
        clock: ClockLike,
        *,
        mutating_actions: frozenset[str] | set[str] = frozenset(),
        faults: FaultInjector | None = None,
        wall_clock: Callable[[], float] = time.time,
        log_size: int = DEFAULT_LOG_SIZE,
        nonce_capacity: int = DEFAULT_NONCE_CAPACITY,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.mutating_actions = frozenset(mutating_actions)
        self.faults = faults or FaultInjector()
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._nonces = NonceCache(nonce_capacity)
        self._rates = RateLimiter()
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._sequence = 0
        # Encoded replies to reads, by (action, region, parameters), each with the state version it was read
        # at: encoding a page of 100 disks costs ~1 ms, far more than the rest of a request.
        self._reads: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], tuple[int, bytes]] = {}
        self._read_bytes = 0

    # ------------------------------------------------------------------ the request log

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._log)
        return [_shown(entry) for entry in entries]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def reset_limits(self) -> None:
        """Forget rate-limit windows (a fleet reset starts a fresh world); nonces stay remembered."""
        with self._lock:
            self._rates.clear()

    # ------------------------------------------------------------------ dispatch

    def dispatch(
        self,
        method: str,
        path: str,
        query: bytes | str,
        headers: Any,
        body: bytes,
        *,
        client_host: str | None = None,
        oversized: bool = False,
    ) -> WireResponse:
        """Parse then :meth:`handle`; a request that cannot be parsed gets a clean 4xx."""
        try:
            if oversized:
                raise GatewayError("InvalidParameter")
            request = parse_request(method, path, query, headers, body, client_host=client_host)
        except GatewayError as error:
            fallback = ApiRequest(method.upper(), path, {}, {}, safe_headers(headers), b"", client_host)
            return self._refuse(fallback, error, action="", xml=False, signed=None)
        return self.handle(request)

    def handle(self, request: ApiRequest) -> WireResponse:
        signed: verify.SignedRequest | None = None
        xml = request.params.get("Format", "").upper() == "XML"
        action = request.headers.get("x-acs-action") or request.params.get("Action") or ""
        try:
            if request.path != "/":
                raise GatewayError("InvalidApi.NotFound")
            if request.method not in ("GET", "POST"):
                raise GatewayError("UnsupportedHTTPMethod")
            signed = verify.inspect(request)
            action = signed.action or ""
            if signed.scheme == "V1" and "Format" not in request.params:
                xml = True  # V1's default format is XML
            key = self.backend.settings.access_keys.get(signed.access_key_id)
            if key is None:
                raise GatewayError("InvalidAccessKeyId.NotFound")
            verify.check(request, signed, key.secret)
            self._check_freshness(signed)
            if not action:
                raise GatewayError.missing("Action")
            if not signed.api_version:
                raise GatewayError.missing("Version")
            if signed.api_version != API_VERSION:
                raise GatewayError("InvalidApi.NotFound")
            if key.read_only and action in self.mutating_actions:
                raise GatewayError("Forbidden.RAM")
            self._check_rate(signed.access_key_id, action)
        except GatewayError as error:
            extra = None
            if error.code == "Forbidden.RAM":
                extra = {
                    "AccessDeniedDetail": {"AuthAction": f"ecs:{action}", "NoPermissionType": "ImplicitDeny"}
                }
            return self._refuse(request, error, action=action, xml=xml, signed=signed, extra=extra)
        return self._run(request, signed, action, xml)

    def _check_freshness(self, signed: verify.SignedRequest) -> None:
        if not signed.timestamp:
            raise GatewayError.missing("Timestamp" if signed.scheme == "V1" else "x-acs-date")
        stamp = parse_timestamp(signed.timestamp)
        now = self.wall_clock()
        if abs(now - stamp) > TIMESTAMP_TOLERANCE:
            raise GatewayError("InvalidTimeStamp.Expired")
        if not signed.nonce:
            name = "SignatureNonce" if signed.scheme == "V1" else "x-acs-signature-nonce"
            raise GatewayError.missing(name)
        with self._lock:
            fresh = self._nonces.add(
                (signed.access_key_id, signed.nonce), stamp + TIMESTAMP_TOLERANCE + 1, now
            )
        if not fresh:
            raise GatewayError("SignatureNonceUsed")

    def _check_rate(self, access_key_id: str, action: str) -> None:
        limit = self.backend.settings.rate_limits.get(action)
        if limit is None:
            return
        count, per_seconds = limit
        with self._lock:
            allowed = self._rates.allow(
                (access_key_id, action), int(count), float(per_seconds), self.clock.now()
            )
        if not allowed:
            raise GatewayError("Throttling")

    def _run(self, request: ApiRequest, signed: verify.SignedRequest, action: str, xml: bool) -> WireResponse:
        delay = self.faults.latency(action)
        fault = self.faults.draw(action)
        if fault == "reset":
            self._record(request, signed, action, status=None, code="", fault=fault, request_id="")
            return WireResponse(0, (), b"", delay=delay, drop_connection=True)
        if fault is not None and fault != "lost_response":
            error = _fault_error(fault, self.faults.plan.retry_after_ms)
            return self._refuse(
                request, error, action=action, xml=xml, signed=signed, fault=fault, delay=delay
            )
        request_id = new_request_id()
        region = region_hint(request.host)
        try:
            if xml or action in self.mutating_actions:
                reply = success_response(
                    action,
                    self.backend.handle(action, signed.params, region_hint=region),
                    request_id,
                    xml=xml,
                )
            else:
                reply = success_response_encoded(self._read(action, signed.params, region), request_id)
        except EmulatorError as error:
            return self._refuse(request, error, action=action, xml=xml, signed=signed, delay=delay)
        except Exception as error:  # a bug in the emulator: the caller sees a 500, the console one line
            logger.error("emulator backend failed on %s: %r", action, error)
            failure = GatewayError("InternalError")
            return self._refuse(request, failure, action=action, xml=xml, signed=signed, delay=delay)
        if fault == "lost_response":
            self._record(request, signed, action, status=200, code="", fault=fault, request_id=request_id)
            return WireResponse(0, (), b"", delay=delay, drop_connection=True)
        self._record(request, signed, action, status=200, code="", fault=None, request_id=request_id)
        return WireResponse(reply.status, reply.headers, reply.body, delay=delay)

    def _read(self, action: str, params: Mapping[str, str], region: str | None) -> bytes:
        """The encoded reply to a read: from the cache while the backend's state version is unchanged."""
        key = (action, region, tuple(sorted((k, v) for k, v in params.items() if k not in VOLATILE_PARAMS)))
        cached = self._reads.get(key)
        if cached is not None and cached[0] == self.backend.version():
            return cached[1]
        encoded, version = self.backend.handle_read(action, params, region_hint=region, encode=encode_body)
        with self._lock:
            if self._read_bytes + len(encoded) > READ_CACHE_BYTES:
                self._reads.clear()
                self._read_bytes = 0
            previous = self._reads.get(key)
            self._read_bytes += len(encoded) - (len(previous[1]) if previous else 0)
            self._reads[key] = (version, encoded)
        return encoded

    def _refuse(
        self,
        request: ApiRequest,
        error: ErrorLike,
        *,
        action: str,
        xml: bool,
        signed: verify.SignedRequest | None,
        extra: Mapping[str, Any] | None = None,
        fault: str | None = None,
        delay: float | None = None,
    ) -> WireResponse:
        if delay is None:  # the latency knob delays every reply, refusals included
            delay = self.faults.latency(action)
        request_id = new_request_id()
        reply = error_response(error, request_id, host=request.host, xml=xml, extra=extra)
        self._record(
            request, signed, action, status=error.status, code=error.code, fault=fault, request_id=request_id
        )
        return WireResponse(reply.status, reply.headers, reply.body, delay=delay)

    def _record(
        self,
        request: ApiRequest,
        signed: verify.SignedRequest | None,
        action: str,
        *,
        status: int | None,
        code: str,
        fault: str | None,
        request_id: str,
    ) -> None:
        params = {
            name: (mask_access_key(value) if name == "AccessKeyId" else value)
            for name, value in request.params.items()
            if name not in SECRET_PARAMS
        }
        wall = self.wall_clock()
        entry: dict[str, Any] = {
            "action": action,
            "params": params,
            "status": status,
            "code": code,
            "request_id": request_id,
            "access_key_id": mask_access_key(signed.access_key_id) if signed else "",
            "signature": signed.scheme if signed else "",
            "method": request.method,
            "time": wall,  # epoch seconds here; `requests` shows both times as ISO 8601
            "emulator_time": self.clock.now(),
        }
        if fault:
            entry["fault"] = fault
        with self._lock:
            self._sequence += 1
            entry["seq"] = self._sequence
            self._log.append(entry)


def _shown(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a request-log entry with its times as ISO 8601 (they are kept as numbers: formatting them
    for every request cost more than reading the log ever does)."""
    shown = dict(entry)
    wall = float(entry["time"])
    shown["time"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{int(wall % 1 * 1000):03d}Z"
    shown["emulator_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(entry["emulator_time"])))
    return shown


def _fault_error(kind: str, retry_after_ms: int) -> GatewayError:
    if kind == "internal_error":
        return GatewayError("InternalError")
    if kind == "service_unavailable":
        return GatewayError("ServiceUnavailable")
    if kind == "throttling":
        return GatewayError("Throttling")
    return GatewayError("Throttling.User", status=429, retry_after=retry_after_ms)
