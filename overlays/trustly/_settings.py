"""What both client classes accept, checked once at construction.

Every option is checked here so that a bad value is a `ConfigurationError` when the client is
built, never a raw `ValueError` from httpx in the middle of a call: timeouts and deadlines must
be finite and positive, TLS verification cannot be switched off (by `verify=False` or by an
`ssl.SSLContext` that does not verify), headers must be ASCII, and a SOCKS proxy needs its extra.

Proxies: for remote hosts the client honours `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
`NO_PROXY` like httpx does. For a loopback base URL (a local simulator, plain http) it ignores
them, so credentials sent in the clear never travel to a proxy.
"""

from __future__ import annotations

import importlib.util
import math
import os
import platform
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ._auth import BasicAuth, Credentials
from ._call import DEFAULT_MAX_RESPONSE_BYTES, CallPolicy
from ._encoding import check_content_types
from ._environment import Environment, _is_loopback, resolve_base_url
from ._errors import AmbiguousOutcomeError, ConfigurationError
from ._validation import is_header_name, is_header_value
from ._version import __version__

__all__ = [
    "DEFAULT_ASYNC_LIMITS",
    "DEFAULT_DEADLINE",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "Settings",
    "StatelessAsyncClient",
    "StatelessClient",
    "TimeoutArg",
    "Verify",
    "check_deadline",
    "check_max_retries",
    "check_timeout",
]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=10.0)
"""30 s to read a response, 5 s to connect, 10 s to wait for a pooled connection."""

DEFAULT_MAX_RETRIES = 2
"""Retries after the first attempt, for failures that are safe to retry."""

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""Connection pool limits: httpx's own defaults."""

DEFAULT_ASYNC_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
"""`AsyncTrustlyClient`'s limits: a burst's connections stay open for the next (5 s when idle), as with aiohttp."""

DEFAULT_DEADLINE = 90.0
"""Seconds one call may take across all its attempts and the waits between them."""

USER_AGENT = f"trustly-api-client/{__version__} Python/{platform.python_version()} httpx/{httpx.__version__}"


class _NoCookies(httpx.Cookies):
    """A cookie store that stays empty: what a server sets is dropped, nothing is sent back."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


_NO_COOKIES = _NoCookies()


class StatelessClient(httpx.Client):
    """The sync httpx client a `TrustlyClient` sends through: it keeps no cookies.

    Trustly authenticates every call with Basic auth and sets no session, so a cookie a server
    or a load balancer sets could only carry state from one merchant call into the next. httpx
    would also parse every answer's headers for cookies (about a tenth of a call's own cost).
    """

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise ConfigurationError("a Trustly client keeps no cookies")


class StatelessAsyncClient(httpx.AsyncClient):
    """The async counterpart of `StatelessClient`, for `AsyncTrustlyClient`."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise ConfigurationError("a Trustly client keeps no cookies")


Verify = bool | str | ssl.SSLContext
TimeoutArg = float | httpx.Timeout | None


def _positive(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and value > 0


def check_timeout(value: TimeoutArg) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        parts = (value.connect, value.read, value.write, value.pool)
        if not all(part is None or _positive(part) for part in parts):
            raise ConfigurationError(f"every part of {value!r} must be a positive, finite number of seconds or None")
        return value
    if value is None:
        return DEFAULT_TIMEOUT
    if not _positive(value):
        raise ConfigurationError(
            f"timeout must be a positive, finite number of seconds or an httpx.Timeout, not {value!r}"
        )
    return httpx.Timeout(float(value), connect=min(5.0, float(value)))


def check_deadline(value: float | None) -> float:
    if value is None:
        return DEFAULT_DEADLINE
    if not _positive(value):
        raise ConfigurationError(f"deadline must be a positive, finite number of seconds, not {value!r}")
    return float(value)


def check_max_retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"max_retries must be a whole number >= 0, not {value!r}")
    return value


def _max_response_bytes(value: int | None) -> int:
    if value is None:
        return DEFAULT_MAX_RESPONSE_BYTES
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"max_response_bytes must be a whole number >= 1, not {value!r}")
    return value


def _unique_references(value: bool) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"unique_merchant_references must be True or False, not {value!r}")
    return value


def _hook(value: object) -> Callable[[AmbiguousOutcomeError], object] | None:
    if value is not None and not callable(value):
        raise ConfigurationError(f"on_ambiguous must be a callable taking the AmbiguousOutcomeError, not {value!r}")
    return value


def _ssl_context(verify: Verify) -> ssl.SSLContext:
    # httpx deprecates a CA-file path for `verify`; build the context here instead.
    if isinstance(verify, ssl.SSLContext):
        if verify.verify_mode == ssl.CERT_NONE or not verify.check_hostname:
            raise ConfigurationError(
                "this SSLContext does not verify certificates and host names; TLS verification cannot be turned off"
            )
        return verify
    if verify is False:
        raise ConfigurationError("TLS verification cannot be turned off; pass a CA bundle or an SSLContext instead")
    if isinstance(verify, str):
        if not os.path.exists(verify):
            raise ConfigurationError(f"CA bundle {verify!r} does not exist")
        return ssl.create_default_context(cafile=verify)
    if verify is not True:
        raise ConfigurationError(f"verify must be True, a CA bundle path or an ssl.SSLContext, not {verify!r}")
    return ssl.create_default_context()


# Headers that say where a request goes, how its body is framed or who sends it: the client sets
# them, and an extra header must not override them (a Host or Content-Length of the caller's
# would retarget or corrupt every request).
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "authorization"})


def _headers(headers: dict[str, str] | None) -> dict[str, str]:
    checked = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ConfigurationError(f"header {name!r}: names and values must be strings")
        if not is_header_name(name) or not is_header_value(value):
            raise ConfigurationError(
                f"header {name!r}: names must be HTTP tokens and values printable ASCII "
                "with no space or tab at either end"
            )
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigurationError(f"header {name!r} is set by the client and cannot be given")
        checked[name] = value
    return checked


def _check_socks_support() -> None:
    import urllib.request

    for scheme, url in urllib.request.getproxies().items():
        if url.lower().startswith("socks") and importlib.util.find_spec("socksio") is None:
            raise ConfigurationError(
                f"the {scheme} proxy {url.split('@')[-1]!r} is a SOCKS proxy; "
                "install httpx[socks] to use it, or unset it for this process"
            )


class Settings:
    """Everything a client was configured with, checked."""

    def __init__(
        self,
        *,
        access_id: str | None,
        access_key: str | None,
        environment: Environment | str | None,
        base_url: str | httpx.URL | None,
        timeout: TimeoutArg,
        max_retries: int,
        deadline: float | None,
        verify: Verify,
        headers: dict[str, str] | None,
        limits: httpx.Limits | None,
        unique_merchant_references: bool,
        max_response_bytes: int | None,
        content_types: Mapping[str, str] | None = None,
        on_ambiguous: Callable[[AmbiguousOutcomeError], object] | None = None,
    ) -> None:
        self.credentials = Credentials.from_env(access_id, access_key)
        self.base_url = resolve_base_url(environment, base_url)
        self.policy = CallPolicy(
            timeout=check_timeout(timeout),
            max_retries=check_max_retries(max_retries),
            deadline=check_deadline(deadline),
            unique_merchant_references=_unique_references(unique_merchant_references),
            max_response_bytes=_max_response_bytes(max_response_bytes),
            content_types=check_content_types(content_types),
            on_ambiguous=_hook(on_ambiguous),
        )
        self.ssl_context = _ssl_context(verify)
        self.headers = _headers(headers)
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        # Proxies from the environment apply to remote hosts only (see the module docstring).
        self.trust_env = not _is_loopback(self.base_url.host)
        if self.trust_env:
            _check_socks_support()

    def httpx_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "auth": BasicAuth(self.credentials),
            "headers": self.headers,
            "timeout": self.policy.timeout,
            "verify": self.ssl_context,
            "follow_redirects": False,
            "limits": self.limits,
            "trust_env": self.trust_env,
        }
