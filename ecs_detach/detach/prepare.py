"""`prepare`: fresh reads, the preconditions, what the journal says of earlier runs, and the plan to show."""

from __future__ import annotations

from dataclasses import replace

from ecs_detach.detach.facts import FactsSource, facts_now
from ecs_detach.detach.guest_read import GuestReads
from ecs_detach.detach.history import DOWN_STATES, earlier_stop, instance_from_journal, start_blocker
from ecs_detach.detach.reads import GuestTime, aliyun_target, inspect
from ecs_detach.detach.results import WorkflowClient
from ecs_detach.journal import Journal
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan, plan_detach
from ecs_detach.preconditions import DetachOptions, Verdict


def prepare(
    client: WorkflowClient,
    disk_id: str,
    options: DetachOptions | None = None,
    *,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
    journal: Journal | None = None,
    guest_time: GuestTime | None = None,
    guests: GuestReads | None = None,
) -> Plan:
    """Fresh preconditions and the plan to detach `disk_id`: what to show before asking for confirmation.

    With the `journal`, an instance an earlier (perhaps killed) run stopped and did not start again is
    named in the plan's warnings, and started again afterwards if `restart` (a data disk). `guests`: a
    bulk run's shared guest reads (one probe per instance).
    """
    opts = options or DetachOptions()
    known = facts_now(facts)
    guest_time = (guest_time or GuestTime()).bounded(timeout)  # the guest read, too, within --timeout
    pre = inspect(client, disk_id, opts, facts=known, guest_time=guest_time, guests=guests)
    durations = known.durations if known is not None else None
    earlier = no_start = other = ""
    instance_id = pre.instance_id
    if journal is not None and not instance_id and pre.verdict is Verdict.ALREADY_DETACHED:
        instance_id = instance_from_journal(journal, disk_id)  # the disk no longer names it
    if journal is not None and instance_id:
        stop, other = earlier_stop(journal, disk_id, instance_id)
        if (stop is not None or other) and instance_id != pre.instance_id:
            again = replace(opts, instance_id=instance_id)
            pre = inspect(client, disk_id, again, facts=known, guest_time=guest_time, guests=guests)
        down = pre.instance is not None and pre.instance.status in DOWN_STATES
        if stop is not None:
            earlier = f"at {stop.at}, operation {stop.operation_id[:8]}"
            if opts.restart and down and not pre.is_system_disk:
                no_start = start_blocker(client, journal, instance_id)
        if not down:
            other = ""
    plan = plan_detach(
        pre,
        opts,
        durations=durations,
        timeout=timeout,
        stopped_earlier=earlier,
        no_start=no_start,
        target=aliyun_target(client),
    )
    if other:
        note = (
            f"Instance {instance_id} was stopped by an earlier ecs-detach run for another disk ({other}) and "
            "not started again; this plan does not start it (the run that detaches that disk can)."
        )
        plan = replace(plan, warnings=(*plan.warnings, note))
    return plan
