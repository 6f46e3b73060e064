"""Each line with an error comment is a mistake the type checkers must report (mypy, pyright strict)."""

# ruff: noqa: I001, F401 (the mistakes are written as users write them, one per line)

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import trustly
from trustly.models import CapturRequest  # error: a misspelt model name
from trustly.models import CaptureRequest, Currency, EstablishRequest, RefundRequest, TransactionStatus
from trustly.models import AccountType, AddressInput, Beneficiary, BeneficiaryBank


def mistakes(client: trustly.TrustlyClient, t: datetime) -> None:
    RefundRequest(amount=None)  # error: None is not "leave it out"
    RefundRequest(amount=10.5)  # error: a float amount
    CaptureRequest(merchant_reference="c", amount=Decimal(1))  # error: split_token is required
    EstablishRequest(
        merchant_id="1",
        merchant_reference="o",
        currency="USD",  # error: a plain string for an enum
        return_url="https://r",
        cancel_url="https://c",
    )
    EstablishRequest(
        merchant_id="1", merchant_referance="o", currency=Currency.USD, return_url="r", cancel_url="c"
    )  # error: a typo
    client.transactions.refund("1", body={"amount": "1.00"})  # error: a dict body
    client.transactions.list_all(transaction_stauts=[TransactionStatus.COMPLETED])  # error: a misspelt filter
    client.transactions.list_all(transaction_status=TransactionStatus.COMPLETED)  # error: a bare member for a list
    client.transactions.pages(created_at_start="2024-01-01")  # error: a string for a time
    client.transactions.list(amount_min=1.5)  # error: a float filter
    client.transactions.get(1002633191)  # error: ids are strings
    total: int = client.transactions.get("1").amount  # error: money is Decimal, not int
    print(TransactionStatus.UNKNOWN)  # error: unrecognized values are tested with .is_unrecognized, not a member
    print(TransactionStatus.UNRECOGNIZED)  # error: no member has the reserved name
    AccountType.UNKNOWN.is_unrecognized()  # error: a property, not a method
    CaptureRequest(
        merchant_reference="c", amount=Decimal(1), split_token="t", beneficiary_address_country="US"
    )  # error: the flattened field names are gone; beneficiary=Beneficiary(address=Address(...))
    Beneficiary(address=AddressInput(country="US"))  # error: an Address, not an AddressInput
    BeneficiaryBank(country="US")  # error: a CountryCode member, not a plain string
    print(total, t)
