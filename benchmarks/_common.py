"""Shared plumbing of the benchmarks: a served emulator in its own process, CPU of a process, medians,
tables, and the machine's load (the figures mean little on a busy machine, so every script prints it).

Not a benchmark itself; the scripts beside it import it (``python benchmarks/<name>.py`` puts this folder
on ``sys.path``). To measure another copy of the package (say, the code before a fix), extract it and put it
first on the path: ``git archive REV ecs_detach | tar -x -C /tmp/before`` then
``PYTHONPATH=/tmp/before python benchmarks/<name>.py``; every child process and the emulator follow.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Served:
    """``ecs-detach emulator`` running as its own process."""

    url: str
    pid: int

    @property
    def endpoint(self) -> str:
        return self.url.removeprefix("http://")

    def cpu(self) -> float:
        return process_cpu(self.pid)

    def control(self, method: str, route: str, document: Any = None) -> Any:
        import httpx

        response = httpx.request(method, f"{self.url}/_emulator/{route}", json=document, timeout=60)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def served_emulator(fleet: Mapping[str, Any] | str, *, time_scale: float = 1.0) -> Iterator[Served]:
    """Start ``python -m ecs_detach.cli emulator --port 0 --fleet PATH`` and stop it afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(fleet, str):
            source = fleet
        else:
            path = Path(tmp) / "fleet.json"
            path.write_text(json.dumps(fleet), encoding="utf-8")
            source = str(path)
        command = [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0", "--fleet", source]
        command += ["--time-scale", str(time_scale)]
        # cwd: not the checkout, so that PYTHONPATH can point at another copy of the package (before/after)
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp)
        try:
            assert server.stdout is not None
            first = server.stdout.readline().strip()
            if not first.startswith("emulator listening on "):
                raise SystemExit(f"the emulator did not start: {first!r}")
            yield Served(first.removeprefix("emulator listening on "), server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def own_cpu() -> float:
    """User + system CPU seconds of this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MiB: VmHWM from /proc (``ru_maxrss`` is not reset by exec, so in
    a child it can report the parent's size instead)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def child(script: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python benchmarks/<script> --child ...`` in a fresh interpreter; its last stdout line is JSON."""
    command = [sys.executable, str(ROOT / "benchmarks" / script), "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def emit(result: Mapping[str, Any]) -> None:
    """A child's answer to its parent: one JSON line."""
    print(json.dumps(result), flush=True)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt="github", floatfmt=".3g", disable_numparse=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def header(title: str, reproduce: str) -> None:
    print(f"# {title}")
    print(f"reproduce: {reproduce}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average at start {load()}")


def footer() -> None:
    print(f"load average at end {load()} ({time.strftime('%H:%M:%S', time.gmtime())} UTC)")
