"""Real servers on 127.0.0.1 for the integration layer: the simulator and a notification endpoint."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

import trustly
from trustly.models import Event
from trustly.testing import Realism, Simulator, SimulatorServer
from trustly.webhooks import WebhookHandler

ACCESS_ID = "it-access-id"
ACCESS_KEY = "it-access-key-secret"
REALISM = Realism()
"""Every simulator that a client talks to in this suite answers as untidily as Trustly may."""


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class Endpoint:
    """A merchant notification endpoint (WSGI on wsgiref) collecting verified events."""

    def __init__(self, fail_first: int = 0) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.fail_first = fail_first
        self.calls = 0
        # max_age=None: the simulated clock runs ahead of the wall clock the freshness check reads.
        self.handler = WebhookHandler(access_key=ACCESS_KEY, access_id=ACCESS_ID, on_event=self._on_event, max_age=None)
        self.server: WSGIServer = make_server("127.0.0.1", 0, self.handler.wsgi, handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/trustly/notifications"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _on_event(self, event: Event) -> None:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError("not yet")
        self.events.put(event)

    def wait_for(self, event_type: str, object_id: str, timeout: float = 10.0) -> Event:
        while True:
            event = self.events.get(timeout=timeout)
            if event.event_type == event_type and event.object_id == object_id:
                return event

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    yield e
    e.close()


@pytest.fixture
def sim(endpoint: Endpoint) -> Iterator[Simulator]:
    s = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=endpoint.url, realism=REALISM)
    yield s
    s.close()


@pytest.fixture
def server(sim: Simulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[trustly.TrustlyClient]:
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as c:
        yield c


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server for this test session (Unix socket only); yields its conninfo."""
    from tests.integration.postgres import PostgresServer

    with PostgresServer() as server:
        yield server.conninfo
