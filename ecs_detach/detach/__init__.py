"""The detach stack, one stage per module (callers use `ecs_detach.workflow`, which re-exports the API).

In import order (each module imports only those above it):

- `results`: what a run reports (`Outcome`, `RunResult`, `StepResult`, `ProgressEvent`, `CancelToken`) and
  what it needs of a client (`WorkflowClient`);
- `facts`: the platform facts a run checks against (`emulator_facts`, `rate_from_section`);
- `history`: what the journal says about a disk's earlier runs;
- `steps`: the step kinds (API action and parameters, aliyun lines, `PlanStep`), pure;
- `reads`: fresh reads, and `inspect` (the reads checked against every precondition);
- `runner`: the runner one run drives (journaled mutations, reconciling, waits);
- `send`: the one journaled send of a mutating call (its executors make the client calls);
- `power`: stopping and starting the instance inside a run;
- `fixes`: the fix ladder, each fix kind once (its plan steps and its executor), used by the plan and the run;
- (`ecs_detach.plan` draws the plan from `steps` and `fixes`); `prepare`: reads + journal + a plan;
- `single`: the single-disk detach run;  `undo`: the re-attach;
- `run`: the entry points (`run`, `run_async`, `follow`, `reattach`);
- `ecs_detach.bulk` composes many single runs with shared pacing, batched reads and one poller.
"""
