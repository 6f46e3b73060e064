"""The simulator's realism setting sends each untidy form on the wire, and the client reads every one."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import trustly
from trustly.models import AccountType, CustomerInput, PaymentType
from trustly.testing import Realism, Simulator, SimulatorTransport

from ..contract.calls import Ids, every_operation
from .flows import authorized, establish

pytestmark = pytest.mark.integration

KEY = "realism-key"


def _setup(realism: Realism | None) -> tuple[Simulator, trustly.TrustlyClient, list[dict[str, Any]]]:
    sim = Simulator(access_id="realism-id", access_key=KEY, realism=realism)
    transport = _Recording(sim)
    client = trustly.TrustlyClient(
        base_url="http://127.0.0.1/api/v1", access_id="realism-id", access_key=KEY, transport=transport, max_retries=0
    )
    return sim, client, transport.wire


class _Recording(SimulatorTransport):
    """The simulator in-process, keeping each answer's status and JSON body as sent."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self.wire: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.wire.append({"status": response.status_code, "body": json.loads(response.read() or b"null")})
        return response


def test_success_answers_are_untidy_and_parse() -> None:
    sim, client, wire = _setup(Realism())
    transaction_id, _ = authorized(client, sim, amount="10.00", customer={"name": "John Doe", "externalId": "c-1"})
    establish = next(w["body"] for w in wire if "url" in w["body"])
    assert establish["paymentType"] == 2.0 and "accessId" not in establish and establish["errors"] == []
    assert establish["customer"] == {"name": "John Doe", "externalId": "c-1"}  # no customerId
    transaction = client.transactions.get(transaction_id)
    raw = wire[-1]["body"]
    assert "statusMessage" not in raw and "paid" not in raw and "customerId" not in raw["payment"]["customer"]
    assert raw["payment"]["account"]["type"] == 1.0 and raw["errors"] == []
    assert transaction.payment.account.type_ is AccountType.CHECKING  # type: ignore[union-attr]
    assert transaction.payment.payment_type is PaymentType.DEFERRED  # type: ignore[union-attr]
    assert transaction.additional_properties["errors"] == []


@pytest.mark.parametrize(
    ("operation", "shape"),
    [
        ("accounts_tokenize", {"message"}),
        ("accounts_verify", {"message"}),
        ("customers_lookup", {"isInTrustlyNetwork", "errorsList"}),
        ("accounts_send_feedback", {"domain", "code", "message", "occurredAt", "location"}),
        ("disputes_recover", {"domain", "code", "message", "occurredAt", "location"}),
    ],
)
def test_errors_come_in_the_shape_documented_for_the_endpoint(operation: str, shape: set[str]) -> None:
    sim, client, wire = _setup(Realism())
    # Each call is refused with a 400: a forced sandbox error, recovering a non-capture, a bad address.
    not_a_capture, _ = establish(client, sim)
    ids = Ids(merchant_id=sim.merchant_id, capture=not_a_capture)
    calls = every_operation(client, ids)
    calls["customers_lookup"] = lambda: client.customers.lookup(email="not-an-address")
    calls["accounts_tokenize"] = calls["accounts_verify"] = lambda: client.accounts.verify(
        body=trustly.models.AccountRequest.from_dict(
            {"merchantId": sim.merchant_id, "account": {"accountNumber": "1002000000", "routingNumber": "124003116"}}
        )
    )
    if operation == "accounts_tokenize":
        calls[operation] = lambda: client.accounts.tokenize(
            body=trustly.models.AccountRequest.from_dict(
                {
                    "merchantId": sim.merchant_id,
                    "account": {"accountNumber": "1002000000", "routingNumber": "124003116"},
                }
            )
        )
    if operation == "accounts_send_feedback":
        calls[operation] = lambda: client.accounts.send_feedback(
            body=trustly.models.AccountFeedbackRequest.from_dict(
                {
                    "merchantId": sim.merchant_id,
                    "account": {"accountNumber": "1002000000", "routingNumber": "124003116"},
                    "feedback": {"status": "2", "subStatus": "1"},
                }
            )
        )
    with pytest.raises(trustly.BadRequestError) as caught:
        calls[operation]()
    assert wire[-1]["status"] == 400 and set(wire[-1]["body"]) == shape
    assert caught.value.errors and caught.value.errors[0].message
    if shape != {"message"}:
        assert caught.value.code is not None


def test_without_realism_the_answers_stay_tidy() -> None:
    _, client, wire = _setup(None)
    client.customers.create(body=CustomerInput(external_id="x", name="Ada"))
    assert "errors" not in wire[-1]["body"]
