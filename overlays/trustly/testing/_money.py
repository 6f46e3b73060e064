"""The money-moving operations: capture, preauthorization, deposit, refund, reclaim, cancel,
refresh, and the ACH return a bank sends back later.

Each checks what Trustly checks before it moves anything, in the order a merchant meets the
errors: the transaction and its state, the merchantReference (code 210), the split token (380
unknown, 397 another transaction's, 326 expired), the amount (code 200: minimum 0.99 and the
authorized total) and the customer's balance (code 331). Evidence per rule in `_lifecycle.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ._clock import span_ms
from ._ledger import ApiError, Ledger, invalid, money
from ._lifecycle import (
    AUTHORIZE,
    AUTHORIZED,
    CANCELED,
    CAPTURE,
    CAPTURE_ON,
    COLLECTIONS,
    DENIED,
    DEPOSIT,
    DEPOSIT_ON,
    EXPIRED,
    FAILED,
    NEW,
    PAYMENT_TYPES,
    PREAUTH,
    RECLAIM,
    RECURRING,
    REFUND,
    TYPE_NAMES,
)

__all__ = [
    "ach_return",
    "cancel",
    "capture",
    "capture_pre_auth",
    "deposit",
    "new_child",
    "reclaim",
    "refresh",
    "refund",
]

_DEAD = (FAILED, CANCELED, DENIED)
_NAMES = {code: name for name, code in PAYMENT_TYPES.items()}


def _open_authorization(ledger: Ledger, transaction_id: str, allowed: frozenset[str]) -> dict[str, Any]:
    auth = ledger.transaction(transaction_id)
    if auth["transactionType"] != AUTHORIZE or auth["status"] != AUTHORIZED:
        status = auth.get("statusMessage", auth["status"])
        raise invalid("transactionId", f"transaction {transaction_id} is not an open authorization ({status})")
    payment_type = ledger.payment_of(auth)["paymentType"]
    if payment_type not in allowed:
        raise invalid("transactionId", f"not available for {_NAMES.get(payment_type, payment_type)} payments")
    return auth


def _check_token(ledger: Ledger, auth: dict[str, Any], token: str | None) -> None:
    if token is None:
        return
    issued = ledger.token_issued.get(token)
    if issued is None:
        raise ApiError(400, 380, "Invalid split token", "splitToken")
    if issued[0] != auth["payment"]["paymentId"]:
        raise ApiError(400, 397, "splitToken is not valid", "splitToken")
    ttl = ledger.options.split_token_ttl
    if ttl is not None and ledger.now() >= issued[1] + span_ms(ttl):
        raise ApiError(400, 326, "Expired split token", "splitToken")


def _amount(ledger: Ledger, value: str | Decimal) -> Decimal:
    amount = Decimal(value)
    if amount < ledger.options.minimum_amount:
        raise invalid("amount", f"the minimum amount is {ledger.options.minimum_amount}")
    return amount


def _used(ledger: Ledger, parent_id: str, *types: str) -> Decimal:
    return sum(
        (Decimal(t["amount"]) for t in ledger.children(parent_id, *types) if t["status"] not in _DEAD), Decimal(0)
    )


def _collected(ledger: Ledger, auth_id: str) -> Decimal:
    """Every live capture of an authorization, made on it or on one of its preauthorizations."""
    preauths = [t["transactionId"] for t in ledger.children(auth_id, PREAUTH)]
    return sum((_used(ledger, parent, CAPTURE) for parent in [auth_id, *preauths]), Decimal(0))


def new_child(
    ledger: Ledger, parent: dict[str, Any], kind: str, amount: Decimal, reference: str | None
) -> dict[str, Any]:
    created = ledger.now()
    child = {
        "transactionId": ledger.new_id(),
        "transactionType": kind,
        "status": NEW,
        "statusMessage": "New",
        "payment": {"paymentId": parent["payment"]["paymentId"]},
        "originalTransactionId": parent["transactionId"],
        "currency": parent["currency"],
        "amount": money(amount),
        "paid": "0.00",
        "refunded": "0.00",
        "createdAt": created,
        "updatedAt": created,
        "paymentProviderTransaction": {"status": "AC100", "statusMessage": "AC100"},
    }
    if reference:
        child["merchantReference"] = reference
    ledger.transactions[child["transactionId"]] = child
    return child


def capture(ledger: Ledger, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
    target = ledger.transaction(transaction_id)
    guaranteed = target["transactionType"] == PREAUTH and target["status"] == AUTHORIZED
    if target["transactionType"] == PREAUTH and target["status"] == EXPIRED:
        # After its period a preauthorization captures like its authorization, with every check.
        target = ledger.transaction(target["originalTransactionId"])
    auth = target if not guaranteed else ledger.transaction(target["originalTransactionId"])
    if not guaranteed:
        _open_authorization(ledger, target["transactionId"], CAPTURE_ON)
    reference = form["merchantReference"]
    ledger.check_reference(reference)
    _check_token(ledger, auth, form.get("splitToken"))
    amount = _amount(ledger, form["amount"])
    if guaranteed and _used(ledger, target["transactionId"], CAPTURE) + amount > Decimal(target["amount"]):
        raise invalid("amount", "the amount exceeds what remains of the preauthorization")
    limit = Decimal(ledger.payment_of(auth).get("amount") or "0")
    if limit > 0 and _collected(ledger, auth["transactionId"]) + amount > limit:
        raise invalid("amount", "the amount exceeds what remains of the authorization")
    bank = ledger.bank_of(auth)
    if not guaranteed and bank.deny_next_capture is None and amount > bank.balance:
        raise ApiError(400, 331, "Not enough balance", "amount")
    child = new_child(ledger, target, CAPTURE, amount, reference)
    ledger.applied.append(("transactions_capture", child["transactionId"], reference))
    if bank.deny_next_capture and not guaranteed:
        code, bank.deny_next_capture = bank.deny_next_capture, None
        child["paymentProviderTransaction"].update(reasonCode="1", reasonCodeMessage=f"extendedReason {code}")
        ledger.move(child, "deny", pp_status="SW054")
    elif bank.invalid_account:
        ledger.move(child, "fail", pp_status="SW056", fields={"Failed": {"errorCode": "330"}})
    else:
        bank.balance = max(bank.balance - amount, Decimal(0))
        ledger.move(child, "accept")
        ledger.submit(child)
    return child


def capture_pre_auth(ledger: Ledger, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
    auth = _open_authorization(ledger, transaction_id, CAPTURE_ON)
    reference = form["merchantReference"]
    ledger.check_reference(reference)
    _check_token(ledger, auth, form.get("splitToken"))
    amount = _amount(ledger, form["amount"])
    period = int(form.get("period") or 0)
    if not 1 <= period <= 6:
        raise invalid("period", "period is 1 to 6 hours")
    limit = Decimal(ledger.payment_of(auth).get("amount") or "0")
    if limit > 0 and _used(ledger, transaction_id, CAPTURE, PREAUTH) + amount > limit:
        raise invalid("amount", "the amount exceeds what remains of the authorization")
    if amount > ledger.bank_of(auth).balance:
        raise ApiError(400, 331, "Not enough balance", "amount")
    child = new_child(ledger, auth, PREAUTH, amount, reference)
    child.update(preAuthorized=True, expiredAt=ledger.now() + period * 3_600_000)
    ledger.applied.append(("transactions_capture_pre_auth", child["transactionId"], reference))
    ledger.move(child, "accept")
    child_id = child["transactionId"]
    ledger.at(period * 3_600_000, "preauthorization expiry", lambda _: ledger.expire(child_id))
    return child


def deposit(ledger: Ledger, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
    auth = _open_authorization(ledger, transaction_id, DEPOSIT_ON)
    reference = form["merchantReference"]
    ledger.check_reference(reference)
    payment = ledger.payment_of(auth)
    amount = _amount(ledger, form.get("amount") or payment.get("amount") or "0")
    limit = Decimal(payment.get("amount") or "0")
    if limit > 0 and _used(ledger, transaction_id, DEPOSIT) + amount > limit:
        raise invalid("amount", "deposits may total at most the authorized amount")
    child = new_child(ledger, auth, DEPOSIT, amount, reference)
    ledger.applied.append(("transactions_deposit", child["transactionId"], reference))
    ledger.move(child, "accept")
    ledger.submit(child)
    return child


def refund(ledger: Ledger, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
    original = ledger.transaction(transaction_id)
    total, refunded = Decimal(original["amount"]), Decimal(original.get("refunded") or "0")
    if original["transactionType"] not in COLLECTIONS:
        raise invalid("transactionId", "only a capture or a pay can be refunded")
    # Without an amount, Trustly refunds what is left of the collection.
    amount = _amount(ledger, form.get("amount") or total - refunded)
    if refunded + amount > total:
        raise invalid("amount", "the refund exceeds what was collected")
    trigger = "refund_all" if refunded + amount == total else "refund"
    ledger.move(original, trigger)  # refuses anything not Completed (or partially refunded)
    original["refunded"] = money(refunded + amount)
    child = new_child(ledger, original, REFUND, amount, form.get("merchantReference"))
    ledger.applied.append(("transactions_refund", child["transactionId"], form.get("merchantReference")))
    ledger.move(child, "accept")
    ledger.submit(child)
    return child


def reclaim(ledger: Ledger, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
    original = ledger.transaction(transaction_id)
    if original["transactionType"] != DEPOSIT or original["status"] != "4":
        raise invalid("transactionId", "only a completed deposit can be reclaimed")
    reclaimed = _used(ledger, transaction_id, RECLAIM)
    # Without an amount, Trustly reclaims what is left of the deposit.
    amount = _amount(ledger, form.get("amount") or Decimal(original["amount"]) - reclaimed)
    if reclaimed + amount > Decimal(original["amount"]):
        raise invalid("amount", "reclaims may total at most the deposited amount")
    child = new_child(ledger, original, RECLAIM, amount, form.get("merchantReference"))
    ledger.applied.append(("transactions_reclaim", child["transactionId"], form.get("merchantReference")))
    ledger.move(child, "accept")
    ledger.submit(child)
    return child


def cancel(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    transaction = ledger.transaction(transaction_id)
    cutoff = ledger.options.recurring_cancel_cutoff
    payment = ledger.payment_of(transaction)
    if cutoff is not None and transaction["transactionType"] == CAPTURE and payment["paymentType"] == RECURRING:
        now = datetime.fromtimestamp(ledger.now() / 1000, UTC)
        made = datetime.fromtimestamp(transaction["createdAt"] / 1000, UTC)
        if made.date() == now.date() and now.time() >= cutoff:
            raise invalid("transactionId", f"a recurring capture is canceled the same day only before {cutoff} GMT")
    ledger.move(transaction, "cancel", pp_status="SW013")
    if transaction["transactionType"] == CAPTURE:
        ledger.bank_of(transaction).balance += Decimal(transaction["amount"])
    ledger.applied.append(("transactions_cancel", transaction_id, None))
    return transaction


def refresh(ledger: Ledger, transaction_id: str, form: dict[str, str]) -> dict[str, Any]:
    transaction = ledger.transaction(transaction_id)
    if transaction["transactionType"] != AUTHORIZE or transaction["status"] != AUTHORIZED:
        raise invalid("transactionId", f"transaction {transaction_id} is not an open authorization")
    _check_token(ledger, transaction, form["splitToken"])
    # ExpiredSplitToken: the authorization succeeds, later refreshes fail [3rd: sandbox keyphrases].
    if ledger.bank_of(transaction).expired_split_token:
        raise ApiError(400, 326, "Expired split token", "splitToken")
    process_id = f"refresh-{transaction_id}-{ledger.now()}"
    ledger.emit("Refresh", transaction, hardRefresh="false", refreshPurpose="balance", success="true")
    return {"refresh": {"processId": process_id}}


def ach_return(ledger: Ledger, transaction_id: str, return_code: str, amount: str | None = None) -> dict[str, Any]:
    """The customer's bank sends the debit back (NACHA return code R01-R84) [doc: Dispute event]."""
    transaction = ledger.transaction(transaction_id)
    returned = amount or transaction["amount"]
    stamp = str(ledger.now())
    dispute = {
        "reference": transaction.get("merchantReference", ""),
        "transactionId": transaction_id,
        "transactionDatetime": str(transaction["createdAt"]),
        "returnType": return_code,
        "customerId": ledger.payment_of(transaction).get("customer", {}).get("customerId", ""),
        "returnDatetime": stamp,
        "amountReturned": returned,
    }
    kind = TYPE_NAMES.get(transaction["transactionType"], "transaction")
    if transaction["transactionType"] not in COLLECTIONS | {DEPOSIT}:
        raise invalid("transactionId", f"a {kind} cannot be returned")
    ledger.move(
        transaction, "return", pp_status="AC113" if return_code == "R01" else "AC115", fields={"Dispute": dispute}
    )
    transaction["reversed"] = money(Decimal(returned))
    return transaction
