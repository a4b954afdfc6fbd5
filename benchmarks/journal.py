"""The journal's share of one detach, at 10, 10k and 100k past operations.

    python benchmarks/journal.py [--sizes 10,10000,100000]

For each size, a fresh process writes a journal of that many finished operations (a DetachDisk and its
outcome each, as earlier runs leave them), then runs what ``ecs-detach detach DISK --yes`` runs on an
in-process emulator (manual clock): the reconcile-on-start's ``pending()``, ``workflow.prepare`` with the
journal, ``workflow.run``. A first detach is untimed (a journal written by an older ecs-detach is rotated
there, once); then a second detach is timed, and a third one measured for memory (tracemalloc, which slows
it down). "journal ms" is the time spent inside the journal's methods (calls from outside the journal,
nested ones counted once; median of 5 detaches); "peak MiB" is tracemalloc's peak over the whole detach;
"active KiB" is the size of the journal file a detach reads, "files" the journal's files (the active one and
rotated ones). "full" is the worst case of a rotating journal: the active file just under the rotation size,
so that this detach's appends rotate it (journal ms and peak MiB of that detach).

To compare with the code before rotation: ``git archive REV ecs_detach | tar -x -C /tmp/before`` then
``PYTHONPATH=/tmp/before python benchmarks/journal.py``; the ratio column compares each size with the
smallest one of the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import child, emit, footer, header, table

ROUNDS = 5
DISKS = ("d-bench-warm", "d-bench-timed", "d-bench-memory")
FLEET: dict[str, Any] = {
    "Instances": [{"InstanceId": "i-bench", "Status": "Running", "InstanceType": "ecs.g7.large"}],
    "Disks": [{"DiskId": "d-bench-root", "InstanceId": "i-bench", "Type": "system", "Status": "In_use"}]
    + [{"DiskId": d, "InstanceId": "i-bench", "Type": "data", "Status": "In_use"} for d in DISKS],
}
TIMED = ("records", "operations", "pending", "in_flight", "last_detach", "stopped_by_us")
TIMED += ("intent", "outcome", "reconcile", "history", "find_operation")


def past_operations(path: Path, count: int) -> None:
    """`count` finished DetachDisk operations, written as lines the way the journal writes them."""
    from ecs_detach.journal import INTENT, JournalRecord, Owner, Result

    owner = Owner("bench-host", 1, 0.0)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            intent = JournalRecord(
                kind=INTENT,
                operation_id=f"{n:032x}",
                action="DetachDisk",
                at="2026-01-01T00:00:00.000000Z",
                disk_id=f"d-past{n % 5000:05d}",
                instance_id=f"i-past{n % 2500:05d}",
                params={"DiskId": f"d-past{n % 5000:05d}", "InstanceId": f"i-past{n % 2500:05d}"},
                profile="default",
                region="cn-hangzhou",
                endpoint="https://ecs.cn-hangzhou.aliyuncs.com",
                context={"disk_type": "data", "device": "/dev/xvdb"},
                owner=owner,
            )
            outcome = JournalRecord(
                kind="outcome",
                operation_id=intent.operation_id,
                action="DetachDisk",
                at="2026-01-01T00:00:01.000000Z",
                disk_id=intent.disk_id,
                instance_id=intent.instance_id,
                profile="default",
                region="cn-hangzhou",
                endpoint=intent.endpoint,
                context=dict(intent.context),
                result=Result.OK,
                request_id=f"REQ-{n:08d}",
            )
            out.write(intent.to_json() + "\n" + outcome.to_json() + "\n")


def timed_journal(journal: Any) -> Callable[[], float]:
    """Wrap the journal's public methods so that the time spent inside them is summed; returns a reader."""
    spent = [0.0]
    depth = [0]

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            depth[0] += 1
            start = time.perf_counter()
            try:
                return method(*args, **kw)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[0] += time.perf_counter() - start

        return timed

    for name in TIMED:
        if hasattr(journal, name):
            setattr(journal, name, wrap(getattr(journal, name)))
    return lambda: spent[0]


def one_detach(journal: Any, disk_id: str) -> str:
    """What ``ecs-detach detach DISK --yes`` does with the journal: reconcile on start, prepare, run."""
    from ecs_detach import workflow
    from ecs_detach.client import EcsClient
    from ecs_detach.emulator import Emulator, ManualClock
    from ecs_detach.preconditions import DetachOptions

    emu = Emulator(fleet=json.loads(json.dumps(FLEET)), clock=ManualClock())
    with EcsClient.for_emulator(emu, sleep=emu.advance) as client:
        journal.pending()
        facts = workflow.emulator_facts(emu)
        plan = workflow.prepare(client, disk_id, DetachOptions(), facts=facts, journal=journal)
        result = workflow.run(client, plan, journal=journal, facts=facts, clock=emu.now, sleep=emu.advance)
    return str(result.outcome.value)


def run_child(count: int) -> dict[str, Any]:
    from ecs_detach import journal as journal_module
    from ecs_detach.journal import Journal

    with tempfile.TemporaryDirectory(prefix="ecs-bench-journal-") as tmp:
        path = Path(tmp) / "journal.jsonl"
        past_operations(path, count)
        written = path.stat().st_size
        outcome = one_detach(Journal(path), DISKS[0])  # untimed: an old journal is rotated here, once
        spent, total = [], []
        for _ in range(ROUNDS):  # each detach on a fresh emulator: the same disk again
            journal = Journal(path)
            journal_time = timed_journal(journal)
            start = time.perf_counter()
            outcome = one_detach(journal, DISKS[1])
            total.append(time.perf_counter() - start)
            spent.append(journal_time())
        active = path.stat().st_size
        tracemalloc.start()
        one_detach(Journal(path), DISKS[2])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        files = sorted(p.name for p in Path(tmp).iterdir() if not p.name.endswith((".lock", ".rotating")))
        worst = {}
        rotate_bytes = getattr(journal_module, "ROTATE_BYTES", None)
        if rotate_bytes is not None:  # the active file just under the rotation size: this detach rotates it
            fill_up(path, rotate_bytes - 2048)
            journal = Journal(path)
            journal_time = timed_journal(journal)
            one_detach(journal, DISKS[1])
            fill_up(path, rotate_bytes - 2048)  # again, for memory (tracemalloc slows it down)
            tracemalloc.start()
            one_detach(Journal(path), DISKS[1])
            _, worst_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            worst = {"worst_journal_s": journal_time(), "worst_peak_mib": worst_peak / 2**20}
        return {
            "count": count,
            "outcome": outcome,
            "journal_s": statistics.median(spent),
            "detach_s": statistics.median(total),
            "peak_mib": peak / 2**20,
            "written_mib": written / 2**20,
            "active_kib": active / 1024,
            "files": len(files),
            **worst,
        }


def fill_up(path: Path, size: int) -> None:
    """Finished operations appended to the journal file until it is `size` bytes."""
    scratch = path.with_name("fill.jsonl")
    past_operations(scratch, 1000)
    lines = scratch.read_bytes().splitlines(keepends=True)
    scratch.unlink()
    with path.open("ab") as out:
        written = path.stat().st_size
        for n in range(0, len(lines), 2):
            pair = lines[n] + lines[n + 1]
            if written + len(pair) > size:
                break
            out.write(pair)
            written += len(pair)


def worst(result: dict[str, Any]) -> str:
    if "worst_journal_s" not in result:
        return "-"  # no rotation in this version
    return f"{result['worst_journal_s'] * 1000:.0f} / {result['worst_peak_mib']:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,10000,100000", help="past operations, comma-separated")
    parser.add_argument("--child", nargs="?", const="", default=None, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child is not None:
        emit(run_child(int(rest[0] if rest else args.child)))
        return 0
    header("The journal's share of one detach", "python benchmarks/journal.py")
    results = [child("journal.py", str(int(size))) for size in args.sizes.split(",")]
    base = results[0]
    rows = [
        [
            f"{r['count']:,}",
            f"{r['written_mib']:.1f}",
            f"{r['journal_s'] * 1000:.1f}",
            f"{r['journal_s'] / max(base['journal_s'], 1e-9):.1f}x",
            f"{r['detach_s'] * 1000:.0f}",
            f"{r['peak_mib']:.1f}",
            f"{r['peak_mib'] / max(base['peak_mib'], 1e-9):.1f}x",
            f"{r['active_kib']:.0f}",
            r["files"],
            worst(r),
            r["outcome"],
        ]
        for r in results
    ]
    print(
        table(
            rows,
            [
                "past ops",
                "journal MiB",
                "journal ms",
                "vs first",
                "detach ms",
                "peak MiB",
                "vs first",
                "active KiB",
                "files",
                "full: ms / MiB",
                "outcome",
            ],
        )
    )
    footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
