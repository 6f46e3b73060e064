"""Exit codes of the `trustly` command, one per kind of failure, and how an error maps onto them.

Scripts branch on the code: 6 means "no such transaction", 9 "try again later", 10 "find out
whether it happened before trying again". The codes are part of the command's interface.
"""

from __future__ import annotations

from enum import IntEnum

from .._errors import (
    AmbiguousOutcomeError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    InternalServerError,
    InvalidNotificationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    SignatureVerificationError,
    TrustlyError,
)

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    """What the `trustly` command's exit status means."""

    OK = 0
    """The command did what was asked."""
    FAILURE = 1
    """An unexpected failure (a bug, or a response the client could not read)."""
    USAGE = 2
    """The command line was wrong (unknown option, missing argument, unreadable file)."""
    CONFIGURATION = 3
    """Missing or invalid credentials or environment, or the `cli` extra is not installed."""
    INVALID_REQUEST = 4
    """An argument was refused before anything was sent."""
    AUTHENTICATION = 5
    """Trustly refused the credentials (401) or the permission (403)."""
    NOT_FOUND = 6
    """Trustly has no such object (404)."""
    API_ERROR = 7
    """Trustly refused the request for another reason (400, 409, 422, 429)."""
    SERVER_ERROR = 8
    """Trustly failed (5xx) after the client's retries."""
    CONNECTION = 9
    """No usable answer: connection refused or reset, TLS failure, timeout."""
    AMBIGUOUS = 10
    """The request may have been applied; reconcile before sending it again."""
    SIGNATURE = 11
    """A signature or a notification did not verify."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C."""


# Most specific first: AmbiguousOutcomeError is also a connection-level failure.
_BY_ERROR: tuple[tuple[type[TrustlyError], ExitCode], ...] = (
    (ConfigurationError, ExitCode.CONFIGURATION),
    (InvalidRequestError, ExitCode.INVALID_REQUEST),
    (AmbiguousOutcomeError, ExitCode.AMBIGUOUS),
    (AuthenticationError, ExitCode.AUTHENTICATION),
    (PermissionDeniedError, ExitCode.AUTHENTICATION),
    (NotFoundError, ExitCode.NOT_FOUND),
    (InternalServerError, ExitCode.SERVER_ERROR),
    (APIStatusError, ExitCode.API_ERROR),
    (APIConnectionError, ExitCode.CONNECTION),
    (SignatureVerificationError, ExitCode.SIGNATURE),
    (InvalidNotificationError, ExitCode.SIGNATURE),
)


def exit_code_for(error: TrustlyError) -> ExitCode:
    """The exit code for a client error; FAILURE for kinds without their own code."""
    for kind, code in _BY_ERROR:
        if isinstance(error, kind):
            return code
    return ExitCode.FAILURE
