"""The emulator for other people's tests: served handles, ``mock_ecs()``, and what the pytest plugin yields.

```python
from ecs_detach.emulator import mock_ecs

with mock_ecs() as ecs:                        # served on a free loopback port, manual clock
    config = Config(access_key_id=ecs.credentials.access_key_id,
                    access_key_secret=ecs.credentials.access_key_secret,
                    endpoint=ecs.endpoint, protocol="http", region_id=ecs.credentials.region_id)
    ...                                        # the official SDK, the aliyun CLI, anything that speaks HTTP
    ecs.advance(60); ecs.requests; ecs.reset("demo")
```

:class:`EcsEmulator` runs in this process (its state is at hand: ``.emulator``, ``.state()``);
:class:`EcsEmulatorServer` is a separate process (``ecs-detach emulator``) driven through the control API,
for SDKs in other languages or a process boundary. Both have the same surface: ``url``, ``endpoint``,
``credentials``, ``reset(fleet)``, ``advance(seconds)``, ``requests``, ``state()``, ``set_faults(...)``,
``clear_faults()``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ecs_detach.emulator import (
    DEFAULT_REGION,
    EMULATOR_ACCESS_KEY_ID,
    EMULATOR_ACCESS_KEY_SECRET,
    Clock,
    Emulator,
    ManualClock,
)

if TYPE_CHECKING:
    from ecs_detach.emulator.server import ServerThread

FleetSource = str | Path | Mapping[str, Any]

# What ``mock_ecs(env=True)`` sets for the duration: the credential chain of the official SDKs, and the
# endpoint variable ecs-detach itself reads.
ENV_VARS = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABA_CLOUD_ENDPOINT",
)
_START_TIMEOUT = 30.0
_STDERR_KEPT = 16 * 1024
"""How much of the server's stderr is kept (its end) for the message when it does not start."""


@dataclass(frozen=True)
class Credentials:
    """The access key the emulator accepts, and its default region (the secret is masked in the repr)."""

    access_key_id: str = EMULATOR_ACCESS_KEY_ID
    access_key_secret: str = field(default=EMULATOR_ACCESS_KEY_SECRET, repr=False)
    region_id: str = DEFAULT_REGION


class EcsEmulator:
    """An :class:`~ecs_detach.emulator.Emulator` in this process, served over HTTP on a free loopback port."""

    def __init__(self, fleet: FleetSource = "demo", clock: Clock | None = None) -> None:
        self.emulator = Emulator(fleet=fleet, clock=clock if clock is not None else ManualClock())
        self._server: ServerThread = self.emulator.serve_in_thread()
        self.credentials = Credentials()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.url

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``, what the official SDK's ``Config(endpoint=..., protocol="http")`` takes."""
        return self._server.endpoint

    def reset(self, fleet: FleetSource = "demo", *, keep_faults: bool = False) -> None:
        """A clean start on ``fleet``: state, request log, rate limits and (unless kept) faults."""
        self.emulator.reset(fleet, keep_faults=keep_faults)

    def advance(self, seconds: float) -> float:
        """Move the emulator's time forward: detaches, stops and starts that fall due complete."""
        return self.emulator.advance(seconds)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The API calls received, oldest first (action, params without secrets, status, code, ...)."""
        return self.emulator.requests

    def state(self) -> dict[str, Any]:
        """The current state as a fleet file."""
        return self.emulator.state()

    def set_faults(self, **plan: Any) -> None:
        """Inject faults, as ``Emulator.set_faults`` (``rate``, ``kinds``, ``actions``, ``seed``, ...)."""
        self.emulator.set_faults(**plan)

    def clear_faults(self) -> None:
        self.emulator.clear_faults()

    def close(self) -> None:
        self._server.stop()

    def __enter__(self) -> EcsEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EcsEmulator(url={self.url!r})"


class EcsEmulatorServer:
    """``ecs-detach emulator`` in a child process on a free loopback port, driven by its control API."""

    def __init__(self, fleet: FleetSource = "demo", *, time_scale: float = 1.0) -> None:
        self.credentials = Credentials()
        argv = [sys.executable, "-m", "ecs_detach.emulator.server", "--port", "0"]
        argv += ["--time-scale", str(time_scale)]
        if isinstance(fleet, Mapping):
            self._fleet_json: str | None = json.dumps(fleet)
        else:
            self._fleet_json = None
            argv += ["--fleet", str(fleet)]
        self._process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        # Its stderr is read as it comes, so a server that logs a lot never blocks on a full pipe.
        self._stderr = _Tail(self._process.stderr, _STDERR_KEPT, "ecs-emulator-stderr")
        first = self._process.stdout.readline().strip()
        prefix = "emulator listening on "
        if not first.startswith(prefix):
            self._process.kill()
            self._process.wait(timeout=_START_TIMEOUT)
            err = self._stderr.text(timeout=_START_TIMEOUT)
            raise RuntimeError(f"the emulator server did not start: {(first + ' ' + err).strip()}")
        self.url = first.removeprefix(prefix)
        # The rest of its output (the banner, "emulator stopped") is read and dropped, so it never blocks.
        threading.Thread(target=self._process.stdout.read, name="ecs-emulator-stdout", daemon=True).start()
        if self._fleet_json is not None:
            self._control("POST", "/_emulator/reset", self._fleet_json)

    @property
    def endpoint(self) -> str:
        return self.url.removeprefix("http://")

    def _control(self, method: str, path: str, body: str | None = None) -> Any:
        data = body.encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=_START_TIMEOUT) as reply:
            return json.loads(reply.read() or b"null")

    def reset(self, fleet: FleetSource = "demo", *, keep_faults: bool = False) -> None:
        document: Any = dict(fleet) if isinstance(fleet, Mapping) else {"fleet": str(fleet)}
        if keep_faults:
            document = {"fleet": document.get("fleet", document), "keep_faults": True}
        self._control("POST", "/_emulator/reset", json.dumps(document))

    def advance(self, seconds: float) -> float:
        health = self._control("POST", "/_emulator/clock", json.dumps({"advance_seconds": seconds}))
        return float(health["now"])

    @property
    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._control("GET", "/_emulator/requests")["requests"]
        return entries

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self._control("GET", "/_emulator/state")
        return state

    def set_faults(self, **plan: Any) -> None:
        self._control("POST", "/_emulator/faults", json.dumps(plan))

    def clear_faults(self) -> None:
        self._control("DELETE", "/_emulator/faults")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stderr.text(timeout=10)  # read to its end (the process has exited), then closed
        if self._process.stderr is not None:
            self._process.stderr.close()

    def __enter__(self) -> EcsEmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EcsEmulatorServer(url={self.url!r})"


class _Tail:
    """A stream read to its end on a thread, keeping its last `limit` characters (the writer never blocks)."""

    def __init__(self, stream: IO[str], limit: int, name: str) -> None:
        self._chunks: deque[str] = deque()
        self._size = 0
        self._limit = limit
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(stream,), name=name, daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[str]) -> None:
        try:
            while chunk := stream.read(4096):
                with self._lock:
                    self._chunks.append(chunk)
                    self._size += len(chunk)
                    while self._size - len(self._chunks[0]) >= self._limit:
                        self._size -= len(self._chunks.popleft())
        except (OSError, ValueError):  # closed under it: what was read is kept
            pass

    def text(self, timeout: float) -> str:
        """What was kept, once the stream has ended (or after `timeout` seconds, what was kept by then)."""
        self._thread.join(timeout)
        with self._lock:
            kept = "".join(self._chunks)
        return kept[-self._limit :]


@contextmanager
def mock_ecs(
    fleet: FleetSource = "demo", *, clock: Clock | None = None, env: bool = True
) -> Iterator[EcsEmulator]:
    """An emulator served for the duration of a ``with`` block (or a decorated function).

    With ``env`` (the default) the standard variables point at it meanwhile — the access key, the region and
    ``ALIBABA_CLOUD_ENDPOINT`` — and are put back afterwards, so code that builds its client from the
    environment talks to the emulator without a change.
    """
    saved = {name: os.environ.get(name) for name in ENV_VARS}
    with EcsEmulator(fleet, clock) as ecs:
        if env:
            os.environ.update(
                {
                    "ALIBABA_CLOUD_ACCESS_KEY_ID": ecs.credentials.access_key_id,
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ecs.credentials.access_key_secret,
                    "ALIBABA_CLOUD_REGION_ID": ecs.credentials.region_id,
                    "ALIBABA_CLOUD_ENDPOINT": ecs.url,
                }
            )
        try:
            yield ecs
        finally:
            if env:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
