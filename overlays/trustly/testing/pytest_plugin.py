"""pytest fixtures for testing a Trustly integration against the local simulator.

Installed with the `testing` extra, the plugin loads itself (a `pytest11` entry point named
`trustly`); without the package installed, add `pytest_plugins = ["trustly.testing.pytest_plugin"]`
to a conftest.py, or run `pytest -p trustly.testing.pytest_plugin`.

```python
from trustly.testing import Fault


def test_refund_that_may_have_happened(trustly_client, trustly_faults):
    trustly_faults.add("transactions_refund", Fault.drop_after_applying())
    ...


@pytest.mark.parametrize("trustly_client", ["in-process", "http", "https"], indirect=True)
def test_over_every_transport(trustly_client, trustly_events):
    ...
    event = trustly_events.wait_for("Authorize", object_id=transaction_id)


def test_capture(trustly_client, trustly_simulator, trustly_events):
    ...
    trustly_simulator.authorize(transaction_id)
    token = trustly_simulator.split_token(transaction_id)
    ...
    trustly_simulator.settle(capture.transaction_id)
    trustly_events.wait_for("Completed", object_id=capture.transaction_id)
```

Fixtures (each test gets its own simulator):

- `trustly_simulator`: a `Simulator`; configure it with `@pytest.mark.trustly_simulator(**kwargs)`
  (the `Simulator` arguments, e.g. `lifecycle=LifecycleOptions(...)` or `notification_url=...`).
  Steer it with its test helpers: `authorize(id)` or `abandon(id)` for the customer,
  `split_token(id)` to capture with, `settle(id)` / `settle_all()` / `advance(days=...)` for the
  clock, `pending_notifications()`, `deliver_notifications()` and `drop_notifications(...)` for
  the notifications, `events()` and `applied()` to read what happened.
- `trustly_server`, `trustly_tls_server`: the simulator served over HTTP / HTTPS on 127.0.0.1.
- `trustly_client`, `trustly_async_client`: clients bound to the simulator, in-process by default;
  parametrize them indirectly with `"http"` or `"https"` to go through a real socket.
- `trustly_events`: the event notifications the simulator delivered, signature-checked and parsed.
- `trustly_faults`: the simulator's `FaultPlan`, to make the next calls of an operation fail.

Nothing here imports the simulator until a fixture is used, so the plugin costs nothing in a
pytest run that does not use it, and loads even where the `testing` extra is not installed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from trustly_api_client.models import Event

    from .. import AsyncTrustlyClient, TrustlyClient
    from ._faults import FaultPlan
    from ._server import SimulatorServer
    from ._simulator import Simulator

__all__ = [
    "TrustlyEvents",
    "pytest_configure",
    "trustly_async_client",
    "trustly_client",
    "trustly_events",
    "trustly_faults",
    "trustly_server",
    "trustly_simulator",
    "trustly_simulator_options",
    "trustly_tls_server",
]

DEFAULT_OPTIONS: dict[str, Any] = {"access_id": "simulator-access-id", "access_key": "simulator-access-key"}
"""What `trustly_simulator` is built with unless the test's marker says otherwise."""

TRANSPORTS = ("in-process", "http", "https")


def pytest_configure(config: pytest.Config) -> None:
    """Register the `trustly_simulator` marker."""
    config.addinivalue_line(
        "markers", "trustly_simulator(**options): Simulator arguments for this test's trustly_simulator fixture"
    )


class TrustlyEvents:
    """The notifications a test's simulator delivered, each verified with `trustly.webhooks` and parsed.

    Call it for the events so far; `wait_for` blocks until a matching one arrives.
    """

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._arrived = threading.Condition()

    def add(self, event: Event) -> None:
        """Record a delivered event (the receiving endpoint calls this)."""
        with self._arrived:
            self._events.append(event)
            self._arrived.notify_all()

    def __call__(self) -> list[Event]:
        """Every event delivered so far, in order of arrival."""
        with self._arrived:
            return list(self._events)

    def wait_for(self, event_type: str, *, object_id: str | None = None, timeout: float = 10.0) -> Event:
        """The first delivered event of `event_type` (Trustly's name, e.g. "Authorize") for `object_id`,
        waiting up to `timeout` seconds.

        Raises:
            AssertionError: nothing matching arrived in time; the message lists what did.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self._events:
                    if _wire(event.event_type) == event_type and (object_id is None or event.object_id == object_id):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(_wire(e.event_type), e.object_id) for e in self._events]
                    wanted = f"{event_type} event for {object_id or 'any object'}"
                    raise AssertionError(f"no {wanted} was delivered in {timeout} s; delivered: {seen}")
                self._arrived.wait(remaining)


def _wire(value: object) -> str:
    """An event type as Trustly writes it ("Authorize"), whether the model holds an enum or text."""
    return str(getattr(value, "value", value))


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # pytest's output is for the test's own messages


class _Receiver:
    """One notification endpoint on 127.0.0.1 for the whole session; each simulator gets its own path."""

    def __init__(self) -> None:
        self._apps: dict[str, Callable[..., Iterable[bytes]]] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._server: WSGIServer = make_server("127.0.0.1", 0, self._dispatch, handler_class=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="trustly-receiver", daemon=True
        )
        self._thread.start()

    def endpoint(self, access_id: str, access_key: str, events: TrustlyEvents) -> tuple[str, str]:
        """A new URL whose notifications are verified with these credentials and recorded in `events`."""
        from ..webhooks import InMemoryReplayStore, WebhookHandler

        # max_age=None: `sim.advance()` moves the simulated createdAt ahead of the wall clock.
        handler = WebhookHandler(
            access_key=access_key, access_id=access_id, on_event=events.add, store=InMemoryReplayStore(), max_age=None
        )
        with self._lock:
            self._counter += 1
            path = f"/trustly/{self._counter}"
            self._apps[path] = handler.wsgi
        return path, f"http://127.0.0.1:{self._server.server_port}{path}"

    def forget(self, path: str) -> None:
        with self._lock:
            self._apps.pop(path, None)

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            app = self._apps.get(environ.get("PATH_INFO", ""))
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"this test's simulator is gone"]
        return app(environ, start_response)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def _trustly_receiver() -> Iterator[_Receiver]:
    receiver = _Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def trustly_simulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The `Simulator` arguments of this test: the defaults, updated by its `trustly_simulator` marker."""
    options = dict(DEFAULT_OPTIONS)
    for marker in reversed(list(request.node.iter_markers("trustly_simulator"))):
        options.update(marker.kwargs)
    return options


@pytest.fixture
def trustly_events() -> TrustlyEvents:
    """The event notifications this test's simulator delivered (see `TrustlyEvents`)."""
    return TrustlyEvents()


@pytest.fixture
def trustly_simulator(
    trustly_simulator_options: dict[str, Any], trustly_events: TrustlyEvents, _trustly_receiver: _Receiver
) -> Iterator[Simulator]:
    """A fresh simulator for this test, closed after it.

    Unless the marker names a `notification_url`, its notifications go to an endpoint of the
    plugin that verifies them and records them in `trustly_events`.
    """
    from ._simulator import Simulator

    options = dict(trustly_simulator_options)
    path = None
    if options.get("notification_url") is None:
        path, options["notification_url"] = _trustly_receiver.endpoint(
            options["access_id"], options["access_key"], trustly_events
        )
    simulator = Simulator(**options)
    yield simulator
    simulator.close()
    if path is not None:
        _trustly_receiver.forget(path)


@pytest.fixture
def trustly_faults(trustly_simulator: Simulator) -> FaultPlan:
    """The simulator's fault plan: `trustly_faults.add("transactions_capture", Fault.status(503))`."""
    return trustly_simulator.faults


@pytest.fixture
def trustly_server(trustly_simulator: Simulator) -> Iterator[SimulatorServer]:
    """The simulator served over HTTP on 127.0.0.1; `trustly_server.base_url` is the API root."""
    from ._server import SimulatorServer

    with SimulatorServer(trustly_simulator) as server:
        yield server


@pytest.fixture
def trustly_tls_server(trustly_simulator: Simulator) -> Iterator[SimulatorServer]:
    """The simulator served over HTTPS; trust it with `verify=trustly_tls_server.client_ssl_context()`."""
    from ._server import SimulatorServer

    with SimulatorServer(trustly_simulator, tls=True) as server:
        yield server


def _transport(request: pytest.FixtureRequest) -> str:
    transport = str(getattr(request, "param", "in-process"))
    if transport not in TRANSPORTS:
        raise pytest.UsageError(f"the Trustly client fixtures take one of {TRANSPORTS}, not {transport!r}")
    return transport


def _client_arguments(request: pytest.FixtureRequest, transport: str) -> dict[str, Any]:
    options: dict[str, Any] = request.getfixturevalue("trustly_simulator_options")
    arguments: dict[str, Any] = {"access_id": options["access_id"], "access_key": options["access_key"]}
    if transport == "in-process":
        arguments["base_url"] = "http://127.0.0.1/api/v1"
    else:
        name = "trustly_server" if transport == "http" else "trustly_tls_server"
        server: SimulatorServer = request.getfixturevalue(name)
        arguments["base_url"] = server.base_url
        if transport == "https":
            arguments["verify"] = server.client_ssl_context()
    return arguments


@pytest.fixture
def trustly_client(request: pytest.FixtureRequest, trustly_simulator: Simulator) -> Iterator[TrustlyClient]:
    """A `TrustlyClient` bound to `trustly_simulator`; in-process unless parametrized with "http" or "https"."""
    from .. import TrustlyClient
    from ._transport import SimulatorTransport

    transport = _transport(request)
    arguments = _client_arguments(request, transport)
    if transport == "in-process":
        arguments["transport"] = SimulatorTransport(trustly_simulator)
    with TrustlyClient(**arguments) as client:
        yield client


@pytest.fixture
def trustly_async_client(request: pytest.FixtureRequest, trustly_simulator: Simulator) -> Iterator[AsyncTrustlyClient]:
    """An `AsyncTrustlyClient` bound to `trustly_simulator`, like `trustly_client`.

    A plain (not async) fixture, so it works under any async test runner (anyio, pytest-asyncio);
    it is closed after the test.
    """
    import httpx

    from .. import AsyncTrustlyClient
    from ._transport import AsyncSimulatorTransport

    transport = _transport(request)
    arguments = _client_arguments(request, transport)
    if transport == "in-process":
        arguments["transport"] = AsyncSimulatorTransport(trustly_simulator)
    else:
        # Connections belong to the test's event loop, which is gone at teardown; without
        # keep-alive each one is closed inside the loop, as soon as its response was read.
        arguments["limits"] = httpx.Limits(max_keepalive_connections=0)
    client = AsyncTrustlyClient(**arguments)
    yield client
    asyncio.run(client.close())
