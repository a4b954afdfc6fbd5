"""Credentials, found in the order of the official default chain, with every secret masked.

Order (``ecs-api.md`` §5):

1. ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (+ ``ALIBABA_CLOUD_SECURITY_TOKEN``);
   skipped when a profile is named explicitly (``--profile``).
2. OIDC (RRSA): ``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` and
   ``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` all set; skipped when a profile is named.
3. aliyun CLI profiles in ``~/.aliyun/config.json``: the explicit profile, else ``ALIBABA_CLOUD_PROFILE``,
   else the file's ``current`` (skipped with ``ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true``).
4. ``~/.alibabacloud/credentials.ini`` (or ``ALIBABA_CLOUD_CREDENTIALS_FILE``): the same profile name, else
   ``[default]``.
5. The ECS instance RAM role (instance metadata), when ``ALIBABA_CLOUD_ECS_METADATA`` names the role (unless
   ``ALIBABA_CLOUD_ECS_METADATA_DISABLED=true``). ecs-detach does not probe the metadata address unasked:
   off ECS that probe costs seconds on every run that has no credentials.
6. ``ALIBABA_CLOUD_CREDENTIALS_URI``.

``ALIBABA_CLOUD_IGNORE_PROFILE=TRUE`` skips both files (3 and 4), as the aliyun CLI does.

Modes ``AK`` / ``StsToken`` (INI ``type = access_key``) are read natively. The others (RamRoleArn,
EcsRamRole, OIDC, CredentialsURI, ChainableRamRoleArn, CloudSSO, OAuth, External; INI ram_role_arn,
ecs_ram_role, oidc_role_arn, rsa_key_pair) go through the ``alibabacloud-credentials`` library, imported only
when such a profile is used (``pip install 'ecs-detach[credentials]'``); see ``credential_providers``.

Region: the ``region`` argument (``--region``), else the profile's ``region_id``, else
``ALIBABA_CLOUD_REGION_ID``, else ``cn-hangzhou``. Endpoint: the profile's ``endpoint`` (config.json), else
``ALIBABA_CLOUD_ENDPOINT`` (``--endpoint`` wins over both, in ``session.open_client``).

**Protected profiles** start read-only (design.md, safety rule 2). A profile is protected when

* ``config.toml`` says so (``[profiles.NAME] protected = true``, or a protected region; see ``config``), or
* its name is listed in ``ECS_DETACH_PROTECTED_PROFILES`` (comma-separated; ``env`` stands for the environment
  variables, ``*`` for everything), or the resolved region in ``ECS_DETACH_PROTECTED_REGIONS``, or
* (deprecated, with a warning) its config.json entry has ``"ecs_detach_protected": true`` (INI:
  ``ecs_detach_protected = true``): the aliyun CLI rewrites that file and may drop the key.

Secrets never appear in a repr, a str or an error message: the key id shows as ``LTAI****Key``.
"""

from __future__ import annotations

import configparser
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ecs_detach import credential_providers as providers
from ecs_detach.errors import CredentialsError

__all__ = [
    "DEFAULT_REGION",
    "CredentialSource",
    "Credentials",
    "CredentialsError",
    "LegacyProtectionWarning",
    "ProviderCredentials",
    "ResolvedConfig",
    "mask_key_id",
    "resolve",
]

DEFAULT_REGION = "cn-hangzhou"
PROTECTED_KEY = "ecs_detach_protected"
PROTECTED_PROFILES_ENV = "ECS_DETACH_PROTECTED_PROFILES"
PROTECTED_REGIONS_ENV = "ECS_DETACH_PROTECTED_REGIONS"
INSTALL_HINT = providers.INSTALL_HINT

_PROFILE_ENV = ("ALIBABA_CLOUD_PROFILE", "ALIBABACLOUD_PROFILE", "ALICLOUD_PROFILE")
_REGION_ENV = ("ALIBABA_CLOUD_REGION_ID", "ALIBABACLOUD_REGION_ID", "ALICLOUD_REGION_ID")
_IGNORE_PROFILE_ENV = ("ALIBABA_CLOUD_IGNORE_PROFILE", "ALIBABACLOUD_IGNORE_PROFILE")
_OIDC_ENV = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
_LIBRARY_CLI_MODES = frozenset(
    {
        "RamRoleArn",
        "EcsRamRole",
        "OIDC",
        "CredentialsURI",
        "ChainableRamRoleArn",
        "CloudSSO",
        "OAuth",
        "External",
    }
)
_LIBRARY_INI_TYPES = frozenset({"ram_role_arn", "ecs_ram_role", "oidc_role_arn", "rsa_key_pair"})


class LegacyProtectionWarning(UserWarning):
    """A profile is protected by the old ``ecs_detach_protected`` key, which the aliyun CLI may drop."""


def mask_key_id(access_key_id: str) -> str:
    """Show an AccessKey id as ``LTAI****Key``: enough to recognise it, not enough to use it.

    >>> mask_key_id("LTAI5tEmulatorDemoKey")
    'LTAI****Key'
    """
    if len(access_key_id) < 10:
        return "****"
    return f"{access_key_id[:4]}****{access_key_id[-3:]}"


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """A static AccessKey (optionally with an STS token). The secret and token never show in a repr."""

    access_key_id: str
    access_key_secret: str = field(compare=False)
    security_token: str = field(default="", compare=False)
    provider: str = "static_ak"

    def current(self) -> Credentials:
        return self

    @property
    def masked_key_id(self) -> str:
        return mask_key_id(self.access_key_id)

    def __repr__(self) -> str:
        sts = ", sts=True" if self.security_token else ""
        return f"Credentials(access_key_id={self.masked_key_id!r}, provider={self.provider!r}{sts})"

    __str__ = __repr__


@runtime_checkable
class CredentialSource(Protocol):
    """Anything that hands out current credentials: a static ``Credentials`` or a refreshing provider."""

    @property
    def provider(self) -> str: ...

    @property
    def masked_key_id(self) -> str: ...

    def current(self) -> Credentials: ...


class ProviderCredentials:
    """Credentials from an ``alibabacloud-credentials`` provider (RAM role, ECS instance role, OIDC, ...).

    The provider refreshes temporary keys itself; ``current()`` asks it for each request.
    """

    def __init__(self, provider: Any, *, label: str, known_key_ids: tuple[str, ...] = ()) -> None:
        self._provider = provider
        self._label = label
        self._known = known_key_ids  # masked wherever the library's messages repeat them
        self._last: Credentials | None = None

    @property
    def provider(self) -> str:
        return self._label

    @property
    def last(self) -> Credentials | None:
        """The credentials handed out last (to scrub them from server messages), if any."""
        return self._last

    @property
    def masked_key_id(self) -> str:
        return self._last.masked_key_id if self._last else f"({self._label})"

    def current(self) -> Credentials:
        try:
            got = self._provider.get_credentials()
            key_id = str(got.get_access_key_id() or "")
            secret = str(got.get_access_key_secret() or "")
            token = str(got.get_security_token() or "")
        except Exception as exc:  # the library raises many types; none may leak a traceback to an operator
            line = providers.scrub_key_ids(f"{type(exc).__name__}: {_first_line(exc)}", *self._known)
            raise CredentialsError(f"could not obtain credentials ({self._label}): {line}") from None
        if not key_id or not secret:
            raise CredentialsError(f"the {self._label} credentials provider returned no AccessKey")
        self._last = Credentials(key_id, secret, token, provider=self._label)
        return self._last

    def __repr__(self) -> str:
        return f"ProviderCredentials({self._label}, access_key_id={self.masked_key_id!r})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


@dataclass(frozen=True, slots=True)
class ResolvedConfig:
    """What ``resolve`` found: credentials, region, profile name, where they came from, and protection."""

    credentials: CredentialSource
    region_id: str
    profile_name: str | None
    source: str
    protected: bool = False
    region_source: str = "default"
    endpoint: str = ""  # the profile's, else ALIBABA_CLOUD_ENDPOINT ("" = the region's public endpoint)
    endpoint_source: str = ""  # where that endpoint was set
    protected_by: str = ""  # why it starts read-only, in words

    @property
    def masked_key_id(self) -> str:
        return self.credentials.masked_key_id


# --- resolution --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    credentials: CredentialSource
    profile_name: str | None
    source: str
    region: str = ""
    protected: bool = False
    endpoint: str = ""


def _first_env(env: Mapping[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return ""


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _display(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def resolve(
    profile: str | None = None,
    region: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> ResolvedConfig:
    """Find credentials and region like the official chain does; raise one ``CredentialsError`` otherwise
    (``config.ConfigError`` when ecs-detach's own ``config.toml`` is not valid)."""
    from ecs_detach.config import config_path, load_config

    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    settings = load_config(env, home)
    explicit = (profile or "").strip() or None
    found = _search(explicit, env, home)

    region_id, region_source = _pick_region(region, found.region, env)
    reasons = [settings.protects(found.profile_name, region_id)]
    if _listed(env, PROTECTED_PROFILES_ENV, found.profile_name or "env"):
        reasons.append(f"profile {found.profile_name or 'env'!r} is listed in {PROTECTED_PROFILES_ENV}")
    if _listed(env, PROTECTED_REGIONS_ENV, region_id):
        reasons.append(f"region {region_id} is listed in {PROTECTED_REGIONS_ENV}")
    if found.protected:
        reasons.append(f"profile {found.profile_name!r} has {PROTECTED_KEY} in {found.source}")
        toml = _display(settings.path or config_path(env, home), home)
        warnings.warn(
            f"profile {found.profile_name!r} is protected by the deprecated {PROTECTED_KEY} key in "
            f"{found.source} (the aliyun CLI rewrites its config file and may drop the key); say it in "
            f"{toml} instead: [profiles.{found.profile_name}] protected = true",
            LegacyProtectionWarning,
            stacklevel=2,
        )
    why = next((reason for reason in reasons if reason), "")
    endpoint = found.endpoint or _first_env(env, ("ALIBABA_CLOUD_ENDPOINT",))
    endpoint_source = (
        f"profile {found.profile_name!r} in {found.source}" if found.endpoint else "ALIBABA_CLOUD_ENDPOINT"
    )
    return ResolvedConfig(
        credentials=found.credentials,
        region_id=region_id,
        profile_name=found.profile_name,
        source=found.source,
        protected=bool(why),
        region_source=region_source,
        endpoint=endpoint,
        endpoint_source=endpoint_source if endpoint else "",
        protected_by=why,
    )


def _search(explicit: str | None, env: Mapping[str, str], home: Path) -> _Found:
    """The first link of the chain that has credentials, and what was checked on the way."""
    wanted = explicit or _first_env(env, _PROFILE_ENV) or None
    checked = ["environment variables (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET): not set"]
    found = None if explicit else _from_env(env) or _oidc_from_env(env)
    cli_path = home / ".aliyun" / "config.json"
    ini_env = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE", "").strip()
    ini_path = Path(ini_env).expanduser() if ini_env else home / ".alibabacloud" / "credentials.ini"
    cli_names: list[str] = []
    ini_names: list[str] = []
    ignore_files = _first_env(env, _IGNORE_PROFILE_ENV).upper() == "TRUE"

    if found is None and ignore_files:
        checked.append("configuration files: ignored (ALIBABA_CLOUD_IGNORE_PROFILE=TRUE)")
    elif found is None:
        if _truthy(env.get("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "")):
            checked.append(f"{_display(cli_path, home)}: disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED")
        elif cli_path.is_file():
            found, cli_names = _from_cli_config(cli_path, wanted, home, env)
            if found is None:
                checked.append(f"{_display(cli_path, home)}: no profile {wanted or '(current)'!r}")
        else:
            checked.append(f"{_display(cli_path, home)}: not found")

    if found is None and not ignore_files:
        if ini_path.is_file():
            found, ini_names = _from_ini(ini_path, wanted or "default", home, env)
            if found is None:
                checked.append(f"{_display(ini_path, home)}: no section [{wanted or 'default'}]")
        elif ini_env:
            raise CredentialsError(
                f"ALIBABA_CLOUD_CREDENTIALS_FILE points to {ini_env}, which does not exist or is not a file"
            )
        else:
            checked.append(f"{_display(ini_path, home)}: not found")

    if found is None and wanted and not ignore_files:
        known = sorted(set(cli_names) | set(ini_names))
        listing = f" (known profiles: {', '.join(known)})" if known else ""
        how = "--profile" if explicit else "ALIBABA_CLOUD_PROFILE"
        raise CredentialsError(f"unknown profile {wanted!r} given by {how}{listing}")
    if found is None and not explicit:
        found = _ecs_role_from_env(env) or _uri_from_env(env)
    if found is None:
        checked.append("ECS instance RAM role: ALIBABA_CLOUD_ECS_METADATA not set")
        checked.append("ALIBABA_CLOUD_CREDENTIALS_URI: not set")
        raise CredentialsError("no credentials found; checked " + "; ".join(checked))
    return found


def _oidc_from_env(env: Mapping[str, str]) -> _Found | None:
    values = {name: env.get(name, "").strip() for name in _OIDC_ENV}
    if not all(values.values()):
        return None
    fields = {
        "ram_role_arn": values["ALIBABA_CLOUD_ROLE_ARN"],
        "oidc_provider_arn": values["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"],
        "oidc_token_file": values["ALIBABA_CLOUD_OIDC_TOKEN_FILE"],
        "role_session_name": env.get("ALIBABA_CLOUD_ROLE_SESSION_NAME", "").strip(),
    }
    provider = providers.oidc_provider(fields, env, "OIDC (ALIBABA_CLOUD_ROLE_ARN ...)")
    return _Found(
        ProviderCredentials(provider, label="env/oidc_role_arn"), None, "OIDC (RRSA) environment variables"
    )


def _ecs_role_from_env(env: Mapping[str, str]) -> _Found | None:
    role = env.get("ALIBABA_CLOUD_ECS_METADATA", "").strip()
    if not role or env.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "").strip().lower() == "true":
        return None
    provider = providers.ecs_role_provider(role, env, f"ALIBABA_CLOUD_ECS_METADATA={role}")
    return _Found(ProviderCredentials(provider, label="ecs_ram_role"), None, f"ECS instance RAM role {role}")


def _uri_from_env(env: Mapping[str, str]) -> _Found | None:
    uri = env.get("ALIBABA_CLOUD_CREDENTIALS_URI", "").strip()
    if not uri:
        return None
    provider = providers.uri_provider(uri, "ALIBABA_CLOUD_CREDENTIALS_URI")
    return _Found(
        ProviderCredentials(provider, label="credentials_uri"), None, "ALIBABA_CLOUD_CREDENTIALS_URI"
    )


def _listed(env: Mapping[str, str], name: str, value: str) -> bool:
    items = {item.strip() for item in env.get(name, "").split(",") if item.strip()}
    return "*" in items or value in items


def _pick_region(flag: str | None, from_profile: str, env: Mapping[str, str]) -> tuple[str, str]:
    if flag and flag.strip():
        return flag.strip(), "flag"
    if from_profile:
        return from_profile, "profile"
    from_env = _first_env(env, _REGION_ENV)
    if from_env:
        return from_env, "env"
    return DEFAULT_REGION, "default"


def _sendable(where: str, **values: str) -> None:
    """Key ids and tokens travel in HTTP headers: printable ASCII only (a stray accent or control character
    from a copy and paste would otherwise fail deep inside the HTTP library). Never shows the value."""
    for name, value in values.items():
        if value and not (value.isascii() and value.isprintable() and " " not in value):
            raise CredentialsError(
                f"{where}: {name} contains a space, a control or a non-ASCII character, which no valid "
                "AccessKey or token has (copy it again)"
            )


def _from_env(env: Mapping[str, str]) -> _Found | None:
    key_id = env.get("ALIBABA_CLOUD_ACCESS_KEY_ID", "").strip()
    secret = env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "").strip()
    token = env.get("ALIBABA_CLOUD_SECURITY_TOKEN", "").strip()
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        present, missing = (
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            if key_id
            else ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_ID")
        )
        raise CredentialsError(f"{present} is set but {missing} is not (set both, or neither)")
    _sendable(
        "environment variables",
        ALIBABA_CLOUD_ACCESS_KEY_ID=key_id,
        ALIBABA_CLOUD_SECURITY_TOKEN=token,
    )
    provider = "env/static_sts" if token else "env/static_ak"
    return _Found(Credentials(key_id, secret, token, provider=provider), None, "environment variables")


def _from_cli_config(
    path: Path, wanted: str | None, home: Path, env: Mapping[str, str]
) -> tuple[_Found | None, list[str]]:
    shown = _display(path, home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CredentialsError(f"{shown} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read {shown}: {type(exc).__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles", []), list):
        raise CredentialsError(f"{shown} is malformed: expected an object with a 'profiles' list")
    profiles = [p for p in data.get("profiles", []) if isinstance(p, dict)]
    names = [str(p.get("name", "")) for p in profiles]
    name = wanted or str(data.get("current") or "") or "default"
    match = next((p for p in profiles if str(p.get("name", "")) == name), None)
    if match is None:
        return None, names
    mode = str(match.get("mode") or "AK")
    where = f"profile {name!r} in {shown}"
    creds: CredentialSource
    if mode in ("AK", "StsToken"):
        key_id = str(match.get("access_key_id") or "").strip()
        secret = str(match.get("access_key_secret") or "").strip()
        token = str(match.get("sts_token") or "").strip()
        missing = [k for k, v in (("access_key_id", key_id), ("access_key_secret", secret)) if not v]
        if mode == "StsToken" and not token:
            missing.append("sts_token")
        if missing:
            raise CredentialsError(f"{where} (mode {mode}) has no {', '.join(missing)}")
        label = "cli_profile/static_sts" if mode == "StsToken" else "cli_profile/static_ak"
        _sendable(where, access_key_id=key_id, sts_token=token if mode == "StsToken" else "")
        creds = Credentials(key_id, secret, token if mode == "StsToken" else "", provider=label)
    elif mode in _LIBRARY_CLI_MODES:
        provider = providers.profile_provider(
            mode, match, env, where, profile_name=name, profile_file=str(path)
        )
        known = (str(match.get("access_key_id") or ""),)
        creds = ProviderCredentials(provider, label=f"cli_profile/{mode}", known_key_ids=known)
    else:
        supported = ", ".join(["AK", "StsToken", *sorted(_LIBRARY_CLI_MODES)])
        raise CredentialsError(f"{where} uses mode {mode!r}, which ecs-detach does not support ({supported})")
    found = _Found(
        creds,
        name,
        shown,
        region=str(match.get("region_id") or "").strip(),
        protected=_truthy(match.get(PROTECTED_KEY, False)),
        endpoint=str(match.get("endpoint") or "").strip(),
    )
    return found, names


def _from_ini(
    path: Path, section: str, home: Path, env: Mapping[str, str]
) -> tuple[_Found | None, list[str]]:
    shown = _display(path, home)
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"), interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=shown)
    except configparser.Error as exc:
        raise CredentialsError(f"{shown} is not a valid INI file: {_first_line(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read {shown}: {type(exc).__name__}") from None
    names = parser.sections()
    if not parser.has_section(section):
        return None, names
    values = dict(parser.items(section))
    kind = values.get("type", "access_key").strip() or "access_key"
    where = f"section [{section}] of {shown}"
    creds: CredentialSource
    if kind == "access_key":
        key_id = values.get("access_key_id", "").strip()
        secret = values.get("access_key_secret", "").strip()
        missing = [k for k, v in (("access_key_id", key_id), ("access_key_secret", secret)) if not v]
        if missing:
            raise CredentialsError(f"{where} (type access_key) has no {', '.join(missing)}")
        _sendable(where, access_key_id=key_id)
        creds = Credentials(key_id, secret, provider="profile/static_ak")
    elif kind in _LIBRARY_INI_TYPES:
        creds = ProviderCredentials(
            _ini_provider(kind, values, env, where, path, section),
            label=f"profile/{kind}",
            known_key_ids=(values.get("access_key_id", "").strip(),),
        )
    else:
        supported = ", ".join(["access_key", *sorted(_LIBRARY_INI_TYPES)])
        raise CredentialsError(f"{where} has type {kind!r}, which ecs-detach does not support ({supported})")
    found = _Found(
        creds,
        section,
        shown,
        region=values.get("region_id", "").strip(),
        protected=_truthy(values.get(PROTECTED_KEY, "false")),
    )
    return found, names


def _ini_provider(
    kind: str, values: Mapping[str, str], env: Mapping[str, str], where: str, path: Path, section: str
) -> Any:
    """The library provider for an INI section (its keys named as the library's INI reader names them)."""
    if kind == "ecs_ram_role":
        return providers.ecs_role_provider(values.get("role_name", ""), env, where)
    if kind == "ram_role_arn":
        fields = {
            **values,
            "ram_role_arn": values.get("role_arn", ""),
            "ram_session_name": values.get("role_session_name", ""),
        }
        return providers.ram_role_provider(fields, env, where)
    if kind == "oidc_role_arn":
        fields = {
            **values,
            "ram_role_arn": values.get("role_arn", ""),
            "oidc_token_file": values.get("oidc_token_file_path", ""),
        }
        return providers.oidc_provider(fields, env, where)
    module = providers.library(f"{where} uses type {kind}")
    return module.ProfileCredentialsProvider(profile_file=str(path), profile_name=section)
