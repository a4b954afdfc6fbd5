"""Where ECS requests go: the regional host, the few exceptions the official SDK knows, or an override.

>>> resolve_endpoint("cn-beijing")
'https://ecs.cn-beijing.aliyuncs.com'
>>> resolve_endpoint("cn-hangzhou")
'https://ecs-cn-hangzhou.aliyuncs.com'
>>> resolve_endpoint("cn-hangzhou", "http://127.0.0.1:8470")
'http://127.0.0.1:8470'
"""

from __future__ import annotations

import re

__all__ = [
    "CENTRAL_HOST",
    "ENDPOINT_EXCEPTIONS",
    "endpoint_host",
    "endpoint_password",
    "mask_endpoint",
    "normalize_endpoint",
    "resolve_endpoint",
]

CENTRAL_HOST = "ecs.aliyuncs.com"
_HANGZHOU_HOST = "ecs-cn-hangzhou.aliyuncs.com"

# Regions whose host is not ``ecs.<region>.aliyuncs.com`` (ecs-api.md §1.8: the official SDK's endpoint map).
ENDPOINT_EXCEPTIONS: dict[str, str] = {
    "cn-hangzhou": _HANGZHOU_HOST,
    "cn-shanghai-finance-1": _HANGZHOU_HOST,
    "cn-shenzhen-finance-1": _HANGZHOU_HOST,
    "cn-fujian": _HANGZHOU_HOST,
    "cn-wuhan": CENTRAL_HOST,
    "cn-zhangbei": CENTRAL_HOST,
    "cn-yushanfang": CENTRAL_HOST,
    "cn-hangzhou-finance": CENTRAL_HOST,
    "cn-north-2-gov-1": CENTRAL_HOST,
    "cn-beijing-gov-1": CENTRAL_HOST,
    "cn-beijing-finance-pop": CENTRAL_HOST,
    "cn-hongkong-finance-pop": CENTRAL_HOST,
    "cn-shanghai-inner": CENTRAL_HOST,
    "cn-shenzhen-inner": CENTRAL_HOST,
    "ap-northeast-2-pop": CENTRAL_HOST,
    "rus-west-1-pop": CENTRAL_HOST,
}

_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")


def endpoint_host(region_id: str) -> str:
    """The API host for a region: the exception table, else ``ecs.<region>.aliyuncs.com``."""
    region = region_id.strip()
    if not region:
        raise ValueError("a region id is needed to pick an endpoint (e.g. cn-hangzhou), or pass --endpoint")
    if not _REGION_RE.match(region):
        raise ValueError(f"{region_id!r} is not a region id (like cn-hangzhou)")
    return ENDPOINT_EXCEPTIONS.get(region, f"ecs.{region}.aliyuncs.com")


def normalize_endpoint(endpoint: str) -> str:
    """``host[:port]`` or a URL → a base URL, no trailing slash (``https://`` when no scheme is given)."""
    text = endpoint.strip().rstrip("/")
    if not text:
        raise ValueError("the endpoint is empty")
    if "://" not in text:
        text = f"https://{text}"
    scheme = text.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"endpoint {mask_endpoint(endpoint)!r}: only http:// and https:// are supported")
    return text


_USERINFO_RE = re.compile(r"^(?P<head>[^:/?#]*://[^:@/?#]*):(?P<password>[^@/?#]*)@")


def endpoint_password(endpoint: str) -> str:
    """The password of a URL's ``user:password@`` part ("" when it has none)."""
    found = _USERINFO_RE.match(endpoint.strip())
    return found.group("password") if found else ""


def mask_endpoint(endpoint: str) -> str:
    """The endpoint as it may be shown, logged and journaled: a ``user:password@`` password is ``****``.

    >>> mask_endpoint("http://ops:hunter2@127.0.0.1:8470")
    'http://ops:****@127.0.0.1:8470'
    """
    return _USERINFO_RE.sub(lambda m: f"{m.group('head')}:****@", endpoint, count=1)


def resolve_endpoint(region_id: str, endpoint: str | None = None) -> str:
    """The base URL requests for ``region_id`` go to; an explicit ``endpoint`` wins as given."""
    if endpoint:
        return normalize_endpoint(endpoint)
    return f"https://{endpoint_host(region_id)}"
