"""Regenerate the README screenshots in assets/ (SVG), from the real app on the demo fleet.

    python scripts/screenshots.py                         # writes the README's pictures to assets/*.svg
    python scripts/screenshots.py --out DIR               # somewhere else
    python scripts/screenshots.py --size 80x24 check      # any scenario, at another terminal size

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
from scenarios import README_PICTURES, SCENARIOS, Scenario  # noqa: E402
from tui_helpers import SIZE, build_app  # noqa: E402


async def shoot(name: str, scenario: Scenario, held: bool, out: Path, size: tuple[int, int]) -> Path:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    counter = itertools.count(1)  # each picture numbers its own request ids: it depends on no other
    gateway.new_request_id = lambda: f"REQ-{next(counter):04d}-DEMO"  # type: ignore[assignment]
    gate = threading.Event()

    def held_sleep(seconds: float) -> None:
        gate.wait()
        emulator.advance(seconds)

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(emulator, Path(tmp) / "journal.jsonl", sleep=held_sleep if held else emulator.advance)
        async with app.run_test(size=size) as pilot:
            await scenario(pilot, emulator)
            app.clear_notifications()
            await pilot.pause()
            path = out / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"ecs-detach — {name}"), encoding="utf-8")
            gate.set()
    return path


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: write WIDTHxHEIGHT, e.g. 80x24") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets")
    parser.add_argument("--size", type=_size, default=SIZE, help="terminal size, e.g. 80x24 (default 120x36)")
    parser.add_argument(
        "names",
        nargs="*",
        help=f"which to shoot (default: {', '.join(README_PICTURES)}; also {', '.join(sorted(SCENARIOS))})",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in SCENARIOS]
    if unknown:
        parser.error(f"no picture named {', '.join(unknown)}; choose from {', '.join(sorted(SCENARIOS))}")
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.size == SIZE else f"-{args.size[0]}x{args.size[1]}"
    for name in args.names or README_PICTURES:
        scenario, held = SCENARIOS[name]
        path = asyncio.run(shoot(f"{name}{suffix}", scenario, held, args.out, args.size))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
