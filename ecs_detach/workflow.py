"""The safe detach: inspect, plan, run, follow, undo, bulk — the API the CLI, the TUI and the notebooks call.

```python
from ecs_detach import workflow
from ecs_detach.preconditions import DetachOptions

plan = workflow.prepare(client, "d-123", DetachOptions(allow_stop=True))   # fresh reads + preconditions
print(plan.describe())                                                     # calls, changes, ETA, aliyun
if plan.executable and confirmed:
    result = workflow.run(client, plan, journal=Journal(), on_progress=print)
    result.outcome, result.message, result.exit_code
```

Safety, as `design.md` asks:

- every mutation is preceded by fresh reads and recomputed preconditions; if they changed for the worse
  (a lock, a detach behind our back, a stop the confirmed plan did not include) the run stops, saying why;
- every mutation is journaled (intent before, outcome after);
- a lost answer (`TransportError`) is reconciled by reading the resource before anything is retried: never a
  second blind DetachDisk; `InvalidDisk.AlreadyDetached` after our own call counts as done;
- waits poll with backoff, report progress (state, elapsed, ETA), time out (default 300 s), and can be
  cancelled (`CancelToken`) without cancelling the operation in the cloud.

Time is injectable: `clock()` gives seconds, `sleep(seconds)` waits. With the emulator's ManualClock, pass
``clock=emu.now, sleep=emu.advance`` and a one-minute detach takes no real time.
"""

# The stages live in `ecs_detach.detach` (one module each) and `ecs_detach.bulk`; this module is the API
# callers import, and keeps every public name it always had.
from __future__ import annotations

from ecs_detach.bulk import BulkItem, BulkReport, prepare_bulk, run_bulk
from ecs_detach.detach.facts import FactsSource, emulator_facts, facts_now, rate_from_section
from ecs_detach.detach.prepare import prepare
from ecs_detach.detach.reads import GuestTime, aliyun_target, inspect
from ecs_detach.detach.results import (
    CancelToken,
    Outcome,
    ProgressEvent,
    RunResult,
    StepResult,
    WorkflowClient,
)
from ecs_detach.detach.run import follow, reattach, run, run_async
from ecs_detach.detach.send import Secrets
from ecs_detach.detach.undo import prepare_reattach, read_remount
from ecs_detach.move import MoveOptions, MovePlan, prepare_move, prepare_move_back, run_move
from ecs_detach.plan import Plan as Plan  # callers annotate with `workflow.Plan`

__all__ = [
    "BulkItem",
    "BulkReport",
    "CancelToken",
    "FactsSource",
    "GuestTime",
    "MoveOptions",
    "MovePlan",
    "Outcome",
    "ProgressEvent",
    "RunResult",
    "Secrets",
    "StepResult",
    "WorkflowClient",
    "aliyun_target",
    "emulator_facts",
    "facts_now",
    "follow",
    "inspect",
    "prepare",
    "prepare_bulk",
    "prepare_move",
    "prepare_move_back",
    "prepare_reattach",
    "rate_from_section",
    "read_remount",
    "reattach",
    "run",
    "run_async",
    "run_bulk",
    "run_move",
]
