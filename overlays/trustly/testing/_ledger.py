"""The simulator's state: payments, transactions and the events their status changes raise.

Everything here is plain data (dicts shaped like Trustly's JSON) guarded by one lock, so the
HTTP front end, the clock and the notification sender can share it from any thread. Every
status change goes through `move`, which follows the lifecycle table (`_lifecycle.TRANSITIONS`)
and emits that row's events. `applied` records every money-moving operation carried out; tests
use it to prove that nothing was applied twice. The operations themselves live in `_money.py`.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._bank import Bank, LoginOutcome
from ._clock import Clock, Schedule, span_ms
from ._lifecycle import (
    AUTHORIZE,
    AUTHORIZED,
    COMPLETED,
    INSTANT,
    MONEY,
    NEW,
    PAY,
    PAYMENT_TYPES,
    PROCESSED,
    STATUS_NAMES,
    TYPE_NAMES,
    UNIQUE_REFERENCE_TYPES,
    LifecycleOptions,
    find_rule,
)

__all__ = ["ApiError", "Ledger", "money"]

DUPLICATE = "This is a duplicate request. It has been ignored"


class ApiError(Exception):
    """An answer in Trustly's error envelope."""

    def __init__(self, status: int, code: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.location = status, code, message, location
        self.occurred_at: int | None = None

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"domain": "com.trustly.simulator", "code": self.code, "message": self.message}
        if self.occurred_at is not None:
            error["occurredAt"] = self.occurred_at
        if self.location:
            error["location"] = self.location
        return {"errors": [error]}


def invalid(field_name: str, message: str) -> ApiError:
    return ApiError(400, 200, message, field_name)


def money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class Ledger:
    """All simulator state. Methods raise ApiError for answers in Trustly's error envelope."""

    merchant_id: str
    access_id: str
    clock: Clock = field(default_factory=Clock)
    options: LifecycleOptions = field(default_factory=LifecycleOptions)
    schedule: Schedule = field(default_factory=Schedule)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    banks: dict[str, Bank] = field(default_factory=dict)  # by paymentId
    split_tokens: dict[str, str] = field(default_factory=dict)  # paymentId -> token
    token_issued: dict[str, tuple[str, int]] = field(default_factory=dict)  # token -> (paymentId, issued ms)
    events: list[dict[str, str]] = field(default_factory=list)
    applied: list[tuple[str, str, str | None]] = field(default_factory=list)  # (operation, transactionId, ref)
    lock: threading.RLock = field(default_factory=threading.RLock)
    protected: set[str] = field(default_factory=set)  # ids whose merchantReference is taken
    history: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, trigger, from, to)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_001))

    # -- helpers ---------------------------------------------------------------------------
    def now(self) -> int:
        return self.clock.now_ms()

    def new_id(self) -> str:
        return str(next(self._ids))

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        found = self.transactions.get(transaction_id)
        if found is None:
            raise ApiError(404, 330, f"transaction {transaction_id} not found", "transactionId")
        return found

    def payment_of(self, transaction: dict[str, Any]) -> dict[str, Any]:
        return self.payments[transaction["payment"]["paymentId"]]

    def bank_of(self, transaction: dict[str, Any]) -> Bank:
        return self.banks.setdefault(transaction["payment"]["paymentId"], Bank())

    def view(self, transaction: dict[str, Any]) -> dict[str, Any]:
        """A transaction as the API returns it, with its payment embedded."""
        out = dict(transaction)
        out["payment"] = dict(self.payment_of(transaction))
        return out

    def children(self, transaction_id: str, *types: str) -> list[dict[str, Any]]:
        return [
            t
            for t in self.transactions.values()
            if t.get("originalTransactionId") == transaction_id and t["transactionType"] in types
        ]

    def at(self, delay_ms: int, label: str, run: Callable[[int], None]) -> None:
        """Run `run` when the simulated clock reaches now + delay_ms."""
        self.schedule.add(self.now() + delay_ms, label, run)

    # -- the lifecycle ---------------------------------------------------------------------
    def move(
        self,
        transaction: dict[str, Any],
        trigger: str,
        *,
        pp_status: str | None = None,
        fields: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Apply the lifecycle row for `trigger`, or refuse with code 200 if there is none."""
        kind, status = transaction["transactionType"], transaction["status"]
        rule = find_rule(trigger, kind, status)
        if rule is None:
            raise invalid(
                "transactionId",
                f"{trigger} is not possible on a {TYPE_NAMES.get(kind, kind)} that is {STATUS_NAMES.get(status)}",
            )
        stamp = self.now()
        self.history.append((transaction["transactionId"], trigger, status, rule.target))
        transaction.update(status=rule.target, statusMessage=STATUS_NAMES[rule.target], updatedAt=stamp)
        if rule.target == PROCESSED:
            transaction["processedAt"] = stamp
        if rule.target == COMPLETED:
            transaction["completedAt"] = stamp
        if pp_status:
            transaction.setdefault("paymentProviderTransaction", {}).update(status=pp_status, statusMessage=pp_status)
        if rule.target in (AUTHORIZED, PROCESSED, COMPLETED):
            self.protected.add(transaction["transactionId"])
        for event_type in rule.events:
            self.emit(event_type, transaction, **(fields or {}).get(event_type, {}))

    def emit(self, event_type: str, transaction: dict[str, Any], **extra: str) -> None:
        payment = self.payment_of(transaction)
        event = {
            "merchantId": self.merchant_id,
            "merchantReference": transaction.get("merchantReference") or payment.get("merchantReference", ""),
            "paymentType": payment["paymentType"],
            "transactionType": transaction["transactionType"],
            "eventId": self.new_id(),
            "eventType": event_type,
            "objectId": transaction["transactionId"],
            "objectType": "Transaction",
            "message": "",
            "timeZone": "Etc/UTC",
            "createdAt": str(self.now()),
            # The docs' notification example carries accessId [doc: notification signature page].
            "accessId": self.access_id,
            "status": transaction["status"],
            "statusMessage": transaction.get("statusMessage", ""),
        }
        if transaction.get("originalTransactionId"):
            event["parentObjectId"] = transaction["originalTransactionId"]
        provider = transaction.get("paymentProviderTransaction", {})
        for name in ("status", "statusMessage", "reasonCode", "reasonCodeMessage"):
            if provider.get(name):
                event[f"paymentProviderTransaction.{name}"] = provider[name]
        event.update(extra)
        self.events.append(event)

    def reference_taken(self, reference: str) -> bool:
        """Whether a Pay, Authorize, Capture, Deposit or preauthorization already holds it."""
        if not self.options.idempotency:
            return False
        for transaction_id in self.protected:
            t = self.transactions[transaction_id]
            if t.get("merchantReference") != reference or t["transactionType"] not in UNIQUE_REFERENCE_TYPES:
                continue
            # A canceled or voided bank authorization gives its reference back [doc: idempotency].
            if t["transactionType"] == AUTHORIZE and t["status"] in ("7", "13"):
                continue
            return True
        return False

    def check_reference(self, reference: str) -> None:
        if self.reference_taken(reference):
            raise ApiError(400, 210, DUPLICATE, "merchantReference")

    # -- establish and the simulated bank --------------------------------------------------
    def establish(self, data: dict[str, Any], lightbox: str) -> dict[str, Any]:
        """A new payment and its first transaction; `lightbox` is the root of the Lightbox URLs."""
        reference = data["merchantReference"]
        self.check_reference(reference)
        payment_type = PAYMENT_TYPES[data.get("paymentType") or "Retrieval"]
        created = self.now()
        payment_id, transaction_id = self.new_id(), self.new_id()
        amount = data.get("amount")
        payment: dict[str, Any] = {
            "paymentId": payment_id,
            "paymentType": payment_type,
            "merchantId": self.merchant_id,
            "merchantReference": reference,
            "description": data.get("description", ""),
            "currency": data["currency"],
            "returnUrl": data["returnUrl"],
            "cancelUrl": data["cancelUrl"],
            "authorizationStatus": 0,
            "createdAt": created,
            "updatedAt": created,
        }
        if amount:
            payment["amount"] = amount
        if data.get("notificationUrl"):
            payment["notificationUrl"] = data["notificationUrl"]
        if isinstance(data.get("customer"), dict):
            payment["customer"] = {"customerId": self.new_id(), **{k: v for k, v in data["customer"].items() if v}}
        self.payments[payment_id] = payment
        transaction = {
            "transactionId": transaction_id,
            # Instant is one Pay transaction; everything else starts with a bank Authorize [doc: 5.1].
            "transactionType": PAY if payment_type == INSTANT else AUTHORIZE,
            "status": NEW,
            "statusMessage": "New",
            "payment": {"paymentId": payment_id},
            "merchantReference": reference,
            "currency": data["currency"],
            "amount": amount or "0.00",
            "paid": "0.00",
            "refunded": "0.00",
            "createdAt": created,
            "updatedAt": created,
            "paymentProviderTransaction": {"status": "SW010", "statusMessage": "Established"},
        }
        self.transactions[transaction_id] = transaction
        self.emit("Establish", transaction)
        self.at(span_ms(self.options.session_ttl), "session expiry", lambda _: self.expire(transaction_id, "timeout"))
        result = {k: v for k, v in data.items() if k not in ("requestSignature", "metadata", "customer")}
        if "customer" in payment:
            result["customer"] = payment["customer"]
        result.update(
            transactionId=transaction_id,
            url=f"{lightbox}/{transaction_id}",
            paymentType=payment_type,
            merchantId=self.merchant_id,
        )
        return result

    def login(self, transaction_id: str, outcome: LoginOutcome, *, hold: bool = False) -> tuple[dict[str, Any], bool]:
        """The customer's bank login (the Lightbox). Returns the transaction and whether it succeeded."""
        transaction = self.transaction(transaction_id)
        if transaction["status"] != NEW:
            raise invalid("transactionId", "the transaction is not waiting for authorization")
        if outcome.bank is None:
            self.move(transaction, "abandon", pp_status=outcome.cancel_status)
            return transaction, False
        if transaction["transactionType"] == AUTHORIZE:
            # A second authorization with the same reference meets the first one's [doc: 210].
            self.check_reference(transaction["merchantReference"])
        payment = self.payment_of(transaction)
        bank = outcome.bank
        self.banks[payment["paymentId"]] = bank
        token = secrets.token_urlsafe(24).replace("-", "+").replace("_", "/")
        self.split_tokens[payment["paymentId"]] = token
        self.token_issued[token] = (payment["paymentId"], self.now())
        payment["account"] = {
            "name": "Demo Checking",
            "type": "1",
            "accountNumberLastFour": (bank.account_number or "")[-4:],
            "routingNumber": bank.routing_number,
            "verified": not bank.invalid_account,
        }
        if bank.account_number is not None:
            payment["account"]["accountNumber"] = bank.account_number
        payment["paymentProvider"] = {"paymentProviderId": "200005501", "name": "Demo Bank", "type": 1}
        if hold:
            payment["verification"] = {"status": "2"}  # ToVerify, held as OnHold
            self.move(transaction, "hold", pp_status="SW020")
            return transaction, True
        self.grant(transaction)
        return transaction, True

    def grant(self, transaction: dict[str, Any], trigger: str = "authorize") -> None:
        payment = self.payment_of(transaction)
        payment["authorizationStatus"] = 2
        token = self.split_tokens[payment["paymentId"]]
        self.move(transaction, trigger, pp_status="SW020", fields={"Authorize": {"splitToken": token}})
        ttl = self.options.authorization_ttl
        if ttl is not None and transaction["transactionType"] == AUTHORIZE:
            self.at(span_ms(ttl), "authorization expiry", lambda _: self.expire(transaction["transactionId"]))
        if transaction["transactionType"] == PAY:
            self.bank_of(transaction).balance -= Decimal(transaction["amount"])
            self.submit(transaction)

    def expire(self, transaction_id: str, trigger: str = "expire") -> None:
        """A time-based expiry, if the transaction is still in a state it applies to."""
        transaction = self.transactions[transaction_id]
        if find_rule(trigger, transaction["transactionType"], transaction["status"]) is not None:
            self.move(transaction, trigger)

    # -- settlement ------------------------------------------------------------------------
    def submit(self, transaction: dict[str, Any]) -> None:
        """Queue an Authorized money movement for processing at its next processing window."""
        delay = span_ms(self.options.process_after)
        if transaction["transactionType"] == "6":  # deposits go out in the sandbox's payout batches
            batch = span_ms(self.options.payout_batch)
            delay = batch - self.now() % batch if batch else 0
        transaction_id = transaction["transactionId"]
        self.at(delay, "processing", lambda _: self.settle(transaction_id, once=True))

    def settle(self, transaction_id: str, *, once: bool = False) -> None:
        """Move an Authorized or Processed money movement on (both steps unless `once`)."""
        transaction = self.transactions.get(transaction_id)
        while transaction is not None and transaction["transactionType"] in MONEY:
            if transaction["status"] == AUTHORIZED:
                self.move(transaction, "process")
                transaction["paid"] = transaction["amount"]
                self.at(span_ms(self.options.complete_after), "settlement", lambda _: self.settle(transaction_id))
            elif transaction["status"] == PROCESSED:
                self.move(transaction, "complete")
            else:
                return
            if once:
                return
