"""Event notifications as Trustly sends them: form-encoded, signed, retried until acknowledged.

Each event is POSTed to the notification URL with `Authorization: Basic base64(accessId:signature)`,
where the signature is the HMAC-SHA1 of the URL-decoded body under the access key. Without a
200 within 3 seconds, Trustly retries every 5 minutes for 12 hours [doc: webhooks page]. Each
event keeps its own schedule on the simulated clock, so one endpoint failure delays only that
event: the others go out when they fall due.
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
    attempts: int = 0


class Notifier:
    """Delivers events when they fall due on the simulated clock, from a background thread.

    Args:
        url: The merchant's notification URL; None keeps events in the ledger only.
        events: The ledger's event list (appended to under `lock`).
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
    ) -> None:
        self.url = url
        self._access_id = access_id
        self._access_key = access_key
        self._events, self._ledger_lock, self._now = events, lock, now_ms
        self._retry_every, self._retry_for = span_ms(retry_every), span_ms(retry_for)
        self._seen = 0
        self.pending: list[Delivery] = []
        self.delivered: list[dict[str, str]] = []
        self.given_up: list[dict[str, str]] = []
        self.attempts = 0
        self._wake = threading.Condition()
        self._sending = threading.Lock()  # one sender at a time keeps each event's attempts ordered
        self._closed = False
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None  # one pool for every attempt: building one is slow

    def __repr__(self) -> str:
        return f"Notifier(url={self.url!r}, pending={len(self.pending)}, delivered={len(self.delivered)})"

    def sign(self, body: bytes) -> str:
        signature = notification_signature(body, self._access_key)
        return "Basic " + base64.b64encode(f"{self._access_id}:{signature}".encode()).decode()

    def _collect(self) -> None:
        with self._ledger_lock:
            fresh = self._events[self._seen :]
            self._seen = len(self._events)
        for event in fresh:
            created = int(event["createdAt"])
            self.pending.append(Delivery(event, created, created + self._retry_for))

    def next_due(self) -> int | None:
        """The simulated moment the next attempt falls due, if any."""
        with self._sending:
            self._collect()
            return min((d.due_ms for d in self.pending), default=None) if self.url else None

    def flush(self) -> None:
        """Start sending whatever is due now, in the background."""
        if self.url is None:
            return
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trustly-simulator-notifier", daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def send_due(self, now_ms: int | None = None) -> None:
        """Attempt, in order, every delivery due at `now_ms` (the clock's now by default)."""
        if self.url is None or self._closed:
            return
        with self._sending:
            self._collect()
            now = self._now() if now_ms is None else now_ms
            due = sorted((d for d in self.pending if d.due_ms <= now), key=lambda d: d.due_ms)
            if not due:
                return
            if self._client is None:
                self._client = httpx.Client(timeout=3.0)
            for delivery in due:
                if self._closed:
                    return
                self._attempt(self._client, delivery)

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        body = urlencode(delivery.event).encode()
        headers = {"Authorization": self.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
        self.attempts += 1
        delivery.attempts += 1
        try:
            acknowledged = client.post(self.url or "", content=body, headers=headers).status_code == 200
        except httpx.HTTPError:
            acknowledged = False
        if acknowledged:
            self.pending.remove(delivery)
            self.delivered.append(delivery.event)
            return
        delivery.due_ms += self._retry_every
        if delivery.due_ms > delivery.give_up_ms:
            self.pending.remove(delivery)
            self.given_up.append(delivery.event)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is due now (later retries wait for the clock); False on timeout."""
        if self.url is None:
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
