"""The journal: every mutating call, as JSON lines, appended before it is sent and after it answers.

One line per record, append-only, flushed and fsynced. An *intent* is written before the call, an *outcome*
after it (same ``operation_id``). An intent without an outcome means the process stopped in between (killed,
crashed, lost network); `Journal.reconcile` reads the live state for each and appends a reconciled outcome:
``went-through``, ``did-not-happen``, ``in-progress`` or ``unknown``.

Secrets (passwords, key pair names, access keys, tokens) are never written. A corrupt line is skipped with a
`JournalWarning`, never a crash; so is a line of a newer schema than this version reads.

Durability: a record is written whole and fsynced, or not at all (a short write or a full disk is rolled back
and raises `JournalError`), so a mutating call is never sent without its whole intent on disk. Appends take an
exclusive lock on the file, so processes sharing a journal never interleave lines.

Rotation: once the journal passes `ROTATE_BYTES`, an append moves its finished operations to a rotated file
beside it (``journal.000001.jsonl``, numbered oldest first, each up to `ROTATED_BYTES`) and keeps in the
journal what a detach still reads: operations without an outcome, and those an instance left Stopped by us or
a system disk we detached still depend on. So a detach reads the same small file after 100k operations as
after 10; history (`operations(rotated=True)`, `last_detach(..., rotated=True)`) reads the rotated files too.
Each step is fsynced and a kill between any two loses nothing (at worst a record is in both files for a
while, read once).

Owners: each intent names the process that wrote it (host, pid, start time). The intent of a process that is
still alive is *in flight*, not pending: nobody else reconciles it. Reconciling holds a lock file beside the
journal, so two processes never settle the same intent twice.

Default path: ``$XDG_STATE_HOME/ecs-detach/journal.jsonl``, else ``~/.local/state/ecs-detach/journal.jsonl``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import stat
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends and reconciling go unlocked across processes
    fcntl = None  # type: ignore[assignment]

from ecs_detach.actions import MUTATING, Result, judge
from ecs_detach.errors import EcsError, NotFoundError
from ecs_detach.models import (
    Disk,
    Instance,
)
from ecs_detach.wording import CLI_WORDS, worded

__all__ = [
    "INTENT",
    "OUTCOME",
    "Journal",
    "JournalError",
    "JournalPathError",
    "JournalRecord",
    "JournalWarning",
    "Owner",
    "Result",
    "StateReader",
    "classify",
    "default_journal_path",
    "scrub_params",
    "took_effect",
]

INTENT = "intent"
OUTCOME = "outcome"
FORMAT_VERSION = 1
ROTATE_BYTES = 256 * 1024  # a journal past this size is rotated at the next append
ROTATED_BYTES = 16 * 1024 * 1024  # a rotated file past this size is closed; the next rotation starts another


class JournalWarning(UserWarning):
    """A journal line could not be read (it is skipped)."""


class JournalError(EcsError):
    """The journal cannot be read or written. While an intent cannot be recorded, nothing is sent."""

    remedy_worded = worded(
        "Free some space on the journal's file system, or point ecs-detach at another journal file "
        "({journal})."
    )
    remedy = remedy_worded.say(CLI_WORDS)


class JournalPathError(JournalError):
    """The journal's path is not a file ecs-detach can use (a device, a directory, a path it cannot open)."""

    remedy_worded = worded(
        "Give the path of a regular file that ecs-detach may create and append to: {journal}."
    )
    remedy = remedy_worded.say(CLI_WORDS)


_OTHER_HOST_AGE = 3600.0  # an intent from another host is judged only once it is this old (seconds)


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that wrote an intent: while it is alive, its intent is in flight."""

    host: str
    pid: int
    started: float  # the process's start time (epoch seconds), so a reused pid is not mistaken for it

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started": self.started}

    @classmethod
    def from_json(cls, data: Any) -> Owner | None:
        if not isinstance(data, dict):
            return None
        host, pid, started = data.get("host"), data.get("pid"), data.get("started")
        if not isinstance(host, str) or not isinstance(pid, int) or not isinstance(started, int | float):
            return None
        return cls(host, pid, float(started))

    @classmethod
    def this_process(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, _process_start(pid) or _IMPORTED_AT)

    def is_alive(self) -> bool:
        """Is this process still running? Only a process on this host can be looked at."""
        if self.host != socket.gethostname():
            return False
        started = _process_start(self.pid)
        if started is not None:
            return abs(started - self.started) < 1.0
        if Path("/proc").is_dir():
            return False  # Linux: no /proc/PID/stat, no such process
        try:
            os.kill(self.pid, 0)  # elsewhere: does the pid exist at all (its start time cannot be checked)
        except ProcessLookupError:
            return False
        except OSError:
            return True  # it exists, owned by someone else
        return True


_IMPORTED_AT = time.time()


def _process_start(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc on Linux; None when that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of proc(5), counted after the command name
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line[:6] == "btime "
        )
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return round(boot + ticks / os.sysconf("SC_CLK_TCK"), 2)


_SECRET_KEYS = ("password", "keypair", "secret", "token", "accesskey", "credential", "signature")


def scrub_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """The parameters without anything secret (passwords, key pair names, keys, tokens, signatures)."""
    clean: dict[str, str] = {}
    for key, value in (params or {}).items():
        folded = key.lower().replace("_", "").replace("-", "")
        if any(secret in folded for secret in _SECRET_KEYS):
            continue
        if value is None:
            continue
        clean[key] = value if isinstance(value, str) else json.dumps(value)
    return clean


def default_journal_path(
    env: Mapping[str, str] | None = None, home: Path | None = None, *, demo: bool = False
) -> Path:
    """Where the journal lives. Demo mode (the emulator) keeps its own file, apart from real accounts'."""
    environ = os.environ if env is None else env
    state = environ.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state and Path(state).is_absolute() else (home or Path.home()) / ".local" / "state"
    return base / "ecs-detach" / ("journal-demo.jsonl" if demo else "journal.jsonl")


@dataclass(frozen=True, slots=True)
class JournalRecord:
    kind: str  # INTENT | OUTCOME
    operation_id: str
    action: str  # the API action: DetachDisk, StopInstance, StartInstance, AttachDisk
    at: str  # ISO 8601 UTC
    disk_id: str = ""
    instance_id: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    profile: str = ""
    region: str = ""
    endpoint: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)  # e.g. disk_type, device (what undo needs)
    result: str = ""  # outcomes only, see `Result`
    code: str = ""
    message: str = ""
    request_id: str = ""
    reconciled: bool = False
    owner: Owner | None = None  # intents only: the process that wrote it
    line: int = field(default=0, compare=False)

    def to_json(self) -> str:
        data: dict[str, Any] = {"v": FORMAT_VERSION, "kind": self.kind, "op": self.operation_id}
        data["action"] = self.action
        data["at"] = self.at
        for key in ("disk_id", "instance_id", "profile", "region", "endpoint"):
            value = getattr(self, key)
            if value:
                data[key] = value
        if self.params:
            data["params"] = dict(self.params)
        if self.context:
            data["context"] = dict(self.context)
        if self.kind == INTENT and self.owner is not None:
            data["owner"] = self.owner.to_json()
        if self.kind == OUTCOME:
            data["result"] = self.result
            for key in ("code", "message", "request_id"):
                value = getattr(self, key)
                if value:
                    data[key] = value
            if self.reconciled:
                data["reconciled"] = True
        return json.dumps(data, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, text: str, line: int = 0) -> JournalRecord:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        version = data.get("v", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"written by a newer ecs-detach (schema v{version}; this one reads v{FORMAT_VERSION}): "
                "upgrade ecs-detach to read it"
            )
        kind = data.get("kind")
        if kind not in (INTENT, OUTCOME):
            raise ValueError(f"unknown record kind {kind!r}")
        op, action, at = data.get("op"), data.get("action"), data.get("at")
        if not isinstance(op, str) or not op or not isinstance(action, str) or not isinstance(at, str):
            raise ValueError("missing op, action or at")
        params = data.get("params") or {}
        context = data.get("context") or {}
        if not isinstance(params, dict) or not isinstance(context, dict):
            raise ValueError("params and context must be objects")
        return cls(
            kind=kind,
            operation_id=op,
            action=action,
            at=at,
            disk_id=str(data.get("disk_id", "")),
            instance_id=str(data.get("instance_id", "")),
            params={str(k): str(v) for k, v in params.items()},
            profile=str(data.get("profile", "")),
            region=str(data.get("region", "")),
            endpoint=str(data.get("endpoint", "")),
            context=context,
            result=str(data.get("result", "")),
            code=str(data.get("code", "")),
            message=str(data.get("message", "")),
            request_id=str(data.get("request_id", "")),
            reconciled=bool(data.get("reconciled", False)),
            owner=Owner.from_json(data.get("owner")) if kind == INTENT else None,
            line=line,
        )

    @property
    def succeeded(self) -> bool:
        """An outcome saying the call took effect (accepted, or reconciled as applied)."""
        return self.kind == OUTCOME and self.result in (Result.OK, Result.WENT_THROUGH, Result.IN_PROGRESS)


class StateReader(Protocol):
    """What reconciliation needs from a client (`EcsClient` fits)."""

    def get_disk(self, disk_id: str) -> Disk: ...

    def get_instance(self, instance_id: str) -> Instance: ...


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Journal:
    """An append-only JSON-lines journal at `path` (default: `default_journal_path()`). Thread-safe."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] | None = None,
        owner: Owner | None = None,
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.rotate_bytes = rotate_bytes
        self._clock = clock
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._owner = owner
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._read = _ReadSoFar()
        self.skipped: tuple[str, ...] = ()  # what the last read skipped, one sentence per line

    @property
    def owner(self) -> Owner:
        """Who this journal's intents name as their writer (this process unless told otherwise)."""
        if self._owner is None:
            self._owner = Owner.this_process()
        return self._owner

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- writing --------------------------------------------------------------------------------------------

    def _append(self, record: JournalRecord) -> None:
        """Write `record` as one whole, fsynced line, or raise `JournalError` and leave the file as it was."""
        data = (record.to_json() + "\n").encode("utf-8")
        with self._lock:
            fd = self._open_locked()
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a line cut short (a crash mid-write) stays apart from this one
                try:
                    _write_all(fd, data)
                    os.fsync(fd)
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)  # no half record stays behind
                    raise JournalError(
                        f"Could not write the journal {self.path}: {_reason(exc)}; "
                        f"the {record.action} {record.kind} was not recorded."
                    ) from None
                if size + len(data) > self.rotate_bytes:
                    with contextlib.suppress(OSError):  # the record is safe; the next append tries again
                        self._rotate(fd)
            finally:
                os.close(fd)  # closing releases the lock

    def _open_locked(self) -> int:
        """The journal, open for appending and locked; reopened when a rotation replaced the file while this
        process waited for the lock (an append to the old file would be lost)."""
        for _ in range(100):
            fd = self._open_for_append()
            _lock_file(fd)
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is not None and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev):
                return fd
            os.close(fd)
        raise JournalError(f"The journal {self.path} keeps being replaced; nothing was recorded.")

    def _open_for_append(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
        except OSError as exc:
            raise JournalPathError(f"Cannot open the journal {self.path}: {_reason(exc)}.") from None
        try:
            _require_regular(self.path, os.fstat(fd))
        except JournalPathError:
            os.close(fd)
            raise
        return fd

    def intent(
        self,
        action: str,
        *,
        disk_id: str = "",
        instance_id: str = "",
        params: Mapping[str, Any] | None = None,
        profile: str = "",
        region: str = "",
        endpoint: str = "",
        context: Mapping[str, Any] | None = None,
    ) -> JournalRecord:
        """Append (and return) the intent for a mutating call about to be sent."""
        record = JournalRecord(
            kind=INTENT,
            operation_id=self._new_id(),
            action=action,
            at=_iso(self._clock()),
            disk_id=disk_id,
            instance_id=instance_id,
            params=scrub_params(params),
            profile=profile or "",
            region=region or "",
            endpoint=endpoint or "",
            context=dict(context or {}),
            owner=self.owner,
        )
        _OPEN_HERE.add(record.operation_id)
        try:
            self._append(record)
        except JournalError:
            _OPEN_HERE.discard(record.operation_id)
            raise
        return record

    def outcome(
        self,
        intent: JournalRecord,
        result: str,
        *,
        code: str = "",
        message: str = "",
        request_id: str = "",
        reconciled: bool = False,
    ) -> JournalRecord:
        """Append (and return) the outcome of `intent`."""
        record = replace(
            intent,
            kind=OUTCOME,
            at=_iso(self._clock()),
            params={},
            result=result,
            code=code,
            message=message,
            request_id=request_id,
            reconciled=reconciled,
            owner=None,
            line=0,
        )
        self._append(record)
        _OPEN_HERE.discard(intent.operation_id)
        return record

    # -- reading --------------------------------------------------------------------------------------------

    def records(self, *, rotated: bool = False) -> list[JournalRecord]:
        """Every readable record of the journal, oldest first: what a detach reads (operations without an
        outcome, what an instance we left Stopped depends on, and the recent ones). With `rotated`, the
        records of the rotated files come first: the whole history. Corrupt lines are skipped with a
        `JournalWarning`."""
        skipped: list[str] = []
        try:
            if rotated:
                raw = self._read_bytes(self.path) if self.path.exists() else b""
                in_journal = set(raw.split(b"\n"))  # a rotation cut short leaves a record in both files
                records = [
                    r for path in self.rotated_paths() for r in self._read_rotated(path, skipped, in_journal)
                ]
                records += _parse(raw, self.path, skipped)
            else:
                records = self._read_journal(skipped)
        except JournalError:
            raise
        except OSError as exc:
            message = f"cannot read the journal {self.path}: {exc.strerror or exc}"
            warnings.warn(message, JournalWarning, stacklevel=2)
            self.skipped = (message,)
            return []
        for message in skipped:
            warnings.warn(message, JournalWarning, stacklevel=2)
        self.skipped = tuple(skipped)
        return records

    def _read_journal(self, skipped: list[str]) -> list[JournalRecord]:
        """The journal's records, reading only what was appended since the last read (a detach reads the
        journal many times); the whole file again when it was replaced (a rotation) or cut."""
        with self._read_lock:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            except FileNotFoundError:
                self._read = _ReadSoFar()
                return []
            except IsADirectoryError:
                raise JournalPathError(
                    f"The journal path {self.path} is a directory, not a regular file."
                ) from None
            try:
                info = os.fstat(fd)
                _require_regular(self.path, info)
                done = self._read
                last = done.last_line  # the same file still (an inode can be reused after a rotation)
                if (done.device, done.inode) != (info.st_dev, info.st_ino) or (
                    os.pread(fd, len(last), done.offset - len(last)) != last
                ):
                    done = _ReadSoFar(info.st_dev, info.st_ino)
                fresh = _read_all(fd, done.offset)
            finally:
                os.close(fd)
            whole = fresh.rfind(b"\n") + 1  # what follows the last newline may still be being written
            found: list[str] = []
            done = done.add(
                _parse(fresh[:whole], self.path, found, first=done.lines + 1), found, fresh[:whole]
            )
            self._read = done
            skipped += done.skipped
            # A last line without its newline is read if it is whole; else it may still be being written (by
            # another thread or process): not corrupt until a newline follows it.
            tail = _parse(fresh[whole:], self.path, [], first=done.lines + 1)
            return [*done.records, *tail]

    def _read_rotated(self, path: Path, skipped: list[str], skip: set[bytes]) -> list[JournalRecord]:
        try:
            raw = self._read_bytes(path)
        except FileNotFoundError:
            return []  # a reader racing a rotation that numbered a new file; nothing is lost
        except OSError as exc:
            skipped.append(f"cannot read the rotated journal {path}: {_reason(exc)}")
            return []
        return _parse(raw, path, skipped, skip=skip, cut_tail=True)

    def _read_bytes(self, path: Path) -> bytes:
        """The file's bytes; a device (/dev/zero), a pipe or a directory is refused before it is read."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except IsADirectoryError:
            raise JournalPathError(f"The journal path {path} is a directory, not a regular file.") from None
        try:
            _require_regular(path, os.fstat(fd))
            with os.fdopen(os.dup(fd), "rb") as stream:
                return stream.read()
        finally:
            os.close(fd)

    def operations(self, *, rotated: bool = False) -> list[tuple[JournalRecord, JournalRecord | None]]:
        """(intent, its latest outcome or None) for every operation, oldest first; with `rotated`, also those
        of the rotated files (the whole history)."""
        return _operations(self.records(rotated=rotated))

    def pending(self) -> list[JournalRecord]:
        """Intents without an outcome whose writer is gone: calls whose result nobody will record."""
        return [intent for intent in self._open_intents() if not self._in_flight(intent)]

    def in_flight(self) -> list[JournalRecord]:
        """Intents without an outcome yet whose writer (another process, or a job here) is still running."""
        return [intent for intent in self._open_intents() if self._in_flight(intent)]

    def _open_intents(self) -> list[JournalRecord]:
        return [intent for intent, outcome in self.operations() if outcome is None]

    def _in_flight(self, intent: JournalRecord) -> bool:
        owner = intent.owner
        if owner is None:
            return False  # written before intents named their owner
        if owner == self.owner:
            return intent.operation_id in _OPEN_HERE
        if owner.host != self.owner.host:
            return self._clock() - _epoch(intent.at) < _OTHER_HOST_AGE
        return owner.is_alive()

    @contextlib.contextmanager
    def reconciling(self) -> Iterator[None]:
        """Hold the journal's reconcile lock (a file beside it) so that no other process settles the same
        intents at the same time. Read `pending()` again inside."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalPathError(
                f"Cannot open the journal's lock file {lock_path}: {_reason(exc)}."
            ) from None
        try:
            _lock_file(fd)
            yield
        finally:
            os.close(fd)

    def last_detach(
        self, disk_id: str | None = None, *, rotated: bool = False
    ) -> tuple[JournalRecord, JournalRecord] | None:
        """The most recent DetachDisk that took effect (intent, outcome), optionally for one disk. With
        `rotated`, the rotated files are searched too, newest first, until one has it (undo)."""
        found = _last_detach(self.operations(), disk_id)
        if found is not None or not rotated:
            return found
        skipped: list[str] = []
        for path in reversed(self.rotated_paths()):
            found = _last_detach(_operations(self._read_rotated(path, skipped, set())), disk_id)
            if found is not None:
                break
        for message in skipped:
            warnings.warn(message, JournalWarning, stacklevel=2)
        return found

    def stopped_by_us(self, instance_id: str) -> JournalRecord | None:
        """The StopInstance (intent) that stopped `instance_id` and was not followed by a StartInstance that
        took effect: an instance an earlier run (perhaps killed) left Stopped. None if there is none."""
        stop: JournalRecord | None = None
        for intent, outcome in self.operations():
            if intent.instance_id != instance_id or outcome is None or not outcome.succeeded:
                continue
            if intent.action == "StopInstance":
                stop = intent
            elif intent.action == "StartInstance":
                stop = None
        return stop

    # -- rotating -------------------------------------------------------------------------------------------

    @property
    def _file(self) -> Path:
        """The journal's file itself: a rotation replaces the file a symbolic link points at, not the link."""
        return Path(os.path.realpath(self.path))

    def rotated_paths(self) -> list[Path]:
        """The rotated files beside the journal (``journal.000001.jsonl``, ...), oldest first."""
        return [path for _, path in self._numbered()]

    def _numbered(self) -> list[tuple[int, Path]]:
        stem, suffix = _name_parts(self._file.name)
        pattern = re.compile(re.escape(stem) + r"\.(\d{6,})" + re.escape(suffix))
        try:
            names = os.listdir(self._file.parent)
        except OSError:
            return []
        numbered = sorted(
            (int(match.group(1)), name) for name in names if (match := pattern.fullmatch(name)) is not None
        )
        return [(number, self._file.with_name(name)) for number, name in numbered]

    def _rotated_path(self, number: int) -> Path:
        stem, suffix = _name_parts(self._file.name)
        return self._file.with_name(f"{stem}.{number:06d}{suffix}")

    def _rotate(self, fd: int) -> None:
        """Move the finished operations of the journal (`fd`, open and locked) to the newest rotated file and
        replace the journal with what stays (`_kept_at_rotation`). Each step is fsynced before the next."""
        raw = _read_all(fd)
        lines = [line + b"\n" for line in raw.split(b"\n") if line.strip()]
        kept = _kept_at_rotation(lines)
        moved = [line for number, line in enumerate(lines) if number not in kept]
        if sum(map(len, moved)) * 2 < len(raw):
            return  # most of it must stay: rotating would only rewrite the file
        self._archive(moved, len(raw))
        self._replace_journal([line for number, line in enumerate(lines) if number in kept])

    def _archive(self, lines: list[bytes], window: int) -> None:
        """Append `lines` to the newest rotated file (a new one when it is full), except those a rotation
        killed before it replaced the journal already put there (they are in its last `window` bytes)."""
        numbered = self._numbered()
        number = numbered[-1][0] if numbered else 1
        if numbered and numbered[-1][1].stat().st_size >= ROTATED_BYTES:
            number += 1
        path = self._rotated_path(number)
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
        try:
            _require_regular(path, os.fstat(fd))
            size = os.fstat(fd).st_size
            tail = os.pread(fd, min(size, window), size - min(size, window))
            if tail and not tail.endswith(b"\n"):  # a rotation killed mid-write: its lines are still in
                cut = tail.rfind(b"\n") + 1  # the journal, so the piece goes and they are written again
                os.ftruncate(fd, size - len(tail) + cut)
                tail = tail[:cut]
            there = set(tail.splitlines(keepends=True))
            _write_all(fd, b"".join(line for line in lines if line not in there))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)

    def _replace_journal(self, lines: list[bytes]) -> None:
        """Write `lines` to a scratch file beside the journal and move it over the journal (atomic)."""
        scratch = self._file.with_name(self._file.name + ".rotating")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK, 0o600)
        try:
            _require_regular(scratch, os.fstat(fd))
            _write_all(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(scratch, self._file)
        _fsync_dir(self._file.parent)

    # -- reconciling ----------------------------------------------------------------------------------------

    def reconcile(
        self,
        client: StateReader,
        *,
        all_profiles: bool = False,
        select: Callable[[JournalRecord], bool] | None = None,
        on_settled: Callable[[JournalRecord, str, str], None] | None = None,
        on_unreadable: Callable[[JournalRecord, EcsError], None] | None = None,
    ) -> list[JournalRecord]:
        """Read the live state for every pending intent and append a reconciled outcome; return them.

        Each intent is read in its own region (`client.with_region`, when the client has it). Intents recorded
        under another profile than the client's are left for that profile (unless `all_profiles`), since
        another account's disks cannot be read here; `select` narrows the intents further. A read that fails
        (network, throttling) leaves the intent pending, to be reconciled later (`on_unreadable` hears of
        it); `on_settled(intent, result, sentence)` hears of each outcome appended. Holds the reconcile lock.
        """
        with self.reconciling():
            appended: list[JournalRecord] = []
            own_profile = str(getattr(client, "profile_name", "") or "")
            for intent in self.pending():
                if not all_profiles and intent.profile and own_profile and intent.profile != own_profile:
                    continue
                if select is not None and not select(intent):
                    continue
                try:
                    disk, instance = read_for_reconcile(_reader_for(client, intent.region), intent)
                except EcsError as exc:
                    if on_unreadable is not None:
                        on_unreadable(intent, exc)
                    continue
                result, message = classify(intent, disk, instance)
                appended.append(self.outcome(intent, result, message=message, reconciled=True))
                if on_settled is not None:
                    on_settled(intent, result, message)
            return appended


def read_for_reconcile(reader: StateReader, intent: JournalRecord) -> tuple[Disk | None, Instance | None]:
    """What settling `intent` reads: its disk (if it names one) and, for an action whose judging reads it
    (StopInstance, StartInstance: `actions.MUTATING`), its instance; None for one that is not found. Any other
    read error is raised."""
    disk: Disk | None = None
    instance: Instance | None = None
    if intent.disk_id:
        try:
            disk = reader.get_disk(intent.disk_id)
        except NotFoundError:
            disk = None
    known = MUTATING.get(intent.action)
    if intent.instance_id and known is not None and known.reads_instance:
        try:
            instance = reader.get_instance(intent.instance_id)
        except NotFoundError:
            instance = None
    return disk, instance


def _kept_at_rotation(lines: list[bytes]) -> set[int]:
    """Which of the journal's `lines` (their indexes) stay in it at a rotation: those of operations without
    an outcome; of an instance our stop left Stopped (the stop and what followed on that instance, as
    `Journal.stopped_by_us` and the plan read them); of a system disk we detached and did not attach back
    (what keeps an instance from being started); and lines of a newer schema (this version cannot judge
    them). Corrupt lines go with the finished ones."""
    keep: set[int] = set()
    records: list[JournalRecord] = []
    line_ops: list[str] = []
    for number, line in enumerate(lines):
        try:
            record = JournalRecord.from_json(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            if _newer_schema(line):
                keep.add(number)
            line_ops.append("")
            continue
        records.append(record)
        line_ops.append(record.operation_id)
    live = _live_operations(_operations(records))
    return keep | {number for number, op in enumerate(line_ops) if op and op in live}


def _live_operations(operations: list[tuple[JournalRecord, JournalRecord | None]]) -> set[str]:
    live = {intent.operation_id for intent, outcome in operations if outcome is None}
    since_stop: dict[str, list[str]] = {}  # instance: our stop that took effect, and the operations after it
    system_detached: dict[tuple[str, str], str] = {}  # (instance, system disk): our detach that took effect
    for intent, outcome in operations:
        instance_id, op = intent.instance_id, intent.operation_id
        took_effect = outcome is not None and outcome.succeeded
        if took_effect and intent.action == "StopInstance":
            since_stop[instance_id] = [op]
        elif took_effect and intent.action == "StartInstance":
            since_stop.pop(instance_id, None)
        elif instance_id in since_stop:
            since_stop[instance_id].append(op)
        if took_effect and intent.action == "DetachDisk" and intent.context.get("disk_type") == "system":
            system_detached[(instance_id, intent.disk_id)] = op
        elif took_effect and intent.action == "AttachDisk":
            system_detached.pop((instance_id, intent.disk_id), None)
    return live | {op for ops in since_stop.values() for op in ops} | set(system_detached.values())


def _operations(records: list[JournalRecord]) -> list[tuple[JournalRecord, JournalRecord | None]]:
    intents: dict[str, JournalRecord] = {}
    outcomes: dict[str, JournalRecord] = {}
    for record in records:
        if record.kind == INTENT:
            intents.setdefault(record.operation_id, record)
        else:
            outcomes[record.operation_id] = record
    return [(intent, outcomes.get(op)) for op, intent in intents.items()]


def took_effect(
    operations: Iterable[tuple[JournalRecord, JournalRecord | None]], operation_ids: Collection[str]
) -> list[JournalRecord]:
    """The intents among `operation_ids` whose latest outcome in `operations` (`Journal.operations`) says
    they took effect, oldest first: what a run's undo can take back."""
    return [
        intent
        for intent, outcome in operations
        if intent.operation_id in operation_ids and outcome is not None and outcome.succeeded
    ]


def _last_detach(
    operations: list[tuple[JournalRecord, JournalRecord | None]], disk_id: str | None
) -> tuple[JournalRecord, JournalRecord] | None:
    found: tuple[JournalRecord, JournalRecord] | None = None
    for intent, outcome in operations:
        if intent.action != "DetachDisk" or outcome is None or not outcome.succeeded:
            continue
        if disk_id is None or intent.disk_id == disk_id:
            found = (intent, outcome)
    return found


@dataclass(frozen=True, slots=True)
class _ReadSoFar:
    """What a journal has read of its file (the whole lines up to `offset`), so that the next read parses
    only what was appended since."""

    device: int = -1
    inode: int = -1
    offset: int = 0
    lines: int = 0
    records: tuple[JournalRecord, ...] = ()
    skipped: tuple[str, ...] = ()
    last_line: bytes = b""  # the bytes of the last line read, which end at `offset`

    def add(self, records: list[JournalRecord], skipped: list[str], raw: bytes) -> _ReadSoFar:
        if not raw:
            return self
        return replace(
            self,
            last_line=raw[raw.rfind(b"\n", 0, len(raw) - 1) + 1 :],
            offset=self.offset + len(raw),
            lines=self.lines + raw.count(b"\n"),
            records=self.records + tuple(records),
            skipped=self.skipped + tuple(skipped),
        )


def _parse(
    raw: bytes,
    path: Path,
    skipped: list[str],
    *,
    skip: set[bytes] | None = None,
    cut_tail: bool = False,
    first: int = 1,
) -> list[JournalRecord]:
    """The records of a journal file's bytes (line numbers from `first`); `skipped` hears of each corrupt
    line. `skip`: lines not to read; `cut_tail`: an unfinished last line is left out silently (a rotated
    file a rotation is writing, or one it was killed writing: those records are still in the journal)."""
    lines = raw.split(b"\n")
    if cut_tail:
        lines[-1] = b""
    records: list[JournalRecord] = []
    for number, line in enumerate(lines, first):
        if not line.strip() or (skip is not None and line in skip):
            continue
        try:
            records.append(JournalRecord.from_json(line.decode("utf-8"), number))
        except (ValueError, UnicodeDecodeError) as exc:
            skipped.append(f"{path}:{number}: skipped a corrupt journal line ({exc})")
    return records


def _newer_schema(line: bytes) -> bool:
    try:
        data = json.loads(line)
    except ValueError:
        return False
    version = data.get("v") if isinstance(data, dict) else None
    return isinstance(version, int) and version > FORMAT_VERSION


def _require_regular(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise JournalPathError(f"The journal path {path} is {what}, not a regular file.")


def _name_parts(name: str) -> tuple[str, str]:
    """``journal.jsonl`` -> (``journal``, ``.jsonl``): a rotated file's number goes between them."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, dot + suffix) if stem else (name, "")


def _read_all(fd: int, offset: int = 0) -> bytes:
    chunks: list[bytes] = []
    while chunk := os.pread(fd, 1 << 16, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a directory; the rename still holds
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_OPEN_HERE: set[str] = set()  # operation ids whose intent this process wrote and whose outcome it has not


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _lock_file(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "not writable (" + (exc.strerror or "permission denied").lower() + ")"
    return (exc.strerror or str(exc)).lower()


def _epoch(iso: str) -> float:
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0


def _reader_for(client: StateReader, region: str) -> StateReader:
    current = getattr(client, "region_id", None)
    with_region = getattr(client, "with_region", None)
    if region and current and region != current and callable(with_region):
        other: StateReader = with_region(region)
        return other
    return client


def classify(intent: JournalRecord, disk: Disk | None, instance: Instance | None) -> tuple[str, str]:
    """Did the call `intent` records take effect, judging by the live state? (result, sentence)."""
    return judge(intent.action, intent.disk_id, intent.instance_id, disk, instance)
