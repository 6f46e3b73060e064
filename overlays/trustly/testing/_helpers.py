"""The simulator's public test helpers: what a test reads from it and the moves it makes for it.

A merchant's test needs the split token the Authorize notification carries, the events the
simulator raised, the money movements it carried out, and control over settlement and delivery
(deliver the pending notifications now, or drop them to rehearse a lost one). These methods give
that without reaching into the ledger's data, and each has an HTTP twin under `/_simulator/`
(see `_endpoints.py`) for a simulator served to another process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lifecycle import AUTHORIZED, MONEY, PROCESSED

if TYPE_CHECKING:
    from ._ledger import Ledger
    from ._notifier import Notifier

__all__ = ["SimulatorHelpers"]


class SimulatorHelpers:
    """Reading and steering a `Simulator` from a test (mixed into it)."""

    ledger: Ledger
    notifier: Notifier

    def split_token(self, transaction_id: str) -> str:
        """The split token Trustly issued when the customer authorized this transaction's payment.

        In production it arrives once, in the Authorize notification; a test that does not run a
        notification endpoint takes it from here to capture or deposit with.

        Raises:
            ValueError: The transaction does not exist, or its payment was never authorized.
        """
        with self.ledger.lock:
            transaction = self.ledger.transactions.get(transaction_id)
            if transaction is None:
                raise ValueError(f"transaction {transaction_id} not found")
            token = self.ledger.split_tokens.get(transaction["payment"]["paymentId"])
        if token is None:
            raise ValueError(f"transaction {transaction_id} has not been authorized: it has no split token")
        return token

    def settle(self, transaction_id: str) -> str:
        """Move one money movement (capture, deposit, refund, reclaim, pay) on to Completed now,
        with its Process and Completed notifications; return its status code ("4").

        `settle_all()` does the same for every money movement; `advance()` lets the clock do it.

        Raises:
            ValueError: The transaction does not exist or is not a money movement still on its way.
        """
        with self.ledger.lock:
            transaction = self.ledger.transactions.get(transaction_id)
            if transaction is None:
                raise ValueError(f"transaction {transaction_id} not found")
            if transaction["transactionType"] not in MONEY or transaction["status"] not in (AUTHORIZED, PROCESSED):
                raise ValueError(f"transaction {transaction_id} is not a money movement on its way to Completed")
            self.ledger.settle(transaction_id)
            status = str(transaction["status"])
        self.notifier.flush()
        return status

    def events(self) -> list[dict[str, str]]:
        """Every event notification the simulator raised, in order, as the form fields it sends
        (delivered or not; `pending_notifications()` lists those not yet acknowledged)."""
        with self.ledger.lock:
            return [dict(event) for event in self.ledger.events]

    def applied(self) -> list[tuple[str, str, str | None]]:
        """Every money-moving request carried out, in order: (operation id, transaction id, its
        merchantReference or Idempotency-Key). A request applied twice shows up twice."""
        with self.ledger.lock:
            return list(self.ledger.applied)

    def sign_notification(self, body: bytes) -> str:
        """The Authorization header Trustly would send with this notification body, for a test
        that posts a notification to its own endpoint by hand."""
        return self.notifier.sign(body)

    def pending_notifications(self) -> list[dict[str, str]]:
        """The notifications not acknowledged yet (waiting for their first attempt or a retry),
        in order of their next attempt. Empty when there is nowhere to send them."""
        return self.notifier.waiting()

    def deliver_notifications(self) -> int:
        """Attempt every pending notification now, without waiting for its retry to fall due on
        the clock; return how many were acknowledged. One refused again keeps retrying on the
        clock. Blocks while sending, so the endpoint must be served by another thread."""
        return self.notifier.send_all()

    def drop_notifications(
        self, *, event_type: str | None = None, object_id: str | None = None
    ) -> list[dict[str, str]]:
        """Take pending notifications off the schedule unsent, as if every attempt had failed;
        return them. Without arguments, all of them; `event_type` ("Authorize") and `object_id`
        (a transaction id) narrow it. For rehearsing the notification that never comes."""

        def chosen(event: dict[str, str]) -> bool:
            return (event_type is None or event.get("eventType") == event_type) and (
                object_id is None or event.get("objectId") == object_id
            )

        return self.notifier.drop(chosen)
