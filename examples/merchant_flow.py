"""A complete Pay by Bank flow, end to end, against a local Trustly simulator.

    python examples/merchant_flow.py

What a merchant backend does, step by step, with the real client over HTTP:
build typed Establish Data (Decimal money, datetime times), sign it and establish, let the
customer authorize at the bank (simulated), verify the redirect and the Authorize notification,
capture with the split token, follow it through Processed to Completed (the simulator's clock
jumps over the days ACH settlement takes), refund part of it and list the transactions with
auto-paging.

To run it against the Trustly sandbox instead, replace the simulator with
`TrustlyClient(environment=Environment.SANDBOX)` and real credentials, and authorize in the Lightbox.
"""

from __future__ import annotations

import queue
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

import trustly
from trustly.models import (
    AuthorizeEvent,
    CaptureRequest,
    Currency,
    CustomerInput,
    EstablishRequest,
    Event,
    PaymentTypeName,
    RefundRequest,
)
from trustly.testing import Simulator, SimulatorServer
from trustly.webhooks import InboxWorker, InMemoryInbox, WebhookHandler

ACCESS_KEY = "demo-access-key"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def start_notification_endpoint(handler: WebhookHandler) -> tuple[str, WSGIServer]:
    """The merchant's notification URL: a WSGI app on 127.0.0.1 (any web framework works)."""
    server = make_server("127.0.0.1", 0, handler.wsgi, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}/trustly/notifications", server


def wait_for(events: queue.Queue[Event], event_type: str, object_id: str, timeout: float = 10.0) -> Event:
    while True:
        event = events.get(timeout=timeout)
        if event.event_type == event_type and event.object_id == object_id:
            return event


def main() -> int:
    events: queue.Queue[Event] = queue.Queue()
    # The endpoint stores each verified notification; a worker hands every event to us once.
    # (Several processes or hosts: SQLiteInbox / PostgresInbox instead of the in-memory inbox.)
    # max_age=None: the simulator's clock jumps days ahead of the wall clock the freshness check
    # reads, so its later notifications would look as if they came from the future.
    inbox = InMemoryInbox()
    webhooks = WebhookHandler(access_key=ACCESS_KEY, access_id="demo-access-id", inbox=inbox, max_age=None)
    worker = InboxWorker(inbox, events.put, poll_interval=0.05).start()
    notification_url, endpoint = start_notification_endpoint(webhooks)

    simulator = Simulator(access_id="demo-access-id", access_key=ACCESS_KEY, notification_url=notification_url)
    with (
        SimulatorServer(simulator) as server,
        trustly.TrustlyClient(base_url=server.base_url, access_id="demo-access-id", access_key=ACCESS_KEY) as client,
    ):
        print(f"Trustly simulator at {server.base_url}; notifications to {notification_url}")
        order = f"order-{uuid.uuid4().hex[:8]}"

        # 1. Establish Data, typed; the client signs exactly the values it sends.
        request = EstablishRequest(
            merchant_id=simulator.merchant_id,
            merchant_reference=order,
            payment_type=PaymentTypeName.DEFERRED,
            currency=Currency.USD,
            amount=Decimal("49.9"),
            description="Order with the demo shop",
            return_url="https://shop.example/trustly/return",
            cancel_url="https://shop.example/trustly/cancel",
            customer=CustomerInput(
                external_id="customer-42",
                name="John Smith",
                email="john@example.com",
                enroll_date=datetime(2024, 5, 1, tzinfo=UTC),
            ),
        )
        # For the Lightbox, the browser gets this signed data; the key never leaves the server.
        lightbox_data = client.sign_establish_data(request)
        print(f"1. Establish Data for {order}: amount {lightbox_data['amount']}, signed over the values sent")

        established = client.transactions.establish(body=request)  # signed on the way out
        transaction_id = established.transaction_id
        assert isinstance(transaction_id, str)
        print(f"2. established transaction {transaction_id}, Lightbox at {established.url}")

        # 2. The customer goes through the Lightbox at established.url, as a browser would (open
        # it in one: Demo Bank, log in, pick the account, authorize) and is sent to returnUrl.
        with httpx.Client() as browser:
            browser.post(established.url or "", data={"action": "bank", "bank": "demo"})
            browser.post(
                established.url or "", data={"action": "login", "username": "happy_path_demo", "password": "secret"}
            )
            redirect = browser.post(established.url or "", data={"action": "authorize"}).headers["location"]
        params = client.verify_redirect(redirect, merchant_reference=order)
        print(f"3. customer returned with status {params.status} (redirect signature verified)")

        authorize = wait_for(events, "Authorize", transaction_id)
        assert isinstance(authorize, AuthorizeEvent) and isinstance(authorize.split_token, str)
        print(f"4. Authorize notification {authorize.event_id} verified; split token received")

        # 3. Capture with the split token; merchantReference makes a retry safe (code 210).
        capture = client.transactions.capture(
            transaction_id,
            body=CaptureRequest(
                merchant_reference=f"{order}-capture-1", amount=Decimal("49.90"), split_token=authorize.split_token
            ),
        )
        print(f"5. capture {capture.transaction_id}: {capture.status}, {capture.amount} {capture.currency}")

        # 4. ACH takes days; the simulator's clock jumps over them.
        simulator.advance(hours=1)
        processed = wait_for(events, "Process", capture.transaction_id)
        status = client.transactions.get(capture.transaction_id).status
        print(f"6. an hour later: Process notification {processed.event_id}, capture {status}")
        simulator.advance(days=3)
        completed = wait_for(events, "Completed", capture.transaction_id)
        status = client.transactions.get(capture.transaction_id).status
        print(f"7. three days later: Completed notification {completed.event_id}, capture {status}: the money moved")

        # 5. Refunds are accepted once the capture is completed. No merchantReference given: the
        # client generates one, so reconcile() can find the refund after an ambiguous outcome.
        refund = client.transactions.refund(capture.transaction_id, body=RefundRequest(amount=Decimal("10.00")))
        status = client.transactions.get(capture.transaction_id).status
        print(f"8. refund {refund.transaction_id}: {refund.status}, {refund.amount}; the capture is now {status}")
        print(f"   {refund!r}")

        print("9. transactions, newest first (auto-paging 2 at a time):")
        since = datetime(2020, 1, 1, tzinfo=UTC)
        for transaction in client.transactions.list_all(page_size=2, created_at_start=since):
            print(
                f"   {transaction.transaction_id}  {transaction.transaction_type:<9} {transaction.status:<10} "
                f"{transaction.amount} {transaction.currency}  {transaction.created_at:%H:%M:%S} UTC"
            )
    simulator.close()
    endpoint.shutdown()
    worker.stop()
    print("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
