"""Finding out what happened to a money-moving request whose outcome is unknown.

Two situations need it. A 210 "duplicate" answer to our own retry means the first attempt was
applied, so the client looks up the transaction it created and returns that instead of an
error. And after an `AmbiguousOutcomeError`, `client.reconcile(error)` looks the transaction up
by the same keys so the caller can decide whether to try again.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from trustly_api_client.api import Api, AsyncApi
    from trustly_api_client.models import Transaction, TransactionList
    from trustly_api_client.operations import Operation

__all__ = [
    "GENERATED_REFERENCE_PREFIX",
    "RESOLVABLE",
    "as_response",
    "find_transaction",
    "find_transaction_async",
    "with_merchant_reference",
]

# Operations whose success body is the Transaction they create; a 210 answer to our retry of
# one of them can be replaced by that transaction.
RESOLVABLE = frozenset({"transactions_capture", "transactions_capture_pre_auth", "transactions_deposit"})

_PAGE = 100

GENERATED_REFERENCE_PREFIX = "trustly-py-"
"""Start of the merchantReference the client generates: `trustly-py-<operation>-<32 hex digits>`."""

# Trustly does not de-duplicate these by merchantReference, but it records the reference, so a
# generated one still lets `reconcile()` find the transaction after an ambiguous outcome.
_REFERENCED = {"transactions_refund": "refund", "transactions_reclaim": "reclaim", "transactions_cancel": "cancel"}


def with_merchant_reference(op: Operation, request: dict[str, Any]) -> dict[str, Any]:
    """`request` with a generated merchantReference when a refund, reclaim or cancel carries none."""
    kind = _REFERENCED.get(op.operation_id)
    if kind is None:
        return request
    key = next((k for k in ("json", "data") if k in request), None)
    if key is None:  # no body at all (a cancel): one in the operation's own media type
        key = "json" if op.content_type == "application/json" else "data"
    body = request.get(key)
    if isinstance(body, dict) and body.get("merchantReference"):
        return request
    reference = f"{GENERATED_REFERENCE_PREFIX}{kind}-{os.urandom(16).hex()}"
    return {**request, key: {**(body if isinstance(body, dict) else {}), "merchantReference": reference}}


def _pick(page: TransactionList, merchant_reference: str) -> Transaction | None:
    from trustly_api_client.models import Payment  # models load lazily; keep `import trustly` cheap

    # Trustly may leave the list out of an empty page.
    listed = page.transactions if isinstance(page.transactions, list) else []
    matches = [t for t in listed if t.merchant_reference == merchant_reference]
    if not matches:
        matches = [
            t for t in listed if isinstance(t.payment, Payment) and t.payment.merchant_reference == merchant_reference
        ]
    # The newest match is the one a retry would have created.
    return max(matches, key=lambda t: t.created_at) if matches else None


def find_transaction(api: Api, merchant_reference: str, original_transaction_id: str | None) -> Transaction | None:
    """The transaction a request with this merchantReference created, or None if there is none."""
    if original_transaction_id:
        page = api.transactions.list(original_transaction_id=original_transaction_id, count=_PAGE)
        found = _pick(page, merchant_reference)
        if found is not None:
            return found
    return _pick(api.transactions.list(payment_merchant_reference=merchant_reference, count=_PAGE), merchant_reference)


async def find_transaction_async(
    api: AsyncApi, merchant_reference: str, original_transaction_id: str | None
) -> Transaction | None:
    """The awaitable form of `find_transaction`."""
    if original_transaction_id:
        page = await api.transactions.list(original_transaction_id=original_transaction_id, count=_PAGE)
        found = _pick(page, merchant_reference)
        if found is not None:
            return found
    page = await api.transactions.list(payment_merchant_reference=merchant_reference, count=_PAGE)
    return _pick(page, merchant_reference)


def as_response(transaction: Transaction, correlation_id: str, header: str) -> httpx.Response:
    """A 200 response carrying `transaction`, so the facade decodes it like the original answer."""
    request = httpx.Request("GET", "http://reconciled.invalid/", headers={header: correlation_id})
    return httpx.Response(200, json=transaction.to_dict(), request=request)
