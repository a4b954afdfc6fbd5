"""The official ``alibabacloud-credentials`` providers, built for ecs-detach and kept quiet.

ecs-detach reads static keys itself (``credentials.py``); every other mode (a RAM role to assume, the ECS
instance's RAM role from the metadata service, OIDC/RRSA, a credentials URI, ...) goes through the official
library, imported only when such a mode is used (``pip install 'ecs-detach[credentials]'``).

Two things happen at this boundary and nowhere else:

* The library logs every failed refresh with a full traceback on its own stderr handler (the ``credentials``
  logger), once per request. Its handlers are replaced by one that keeps the last few records, masked, for
  ``ECS_DETACH_DEBUG=1``; nothing reaches an operator's terminal.
* Its exceptions become one ``CredentialsError`` line (``ProviderCredentials.current``), with every key id
  masked (``LTAI****Key``).

Endpoints are honoured as the aliyun CLI honours them: a profile's ``sts_endpoint``, else
``ALIBABA_CLOUD_STS_ENDPOINT`` (a host, or a URL such as ``http://127.0.0.1:9000`` for a local stand-in);
``sts_region`` / ``ALIBABA_CLOUD_STS_REGION`` otherwise. The metadata service is reached at its fixed
address, through ``HTTP_PROXY`` when one is set (the library's own behaviour, which tests use to put a local
stand-in in its place).
"""

from __future__ import annotations

import collections
import logging
import re
from collections.abc import Mapping
from typing import Any

from ecs_detach.errors import CredentialsError

__all__ = [
    "INSTALL_HINT",
    "LIBRARY_LOGGER",
    "captured_log",
    "ecs_role_provider",
    "library",
    "oidc_provider",
    "profile_provider",
    "ram_role_provider",
    "scrub_key_ids",
    "uri_provider",
]

INSTALL_HINT = "pip install 'ecs-detach[credentials]'"
LIBRARY_LOGGER = "credentials"  # the name the official library logs under
_KEY_ID_RE = re.compile(r"\b(?:LTAI|STS\.)[A-Za-z0-9]{6,}")
_KEPT: collections.deque[str] = collections.deque(maxlen=20)


def _mask(key_id: str) -> str:
    return f"{key_id[:4]}****{key_id[-3:]}" if len(key_id) >= 10 else "****"


def scrub_key_ids(text: str, *known: str) -> str:
    """``text`` with every AccessKey id masked: the ``known`` ones, and anything shaped like one."""
    for key_id in known:
        if key_id and len(key_id) >= 6:
            text = text.replace(key_id, _mask(key_id))
    return _KEY_ID_RE.sub(lambda match: _mask(match.group(0)), text)


class _Keep(logging.Handler):
    """Keeps the library's last records (first line, masked) instead of printing them."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            lines = record.getMessage().strip().splitlines()
        except Exception:  # a record that cannot be formatted is not worth a traceback
            return
        if lines:
            _KEPT.append(scrub_key_ids(f"{record.levelname.lower()}: {lines[0][:300]}"))


def _quiet_library_logging() -> None:
    logger = logging.getLogger(LIBRARY_LOGGER)
    for handler in list(logger.handlers):
        if not isinstance(handler, _Keep):
            logger.removeHandler(handler)
    if not any(isinstance(handler, _Keep) for handler in logger.handlers):
        logger.addHandler(_Keep())
    logger.propagate = False


def captured_log() -> tuple[str, ...]:
    """What the library logged lately (masked, one line each), for a bug report."""
    return tuple(_KEPT)


def library(what: str) -> Any:
    """The library's ``provider`` module, with its logging captured; or a CredentialsError saying how to
    install it."""
    try:
        import alibabacloud_credentials.provider as module
    except ImportError:
        raise CredentialsError(
            f"{what}, which needs the alibabacloud-credentials library: {INSTALL_HINT}"
        ) from None
    _quiet_library_logging()
    return module


def _construct(factory: Any, where: str, **kw: Any) -> Any:
    """A provider, or one CredentialsError line when the library refuses the settings."""
    try:
        return factory(**kw)
    except Exception as exc:  # the library raises ValueError and its own types; none may leak a traceback
        text = str(exc).strip().splitlines()
        raise CredentialsError(f"{where}: {scrub_key_ids(text[0] if text else type(exc).__name__)}") from None


def _http_options() -> Any:
    from alibabacloud_credentials.http import HttpOptions

    return HttpOptions(connect_timeout=2000, read_timeout=5000)


def _sts(values: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The STS endpoint arguments: the profile's ``sts_endpoint``, else ``ALIBABA_CLOUD_STS_ENDPOINT``, else
    the region (``sts_region`` / ``ALIBABA_CLOUD_STS_REGION``), else the library's default."""
    endpoint = str(values.get("sts_endpoint") or env.get("ALIBABA_CLOUD_STS_ENDPOINT", "")).strip()
    region = str(values.get("sts_region") or env.get("ALIBABA_CLOUD_STS_REGION", "")).strip()
    vpc = values.get("enable_vpc")
    if vpc is None:
        vpc = env.get("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "").strip().lower() == "true"
    return {
        "sts_endpoint": endpoint or None,
        "sts_region_id": region or None,
        "enable_vpc": bool(vpc),
        "http_options": _http_options(),
    }


def _duration(values: Mapping[str, Any], where: str) -> int | None:
    raw = values.get("expired_seconds") or values.get("duration_seconds")
    if raw in (None, "", 0):
        return None
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        raise CredentialsError(f"{where}: expired_seconds {raw!r} is not a number of seconds") from None
    if seconds < 900:
        raise CredentialsError(f"{where}: expired_seconds is {seconds}, and STS needs at least 900")
    return seconds


def _required(values: Mapping[str, Any], where: str, *names: str) -> list[str]:
    found = [str(values.get(name) or "").strip() for name in names]
    missing = [name for name, value in zip(names, found, strict=True) if not value]
    if missing:
        raise CredentialsError(f"{where} has no {', '.join(missing)}")
    return found


def ram_role_provider(values: Mapping[str, Any], env: Mapping[str, str], where: str) -> Any:
    """RamRoleArn: assume ``ram_role_arn`` with the profile's AccessKey, through STS."""
    module = library(f"{where} assumes a RAM role")
    key_id, secret, role_arn = _required(values, where, "access_key_id", "access_key_secret", "ram_role_arn")
    session = str(values.get("ram_session_name") or values.get("role_session_name") or "ecs-detach")
    return _construct(
        module.RamRoleArnCredentialsProvider,
        where,
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=str(values.get("sts_token") or "") or None,
        role_arn=role_arn,
        role_session_name=session,
        duration_seconds=_duration(values, where),
        policy=str(values.get("policy") or "") or None,
        external_id=str(values.get("external_id") or "") or None,
        **_sts(values, env),
    )


def ecs_role_provider(role_name: str, env: Mapping[str, str], where: str) -> Any:
    """EcsRamRole: the instance's RAM role, from the ECS metadata service (IMDSv2 first, unless told
    ``ALIBABA_CLOUD_IMDSV1_DISABLED=true``, then v1 is not tried either)."""
    if env.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "").strip().lower() == "true":
        raise CredentialsError(
            f"{where} uses the ECS instance RAM role, but ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"
        )
    module = library(f"{where} uses the ECS instance RAM role")
    return _construct(
        module.EcsRamRoleCredentialsProvider,
        where,
        role_name=role_name.strip() or None,
        disable_imds_v1=env.get("ALIBABA_CLOUD_IMDSV1_DISABLED", "").strip().lower() == "true",
        http_options=_http_options(),
        async_update_enabled=False,  # refreshed when a request needs it; no background thread
    )


def oidc_provider(values: Mapping[str, Any], env: Mapping[str, str], where: str) -> Any:
    """OIDC (RRSA): exchange the token file's OIDC token for STS credentials of ``role_arn``."""
    module = library(f"{where} uses OIDC (RRSA)")
    role_arn, provider_arn, token_file = _required(
        values, where, "ram_role_arn", "oidc_provider_arn", "oidc_token_file"
    )
    return _construct(
        module.OIDCRoleArnCredentialsProvider,
        where,
        role_arn=role_arn,
        oidc_provider_arn=provider_arn,
        oidc_token_file_path=token_file,
        role_session_name=str(values.get("role_session_name") or "ecs-detach"),
        duration_seconds=_duration(values, where),
        policy=str(values.get("policy") or "") or None,
        **_sts(values, env),
    )


def uri_provider(uri: str, where: str) -> Any:
    """CredentialsURI: GET ``uri`` for ``{"Code": "Success", "AccessKeyId", ...}``."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(f"{where}: {uri!r} is not an http(s):// URL")
    module = library(f"{where} uses a credentials URI")
    return _construct(module.URLCredentialsProvider, where, uri=uri.strip(), http_options=_http_options())


def profile_provider(
    mode: str, values: Mapping[str, Any], env: Mapping[str, str], where: str, **kw: str
) -> Any:
    """The provider of an aliyun CLI profile mode the library handles: the common modes are built here (so
    ``sts_endpoint`` is honoured as the aliyun CLI honours it); the rest through the library's own reader
    of ``~/.aliyun/config.json`` (``profile_name``, ``profile_file`` in ``kw``)."""
    if mode == "RamRoleArn":
        return ram_role_provider(values, env, where)
    if mode == "EcsRamRole":
        return ecs_role_provider(str(values.get("ram_role_name") or ""), env, where)
    if mode == "OIDC":
        return oidc_provider(values, env, where)
    if mode == "CredentialsURI":
        return uri_provider(str(values.get("credentials_uri") or ""), where)
    module = library(f"{where} uses mode {mode}")
    return _construct(module.CLIProfileCredentialsProvider, where, **kw)
