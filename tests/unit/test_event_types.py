"""The event types Trustly's docs list beyond its file's ten parse into their own typed models."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from trustly import models
from trustly.webhooks import parse_event


@pytest.mark.parametrize(
    ("event_type", "model"),
    [
        ("Process", models.ProcessEvent),
        ("Cancel", models.CancelEvent),
        ("Cancelled", models.CancelEvent),
        ("Deny", models.DenyEvent),
        ("Refund", models.RefundEvent),
        ("Reverse", models.ReverseEvent),
        ("Reconcile", models.ReconcileEvent),
        ("CONSENT_REVOKED", models.ConsentRevokedEvent),
    ],
)
def test_each_documented_event_type_parses_into_its_model(event_type: str, model: type) -> None:
    # The fields Trustly's docs list on every event, form-encoded as Trustly sends them.
    body = urlencode(
        {
            "merchantId": "1002463580", "merchantReference": "ref-1", "paymentType": "2", "transactionType": "3",
            "eventId": "1002593570", "eventType": event_type, "objectId": "1002593555", "objectType": "Transaction",
            "message": "", "timeZone": "Etc/UTC", "createdAt": "1556234040954", "status": "8",
            "statusMessage": "Denied", "paymentProviderTransaction.status": "SW054",
        }
    ).encode()  # fmt: skip
    event = parse_event(body)
    assert type(event) is model
    assert event.event_id == "1002593570" and event.object_id == "1002593555"
    if model in (models.ReconcileEvent, models.ConsentRevokedEvent):  # no documented fields: kept as received
        assert event.additional_properties["paymentProviderTransaction"] == {"status": "SW054"}
    else:
        assert event.payment_provider_transaction.status == "SW054"  # type: ignore[attr-defined]
        assert event.status is models.TransactionStatus.DENIED  # type: ignore[attr-defined]


def test_an_event_type_nobody_documented_stays_generic() -> None:
    body = urlencode({"eventId": "1", "eventType": "Debited", "objectId": "2", "createdAt": "1556234040954"}).encode()
    event = parse_event(body)
    assert type(event) is models.Event and event.event_type.is_unrecognized
