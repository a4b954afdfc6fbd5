"""From parsed options to a running app: open the session, the journal, and handle missing credentials."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecs_detach.config import ConfigError, UserConfig, load_config
from ecs_detach.errors import CredentialsError, EcsError
from ecs_detach.journal import Journal
from ecs_detach.session import Session, open_client

from .services import Services

DEMO_TIME_SCALE = 6.0
"""In the demo, virtual time runs six times as fast: a one-minute detach takes ten seconds."""


def configured_profiles(home: Path | None = None, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Profile names from the aliyun CLI's config.json and credentials.ini (names only, nothing secret)."""
    home = Path.home() if home is None else home
    env = os.environ if env is None else env
    names: list[str] = []
    try:
        data = json.loads((home / ".aliyun" / "config.json").read_text(encoding="utf-8"))
        for profile in data.get("profiles", []) if isinstance(data, dict) else []:
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    except (OSError, ValueError):
        pass
    ini = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or str(home / ".alibabacloud" / "credentials.ini")
    try:
        for line in Path(ini).expanduser().read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("[") and line.endswith("]") and line[1:-1].strip() not in names:
                names.append(line[1:-1].strip())
    except OSError:
        pass
    return tuple(names)


def services_for(session: Session, *, journal: Journal | None, time_scale: float = 1.0) -> Services:
    """The app's services, asked of the session: its client, facts and clock (the emulator's in demo)."""
    emulator = session.emulator
    services = Services(
        client=session.client,
        profile=session.profile_name or "(environment)",
        demo=session.demo,
        protected=session.protected,
        emulator=emulator,
        facts=session.facts_source,
        journal=journal,
        time_scale=time_scale if emulator is not None else 1.0,
        arm_name=session.arm_name,
    )
    if session.clock is not None:
        services.clock = session.clock
    return services


def open_demo(args: argparse.Namespace) -> Services:
    from ecs_detach.emulator import ScaledClock

    session = open_client(
        demo=True,
        region=args.region,
        endpoint=args.endpoint,
        read_only=args.read_only,
        clock=None if args.endpoint else ScaledClock(DEMO_TIME_SCALE),
    )
    # The demo journals to a scratch file, never to the operator's real journal.
    path = Path(tempfile.mkdtemp(prefix="ecs-detach-demo-")) / "journal.jsonl"
    journal = Journal(path, clock=session.clock) if session.clock is not None else Journal(path)
    return services_for(session, journal=journal, time_scale=DEMO_TIME_SCALE)


def open_account(args: argparse.Namespace, profile: str | None = None) -> Services:
    session = open_client(
        profile=profile or args.profile,
        region=args.region if profile is None else None,
        endpoint=args.endpoint,
        read_only=args.read_only,
    )
    services = services_for(session, journal=Journal(load_config().journal))
    services.profiles = configured_profiles()
    services.reopen = lambda name: open_account(args, name)
    return services


def run(args: argparse.Namespace) -> int:
    from .app import EcsDetachApp
    from .screens.setup import SetupApp

    try:
        settings = load_config()
        services = open_demo(args) if args.demo else open_account(args)
    except ConfigError as error:  # bad usage, as in the CLI: the file and the line, exit 2
        print(f"ecs-detach: {error}\n→ {error.remedy}")
        return 2
    except CredentialsError as error:
        choice = SetupApp(str(error)).run()
        if choice != "demo":
            return 2
        args.demo = True
        services = open_demo(args)
    except EcsError as error:
        print(f"ecs-detach: {error}\n→ {error.remedy}" if error.remedy else f"ecs-detach: {error}")
        return 1
    services.error_log = default_error_log()
    app = EcsDetachApp(services, read_only=args.read_only)
    problem = _apply_theme(app, settings)
    if problem:
        print(problem)
    try:
        result = app.run()
    finally:
        if args.demo:  # the demo's scratch journal goes with the demo's in-process world
            shutil.rmtree(Path(services.journal.path).parent, ignore_errors=True)
    if app.exit_line:
        print(app.exit_line, file=sys.stderr)
    return exit_code(app.return_code, result)


def exit_code(return_code: int | None, result: int | None) -> int:
    """The process's exit code: the app's own when it ended on an error (never 0 after a crash), else the
    result it returned (0 when it returned nothing)."""
    return return_code if return_code else int(result or 0)


def default_error_log(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Where the details of an unexpected error go: ``$XDG_STATE_HOME/ecs-detach/tui-errors.log``."""
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME") or str((Path.home() if home is None else home) / ".local" / "state")
    return Path(state) / "ecs-detach" / "tui-errors.log"


def _apply_theme(app: Any, settings: UserConfig) -> str:
    """config.toml's ``theme``, if Textual knows it; otherwise the default stays, and the message says why."""
    if not settings.theme:
        return ""
    if settings.theme in app.available_themes:
        app.theme = settings.theme
        return ""
    known = ", ".join(sorted(app.available_themes))
    return f"ecs-detach: {settings.shown_path}: unknown theme {settings.theme!r} (known: {known})"
