"""The ECS client: ``EcsClient`` (sync) and ``AsyncEcsClient`` (async), the same methods under the same names.

Both only send, sleep and iterate; request building, reply parsing, error mapping and retry decisions live in
:class:`ecs_detach._core.BaseEcsClient`. httpx is imported when a client is built, not when this module is::

    from ecs_detach.client import EcsClient
    from ecs_detach.credentials import resolve

    config = resolve(profile="prod")
    with EcsClient(config.credentials, config.region_id, read_only=True) as client:
        for disk in client.iter_disks(instance_id="i-bp1..."):
            print(disk.disk_id, disk.status)

``EcsClient.for_emulator(Emulator(...))`` runs the same client in-process on the emulator with its demo key.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

from ecs_detach._core import (
    CONNECT_TIMEOUT,
    USER_AGENT,
    BaseEcsClient,
    Call,
    ClockLike,
    Inventory,
    Page,
    ThrottleObserver,
    emulator_credentials,
    gc_paused,
    sent_before_failure,
)
from ecs_detach.credentials import CredentialSource
from ecs_detach.errors import ApiError, EcsError
from ecs_detach.models import AgentStatus, Disk, Instance, InvocationResult, Region, Snapshot, SnapshotCreated
from ecs_detach.retry import RetryPolicy

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncEcsClient", "EcsClient", "Inventory", "emulator_credentials"]

# Requests in flight at once for inventory(): one region's pages come one after another (NextToken), so an
# inventory is as fast as its longest chain of pages only if every chain (two per region) runs at once.
# Threads are cheap beside a 50 ms round trip once the collector is held off (see gc_paused):
# benchmarks/inventory.py, 20 regions, wall 0.99-1.27 s at 16, 0.74-1.06 s at 40 and 64.
DEFAULT_CONCURRENCY = 64
_UNRESERVED = "-_.~"  # RFC 3986: kept as is; everything else is %XY (signing.percent_encode)
_KINDS = ("disks", "instances")  # disks first: usually the longer chain of pages
# An inventory asks for DescribeDisks' largest page (500; DescribeInstances allows 100): fewer round trips,
# and a region's chain of disk pages five times shorter.
INVENTORY_DISK_PAGE = 500


def _units(names: Sequence[str]) -> list[tuple[str, str]]:
    """The inventory's independent page chains: (region, kind), longer chains first."""
    return [(region, kind) for kind in _KINDS for region in names]


def _per_region(
    names: Sequence[str], fetched: Mapping[tuple[str, str], list[Any] | EcsError]
) -> dict[str, tuple[list[Instance], list[Disk]] | EcsError]:
    """Join a region's two chains; a region whose instances or disks failed is reported as that error."""
    results: dict[str, tuple[list[Instance], list[Disk]] | EcsError] = {}
    for region in names:
        instances, disks = fetched.get((region, "instances"), []), fetched.get((region, "disks"), [])
        if isinstance(instances, EcsError):
            results[region] = instances
        elif isinstance(disks, EcsError):
            results[region] = disks
        else:
            results[region] = (instances, disks)
    return results


def _target(call: Call) -> str:
    """The call's URL with its query RFC 3986-encoded, as the signers send it (one URL parse per request)."""
    if not call.params:
        return call.url
    return (
        call.url
        + "?"
        + "&".join(f"{quote(k, safe=_UNRESERVED)}={quote(v, safe=_UNRESERVED)}" for k, v in call.params)
    )


def _timeout(call: Call) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(call.timeout, connect=min(CONNECT_TIMEOUT, call.timeout))


def _overdue(call: Call, request: httpx.Request | None) -> httpx.ReadTimeout:
    import httpx

    return httpx.ReadTimeout(
        f"no whole answer within {call.timeout:g} s (the reply was still coming in)", request=request
    )


# The deadline of the call this thread is sending (monotonic time, and the call's timeout), for the network
# streams below: httpx bounds each read, so a reply whose status line and headers trickle in a byte at a
# time would otherwise outlast any timeout (the body is bounded in `_post`, but the headers come first).
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("ecs_detach_deadline", default=None)


def _left(timeout: float | None) -> float | None:
    """A network step's timeout, cut to what is left of the call's total deadline (raised once it passed)."""
    bound = _DEADLINE.get()
    if bound is None:
        return timeout
    deadline, total = bound
    left = deadline - time.monotonic()
    if left <= 0:
        import httpcore

        raise httpcore.ReadTimeout(f"no whole answer within {total:g} s (the reply was still coming in)")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """An httpcore network stream whose every read and write ends by the call's deadline."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._stream.read(max_bytes, _left(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's network backend, its streams held to the call's deadline (`_DeadlineStream`)."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _DeadlineStream:
        return _DeadlineStream(
            self._backend.connect_tcp(host, port, _left(timeout), local_address, socket_options)
        )

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        return _DeadlineStream(self._backend.connect_unix_socket(path, _left(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _deadline_transport() -> httpx.BaseTransport:
    """httpx's own transport, its network streams held to each call's deadline. (The one tie to httpx's and
    httpcore's internals, `_pool._network_backend`: if they move, the transport is used as it is, and only
    the body is bounded by the deadline.)"""
    import httpx

    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is not None and backend is not None:
        pool._network_backend = _DeadlineBackend(backend)
    return transport


class EcsClient(BaseEcsClient):
    """Synchronous ECS client. Thread-safe; ``inventory()`` fetches pages on a bounded thread pool."""

    def __init__(
        self,
        credentials: CredentialSource,
        region_id: str,
        *,
        endpoint: str | None = None,
        transport: httpx.BaseTransport | None = None,
        read_only: bool = False,
        signature: str = "v3",
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        profile_name: str | None = None,
        clock: ClockLike | None = None,
        nonce: Callable[[], str] | None = None,
        on_throttled: ThrottleObserver | None = None,
        sleep: Callable[[float], None] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            credentials,
            region_id,
            endpoint=endpoint,
            read_only=read_only,
            signature=signature,
            retry=retry,
            timeout=timeout,
            profile_name=profile_name,
            clock=clock,
            nonce=nonce,
            on_throttled=on_throttled,
        )
        import httpx

        self._transport = transport
        self._sleep: Callable[[float], None] = sleep if sleep is not None else time.sleep
        self._owns_http = http is None
        self._http = http or httpx.Client(
            transport=transport if transport is not None else _deadline_transport(),
            auth=self._auth(),
            headers={"user-agent": USER_AGENT},
            follow_redirects=False,
        )

    # -- lifecycle -------------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------------------------------

    def _send(self, call: Call) -> dict[str, Any]:
        import httpx

        attempt = 0
        while True:
            attempt += 1
            error: EcsError
            try:
                status, headers, content = self._post(call)
                return self._parse_reply(call, status, headers, content)
            except httpx.TransportError as exc:
                error = self._transport_error(call, exc, sent=sent_before_failure(exc))
            except ApiError as exc:
                error = self._attempt_error(call, attempt, exc)
            decision = self._decide(call, attempt, error)
            if not decision.retry:
                raise error from None
            self._sleep(decision.delay)

    def _post(self, call: Call) -> tuple[int, httpx.Headers, bytes]:
        """Send once; the whole answer within ``call.timeout`` (httpx bounds each read, not their sum: a reply
        trickling in a byte at a time would otherwise never time out)."""
        import httpx

        deadline = time.monotonic() + call.timeout
        bound = _DEADLINE.set((deadline, call.timeout))  # the status line and headers too: `_DeadlineStream`
        try:
            with self._http.stream(
                "POST", _target(call), headers=self._headers(call), timeout=_timeout(call)
            ) as response:
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _overdue(call, response.request)
                return response.status_code, response.headers, b"".join(chunks)
        except httpx.TimeoutException as exc:
            if time.monotonic() < deadline or "no whole answer" in str(exc):
                raise
            raise _overdue(call, None) from None
        finally:
            _DEADLINE.reset(bound)

    def call(
        self, action: str, params: Mapping[str, Any] | None = None, *, region_id: str | None = None
    ) -> dict[str, Any]:
        """Any API action, raw: the reply body as a dict (errors raised typed, retries applied)."""
        return self._send(self._prepare(action, params, region_id))

    # -- reads -----------------------------------------------------------------------------------------------

    def describe_regions(self, *, accept_language: str = "en-US") -> list[Region]:
        return self._regions(self.call("DescribeRegions", {"AcceptLanguage": accept_language}))

    def _pages(
        self, action: str, outer: str, inner: str, queries: list[dict[str, Any]], region_id: str | None
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Each page's items, page after page (NextToken), query after query."""
        for page in self._page_replies(action, outer, inner, queries, region_id):
            yield page.items

    def _page_replies(
        self, action: str, outer: str, inner: str, queries: list[dict[str, Any]], region_id: str | None
    ) -> Iterator[Page]:
        for query in queries:
            params: dict[str, Any] | None = query
            seen: set[str] = set()
            while params is not None:
                page = self._page(self.call(action, params, region_id=region_id), outer, inner)
                yield page
                params = self._next_params(query, page, seen, action)

    def instance_pages(
        self, *, region_id: str | None = None, page_size: int = 100, **filters: Any
    ) -> Iterator[tuple[list[Instance], int]]:
        """The listing a page at a time: each page's instances and the ``TotalCount`` the reply gave (so a
        caller can show the first page at once and say "page 3 of 20")."""
        queries = self._instance_queries(None, filters.pop("status", None), page_size, filters)
        for page in self._page_replies("DescribeInstances", "Instances", "Instance", queries, region_id):
            yield list(map(Instance, page.items)), page.total_count

    def disk_pages(
        self, *, region_id: str | None = None, page_size: int = 100, **filters: Any
    ) -> Iterator[tuple[list[Disk], int]]:
        """As :meth:`instance_pages`, for disks."""
        status = filters.pop("status", None)
        queries = self._disk_queries(None, None, None, status, page_size, filters)
        for page in self._page_replies("DescribeDisks", "Disks", "Disk", queries, region_id):
            yield list(map(Disk, page.items)), page.total_count

    def iter_instances(
        self,
        *,
        region_id: str | None = None,
        instance_ids: Sequence[str] | None = None,
        status: str | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> Iterator[Instance]:
        """Every instance matching the filters, page after page (NextToken)."""
        queries = self._instance_queries(instance_ids, status, page_size, filters)
        for items in self._pages("DescribeInstances", "Instances", "Instance", queries, region_id):
            yield from map(Instance, items)

    def list_instances(self, **kw: Any) -> list[Instance]:
        return list(self.iter_instances(**kw))

    def get_instance(self, instance_id: str, *, region_id: str | None = None) -> Instance:
        """One instance by id; ``NotFoundError`` if it does not exist in the region."""
        body = self.call("DescribeInstances", {"InstanceIds": json.dumps([instance_id])}, region_id=region_id)
        items = self._page(body, "Instances", "Instance").items
        if not items:
            raise self._not_found("instance", instance_id, body, "DescribeInstances")
        return Instance.from_api(items[0])

    def describe_instance_attribute(self, instance_id: str, *, region_id: str | None = None) -> Instance:
        return Instance.from_api(
            self.call("DescribeInstanceAttribute", {"InstanceId": instance_id}, region_id=region_id)
        )

    def iter_disks(
        self,
        *,
        region_id: str | None = None,
        disk_ids: Sequence[str] | None = None,
        instance_id: str | None = None,
        disk_type: str | None = None,
        status: str | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> Iterator[Disk]:
        """Every disk matching the filters, page after page (NextToken)."""
        queries = self._disk_queries(disk_ids, instance_id, disk_type, status, page_size, filters)
        for items in self._pages("DescribeDisks", "Disks", "Disk", queries, region_id):
            yield from map(Disk, items)

    def list_disks(self, **kw: Any) -> list[Disk]:
        return list(self.iter_disks(**kw))

    def get_disk(self, disk_id: str, *, region_id: str | None = None) -> Disk:
        """One disk by id; ``NotFoundError`` if it does not exist in the region."""
        body = self.call("DescribeDisks", {"DiskIds": json.dumps([disk_id])}, region_id=region_id)
        items = self._page(body, "Disks", "Disk").items
        if not items:
            raise self._not_found("disk", disk_id, body, "DescribeDisks")
        return Disk.from_api(items[0])

    def inventory(
        self,
        regions: Sequence[str] | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        packed: bool = False,
    ) -> Inventory:
        """Instances and disks of every region (or those given); each region's instance pages and disk pages
        are two chains fetched concurrently with the others', on at most ``concurrency`` threads. A failing
        region is reported in ``errors`` beside the others' results.

        ``packed``: each object packed as its page comes (``packed()``, the reply kept as compact JSON
        bytes), for a caller that holds the inventory (the TUI's all-regions view): the same objects in
        about a sixth of the memory of their replies' dicts, a page of dicts alive at a time per chain."""
        from concurrent.futures import ThreadPoolExecutor

        names = list(regions) if regions is not None else [r.region_id for r in self.describe_regions()]
        units = _units(names)

        def fetch(unit: tuple[str, str]) -> list[Any] | EcsError:
            region, kind = unit
            try:
                items: Iterator[Instance] | Iterator[Disk] = (
                    self.iter_instances(region_id=region)
                    if kind == "instances"
                    else self.iter_disks(region_id=region, page_size=INVENTORY_DISK_PAGE)
                )
                return [item.packed() for item in items] if packed else list(items)
            except EcsError as exc:
                return exc

        workers = max(1, min(int(concurrency), len(units) or 1))
        with (
            gc_paused(),
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ecs-inventory") as pool,
        ):
            fetched = dict(zip(units, pool.map(fetch, units), strict=True))
        return self._inventory(names, _per_region(names, fetched))

    # -- mutations (never re-sent blindly) -------------------------------------------------------------------

    def stop_instance(
        self, instance_id: str, *, force_stop: bool = False, stopped_mode: str | None = None
    ) -> str:
        return self._request_id(
            self.call("StopInstance", self._stop_params(instance_id, force_stop, stopped_mode))
        )

    def start_instance(self, instance_id: str) -> str:
        return self._request_id(self.call("StartInstance", {"InstanceId": instance_id}))

    def detach_disk(self, disk_id: str, instance_id: str, *, delete_with_instance: bool | None = None) -> str:
        return self._request_id(
            self.call("DetachDisk", self._detach_params(disk_id, instance_id, delete_with_instance))
        )

    def attach_disk(
        self,
        disk_id: str,
        instance_id: str,
        *,
        bootable: bool | None = None,
        password: str | None = None,
        key_pair_name: str | None = None,
        delete_with_instance: bool | None = None,
    ) -> str:
        params = self._attach_params(
            disk_id, instance_id, bootable, password, key_pair_name, delete_with_instance
        )
        return self._request_id(self.call("AttachDisk", params))

    def create_snapshot(
        self,
        disk_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        retention_days: int | None = None,
    ) -> SnapshotCreated:
        """CreateSnapshot: the snapshot starts ``progressing``; follow it with `get_snapshot` (billed)."""
        params = {
            "DiskId": disk_id,
            "SnapshotName": name,
            "Description": description,
            "RetentionDays": retention_days,
        }
        return self._snapshot_created(self.call("CreateSnapshot", params))

    def list_snapshots(
        self,
        *,
        disk_id: str | None = None,
        snapshot_ids: Sequence[str] | None = None,
        status: str | None = None,
        name: str | None = None,
        region_id: str | None = None,
    ) -> list[Snapshot]:
        """DescribeSnapshots, every page: newest first, as the API orders them."""
        query = self._snapshot_query(disk_id, snapshot_ids, status, name)
        pages = self._pages("DescribeSnapshots", "Snapshots", "Snapshot", [query], region_id)
        return [Snapshot.from_api(item) for page in pages for item in page]

    def get_snapshot(self, snapshot_id: str, *, region_id: str | None = None) -> Snapshot:
        """One snapshot by id; ``NotFoundError`` if there is none."""
        found = self.list_snapshots(snapshot_ids=[snapshot_id], region_id=region_id)
        if not found:
            raise self._no_snapshot(snapshot_id)
        return found[0]

    # -- Cloud Assistant (the guest) ------------------------------------------------------------------------

    def cloud_assistant_status(self, instance_ids: Sequence[str]) -> list[AgentStatus]:
        """Whether the Cloud Assistant Agent is installed and online on each instance."""
        params = {f"InstanceId.{n}": i for n, i in enumerate(instance_ids, start=1)}
        return self._agent_statuses(self.call("DescribeCloudAssistantStatus", params))

    def run_command(
        self, instance_id: str, content: str, *, command_type: str, timeout: int = 60, name: str = ""
    ) -> str:
        """RunCommand on one instance (a mutation: never re-sent blindly); returns the InvokeId."""
        body = self.call(
            "RunCommand", self._run_command_params(instance_id, content, command_type, timeout, name)
        )
        return str(body.get("InvokeId", ""))

    def invocation_result(self, invoke_id: str, instance_id: str) -> InvocationResult:
        """The result of an invocation on an instance (its Output decoded)."""
        params = {"InvokeId": invoke_id, "InstanceId": instance_id, "ContentEncoding": "Base64"}
        return self._invocation_result(self.call("DescribeInvocationResults", params), invoke_id, instance_id)


class AsyncEcsClient(BaseEcsClient):
    """Asynchronous ECS client: the same methods as :class:`EcsClient`, awaited (iterators are async)."""

    def __init__(
        self,
        credentials: CredentialSource,
        region_id: str,
        *,
        endpoint: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        read_only: bool = False,
        signature: str = "v3",
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        profile_name: str | None = None,
        clock: ClockLike | None = None,
        nonce: Callable[[], str] | None = None,
        on_throttled: ThrottleObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            credentials,
            region_id,
            endpoint=endpoint,
            read_only=read_only,
            signature=signature,
            retry=retry,
            timeout=timeout,
            profile_name=profile_name,
            clock=clock,
            nonce=nonce,
            on_throttled=on_throttled,
        )
        import anyio
        import httpx

        self._transport = transport
        self._sleep: Callable[[float], Awaitable[None]] = sleep if sleep is not None else anyio.sleep
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            transport=transport,
            auth=self._auth(),
            headers={"user-agent": USER_AGENT},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> dict[str, Any]:
        import httpx

        attempt = 0
        while True:
            attempt += 1
            error: EcsError
            try:
                response = await self._post(call)
                return self._parse_reply(call, response.status_code, response.headers, response.content)
            except httpx.TransportError as exc:
                error = self._transport_error(call, exc, sent=sent_before_failure(exc))
            except ApiError as exc:
                error = self._attempt_error(call, attempt, exc)
            decision = self._decide(call, attempt, error)
            if not decision.retry:
                raise error from None
            await self._sleep(decision.delay)

    async def _post(self, call: Call) -> httpx.Response:
        """Send once; the whole answer within ``call.timeout`` (a deadline over every read, not each)."""
        import anyio

        try:
            with anyio.fail_after(call.timeout):
                response: httpx.Response = await self._http.post(
                    _target(call), headers=self._headers(call), timeout=_timeout(call)
                )
                return response
        except TimeoutError:
            raise _overdue(call, None) from None

    async def call(
        self, action: str, params: Mapping[str, Any] | None = None, *, region_id: str | None = None
    ) -> dict[str, Any]:
        return await self._send(self._prepare(action, params, region_id))

    async def describe_regions(self, *, accept_language: str = "en-US") -> list[Region]:
        return self._regions(await self.call("DescribeRegions", {"AcceptLanguage": accept_language}))

    async def _pages(
        self, action: str, outer: str, inner: str, queries: list[dict[str, Any]], region_id: str | None
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Each page's items, page after page (NextToken), query after query."""
        for query in queries:
            params: dict[str, Any] | None = query
            seen: set[str] = set()
            while params is not None:
                page = self._page(await self.call(action, params, region_id=region_id), outer, inner)
                yield page.items
                params = self._next_params(query, page, seen, action)

    async def iter_instances(
        self,
        *,
        region_id: str | None = None,
        instance_ids: Sequence[str] | None = None,
        status: str | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> AsyncIterator[Instance]:
        queries = self._instance_queries(instance_ids, status, page_size, filters)
        async for items in self._pages("DescribeInstances", "Instances", "Instance", queries, region_id):
            for raw in items:
                yield Instance(raw)

    async def list_instances(self, **kw: Any) -> list[Instance]:
        return [instance async for instance in self.iter_instances(**kw)]

    async def get_instance(self, instance_id: str, *, region_id: str | None = None) -> Instance:
        body = await self.call(
            "DescribeInstances", {"InstanceIds": json.dumps([instance_id])}, region_id=region_id
        )
        items = self._page(body, "Instances", "Instance").items
        if not items:
            raise self._not_found("instance", instance_id, body, "DescribeInstances")
        return Instance.from_api(items[0])

    async def describe_instance_attribute(
        self, instance_id: str, *, region_id: str | None = None
    ) -> Instance:
        body = await self.call("DescribeInstanceAttribute", {"InstanceId": instance_id}, region_id=region_id)
        return Instance.from_api(body)

    async def iter_disks(
        self,
        *,
        region_id: str | None = None,
        disk_ids: Sequence[str] | None = None,
        instance_id: str | None = None,
        disk_type: str | None = None,
        status: str | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> AsyncIterator[Disk]:
        queries = self._disk_queries(disk_ids, instance_id, disk_type, status, page_size, filters)
        async for items in self._pages("DescribeDisks", "Disks", "Disk", queries, region_id):
            for raw in items:
                yield Disk(raw)

    async def list_disks(self, **kw: Any) -> list[Disk]:
        return [disk async for disk in self.iter_disks(**kw)]

    async def get_disk(self, disk_id: str, *, region_id: str | None = None) -> Disk:
        body = await self.call("DescribeDisks", {"DiskIds": json.dumps([disk_id])}, region_id=region_id)
        items = self._page(body, "Disks", "Disk").items
        if not items:
            raise self._not_found("disk", disk_id, body, "DescribeDisks")
        return Disk.from_api(items[0])

    async def inventory(
        self,
        regions: Sequence[str] | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        packed: bool = False,
    ) -> Inventory:
        """Instances and disks of every region: each region's instance pages and disk pages are two chains,
        at most ``concurrency`` chains in flight at once; ``packed`` as for :meth:`EcsClient.inventory`."""
        import anyio

        names = list(regions) if regions is not None else [r.region_id for r in await self.describe_regions()]
        limiter = anyio.CapacityLimiter(max(1, int(concurrency)))
        fetched: dict[tuple[str, str], list[Any] | EcsError] = {}

        async def fetch(unit: tuple[str, str]) -> None:
            region, kind = unit
            async with limiter:
                try:
                    items: AsyncIterator[Instance] | AsyncIterator[Disk] = (
                        self.iter_instances(region_id=region)
                        if kind == "instances"
                        else self.iter_disks(region_id=region, page_size=INVENTORY_DISK_PAGE)
                    )
                    fetched[unit] = [item.packed() if packed else item async for item in items]
                except EcsError as exc:
                    fetched[unit] = exc

        with gc_paused():  # the whole process's collector, for the length of the inventory (see gc_paused)
            async with anyio.create_task_group() as group:
                for unit in _units(names):
                    group.start_soon(fetch, unit)
        return self._inventory(names, _per_region(names, fetched))

    async def stop_instance(
        self, instance_id: str, *, force_stop: bool = False, stopped_mode: str | None = None
    ) -> str:
        body = await self.call("StopInstance", self._stop_params(instance_id, force_stop, stopped_mode))
        return self._request_id(body)

    async def start_instance(self, instance_id: str) -> str:
        return self._request_id(await self.call("StartInstance", {"InstanceId": instance_id}))

    async def detach_disk(
        self, disk_id: str, instance_id: str, *, delete_with_instance: bool | None = None
    ) -> str:
        body = await self.call("DetachDisk", self._detach_params(disk_id, instance_id, delete_with_instance))
        return self._request_id(body)

    async def cloud_assistant_status(self, instance_ids: Sequence[str]) -> list[AgentStatus]:
        params = {f"InstanceId.{n}": i for n, i in enumerate(instance_ids, start=1)}
        return self._agent_statuses(await self.call("DescribeCloudAssistantStatus", params))

    async def run_command(
        self, instance_id: str, content: str, *, command_type: str, timeout: int = 60, name: str = ""
    ) -> str:
        params = self._run_command_params(instance_id, content, command_type, timeout, name)
        body = await self.call("RunCommand", params)
        return str(body.get("InvokeId", ""))

    async def invocation_result(self, invoke_id: str, instance_id: str) -> InvocationResult:
        params = {"InvokeId": invoke_id, "InstanceId": instance_id, "ContentEncoding": "Base64"}
        body = await self.call("DescribeInvocationResults", params)
        return self._invocation_result(body, invoke_id, instance_id)

    async def attach_disk(
        self,
        disk_id: str,
        instance_id: str,
        *,
        bootable: bool | None = None,
        password: str | None = None,
        key_pair_name: str | None = None,
        delete_with_instance: bool | None = None,
    ) -> str:
        params = self._attach_params(
            disk_id, instance_id, bootable, password, key_pair_name, delete_with_instance
        )
        return self._request_id(await self.call("AttachDisk", params))

    async def create_snapshot(
        self,
        disk_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        retention_days: int | None = None,
    ) -> SnapshotCreated:
        params = {
            "DiskId": disk_id,
            "SnapshotName": name,
            "Description": description,
            "RetentionDays": retention_days,
        }
        return self._snapshot_created(await self.call("CreateSnapshot", params))

    async def list_snapshots(
        self,
        *,
        disk_id: str | None = None,
        snapshot_ids: Sequence[str] | None = None,
        status: str | None = None,
        name: str | None = None,
        region_id: str | None = None,
    ) -> list[Snapshot]:
        query = self._snapshot_query(disk_id, snapshot_ids, status, name)
        found: list[Snapshot] = []
        async for page in self._pages("DescribeSnapshots", "Snapshots", "Snapshot", [query], region_id):
            found.extend(Snapshot.from_api(item) for item in page)
        return found

    async def get_snapshot(self, snapshot_id: str, *, region_id: str | None = None) -> Snapshot:
        found = await self.list_snapshots(snapshot_ids=[snapshot_id], region_id=region_id)
        if not found:
            raise self._no_snapshot(snapshot_id)
        return found[0]
