"""Simulator answers that are not money movements: customers, account data, identity, reference data.

Account numbers follow Trustly's sandbox rules for manual entry on routing number 124003116:
the account number picks a score (1000000006 scores 6 and is verified) or a forced error
(1002000000 answers code 200 / HTTP 400, 1003750000 code 375 / HTTP 401, 1001000000 code 100 / 500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._ledger import ApiError

__all__ = ["SANDBOX_ACCOUNTS", "StaticData"]

SANDBOX_ROUTING = "124003116"
# account number -> (score, verified) or (HTTP status, Trustly code) for the forced errors.
SANDBOX_ACCOUNTS: dict[str, tuple[int, bool]] = {
    "1000000000": (0, False), "1000000005": (5, False), "1000000006": (6, True), "1000000010": (10, True),
    "1000001000": (0, False), "1000001600": (6, True), "1000001999": (10, True), "1000001015": (1, False),
    "1000001045": (9, True),
}  # fmt: skip
SANDBOX_ERRORS: dict[str, tuple[int, int]] = {
    "1002000000": (400, 200), "1003000000": (401, 300), "1003250000": (401, 325), "1003750000": (401, 375),
    "1001000000": (500, 100),
}  # fmt: skip

DEMO_BANK = {"paymentProviderId": "200005501", "name": "Demo Bank", "type": 1, "country": "US", "instantPayment": True}


def _without_nulls(value: Any) -> Any:
    """Null removes a property, at any depth."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


class StaticData:
    """Customers (stateful) and the reference data the simulator serves."""

    def __init__(self, merchant_id: str, now_ms: Callable[[], int]) -> None:
        self.merchant_id = merchant_id
        self._now = now_ms
        self.customers_by_id: dict[str, dict[str, Any]] = {}
        self._next = 7_000_000_001

    # -- customers -----------------------------------------------------------------------
    def customers(self, op: str, params: dict[str, str], query: dict[str, Any], body: Any) -> Any:
        if op == "customers_create":
            customer = _without_nulls(body or {})
            customer.pop("customerId", None)
            external_id = customer.get("externalId")
            if external_id and any(c.get("externalId") == external_id for c in self.customers_by_id.values()):
                raise ApiError(409, 210, "a customer with this externalId exists", "externalId")
            customer_id = str(self._next)
            self._next += 1
            stamp = self._now()
            customer.update(customerId=customer_id, merchantId=self.merchant_id, createdAt=stamp, updatedAt=stamp)
            self.customers_by_id[customer_id] = customer
            return {"customer": customer}
        if op == "customers_list":
            found = list(self.customers_by_id.values())
            if "externalId" in query:
                found = [c for c in found if c.get("externalId") == query["externalId"]]
            if "customerId" in query:
                found = [c for c in found if c["customerId"] == query["customerId"]]
            return {"customers": found}
        if op == "customers_lookup":
            return {"isInTrustlyNetwork": bool(self.customers_by_id)}
        existing = self.customers_by_id.get(params.get("customerId", ""))
        if existing is None:
            raise ApiError(404, 330, "customer not found", "customerId")
        customer = existing
        if op == "customers_update":
            for key, value in (body or {}).items():
                if key in ("customerId", "merchantId", "createdAt"):
                    continue
                if value is None:
                    customer.pop(key, None)  # null removes the property
                else:
                    customer[key] = _without_nulls(value)
            customer["updatedAt"] = self._now()
        return {"customer": customer}

    # -- account data and identity ---------------------------------------------------------
    def account_data(self, op: str, transaction_id: str, balance: str = "10000.00") -> Any:
        """Account data of the customer's Demo Bank account; `balance` is what the login set up."""
        account = {
            "accountId": f"acc-{transaction_id}",
            "name": "Demo Checking",
            "nameOnAccount": "John Smith",
            "type": "1",
            "accountNumberLastFour": "0006",
            "routingNumber": SANDBOX_ROUTING,
            "verified": True,
            "paymentProvider": DEMO_BANK,
        }
        if op == "account_data_get_balance":
            return {"accountBalance": {"account": account, "currency": "USD", "amount": balance, "available": balance}}
        if op == "account_data_list_accounts":
            return {"accounts": [account]}
        if op == "account_data_get_summary":
            summary = {"selectedAccount": True, "currency": "USD", "nameOnAccount": "John Smith", "aggregations": []}
            return {"customerId": f"cust-{transaction_id}", "lastUpdated": self._now(), "summary": [summary]}
        if op == "account_data_get_user":
            return {"name": ["John Smith"], "email": ["john.smith@example.com"], "paymentProvider": DEMO_BANK}
        if op == "identity_get_user":
            return {"name": "John Smith", "eligible": True, "createdAt": self._now()}
        if op == "identity_get_user_detail":
            return {"detail": {"verification": [], "attribute": []}}
        if op == "identity_verify_customer":
            return {"matches": []}
        raise ApiError(404, 200, f"{op} is not simulated")

    # -- accounts, reference data, disputes --------------------------------------------------
    def _bank_account(self, account: dict[str, Any]) -> dict[str, Any]:
        number = account.get("accountNumber") or ""
        if account.get("routingNumber") == SANDBOX_ROUTING and number in SANDBOX_ERRORS:
            status, code = SANDBOX_ERRORS[number]
            raise ApiError(status, code, "Sandbox forced error", "account.accountNumber")
        score, verified = SANDBOX_ACCOUNTS.get(number, (5, False))
        return {
            "accountNumberLastFour": number[-4:],
            "routingNumber": account.get("routingNumber", ""),
            "token": f"tok_{number[-4:]}_{len(number)}",
            "verified": verified,
            "verification": {"score": str(score)},
            "paymentProvider": DEMO_BANK,
        }

    def other(self, op: str, query: dict[str, Any], body: Any) -> Any:
        if op in ("accounts_tokenize", "accounts_verify"):
            return self._bank_account(body["account"])
        if op == "accounts_send_feedback":
            self._bank_account(body["account"])
            return {"message": "Feedback received"}
        if op == "countries_list":
            us = {"alpha2Code": "US", "alpha3Code": "USA", "numericCode": 840, "name": "United States", "enabled": True}
            ca = {"alpha2Code": "CA", "alpha3Code": "CAN", "numericCode": 124, "name": "Canada", "enabled": True}
            return {"countries": [us, ca]}
        if op == "payment_providers_list":
            providers = [
                dict(DEMO_BANK, paymentProviderId=str(200005501 + i), name=f"Demo Bank {i}") for i in range(12)
            ]
            start, count = query.get("startIndex", 0), query.get("count", 25)
            return {"paymentProviders": providers[start : start + count], "startIndex": start, "itemsPerPage": count}
        if op == "disputes_recover":
            raise ApiError(404, 330, "no returned collection for this transaction", "transactionId")
        raise ApiError(404, 200, f"{op} is not simulated")
