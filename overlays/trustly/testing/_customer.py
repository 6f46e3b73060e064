"""What happens outside the API: the customer at the bank, and the bank afterwards.

These are the simulator's test helpers for the scenarios a merchant must handle: a successful
or failed bank login (Demo Bank keyphrases), a denied authorization, an account on hold, and an
ACH return after completion. Each drives the same lifecycle table as the API, so the events
and statuses are the ones Trustly sends. Over HTTP they are `POST /_simulator/...` endpoints
(`_endpoints.py`); the Lightbox pages (`_lightbox.py`) call them for a customer in a browser.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .._signatures import hmac_signature
from . import _money
from ._bank import LoginOutcome, bank_login
from ._ledger import ApiError, Ledger
from ._lifecycle import DENIED, NEW, LifecycleOptions

if TYPE_CHECKING:
    from ._notifier import Notifier

__all__ = ["CustomerActions"]


class CustomerActions:
    """The customer and bank side of a `Simulator` (mixed into it)."""

    ledger: Ledger
    notifier: Notifier
    options: LifecycleOptions
    _access_key: str

    if TYPE_CHECKING:  # Simulator defines it; declared here so the actions below type-check

        def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> None:
            """Move the simulated clock forward (see `Simulator.advance`)."""

    def authorize(
        self,
        transaction_id: str,
        *,
        username: str = "happy_path_01",
        password: str = "secret",  # noqa: S107 - Demo Bank
        mfa_answer: str = "",
        hold: bool = False,
    ) -> str:
        """Stand in for the customer's bank login in the Lightbox; return the signed redirect URL.

        Success redirects to returnUrl with status=2 and sends an Authorize notification with the
        split token. A Demo Bank keyphrase as password picks a scenario (README, "Demo Bank"):
        LoginError, AccountLocked ... redirect to cancelUrl with status=7; NotEnoughFunds,
        Balance{n}, extendedreasoncode_{code}, ExpiredSplitToken shape the account. `mfa_answer`
        answers the 2FA challenge. `hold=True` leaves the authorization OnHold (status 14) until
        `release`.

        Raises:
            ValueError: The transaction does not exist or is not waiting for authorization.
        """
        with self.ledger.lock:
            self._waiting(transaction_id)
        outcome = bank_login(username, password, mfa_answer=mfa_answer, third_party=self.options.third_party_keyphrases)
        if outcome.delay_seconds:
            self.advance(seconds=outcome.delay_seconds)  # the customer waits on the bank
        with self.ledger.lock:
            self._waiting(transaction_id)
            transaction, _ = self.ledger.login(transaction_id, outcome, hold=hold)
            url = self._redirect(transaction)
        self.notifier.flush()
        return url

    def abandon(self, transaction_id: str) -> str:
        """The customer closes the Lightbox without authorizing: the transaction is Canceled and
        the signed cancelUrl redirect (status=7, the `UC01` provider status) is returned.

        Raises:
            ValueError: The transaction does not exist or is not waiting for authorization.
        """
        with self.ledger.lock:
            self._waiting(transaction_id)
            transaction, _ = self.ledger.login(transaction_id, LoginOutcome(None, "UC01"))
            url = self._redirect(transaction)
        self.notifier.flush()
        return url

    def deny(self, transaction_id: str) -> str:
        """The bank denies the authorization (SW021, e.g. insufficient funds): Denied, a Deny event,
        and the cancelUrl redirect with status=8. Works on a new or an OnHold transaction."""
        with self.ledger.lock:
            transaction = self._found(transaction_id)
            self._apply(lambda: self.ledger.move(transaction, "deny", pp_status="SW021"))
            url = self._redirect(transaction)
        self.notifier.flush()
        return url

    def release(self, transaction_id: str) -> None:
        """Verify an OnHold authorization: it becomes Authorized and the Authorize event (with the
        split token) goes out."""
        with self.ledger.lock:
            transaction = self._found(transaction_id)
            self._apply(lambda: self.ledger.grant(transaction, "release"))
        self.notifier.flush()

    def ach_return(
        self,
        transaction_id: str,
        return_code: str = "R01",
        *,
        amount: str | None = None,
        after: timedelta | None = None,
    ) -> None:
        """The customer's bank returns a collection (NACHA code, R01 = insufficient funds).

        A Completed capture or pay becomes Reversed with a Reverse and a Dispute event (the
        Dispute carries `returnType`); one only Processed becomes Failed. With `after`, the
        return arrives that much later on the simulated clock.
        """
        with self.ledger.lock:
            self._found(transaction_id)
            if after is None:
                self._apply(lambda: _money.ach_return(self.ledger, transaction_id, return_code, amount))
            else:
                self.ledger.at(
                    int(after.total_seconds() * 1000),
                    f"ACH return {return_code}",
                    lambda _: self._late_return(transaction_id, return_code, amount),
                )
        self.notifier.flush()

    def _late_return(self, transaction_id: str, return_code: str, amount: str | None) -> None:
        try:
            _money.ach_return(self.ledger, transaction_id, return_code, amount)
        except ApiError:
            pass  # refunded or canceled meanwhile: nothing left for the bank to return

    # -- helpers ------------------------------------------------------------------------------
    def _found(self, transaction_id: str) -> dict[str, Any]:
        transaction = self.ledger.transactions.get(transaction_id)
        if transaction is None:
            raise ValueError(f"transaction {transaction_id} not found")
        return transaction

    def _waiting(self, transaction_id: str) -> None:
        if self._found(transaction_id)["status"] != NEW:
            raise ValueError(f"transaction {transaction_id} is not waiting for authorization")

    @staticmethod
    def _apply(step: Any) -> None:
        try:
            step()
        except ApiError as error:
            raise ValueError(error.message) from None

    def _redirect(self, transaction: dict[str, Any]) -> str:
        """The signed returnUrl / cancelUrl redirect, with the documented parameters in order."""
        payment = self.ledger.payment_of(transaction)
        ok = transaction["status"] not in ("7", DENIED, "6")
        params = {
            "transactionId": transaction["transactionId"],
            "transactionType": transaction["transactionType"],
            "merchantReference": payment["merchantReference"],
            "status": transaction["status"],
            "payment.paymentType": payment["paymentType"],
        }
        if ok:
            params["payment.paymentProvider.type"] = str(payment["paymentProvider"]["type"])
            params["payment.account.verified"] = json.dumps(bool(payment["account"]["verified"]))
        params["panel"] = "1"
        if not ok:
            params["payment.paymentProviderTransaction.status"] = transaction["paymentProviderTransaction"]["status"]
        target = payment["returnUrl"] if ok else payment["cancelUrl"]
        url = f"{target}{'&' if '?' in target else '?'}{urlencode(params)}"
        return f"{url}&{urlencode({'requestSignature': hmac_signature(url, self._access_key)})}"
