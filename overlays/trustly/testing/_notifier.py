"""Event notifications as Trustly sends them: form-encoded, signed, retried until acknowledged.

Each event is POSTed to the notification URL with `Authorization: Basic base64(accessId:signature)`,
where the signature is the HMAC-SHA1 of the URL-decoded body under the access key. Without a
200 within 3 seconds, Trustly retries every 5 minutes for 12 hours [doc: webhooks page]. Each
event keeps its own schedule on the simulated clock, so one endpoint failure delays only that
event: the others go out when they fall due. Each event goes to the URL `url_for` names (a
payment's own notificationUrl), or else to the simulator's notification URL; an event with
neither stays in the ledger only.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from .._signatures import notification_signature
from ._clock import span_ms

__all__ = ["Delivery", "Notifier"]


@dataclass
class Delivery:
    """One event on its way: when it is next due and when Trustly stops trying."""

    event: dict[str, Any]
    due_ms: int
    give_up_ms: int
    url: str
    attempts: int = 0


class Notifier:
    """Delivers events when they fall due on the simulated clock, from a background thread.

    Args:
        url: The merchant's notification URL; None keeps events in the ledger only.
        events: The ledger's event list (appended to under `lock`).
        url_for: Where one event goes instead of `url` (called under `lock`); None if nowhere else.
        now_ms: The simulated clock.
        retry_every, retry_for: Trustly's retry schedule.
    """

    def __init__(
        self,
        url: str | None,
        access_id: str,
        access_key: str,
        *,
        events: list[dict[str, str]],
        lock: threading.RLock,
        now_ms: Callable[[], int],
        retry_every: timedelta = timedelta(minutes=5),
        retry_for: timedelta = timedelta(hours=12),
        url_for: Callable[[dict[str, str]], str | None] | None = None,
    ) -> None:
        self.url = url
        self.url_for = url_for
        self._access_id = access_id
        self._access_key = access_key
        self._events, self._ledger_lock, self._now = events, lock, now_ms
        self._retry_every, self._retry_for = span_ms(retry_every), span_ms(retry_for)
        self._seen = 0
        self.pending: list[Delivery] = []
        self.delivered: list[dict[str, str]] = []
        self.given_up: list[dict[str, str]] = []
        self.dropped: list[dict[str, str]] = []
        self.attempts = 0
        self._wake = threading.Condition()
        self._sending = threading.Lock()  # one sender at a time keeps each event's attempts ordered
        self._closed = False
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None  # one pool for every attempt: building one is slow

    def __repr__(self) -> str:
        return f"Notifier(url={self.url!r}, pending={len(self.pending)}, delivered={len(self.delivered)})"

    def sign(self, body: bytes) -> str:
        """The Authorization header Trustly sends with this notification body."""
        signature = notification_signature(body, self._access_key)
        return "Basic " + base64.b64encode(f"{self._access_id}:{signature}".encode()).decode()

    def _collect(self) -> None:
        with self._ledger_lock:
            fresh = [(event, self._target(event)) for event in self._events[self._seen :]]
            self._seen = len(self._events)
        for event, url in fresh:
            if url is not None:
                created = int(event["createdAt"])
                self.pending.append(Delivery(event, created, created + self._retry_for, url))

    def _target(self, event: dict[str, str]) -> str | None:
        own = self.url_for(event) if self.url_for is not None else None
        return own or self.url

    def next_due(self) -> int | None:
        """The simulated moment the next attempt falls due, if any."""
        with self._sending:
            self._collect()
            return min((d.due_ms for d in self.pending), default=None)

    def flush(self) -> None:
        """Start sending whatever is due now, in the background."""
        if self.url is None and self.url_for is None:
            return
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trustly-simulator-notifier", daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def send_due(self, now_ms: int | None = None) -> None:
        """Attempt, in order, every delivery due at `now_ms` (the clock's now by default)."""
        if self._closed:
            return
        with self._sending:
            self._collect()
            now = self._now() if now_ms is None else now_ms
            self._send(sorted((d for d in self.pending if d.due_ms <= now), key=lambda d: d.due_ms))

    def send_all(self) -> int:
        """Attempt every pending delivery now, whenever its next attempt falls due; return how
        many were acknowledged. One refused keeps its retry schedule as it was."""
        with self._sending:
            self._collect()
            before = len(self.delivered)
            self._send(sorted(self.pending, key=lambda d: d.due_ms), scheduled=False)
            return len(self.delivered) - before

    def drop(self, test: Callable[[dict[str, str]], bool]) -> list[dict[str, str]]:
        """Take every pending delivery whose event passes `test` off the schedule, unsent; return
        their events (also kept in `dropped`)."""
        with self._sending:
            self._collect()
            gone = [d for d in self.pending if test(d.event)]
            self.pending = [d for d in self.pending if not test(d.event)]
            self.dropped.extend(d.event for d in gone)
            return [d.event for d in gone]

    def waiting(self) -> list[dict[str, str]]:
        """The events not yet acknowledged, in order of their next attempt."""
        with self._sending:
            self._collect()
            return [d.event for d in sorted(self.pending, key=lambda d: d.due_ms)]

    def _send(self, due: list[Delivery], *, scheduled: bool = True) -> None:
        if not due or self._closed:
            return
        if self._client is None:
            self._client = httpx.Client(timeout=3.0)
        for delivery in due:
            if self._closed:
                return
            self._attempt(self._client, delivery, scheduled=scheduled)

    def _attempt(self, client: httpx.Client, delivery: Delivery, *, scheduled: bool = True) -> None:
        body = urlencode(delivery.event).encode()
        headers = {"Authorization": self.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
        self.attempts += 1
        delivery.attempts += 1
        try:
            acknowledged = client.post(delivery.url, content=body, headers=headers).status_code == 200
        except httpx.HTTPError:
            acknowledged = False
        if acknowledged:
            self.pending.remove(delivery)
            self.delivered.append(delivery.event)
            return
        if not scheduled:
            return  # an extra attempt a test asked for: Trustly's own schedule stays as it was
        delivery.due_ms += self._retry_every
        if delivery.due_ms > delivery.give_up_ms:
            self.pending.remove(delivery)
            self.given_up.append(delivery.event)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is due now (later retries wait for the clock); False on timeout."""
        if self.url is None and self.url_for is None:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.flush()
            with self._sending:
                self._collect()
                now = self._now()
                if not any(d.due_ms <= now for d in self.pending):
                    return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        """Stop the sending thread and close its connections."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._sending:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._closed:
                    return
                self._wake.wait(timeout=0.05)
                if self._closed:
                    return
            self.send_due()
