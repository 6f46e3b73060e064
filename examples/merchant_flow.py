"""A complete Pay by Bank flow, end to end, against a local Trustly simulator.

    python examples/merchant_flow.py

What a merchant backend does, step by step, with the real client over HTTP:
sign the Establish Data, establish, let the customer authorize at the bank (simulated),
verify the redirect and the Authorize notification, capture with the split token, follow it
through Processed to Completed (the simulator's clock jumps over the days ACH settlement takes),
refund part of it and list the transactions with auto-paging.

To run it against the Trustly sandbox instead, replace the simulator with
`TrustlyClient(environment=Environment.SANDBOX)` and real credentials, and authorize in the Lightbox.
"""

from __future__ import annotations

import queue
import threading
import uuid
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

import trustly
from trustly.models import AuthorizeEvent, CaptureRequest, EstablishRequest, Event, RefundRequest
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

        # 1. Establish Data, signed on the server so the access key never reaches the browser.
        establish_data = client.sign_establish_data(
            {
                "merchantId": simulator.merchant_id,
                "merchantReference": order,
                "paymentType": "Deferred",
                "currency": "USD",
                "amount": trustly.format_amount(Decimal("49.90")),
                "description": "Order with the demo shop",
                "returnUrl": "https://shop.example/trustly/return",
                "cancelUrl": "https://shop.example/trustly/cancel",
                "customer": {"externalId": "customer-42", "name": "John Smith", "email": "john@example.com"},
            }
        )
        print(f"1. signed Establish Data for {order}: requestSignature {establish_data['requestSignature'][:6]}...")

        established = client.transactions.establish(body=EstablishRequest.from_dict(establish_data))
        transaction_id = str(established.transaction_id)
        print(f"2. established transaction {transaction_id}, Lightbox at {established.url}")

        # 2. The customer logs in at the Demo Bank (the simulator's stand-in for the Lightbox).
        redirect = httpx.post(
            f"{server.base_url.removesuffix('/api/v1')}/simulator/authorize/{transaction_id}",
            data={"username": "happy_path_demo", "password": "secret"},
        ).json()["redirectUrl"]
        params = client.verify_redirect(redirect, merchant_reference=order)
        print(f"3. customer returned with status {params.status} (redirect signature verified)")

        authorize = wait_for(events, "Authorize", transaction_id)
        assert isinstance(authorize, AuthorizeEvent) and isinstance(authorize.split_token, str)
        print(f"4. Authorize notification {authorize.event_id} verified; split token received")

        # 3. Capture with the split token; merchantReference makes a retry safe (code 210).
        capture = client.transactions.capture(
            transaction_id,
            body=CaptureRequest(
                merchant_reference=f"{order}-capture-1", amount="49.90", split_token=authorize.split_token
            ),
        )
        print(f"5. capture {capture.transaction_id}: {capture.status.name}, {capture.amount} {capture.currency}")

        # 4. ACH takes days; the simulator's clock jumps over them.
        simulator.advance(hours=1)
        processed = wait_for(events, "Process", capture.transaction_id)
        status = client.transactions.get(capture.transaction_id).status.name
        print(f"6. an hour later: Process notification {processed.event_id}, capture {status}")
        simulator.advance(days=3)
        completed = wait_for(events, "Completed", capture.transaction_id)
        status = client.transactions.get(capture.transaction_id).status.name
        print(f"7. three days later: Completed notification {completed.event_id}, capture {status}: the money moved")

        # 5. Refunds are accepted once the capture is completed.
        refund = client.transactions.refund(
            capture.transaction_id, body=RefundRequest(merchant_reference=f"{order}-refund-1", amount="10.00")
        )
        status = client.transactions.get(capture.transaction_id).status.name
        print(f"8. refund {refund.transaction_id}: {refund.status.name}, {refund.amount}; the capture is now {status}")

        print("9. transactions, newest first (auto-paging 2 at a time):")
        for transaction in client.transactions.list_all(page_size=2):
            print(
                f"   {transaction.transaction_id}  {transaction.transaction_type.name:<9} "
                f"{transaction.status.name:<10} {transaction.amount} {transaction.currency}"
            )
    simulator.close()
    endpoint.shutdown()
    worker.stop()
    print("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
