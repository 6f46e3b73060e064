"""The Demo Bank: what a customer's login decides, from the sandbox username and password.

Trustly's sandbox drives every scenario through the Demo Bank login in the Lightbox
(trustly-docs.md section 7, NOTES.md 8.5); there are no magic amounts. The password is a
keyphrase (not case-sensitive); anything else of three or more characters is a successful login
with a standard checking account of 10,000.00. Keyphrases known only from a third-party summary
of the testing page are marked [3rd] and switched off by
`LifecycleOptions(third_party_keyphrases=False)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Bank", "LoginOutcome", "bank_login"]

# Logins that end with the customer back at cancelUrl (status 7, Canceled), with the
# paymentProviderTransaction.status Trustly reports: UC01 where the customer gives up [doc: the
# cancel URL example], SW060 bank down, SW053 network error [doc: SW codes; which keyphrase maps
# to which code is inferred].
FAILED_LOGINS: dict[str, tuple[str, bool]] = {  # keyphrase -> (status code, third-party only)
    "noeligibleaccounts": ("UC01", False),
    "loginerror": ("UC01", False),
    "unavailable": ("SW060", False),
    "accountlocked": ("UC01", False),
    "bankaction": ("UC01", False),
    "connecterror": ("SW053", False),
    "connectionerror": ("SW053", False),
    "blockediperror": ("UC01", False),
    "challengeerror": ("UC01", False),
    "timeouterror": ("SW053", False),  # after the connector sleeps a minute
    "wrongcredentials": ("UC01", True),
    "sessiontimeout": ("UC01", True),
    "notsupported": ("UC01", True),  # credit cards only: nothing to debit
}
# Logins that succeed with no special effect [doc: testing page lists them as prompts and routing
# code scenarios of the bank UI, which the simulator has no screen for].
PLAIN_LOGINS = frozenset({"testprompts", "validroutecodeextra"})
DEMO_ACCOUNT = "1000000006"  # manual-entry table: score 6, verified [3rd: sandbox accounts]


@dataclass
class Bank:
    """The customer's account as the Demo Bank login set it up."""

    balance: Decimal = Decimal("10000.00")
    account_number: str | None = DEMO_ACCOUNT
    routing_number: str = "124003116"
    deny_next_capture: str | None = None  # extended reason code
    expired_split_token: bool = False
    virtual: bool = False
    invalid_account: bool = False


@dataclass
class LoginOutcome:
    """The result of one login: a bank on success, else the status code to cancel with."""

    bank: Bank | None
    cancel_status: str = "UC01"
    delay_seconds: int = 0


def bank_login(username: str, password: str, *, mfa_answer: str = "", third_party: bool = True) -> LoginOutcome:
    """Decide a Demo Bank login. `mfa_answer` answers the 2FA challenge ('error' fails it)."""
    phrase = password.lower()
    if username.lower() == "sleep" and password.isdigit():
        # Username Sleep: the bank takes `password` seconds to answer [doc: testing page].
        return LoginOutcome(Bank(), delay_seconds=int(password))
    failed = FAILED_LOGINS.get(phrase)
    if failed is not None and (third_party or not failed[1]):
        delay = 60 if phrase == "timeouterror" else 0  # [doc: "sleeps at least 1 minute"]
        return LoginOutcome(None, failed[0], delay)
    bank = Bank()
    if phrase in ("notenoughfunds", "notenoughfundsextra"):
        bank.balance = Decimal("0.00")  # [doc: one account, zero balance]
    elif phrase == "invalidaccountnumbersize":
        bank.account_number, bank.invalid_account = "12345", True  # [doc: name only; effect inferred]
    elif phrase == "invalidroutecodeextra":
        bank.routing_number, bank.invalid_account = "000000000", True  # [doc: name only; effect inferred]
    elif third_party:
        _third_party(bank, username, phrase)
        if phrase == "2fa" and mfa_answer.lower() == "error":
            return LoginOutcome(None, "UC01")
    return LoginOutcome(bank)


def _third_party(bank: Bank, username: str, phrase: str) -> None:
    """Keyphrases from the third-party summary of the testing page [3rd]."""
    if m := re.fullmatch(r"balance(\d+(?:\.\d{1,2})?)", phrase):
        bank.balance = Decimal(m.group(1))
    elif m := re.fullmatch(r"extendedreasoncode_(\d+)", phrase):
        bank.deny_next_capture = m.group(1)
    elif phrase == "expiredsplittoken":
        bank.expired_split_token = True
    elif phrase == "accfromusername":
        if m := re.fullmatch(r".+_(\d{4,17})", username):
            bank.account_number = m.group(1)
    elif phrase == "accnumbernull":
        bank.account_number = None
    elif phrase == "virtual":
        bank.account_number, bank.virtual = "9990000000006", True
