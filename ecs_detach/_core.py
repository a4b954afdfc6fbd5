"""The client's pure half: parameters, requests, replies, errors and retry decisions, with no I/O.

``EcsClient`` and ``AsyncEcsClient`` (``client.py``) inherit from :class:`BaseEcsClient` and add only
sending, sleeping and iterating. Nothing here imports httpx at module level, so ``import ecs_detach.client``
stays cheap.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self
from urllib.parse import quote, quote_plus

import orjson

from ecs_detach.actions import MUTATING, MUTATING_ACTIONS
from ecs_detach.credentials import Credentials, CredentialSource, mask_key_id
from ecs_detach.endpoints import endpoint_password, mask_endpoint, resolve_endpoint
from ecs_detach.errors import (
    ApiError,
    EcsError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    ThrottledError,
    TransportError,
    error_for,
)
from ecs_detach.models import AgentStatus, Disk, Instance, InvocationResult, Region, SnapshotCreated, unwrap
from ecs_detach.retry import RetryDecision, RetryPolicy, decide, parse_retry_after

if TYPE_CHECKING:
    import random

    import httpx

__all__ = [
    "ACTION_TIMEOUTS",
    "MUTATING_ACTIONS",
    "BaseEcsClient",
    "Call",
    "Inventory",
    "ThrottleObserver",
    "flatten_params",
    "is_mutating",
]

log = logging.getLogger("ecs_detach.client")

USER_AGENT = "ecs-detach/0.1.0"
CONNECT_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 10.0
# Read timeouts per action, seconds (the legacy official SDK's timeout table, ecs-api.md §1.7).
ACTION_TIMEOUTS: dict[str, float] = {
    "DescribeRegions": 19.0,
    "DescribeInstances": 10.0,
    "DescribeInstanceAttribute": 10.0,
    "DescribeDisks": 19.0,
    "DescribeSnapshots": 10.0,
    **{action.name: action.timeout for action in MUTATING.values()},
}
_READ_PREFIXES = ("Describe", "List", "Get", "Query", "Check")
_SECRET_PARAMS = frozenset({"Password", "SecurityToken", "AccessKeySecret"})
MAX_IDS_PER_CALL = 100
MAX_PAGES = 10_000


_SECRET_QUERY_RE = re.compile(r"(Password|SecurityToken|AccessKeySecret|AccessKeyId)=([^&\s\"']*)")


def redact_query(text: str) -> str:
    """Mask secret query parameters in a URL or log line; an AccessKeyId shows as ``LTAI****Key``."""

    def mask(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        return f"{name}={mask_key_id(value) if name == 'AccessKeyId' else '****'}"

    return _SECRET_QUERY_RE.sub(mask, text)


class _RedactSecrets(logging.Filter):
    """Mask secret query parameters (AttachDisk ``Password``, V1 ``SecurityToken``) in httpx's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(str(arg)) if _SECRET_QUERY_RE.search(str(arg)) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


_REDACTION = _RedactSecrets()


def install_log_redaction() -> None:
    """Make sure httpx's own request log (INFO, full URL) never shows a secret parameter. Idempotent."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if _REDACTION not in logger.filters:
            logger.addFilter(_REDACTION)


def is_mutating(action: str) -> bool:
    """Known mutations, and anything that does not look like a read (the safe default for raw calls)."""
    return action in MUTATING_ACTIONS or not action.startswith(_READ_PREFIXES)


class HasNow(Protocol):
    def now(self) -> float: ...


ClockLike = Callable[[], float] | HasNow
# Called with (action, delay in seconds) each time the client retries a Throttling reply (from any thread:
# the sync client is shared by threads, so an observer must be thread-safe and quick).
ThrottleObserver = Callable[[str, float], None]


def time_source(clock: ClockLike | None) -> Callable[[], float] | None:
    """Accept a ``now()`` object (the emulator's clocks) or a plain callable returning epoch seconds."""
    if clock is None:
        return None
    now = getattr(clock, "now", None)
    if callable(now):
        return now  # type: ignore[no-any-return]
    if callable(clock):
        return clock
    raise TypeError("clock must be callable or have a now() method")


# --- parameters ---------------------------------------------------------------------------------------------

_CAMEL_RE = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``instance_charge_type`` → ``InstanceChargeType``; names already in API style are kept."""
    if "_" not in name and name[:1].isupper():
        return name
    return _CAMEL_RE.sub(lambda m: m.group(1).upper(), name[:1].upper() + name[1:])


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """RPC flattening: None dropped, lists as ``Key.1``, objects as ``Key.Sub``, booleans lowercase."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        elif isinstance(value, list | tuple):
            for index, inner in enumerate(value, start=1):
                walk(f"{prefix}.{index}", inner)
        else:
            out.append((prefix, _scalar(value)))

    for key, value in params.items():
        walk(key, value)
    return out


def _id_chunks(ids: Sequence[str] | None) -> list[str | None]:
    """``InstanceIds`` / ``DiskIds`` as JSON array strings, at most 100 ids each; None means no filter."""
    if ids is None:
        return [None]
    unique = list(dict.fromkeys(str(i) for i in ids))
    if not unique:
        return [json.dumps([])]
    return [
        json.dumps(unique[i : i + MAX_IDS_PER_CALL], separators=(",", ":"))
        for i in range(0, len(unique), MAX_IDS_PER_CALL)
    ]


@dataclass(frozen=True, slots=True)
class Call:
    """One API call, fully decided before anything is sent. Secret parameters are masked in the repr."""

    action: str
    params: tuple[tuple[str, str], ...]
    region_id: str
    url: str
    mutating: bool
    timeout: float

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={'****' if k in _SECRET_PARAMS else v}" for k, v in self.params)
        return f"Call({self.action}, {shown}, url={self.url})"


@dataclass(frozen=True, slots=True)
class Inventory:
    """Instances and disks of several regions; a region that failed is in ``errors`` beside the others."""

    instances: tuple[Instance, ...] = ()
    disks: tuple[Disk, ...] = ()
    errors: Mapping[str, EcsError] = field(default_factory=dict)
    regions: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.errors

    def instances_in(self, region_id: str) -> list[Instance]:
        return [i for i in self.instances if i.region_id == region_id]

    def disks_in(self, region_id: str) -> list[Disk]:
        return [d for d in self.disks if d.region_id == region_id]

    def __repr__(self) -> str:
        # Counts, not every object: a whole fleet's repr is unreadable, and asyncio builds it when it
        # describes a finished task (on the way out of ``asyncio.run``), which took seconds at 30,000 objects.
        failed = f", errors={sorted(self.errors)}" if self.errors else ""
        return (
            f"Inventory({len(self.instances)} instances, {len(self.disks)} disks, "
            f"regions={list(self.regions)}{failed})"
        )


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Mapping[str, Any]]
    next_token: str
    request_id: str
    total_count: int = 0
    """The reply's ``TotalCount`` (every item the query matches; 0 when the reply has none)."""


# --- the base -----------------------------------------------------------------------------------------------


def emulator_credentials() -> Credentials:
    """The built-in emulator's demo key (not a secret: every emulator accepts it)."""
    from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

    return Credentials(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET, provider="emulator")


class BaseEcsClient:
    """Everything both clients share: configuration, request building, reply parsing, retry decisions."""

    def __init__(
        self,
        credentials: CredentialSource,
        region_id: str,
        *,
        endpoint: str | None = None,
        read_only: bool = False,
        signature: str = "v3",
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        profile_name: str | None = None,
        clock: ClockLike | None = None,
        nonce: Callable[[], str] | None = None,
        on_throttled: ThrottleObserver | None = None,
    ) -> None:
        if signature not in ("v3", "v1"):
            raise ValueError("signature must be 'v3' (ACS3-HMAC-SHA256, the default) or 'v1' (HMAC-SHA1)")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        self._credentials = credentials
        self._region_id = region_id.strip()
        self._endpoint_override = endpoint
        self._endpoint = resolve_endpoint(self._region_id, endpoint)
        self._read_only = read_only
        self._signature = signature
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._profile_name = profile_name
        self._clock = clock
        self._nonce = nonce
        self._on_throttled = on_throttled
        self._rng: random.Random = self._retry.new_rng()
        install_log_redaction()

    # -- configuration ---------------------------------------------------------------------------------------

    @property
    def region_id(self) -> str:
        return self._region_id

    # Set on a client of the in-process emulator: what it shows and journals instead of the URL it builds
    # requests with (the emulator's transport answers any host; no request reaches that URL).
    _endpoint_label: str | None = None

    @property
    def endpoint(self) -> str:
        """Where requests go: the base URL (a password in it masked), or for the in-process emulator the
        words that say so."""
        return self._endpoint_label or mask_endpoint(self._endpoint)

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def credentials(self) -> CredentialSource:
        """The credential source; its repr and str are masked."""
        return self._credentials

    @property
    def masked_key_id(self) -> str:
        return self._credentials.masked_key_id

    @property
    def profile_name(self) -> str | None:
        return self._profile_name

    @property
    def signature(self) -> str:
        return self._signature

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    def _options(self) -> dict[str, Any]:
        return {
            "endpoint": self._endpoint_override,
            "read_only": self._read_only,
            "signature": self._signature,
            "retry": self._retry,
            "timeout": self._timeout,
            "profile_name": self._profile_name,
            "clock": self._clock,
            "nonce": self._nonce,
            "on_throttled": self._on_throttled,
        }

    # Set by the sync and async subclasses; siblings share them (one connection pool).
    _transport: Any
    _sleep: Any
    _http: Any

    @classmethod
    def for_emulator(cls, emulator: Any, region_id: str = "cn-hangzhou", **kw: Any) -> Self:
        """A client on the emulator's in-process transport, signed with the emulator's demo key."""
        from ecs_detach.vocabulary import IN_PROCESS_ENDPOINT

        kw.setdefault("transport", emulator.transport())
        kw.setdefault("profile_name", "demo")
        client = cls(emulator_credentials(), region_id, **kw)
        client._endpoint_label = IN_PROCESS_ENDPOINT
        return client

    def _sibling(self, region_id: str, **changes: Any) -> Self:
        make: Callable[..., Self] = type(self)  # the subclass's constructor takes transport, sleep, http
        sibling = make(
            self._credentials,
            region_id,
            transport=self._transport,
            sleep=self._sleep,
            http=self._http,
            **{**self._options(), **changes},
        )
        sibling._endpoint_label = self._endpoint_label
        return sibling

    def with_region(self, region_id: str) -> Self:
        """The same client (connection pool, options) aimed at another region."""
        return self._sibling(region_id)

    def with_read_only(self, read_only: bool) -> Self:
        return self._sibling(self._region_id, read_only=read_only)

    @property
    def on_throttled(self) -> ThrottleObserver | None:
        """Called with (action, delay in seconds) each time a Throttling reply is retried; None if unset."""
        return self._on_throttled

    def observing_throttles(self, observer: ThrottleObserver) -> Self:
        """The same client (connection pool, options, region) that also calls ``observer(action, delay)``
        each time it retries a Throttling reply; an observer already set keeps being called, first."""
        previous = self._on_throttled
        if previous is None:
            return self._sibling(self._region_id, on_throttled=observer)

        def both(action: str, delay: float) -> None:
            previous(action, delay)
            observer(action, delay)

        return self._sibling(self._region_id, on_throttled=both)

    def __repr__(self) -> str:
        mode = ", read_only" if self._read_only else ""
        return (
            f"{type(self).__name__}(region_id={self._region_id!r}, endpoint={self.endpoint!r}, "
            f"key={self.masked_key_id!r}{mode})"
        )

    def _auth(self) -> httpx.Auth:
        from ecs_detach.signing import V1Auth, V3Auth

        cls = V3Auth if self._signature == "v3" else V1Auth
        return cls(self._credentials, clock=time_source(self._clock), nonce=self._nonce)

    def _endpoint_for(self, region_id: str) -> str:
        if region_id == self._region_id:
            return self._endpoint
        return resolve_endpoint(region_id, self._endpoint_override)

    def _timeout_for(self, action: str) -> float:
        if self._timeout is not None:
            return self._timeout
        return ACTION_TIMEOUTS.get(action, DEFAULT_TIMEOUT)

    # -- requests --------------------------------------------------------------------------------------------

    def _prepare(
        self, action: str, params: Mapping[str, Any] | None = None, region_id: str | None = None
    ) -> Call:
        """Decide a call completely; refuse a mutation in read-only mode before anything is built."""
        if not action or not action.isidentifier():
            raise ValueError(f"not an API action name: {action!r}")
        mutating = is_mutating(action)
        if mutating and self._read_only:
            raise ReadOnlyError(action)
        region = (region_id or self._region_id).strip()
        pairs = flatten_params(dict(params or {}))
        if not any(key == "RegionId" for key, _ in pairs):
            pairs.insert(0, ("RegionId", region))
        else:
            region = next(value for key, value in pairs if key == "RegionId")
        return Call(
            action=action,
            params=tuple(pairs),
            region_id=region,
            url=self._endpoint_for(region) + "/",
            mutating=mutating,
            timeout=self._timeout_for(action),
        )

    @staticmethod
    def _headers(call: Call) -> dict[str, str]:
        return {"x-acs-action": call.action, "accept": "application/json"}

    # -- replies ---------------------------------------------------------------------------------------------

    def _scrub(self, text: str, call: Call | None = None) -> str:
        """Remove anything secret (and the full key id) from text that came back from the server, or from an
        exception: the secret, the STS token, the call's secret parameters (an AttachDisk password) and the
        endpoint's password, each as sent, percent-encoded once (a query) and twice (a V1 string-to-sign that
        a ``SignatureDoesNotMatch`` echoes)."""
        source = self._credentials
        creds = source if isinstance(source, Credentials) else getattr(source, "last", None)
        secrets = [endpoint_password(self._endpoint)]
        if call is not None:
            secrets += [value for key, value in call.params if key in _SECRET_PARAMS]
        if isinstance(creds, Credentials):
            secrets += [creds.access_key_secret, creds.security_token]
        for secret in secrets:
            if len(secret) < 6:  # shorter values are no real secret, and replacing them mangles text
                continue
            once = quote(secret, safe="-_.~")  # as signing.percent_encode
            forms = {quote(once, safe="-_.~"), once, quote_plus(secret), secret}
            for form in sorted(forms, key=len, reverse=True):
                text = text.replace(form, "****")
        if isinstance(creds, Credentials) and len(creds.access_key_id) >= 10:
            text = text.replace(creds.access_key_id, mask_key_id(creds.access_key_id))
        return text

    def _parse_reply(
        self, call: Call, status: int, headers: Mapping[str, str], content: bytes
    ) -> dict[str, Any]:
        """The JSON body of a successful reply; raise the typed error of a failed one."""
        if status >= 400:
            raise self._api_error(call, status, headers, content)
        try:
            body = orjson.loads(content) if content else {}
        except orjson.JSONDecodeError:  # also raised for bytes that are not UTF-8
            body = None
        if not isinstance(body, dict):
            raise ServerError(
                "InvalidResponse",
                f"the endpoint answered HTTP {status} with something that is not a JSON object",
                headers.get("x-acs-request-id", ""),
                status,
                action=call.action,
            )
        log.debug("%s -> HTTP %s, request %s", call.action, status, body.get("RequestId", ""))
        return body

    def _api_error(self, call: Call, status: int, headers: Mapping[str, str], content: bytes) -> ApiError:
        lowered = {k.lower(): v for k, v in headers.items()}
        fields: dict[str, Any] = {}
        text = content.decode("utf-8", errors="replace")
        if lowered.get("content-type", "").lower().startswith(("text/xml", "application/xml")):
            fields = _xml_error(text)
        else:
            try:
                parsed = orjson.loads(text) if text.strip() else {}
                fields = parsed if isinstance(parsed, dict) else {}
            except orjson.JSONDecodeError:
                fields = {}

        def pick(*names: str) -> str:
            for name in names:
                value = fields.get(name)
                if value:
                    return str(value)
            return ""

        code = pick("Code", "code") or f"HTTP{status}"
        message = pick("Message", "message") or _bodiless_message(status, text)
        request_id = pick("RequestId", "requestId") or lowered.get("x-acs-request-id", "")
        log.debug("%s -> HTTP %s %s, request %s", call.action, status, code, request_id)
        if call.mutating and status >= 500:
            message += f"; the outcome of {call.action} is unknown: it may have been applied"
        return error_for(
            code,
            self._scrub(message, call),
            request_id,
            status,
            action=call.action,
            retry_after=parse_retry_after(dict(lowered)),
            recommend=self._scrub(pick("Recommend", "recommend"), call),
        )

    def _attempt_error(self, call: Call, attempt: int, error: ApiError) -> ApiError:
        """The error to act on for an error reply: ``SignatureNonceUsed`` to a mutation is a replay.

        Every attempt is signed with a fresh nonce, so the service saw this very request before: on a retry,
        an earlier attempt arrived; on a first try, something on the way delivered it twice. Either way the
        call may have been applied: a ``ServerError`` (outcome unknown) the workflow reconciles by reading,
        never a refusal. To a read it stays an ``AuthError``.
        """
        if not (call.mutating and error.code == "SignatureNonceUsed"):
            return error
        if attempt > 1:
            how = f"attempt {attempt} was refused as a replay, so an earlier attempt reached the service"
        else:
            how = "the service had already received this very request (it was delivered twice on the way)"
        return ServerError(
            error.code,
            f"{how}; the outcome of {call.action} is unknown: it may have been applied",
            error.request_id,
            error.http_status,
            action=call.action,
        )

    def _transport_error(self, call: Call, exc: Exception, *, sent: bool) -> TransportError:
        reason = self._scrub(" ".join(str(exc).split()), call) or type(exc).__name__
        unknown = call.mutating and sent
        host = self._endpoint_label or mask_endpoint(call.url.rstrip("/"))
        if unknown:
            message = (
                f"{call.action}: no answer from {host} ({type(exc).__name__}: {reason}); the outcome is "
                "unknown: the request may have been applied"
            )
        else:
            message = f"{call.action}: could not reach {host} ({type(exc).__name__}: {reason})"
        return TransportError(message, action=call.action, endpoint=host, outcome_unknown=unknown)

    def _decide(self, call: Call, attempt: int, error: EcsError) -> RetryDecision:
        decision = decide(self._retry, attempt=attempt, mutating=call.mutating, error=error, rng=self._rng)
        if decision.retry:
            log.debug(
                "%s attempt %d failed (%s); retrying in %.2fs",
                call.action,
                attempt,
                decision.reason,
                decision.delay,
            )
            if self._on_throttled is not None and isinstance(error, ThrottledError):
                self._notify_throttled(call.action, decision.delay)
        return decision

    def _notify_throttled(self, action: str, delay: float) -> None:
        """Tell the observer of a Throttling reply about to be retried; its failure never fails the call."""
        observer = self._on_throttled
        if observer is None:
            return
        try:
            observer(action, delay)
        except Exception:  # an observer is a help: a bug in it must not turn into a failed API call
            log.warning("the on_throttled observer failed for %s; ignored", action, exc_info=True)

    # -- actions: parameters and parsing ---------------------------------------------------------------------

    @staticmethod
    def _filters(filters: Mapping[str, Any]) -> dict[str, Any]:
        return {camel(key): value for key, value in filters.items() if value is not None}

    def _instance_queries(
        self,
        instance_ids: Sequence[str] | None,
        status: str | None,
        page_size: int,
        filters: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        size = max(10, min(100, int(page_size)))
        base = {"Status": status, "MaxResults": size, **self._filters(filters)}
        return [{**base, "InstanceIds": chunk} for chunk in _id_chunks(instance_ids)]

    def _disk_queries(
        self,
        disk_ids: Sequence[str] | None,
        instance_id: str | None,
        disk_type: str | None,
        status: str | None,
        page_size: int,
        filters: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        size = max(10, min(500, int(page_size)))
        base = {
            "InstanceId": instance_id,
            "DiskType": disk_type,
            "Status": status,
            "MaxResults": size,
            **self._filters(filters),
        }
        return [{**base, "DiskIds": chunk} for chunk in _id_chunks(disk_ids)]

    @staticmethod
    def _page(body: Mapping[str, Any], outer: str, inner: str) -> Page:
        # type() first: isinstance against the Mapping ABC costs ~0.25 µs an item, a tenth of a page's parse
        items = [
            item for item in unwrap(body.get(outer), inner) if type(item) is dict or isinstance(item, Mapping)
        ]
        token = body.get("NextToken") or ""
        total = body.get("TotalCount")
        return Page(
            items=items,
            next_token=str(token),
            request_id=str(body.get("RequestId", "")),
            total_count=total if type(total) is int else 0,
        )

    @staticmethod
    def _next_params(
        query: Mapping[str, Any], page: Page, seen: set[str], action: str
    ) -> dict[str, Any] | None:
        """Parameters of the next page, or None at the end; a repeated token or too many pages is an error."""
        if not page.next_token:
            return None
        if page.next_token in seen or len(seen) >= MAX_PAGES:
            raise ServerError(
                "PaginationLoop",
                f"{action} returned the same NextToken twice (or more than {MAX_PAGES} pages); stopped",
                page.request_id,
            )
        seen.add(page.next_token)
        return {**query, "NextToken": page.next_token}

    @staticmethod
    def _regions(body: Mapping[str, Any]) -> list[Region]:
        return [Region.from_api(r) for r in unwrap(body.get("Regions"), "Region") if isinstance(r, Mapping)]

    @staticmethod
    def _not_found(kind: str, resource_id: str, body: Mapping[str, Any], action: str) -> NotFoundError:
        if kind == "instance":
            code, message = "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."
        elif kind == "invocation":
            code, message = "InvalidInvokeId.NotFound", "The specified InvokeId does not exist."
        else:
            code, message = "InvalidDiskId.NotFound", "The specified disk does not exist."
        return NotFoundError(
            code, f"{message} ({resource_id})", str(body.get("RequestId", "")), 404, action=action
        )

    @staticmethod
    def _no_snapshot(snapshot_id: str) -> NotFoundError:
        return NotFoundError(
            "InvalidSnapshotId.NotFound",
            f"The specified snapshot does not exist. ({snapshot_id})",
            "",
            404,
            action="DescribeSnapshots",
        )

    @staticmethod
    def _request_id(body: Mapping[str, Any]) -> str:
        return str(body.get("RequestId", ""))

    @staticmethod
    def _snapshot_created(body: Mapping[str, Any]) -> SnapshotCreated:
        return SnapshotCreated(str(body.get("SnapshotId", "")), str(body.get("RequestId", "")))

    @staticmethod
    def _snapshot_query(
        disk_id: str | None, snapshot_ids: Sequence[str] | None, status: str | None, name: str | None
    ) -> dict[str, Any]:
        return {
            "DiskId": disk_id,
            "SnapshotIds": json.dumps(list(snapshot_ids)) if snapshot_ids is not None else None,
            "Status": status,
            "SnapshotName": name,
            "PageSize": 100,
        }

    @staticmethod
    def _stop_params(instance_id: str, force_stop: bool, stopped_mode: str | None) -> dict[str, Any]:
        return {
            "InstanceId": instance_id,
            "ForceStop": True if force_stop else None,
            "StoppedMode": stopped_mode,
        }

    @staticmethod
    def _run_command_params(
        instance_id: str, content: str, command_type: str, timeout: int, name: str
    ) -> dict[str, Any]:
        return {
            "InstanceId.1": instance_id,
            "Type": command_type,
            "CommandContent": content,
            "Timeout": timeout,
            "Name": name or None,
        }

    @staticmethod
    def _agent_statuses(body: Mapping[str, Any]) -> list[AgentStatus]:
        rows = unwrap(body.get("InstanceCloudAssistantStatusSet"), "InstanceCloudAssistantStatus")
        return [AgentStatus.from_api(row) for row in rows]

    def _invocation_result(
        self, body: Mapping[str, Any], invoke_id: str, instance_id: str
    ) -> InvocationResult:
        invocation = body.get("Invocation")
        rows = unwrap(
            invocation.get("InvocationResults") if isinstance(invocation, Mapping) else None,
            "InvocationResult",
        )
        for row in rows:
            if row.get("InstanceId") == instance_id:
                return InvocationResult.from_api(row)
        raise self._not_found(
            "invocation", f"{invoke_id} on {instance_id}", body, "DescribeInvocationResults"
        )

    @staticmethod
    def _detach_params(disk_id: str, instance_id: str, delete_with_instance: bool | None) -> dict[str, Any]:
        return {"DiskId": disk_id, "InstanceId": instance_id, "DeleteWithInstance": delete_with_instance}

    @staticmethod
    def _attach_params(
        disk_id: str,
        instance_id: str,
        bootable: bool | None,
        password: str | None,
        key_pair_name: str | None,
        delete_with_instance: bool | None,
    ) -> dict[str, Any]:
        return {
            "DiskId": disk_id,
            "InstanceId": instance_id,
            "Bootable": bootable,
            "Password": password,
            "KeyPairName": key_pair_name,
            "DeleteWithInstance": delete_with_instance,
        }

    @staticmethod
    def _inventory(
        regions: Iterable[str], results: Mapping[str, tuple[list[Instance], list[Disk]] | EcsError]
    ) -> Inventory:
        order = tuple(regions)
        instances: list[Instance] = []
        disks: list[Disk] = []
        errors: dict[str, EcsError] = {}
        for region in order:
            result = results.get(region)
            if isinstance(result, EcsError):
                errors[region] = result
            elif result is not None:
                instances.extend(result[0])
                disks.extend(result[1])
        return Inventory(tuple(instances), tuple(disks), errors, order)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a large read builds objects it would only walk again.

    An inventory of 10,000 instances and 20,000 disks keeps about 350,000 container objects, and every
    collection walked them once more: about 40 % of the client's CPU (``benchmarks/inventory.py``). Parsed
    replies hold no cycles, so reference counting frees what is dropped meanwhile. When the last pause ends,
    what was built is handed straight to the oldest generation (``gc.freeze()`` then ``gc.unfreeze()``: two
    list splices, no walk), so the young collections that would each have walked it once more are skipped;
    the next full collection sees it as usual. A program that froze objects itself is left alone, and one
    that had disabled the collector keeps it disabled. Pauses nest and overlap across threads.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


def _xml_error(text: str) -> dict[str, Any]:
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return {}
    return {child.tag: (child.text or "") for child in root}


def _bodiless_message(status: int, text: str) -> str:
    """The message of an error reply without an API error body: a gateway's HTML page says its title."""
    if re.search(r"<\s*(!doctype\s+html|html|head|body|title)\b", text, re.IGNORECASE):
        found = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        title = " ".join(re.sub(r"<[^>]*>", " ", found.group(1)).split())[:120] if found else ""
        return f"HTTP {status} with an HTML page, not an API reply (a gateway or proxy answered)" + (
            f": {title}" if title else ""
        )
    snippet = " ".join(text.split())[:120]
    return f"HTTP {status} without an API error body" + (f": {snippet}" if snippet else "")


def sent_before_failure(exc: Exception) -> bool:
    """Whether the request may have reached the server before ``exc`` (connect failures: certainly not)."""
    import httpx

    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
