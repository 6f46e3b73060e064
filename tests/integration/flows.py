"""Steps of a merchant flow shared by the integration tests."""

from __future__ import annotations

import uuid
from typing import Any

import trustly
from trustly.models import CaptureRequest, EstablishData, EstablishRequest, Transaction, TransactionStatus
from trustly.testing import Simulator


def establish(
    client: trustly.TrustlyClient,
    sim: Simulator,
    *,
    amount: str = "100.00",
    payment_type: str = "Deferred",
    **extra: Any,
) -> tuple[str, str]:
    """Establish a signed transaction; return (transactionId, merchantReference)."""
    reference = f"order-{uuid.uuid4().hex[:10]}"
    data = client.sign_establish_data(
        {
            "merchantId": sim.merchant_id,
            "merchantReference": reference,
            "paymentType": payment_type,
            "currency": "USD",
            "amount": amount,
            "returnUrl": "https://shop.example/return",
            "cancelUrl": "https://shop.example/cancel",
            **extra,
        }
    )
    result: EstablishData = client.transactions.establish(body=EstablishRequest.from_dict(data))
    assert isinstance(result.transaction_id, str)
    return result.transaction_id, reference


def authorized(client: trustly.TrustlyClient, sim: Simulator, **kw: Any) -> tuple[str, str]:
    """An authorized transaction and its split token."""
    transaction_id, reference = establish(client, sim, **kw)
    redirect = sim.authorize(transaction_id)
    assert client.verify_redirect(redirect, merchant_reference=reference).status is TransactionStatus.AUTHORIZED
    return transaction_id, sim.split_token(transaction_id)


def captured(client: trustly.TrustlyClient, sim: Simulator, amount: str = "100.00") -> Transaction:
    transaction_id, token = authorized(client, sim, amount=amount)
    capture = client.transactions.capture(
        transaction_id,
        body=CaptureRequest(merchant_reference=f"cap-{uuid.uuid4().hex[:8]}", amount=amount, split_token=token),
    )
    sim.settle_all()
    return capture
