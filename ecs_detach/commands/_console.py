"""Where the scripting CLI writes: results on stdout (tables, or JSON with --json); notes, prompts, progress
and errors on stderr. Confirmations are read from a terminal; long runs go to a worker thread, so Ctrl-C stops
the wait only."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO, TypeVar

from ecs_detach.tables import Table
from ecs_detach.vocabulary import DEMO_TIME
from ecs_detach.workflow import CancelToken, ProgressEvent

__all__ = [
    "CommandError",
    "Console",
    "Progress",
    "bar_line",
    "output_width",
    "run_in_worker",
    "terminal_width",
]

T = TypeVar("T")


class CommandError(Exception):
    """A clear refusal or failure with its exit code (what was wrong, what to do)."""

    def __init__(self, code: int, message: str, remedy: str = "", *, error_code: str = "") -> None:
        super().__init__(message)
        self.exit_code = code
        self.remedy = remedy
        self.error_code = error_code


class Console:
    """One command's output. `json_mode`: stdout carries exactly one JSON document."""

    def __init__(self, command: str, *, json_mode: bool = False) -> None:
        self.command = command
        self.json_mode = json_mode

    @property
    def out(self) -> TextIO:
        return sys.stdout

    @property
    def err(self) -> TextIO:
        return sys.stderr

    @staticmethod
    def stdin_is_tty() -> bool:
        try:
            return bool(sys.stdin is not None and sys.stdin.isatty())
        except (AttributeError, ValueError):
            return False

    def stderr_is_tty(self) -> bool:
        try:
            return bool(self.err.isatty())
        except (AttributeError, ValueError):
            return False

    # -- results --------------------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        """Human output: stdout, or stderr in JSON mode (stdout is for the JSON document)."""
        stream = self.err if self.json_mode else self.out
        print(text, file=stream, flush=True)

    def table(self, table: Table, widths: Sequence[int | None] | None = None) -> None:
        if not self.json_mode:
            print(table.render(max_widths=widths, width=output_width(self.out)), file=self.out, flush=True)

    def emit_json(self, document: Any) -> None:
        if self.json_mode:
            print(json.dumps(document, indent=2, ensure_ascii=False, default=str), file=self.out, flush=True)

    # -- notes and errors -----------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def error(self, message: str, remedy: str = "") -> None:
        lines = [f"ecs-detach {self.command}: {message}"]
        if remedy:
            lines.append(f"  what to do: {remedy}")
        print("\n".join(lines), file=self.err, flush=True)

    # -- confirmation ---------------------------------------------------------------------------------------

    def ask(self, prompt: str) -> str | None:
        """A line typed at the terminal (None on end of input or Ctrl-C: nothing confirmed)."""
        print(prompt, end="", file=self.err, flush=True)
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            print(file=self.err)
            return None
        return line.strip()


def seconds_text(value: float) -> str:
    value = max(0.0, value)
    if value < 90:
        return f"{value:.0f} s"
    return f"{int(value // 60)} min {int(value % 60):02d} s"


def output_width(stream: TextIO) -> int | None:
    """The width tables on `stream` must fit: ``COLUMNS`` when set, else the terminal's; None (no limit)
    when `stream` is a file or a pipe and ``COLUMNS`` is not set."""
    if os.environ.get("COLUMNS", "").strip().isdigit():
        return terminal_width(stream)
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return terminal_width(stream)


def terminal_width(stream: TextIO | None = None) -> int:
    """The columns of the terminal `stream` writes to: ``COLUMNS`` first (as `shutil.get_terminal_size`
    reads it), else the terminal's own size; 80 when neither is known."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0 and stream is not None:
        try:
            columns = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            columns = 0
    if columns <= 0:
        columns = shutil.get_terminal_size((80, 24)).columns
    return columns if columns > 0 else 80


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def bar_line(event: ProgressEvent, elapsed: float, width: int, *, demo_time: bool = False) -> str:
    """One progress line that fits `width` columns: what matters first (the disk, its state, the times),
    then the bar, the timeout and the Ctrl-C hint while there is room."""
    if event.eta is None:
        eta_text = "taking longer than usual"
        fraction = min(1.0, elapsed / event.timeout) if event.timeout else 1.0
    else:
        eta = max(0.0, event.eta - (elapsed - event.elapsed))
        eta_text = f"ETA ~{seconds_text(eta)}"
        total = elapsed + eta
        fraction = elapsed / total if total > 0 else 1.0
    subject = event.disk_id or event.instance_id
    clock = f" ({DEMO_TIME})" if demo_time else ""
    state = f" {event.state or '?'} · {seconds_text(elapsed)} elapsed{clock} · {eta_text}"
    timeout = f" · timeout {seconds_text(event.timeout)}"
    room = width - 1  # never the last column: a full line wraps on some terminals
    # The Ctrl-C hint only beside a full bar; then narrow the bar, drop the timeout, then the bar itself.
    for least, tail in (
        (Progress.WIDTH, timeout + " (Ctrl-C stops waiting)"),
        (Progress.BAR_MIN, timeout),
        (Progress.BAR_MIN, ""),
    ):
        bar_width = min(Progress.WIDTH, room - len(subject) - len(state) - len(tail) - 3)
        if bar_width >= least:
            filled = round(fraction * bar_width)
            return f"{subject} [{'█' * filled}{'░' * (bar_width - filled)}]{state}{tail}"
    plain = subject + state
    return plain + timeout if len(plain + timeout) <= room else _fit(plain, room)


class Progress:
    """Progress of a run on stderr: on a terminal, one line redrawn in place that always fits its width;
    otherwise one line per state change (never one per poll).

    Called from the worker thread (`__call__`) and from the main thread (`tick`, to keep the elapsed time
    moving between polls when time is real). Without `real_time` the run is on the demo's virtual clock,
    and its times say so.
    """

    WIDTH = 24
    BAR_MIN = 8

    def __init__(self, console: Console, *, bar: bool, real_time: bool) -> None:
        self.console = console
        self.bar = bar
        self.real_time = real_time
        self._lock = threading.Lock()
        self._last: ProgressEvent | None = None
        self._seen_at = 0.0
        self._last_key: tuple[str, ...] = ()
        self._demo_noted = False
        self._drawn = False

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            is_wait = event.timeout > 0
            if not self.bar:
                self._line(event, is_wait)
                return
            if not is_wait:
                self._clear()
                self.console.note(f"  {event.message}")
                self._last = None
                return
            self._last = event
            self._seen_at = time.monotonic()
            self._draw()

    def _line(self, event: ProgressEvent, is_wait: bool) -> None:
        """Not a terminal: a wait is shown when its state changes, every other step once."""
        subject = event.disk_id or event.instance_id
        key = (event.phase, subject, event.state) if is_wait else (event.phase, subject, event.message)
        if key == self._last_key:
            return
        self._last_key = key
        if is_wait and not self.real_time and not self._demo_noted:
            self._demo_noted = True
            self.console.note(f"  (times are {DEMO_TIME}: the demo's clock runs faster than the wall clock)")
        self.console.note(f"  {event.message}")

    def tick(self) -> None:
        with self._lock:
            if self.bar and self._last is not None:
                self._draw()

    def finish(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        if self._drawn:
            self.console.err.write("\r\x1b[2K")
            self.console.err.flush()
            self._drawn = False

    def _draw(self) -> None:
        event = self._last
        if event is None:
            return
        extra = time.monotonic() - self._seen_at if self.real_time else 0.0
        line = bar_line(
            event, event.elapsed + extra, terminal_width(self.console.err), demo_time=not self.real_time
        )
        self.console.err.write(f"\r\x1b[2K{line}")
        self.console.err.flush()
        self._drawn = True


@contextlib.contextmanager
def _counting_ctrl_c() -> Iterator[list[int]]:
    """While inside: each SIGINT is appended to the list instead of raising KeyboardInterrupt (the main
    thread only; elsewhere the list stays empty and Ctrl-C behaves as usual)."""
    hits: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield hits
        return

    def count(signum: int, frame: Any) -> None:
        hits.append(signum)

    previous = signal.signal(signal.SIGINT, count)
    try:
        yield hits
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def run_in_worker(
    work: Callable[[], T], cancel: CancelToken, progress: Progress, console: Console
) -> tuple[T, bool]:
    """Run `work` in a thread; Ctrl-C cancels the wait, never the call in flight. (result, interrupted).

    A second Ctrl-C ends the command at once (exit 4) without waiting for that call: the worker is a daemon
    thread, and a mutation in flight has its intent on disk, so the next start reconciles it. Ctrl-C is
    counted by a signal handler, not caught as KeyboardInterrupt: a second one that lands while the first
    is being reported is still a second one (not an interrupt 'before anything was changed')."""
    box: dict[str, Any] = {}

    finished = threading.Event()

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the main thread, which reports it
            box["error"] = exc
        finally:
            finished.set()

    thread = threading.Thread(target=target, name="ecs-detach-run", daemon=True)
    noted = False
    with _counting_ctrl_c() as interrupts:
        thread.start()
        # An Event, not Thread.join: a Ctrl-C that interrupts join() can make the thread look finished early.
        while not finished.is_set():
            finished.wait(0.2)
            progress.tick()
            if len(interrupts) >= 2:  # do not sit out a call in flight (its whole deadline, 20 s or more)
                progress.finish()
                raise CommandError(
                    4,
                    "interrupted twice (Ctrl-C): stopped without waiting for the call in flight; if it was a "
                    "change, its intent is journaled and its outcome is unknown until reconciled",
                    "Run `ecs-detach journal --reconcile` (or any ecs-detach command: each reconciles "
                    "first) to read what became of it.",
                    error_code="Interrupted",
                )
            if interrupts and not noted:
                noted = True
                cancel.cancel()
                progress.finish()
                console.note(
                    "Ctrl-C: stopping the wait. The operation itself goes on in the cloud; "
                    "a call already sent finishes and is journaled."
                )
        interrupted = bool(interrupts)
    thread.join()
    progress.finish()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result, interrupted
