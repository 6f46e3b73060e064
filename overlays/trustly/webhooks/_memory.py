"""In-process stores: the replay store for inline handling and the in-memory inbox.

Both live in one process's memory, so they suit tests and a single-process receiver only; with
several workers or hosts use `SQLiteInbox` or `PostgresInbox`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from ._inbox import Claim, Inbox, new_token

__all__ = ["InMemoryInbox", "InMemoryReplayStore", "ReplayStore"]


class ReplayStore(Protocol):
    """Remembers handled eventIds for inline handling (`WebhookHandler(on_event=...)`)."""

    def add(self, event_id: str) -> bool:
        """Record `event_id`; False if it was already recorded (atomically)."""
        ...

    def discard(self, event_id: str) -> None:
        """Forget `event_id`, so that Trustly's next delivery is handled again."""
        ...


class InMemoryReplayStore(ReplayStore):
    """A bounded, thread-safe ReplayStore for one process. Entries expire after `ttl` seconds.

    The default keeps a day: longer than Trustly's 12 hours of redelivery and the handler's
    freshness window, so a replay is either remembered or refused as too old.
    """

    def __init__(self, *, max_entries: int = 100_000, ttl: float = 24 * 3600) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._ttl = ttl

    def add(self, event_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self._max or next(iter(self._seen.values())) < now - self._ttl):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True

    def discard(self, event_id: str) -> None:
        with self._lock:
            self._seen.pop(event_id, None)

    def __len__(self) -> int:
        return len(self._seen)


@dataclass(slots=True)
class _Row:
    body: bytes
    content_type: str
    received_at: float
    available_at: float
    attempts: int = 0
    token: str | None = None
    lease_until: float = 0.0
    done_at: float | None = None
    last_error: str | None = None


class InMemoryInbox(Inbox):
    """An `Inbox` in this process's memory: thread-safe, lost on exit. For tests and one process."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemoryInbox({self.counts()})"

    def put(self, event_id: str, body: bytes, content_type: str) -> bool:
        now = time.time()
        with self._lock:
            if event_id in self._rows:
                return False
            self._rows[event_id] = _Row(bytes(body), content_type, now, now)
            return True

    def claim(self, lease: float) -> Claim | None:
        now = time.time()
        with self._lock:
            due = [
                (row.received_at, event_id, row)
                for event_id, row in self._rows.items()
                if row.done_at is None and row.available_at <= now and row.lease_until <= now
            ]
            if not due:
                return None
            _, event_id, row = min(due, key=lambda item: (item[0], item[1]))
            row.attempts += 1
            row.token = new_token()
            row.lease_until = now + lease
            return Claim(event_id, row.body, row.content_type, row.token, row.attempts)

    def _held(self, claim: Claim) -> _Row | None:
        row = self._rows.get(claim.event_id)
        if row is None or row.done_at is not None or row.token != claim.token:
            return None
        return row

    def extend(self, claim: Claim, lease: float) -> bool:
        with self._lock:
            row = self._held(claim)
            if row is None:
                return False
            row.lease_until = time.time() + lease
            return True

    def complete(self, claim: Claim) -> bool:
        with self._lock:
            row = self._held(claim)
            if row is None:
                return False
            row.done_at = time.time()
            row.token = None
            return True

    def release(self, claim: Claim, *, delay: float, error: str) -> bool:
        with self._lock:
            row = self._held(claim)
            if row is None:
                return False
            row.token = None
            row.lease_until = 0.0
            row.available_at = time.time() + delay
            row.last_error = error
            return True

    def purge(self, older_than: float) -> int:
        cutoff = time.time() - older_than
        with self._lock:
            old = [event_id for event_id, row in self._rows.items() if row.done_at is not None and row.done_at < cutoff]
            for event_id in old:
                del self._rows[event_id]
            return len(old)

    def counts(self) -> dict[str, int]:
        now = time.time()
        with self._lock:
            done = sum(1 for row in self._rows.values() if row.done_at is not None)
            leased = sum(1 for row in self._rows.values() if row.done_at is None and row.lease_until > now)
            return {"pending": len(self._rows) - done - leased, "leased": leased, "done": done}
