"""Every call has a total deadline (a reply that crawls in cannot outlast ``--timeout``), and a second
Ctrl-C ends the command without sitting out the call in flight."""

from __future__ import annotations

import _thread
import threading
from collections.abc import Iterator

import pytest

from ecs_detach.client import AsyncEcsClient, EcsClient, emulator_credentials
from ecs_detach.commands import EXIT_TIMED_OUT
from ecs_detach.commands._console import CommandError, Console, Progress, run_in_worker
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import TransportError
from ecs_detach.retry import RetryPolicy
from ecs_detach.workflow import CancelToken

from .fault_proxy import FaultProxy, Rule


@pytest.fixture(scope="module")
def proxy() -> Iterator[FaultProxy]:
    server = Emulator(fleet="demo", clock=ManualClock()).serve_in_thread()
    try:
        with FaultProxy(server.url) as running:
            yield running
    finally:
        server.stop()


def test_a_crawling_reply_ends_at_the_calls_deadline(proxy: FaultProxy) -> None:
    proxy.script(Rule("DescribeRegions", 1, "crawl"))
    client = EcsClient(
        emulator_credentials(),
        "cn-hangzhou",
        endpoint=proxy.url,
        timeout=0.5,
        retry=RetryPolicy(max_attempts=1),
    )
    with client, pytest.raises(TransportError) as caught:
        client.describe_regions()
    assert "no whole answer within 0.5 s" in str(caught.value)


@pytest.mark.anyio
async def test_a_crawling_reply_ends_at_the_async_calls_deadline(proxy: FaultProxy) -> None:
    proxy.script(Rule("DescribeRegions", 1, "crawl"))
    client = AsyncEcsClient(
        emulator_credentials(),
        "cn-hangzhou",
        endpoint=proxy.url,
        timeout=0.5,
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        with pytest.raises(TransportError) as caught:
            await client.describe_regions()
    assert "no whole answer within 0.5 s" in str(caught.value)


class TickingProgress(Progress):
    """Says when the main thread is back in its wait loop (where a Ctrl-C is handled)."""

    def __init__(self, console: Console) -> None:
        super().__init__(console, bar=False, real_time=True)
        self.ticks = 0
        self.ticked = threading.Condition()

    def tick(self) -> None:
        super().tick()
        with self.ticked:
            self.ticks += 1
            self.ticked.notify_all()

    def next_tick(self) -> None:
        with self.ticked:
            seen = self.ticks
            self.ticked.wait_for(lambda: self.ticks > seen)


def test_a_second_ctrl_c_does_not_wait_for_the_call_in_flight() -> None:
    """The worker stands for a call that never ends; each Ctrl-C is delivered to the main thread."""
    cancel, release = CancelToken(), threading.Event()
    console = Console("detach")
    progress = TickingProgress(console)

    def call_in_flight() -> None:
        progress.next_tick()
        _thread.interrupt_main()  # the first Ctrl-C: the wait is cancelled
        progress.next_tick()
        assert cancel.cancelled
        _thread.interrupt_main()  # the second
        release.wait()  # the call never answers (until the test is over)

    try:
        with pytest.raises(CommandError) as caught:
            run_in_worker(call_in_flight, cancel, progress, console)
    finally:
        release.set()
    assert caught.value.exit_code == EXIT_TIMED_OUT
    assert "interrupted twice" in str(caught.value) and "journal --reconcile" in caught.value.remedy
