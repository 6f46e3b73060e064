"""Event notifications as Trustly sends them: form-encoded, signed, retried until acknowledged.

Each event is POSTed to the notification URL with `Authorization: Basic base64(accessId:signature)`,
where the signature is the HMAC-SHA1 of the URL-decoded body under the access key. Without a
200 within 3 seconds, Trustly retries every 5 minutes for 12 hours; the simulator keeps the same
schedule on its compressed clock (`time_scale` seconds per minute).
"""

from __future__ import annotations

import base64
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from .._signatures import notification_signature

if TYPE_CHECKING:
    from ._simulator import Simulator

__all__ = ["Notifier"]


class Notifier:
    """Delivers `ledger.events` in order from a background thread."""

    def __init__(self, sim: Simulator, url: str | None, access_id: str, access_key: str, time_scale: float) -> None:
        self._sim = sim
        self.url = url
        self._access_id = access_id
        self._access_key = access_key
        self._retry_every = 5 * time_scale
        self._give_up_after = 12 * 60 * time_scale
        self._sent = 0
        self.delivered: list[dict[str, str]] = []
        self.attempts = 0
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def sign(self, body: bytes) -> str:
        signature = notification_signature(body, self._access_key)
        return "Basic " + base64.b64encode(f"{self._access_id}:{signature}".encode()).decode()

    def flush(self) -> None:
        """Start delivering whatever events are new."""
        if self.url is None:
            return
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trustly-simulator-notifier", daemon=True)
                self._thread.start()
            self._idle.clear()
            self._wake.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every event so far was acknowledged (or given up on)."""
        if self.url is None:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._sim.ledger.lock:
                pending = self._sent < len(self._sim.ledger.events)
            if not pending and self._idle.is_set():
                return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        assert self.url is not None
        with httpx.Client(timeout=3.0) as client:
            while True:
                with self._wake:
                    while not self._closed and self._sent >= len(self._sim.ledger.events):
                        self._idle.set()
                        self._wake.wait()
                    if self._closed:
                        return
                    event: dict[str, Any] = self._sim.ledger.events[self._sent]
                self._deliver(client, event)
                self._sent += 1

    def _deliver(self, client: httpx.Client, event: dict[str, Any]) -> None:
        body = urlencode(event).encode()
        headers = {"Authorization": self.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
        give_up = time.monotonic() + self._give_up_after
        while not self._closed:
            self.attempts += 1
            try:
                response = client.post(self.url or "", content=body, headers=headers)
                if response.status_code == 200:
                    self.delivered.append(event)
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > give_up:
                return
            time.sleep(self._retry_every)
