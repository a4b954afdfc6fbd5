"""One journaled send for every mutating call, and what its answer means for the run.

`send` looks the step kind up in `steps.MUTATING_STEPS`, makes the call through its executor (the only place
a mutating client call is made), journals intent and outcome (`Runner.mutate`), reconciles a lost answer or
a server failure by reading what the step kind says to read, and sums the answer up as an `Answer`. Callers
decide what each answer means for their step (re-read, wait, stop the run), never how the call went out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ecs_detach.detach.results import StepResult, WorkflowClient
from ecs_detach.detach.runner import THROTTLED, UNSURE, Runner
from ecs_detach.detach.steps import MUTATING_STEPS, StepKind, flag
from ecs_detach.errors import ApiError
from ecs_detach.journal import JournalRecord, Result

__all__ = ["EXECUTORS", "Answer", "Reply", "Secrets", "Sent", "send", "settled"]


@dataclass(frozen=True, slots=True)
class Secrets:
    """What goes to the API and nowhere else (never journaled, never in a plan)."""

    password: str | None = None
    key_pair_name: str | None = None

    def __repr__(self) -> str:
        return "Secrets(***)"


NO_SECRETS = Secrets()


class Answer(StrEnum):
    DONE = "done"  # accepted, or a lost answer that reconciling shows went through (or is under way)
    NOT_APPLIED = "not-applied"  # throttled (or backing off): nothing happened; read again, decide afresh
    DID_NOT_HAPPEN = "did-not-happen"  # a lost answer that reconciling shows did not take effect
    UNKNOWN = "unknown"  # a lost answer, and the state does not tell
    REFUSED = "refused"  # the API answered with an error (`error` is the ApiError)
    NOT_SENT = "not-sent"  # refused before it went out (read-only, credentials, ...)


@dataclass(frozen=True, slots=True)
class Sent:
    answer: Answer
    request_id: str = ""
    intent: JournalRecord | None = None
    error: BaseException | None = None
    returned: Mapping[str, str] = field(default_factory=dict)  # what the answer gave besides (SnapshotId)

    @property
    def api_error(self) -> ApiError | None:
        """The API's refusal (only when `answer` is REFUSED: a server failure reconciled is not one)."""
        if self.answer is Answer.REFUSED and isinstance(self.error, ApiError):
            return self.error
        return None


@dataclass(frozen=True, slots=True)
class Reply:
    """An executor's answer that carries more than the request id (CreateSnapshot: the SnapshotId)."""

    request_id: str
    returned: Mapping[str, str]


Executor = Callable[[WorkflowClient, Mapping[str, str], Secrets], "str | Reply"]


def _stop(client: WorkflowClient, params: Mapping[str, str], _: Secrets) -> str:
    return client.stop_instance(
        params["InstanceId"],
        force_stop=params.get("ForceStop") == "true",
        stopped_mode=params.get("StoppedMode"),
    )


def start_again(client: WorkflowClient, params: Mapping[str, str], _: Secrets) -> str:
    return client.start_instance(params["InstanceId"])


def _detach(client: WorkflowClient, params: Mapping[str, str], _: Secrets) -> str:
    return client.detach_disk(
        params["DiskId"], params["InstanceId"], delete_with_instance=flag(params, "DeleteWithInstance")
    )


def _attach(client: WorkflowClient, params: Mapping[str, str], secrets: Secrets) -> str:
    return client.attach_disk(
        params["DiskId"],
        params["InstanceId"],
        bootable=True if params.get("Bootable") == "true" else None,
        password=secrets.password,
        key_pair_name=secrets.key_pair_name,
        delete_with_instance=flag(params, "DeleteWithInstance"),
    )


def _snapshot(client: WorkflowClient, params: Mapping[str, str], _: Secrets) -> Reply:
    created = client.create_snapshot(
        params["DiskId"], name=params.get("SnapshotName"), description=params.get("Description")
    )
    return Reply(created.request_id, {"SnapshotId": created.snapshot_id})


def _run_command(client: WorkflowClient, params: Mapping[str, str], _: Secrets) -> str:
    """A guest step: RunCommand; its "request id" is the InvokeId (the result is read by its id)."""
    run = getattr(client, "run_command")  # noqa: B009 - an EcsClient; WorkflowClient needs no Cloud Assistant
    invoke_id: str = run(params["InstanceId"], params["CommandContent"], command_type=params["Type"])
    return invoke_id


EXECUTORS: Mapping[StepKind, Executor] = {
    StepKind.STOP_INSTANCE: _stop,
    StepKind.START_INSTANCE: start_again,
    StepKind.DETACH_DISK: _detach,
    StepKind.ATTACH_DISK: _attach,
    StepKind.CREATE_SNAPSHOT: _snapshot,
    StepKind.GUEST_UNMOUNT: _run_command,
    StepKind.GUEST_REMOUNT: _run_command,
}


def send(
    runner: Runner,
    kind: StepKind,
    params: Mapping[str, str],
    *,
    describe: str,
    context: Mapping[str, Any] | None = None,
    secrets: Secrets = NO_SECRETS,
) -> Sent:
    """Send the mutating step `kind` with `params`, journaled; reconcile a lost answer. Raises `RunStopped`
    when the journal cannot record it, or throttling goes on too long (`Runner.mutate`)."""
    step = MUTATING_STEPS[kind]
    execute = EXECUTORS[kind]
    returned: dict[str, str] = {}

    def call() -> str:
        reply = execute(runner.client, params, secrets)
        if isinstance(reply, Reply):
            returned.update(reply.returned)
            return reply.request_id
        return reply

    request_id, intent, error = runner.mutate(
        kind,
        step.action,
        call,
        params=params,
        context=context,
        describe=describe,
    )
    if error is None:
        return Sent(Answer.DONE, request_id, intent, returned=returned)
    if isinstance(error, THROTTLED):
        return Sent(Answer.NOT_APPLIED, "", intent, error)
    if isinstance(error, UNSURE) and step.api.settled_by:  # the caller reads what shows it (`settled`)
        runner.emit(
            "reconcile",
            f"The outcome of {step.action} is unknown; reading {step.api.settled_by} before anything else",
        )
        return Sent(Answer.UNKNOWN, "", intent, error)
    if isinstance(error, UNSURE):
        disk_id = params.get("DiskId", "") if step.reconcile_reads_disk else ""
        result = runner.reconcile(intent, step.action, disk_id, params.get("InstanceId", ""))
        if result in (Result.WENT_THROUGH, Result.IN_PROGRESS):
            return Sent(Answer.DONE, "", intent, error)
        if result == Result.DID_NOT_HAPPEN:
            return Sent(Answer.DID_NOT_HAPPEN, "", intent, error)
        return Sent(Answer.UNKNOWN, "", intent, error)
    if isinstance(error, ApiError):
        return Sent(Answer.REFUSED, "", intent, error)
    return Sent(Answer.NOT_SENT, "", intent, error)


def settled(runner: Runner, sent: Sent, result: str, sentence: str) -> None:
    """Journal what a step's own read shows of a lost answer, which the disk and the instance cannot show
    (CreateSnapshot: the disk's snapshots; a guest step: the guest's mounts): a reconciled outcome of
    `sent`'s intent, after the one `send` wrote. Raises `RunStopped` when the journal cannot record it."""
    intent, journal = sent.intent, runner.journal
    if journal is not None and intent is not None:
        runner.record(
            lambda: journal.outcome(intent, result, message=sentence, reconciled=True), intent.action
        )
    action = intent.action if intent is not None else ""
    operation_id = intent.operation_id if intent is not None else ""
    runner.steps.append(
        StepResult("reconcile", sentence, action=action, operation_id=operation_id, code=result)
    )
    runner.emit("reconcile", sentence)
