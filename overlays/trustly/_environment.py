"""Where requests go: the two Trustly environments, or an explicit base URL.

There is deliberately no default. A client that silently talks to production (or to the
sandbox when production was meant) is a costly mistake, so the caller names the environment,
either as an argument or through `TRUSTLY_ENVIRONMENT`.
"""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum

import httpx

from ._errors import ConfigurationError

__all__ = ["Environment"]


class Environment(StrEnum):
    """A Trustly environment. Credentials are issued per environment."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"

    @property
    def base_url(self) -> str:
        """The REST API root of this environment."""
        return _BASE_URLS[self]


_BASE_URLS = {
    Environment.SANDBOX: "https://sandbox.trustly.one/api/v1",
    Environment.PRODUCTION: "https://trustly.one/api/v1",
}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str | httpx.URL) -> httpx.URL:
    """Return `url` as an httpx.URL, refusing anything but HTTPS (plain HTTP only on loopback)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"base_url {str(url)!r} is not a valid URL") from exc
    if parsed.scheme == "https" and parsed.host:
        return parsed
    if parsed.scheme == "http" and _is_loopback(parsed.host):
        # A local simulator or test server; nothing leaves the machine.
        return parsed
    raise ConfigurationError(
        f"base_url {str(url)!r} must use https:// (plain http:// is allowed only for 127.0.0.1, ::1 or localhost)"
    )


def resolve_base_url(environment: Environment | str | None, base_url: str | httpx.URL | None) -> httpx.URL:
    """Pick the API root from the arguments, or from TRUSTLY_ENVIRONMENT when both are omitted.

    TRUSTLY_ENVIRONMENT holds `sandbox`, `production` or a base URL.
    """
    if environment is not None and base_url is not None:
        raise ConfigurationError("pass either environment or base_url, not both")
    if base_url is not None:
        return check_base_url(base_url)
    if environment is None:
        configured = os.environ.get("TRUSTLY_ENVIRONMENT", "").strip()
        if not configured:
            raise ConfigurationError(
                "no environment chosen: pass environment=Environment.SANDBOX or Environment.PRODUCTION "
                "(or base_url=...), or set TRUSTLY_ENVIRONMENT"
            )
        if "://" in configured:
            return check_base_url(configured)
        environment = configured
    try:
        chosen = Environment(str(environment).lower())
    except ValueError:
        raise ConfigurationError(f"unknown environment {str(environment)!r}: use 'sandbox' or 'production'") from None
    return httpx.URL(chosen.base_url)
