"""When a failed attempt may be retried, and how long to wait first.

Every operation carries a retry class from the spec (`x-trustly-retry`, compiled into
`trustly_api_client.operations`). A failure is classified by what it says about the request:

- NOT_SENT: the request never reached Trustly (connect error, pool timeout) or Trustly
  refused it without applying it (429). Retrying is safe for every operation.
- MAYBE_APPLIED: the request may have been applied (read timeout, connection reset after
  sending, 5xx, an answer whose body cannot be decoded). Retried only for SAFE and IDEMPOTENT
  operations.
- FATAL: retrying cannot help (an unsupported URL scheme, a proxy refusal, a malformed request).

httpx-retries is not used: it retries inside the transport by method and status, below the
level where the operation's retry class, the call deadline and the 210 resolution are known.
"""

from __future__ import annotations

import enum
import random
import time
from dataclasses import dataclass

import httpx

__all__ = ["Outcome", "RetryPolicy", "classify_exception", "classify_status", "parse_retry_after"]


class Outcome(enum.Enum):
    NOT_SENT = "not_sent"
    MAYBE_APPLIED = "maybe_applied"
    FATAL = "fatal"


_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_APPLIED_ERRORS = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    # A status line arrived but the body could not be decoded: the request was received.
    httpx.DecodingError,
)


def classify_exception(exc: Exception) -> Outcome:
    """What a transport exception says about whether the request reached Trustly."""
    if isinstance(exc, _NOT_SENT_ERRORS):
        return Outcome.NOT_SENT
    if isinstance(exc, _MAYBE_APPLIED_ERRORS):
        return Outcome.MAYBE_APPLIED
    return Outcome.FATAL


def classify_status(status_code: int) -> Outcome | None:
    """What an error status says; None when it is final (a 4xx the caller must fix)."""
    if status_code == 429:
        return Outcome.NOT_SENT
    if status_code == 408 or status_code >= 500:
        return Outcome.MAYBE_APPLIED
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # rare path; keep it out of `import trustly`

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0
    return seconds


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a server's Retry-After wins, up to a cap."""

    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))
        # Full jitter spreads the retries of many clients that failed together.
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - timing jitter, not security
