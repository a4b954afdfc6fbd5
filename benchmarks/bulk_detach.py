"""Bulk detach of 500 data disks under the emulator's DetachDisk rate limit (100 per second), detach time 1 s.

    python benchmarks/bulk_detach.py [--concurrency 32,500] [--rounds 1]

Starts ``ecs-detach emulator --port 0 --fleet PATH`` (its own process, real time) on a fleet of 500 running
instances, each with one data disk, and the fleet's ``Emulator`` section set to
``{"Durations": {"DetachDisk": 1}, "RateLimits": {"DetachDisk": {"Count": 100, "PerSeconds": 1}}}``.
Then, as the CLI's ``detach --yes`` does for several disks: ``workflow.prepare_bulk`` (fresh preconditions and
a plan per disk, timed apart: it happens before the confirmation) and ``workflow.run_bulk`` with a journal
(timed: from the confirmation to the last disk detached). Every run starts from a fresh emulator state.

The floor is 500 / 100 s + 1 s = 6 s: the rate limit lets no client send the 500 DetachDisk calls faster, and
the last disk still takes its detach time. Goals: run_bulk at most 1.2x the floor, no failed detach, no
throttling surfaced to the user (no result with a Throttling code, no "throttled" progress event). The
emulator's own count of Throttling replies (absorbed by the client's retries) is shown too.
``--concurrency`` is run_bulk's (instances at a time; the CLI allows 1 to 32, default 4).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import Served, footer, header, median, served_emulator, table, verdict

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

DISKS = 500
RATE = 100
DETACH_SECONDS = 1.0
REGION = "cn-hangzhou"


def bulk_fleet(count: int = DISKS) -> dict[str, Any]:
    instances = [
        {
            "InstanceId": f"i-bulk{n:04d}",
            "InstanceName": f"bulk-{n:04d}",
            "RegionId": REGION,
            "Status": "Running",
        }
        for n in range(count)
    ]
    disks: list[dict[str, Any]] = []
    for n in range(count):
        disks.append({"DiskId": f"d-bulk{n:04d}-sys", "Type": "system", "InstanceId": f"i-bulk{n:04d}"})
        disks.append({"DiskId": f"d-bulk{n:04d}-data", "Type": "data", "InstanceId": f"i-bulk{n:04d}"})
    return {
        "Regions": [{"RegionId": REGION}],
        "Instances": instances,
        "Disks": disks,
        "Emulator": {
            "DefaultRegion": REGION,
            "Durations": {"DetachDisk": DETACH_SECONDS},
            "RateLimits": {"DetachDisk": {"Count": RATE, "PerSeconds": 1}},
        },
    }


def one_run(served: Served, concurrency: int, count: int) -> dict[str, Any]:
    from ecs_detach import workflow
    from ecs_detach.client import EcsClient
    from ecs_detach.credentials import Credentials
    from ecs_detach.journal import Journal

    served.control("POST", "reset")
    creds = Credentials(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET)
    events: list[Any] = []
    lock = threading.Lock()

    def on_progress(event: Any) -> None:
        with lock:
            events.append(event)

    with tempfile.TemporaryDirectory() as tmp, EcsClient(creds, REGION, endpoint=served.url) as client:
        journal = Journal(Path(tmp) / "journal.jsonl")
        disk_ids = [f"d-bulk{n:04d}-data" for n in range(count)]
        started = time.perf_counter()
        plans = workflow.prepare_bulk(client, disk_ids)
        prepared = time.perf_counter() - started
        started = time.perf_counter()
        report = workflow.run_bulk(
            client, plans, concurrency=concurrency, journal=journal, on_progress=on_progress
        )
        elapsed = time.perf_counter() - started
    log = served.control("GET", "requests")["requests"]
    throttled_codes = [r for r in report.results if "throttl" in (r.code or "").lower()]
    return {
        "prepare": prepared,
        "run": elapsed,
        "succeeded": len(report.succeeded),
        "failed": len(report.failed),
        "failures": sorted({f"{r.outcome.value}: {r.message[:100]}" for r in report.failed})[:3],
        "throttled_results": len(throttled_codes),
        "throttled_events": sum(1 for e in events if e.phase == "throttled"),
        "emulator_throttled": sum(1 for r in log if r.get("code") == "Throttling"),
        "detach_calls": sum(1 for r in log if r.get("action") == "DetachDisk" and r.get("status") == 200),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", default="32,500", help="run_bulk concurrencies to try (comma list)")
    parser.add_argument("--rounds", type=int, default=1, help="runs per concurrency (medians)")
    parser.add_argument("--disks", type=int, default=DISKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    header(
        f"bulk detach of {args.disks} disks, DetachDisk limited to {RATE}/s, "
        f"detach time {DETACH_SECONDS:g} s",
        f"python benchmarks/bulk_detach.py --concurrency {args.concurrency} --rounds {args.rounds}",
    )
    floor = args.disks / RATE + DETACH_SECONDS
    levels = [int(n) for n in args.concurrency.split(",")]
    runs: dict[int, list[dict[str, Any]]] = {level: [] for level in levels}
    with served_emulator(bulk_fleet(args.disks)) as served:
        for _ in range(args.rounds):
            for level in levels:
                runs[level].append(one_run(served, level, args.disks))
    rows = []
    for level, results in runs.items():
        run = median([r["run"] for r in results])
        failed = max(r["failed"] for r in results)
        surfaced = max(r["throttled_results"] + r["throttled_events"] for r in results)
        ok = run / floor <= 1.2 and failed == 0 and surfaced == 0
        rows.append(
            [
                level,
                f"{median([r['prepare'] for r in results]):.1f}",
                f"{run:.1f}",
                f"{run / floor:.2f}x",
                f"{min(r['succeeded'] for r in results)}/{args.disks}",
                failed,
                f"{max(r['throttled_results'] for r in results)} / "
                f"{max(r['throttled_events'] for r in results)}",
                max(r["emulator_throttled"] for r in results),
                verdict(ok),
            ]
        )
        for result in results:
            for failure in result["failures"]:
                print(f"  concurrency {level}: {failure}")
    print(
        table(
            rows,
            [
                "concurrency",
                "prepare s",
                "run s",
                "vs floor (goal <= 1.2x)",
                "detached",
                "failed",
                "throttling shown (results / events)",
                "Throttling replies absorbed",
                "goal",
            ],
        )
    )
    print(
        f"floor: {args.disks} / {RATE} per s + {DETACH_SECONDS:g} s = {floor:.1f} s; "
        f"{args.rounds} round(s), medians"
    )
    footer()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
