"""One valid call of every operation, through the client; shared by the contract tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trustly
from trustly.models import (
    AccountFeedback,
    AccountFeedbackRequest,
    AccountRequest,
    BankAccount,
    CancelRequest,
    CaptureRequest,
    CustomerInput,
    DepositRequest,
    DisputeRecoveryRequest,
    EstablishRequest,
    FeedbackStatus,
    PreAuthRequest,
    ReclaimRequest,
    RefreshRequest,
    RefundRequest,
    UserFeedbackRequest,
)


@dataclass
class Ids:
    """Identifiers the calls refer to (any values will do against a stateless mock)."""

    merchant_id: str = "1002463580"
    authorization: str = "1002633191"
    split_token: str = "c3BsaXQtdG9rZW4="
    capture: str = "1002633192"
    capture_to_refund: str = "1002633193"
    disbursement: str = "1002633194"
    deposit: str = "1002633195"
    pre_authorization: str = "1002633196"
    to_cancel: str = "1002633197"
    customer: str = "7000000001"
    payment: str = "1002633190"
    establish: dict[str, Any] | None = None


def every_operation(client: trustly.TrustlyClient, ids: Ids) -> dict[str, Callable[[], object]]:
    """operation id -> a zero-argument call of it with valid arguments."""
    account = BankAccount(account_number="1000000006", routing_number="124003116")
    # The client adds requestSignature over exactly these values.
    establish = ids.establish or {
        "accessId": client.access_id, "merchantId": ids.merchant_id, "merchantReference": "contract-1",
        "currency": "USD", "amount": "10.00", "paymentType": "Deferred",
        "returnUrl": "https://shop.example/r", "cancelUrl": "https://shop.example/c",
    }  # fmt: skip
    t = client.transactions
    return {
        "transactions_establish": lambda: t.establish(body=EstablishRequest.from_dict(establish)),
        "transactions_list": lambda: t.list(count=10, start_index=0),
        "transactions_get": lambda: t.get(ids.authorization),
        "transactions_capture": lambda: t.capture(
            ids.authorization,
            body=CaptureRequest(merchant_reference="cap-c", amount="1.00", split_token=ids.split_token),
        ),
        "transactions_capture_pre_auth": lambda: t.capture_pre_auth(
            ids.pre_authorization,
            body=PreAuthRequest(merchant_reference="pre-c", period=1, amount="1.00", split_token=ids.split_token),
        ),
        "transactions_deposit": lambda: t.deposit(
            ids.disbursement, body=DepositRequest(merchant_reference="dep-c", amount="5.00")
        ),
        "transactions_refund": lambda: t.refund(
            ids.capture_to_refund, body=RefundRequest(merchant_reference="ref-c", amount="1.00")
        ),
        "transactions_reclaim": lambda: t.reclaim(
            ids.deposit, body=ReclaimRequest(merchant_reference="rec-c", amount="1.00")
        ),
        "transactions_cancel": lambda: t.cancel(ids.to_cancel, body=CancelRequest(merchant_reference="can-c")),
        "transactions_refresh": lambda: t.refresh(ids.authorization, body=RefreshRequest(split_token=ids.split_token)),
        "account_data_get_summary": lambda: client.account_data.get_summary(ids.authorization),
        "account_data_get_balance": lambda: client.account_data.get_balance(ids.authorization),
        "account_data_get_user": lambda: client.account_data.get_user(ids.authorization),
        "account_data_list_accounts": lambda: client.account_data.list_accounts(ids.authorization),
        "accounts_tokenize": lambda: client.accounts.tokenize(
            body=AccountRequest(merchant_id=ids.merchant_id, account=account)
        ),
        "accounts_verify": lambda: client.accounts.verify(
            body=AccountRequest(merchant_id=ids.merchant_id, account=account)
        ),
        "accounts_send_feedback": lambda: client.accounts.send_feedback(
            body=AccountFeedbackRequest(
                merchant_id=ids.merchant_id,
                account=account,
                feedback=AccountFeedback(status=FeedbackStatus("2"), sub_status="1"),
            )
        ),
        "customers_list": lambda: client.customers.list(),
        "customers_create": lambda: client.customers.create(body=CustomerInput(external_id="contract-ext", name="Ada")),
        "customers_lookup": lambda: client.customers.lookup(email="ada@example.com"),
        "customers_get": lambda: client.customers.get(ids.customer),
        "customers_update": lambda: client.customers.update(ids.customer, body=CustomerInput(phone="555-0100")),
        "identity_get_user": lambda: client.identity.get_user(ids.authorization),
        "identity_get_user_detail": lambda: client.identity.get_user_detail(ids.authorization),
        "identity_send_feedback": lambda: client.identity.send_feedback(
            ids.authorization, body=UserFeedbackRequest(status=4, sub_status=559, description="Registered")
        ),
        "identity_verify_customer": lambda: client.identity.verify_customer(ids.authorization),
        "disputes_recover": lambda: client.disputes.recover(
            body=DisputeRecoveryRequest(transaction_id=ids.capture, amount="1.00"), idempotency_key="recover-1"
        ),
        "countries_list": lambda: client.countries.list(),
        "payment_providers_list": lambda: client.payment_providers.list(count=5),
        "payments_list": lambda: client.payments.list(count=5),
        "payments_get": lambda: client.payments.get(ids.payment),
    }
