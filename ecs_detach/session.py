"""One way to get a ready client, shared by the CLI, the TUI and the notebooks::

    from ecs_detach.session import open_client

    with open_client(demo=True) as session:          # the in-process emulator and its demo fleet
        session.client.list_disks()
        session.emulator.advance(60)                  # demo only: move the emulator's time

    session = open_client(profile="prod", region="cn-shanghai", read_only=True)

With ``demo=True`` the emulator is built in-process (imported only then) and the client signs with its
demo key; ``demo=True`` with an ``endpoint`` talks to an emulator served elsewhere (``ecs-detach emulator``)
with the same key. Otherwise credentials are resolved (``ecs_detach.credentials.resolve``) and a
``CredentialsError`` says what is missing; the endpoint is ``endpoint``, else the profile's, else
``ALIBABA_CLOUD_ENDPOINT``, else the region's public one. A protected profile or region starts read-only;
:meth:`Session.arm_writes` lifts that when the profile name is typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from ecs_detach.errors import ReadOnlyError

if TYPE_CHECKING:
    from ecs_detach.client import AsyncEcsClient, EcsClient
    from ecs_detach.detach.facts import FactsSource
    from ecs_detach.detach.results import CancelToken
    from ecs_detach.emulator import Emulator

__all__ = ["Session", "open_client"]


@dataclass
class Session:
    """A client with everything the faces show about it: where it points, as whom, and in which mode."""

    client: EcsClient
    profile_name: str | None
    region_id: str
    endpoint: str
    masked_key_id: str
    demo: bool
    read_only: bool
    protected: bool
    async_client_factory: Callable[..., AsyncEcsClient] = field(repr=False)
    source: str = ""
    protected_by: str = ""  # why the session started read-only, in words ("" when not protected)
    emulator: Emulator | None = None
    _owned: EcsClient | None = field(default=None, repr=False)

    def async_client(self, **overrides: Any) -> AsyncEcsClient:
        """A new ``AsyncEcsClient`` on the same endpoint, key and mode (close it with ``aclose()``)."""
        return self.async_client_factory(**{"read_only": self.read_only, **overrides})

    @property
    def arm_name(self) -> str:
        """What an operator types to arm writes: the profile name (or the region, for env credentials)."""
        return self.profile_name or self.region_id

    def arm_writes(self, typed: str) -> None:
        """Leave read-only mode once the operator has typed :attr:`arm_name`; refuse otherwise."""
        if typed.strip() != self.arm_name:
            raise ReadOnlyError(f"arming writes (type {self.arm_name!r} to confirm)")
        self.read_only = False
        self.client = self.client.with_read_only(False)

    # -- the runtime every face asks for: facts, time, a client per region ---------------------------------

    @property
    def facts_source(self) -> FactsSource:
        """What the API does not expose: the in-process emulator's knobs, a served emulator's (its control
        API, ``--demo --endpoint``), else None (those rules are "unknown, the API decides")."""
        from ecs_detach.detach.facts import emulator_facts, served_emulator_facts

        if self.emulator is not None:
            return emulator_facts(self.emulator)
        if self.demo:
            return served_emulator_facts(self.endpoint)
        return None

    @property
    def clock(self) -> Callable[[], float] | None:
        """The runs' clock: the in-process emulator's (virtual time), else None (the wall clock)."""
        return self.emulator.now if self.emulator is not None else None

    def sleeper(self, cancel: CancelToken | None = None) -> Callable[[float], object] | None:
        """How a run waits: None on a real account or a served emulator (real time, on the run's cancel
        token); on the in-process emulator its clock's time: a manual clock moves forward (unless `cancel`
        is cancelled), a scaled one waits the scaled real time on `cancel`."""
        emulator = self.emulator
        if emulator is None:
            return None
        clock = emulator.clock
        if hasattr(clock, "advance"):  # a manual clock: move virtual time, no real waiting
            if cancel is None:
                return emulator.advance

            def advance(seconds: float) -> None:
                if not cancel.cancelled:
                    emulator.advance(seconds)

            return advance
        from ecs_detach.detach.results import CancelToken

        token = cancel if cancel is not None else CancelToken()
        immediate = getattr(clock, "immediate", False)
        scale = 1000.0 if immediate else float(getattr(clock, "scale", 1.0) or 1.0)

        def scaled(seconds: float) -> None:
            token.wait(seconds / scale)

        return scaled

    def client_for(self, region_id: str | None) -> EcsClient:
        """The session's client, aimed at `region_id` (an all-regions view acts in each disk's region)."""
        if not region_id or region_id == self.client.region_id:
            return self.client
        return self.client.with_region(region_id)

    def describe(self) -> str:
        """One line for a banner or a notebook: mode, region, endpoint and masked key."""
        mode = "DEMO (emulator)" if self.demo else f"profile {self.profile_name or '(environment)'}"
        flags = [flag for flag, on in (("read-only", self.read_only), ("protected", self.protected)) if on]
        suffix = f" [{', '.join(flags)}]" if flags else ""
        return f"{mode} · {self.region_id} · {self.endpoint} · key {self.masked_key_id}{suffix}"

    def close(self) -> None:
        (self._owned or self.client).close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_client(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    demo: bool = False,
    read_only: bool = False,
    clock: Any = None,
    fleet: str | Path | Mapping[str, Any] = "demo",
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Session:
    """Build the session the CLI, the TUI and the notebooks share (see the module docstring)."""
    from ecs_detach.client import AsyncEcsClient, EcsClient

    if demo:
        from ecs_detach.client import emulator_credentials
        from ecs_detach.emulator import DEFAULT_REGION, Emulator

        region_id = region or DEFAULT_REGION
        credentials = emulator_credentials()
        emulator: Emulator | None = None
        if endpoint:
            client = EcsClient(
                credentials, region_id, endpoint=endpoint, read_only=read_only, profile_name="demo"
            )

            def make_async(**kw: Any) -> AsyncEcsClient:
                return AsyncEcsClient(credentials, region_id, endpoint=endpoint, profile_name="demo", **kw)

            source = f"emulator at {client.endpoint}"
        else:
            emulator = Emulator(fleet=fleet, clock=clock) if clock is not None else Emulator(fleet=fleet)
            built = emulator

            client = EcsClient.for_emulator(built, region_id, read_only=read_only)

            def make_async(**kw: Any) -> AsyncEcsClient:
                return AsyncEcsClient.for_emulator(built, region_id, **kw)

            source = "in-process emulator"
        return Session(
            client=client,
            profile_name="demo",
            region_id=region_id,
            endpoint=client.endpoint,
            masked_key_id=credentials.masked_key_id,
            demo=True,
            read_only=read_only,
            protected=False,
            source=source,
            emulator=emulator,
            async_client_factory=make_async,
            _owned=client,
        )

    from ecs_detach.credentials import resolve

    config = resolve(profile, region, env=env, home=home)
    # A provider (RAM role, instance role, OIDC, URI) is asked once now, so that a failing STS or metadata
    # call is one CredentialsError here, before any client, worker or screen exists.
    config.credentials.current()
    if not endpoint and config.endpoint:
        from ecs_detach.endpoints import normalize_endpoint

        try:
            endpoint = normalize_endpoint(config.endpoint)
        except ValueError as exc:
            raise ValueError(f"{exc} (set by {config.endpoint_source})") from None
    locked = read_only or config.protected
    real = EcsClient(
        config.credentials,
        config.region_id,
        endpoint=endpoint,
        read_only=locked,
        profile_name=config.profile_name,
    )

    def make_real_async(**kw: Any) -> AsyncEcsClient:
        return AsyncEcsClient(
            config.credentials, config.region_id, endpoint=endpoint, profile_name=config.profile_name, **kw
        )

    return Session(
        client=real,
        profile_name=config.profile_name,
        region_id=config.region_id,
        endpoint=real.endpoint,
        masked_key_id=config.masked_key_id,
        demo=False,
        read_only=locked,
        protected=config.protected,
        protected_by=config.protected_by,
        source=config.source,
        async_client_factory=make_real_async,
        _owned=real,
    )
