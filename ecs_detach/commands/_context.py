"""What every subcommand shares: the session (credentials, region, endpoint), the journal, platform facts, the
workflow's time, arming writes on a protected profile, and reconciling the journal's pending calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_detach.commands._console import CommandError, Console
from ecs_detach.commands._parser import UsageError
from ecs_detach.errors import EcsError, ReadOnlyError
from ecs_detach.journal import Journal, JournalRecord
from ecs_detach.workflow import GuestTime

if TYPE_CHECKING:
    from ecs_detach.config import UserConfig
    from ecs_detach.detach.facts import FactsSource
    from ecs_detach.session import Session

__all__ = ["Context", "journal_for", "open_context"]


@dataclass
class Context:
    args: Any
    console: Console
    session: Session
    journal: Journal
    reconciled: list[JournalRecord] = field(default_factory=list)

    @property
    def in_process_demo(self) -> bool:
        return self.session.emulator is not None

    @property
    def client(self) -> Any:
        return self.session.client

    @property
    def facts(self) -> FactsSource:
        """What the API does not expose, as the session knows it (`Session.facts_source`)."""
        return self.session.facts_source

    def guest_time(self) -> GuestTime | None:
        """How a guest read waits for its probe: on the emulator's clock in an in-process demo."""
        clock, sleep = self.session.clock, self.session.sleeper()
        if clock is None or sleep is None:
            return None
        return GuestTime(sleep=sleep, clock=clock)

    def run_kwargs(self) -> dict[str, Any]:
        """Facts and time for the workflow, from the session: in-process demo runs on the emulator's clock."""
        kw: dict[str, Any] = {"facts": self.facts}
        clock = self.session.clock
        if clock is not None:
            kw["clock"] = clock
            kw["sleep"] = self.session.sleeper()
        return kw

    # -- writes ---------------------------------------------------------------------------------------------

    def ensure_writable(self) -> None:
        """Refuse (exit 2) before any request when changes are not allowed; arm a protected profile."""
        session = self.session
        if not session.read_only:
            return
        if self.args.read_only:
            raise CommandError(
                2,
                "read-only mode (--read-only): this command changes things, so nothing was sent",
                "Run it again without --read-only.",
            )
        name = session.arm_name
        why = f" ({session.protected_by})" if session.protected_by else ""
        if not self.console.stdin_is_tty():
            raise CommandError(
                2,
                f"profile {name!r} is protected{why}, so it starts read-only, and arming writes needs its "
                "name typed at a terminal; nothing was sent",
                "Run the command in a terminal and type the profile name when asked.",
            )
        typed = self.console.ask(f"Profile {name!r} is protected (read-only). Type its name to arm writes: ")
        try:
            session.arm_writes(typed or "")
        except ReadOnlyError:
            raise CommandError(2, "writes not armed (the name did not match); nothing was sent") from None
        self.console.note(f"Writes armed for profile {name!r} for this command.")

    # -- the journal ----------------------------------------------------------------------------------------

    def _same_target(self, record: JournalRecord) -> bool:
        client = self.session.client
        return (
            record.profile == str(client.profile_name or "")
            and record.region == self.session.region_id
            and record.endpoint == str(client.endpoint or "")
        )

    def reconcile_pending(self, *, explicit: bool = False) -> list[JournalRecord]:
        """Record what became of calls without an outcome in the journal (this profile, region, endpoint)."""
        if self.in_process_demo:
            if explicit:
                self.console.note(
                    "Demo mode (in-process): the emulator's state is new for this command, so pending "
                    "calls cannot be reconciled here."
                )
            return []
        pending = self.journal.pending()
        mine = [record for record in pending if self._same_target(record)]
        others = len(pending) - len(mine)
        if mine:
            self.console.note(
                f"The journal holds {len(mine)} call(s) without a recorded outcome: "
                "reconciling them against the live state first."
            )

        def unreadable(intent: JournalRecord, exc: EcsError) -> None:
            self.console.note(f"  {intent.action} {intent.operation_id}: cannot read the state now ({exc})")

        def settled(intent: JournalRecord, result: str, sentence: str) -> None:
            self.console.note(f"  {intent.action} {intent.operation_id[:12]}: {result} — {sentence}")

        appended = (
            self.journal.reconcile(
                self.session.client, select=self._same_target, on_settled=settled, on_unreadable=unreadable
            )
            if mine
            else []
        )
        if others:
            self.console.note(
                f"{others} pending journal call(s) belong to another profile, region or endpoint; "
                "reconcile them with `ecs-detach journal --reconcile` and that --profile/--region/--endpoint."
            )
        self.reconciled = appended
        return appended


def journal_for(args: Any) -> Journal:
    """``--journal PATH``, else ``journal`` in config.toml, else the default (demo mode keeps its own file,
    apart from real accounts')."""
    if args.journal:
        return Journal(Path(args.journal).expanduser())
    from ecs_detach.journal import default_journal_path

    if not args.demo:
        configured = user_config().journal
        if configured is not None:
            return Journal(configured)
    return Journal(default_journal_path(demo=bool(args.demo)))


def user_config() -> UserConfig:
    """config.toml, or UsageError (exit 2) naming the file and the line when it is not valid."""
    from ecs_detach.config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as exc:
        raise UsageError(str(exc), exc.remedy) from None


def open_session(args: Any, console: Console, *, read_only: bool = False) -> Session:
    """The session the flags ask for; bad flags or credentials raise before any request is sent."""
    from ecs_detach.session import open_client

    clock: Any = None
    if args.demo and not args.endpoint:
        from ecs_detach.emulator import ManualClock

        clock = ManualClock()  # in-process demo: virtual time, so a one-minute detach takes none
    if args.endpoint:
        from ecs_detach.endpoints import normalize_endpoint

        try:
            normalize_endpoint(args.endpoint)
        except ValueError as exc:
            raise UsageError(str(exc), "Pass --endpoint as http(s)://HOST[:PORT].") from None
    from ecs_detach.config import ConfigError

    try:
        session = open_client(
            profile=args.profile,
            region=args.region,
            endpoint=args.endpoint,
            demo=args.demo,
            read_only=args.read_only or read_only,
            clock=clock,
        )
    except ConfigError as exc:
        raise UsageError(str(exc), exc.remedy) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return session


def open_context(args: Any, console: Console, *, read_only: bool = False, banner: bool = False) -> Context:
    session = open_session(args, console, read_only=read_only)
    if banner or console.stderr_is_tty():
        console.note(f"Using {session.describe()}")
    journal = journal_for(args)
    return Context(args=args, console=console, session=session, journal=journal)
