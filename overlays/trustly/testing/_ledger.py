"""The simulator's state: payments, transactions, customers and the events they raise.

Everything here is plain data (dicts shaped like Trustly's JSON) guarded by one lock, so the
HTTP front end, the simulated bank step and the notification sender can share it from any
thread. `applied` records every money-moving operation the simulator carried out; tests use it
to prove that nothing was applied twice.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["ApiError", "Ledger", "now_ms"]

# Transaction types and statuses (trustly.models.TransactionType / TransactionStatus values).
AUTHORIZE, CAPTURE, REFUND, DEPOSIT, RECLAIM, REPRESENTMENT, PREAUTH = "1", "3", "4", "6", "7", "8", "10"
NEW, PENDING, AUTHORIZED, PROCESSED, COMPLETED, FAILED, EXPIRED, CANCELED, DENIED = (
    "0", "1", "2", "3", "4", "5", "6", "7", "8",
)  # fmt: skip
REFUNDED, PARTIALLY_REFUNDED = "12", "11"
STATUS_NAMES = {
    NEW: "New", PENDING: "Pending", AUTHORIZED: "Authorized", PROCESSED: "Processed", COMPLETED: "Completed",
    FAILED: "Failed", EXPIRED: "Expired", CANCELED: "Canceled", DENIED: "Denied",
}  # fmt: skip
PAYMENT_TYPES = {
    "Instant": "1",
    "Deferred": "2",
    "Recurring": "3",
    "Disbursement": "4",
    "Verification": "5",
    "Retrieval": "6",
}


def now_ms() -> int:
    return int(time.time() * 1000)


class ApiError(Exception):
    """An answer in Trustly's error envelope."""

    def __init__(self, status: int, code: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.location = status, code, message, location

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "domain": "com.trustly.simulator",
            "code": self.code,
            "message": self.message,
            "occurredAt": now_ms(),
        }
        if self.location:
            error["location"] = self.location
        return {"errors": [error]}


def invalid(field_name: str, message: str) -> ApiError:
    return ApiError(400, 200, message, field_name)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class Bank:
    """What the simulated bank login decided (from the Demo Bank username and password)."""

    balance: Decimal = Decimal("10000.00")
    deny_next_capture: str | None = None
    expired_split_token: bool = False
    account_number: str = "1000000006"


@dataclass
class Ledger:
    """All simulator state. Methods raise ApiError for answers in Trustly's error envelope."""

    merchant_id: str
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    banks: dict[str, Bank] = field(default_factory=dict)  # by paymentId
    split_tokens: dict[str, str] = field(default_factory=dict)  # paymentId -> token
    events: list[dict[str, str]] = field(default_factory=list)
    applied: list[tuple[str, str, str | None]] = field(default_factory=list)  # (operation, transactionId, ref)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_001))

    # -- helpers ---------------------------------------------------------------------------
    def new_id(self) -> str:
        return str(next(self._ids))

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        found = self.transactions.get(transaction_id)
        if found is None:
            raise ApiError(404, 330, f"transaction {transaction_id} not found", "transactionId")
        return found

    def payment_of(self, transaction: dict[str, Any]) -> dict[str, Any]:
        return self.payments[transaction["payment"]["paymentId"]]

    def view(self, transaction: dict[str, Any]) -> dict[str, Any]:
        """A transaction as the API returns it, with its payment embedded."""
        out = dict(transaction)
        out["payment"] = dict(self.payment_of(transaction))
        return out

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
            "createdAt": str(now_ms()),
            "status": transaction["status"],
            "statusMessage": transaction.get("statusMessage", ""),
            **extra,
        }
        if transaction.get("originalTransactionId"):
            event["parentObjectId"] = transaction["originalTransactionId"]
        pp_status = transaction.get("paymentProviderTransaction", {}).get("status")
        if pp_status:
            event["paymentProviderTransaction.status"] = pp_status
            event["paymentProviderTransaction.statusMessage"] = pp_status
        self.events.append(event)

    def set_status(self, transaction: dict[str, Any], status: str, pp_status: str | None = None) -> None:
        transaction["status"] = status
        transaction["statusMessage"] = STATUS_NAMES.get(status, "")
        transaction["updatedAt"] = now_ms()
        if status == PROCESSED:
            transaction["processedAt"] = transaction["updatedAt"]
        if status == COMPLETED:
            transaction["completedAt"] = transaction["updatedAt"]
        if pp_status:
            transaction.setdefault("paymentProviderTransaction", {})["status"] = pp_status

    def _duplicate_reference(self, reference: str, transaction_type: str, parent: str | None) -> bool:
        return any(
            t.get("merchantReference") == reference
            and t["transactionType"] == transaction_type
            and (parent is None or t.get("originalTransactionId") == parent)
            and t["status"] in (PENDING, AUTHORIZED, PROCESSED, COMPLETED)
            for t in self.transactions.values()
        )

    # -- establish and the simulated bank --------------------------------------------------
    def establish(self, data: dict[str, Any], base_url: str) -> dict[str, Any]:
        reference = data["merchantReference"]
        payment_type = PAYMENT_TYPES[data.get("paymentType") or "Retrieval"]
        for t in self.transactions.values():
            p = self.payment_of(t)
            if p.get("merchantReference") == reference and t["transactionType"] == AUTHORIZE:
                if t["status"] in (AUTHORIZED, PROCESSED, COMPLETED):
                    raise ApiError(400, 210, "This is a duplicate request. It has been ignored", "merchantReference")
        created = now_ms()
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
        if isinstance(data.get("customer"), dict):
            payment["customer"] = {"customerId": self.new_id(), **{k: v for k, v in data["customer"].items() if v}}
        self.payments[payment_id] = payment
        transaction = {
            "transactionId": transaction_id,
            "transactionType": AUTHORIZE,
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
        result = {k: v for k, v in data.items() if k not in ("requestSignature", "metadata", "customer")}
        if "customer" in payment:
            result["customer"] = payment["customer"]
        result.update(
            transactionId=transaction_id,
            url=f"{base_url}/lightbox/{transaction_id}",
            paymentType=payment_type,
            merchantId=self.merchant_id,
        )
        return result

    def authorize(self, transaction_id: str, username: str, password: str) -> tuple[dict[str, Any], bool]:
        """The customer's bank login (the Lightbox). Returns the transaction and whether it succeeded."""
        transaction = self.transaction(transaction_id)
        if transaction["status"] != NEW:
            raise ApiError(400, 200, "the transaction is not waiting for authorization", "transactionId")
        payment = self.payment_of(transaction)
        bank = Bank()
        phrase = password.lower()
        if phrase in ("loginerror", "wrongcredentials", "accountlocked", "unavailable", "noeligibleaccounts"):
            self.set_status(transaction, CANCELED, "UC01")
            self.emit("Cancel", transaction)
            return transaction, False
        if phrase == "notenoughfunds":
            bank.balance = Decimal("0.00")
        elif m := re.fullmatch(r"balance(\d+)", phrase):
            bank.balance = Decimal(m.group(1))
        elif m := re.fullmatch(r"extendedreasoncode_(\d+)", phrase):
            bank.deny_next_capture = m.group(1)
        elif phrase == "expiredsplittoken":
            bank.expired_split_token = True
        if m := re.fullmatch(r".+_(\d{6,17})", username):
            bank.account_number = m.group(1)
        self.banks[payment["paymentId"]] = bank
        token = secrets.token_urlsafe(24).replace("-", "+").replace("_", "/")
        self.split_tokens[payment["paymentId"]] = token
        payment["authorizationStatus"] = 2
        payment["account"] = {
            "name": "Demo Checking",
            "type": "1",
            "accountNumber": bank.account_number,
            "accountNumberLastFour": bank.account_number[-4:],
            "routingNumber": "124003116",
            "verified": True,
        }
        payment["paymentProvider"] = {"paymentProviderId": "200005501", "name": "Demo Bank", "type": 1}
        self.set_status(transaction, AUTHORIZED, "AC100")
        self.emit("Authorize", transaction, splitToken=token)
        return transaction, True

    # -- money movements -------------------------------------------------------------------
    def _authorization(self, transaction_id: str, split_token: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        auth = self.transaction(transaction_id)
        if auth["transactionType"] not in (AUTHORIZE, PREAUTH) or auth["status"] != AUTHORIZED:
            raise ApiError(400, 200, "the transaction is not an open authorization", "transactionId")
        payment = self.payment_of(auth)
        if split_token is not None:
            expected = self.split_tokens.get(payment["paymentId"])
            if expected is None or not secrets.compare_digest(expected.encode(), split_token.encode()):
                raise ApiError(400, 397, "splitToken is not valid", "splitToken")
            if self.banks.get(payment["paymentId"], Bank()).expired_split_token:
                raise ApiError(400, 326, "Expired split token", "splitToken")
        return auth, payment

    def new_child(self, parent: dict[str, Any], kind: str, amount: Decimal, reference: str | None) -> dict[str, Any]:
        created = now_ms()
        child = {
            "transactionId": self.new_id(),
            "transactionType": kind,
            "status": PENDING,
            "statusMessage": "Pending",
            "payment": {"paymentId": parent["payment"]["paymentId"]},
            "originalTransactionId": parent["transactionId"],
            "currency": parent["currency"],
            "amount": _money(amount),
            "paid": "0.00",
            "refunded": "0.00",
            "createdAt": created,
            "updatedAt": created,
            "paymentProviderTransaction": {"status": "AC100", "statusMessage": "Acknowledged"},
        }
        if reference:
            child["merchantReference"] = reference
        self.transactions[child["transactionId"]] = child
        return child

    def _debit(self, operation: str, transaction_id: str, form: dict[str, str], kind: str) -> dict[str, Any]:
        auth, payment = self._authorization(transaction_id, form.get("splitToken"))
        reference = form["merchantReference"]
        if self._duplicate_reference(reference, kind, transaction_id):
            raise ApiError(400, 210, "This is a duplicate request. It has been ignored", "merchantReference")
        amount = Decimal(form["amount"])
        if amount <= 0:
            raise invalid("amount", "amount must be positive")
        used = sum(
            (Decimal(t["amount"]) for t in self.transactions.values()
             if t.get("originalTransactionId") == transaction_id and t["transactionType"] == kind
             and t["status"] not in (FAILED, CANCELED, DENIED)),
            Decimal(0),
        )  # fmt: skip
        limit = Decimal(payment.get("amount") or auth.get("amount") or "0")
        if limit > 0 and used + amount > limit:
            raise invalid("amount", "the amount exceeds what remains of the authorization")
        bank = self.banks.get(payment["paymentId"], Bank())
        child = self.new_child(auth, kind, amount, reference)
        self.applied.append((operation, child["transactionId"], reference))
        if bank.deny_next_capture:
            code, bank.deny_next_capture = bank.deny_next_capture, None
            self.set_status(child, DENIED, "SW054")
            child["paymentProviderTransaction"].update(reasonCode="1", reasonCodeMessage=f"extendedReason {code}")
            self.emit("Deny", child)
        elif amount > bank.balance:
            self.set_status(child, FAILED, "SW056")
            self.emit("Failed", child, errorCode="331")
        else:
            bank.balance -= amount
        return child

    def capture(self, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
        return self._debit("transactions_capture", transaction_id, form, CAPTURE)

    def capture_pre_auth(self, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
        return self._debit("transactions_capture_pre_auth", transaction_id, form, CAPTURE)

    def deposit(self, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
        auth, payment = self._authorization(transaction_id, None)
        reference = form["merchantReference"]
        if self._duplicate_reference(reference, DEPOSIT, transaction_id):
            raise ApiError(400, 210, "This is a duplicate request. It has been ignored", "merchantReference")
        amount = Decimal(form.get("amount") or payment.get("amount") or "0")
        if amount <= 0:
            raise invalid("amount", "amount must be positive")
        child = self.new_child(auth, DEPOSIT, amount, reference)
        self.applied.append(("transactions_deposit", child["transactionId"], reference))
        return child

    def refund(self, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
        original = self.transaction(transaction_id)
        if original["transactionType"] != CAPTURE or original["status"] not in (
            PROCESSED,
            COMPLETED,
            PARTIALLY_REFUNDED,
        ):
            raise ApiError(400, 200, "only a processed or completed capture can be refunded", "transactionId")
        refunded = Decimal(original.get("refunded") or "0")
        # Without an amount, Trustly refunds what is left of the capture.
        amount = Decimal(form["amount"]) if form.get("amount") else Decimal(original["amount"]) - refunded
        if amount <= 0 or refunded + amount > Decimal(original["amount"]):
            raise invalid("amount", "the refund exceeds what was captured")
        child = self.new_child(original, REFUND, amount, form.get("merchantReference"))
        original["refunded"] = _money(refunded + amount)
        self.applied.append(("transactions_refund", child["transactionId"], form.get("merchantReference")))
        return child

    def reclaim(self, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
        original = self.transaction(transaction_id)
        if original["transactionType"] != DEPOSIT or original["status"] not in (PROCESSED, COMPLETED):
            raise ApiError(400, 200, "only a processed or completed deposit can be reclaimed", "transactionId")
        # Without an amount, Trustly reclaims the whole deposit.
        amount = Decimal(form["amount"]) if form.get("amount") else Decimal(original["amount"])
        if amount < Decimal("0.99") or amount > Decimal(original["amount"]):
            raise invalid("amount", "a reclaim is between 0.99 and the deposited amount")
        child = self.new_child(original, RECLAIM, amount, form.get("merchantReference"))
        self.applied.append(("transactions_reclaim", child["transactionId"], form.get("merchantReference")))
        return child

    def cancel(self, transaction_id: str) -> dict[str, Any]:
        transaction = self.transaction(transaction_id)
        if transaction["status"] not in (NEW, PENDING, AUTHORIZED):
            raise ApiError(400, 200, "the transaction can no longer be canceled", "transactionId")
        self.set_status(transaction, CANCELED, "SW013")
        self.applied.append(("transactions_cancel", transaction_id, None))
        self.emit("Cancel", transaction)
        return transaction

    def settle(self, transaction_id: str) -> None:
        """Move a pending capture, deposit, refund or reclaim on: processed, then completed."""
        transaction = self.transactions.get(transaction_id)
        if transaction is None or transaction["status"] not in (PENDING, PROCESSED):
            return
        if transaction["status"] == PENDING:
            self.set_status(transaction, PROCESSED, "AC100")
            transaction["paid"] = transaction["amount"]
            self.emit("Process", transaction)
        else:
            self.set_status(transaction, COMPLETED, "AC100")
            self.emit("Completed", transaction)
