"""Credentials and HTTP Basic authentication for the Trustly API.

Trustly authenticates every call with HTTP Basic: the accessId as user name and the accessKey
as password. The key is kept out of every repr and str, so that a logged client, auth object or
exception can never leak it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Generator

import httpx

from ._errors import ConfigurationError

__all__ = ["CORRELATION_EXTENSION", "CORRELATION_HEADER", "BasicAuth", "Credentials", "without_key_frames"]

CORRELATION_HEADER = "X-Correlation-Id"
"""Header carrying the id of one logical call; the same on every retry of that call."""

CORRELATION_EXTENSION = "trustly.correlation_id"
"""The httpx request extension through which the sender hands the correlation id to BasicAuth."""


class Credentials:
    """An accessId and accessKey pair for one environment.

    Use `Credentials.from_env()` to read `TRUSTLY_ACCESS_ID` and `TRUSTLY_ACCESS_KEY`.
    """

    __slots__ = ("_access_key", "access_id")

    def __init__(self, access_id: str, access_key: str) -> None:
        for name, value in (("access_id", access_id), ("access_key", access_key)):
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"{name} must be a non-empty string")
            if ":" in value and name == "access_id":
                raise ConfigurationError("access_id must not contain ':'")
        self.access_id = access_id
        self._access_key = access_key

    @classmethod
    def from_env(cls, access_id: str | None = None, access_key: str | None = None) -> Credentials:
        """Use the given values, falling back to TRUSTLY_ACCESS_ID / TRUSTLY_ACCESS_KEY."""
        access_id = access_id if access_id is not None else os.environ.get("TRUSTLY_ACCESS_ID")
        access_key = access_key if access_key is not None else os.environ.get("TRUSTLY_ACCESS_KEY")
        missing = [
            name
            for name, value in (
                ("access_id (TRUSTLY_ACCESS_ID)", access_id),
                ("access_key (TRUSTLY_ACCESS_KEY)", access_key),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"missing Trustly credentials: {', '.join(missing)}")
        assert access_id is not None and access_key is not None
        return cls(access_id, access_key)

    def reveal_key(self) -> str:
        """The accessKey itself, for signing. Never log the result."""
        return self._access_key

    def __repr__(self) -> str:
        return f"Credentials(access_id={self.access_id!r}, access_key='***')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.access_id, self._access_key) == (other.access_id, other._access_key)

    def __hash__(self) -> int:
        return hash((self.access_id, self._access_key))


class BasicAuth(httpx.Auth):
    """Adds `Authorization: Basic ...` (built once) and the call's correlation id to every request."""

    def __init__(self, credentials: Credentials) -> None:
        token = f"{credentials.access_id}:{credentials.reveal_key()}".encode()
        self._header = "Basic " + base64.b64encode(token).decode("ascii")
        self._access_id = credentials.access_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.apply(request)
        yield request

    def apply(self, request: httpx.Request) -> None:
        """Set the request's Authorization and X-Correlation-Id headers, as `auth_flow` does.

        For a sender that hands requests to the transport itself (see `_exchange`).
        """
        request.headers["Authorization"] = self._header
        correlation_id = request.extensions.get(CORRELATION_EXTENSION)
        if correlation_id:
            request.headers[CORRELATION_HEADER] = correlation_id

    def __repr__(self) -> str:
        return f"BasicAuth(access_id={self._access_id!r})"


def without_key_frames(error: Exception) -> Exception:
    """The error with its own and its causes' tracebacks dropped.

    For errors from code that held the access key in a local variable (signing, redirect
    checks): error reporters (Sentry and the like) record the locals of every traceback frame.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return error
