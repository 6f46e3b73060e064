"""The client against the simulator over real HTTP(S) on 127.0.0.1."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

import trustly
from trustly.models import (
    AccountRequest,
    AuthorizeEvent,
    BankAccount,
    CaptureRequest,
    CustomerInput,
    Event,
    RefundRequest,
    TransactionStatus,
    TransactionType,
)
from trustly.testing import Simulator, SimulatorServer, SimulatorTransport

from .conftest import ACCESS_ID, ACCESS_KEY, REALISM, Endpoint
from .flows import authorized, captured, establish

pytestmark = pytest.mark.integration


def test_full_flow_signed_establish_capture_refund_list(
    client: trustly.TrustlyClient, sim: Simulator, endpoint: Endpoint
) -> None:
    transaction_id, reference = establish(client, sim, amount="80.00")
    redirect = sim.authorize(transaction_id)
    assert client.verify_redirect(redirect, merchant_reference=reference).transaction_id == transaction_id
    event = endpoint.wait_for("Authorize", transaction_id)
    assert isinstance(event, AuthorizeEvent) and isinstance(event.split_token, str)

    capture = client.transactions.capture(
        transaction_id,
        body=CaptureRequest(merchant_reference=f"{reference}-c1", amount="80.00", split_token=event.split_token),
    )
    assert capture.transaction_type is TransactionType.CAPTURE and capture.status is TransactionStatus.AUTHORIZED
    with pytest.raises(trustly.BadRequestError, match="Authorized"):  # refunds wait for completion
        client.transactions.refund(capture.transaction_id, body=RefundRequest(merchant_reference="r0", amount="1.00"))
    sim.advance(hours=1)
    endpoint.wait_for("Process", capture.transaction_id)
    assert client.transactions.get(capture.transaction_id).status is TransactionStatus.PROCESSED
    sim.advance(days=3)
    endpoint.wait_for("Completed", capture.transaction_id)
    assert client.transactions.get(capture.transaction_id).status is TransactionStatus.COMPLETED

    refund = client.transactions.refund(
        capture.transaction_id, body=RefundRequest(merchant_reference="r1", amount="30.00")
    )
    assert refund.transaction_type is TransactionType.REFUND and refund.amount == Decimal("30.00")
    refunded = client.transactions.get(capture.transaction_id)
    assert refunded.refunded == Decimal("30.00") and refunded.status is TransactionStatus.PARTIALLY_REFUNDED

    listed = list(client.transactions.list_all(page_size=1))
    assert [t.transaction_id for t in listed] == [refund.transaction_id, capture.transaction_id, transaction_id]


def test_a_repeated_capture_reference_is_code_210(client: trustly.TrustlyClient, sim: Simulator) -> None:
    transaction_id, token = authorized(client, sim)
    body = CaptureRequest(merchant_reference="same-ref", amount="10.00", split_token=token)
    client.transactions.capture(transaction_id, body=body)
    with pytest.raises(trustly.DuplicateRequestError) as caught:
        client.transactions.capture(transaction_id, body=body)
    assert caught.value.code == 210 and caught.value.status_code == 400


def test_invalid_requests_get_the_error_envelope(client: trustly.TrustlyClient, server: SimulatorServer) -> None:
    with pytest.raises(trustly.NotFoundError) as missing:
        client.transactions.get("999")
    assert missing.value.code == 330
    raw = httpx.post(
        f"{server.base_url}/transactions/1/capture",
        data={"merchantReference": "x", "amount": "ten", "splitToken": "t"},
        auth=(ACCESS_ID, ACCESS_KEY),
    )
    assert raw.status_code == 400
    assert raw.json()["errors"][0]["code"] == 200 and "amount" in raw.json()["errors"][0]["location"]
    unauthenticated = httpx.get(f"{server.base_url}/countries")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["errors"][0]["code"] == 375


def test_wrong_credentials_are_an_authentication_error(server: SimulatorServer) -> None:
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key="wrong") as bad:
        with pytest.raises(trustly.AuthenticationError) as caught:
            bad.countries.list()
    assert caught.value.code == 375


def test_notifications_are_retried_until_acknowledged(client: trustly.TrustlyClient) -> None:
    endpoint = Endpoint(fail_first=2)
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=endpoint.url, realism=REALISM)
    try:
        with SimulatorServer(sim) as server:
            with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as c:
                transaction_id, _ = establish(c, sim)
                sim.authorize(transaction_id)
                assert sim.notifier.wait_idle()
                sim.advance(minutes=10)  # Trustly retries every 5 minutes
                event = endpoint.wait_for("Authorize", transaction_id)
                assert event.event_type == "Authorize"
        assert sim.notifier.attempts >= 3
        assert len({e["eventId"] for e in sim.notifier.delivered}) == len(sim.notifier.delivered)
    finally:
        sim.close()
        endpoint.close()


def test_demo_bank_keyphrases(client: trustly.TrustlyClient, sim: Simulator) -> None:
    transaction_id, _ = establish(client, sim)
    cancel = sim.authorize(transaction_id, password="LoginError")
    assert client.verify_redirect(cancel).status is TransactionStatus.CANCELED
    assert cancel.startswith("https://shop.example/cancel")

    poor, _ = establish(client, sim)
    sim.authorize(poor, password="NotEnoughFunds")
    token = sim.ledger.split_tokens[sim.ledger.transactions[poor]["payment"]["paymentId"]]
    with pytest.raises(trustly.BadRequestError) as no_funds:
        client.transactions.capture(poor, body=CaptureRequest(merchant_reference="c", amount="5.00", split_token=token))
    assert no_funds.value.code == 331

    risky, _ = establish(client, sim)
    sim.authorize(risky, password="extendedreasoncode_10000")
    token = sim.ledger.split_tokens[sim.ledger.transactions[risky]["payment"]["paymentId"]]
    denied = client.transactions.capture(
        risky, body=CaptureRequest(merchant_reference="c", amount="5.00", split_token=token)
    )
    assert denied.status is TransactionStatus.DENIED
    assert denied.payment_provider_transaction.status == "SW054"  # type: ignore[union-attr]

    rich, _ = establish(client, sim, amount="1000.00")
    sim.authorize(rich, password="Balance20")
    token = sim.ledger.split_tokens[sim.ledger.transactions[rich]["payment"]["paymentId"]]
    ok = client.transactions.capture(
        rich, body=CaptureRequest(merchant_reference="c1", amount="20.00", split_token=token)
    )
    assert ok.status is TransactionStatus.AUTHORIZED
    with pytest.raises(trustly.BadRequestError) as over:
        client.transactions.capture(
            rich, body=CaptureRequest(merchant_reference="c2", amount="1.00", split_token=token)
        )
    assert over.value.code == 331


@pytest.mark.parametrize(
    ("account_number", "outcome"),
    [("1000000006", (6, True)), ("1000000000", (0, False)), ("1000001045", (9, True)),
     ("1002000000", trustly.BadRequestError), ("1003750000", trustly.AuthenticationError),
     ("1001000000", trustly.AmbiguousOutcomeError)],
)  # fmt: skip
def test_manual_entry_sandbox_accounts(
    client: trustly.TrustlyClient, sim: Simulator, account_number: str, outcome: object
) -> None:
    body = AccountRequest(
        merchant_id=sim.merchant_id, account=BankAccount(account_number=account_number, routing_number="124003116")
    )
    if isinstance(outcome, tuple):
        account = client.with_options(max_retries=0).accounts.verify(body=body)
        assert (account.verification.score, account.verified) == (str(outcome[0]), outcome[1])  # type: ignore[union-attr]
    else:
        with pytest.raises(outcome):  # type: ignore[call-overload]
            client.with_options(max_retries=0).accounts.verify(body=body)


def test_customers_create_update_with_null_get_lookup_list(client: trustly.TrustlyClient) -> None:
    created = client.customers.create(body=CustomerInput(external_id="ext-9", name="Ada", email="ada@example.com"))
    customer_id = created.customer.customer_id
    updated = client.customers.update(customer_id, body=CustomerInput(email=None, phone="555-0100"))
    assert updated.customer.phone == "555-0100"
    assert not isinstance(updated.customer.email, str), "null removed the email"
    assert client.customers.get(customer_id).customer.name == "Ada"
    assert [c.customer_id for c in client.customers.list(external_id="ext-9").customers] == [customer_id]
    assert client.customers.lookup(email="ada@example.com").is_in_trustly_network is True


def test_https_with_a_custom_ca(sim: Simulator) -> None:
    with SimulatorServer(sim, tls=True) as tls:
        assert tls.base_url.startswith("https://127.0.0.1:")
        with trustly.TrustlyClient(
            base_url=tls.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, verify=tls.client_ssl_context()
        ) as secure:
            assert secure.countries.list().countries
        with trustly.TrustlyClient(base_url=tls.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as default_trust:
            with pytest.raises(trustly.APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
                default_trust.with_options(max_retries=0).countries.list()


@pytest.mark.anyio
async def test_async_flow_over_the_in_process_transport() -> None:
    from trustly.testing import AsyncSimulatorTransport

    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, realism=REALISM)
    async with trustly.AsyncTrustlyClient(
        base_url="http://127.0.0.1/api/v1",
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=AsyncSimulatorTransport(sim),
    ) as client:
        from trustly.models import EstablishRequest

        data = client.sign_establish_data(
            {"merchantId": sim.merchant_id, "merchantReference": "a-1", "paymentType": "Deferred", "currency": "USD",
             "amount": "12.00", "returnUrl": "https://s.example/r", "cancelUrl": "https://s.example/c"}
        )  # fmt: skip
        established = await client.transactions.establish(body=EstablishRequest.from_dict(data))
        assert isinstance(established.transaction_id, str)
        sim.authorize(established.transaction_id)
        token = sim.ledger.split_tokens[sim.ledger.transactions[established.transaction_id]["payment"]["paymentId"]]
        capture = await client.transactions.capture(
            established.transaction_id,
            body=CaptureRequest(merchant_reference="a-1-c", amount="12.00", split_token=token),
        )
        sim.settle_all()
        refund = await client.transactions.refund(capture.transaction_id, body=RefundRequest(amount="2.00"))
        ids = [t.transaction_id async for t in client.transactions.list_all(page_size=2)]
        assert ids == [refund.transaction_id, capture.transaction_id, established.transaction_id]


def test_sync_transport_without_sockets() -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, realism=REALISM)
    with trustly.TrustlyClient(
        base_url="http://127.0.0.1/api/v1",
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=SimulatorTransport(sim),
    ) as c:
        capture = captured(c, sim)
        assert c.transactions.get(capture.transaction_id).status is TransactionStatus.COMPLETED


def test_the_simulator_command_serves_by_hand() -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "trustly.testing", "--port", str(port), "--access-key", "cmd-key"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"Trustly simulator at http://127.0.0.1:{port}/api/v1"
        with trustly.TrustlyClient(
            base_url=f"http://127.0.0.1:{port}/api/v1", access_id="simulator-access-id", access_key="cmd-key"
        ) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    assert client.countries.list().countries
                    break
                except trustly.APIConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_establish_checks_the_request_signature(
    client: trustly.TrustlyClient, sim: Simulator, server: SimulatorServer
) -> None:
    from trustly.models import EstablishRequest

    data = {
        "merchantId": sim.merchant_id, "merchantReference": "sig-1", "currency": "USD", "amount": "1.00",
        "returnUrl": "https://s.example/r", "cancelUrl": "https://s.example/c",
    }  # fmt: skip
    sha512 = client.sign_establish_data(data, "HmacSHA512")
    assert client.transactions.establish(body=EstablishRequest.from_dict(sha512)).transaction_id
    # The client refuses to send a signature that does not cover the body ...
    for forged in ("HmacSHA512:AAAA", "bm90IGl0"):
        with pytest.raises(trustly.InvalidRequestError) as refused:
            client.transactions.establish(body=EstablishRequest.from_dict({**sha512, "requestSignature": forged}))
        assert refused.value.field == "requestSignature"
    # ... and the simulator refuses one that arrives anyway, as Trustly does.
    tampered = {**client.sign_establish_data(data), "amount": "100.00"}
    for body in ({**sha512, "requestSignature": "bm90IGl0"}, {**sha512, "requestSignature": ""}, tampered):
        answer = httpx.post(f"{server.base_url}/establish", json=body, auth=(ACCESS_ID, ACCESS_KEY), timeout=10)
        assert answer.status_code == 401 and answer.json()["errors"][0]["code"] in (300, 375)


class _Picky(Endpoint):
    """An endpoint that fails every notification about one transaction."""

    refuse: str = ""

    def _on_event(self, event: Event) -> None:
        if event.object_id == self.refuse:
            raise RuntimeError("this one keeps failing")
        self.events.put(event)


def test_each_notification_retries_on_its_own_schedule(client: trustly.TrustlyClient) -> None:
    endpoint = _Picky()
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=endpoint.url)
    try:
        with SimulatorServer(sim) as server:
            with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as c:
                failing, _ = establish(c, sim)
                endpoint.refuse = failing
                sim.authorize(failing)
                healthy, _ = establish(c, sim)
                sim.authorize(healthy)
                # The healthy transaction's events are not held up behind the failing ones.
                assert endpoint.wait_for("Authorize", healthy).object_id == healthy
                sim.advance(hours=12)  # Trustly gives up after 12 hours of retries every 5 minutes
        failed = [e for e in sim.notifier.given_up if e["objectId"] == failing]
        assert [e["eventType"] for e in failed] == ["Establish", "Authorize"]
        assert sim.notifier.pending == []
        assert sim.notifier.attempts - len(sim.notifier.delivered) == 2 * (1 + 12 * 60 // 5)
    finally:
        sim.close()
        endpoint.close()


def test_the_simulator_helpers_over_http(
    server: SimulatorServer, client: trustly.TrustlyClient, sim: Simulator
) -> None:
    root = server.base_url.removesuffix("/api/v1")
    transaction_id, token = authorized(client, sim)
    capture = client.transactions.capture(
        transaction_id, body=CaptureRequest(merchant_reference="http-c1", amount="20.00", split_token=token)
    )
    assert [label for _, label in sim.pending_jobs()].count("processing") == 1
    moved = httpx.post(f"{root}/_simulator/advance", data={"days": "4"})
    assert moved.status_code == 200 and moved.json()["now"] == sim.clock.now_ms()
    assert client.transactions.get(capture.transaction_id).status is TransactionStatus.COMPLETED
    assert (
        httpx.post(f"{root}/_simulator/return/{capture.transaction_id}", data={"returnCode": "R02"}).status_code == 200
    )
    assert client.transactions.get(capture.transaction_id).status is TransactionStatus.REVERSED
    new, _ = establish(client, sim)
    denied = httpx.post(f"{root}/_simulator/deny/{new}").json()["redirectUrl"]
    assert client.verify_redirect(denied).status.value == "8"
    assert httpx.post(f"{root}/_simulator/deny/{new}").status_code == 400  # already decided
    assert httpx.post(f"{root}/_simulator/nothing/{new}").status_code == 404


def test_a_running_clock_settles_on_its_own() -> None:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, time_scale=0.0002)  # 3 days in ~0.9 s
    try:
        with trustly.TrustlyClient(
            base_url="http://127.0.0.1/api/v1",
            access_id=ACCESS_ID,
            access_key=ACCESS_KEY,
            transport=SimulatorTransport(sim),
        ) as c:
            transaction_id, token = authorized(c, sim)
            capture = c.transactions.capture(
                transaction_id, body=CaptureRequest(merchant_reference="run-1", amount="10.00", split_token=token)
            )
            while c.transactions.get(capture.transaction_id).status is not TransactionStatus.COMPLETED:
                assert capture.transaction_id in sim.ledger.transactions
    finally:
        sim.close()
