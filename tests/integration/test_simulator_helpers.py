"""The simulator's public test helpers, in-process and through their HTTP twins under /_simulator/,
and where a payment's own notificationUrl sends its events."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

import trustly
from trustly.models import CaptureRequest, TransactionStatus
from trustly.testing import Simulator, SimulatorServer, SimulatorTransport

from .conftest import ACCESS_ID, ACCESS_KEY, Endpoint
from .flows import authorized, establish

pytestmark = pytest.mark.integration


@pytest.fixture
def refusing() -> Iterator[Endpoint]:
    e = Endpoint(fail_first=10**6)  # answers 500 to every notification
    yield e
    e.close()


def _client(sim: Simulator) -> trustly.TrustlyClient:
    return trustly.TrustlyClient(
        base_url="http://127.0.0.1/api/v1",
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=SimulatorTransport(sim),
    )


def test_split_token_settle_events_and_applied() -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY)
    with _client(sim) as client:
        new, _ = establish(client, sim)
        with pytest.raises(ValueError, match="has not been authorized"):
            sim.split_token(new)
        with pytest.raises(ValueError, match="not found"):
            sim.split_token("404404")
        sim.authorize(new)
        token = sim.split_token(new)
        authorize = [e for e in sim.events() if e["eventType"] == "Authorize" and e["objectId"] == new]
        assert [e["splitToken"] for e in authorize] == [token]  # what the notification carries

        capture = client.transactions.capture(
            new, body=CaptureRequest(merchant_reference="h-c1", amount="10.00", split_token=token)
        )
        assert sim.applied() == [("transactions_capture", str(capture.transaction_id), "h-c1")]
        with pytest.raises(ValueError, match="not a money movement"):
            sim.settle(new)  # the authorization itself does not settle
        assert sim.settle(str(capture.transaction_id)) == "4"
        assert client.transactions.get(str(capture.transaction_id)).status is TransactionStatus.COMPLETED
        with pytest.raises(ValueError, match="not a money movement on its way"):
            sim.settle(str(capture.transaction_id))
        kinds = [e["eventType"] for e in sim.events() if e["objectId"] == capture.transaction_id]
        assert kinds[-2:] == ["Process", "Completed"]
        events = sim.events()
        events[0]["eventType"] = "changed"
        assert sim.events()[0]["eventType"] != "changed"  # a copy: the record cannot be edited by accident
        assert sim.pending_notifications() == [] and sim.deliver_notifications() == 0  # nowhere to send
    sim.close()


def test_pending_notifications_are_delivered_or_dropped_on_demand(refusing: Endpoint) -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=refusing.url)
    try:
        with _client(sim) as client:
            first, _ = authorized(client, sim)
            assert sim.notifier.wait_idle()  # the first attempts were made and refused
            pending = sim.pending_notifications()
            assert {e["eventType"] for e in pending} == {"Establish", "Authorize"}
            assert sim.deliver_notifications() == 0  # refused again; they keep retrying on the clock
            attempts = refusing.calls

            dropped = sim.drop_notifications(event_type="Authorize", object_id=first)
            assert [(e["eventType"], e["objectId"]) for e in dropped] == [("Authorize", first)]
            assert [e["eventType"] for e in sim.pending_notifications()] == ["Establish"]
            sim.advance(minutes=5)  # one retry falls due: only the Establish event is sent
            assert refusing.calls == attempts + 1

            refusing.fail_first = 0  # the merchant's endpoint is back
            assert sim.deliver_notifications() == 1
            assert refusing.wait_for("Establish", first).object_id == first
            assert sim.pending_notifications() == [] and sim.drop_notifications() == []
    finally:
        sim.close()


def test_signed_notifications_for_a_hand_made_post() -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY)
    with _client(sim) as client:
        establish(client, sim)
    body = urlencode(sim.events()[0]).encode()
    handler = trustly.webhooks.WebhookHandler(access_key=ACCESS_KEY, access_id=ACCESS_ID, on_event=lambda e: None)
    assert handler.handle(body, {"Authorization": sim.sign_notification(body)})[0] == 200
    assert handler.handle(body, {"Authorization": sim.sign_notification(body + b"x")})[0] == 401
    sim.close()


def test_every_helper_over_http(refusing: Endpoint) -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=refusing.url)
    with SimulatorServer(sim) as server, httpx.Client(base_url=server.base_url.removesuffix("/api/v1")) as web:
        with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as client:
            transaction_id, reference = establish(client, sim)
            authorized_ = web.post(f"/_simulator/authorize/{transaction_id}", data={"username": "u1"}).json()
            assert client.verify_redirect(authorized_["redirectUrl"], merchant_reference=reference).status.value == "2"
            token = web.get(f"/_simulator/split-token/{transaction_id}").json()["splitToken"]
            assert token == authorized_["splitToken"] == sim.split_token(transaction_id)
            failed = establish(client, sim)[0]
            login_error = web.post(f"/_simulator/authorize/{failed}", data={"password": "LoginError"}).json()
            assert "splitToken" not in login_error and "status=7" in login_error["redirectUrl"]
            assert web.get(f"/_simulator/split-token/{failed}").status_code == 400

            capture = client.transactions.capture(
                transaction_id, body=CaptureRequest(merchant_reference="hh-1", amount="10.00", split_token=token)
            )
            assert web.post(f"/_simulator/settle/{capture.transaction_id}").json() == {"status": "4"}
            assert web.post(f"/_simulator/settle/{capture.transaction_id}").status_code == 400
            assert web.post("/_simulator/settle").status_code == 200

            closed = establish(client, sim)[0]
            canceled = web.post(f"/_simulator/cancel/{closed}").json()["redirectUrl"]
            assert client.verify_redirect(canceled).status is TransactionStatus.CANCELED

            assert sim.notifier.wait_idle()
            pending = web.get("/_simulator/notifications").json()["pending"]
            assert pending == sim.pending_notifications() and len(pending) > 3
            assert web.post("/_simulator/notifications/deliver").json() == {"delivered": 0}
            dropped = web.post("/_simulator/notifications/drop", data={"objectId": closed}).json()["dropped"]
            assert dropped and {e["objectId"] for e in dropped} == {closed}
            everything = web.post("/_simulator/notifications/drop").json()["dropped"]
            assert len(everything) == len(pending) - len(dropped)
            assert web.get("/_simulator/notifications").json() == {"pending": []}
    sim.close()


@pytest.mark.parametrize("served", [True, False], ids=["served", "in-process"])
def test_a_payments_notification_url(endpoint: Endpoint, served: bool) -> None:
    """Served, the simulator posts a payment's events to the notificationUrl its Establish Data
    named; in-process it keeps sending to its own notification_url (a test's made-up shop URL
    is never called)."""
    own = Endpoint()
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=endpoint.url)
    try:
        if served:
            with SimulatorServer(sim) as server:
                with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as c:
                    transaction_id, _ = authorized(c, sim, notificationUrl=own.url)
                    plain, _ = authorized(c, sim)  # no notificationUrl of its own
                    assert own.wait_for("Authorize", transaction_id).object_id == transaction_id
                    assert endpoint.wait_for("Authorize", plain).object_id == plain
                    assert sim.notifier.wait_idle()
                    assert {e.object_id for e in _drain(own)} <= {transaction_id}
                    assert transaction_id not in {e.object_id for e in _drain(endpoint)}
        else:
            with _client(sim) as c:
                transaction_id, _ = authorized(c, sim, notificationUrl=own.url)
                assert endpoint.wait_for("Authorize", transaction_id).object_id == transaction_id
                assert sim.notifier.wait_idle() and own.calls == 0
    finally:
        sim.close()
        own.close()


def _drain(endpoint: Endpoint) -> list[trustly.models.Event]:
    time.sleep(0)  # the endpoint's queue holds what arrived; nothing more is due
    events = []
    while not endpoint.events.empty():
        events.append(endpoint.events.get_nowait())
    return events


@pytest.mark.parametrize("moment", ["during the banner", "while serving"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_served_simulator_stops_on_signal_even_with_sigint_ignored(signum: int, moment: str) -> None:
    # Started in the background by a shell, a process inherits SIGINT as ignored; SIGTERM is how
    # service managers stop one. Either must end the server cleanly, whenever it arrives once the
    # banner has begun (the handlers are set before it).
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "overlays"), str(root / "generated")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "trustly.testing", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Trustly simulator at http://127.0.0.1:")
        if moment == "while serving":
            for line in process.stdout:
                if line.startswith("Serving until"):
                    break
        process.send_signal(signum)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
