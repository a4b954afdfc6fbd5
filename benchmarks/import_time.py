"""Import cost: ``import ecs_detach`` and ``import ecs_detach.client`` against the official SDK's client.

    python benchmarks/import_time.py [--repeat 15]

Each import runs in a fresh interpreter (``python -c``), the three statements alternated round after round
(one warm-up round first, so every bytecode cache is written). Two figures per run: the import alone
(``time.perf_counter`` around the statement, inside the child) and the whole process (start to exit,
measured by this script, interpreter start-up included), plus the child's peak RSS. Prints medians and
the official SDK's time divided by ours (goal: at least 4x). Needs the ``bench`` extra
(``pip install -e '.[bench]'``) for ``alibabacloud-ecs20140526``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from _common import footer, header, median, table, verdict

STATEMENTS = {
    "(interpreter only)": "pass",
    "import ecs_detach": "import ecs_detach",
    "import ecs_detach.client": "import ecs_detach.client",
    "official SDK client": "from alibabacloud_ecs20140526.client import Client",
}
SDK = "official SDK client"
PROBE = (  # peak RSS from VmHWM: ru_maxrss is not reset by exec and would show this script's size
    "import time\n"
    "t = time.perf_counter()\n"
    "{statement}\n"
    "t = time.perf_counter() - t\n"
    "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0].split()[1]\n"
    "print(t, hwm)\n"
)


def once(statement: str) -> tuple[float, float, float]:
    """(import seconds, whole-process seconds, peak RSS MiB) of one fresh interpreter."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    inner, rss = done.stdout.split()
    return float(inner), wall, int(rss) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="rounds (each runs every statement once)")
    args = parser.parse_args()
    header(
        "import cost, fresh interpreters, alternated",
        f"python benchmarks/import_time.py --repeat {args.repeat}",
    )

    for statement in STATEMENTS.values():  # warm-up: bytecode caches written, files in the page cache
        once(statement)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in STATEMENTS}
    for round_number in range(args.repeat):
        names = list(STATEMENTS)
        if round_number % 2:
            names.reverse()
        for name in names:
            runs[name].append(once(STATEMENTS[name]))

    sdk_import = median([r[0] for r in runs[SDK]])
    sdk_wall = median([r[1] for r in runs[SDK]])
    rows = []
    for name, samples in runs.items():
        inner = median([r[0] for r in samples])
        wall = median([r[1] for r in samples])
        rss = median([r[2] for r in samples])
        plain = name in (SDK, "(interpreter only)")
        faster = "" if plain else f"{sdk_import / inner:.0f}x ({verdict(sdk_import / inner >= 4)})"
        rows.append(
            [
                name,
                f"{inner * 1000:.1f}",
                f"{wall * 1000:.0f}",
                f"{rss:.0f}",
                faster,
                "" if plain else f"{sdk_wall / wall:.1f}x",
            ]
        )
    headers = [
        "statement",
        "import ms (median)",
        "process ms (median)",
        "peak RSS MiB",
        "SDK import / ours (goal >= 4x)",
        "SDK process / ours",
    ]
    print(table(rows, headers))
    print(f"{args.repeat} rounds; figures are medians")
    footer()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
