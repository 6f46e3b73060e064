"""Nested form bodies against the simulator over HTTP: dotted names in, the nested shape checked strictly."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

import trustly
from trustly.models import (
    Address,
    Beneficiary,
    BeneficiaryAccount,
    BeneficiaryBank,
    CaptureRequest,
    CountryCode,
    Remittance,
    RemittanceMetadata,
    TransactionType,
    WithdrawalMethod,
)
from trustly.testing import Simulator, SimulatorServer

from .conftest import ACCESS_ID, ACCESS_KEY
from .flows import authorized

pytestmark = pytest.mark.integration

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.mark.parametrize("content_type", [FORM, JSON])
def test_a_nested_capture_is_accepted_as_form_and_as_json(
    client: trustly.TrustlyClient, sim: Simulator, content_type: str
) -> None:
    transaction_id, token = authorized(client, sim)
    body = CaptureRequest(
        merchant_reference=f"nested-{content_type[-4:]}",
        amount=Decimal("10"),
        split_token=token,
        beneficiary=Beneficiary(name="Jane Doe", address=Address(zip_="78701", country="US")),
        beneficiary_account=BeneficiaryAccount(
            account_number="000123456789",
            payment_provider=BeneficiaryBank(routing_number="124003116", country=CountryCode.US),
        ),
        metadata=RemittanceMetadata(remittance=Remittance(withdrawal_method=WithdrawalMethod.CASH)),
    )
    switched = client.with_options(content_types={"transactions_capture": content_type})
    capture = switched.transactions.capture(transaction_id, body=body)
    assert capture.transaction_type is TransactionType.CAPTURE and capture.amount == Decimal("10.00")


VALID = {"merchantReference": "m-1", "amount": "1.00", "splitToken": "t"}


def _capture(server: SimulatorServer, data: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.base_url}/transactions/1/capture", data=data, auth=(ACCESS_ID, ACCESS_KEY), timeout=10)


@pytest.mark.parametrize(
    ("extra", "location"),
    [
        # A dotted name the nested schema does not declare, at every depth.
        ({"beneficiary.nmae": "x"}, "beneficiary.nmae"),
        ({"beneficiaryAccount.paymentProvider.bic": "x"}, "beneficiaryAccount.paymentProvider.bic"),
        ({"metadata.remittance.method": "Cash"}, "metadata.remittance.method"),
        ({"benefciary.name": "x"}, "benefciary.name"),
        ({"beneficiary_address_country": "US"}, "beneficiary_address_country"),
        # Through a field that is not an object, or with an empty segment.
        ({"amount.value": "1.00"}, "amount.value"),
        ({"beneficiary..name": "x"}, "beneficiary..name"),
        # A field used both as a value and as an object.
        ({"beneficiary": "x", "beneficiary.name": "y"}, "beneficiary.name"),
    ],
)
def test_an_unknown_or_malformed_dotted_field_is_refused(
    server: SimulatorServer, extra: dict[str, str], location: str
) -> None:
    answer = _capture(server, {**VALID, **extra})
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert error["code"] == 200 and error["location"] == location


def test_a_repeated_dotted_field_is_refused(server: SimulatorServer) -> None:
    body = "merchantReference=m-1&amount=1.00&splitToken=t&beneficiary.name=a&beneficiary.name=b"
    answer = httpx.post(
        f"{server.base_url}/transactions/1/capture",
        content=body,
        headers={"Content-Type": FORM},
        auth=(ACCESS_ID, ACCESS_KEY),
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["location"] == "beneficiary.name"


def test_nested_values_are_validated_as_their_schema_says(server: SimulatorServer) -> None:
    # The rules of the nested schema apply to the dotted field: a routing number has 9 digits.
    bad = {**VALID, "beneficiaryAccount.paymentProvider.routingNumber": "12345"}
    answer = _capture(server, bad)
    assert answer.status_code == 400
    assert "routingNumber" in answer.json()["errors"][0]["location"]
    # A valid nested body passes validation and reaches the ledger (no such transaction: 330).
    good = {**VALID, "beneficiary.address.zip": "78701", "metadata.remittance.withdrawalMethod": "Cash"}
    answer = httpx.post(
        f"{server.base_url}/transactions/1/capture", data=good, auth=(ACCESS_ID, ACCESS_KEY), timeout=10
    )
    assert answer.json()["errors"][0]["code"] == 330
