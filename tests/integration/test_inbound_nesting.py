"""Notifications and redirects the simulator really sends parse into the nested models."""

from __future__ import annotations

import pytest

import trustly
from trustly.models import AuthorizeEvent, PaymentType, TransactionStatus
from trustly.testing import Simulator

from .conftest import Endpoint
from .flows import establish

pytestmark = pytest.mark.integration


def test_a_notification_and_a_redirect_from_the_simulator_are_nested(
    client: trustly.TrustlyClient, sim: Simulator, endpoint: Endpoint
) -> None:
    transaction_id, _ = establish(client, sim)
    redirect = sim.authorize(transaction_id)
    # The simulator keeps Trustly's dotted wire names; only the parser nests them.
    assert "payment.paymentType=" in redirect and "payment.account.verified=" in redirect
    params = client.verify_redirect(redirect)
    assert params.payment.payment_type is PaymentType.DEFERRED  # type: ignore[union-attr]
    assert params.payment.account.verified is True  # type: ignore[union-attr]
    assert not [name for name in params.additional_properties if "." in name]

    event = endpoint.wait_for("Authorize", transaction_id)
    assert isinstance(event, AuthorizeEvent) and event.status is TransactionStatus.AUTHORIZED
    assert event.payment_provider_transaction.status == "SW020"  # type: ignore[union-attr]
    assert not [name for name in event.additional_properties if "." in name]
    assert any("paymentProviderTransaction.status" in e for e in sim.notifier.delivered)

    canceled = client.verify_redirect(sim.authorize(establish(client, sim)[0], password="LoginError"))
    assert canceled.status is TransactionStatus.CANCELED
    assert canceled.payment.payment_provider_transaction.status == "UC01"  # type: ignore[union-attr]
