"""The Flask and FastAPI example apps on real servers, fed by the simulator's signed notifications."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from werkzeug.serving import make_server

import trustly
from examples import fastapi_app, flask_app
from tests.integration.conftest import ACCESS_ID, ACCESS_KEY
from trustly.models import CaptureRequest, EstablishRequest
from trustly.testing import Simulator, SimulatorTransport
from trustly.webhooks import SQLiteInbox

pytestmark = pytest.mark.integration

RETURN_PATH = "/trustly/r%C3%ABturn%7E/ok"  # Werkzeug and Starlette would re-encode this path


@contextlib.contextmanager
def _serve_flask(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.config["worker"].stop()


@contextlib.contextmanager
def _serve_fastapi(app: Any) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _exercise(base: str, tokens: dict[str, str], events: list[tuple[str, str, str]], inbox: SQLiteInbox) -> None:
    url = f"{base}/trustly/notifications"
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=url)
    try:
        with trustly.TrustlyClient(
            base_url="http://127.0.0.1/api/v1", access_id=ACCESS_ID, access_key=ACCESS_KEY,
            transport=SimulatorTransport(sim),
        ) as client:  # fmt: skip
            reference = f"order-{uuid.uuid4().hex[:8]}"
            data = client.sign_establish_data(
                {
                    "merchantId": sim.merchant_id, "merchantReference": reference, "paymentType": "Deferred",
                    "currency": "USD", "amount": "25.00", "returnUrl": f"{base}{RETURN_PATH}",
                    "cancelUrl": f"{base}/trustly/cancel",
                }
            )  # fmt: skip
            established = client.transactions.establish(body=EstablishRequest.from_dict(data))
            transaction_id = str(established.transaction_id)
            redirect = sim.authorize(transaction_id)
            assert redirect.startswith(f"{base}{RETURN_PATH}?")
            page = httpx.get(redirect, timeout=10)
            assert page.status_code == 200, page.text
            assert page.json() == {"page": "r\u00ebturn~/ok", "status": "2", "transactionId": transaction_id}
            assert httpx.get(redirect.replace("status=2", "status=4"), timeout=10).status_code == 400

            _wait(lambda: transaction_id in tokens, "the Authorize event")
            capture = client.transactions.capture(
                transaction_id,
                body=CaptureRequest(
                    merchant_reference=f"{reference}-c", amount="25.00", split_token=tokens[transaction_id]
                ),
            )
            sim.settle_all()
            completed = ("Completed", capture.transaction_id)
            _wait(lambda: any((e[1], e[2]) == completed for e in events), "the Completed event")
        assert sim.notifier.wait_idle(timeout=20)
        # Trustly's redeliveries are acknowledged without a second processing.
        form = "application/x-www-form-urlencoded"
        for event in sim.ledger.events:
            body = urlencode(event).encode()
            headers = {"Authorization": sim.notifier.sign(body), "Content-Type": form}
            assert httpx.post(url, content=body, headers=headers).status_code == 200
        delivered = {e["eventId"] for e in sim.ledger.events}
        _wait(lambda: inbox.counts()["done"] == len(delivered), "every event")
        time.sleep(0.3)  # room for a wrong second processing to show up
        assert sorted(e[0] for e in events) == sorted(delivered)
    finally:
        sim.close()


def test_flask_example(tmp_path: Path) -> None:
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3")
    shop = flask_app.Shop()
    app = flask_app.create_app(access_id=ACCESS_ID, access_key=ACCESS_KEY, inbox=inbox, shop=shop)
    with _serve_flask(app) as base:
        _exercise(base, shop.split_tokens, shop.events, inbox)
    inbox.close()


def test_fastapi_example(tmp_path: Path) -> None:
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3")
    shop = fastapi_app.Shop()
    app = fastapi_app.create_app(access_id=ACCESS_ID, access_key=ACCESS_KEY, inbox=inbox, shop=shop)
    with _serve_fastapi(app) as base:
        _exercise(base, shop.split_tokens, shop.events, inbox)
    inbox.close()
