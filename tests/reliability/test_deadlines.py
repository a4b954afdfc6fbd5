"""Every call has a total deadline (a reply that crawls in cannot outlast ``--timeout``), and a second
Ctrl-C ends the command without sitting out the call in flight."""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecs_detach import workflow
from ecs_detach.client import AsyncEcsClient, EcsClient, emulator_credentials
from ecs_detach.commands import EXIT_TIMED_OUT
from ecs_detach.commands._console import CommandError, Console, Progress, run_in_worker
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import TransportError
from ecs_detach.journal import Journal
from ecs_detach.retry import RetryPolicy
from ecs_detach.workflow import CancelToken, Outcome, emulator_facts

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


def test_a_reply_whose_headers_crawl_in_ends_at_the_calls_deadline(proxy: FaultProxy) -> None:
    """Each header byte comes well within the read timeout: only a deadline over the whole call ends it."""
    proxy.script(Rule("DescribeRegions", 1, "crawl_head"))
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
async def test_a_reply_whose_headers_crawl_in_ends_at_the_async_calls_deadline(proxy: FaultProxy) -> None:
    proxy.script(Rule("DescribeRegions", 1, "crawl_head"))
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


DETACH_FLEET = {
    "Instances": [{"InstanceId": "i-app", "Status": "Running", "InstanceType": "ecs.g7.large"}],
    "Disks": [
        {"DiskId": "d-app-root", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
    ],
    # The guest probe's invocation finishes at once: this emulator's clock moves only when a test moves it.
    "Emulator": {"Durations": {"RunCommand": 0}},
}


@contextlib.contextmanager
def proxied(emu: Emulator) -> Iterator[FaultProxy]:
    """`emu` served over HTTP, the fault proxy in front of it."""
    server = emu.serve_in_thread()
    try:
        with FaultProxy(server.url) as proxy:
            yield proxy
    finally:
        server.stop()


def test_a_detach_whose_reply_headers_crawl_ends_at_its_deadline_and_reads_back_the_truth(
    tmp_path: Path,
) -> None:
    """The DetachDisk is applied, its answer never comes whole: the call ends at its deadline as 'outcome
    unknown', the disk is read back, and the journal says the detach went through."""
    emu = Emulator(fleet=DETACH_FLEET, clock=ManualClock())
    journal = Journal(tmp_path / "journal.jsonl", clock=emu.now)
    with proxied(emu) as proxy:
        proxy.script(Rule("DetachDisk", 1, "crawl_head"))
        client = EcsClient(emulator_credentials(), "cn-hangzhou", endpoint=proxy.url, timeout=0.5)
        with client:
            facts = emulator_facts(emu)
            plan = workflow.prepare(client, "d-app-data", facts=facts, journal=journal)
            result = workflow.run(
                client, plan, journal=journal, facts=facts, clock=emu.now, sleep=emu.advance
            )
        assert proxy.faults_applied() == [("DetachDisk", 1, "crawl_head")]
        assert proxy.wait_until(lambda: proxy.endings)
    assert result.outcome is Outcome.DONE, result.message
    [(_, outcome)] = journal.operations()
    assert outcome is not None and outcome.reconciled and outcome.succeeded  # read back: it went through
    assert [r["action"] for r in emu.requests if r["action"] == "DetachDisk"] == ["DetachDisk"]
    assert proxy.endings == ["client hung up"]  # at its deadline, not at the proxy's reset 20 s on


def test_two_ctrl_c_end_a_detach_whose_reply_headers_crawl_in(tmp_path: Path) -> None:
    """The CLI, a real process: the DetachDisk's answer crawls in; two SIGINTs end the command with exit 4
    and no traceback, the intent on disk for the next start to reconcile."""
    emu = Emulator(fleet=DETACH_FLEET, clock=ManualClock())
    journal = tmp_path / "journal.jsonl"
    with proxied(emu) as proxy:
        proxy.script(Rule("DetachDisk", 1, "crawl_head"))
        command = [sys.executable, "-m", "ecs_detach.cli", "detach", "d-app-data", "--yes", "--demo"]
        command += ["--endpoint", proxy.url, "--journal", str(journal)]
        env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
        cli = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert proxy.wait_for_fault(), "the DetachDisk never reached the proxy"
            cli.send_signal(signal.SIGINT)
            assert cli.stderr is not None
            for line in cli.stderr:  # the first Ctrl-C is heard: the wait stops, the call goes on
                if "Ctrl-C: stopping the wait" in line:
                    break
            cli.send_signal(signal.SIGINT)
            out, err = cli.communicate(timeout=30)
        finally:
            cli.kill()
    assert cli.returncode == EXIT_TIMED_OUT, out + err
    assert "interrupted twice" in err and "Traceback" not in err
    [intent] = Journal(journal).pending()  # its writer is gone: the next start reconciles it
    assert intent.action == "DetachDisk" and intent.disk_id == "d-app-data"


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
