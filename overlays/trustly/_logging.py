"""The `trustly` logger and what it records.

Set `TRUSTLY_LOG=debug` (every attempt) or `TRUSTLY_LOG=info` (one line per call) to print
to stderr without configuring logging; otherwise attach handlers to `logging.getLogger("trustly")`
as usual. Records name the method, the path template (never the filled-in path, which can
hold ids), status, attempt, elapsed time and correlation id. Bodies, headers and credentials
are never logged.

httpx logs each request's full URL at INFO on its own `httpx` logger. List filters can put
bank account and routing numbers in that URL, so importing `trustly` adds a filter to that
logger which masks the values of those query parameters in every record it emits.
"""

from __future__ import annotations

import logging
import os
import re
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

# A query parameter whose name mentions an account or routing number, up to its value's end.
_BANK_PARAMETER = re.compile(r"([?&][^=&#\s]*(?:accountnumber|routingnumber)[^=&#\s]*=)[^&#\s\"']*", re.IGNORECASE)


def _mask(value: object) -> object:
    if isinstance(value, str | httpx.URL):
        text = str(value)
        masked = _BANK_PARAMETER.sub(r"\1***", text)
        return masked if masked != text else value
    return value


class _BankDetailsFilter(logging.Filter):
    """Masks account and routing numbers in the URLs httpx logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_mask(arg) for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = str(_mask(record.msg))
        return True


def _install_bank_details_filter() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _BankDetailsFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(_BankDetailsFilter())


_install_bank_details_filter()


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
