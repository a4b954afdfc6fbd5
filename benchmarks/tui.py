"""The terminal UI's figures: time to the first full screen, peak memory, and filter latency at 10,000 rows.

    python benchmarks/tui.py [--rounds 5] [--instances 10000] [--disks 20000] [--keys db-004]
    python benchmarks/tui.py --scale 2000,10000 [--keys web-1] [--in-process]

``--scale`` (issue 18): per size, the TUI on a served emulator (its own process, as a real account is remote,
so the peak RSS is the TUI's own; ``--in-process`` adds a run with the emulator in the TUI's process) with
50 ms a reply: first row, all rows, Describe calls watching one Starting instance, filter keys, peak RSS
against the minimal app (``child_scale``).

Contenders, side by side in one run, each sample a fresh interpreter, alternated round after round (one
warm-up round first, so every bytecode cache is written):

- ``TUI demo``: ``ecs-detach --demo`` as ``tui.launch.open_demo`` builds it (in-process emulator, demo fleet,
  scaled clock, scratch journal, auto-refresh on), run headless at 120x36 with ``App.run_test``.
- ``TUI 10k``: the same app on a generated fleet (``generate_fleet(instances, disks, regions=1)``: ONE
  region, cn-hangzhou, holding every instance and disk, so the instances view lists all of them).
  ``ecs-detach`` has no option to load a fleet file in process, so the session is opened with
  ``open_client(demo=True, fleet=PATH)`` exactly as ``open_demo`` does otherwise.
- ``minimal``: a Textual app with one ``DataTable`` of the same instance rows (the TUI's instance columns;
  the cells built in the child from the same fleet file) and nothing else: the floor for a Textual screen.

"Full screen" is read from the app's own state, polled every 2 ms, then frames are awaited until nothing
is left to repaint: for the TUI, the browse screen has loaded, the instances table holds its rows (at most
``ROW_LIMIT``), the selected instance's disks table holds every disk of that instance, and the footer
lists its keys (Textual's footer fills in after a refresh; a screen without them is not full); for the
minimal app, the table holds every row. Two times per sample: from spawning the
interpreter (start-up and imports included) and from creating the app (``run_test`` entered). Peak memory
is the child's VmHWM at the end.

Filter latency (``TUI 10k`` only, its own children): ``/`` opens the filter, then each character of
``--keys`` is pressed with the pilot, one at a time; a key's time runs from the press to the moment the
browse screen's tables were rebuilt for that text (its debounced ``_show_tables``, wrapped here to note the
time) and then painted. Reported beside it: the pure filter (``parse_query`` + ``filter_rows`` over the
instance rows, same prefixes, in the same process) and the debounce the screen applies. Goals (issue 7):
demo TUI <= 2x the minimal app to the first full screen; < 100 ms per keystroke at 10,000 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

_STARTED = time.perf_counter()
_STARTED_EPOCH = time.time()

from _common import (  # noqa: E402
    child,
    emit,
    footer,
    header,
    median,
    peak_rss_mb,
    served_emulator,
    table,
    verdict,
)

# This file is benchmarks/tui.py: with its folder first on sys.path, ``import tui`` would find it instead of
# the TUI package. _common is imported; drop the folder.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

SIZE = (120, 36)
POLL = 0.002


# --- children


_frame = asyncio.Event()


_shown: dict[str, Any] = {}
"""``_shown["text"] = "web-0001"``: the first frame whose text has it sets ``_shown["at"]`` to (wall, main
thread CPU, process CPU) at the moment the frame was handed to the terminal."""


def _count_frames() -> None:
    """Note every compositor refresh (the frame a terminal would be sent; headless skips only the write),
    and the first frame that carries ``_shown["text"]``."""
    from textual.app import App
    from textual.screen import Screen

    original = Screen._compositor_refresh
    original_display = App._display
    main_cpu = _main_thread_cpu()

    def refreshed(self: Screen[Any]) -> None:
        original(self)
        _frame.set()

    def displayed(self: App[Any], screen: Screen[Any], renderable: Any) -> None:
        handed = (time.perf_counter(), main_cpu(), time.process_time())
        original_display(self, screen, renderable)
        wanted = _shown.get("text")
        shown = renderable is not None and not self._batch_count and "at" not in _shown
        if wanted and shown and wanted in renderable.render_segments(self.console):
            _shown["at"] = handed

    Screen._compositor_refresh = refreshed  # type: ignore[method-assign]
    App._display = displayed  # type: ignore[method-assign]


async def _painted(pilot: Any) -> float:
    """When what the state now says is on screen: every widget's pending messages handled (so each
    changed widget has asked for a repaint), then frames until nothing is left to repaint."""
    await pilot._wait_for_screen()
    screen = pilot.app.screen
    while screen._dirty_widgets or screen._layout_required or screen._repaint_required:
        _frame.clear()
        await _frame.wait()
    return time.perf_counter()


def _open_services(fleet: str) -> Any:
    """Services as ``ecs-detach --demo`` builds them; a fleet file instead of the demo fleet when given."""
    from tui.app import parse_args
    from tui.launch import DEMO_TIME_SCALE, open_demo, services_for

    if fleet == "demo":
        return open_demo(parse_args(["--demo"]))
    from ecs_detach.emulator import ScaledClock
    from ecs_detach.journal import Journal
    from ecs_detach.session import open_client

    session = open_client(demo=True, clock=ScaledClock(DEMO_TIME_SCALE), fleet=fleet)
    path = Path(tempfile.mkdtemp(prefix="ecs-detach-bench-")) / "journal.jsonl"
    assert session.emulator is not None
    journal = Journal(path, clock=session.emulator.now)
    return services_for(session, journal=journal, time_scale=DEMO_TIME_SCALE)


def _tui_full(app: Any) -> bool:
    from textual.widgets._footer import FooterKey

    from tui.rows import disks_of
    from tui.widgets.tables import ROW_LIMIT, RowTable

    screen = app.browse
    if screen is None or not screen.loaded or not screen.query(FooterKey):
        return False
    instances = screen.query_one("#instances", RowTable)
    if instances.row_count == 0 or instances.row_count != min(len(screen.instances), ROW_LIMIT):
        return False
    current = screen.current_instance
    if current is None:
        return False
    disks = screen.query_one("#instance-disks", RowTable)
    return bool(disks.row_count == len(disks_of(screen.disks, current.instance_id)))


def child_tui(fleet: str, keys: str) -> dict[str, Any]:
    from tui.app import EcsDetachApp
    from tui.widgets.tables import RowTable

    imported = time.perf_counter()
    services = _open_services(fleet)
    opened = time.perf_counter()
    app = EcsDetachApp(services)
    result: dict[str, Any] = {}

    async def drive() -> None:
        created = time.perf_counter()
        async with app.run_test(headless=True, size=SIZE) as pilot:
            while not _tui_full(app):
                await asyncio.sleep(POLL)
            full = await _painted(pilot)
            screen = app.browse
            assert screen is not None
            result.update(
                imports=imported - _STARTED,
                session=opened - imported,
                app=full - created,
                full_epoch=_STARTED_EPOCH + (full - _STARTED),
                instances=len(screen.instances),
                disks=len(screen.disks),
                shown=screen.query_one("#instances", RowTable).row_count,
            )
            if keys:
                result.update(await _filter_latency(pilot, keys))
            await pilot.press("q")

    asyncio.run(drive())
    result["rss"] = peak_rss_mb()
    scratch = Path(services.journal.path).parent  # the demo's scratch journal: this run's own folder
    if scratch.name.startswith(("ecs-detach-demo-", "ecs-detach-bench-")):
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _send_key(app: Any, character: str) -> None:
    """What ``pilot.press`` sends for one character, without its waits for the CPU to go idle (those
    would count the pilot's own pauses as the UI's latency)."""
    from textual import events

    key = events.Key(character if character.isalnum() else _KEY_NAMES[character], character)
    key.set_sender(app)
    app._driver.send_message(key)


_KEY_NAMES = {"-": "minus", " ": "space", ":": "colon", "=": "equals_sign", ".": "full_stop"}


async def _filter_latency(pilot: Any, keys: str) -> dict[str, Any]:
    from tui.filtering import filter_rows, known_fields, parse_query

    app = pilot.app
    screen = app.browse
    calls: list[tuple[str, float, float]] = []
    applied = asyncio.Event()
    original = screen._show_tables

    def noted() -> None:  # the debounced apply: rebuild the tables for the current filter text
        began = time.perf_counter()
        original()
        calls.append((screen.filter_text, began, time.perf_counter()))
        applied.set()

    screen._show_tables = noted
    await pilot.press("slash")
    await pilot.pause()
    per_key: list[dict[str, float]] = []
    for count in range(1, len(keys) + 1):
        text = keys[:count]
        calls.clear()
        pressed = time.perf_counter()
        _send_key(app, keys[count - 1])
        while not (calls and calls[-1][0] == text):
            applied.clear()
            await applied.wait()
        _, began, ended = calls[-1]
        painted = await _painted(pilot)
        per_key.append(
            {
                "end_to_end": painted - pressed,
                "before_apply": began - pressed,
                "apply": ended - began,
                "paint": painted - ended,
                "matches": float(len(filter_rows(screen._instance_rows, text))),
            }
        )
    rows = screen._instance_rows
    pure: list[float] = []
    for count in range(1, len(keys) + 1):
        samples = []
        for _ in range(5):
            began = time.perf_counter()
            filter_rows(rows, parse_query(keys[:count], known_fields(rows)))
            samples.append(time.perf_counter() - began)
        pure.append(median(samples))
    return {"per_key": per_key, "pure": pure, "rows": len(rows)}


def _minimal_rows(fleet: str) -> tuple[list[str], list[list[str]]]:
    """The TUI's instance columns and the TUI's region's instances, cells straight from the fleet file
    (``load_fleet`` fills the defaults; no emulator, no client)."""
    from ecs_detach.emulator import DEFAULT_REGION
    from ecs_detach.emulator.fleet import load_fleet
    from tui.rows import INSTANCE_COLUMNS

    data = load_fleet(fleet)
    counts: Counter[str] = Counter()
    for disk in data["Disks"]:
        for attachment in disk.get("Attachments", {}).get("Attachment", []):
            counts[attachment.get("InstanceId", "")] += 1
    rows = []
    for raw in data["Instances"]:
        if raw.get("RegionId") != DEFAULT_REGION:
            continue
        locks = raw.get("OperationLocks", {}).get("LockReason", [])
        reasons = [lock.get("LockReason", "") for lock in locks]
        rows.append(
            [
                raw["InstanceId"],
                raw.get("InstanceName", ""),
                raw.get("Status", "Running"),
                raw.get("InstanceType", ""),
                raw.get("ZoneId", ""),
                "⚠ " + ",".join(reasons) if reasons else "-",
                str(counts[raw["InstanceId"]]),
            ]
        )
    return [c.label for c in INSTANCE_COLUMNS], rows


def child_minimal(fleet: str) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    imported = time.perf_counter()
    labels, rows = _minimal_rows(fleet)
    built = time.perf_counter()

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row", zebra_stripes=True)

        def on_mount(self) -> None:
            data = self.query_one(DataTable)
            data.add_columns(*labels)
            for row in rows:
                data.add_row(*row, key=row[0])

    app = Minimal()
    result: dict[str, Any] = {}

    async def drive() -> None:
        created = time.perf_counter()
        created_cpu = time.thread_time()
        async with app.run_test(headless=True, size=SIZE) as pilot:
            data = app.query_one(DataTable)
            while data.row_count != len(rows):
                await asyncio.sleep(POLL)
            full = await _painted(pilot)
            result.update(
                first_row_cpu=time.thread_time() - created_cpu,
                imports=imported - _STARTED,
                session=built - imported,
                app=full - created,
                full_epoch=_STARTED_EPOCH + (full - _STARTED),
                instances=len(rows),
                shown=data.row_count,
            )
            await pilot.press("q")

    asyncio.run(drive())
    result["rss"] = peak_rss_mb()
    return result


# --- at the scale of a real account (issue 18)

SCALE_LATENCY_MS = 50.0
"""Every reply of the emulator waits this long in the scale runs (``set_faults(latency_ms=...)``)."""
WATCH_SECONDS = 60
WATCH_GOAL_SIZE = 2_000
"""Issue 18 sets the watching goal (at most 4 full loads a minute) for a region of this many instances,"""
MEMORY_GOAL_SIZE = 10_000
"""and the memory goal (at most 1.5x the minimal app's peak RSS) for this many."""


def scale_fleet(instances: int, path: Path) -> None:
    """One region of ``instances`` instances and twice as many disks; the first instance is Stopped and
    starting takes an hour, so the child can keep one instance Starting while it watches."""
    from ecs_detach.emulator.generate import generate_fleet

    fleet = generate_fleet(instances=instances, disks=2 * instances, regions=1)
    fleet["Emulator"]["Durations"] = {"StartInstance": 3600}
    fleet["Instances"][0]["Status"] = "Stopped"
    path.write_text(json.dumps(fleet), encoding="utf-8")


class _InProcess:
    """The emulator in the TUI's own process (its fleet, replies and GIL share the TUI's)."""

    def __init__(self, fleet: str) -> None:
        from ecs_detach.emulator import ManualClock
        from ecs_detach.session import open_client
        from tui.launch import services_for

        session = open_client(demo=True, clock=ManualClock(), fleet=fleet)
        assert session.emulator is not None
        self.emulator = session.emulator
        self.services = services_for(session, journal=None)

    def set_latency(self, milliseconds: float) -> None:
        if milliseconds:
            self.emulator.set_faults(latency_ms=milliseconds)
        else:
            self.emulator.clear_faults()

    def advance(self, seconds: float) -> None:
        self.emulator.advance(seconds)

    def clear_log(self) -> None:
        self.emulator.gateway.clear_log()

    def describes(self) -> int:
        return _describes(self.emulator.requests)


class _Served:
    """The emulator as its own process (``ecs-detach emulator``), as a real account is remote: the TUI's
    figures are its own. The TUI's clock is a manual one, moved in step with the emulator's."""

    def __init__(self, url: str) -> None:
        from ecs_detach.emulator import ManualClock
        from ecs_detach.session import open_client
        from tui.launch import services_for

        self.url = url
        self.clock = ManualClock()
        session = open_client(demo=True, endpoint=url)
        self.services = services_for(session, journal=None)
        self.services.clock = self.clock.now

    def _control(self, method: str, route: str, document: Any = None) -> Any:
        import httpx

        response = httpx.request(method, f"{self.url}/_emulator/{route}", json=document, timeout=120)
        response.raise_for_status()
        return response.json()

    def set_latency(self, milliseconds: float) -> None:
        if milliseconds:
            self._control("POST", "faults", {"latency_ms": milliseconds})
        else:
            self._control("DELETE", "faults")

    def advance(self, seconds: float) -> None:
        self._control("POST", "clock", {"advance_seconds": seconds})
        self.clock.advance(seconds)

    def clear_log(self) -> None:
        self._control("DELETE", "requests")

    def describes(self) -> int:
        return _describes(self._control("GET", "requests")["requests"])


def _describes(requests: list[dict[str, Any]]) -> int:
    return sum(1 for r in requests if str(r.get("action", "")).startswith("Describe"))


def _main_thread_cpu() -> Any:
    """A function giving the CPU seconds the main thread (Textual's event loop) used so far, from any
    thread: what survives a busy machine better than wall time."""
    import threading

    clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    return lambda: time.clock_gettime(clock)


def _bytes_received(client: Any) -> list[int]:
    """A one-item list counting the bytes of the replies the client receives (Content-Length)."""
    count = [0]

    def noted(response: Any) -> None:
        count[0] += int(response.headers.get("content-length", 0))

    http = getattr(client, "_http", None)
    if http is not None:
        http.event_hooks["response"] = [*http.event_hooks["response"], noted]
    return count


def _first_round_trip(client: Any, action: str) -> dict[str, float]:
    """``{"sent": t, "answered": t}`` (perf_counter) of the client's first ``action`` request: the page
    latency the first row waits for, as the client saw it (the emulator's work and the knob's delay)."""
    times: dict[str, float] = {}

    def sent(request: Any) -> None:
        if "sent" not in times and request.headers.get("x-acs-action") == action:
            times["sent"] = time.perf_counter()

    def answered(response: Any) -> None:
        if "sent" in times and "answered" not in times:
            times["answered"] = time.perf_counter()

    http = getattr(client, "_http", None)
    if http is not None:
        http.event_hooks["request"] = [*http.event_hooks["request"], sent]
        http.event_hooks["response"] = [*http.event_hooks["response"], answered]
    return times


async def _until(condition: Any) -> float:
    while not condition():
        await asyncio.sleep(POLL)
    return time.perf_counter()


def child_scale(source: str, keys: str) -> dict[str, Any]:
    """The TUI with 50 ms per reply, on the emulator served at ``source`` (a URL) or in process (a fleet
    file): to the first row, to all rows; then (no latency, the clocks moved 2 s at a time) the Describe
    calls of one minute watching with one instance Starting; then the filter's keystrokes."""
    import tui.screens.browse as browse
    from tui.app import EcsDetachApp
    from tui.widgets.tables import RowTable

    emulated = _Served(source) if source.startswith("http") else _InProcess(source)
    services = emulated.services
    first_page = next(iter(services.client.instance_pages(page_size=10)))[0]
    starting = first_page[0].instance_id
    _shown["text"] = first_page[1].instance_id  # the second row: the detail pane shows only the first
    services.client.start_instance(starting)
    emulated.set_latency(SCALE_LATENCY_MS)
    emulated.clear_log()
    app = EcsDetachApp(services)
    result: dict[str, Any] = {}
    read_started: list[tuple[float, float, float]] = []
    original_read = browse.read_listing
    main_cpu = _main_thread_cpu()
    received = _bytes_received(services.client)
    round_trip = _first_round_trip(services.client, "DescribeInstances")

    def noted_read(*args: Any, **kw: Any) -> Any:  # when the first read is sent (from the reading thread)
        read_started.append((time.perf_counter(), main_cpu(), time.process_time()))
        return original_read(*args, **kw)

    browse.read_listing = noted_read  # type: ignore[assignment]

    async def drive() -> None:
        created = time.perf_counter()
        created_cpu = (main_cpu(), time.process_time())
        async with app.run_test(headless=True, size=SIZE) as pilot:
            await _until(lambda: app.browse is not None and app.browse.is_mounted)
            screen = app.browse
            table = screen.query_one("#instances", RowTable)
            await _until(lambda: table.row_count > 0)
            await _until(lambda: "at" in _shown)
            first, *first_cpu = _shown["at"]
            first_bytes = received[0]
            first_calls = emulated.describes()
            await _until(lambda: screen.loaded and not screen._pages_total and not screen._reading)
            every = await _painted(pilot)
            full_load = emulated.describes()
            emulated.set_latency(0)
            emulated.clear_log()
            watch_cpu = main_cpu()
            for _ in range(WATCH_SECONDS // 2):
                emulated.advance(2)
                screen.poll_refresh()
                await pilot.pause()
                await _until(lambda: not screen._reading and not screen._reading_moving)
            watch_cpu = main_cpu() - watch_cpu
            watched = emulated.describes()
            status = screen.instance(starting).status if screen.instance(starting) else "?"
            result.update(
                first_row=first - read_started[0][0],
                first_row_from_app=first - created,
                first_row_cpu=first_cpu[0] - created_cpu[0],
                first_row_process_cpu=first_cpu[1] - created_cpu[1],
                first_row_cpu_from_read=first_cpu[0] - read_started[0][1],
                first_row_calls=first_calls,
                first_row_bytes=first_bytes,
                first_page_round_trip=round_trip["answered"] - round_trip["sent"],
                all_rows=every - created,
                instances=len(screen.instances),
                disks=len(screen.disks),
                full_load_calls=full_load,
                watch_calls=watched,
                watch_cpu=watch_cpu,
                watched_status=status,
            )
            if keys:
                result.update(await _filter_latency(pilot, keys))
            await pilot.press("q")

    asyncio.run(drive())
    result["rss"] = peak_rss_mb()
    return result


def _scale_row(size: int, where: str, tui: dict[str, Any], floor: dict[str, Any], keys: str) -> list[str]:
    from tui.refresh import DISK_PAGE, INSTANCE_PAGE, pages

    page = SCALE_LATENCY_MS / 1000
    chain = max(pages(size, INSTANCE_PAGE), pages(2 * size, DISK_PAGE)) * page
    loads = tui["watch_calls"] / tui["full_load_calls"]
    typed = [p["end_to_end"] for p in tui.get("per_key", [])] or [float("nan")]
    rss_ratio = tui["rss"] / floor["rss"]
    cpu_ratio = tui["first_row_cpu"] / floor["first_row_cpu"]
    return [
        f"{size:,}",
        where,
        f"{tui['first_row'] * 1000:.0f} ({verdict(tui['first_row'] <= page + 0.150)})"
        f" / {tui['first_row_from_app'] * 1000:.0f}",
        f"{tui['first_row_cpu_from_read'] * 1000:.0f} / {tui['first_row_cpu'] * 1000:.0f}"
        f" / {tui['first_row_process_cpu'] * 1000:.0f} vs {floor['first_row_cpu'] * 1000:.0f}"
        f" = {cpu_ratio:.2f}x",
        f"{tui['first_row_calls']} / {tui['first_row_bytes'] / 1024:.0f} KiB"
        f" / {tui['first_page_round_trip'] * 1000:.0f} ms",
        f"{tui['all_rows']:.1f} / {chain:.1f}",
        f"{tui['watch_calls']} = {loads:.1f}"
        + (f" ({verdict(loads <= 4)})" if size == WATCH_GOAL_SIZE else "")
        + f"; main thread {tui['watch_cpu']:.1f} s",
        f"{median(typed) * 1000:.0f} / {max(typed) * 1000:.0f}",
        f"{tui['rss']:.0f} / {floor['rss']:.0f} = {rss_ratio:.2f}x"
        + (f" ({verdict(rss_ratio <= 1.5)})" if size == MEMORY_GOAL_SIZE else ""),
    ]


def main_scale(sizes: list[int], keys: str, *, in_process: bool) -> int:
    header(
        f"TUI at scale: {SCALE_LATENCY_MS:.0f} ms per reply; first row, all rows, watching, keys, memory",
        f"python benchmarks/tui.py --scale {','.join(map(str, sizes))} --keys {keys}"
        + (" --in-process" if in_process else ""),
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"fleet-{size}.json"
            scale_fleet(size, path)
            floor = child("tui.py", "minimal", str(path), "", timeout=1800)
            with served_emulator(str(path)) as served:
                tui = child("tui.py", "scale", served.url, keys, timeout=1800)
            rows.append(_scale_row(size, "served", tui, floor, keys))
            if in_process:
                tui = child("tui.py", "scale", str(path), keys, timeout=1800)
                rows.append(_scale_row(size, "in process", tui, floor, keys))
            path.unlink()
    print(
        table(
            rows,
            [
                "instances (2x disks)",
                "emulator",
                "first row ms from the first read (goal <= 50 + 150) / from the app's start",
                "first row CPU ms: main thread from the read / from the app's start / process;"
                " vs the minimal app's main thread to its first row = ratio",
                "Describe calls / bytes before the first row / the first page's round trip",
                "all rows s / floor s (longest chain of pages x 50 ms)",
                "Describe calls in 1 min watching, one Starting = full loads"
                f" (goal at {WATCH_GOAL_SIZE:,}: <= 4); the screen's thread's CPU in that minute",
                f"filter key ms, median / worst ({keys!r})",
                f"peak RSS MiB / minimal app = ratio (goal at {MEMORY_GOAL_SIZE:,}: <= 1.5x)",
            ],
        )
    )
    print(
        "one child per size and emulator for the TUI, one for the minimal app (a DataTable of the same rows);"
        "\nserved: the emulator is its own process (ecs-detach emulator), so the TUI's RSS is its own;"
        "\nin process: the emulator, its fleet and its replies share the TUI's process and GIL"
    )
    footer()
    return 0


# --- parent


def sample(kind: str, fleet: str, keys: str = "") -> dict[str, Any]:
    spawned = time.time()
    result = child("tui.py", kind, fleet, keys)
    result["process"] = result["full_epoch"] - spawned
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each runs every contender once)")
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--disks", type=int, default=20_000)
    parser.add_argument("--keys", default="db-004", help="typed into the / filter, one key at a time")
    parser.add_argument("--filter-rounds", type=int, default=3, help="children that type --keys")
    parser.add_argument(
        "--scale", help="issue 18's figures instead: comma-separated fleet sizes, e.g. 2000,10000,100000"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="with --scale: also run the TUI on an in-process emulator"
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FLEET", "KEYS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, fleet, keys = args.child
        _count_frames()
        children = {"tui": child_tui, "scale": child_scale}
        emit(children[kind](fleet, keys) if kind in children else child_minimal(fleet))
        return 0
    if args.scale:
        sizes = [int(size) for size in args.scale.split(",")]
        return main_scale(sizes, args.keys, in_process=args.in_process)

    header(
        "TUI: first full screen, peak memory, filter latency; fresh interpreters, alternated",
        f"python benchmarks/tui.py --rounds {args.rounds} --instances {args.instances} "
        f"--disks {args.disks} --keys {args.keys} --filter-rounds {args.filter_rounds}",
    )
    from ecs_detach.emulator.generate import generate_fleet

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "fleet.json"
        fleet = generate_fleet(instances=args.instances, disks=args.disks, regions=1)
        big.write_text(json.dumps(fleet), encoding="utf-8")
        n = f"{args.instances // 1000}k" if args.instances >= 1000 else str(args.instances)
        contenders = {
            "TUI demo": ("tui", "demo"),
            "minimal demo": ("minimal", "demo"),
            f"TUI {n}": ("tui", str(big)),
            f"minimal {n}": ("minimal", str(big)),
        }
        for kind, source in contenders.values():  # warm-up
            sample(kind, source)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
        for round_number in range(args.rounds):
            names = list(contenders)
            if round_number % 2:
                names.reverse()
            for name in names:
                runs[name].append(sample(*contenders[name]))
        filters = [sample("tui", str(big), args.keys) for _ in range(args.filter_rounds)]

    def med(name: str, key: str) -> float:
        return median([r[key] for r in runs[name]])

    rows = []
    for name in contenders:
        floor = "minimal demo" if "demo" in name else f"minimal {n}"
        ratio = med(name, "process") / med(floor, "process")
        app_ratio = med(name, "app") / med(floor, "app")
        tui = name.startswith("TUI")
        goal = f" ({verdict(ratio <= 2)})" if name == "TUI demo" else ""
        first = runs[name][0]
        rows.append(
            [
                name,
                f"{first['instances']} / {first['shown']}",
                f"{med(name, 'process') * 1000:.0f}",
                f"{med(name, 'imports') * 1000:.0f}",
                f"{med(name, 'session') * 1000:.0f}",
                f"{med(name, 'app') * 1000:.0f}",
                f"{med(name, 'rss'):.0f}",
                f"{ratio:.2f}x{goal}" if tui else "",
                f"{app_ratio:.2f}x" if tui else "",
            ]
        )
    print(
        table(
            rows,
            [
                "contender",
                "instances / rows in table",
                "spawn → full screen ms",
                "imports ms",
                "fleet ms",
                "app → full screen ms",
                "peak RSS MiB",
                "÷ minimal, spawn (demo goal ≤ 2x)",
                "÷ minimal, app",
            ],
        )
    )
    print("fleet ms: open the session and load the fleet (TUI), read the file and build the cells (minimal)")

    from tui.screens import browse

    debounce = (
        "the messages already queued (no fixed pause)"
        if hasattr(browse, "LARGE_FLEET_ROWS")
        else "a 0.15 s timer restarted by every key (up to 694f586)"
    )
    print(f"\nfilter at {filters[0]['rows']} instance rows, keys {args.keys!r} one at a time")
    print(f"the screen applies a keystroke (>= 2,000 rows) after: {debounce}")
    key_rows = []
    for index, key in enumerate(args.keys):
        per = [f["per_key"][index] for f in filters]
        e2e = median([p["end_to_end"] for p in per])
        key_rows.append(
            [
                repr(args.keys[: index + 1]),
                f"{per[0]['matches']:.0f}",
                f"{median([f['pure'][index] for f in filters]) * 1000:.1f}",
                f"{median([p['before_apply'] for p in per]) * 1000:.0f}",
                f"{median([p['apply'] for p in per]) * 1000:.0f}",
                f"{median([p['paint'] for p in per]) * 1000:.0f}",
                f"{e2e * 1000:.0f} ({verdict(e2e < 0.1)})",
            ]
        )
        del key
    print(
        table(
            key_rows,
            [
                "filter text",
                "matches",
                "pure filter ms",
                "press → apply ms (key handling + debounce)",
                "apply ms (tables rebuilt)",
                "→ painted ms",
                "end to end ms (goal < 100)",
            ],
        )
    )
    all_e2e = [p["end_to_end"] for f in filters for p in f["per_key"]]
    print(
        f"all keystrokes: median {median(all_e2e) * 1000:.0f} ms, worst {max(all_e2e) * 1000:.0f} ms; "
        f"peak RSS of the filter children {median([f['rss'] for f in filters]):.0f} MiB"
    )
    print(f"{args.rounds} rounds (+1 warm-up), {args.filter_rounds} filter children; figures are medians")
    footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
