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
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

import ecs_detach.emulator.gateway as gateway
from ecs_detach.emulator import Emulator, ManualClock
from tui.app import EcsDetachApp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))
# The same app and pilot helpers as the snapshot tests, so the pictures show what the tests check.
from tui_helpers import SIZE, build_app, go_to_disk, settle  # noqa: E402

Scenario = Callable[[Pilot[int], Emulator], Awaitable[None]]


async def main_screen(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("escape", "tab", "i")
    await settle(pilot)


async def wizard_stop(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-sys")
    await pilot.press("d")
    await settle(pilot)
    await pilot.click("#allow-stop")
    await settle(pilot)
    pilot.app.screen.query_one("#cancel").focus()


async def wizard_blocked(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "jump-01", "d-jump-01-data")
    await pilot.press("d")
    await settle(pilot)


async def confirm_typed(pilot: Pilot[int], emulator: Emulator) -> None:
    await wizard_stop(pilot, emulator)
    await pilot.click("#go")
    await settle(pilot)


async def job_progress(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("d")
    await settle(pilot)
    await pilot.click("#go")
    await settle(pilot)
    await pilot.press("tab", "enter")
    app = pilot.app
    assert isinstance(app, EcsDetachApp)
    for _ in range(50):
        await pilot.pause()
        if app.jobs.jobs and app.jobs.jobs[0].state == "Detaching":
            break
    emulator.advance(20)
    await pilot.press("o")
    await settle(pilot, 4, workers=False)


async def journal(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("d")
    await settle(pilot)
    await pilot.click("#go")
    await settle(pilot)
    await pilot.press("tab", "enter")
    await settle(pilot, 6)
    await pilot.press("escape", "j")
    await settle(pilot)


async def help_screen(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


SCENARIOS: dict[str, tuple[Scenario, bool]] = {
    "main": (main_screen, False),
    "wizard-stop": (wizard_stop, False),
    "wizard-blocked": (wizard_blocked, False),
    "confirm-typed-id": (confirm_typed, False),
    "job-progress": (job_progress, True),
    "journal": (journal, False),
    "help": (help_screen, False),
}


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
