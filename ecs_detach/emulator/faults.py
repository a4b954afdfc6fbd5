"""Seeded, reproducible faults: the failures a real network and a real gateway produce, on demand.

A :class:`FaultPlan` says how often (``rate``), which kinds, for which actions, from which ``seed``; the
same plan and the same sequence of calls give the same faults. ``latency_ms`` adds a fixed delay to every
reply of the chosen actions, whatever the rate (the benchmark uses it to add 50 ms to each response).

Kinds:

``internal_error``          500 ``InternalError``, the action not applied
``service_unavailable``     503 ``ServiceUnavailable``, not applied
``throttling``              400 ``Throttling``, not applied (a plain client error to the SDK)
``throttling_retry_after``  429 ``Throttling.User`` + ``x-acs-retry-after`` (ms): SDK ThrottlingException
``reset``                   the connection drops before the action is applied
``lost_response``           the action is applied, then the connection drops: the caller never sees the reply
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ERROR_KINDS = ("internal_error", "service_unavailable", "throttling", "throttling_retry_after")
CONNECTION_KINDS = ("reset", "lost_response")
FAULT_KINDS = ERROR_KINDS + CONNECTION_KINDS
DEFAULT_KINDS = ERROR_KINDS

_ALIASES = {
    "InternalError": "internal_error",
    "ServiceUnavailable": "service_unavailable",
    "Throttling": "throttling",
    "Throttling.User": "throttling_retry_after",
    "connection_reset": "reset",
    "lost": "lost_response",
    "response_lost": "lost_response",
}


class FaultPlanError(ValueError):
    """A fault plan that cannot be used; the message says which field and what is accepted."""


@dataclass(frozen=True)
class FaultPlan:
    rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_KINDS
    actions: tuple[str, ...] = ()  # empty: every action
    seed: int = 0
    latency_ms: float = 0.0
    retry_after_ms: int = 100

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise FaultPlanError("rate must be a number from 0 to 1")
        if not self.kinds:
            raise FaultPlanError(f"kinds must name at least one of: {', '.join(FAULT_KINDS)}")
        unknown = [kind for kind in self.kinds if kind not in FAULT_KINDS]
        if unknown:
            raise FaultPlanError(f"unknown fault kind {unknown[0]!r}; known kinds: {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.latency_ms <= 60_000:
            raise FaultPlanError("latency_ms must be a number from 0 to 60000")
        if not 1 <= self.retry_after_ms <= 120_000:
            raise FaultPlanError("retry_after_ms must be an integer from 1 to 120000")

    @classmethod
    def build(
        cls,
        *,
        rate: float = 0.0,
        kinds: Iterable[str] | None = None,
        actions: Iterable[str] | None = None,
        seed: int = 0,
        latency_ms: float = 0.0,
        retry_after_ms: int = 100,
    ) -> FaultPlan:
        if isinstance(kinds, str) or isinstance(actions, str):
            raise FaultPlanError("kinds and actions must be lists of names")
        chosen = DEFAULT_KINDS if kinds is None else tuple(_ALIASES.get(kind, kind) for kind in kinds)
        return cls(
            rate=_number(rate, "rate"),
            kinds=chosen,
            actions=tuple(actions or ()),
            seed=_integer(seed, "seed"),
            latency_ms=_number(latency_ms, "latency_ms"),
            retry_after_ms=_integer(retry_after_ms, "retry_after_ms"),
        )

    @classmethod
    def from_json(cls, document: Any) -> FaultPlan:
        """A plan from the control API's JSON body; unknown fields are refused, not ignored."""
        if not isinstance(document, Mapping):
            raise FaultPlanError('the body must be a JSON object, e.g. {"rate": 0.2, "seed": 7}')
        allowed = {"rate", "kinds", "actions", "seed", "latency_ms", "retry_after_ms"}
        extra = sorted(set(document) - allowed)
        if extra:
            raise FaultPlanError(f"unknown field {extra[0]!r}; fields: {', '.join(sorted(allowed))}")
        for name in ("kinds", "actions"):
            value = document.get(name)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                raise FaultPlanError(f"{name} must be a list of strings")
        return cls.build(**dict(document))

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "actions": list(self.actions),
            "seed": self.seed,
            "latency_ms": self.latency_ms,
            "retry_after_ms": self.retry_after_ms,
        }

    def applies_to(self, action: str) -> bool:
        return not self.actions or action in self.actions


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultPlanError(f"{name} must be a number")
    return float(value)


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultPlanError(f"{name} must be an integer")
    return value


class FaultInjector:
    """Draws faults from a plan's seeded generator; thread-safe, so concurrent calls still draw one by one."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._random = random.Random(self._plan.seed)
        self.injected = 0

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)
            self.injected = 0

    def clear(self) -> None:
        self.set_plan(FaultPlan())

    def draw(self, action: str) -> str | None:
        """The fault for this call of ``action``, or None."""
        with self._lock:
            plan = self._plan
            if plan.rate <= 0.0 or not plan.applies_to(action):
                return None
            if self._random.random() >= plan.rate:
                return None
            self.injected += 1
            return self._random.choice(plan.kinds)

    def latency(self, action: str) -> float:
        """Seconds to add to this reply."""
        plan = self._plan
        if plan.latency_ms <= 0.0 or not plan.applies_to(action):
            return 0.0
        return plan.latency_ms / 1000.0
