from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from trustly._retries import Outcome, RetryPolicy, classify_exception, classify_status, parse_retry_after


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (httpx.ConnectError("refused"), Outcome.NOT_SENT),
        (httpx.ConnectTimeout("slow"), Outcome.NOT_SENT),
        (httpx.PoolTimeout("busy"), Outcome.NOT_SENT),
        (httpx.ReadTimeout("slow"), Outcome.MAYBE_APPLIED),
        (httpx.RemoteProtocolError("reset"), Outcome.MAYBE_APPLIED),
        (httpx.ReadError("reset"), Outcome.MAYBE_APPLIED),
        (httpx.WriteError("broken"), Outcome.MAYBE_APPLIED),
        (httpx.UnsupportedProtocol("gopher"), Outcome.FATAL),
    ],
)
def test_exceptions(exc: Exception, outcome: Outcome) -> None:
    assert classify_exception(exc) is outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(429, Outcome.NOT_SENT), (500, Outcome.MAYBE_APPLIED), (503, Outcome.MAYBE_APPLIED), (400, None), (404, None)],
)
def test_statuses(status: int, outcome: Outcome | None) -> None:
    assert classify_status(status) is outcome


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") == 0.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (parse_retry_after(future) or 0) <= 31


def test_backoff_grows_with_jitter_and_caps() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0, max_retry_after=10.0)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
        delays = {policy.delay(attempt, None) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1
    assert policy.delay(1, 3.0) == 3.0
    assert policy.delay(1, 600.0) == 10.0
