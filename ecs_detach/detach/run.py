"""The entry points that run a confirmed plan: `run`, `run_async`, `follow`, `reattach`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ecs_detach.detach.facts import FactsSource
from ecs_detach.detach.results import CancelToken, Outcome, ProgressEvent, RunResult, WorkflowClient
from ecs_detach.detach.runner import Runner, RunStopped, durations_of
from ecs_detach.detach.single import run_detach
from ecs_detach.detach.undo import prepare_reattach, run_reattach
from ecs_detach.errors import EcsError
from ecs_detach.journal import Journal, JournalRecord
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan


def run(
    client: WorkflowClient,
    plan: Plan,
    *,
    journal: Journal | None = None,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float | None = None,
    password: str | None = None,
    key_pair_name: str | None = None,
) -> RunResult:
    """Execute a confirmed plan (a detach, or a re-attach from `prepare_reattach`). Never raises `EcsError`.

    `timeout` (default: the plan's, 300 s) bounds each wait. `password` / `key_pair_name` are for re-attaching
    a system disk only; they go to the API and nowhere else.
    """
    runner = Runner(
        client,
        journal=journal,
        facts=facts,
        on_progress=on_progress,
        cancel=cancel,
        clock=clock,
        sleep=sleep,
        timeout=timeout if timeout is not None else plan.timeout,
    )
    runner.disk_id, runner.instance_id = plan.disk_id, plan.instance_id
    try:
        if plan.action == "reattach":
            return run_reattach(runner, plan, password=password, key_pair_name=key_pair_name)
        return run_detach(runner, plan, allow_restart=True)
    except RunStopped as stop:
        return stop.result


def follow(
    client: WorkflowClient,
    disk_id: str,
    instance_id: str,
    *,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RunResult:
    """Follow a detach already under way (or just sent) until the disk is detached from `instance_id`."""
    runner = Runner(
        client,
        journal=None,
        facts=facts,
        on_progress=on_progress,
        cancel=cancel,
        clock=clock,
        sleep=sleep,
        timeout=timeout,
    )
    runner.disk_id, runner.instance_id = disk_id, instance_id
    try:
        runner.wait_detached(timeout, durations_of(runner).detach)
    except RunStopped as stop:
        return stop.result
    return runner.result(Outcome.DONE, f"Disk {disk_id} is detached from instance {instance_id}.")


async def run_async(client: WorkflowClient, plan: Plan, **kwargs: Any) -> RunResult:
    """`run` in a worker thread, for asyncio code (notebooks). Cancelling the task cancels the wait only."""
    token: CancelToken = kwargs.pop("cancel", None) or CancelToken()
    try:
        return await asyncio.to_thread(run, client, plan, cancel=token, **kwargs)
    except asyncio.CancelledError:
        token.cancel()
        raise


def reattach(
    client: WorkflowClient,
    record: JournalRecord,
    *,
    password: str | None = None,
    key_pair_name: str | None = None,
    start_after: bool = False,
    remount: bool = True,
    journal: Journal | None = None,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RunResult:
    """Undo a detach: attach the disk back to the instance the journal record names.

    A system disk is attached Bootable, with the password or key pair the caller gives (never journaled).
    With `remount` (the default), a disk our unmount released is mounted back in the guest afterwards.
    """
    credential = "password" if password else "key-pair" if key_pair_name else None
    try:
        plan = prepare_reattach(
            client,
            record,
            credential=credential,
            start_after=start_after,
            facts=facts,
            timeout=timeout,
            remount=remount,
        )
    except EcsError as exc:
        return RunResult(Outcome.FAILED, f"Could not read disk {record.disk_id}: {exc}", record.disk_id, "")
    return run(
        client,
        plan,
        journal=journal,
        facts=facts,
        on_progress=on_progress,
        cancel=cancel,
        clock=clock,
        sleep=sleep,
        timeout=timeout,
        password=password,
        key_pair_name=key_pair_name,
    )
