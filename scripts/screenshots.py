"""Regenerate the README screenshots in assets/ (SVG), from the real app on the demo fleet.

    python scripts/screenshots.py            # writes assets/*.svg
    python scripts/screenshots.py --out DIR  # somewhere else

Deterministic: the emulator runs on a manual clock and request ids come from a counter, so the pictures change
only when the UI does.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import threading
from pathlib import Path

import ecs_detach.emulator.gateway as gateway
from ecs_detach.emulator import Emulator, ManualClock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))
# The same app, pilot helpers and scenarios as the snapshot tests, so the pictures show what the tests check.
from scenarios import SCENARIOS, Scenario  # noqa: E402
from tui_helpers import SIZE, build_app  # noqa: E402


async def shoot(name: str, scenario: Scenario, held: bool, out: Path) -> Path:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    counter = itertools.count(1)  # each picture numbers its own request ids: it depends on no other
    gateway.new_request_id = lambda: f"REQ-{next(counter):04d}-DEMO"  # type: ignore[assignment]
    gate = threading.Event()

    def held_sleep(seconds: float) -> None:
        gate.wait()
        emulator.advance(seconds)

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(emulator, Path(tmp) / "journal.jsonl", sleep=held_sleep if held else emulator.advance)
        async with app.run_test(size=SIZE) as pilot:
            await scenario(pilot, emulator)
            app.clear_notifications()
            await pilot.pause()
            path = out / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"ecs-detach — {name}"), encoding="utf-8")
            gate.set()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets")
    parser.add_argument("names", nargs="*", help=f"which to shoot (default: all of {', '.join(SCENARIOS)})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(SCENARIOS):
        scenario, held = SCENARIOS[name]
        path = asyncio.run(shoot(name, scenario, held, args.out))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
