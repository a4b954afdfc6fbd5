"""Shared test configuration."""

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _sigint_raises_keyboard_interrupt() -> Iterator[None]:
    """The tests that press Ctrl-C send a real SIGINT: it gets Python's handler even when the suite was
    started with SIGINT ignored (a background job of a non-interactive shell inherits SIG_IGN, and then
    a SIGINT does nothing and those tests hang or fail). What was there is put back."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
