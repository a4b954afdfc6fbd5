"""What our own programs (the `ecs-detach` command and the TUI) do first; the library never calls it."""

from __future__ import annotations

import sys


def skip_httpx_cli() -> None:
    """Keep `import httpx` from importing httpx's own command line tool.

    httpx's `__init__` imports `httpx._main` (click, rich.progress, pygments) whenever those are installed,
    and Textual and uvicorn install them: 30 to 90 ms of every start here (encode/httpx PR #3547 moves it
    out). Marked absent, the import fails and httpx keeps its stub `main`; nothing of ours uses httpx's
    CLI. A program that has already imported httpx is left as it is.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "absent" to import
