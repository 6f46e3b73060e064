"""The `trustly` logger and what it records.

Set `TRUSTLY_LOG=debug` (every attempt) or `TRUSTLY_LOG=info` (one line per call) to print
to stderr without configuring logging; otherwise attach handlers to `logging.getLogger("trustly")`
as usual. Records name the method, the path template (never the filled-in path, which can
hold ids), status, attempt, elapsed time and correlation id. Bodies, headers and credentials
are never logged.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._call import _Call

__all__ = ["logger"]

logger = logging.getLogger("trustly")
# A library adds no output of its own: without this, Python's last-resort handler would print
# warnings to stderr in applications that never configured logging.
logger.addHandler(logging.NullHandler())

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


def _configure_from_env() -> None:
    level = _LEVELS.get(os.environ.get("TRUSTLY_LOG", "").strip().lower())
    if level is None or any(getattr(h, "_trustly_env", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler._trustly_env = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)


_configure_from_env()


def _fields(call: _Call, status: int | None) -> dict[str, object]:
    return {
        "trustly_operation": call.op.operation_id,
        "trustly_method": call.op.method,
        "trustly_path": call.op.path,
        "trustly_status": status,
        "trustly_attempt": call.attempt,
        "trustly_elapsed_ms": round((time.monotonic() - call.started) * 1000, 1),
        "trustly_correlation_id": call.correlation_id,
    }


def log_attempt(call: _Call, response: httpx.Response | None, exc: Exception | None) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    extra = _fields(call, response.status_code if response is not None else None)
    outcome = f"-> {response.status_code}" if response is not None else f"failed: {type(exc).__name__}"
    logger.debug(
        "%s %s attempt %d %s (%.1f ms, correlation id %s)",
        call.op.method,
        call.op.path,
        call.attempt,
        outcome,
        extra["trustly_elapsed_ms"],
        call.correlation_id,
        extra=extra,
    )


def log_call_end(call: _Call, response: httpx.Response | None, error: Exception | None) -> None:
    level = logging.INFO if error is None else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    extra = _fields(call, response.status_code if response is not None else None)
    result = f"-> {response.status_code}" if response is not None else f"raised {type(error).__name__}"
    logger.log(
        level,
        "%s %s %s after %d attempt(s) in %.1f ms (correlation id %s)",
        call.op.method,
        call.op.path,
        result,
        call.attempt,
        extra["trustly_elapsed_ms"],
        call.correlation_id,
        extra=extra,
    )
