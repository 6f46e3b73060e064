"""The transactional inbox: notifications are stored durably on receipt and processed by workers.

Trustly needs a 200 within 3 seconds and redelivers every 5 minutes for 12 hours otherwise. So
the HTTP endpoint only verifies a notification and inserts it (insert-if-absent by eventId), then
answers; workers, in any process on any host sharing the store, claim stored events one at a time
under a lease, call your function and mark the event done:

- a redelivery of a stored eventId is acknowledged and not stored again;
- a worker that dies mid-event stops renewing its lease; when the lease runs out another
  worker claims the event and calls your function again (at-least-once);
- a completed event is never claimed again, however often Trustly redelivers it;
- a function that raises releases the event for another try after a backoff.

Your function may therefore see an event again only if a worker died (or lost its lease) before
marking it done: make its effects idempotent by eventId, or commit them in the same database
transaction as your own state.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._parsing import event_fields, model_event

if TYPE_CHECKING:
    from trustly_api_client.models import Event

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RETENTION",
    "AsyncInboxWorker",
    "Claim",
    "Inbox",
    "InboxWorker",
    "is_coroutine_function",
    "new_token",
]

DEFAULT_LEASE = 30.0
"""Seconds a claim lasts without renewal; a running worker renews it every third of that."""

DEFAULT_RETENTION = 7 * 24 * 3600.0
"""Seconds completed events are remembered: well past Trustly's 12 hours of redelivery and the
freshness window, so a replayed notification is still recognised or already too old."""

_log = logging.getLogger("trustly.webhooks")


def new_token() -> str:
    """A claim token naming the claiming worker (host and pid, for operators) plus a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class Claim:
    """One stored notification leased to one worker. `token` fences renewals and completion."""

    event_id: str
    body: bytes
    content_type: str
    token: str
    attempts: int

    def __repr__(self) -> str:
        return f"Claim(event_id={self.event_id!r}, attempts={self.attempts})"


@runtime_checkable
class Inbox(Protocol):
    """Durable storage for verified notifications, shared by receivers and workers.

    Implementations: `InMemoryInbox` (one process, tests), `SQLiteInbox` (many processes on one
    host), `PostgresInbox` (many hosts). Every method is atomic across processes.
    """

    def put(self, event_id: str, body: bytes, content_type: str) -> bool:
        """Store a verified notification unless its eventId is known; True if it was new."""
        ...

    def claim(self, lease: float) -> Claim | None:
        """Lease the oldest event that is due and not done or leased; None when there is none."""
        ...

    def extend(self, claim: Claim, lease: float) -> bool:
        """Renew the lease for `lease` seconds from now; False if the claim was lost."""
        ...

    def complete(self, claim: Claim) -> bool:
        """Mark the event done; False (and nothing changed) if the claim was lost meanwhile."""
        ...

    def release(self, claim: Claim, *, delay: float, error: str) -> bool:
        """Give the event back, claimable again after `delay` seconds; False if the claim was lost."""
        ...

    def purge(self, older_than: float) -> int:
        """Forget events completed more than `older_than` seconds ago; the number forgotten."""
        ...

    def counts(self) -> dict[str, int]:
        """How many events are `pending` (due or waiting), `leased` and `done` now."""
        ...


def is_coroutine_function(func: object) -> bool:
    """True for `async def` functions and objects whose `__call__` is one (partials included)."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))  # noqa: B004


def _backoff(attempts: int, first: float, cap: float) -> float:
    return float(min(cap, first * 2 ** max(0, attempts - 1)))


def _describe(exc: BaseException) -> str:
    # Only the type and message: a traceback could carry locals with customer data.
    return f"{type(exc).__name__}: {exc}"[:500]


class _Settings:
    def __init__(self, lease: float, poll_interval: float, retry_delay: float, max_retry_delay: float) -> None:
        if lease <= 0 or poll_interval <= 0 or retry_delay < 0 or max_retry_delay < retry_delay:
            raise ValueError("lease and poll_interval must be positive; 0 <= retry_delay <= max_retry_delay")
        self.lease = lease
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay


class _Purger:
    """Forgets old completed events at most every 10 minutes, from whichever worker comes by."""

    def __init__(self, inbox: Inbox, retention: float | None) -> None:
        self._inbox = inbox
        self._retention = retention
        self._next = 0.0

    def maybe_purge(self) -> None:
        if self._retention is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + 600
        try:
            self._inbox.purge(self._retention)
        except Exception as exc:
            _log.error("trustly webhook worker: purge failed: %s", _describe(exc))


def _event_of(claim: Claim) -> Event:
    return model_event(event_fields(claim.body, claim.content_type))


class InboxWorker:
    """Claims stored notifications, calls `on_event` for each, and marks them done.

    Run one or more per process (`start()` for a background thread, or `run()` / `process_next()`
    under your own loop). While `on_event` runs, a helper thread renews the lease, so a slow but
    living worker keeps its event and a dead one gives it up after `lease` seconds.
    """

    def __init__(
        self,
        inbox: Inbox,
        on_event: Callable[[Event], None],
        *,
        lease: float = DEFAULT_LEASE,
        poll_interval: float = 0.5,
        retry_delay: float = 5.0,
        max_retry_delay: float = 300.0,
        retention: float | None = DEFAULT_RETENTION,
    ) -> None:
        if is_coroutine_function(on_event):
            raise TypeError("on_event is a coroutine function: use AsyncInboxWorker")
        self.inbox = inbox
        self._on_event = on_event
        self._settings = _Settings(lease, poll_interval, retry_delay, max_retry_delay)
        self._purger = _Purger(inbox, retention)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def process_next(self) -> bool:
        """Claim and process one event; False when none was due."""
        settings = self._settings
        claim = self.inbox.claim(settings.lease)
        if claim is None:
            return False
        stop_renewing = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(claim, stop_renewing), name="trustly-inbox-lease", daemon=True
        )
        renewer.start()
        try:
            self._on_event(_event_of(claim))
        except Exception as exc:
            stop_renewing.set()
            renewer.join()
            delay = _backoff(claim.attempts, settings.retry_delay, settings.max_retry_delay)
            _log.warning(
                "trustly webhook event %s failed (attempt %d), retried in %.0f s: %s",
                claim.event_id, claim.attempts, delay, _describe(exc),
                extra={"trustly_event_id": claim.event_id},
            )  # fmt: skip
            self.inbox.release(claim, delay=delay, error=_describe(exc))
            return True
        stop_renewing.set()
        renewer.join()
        if not self.inbox.complete(claim):
            _log.warning("trustly webhook event %s: lease lost before completion", claim.event_id)
        return True

    def _renew(self, claim: Claim, stop: threading.Event) -> None:
        lease = self._settings.lease
        while not stop.wait(lease / 3):
            if not self.inbox.extend(claim, lease):
                _log.warning("trustly webhook event %s: lease lost while processing", claim.event_id)
                return

    def run_until_idle(self) -> int:
        """Process events until none is due; the number processed."""
        done = 0
        while self.process_next():
            done += 1
        return done

    def run(self) -> None:
        """Process events until `stop()`; sleep `poll_interval` whenever none is due."""
        while not self._stop.is_set():
            self._purger.maybe_purge()
            try:
                busy = self.process_next()
            except Exception as exc:  # the store is unreachable: keep the worker alive and retry
                _log.error("trustly webhook worker: store error: %s", _describe(exc))
                busy = False
            if not busy:
                self._stop.wait(self._settings.poll_interval)

    def start(self) -> InboxWorker:
        """Run in a daemon thread; returns self (use `stop()` to end it)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="trustly-inbox-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end after the current event and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


class AsyncInboxWorker:
    """`InboxWorker` for an `async def on_event`: the store is called in worker threads."""

    def __init__(
        self,
        inbox: Inbox,
        on_event: Callable[[Event], Awaitable[None]],
        *,
        lease: float = DEFAULT_LEASE,
        poll_interval: float = 0.5,
        retry_delay: float = 5.0,
        max_retry_delay: float = 300.0,
        retention: float | None = DEFAULT_RETENTION,
    ) -> None:
        if not is_coroutine_function(on_event):
            raise TypeError("on_event is not a coroutine function: use InboxWorker")
        self.inbox = inbox
        self._on_event = on_event
        self._settings = _Settings(lease, poll_interval, retry_delay, max_retry_delay)
        self._purger = _Purger(inbox, retention)
        self._stopping = False

    async def process_next(self) -> bool:
        """Claim and process one event; False when none was due."""
        settings = self._settings
        claim = await asyncio.to_thread(self.inbox.claim, settings.lease)
        if claim is None:
            return False
        renewer = asyncio.ensure_future(self._renew(claim))
        try:
            await self._on_event(_event_of(claim))
        except Exception as exc:
            renewer.cancel()
            delay = _backoff(claim.attempts, settings.retry_delay, settings.max_retry_delay)
            _log.warning(
                "trustly webhook event %s failed (attempt %d), retried in %.0f s: %s",
                claim.event_id, claim.attempts, delay, _describe(exc),
            )  # fmt: skip
            await asyncio.to_thread(self.inbox.release, claim, delay=delay, error=_describe(exc))
            return True
        renewer.cancel()
        if not await asyncio.to_thread(self.inbox.complete, claim):
            _log.warning("trustly webhook event %s: lease lost before completion", claim.event_id)
        return True

    async def _renew(self, claim: Claim) -> None:
        lease = self._settings.lease
        while True:
            await asyncio.sleep(lease / 3)
            if not await asyncio.to_thread(self.inbox.extend, claim, lease):
                _log.warning("trustly webhook event %s: lease lost while processing", claim.event_id)
                return

    async def run_until_idle(self) -> int:
        """Process events until none is due; the number processed."""
        done = 0
        while await self.process_next():
            done += 1
        return done

    async def run(self) -> None:
        """Process events until `stop()` (or cancellation)."""
        self._stopping = False
        while not self._stopping:
            await asyncio.to_thread(self._purger.maybe_purge)
            try:
                busy = await self.process_next()
            except Exception as exc:
                _log.error("trustly webhook worker: store error: %s", _describe(exc))
                busy = False
            if not busy:
                await asyncio.sleep(self._settings.poll_interval)

    def stop(self) -> None:
        """Let `run()` return after the current event."""
        self._stopping = True
