"""Load: the soak script for 5 seconds (8 concurrent clients against ``ecs-detach emulator``, 20 % faults).

``benchmarks/soak.py --seconds 60`` is the long run (figures in the README); this bounded variant runs in CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def test_five_seconds_of_soak_end_consistent_with_no_error_but_the_injected_ones() -> None:
    ran = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", "5", "--clients", "8", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode in (0, 1), ran.stderr
    figures = json.loads(ran.stdout[ran.stdout.index("{") :])
    print(f"\nsoak (5 s): {json.dumps({k: figures[k] for k in ('workflows', 'api_calls', 'outcomes')})}")
    assert figures["other_errors"] == []
    assert figures["problems"] == []
    assert figures["log_entries_missed"] == 0
    assert figures["ok"] and ran.returncode == 0
    assert figures["workflows"] >= 40  # the operators really worked
    assert len(figures["faults_injected"]) >= 4 and sum(figures["faults_injected"].values()) >= 100
    assert figures["applied"].get("DetachDisk", 0) >= 20 and figures["applied"].get("AttachDisk", 0) >= 5
