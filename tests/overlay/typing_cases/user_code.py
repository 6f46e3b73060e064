"""Correct user code: must type-check under mypy --strict --disallow-any-expr and pyright strict."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import trustly
from trustly.models import (
    AccountType,
    Address,
    Beneficiary,
    BeneficiaryAccount,
    BeneficiaryBank,
    CaptureRequest,
    CountryCode,
    Currency,
    CustomerInput,
    ErrorCode,
    EstablishRequest,
    PaymentTypeName,
    RefundRequest,
    Remittance,
    RemittanceMetadata,
    Transaction,
    TransactionStatus,
    WithdrawalMethod,
)


def establish(client: trustly.TrustlyClient) -> str:
    request = EstablishRequest(
        merchant_id="1002463580",
        merchant_reference="order-1",
        payment_type=PaymentTypeName.DEFERRED,
        currency=Currency.USD,
        amount=Decimal("49.90"),
        return_url="https://shop.example/return",
        cancel_url="https://shop.example/cancel",
        customer=CustomerInput(name="John Smith", enroll_date=datetime(2024, 5, 1, tzinfo=UTC)),
    )
    lightbox = client.sign_establish_data(request)
    assert "requestSignature" in lightbox
    established = client.transactions.establish(body=request)
    return established.url


def capture(client: trustly.TrustlyClient, transaction_id: str, split_token: str) -> Decimal | None:
    body = CaptureRequest(
        merchant_reference="c-1",
        amount=Decimal("1.00"),
        split_token=split_token,
        beneficiary=Beneficiary(name="Jane Doe", address=Address(zip_="78701", country="US")),
        beneficiary_account=BeneficiaryAccount(payment_provider=BeneficiaryBank(country=CountryCode.US)),
        metadata=RemittanceMetadata(remittance=Remittance(withdrawal_method=WithdrawalMethod.CASH)),
    )
    captured: Transaction = client.transactions.capture(transaction_id, body=body)
    if captured.status is TransactionStatus.COMPLETED and isinstance(captured.amount, Decimal):
        return captured.amount + Decimal("0.01")
    return None


def refund(client: trustly.TrustlyClient, transaction_id: str) -> str | None:
    try:
        done = client.transactions.refund(transaction_id, body=RefundRequest(amount=Decimal("10.00")))
    except trustly.AmbiguousOutcomeError as error:
        found = client.reconcile(error)
        return None if found is None else found.transaction_id
    except trustly.DuplicateRequestError as error:
        again = client.reconcile(error)
        return None if again is None else again.transaction_id
    return done.transaction_id


def recent(client: trustly.TrustlyClient) -> list[str]:
    since = datetime(2024, 1, 1, tzinfo=UTC)
    ids: list[str] = []
    for t in client.transactions.list_all(
        page_size=50, created_at_start=since, amount_min=Decimal("1"), transaction_status=[TransactionStatus.COMPLETED]
    ):
        created: datetime = t.created_at
        ids.append(f"{t.transaction_id} {t.status} {created:%Y-%m-%d}")
    for page in client.payments.pages(page_size=10, updated_at_end=since):
        ids.extend(p.payment_id for p in page.items)
    return ids


def left_out(request: RefundRequest) -> bool:
    return request.amount is trustly.UNSET


def raw_time(t: Transaction) -> int | None:
    return t.created_at.raw if isinstance(t.created_at, trustly.Timestamp) else None


def unrecognized(t: Transaction, account_type: AccountType) -> str:
    # An enum value this client version does not know, tested the documented way in every enum;
    # AccountType.UNKNOWN is Trustly's own code -1, a member like any other.
    new: bool = t.status.is_unrecognized or ErrorCode(451).is_unrecognized
    if account_type is AccountType.UNKNOWN and not account_type.is_unrecognized:
        return "the bank does not know the account type"
    return f"{t.status} {new} {TransactionStatus('42').value}"
