"""ecs-detach's own settings: ``$XDG_CONFIG_HOME/ecs-detach/config.toml`` (else ``~/.config/ecs-detach/``).

The aliyun CLI rewrites ``~/.aliyun/config.json`` from its own structure (``configure``, ``switch``, token
refreshes), so a key ecs-detach keeps there can vanish; this file is ecs-detach's alone::

    journal = "~/ops/ecs-detach-journal.jsonl"   # the default journal (--journal still wins)
    theme = "textual-light"                       # the TUI's theme
    protected_regions = ["cn-shanghai"]           # every profile starts read-only there

    [profiles.prod]
    protected = true                              # this profile starts read-only everywhere

    [profiles.staging]
    protected_regions = ["cn-beijing"]            # read-only only in these regions

``[profiles.env]`` stands for credentials from environment variables. Unknown keys and wrong types are
errors (a misspelt ``protected`` must not silently leave a profile unprotected); so is a file that is not
valid TOML, with its line and column.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_detach.errors import EcsError

__all__ = ["ConfigError", "ProfileSettings", "UserConfig", "config_path", "load_config", "shown_path"]

_TOP_KEYS = ("journal", "theme", "protected_regions", "profiles")
_PROFILE_KEYS = ("protected", "protected_regions")


class ConfigError(EcsError):
    """``config.toml`` is not valid: which file, where, and what to change (bad usage: exit 2)."""

    kind = "Config"

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message, remedy=remedy or "Fix the file (or move it away) and run again.")


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    protected: bool = False
    protected_regions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UserConfig:
    """What ``config.toml`` says; every field empty when there is no file."""

    path: Path | None = None
    journal: Path | None = None
    theme: str | None = None
    protected_regions: frozenset[str] = frozenset()
    profiles: Mapping[str, ProfileSettings] = field(default_factory=dict)
    shown_path: str = "config.toml"  # the path as messages show it (``~/...``)

    def protects(self, profile: str | None, region: str) -> str:
        """Why ``profile`` (None: env credentials) in ``region`` starts read-only ("" if it does not)."""
        name = profile or "env"
        settings = self.profiles.get(name, ProfileSettings())
        where = self.shown_path
        if settings.protected:
            return f"profile {name!r} is protected in {where}"
        if region in settings.protected_regions:
            return f"profile {name!r} is protected in region {region} in {where}"
        if region in self.protected_regions:
            return f"region {region} is protected in {where}"
        return ""


def config_path(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Where the file is looked for: ``$XDG_CONFIG_HOME/ecs-detach/config.toml``, else under ``~/.config``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base).expanduser() if base else (home or Path.home()) / ".config"
    return root / "ecs-detach" / "config.toml"


def shown_path(path: Path, home: Path | None = None) -> str:
    """``path`` as messages show it: under the home directory as ``~/...``."""
    try:
        return "~/" + str(path.relative_to(home or Path.home()))
    except ValueError:
        return str(path)


def load_config(env: Mapping[str, str] | None = None, home: Path | None = None) -> UserConfig:
    """Read ``config.toml`` (an empty ``UserConfig`` when there is none); raise ``ConfigError`` when it is
    not valid."""
    path = config_path(env, home)
    if not path.is_file():
        return UserConfig()
    shown = shown_path(path, home)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {shown}: {type(exc).__name__}") from None
    return _parse(data, path, shown)


def _unknown(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known keys: {', '.join(known)})")


def _regions(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ConfigError(f'{where} must be a list of region ids, e.g. ["cn-shanghai"]')
    return frozenset(item.strip() for item in value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string")
    return value.strip()


def _parse(data: Mapping[str, Any], path: Path, shown: str) -> UserConfig:
    _unknown(data, _TOP_KEYS, shown)
    journal = theme = None
    if "journal" in data:
        journal = Path(_text(data["journal"], f"{shown}: journal")).expanduser()
    if "theme" in data:
        theme = _text(data["theme"], f"{shown}: theme")
    regions = (
        _regions(data["protected_regions"], f"{shown}: protected_regions")
        if "protected_regions" in data
        else frozenset()
    )
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise ConfigError(f"{shown}: profiles must be tables, e.g. [profiles.prod]")
    profiles: dict[str, ProfileSettings] = {}
    for name, table in raw_profiles.items():
        where = f"{shown}: [profiles.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table with protected = true / false")
        _unknown(table, _PROFILE_KEYS, where)
        protected = table.get("protected", False)
        if not isinstance(protected, bool):
            raise ConfigError(f"{where}: protected must be true or false (without quotes)")
        own = (
            _regions(table["protected_regions"], f"{where} protected_regions")
            if "protected_regions" in table
            else frozenset()
        )
        profiles[str(name)] = ProfileSettings(protected=protected, protected_regions=own)
    return UserConfig(
        path=path,
        journal=journal,
        theme=theme,
        protected_regions=regions,
        profiles=profiles,
        shown_path=shown,
    )
