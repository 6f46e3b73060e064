"""Simulated time: the clock a test controls, and the jobs waiting on it.

Trustly's lifecycle runs on hours and days (ACH settlement, session and preauthorization
expiry, notification retries for 12 hours). The simulator keeps its own clock so a test can
jump over them: `sim.advance(days=3)` runs everything that falls due, in time order, at the
simulated moment it falls due. By default the clock stands still between calls to `advance`;
given a rate it also runs on its own (`python -m trustly.testing --time-scale ...`).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

__all__ = ["Clock", "Job", "Schedule", "span_ms"]


def span_ms(span: timedelta) -> int:
    """A duration in whole milliseconds."""
    return int(span.total_seconds() * 1000)


class Clock:
    """Simulated wall-clock time in Unix milliseconds, the unit Trustly's timestamps use.

    Args:
        start_ms: Where simulated time starts; the real time by default.
        rate: Simulated seconds per real second. None keeps the clock still until `advance`.
    """

    def __init__(self, *, start_ms: int | None = None, rate: float | None = None) -> None:
        self._lock = threading.Lock()
        self._base = start_ms if start_ms is not None else int(time.time() * 1000)
        self._offset = 0
        self.rate = rate
        self._started = time.monotonic()

    def now_ms(self) -> int:
        with self._lock:
            return self._now()

    def _now(self) -> int:
        running = 0 if self.rate is None else int((time.monotonic() - self._started) * self.rate * 1000)
        return self._base + self._offset + running

    def move_to(self, when_ms: int) -> None:
        """Move forward to `when_ms`; never backward (a timestamp once given stays in the past)."""
        with self._lock:
            now = self._now()
            if when_ms > now:
                self._offset += when_ms - now


@dataclass(order=True)
class Job:
    """Something that happens at a simulated moment: a settlement step, an expiry, a return."""

    due_ms: int
    seq: int
    label: str = field(compare=False)
    run: Callable[[int], None] = field(compare=False)  # called with the moment it falls due


class Schedule:
    """Jobs ordered by due time (then by the order they were scheduled)."""

    def __init__(self) -> None:
        self._heap: list[Job] = []
        self._seq = itertools.count()

    def add(self, due_ms: int, label: str, run: Callable[[int], None]) -> Job:
        job = Job(due_ms, next(self._seq), label, run)
        heapq.heappush(self._heap, job)
        return job

    def next_due(self) -> int | None:
        return self._heap[0].due_ms if self._heap else None

    def pop_due(self, until_ms: int) -> Job | None:
        """The earliest job due at or before `until_ms`, removed from the schedule."""
        if self._heap and self._heap[0].due_ms <= until_ms:
            return heapq.heappop(self._heap)
        return None

    def pending(self) -> list[Job]:
        """Every job not yet run, earliest first."""
        return sorted(self._heap)

    def __len__(self) -> int:
        return len(self._heap)
