"""The Lightbox a browser can use: the customer's steps at the bank, as plain HTML pages.

Establish returns `{base}/_simulator/lightbox/{transactionId}`; the JavaScript stand-in
(`trustly.js`, served at `/_simulator/start/scripts/trustly.js`) opens the same pages from a
checkout page by posting the signed Establish Data to `/_simulator/lightbox`. The customer picks
Demo Bank, logs in (the Demo Bank keyphrases choose the outcome, as `Simulator.authorize` does),
answers a 2FA challenge if asked, picks the account and authorizes or cancels; the last step
sends the whole page (`target="_top"`, out of the overlay's frame) to the merchant's returnUrl or
cancelUrl with the signed redirect parameters.

Every value shown comes from the merchant or the customer and is escaped; pages carry no script
and a Content-Security-Policy that allows none. A redirect goes only to an http(s) URL.
"""

from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._bank import bank_login
from ._lifecycle import NEW

if TYPE_CHECKING:
    from ._simulator import Simulator

__all__ = ["PREFIX", "Answer", "Lightbox"]

PREFIX = "/_simulator"
"""The path under which every endpoint of the simulator's own (not Trustly's API) lives."""

Answer = tuple[int, dict[str, str], bytes]
"""An HTTP answer: status, headers, body."""

_HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_STYLE = (
    "body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:20px;color:#222;background:#fff}"
    "h1{font-size:18px;margin:0 0 4px}.merchant{color:#555;margin:0 0 16px}"
    "button{font:inherit;padding:8px 14px;margin:4px 4px 4px 0;cursor:pointer}"
    "label{display:block;margin:8px 0}input[type=text],input[type=password]{font:inherit;width:100%;"
    "box-sizing:border-box;padding:6px}.error{color:#a00}.note{color:#666;font-size:13px}"
)


@dataclass
class _Session:
    step: str = "bank"  # bank, login, mfa, account, failed
    username: str = ""
    password: str = ""
    mfa_answer: str = ""
    finish_url: str = ""  # the signed cancelUrl redirect after a failed login
    message: str = ""


class Lightbox:
    """The Lightbox pages of one `Simulator` (its endpoints call these)."""

    def __init__(self, simulator: Simulator) -> None:
        self._sim = simulator
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def script() -> Answer:
        """`trustly.js`, the stand-in for Trustly's JavaScript library."""
        body = resources.files(__package__).joinpath("trustly.js").read_bytes()
        return 200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"}, body

    def open(self, body: bytes) -> Answer:
        """`POST /_simulator/lightbox` from `Trustly.establish`: create the transaction from the
        signed Establish Data (form field `establishData`, JSON) and show its first page."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        try:
            data = json.loads(form.get("establishData", ""))
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return _page(400, "Trustly", "<p class=error>Trustly.establish needs the Establish Data object.</p>")
        for name in ("returnUrl", "cancelUrl"):
            if not _web_url(data.get(name)):
                return _page(400, "Trustly", f"<p class=error>The Establish Data's {name} is not an http(s) URL.</p>")
        status, result = self._sim.establish_in_browser(data)
        if status != 200:
            errors = result.get("errors") or [{}]
            message = str(errors[0].get("message", "refused")) if isinstance(errors[0], dict) else "refused"
            return _page(status, "Trustly", f"<p class=error>Trustly refused the Establish Data: {_e(message)}</p>")
        transaction_id = result.get("transactionId")
        if not isinstance(transaction_id, str):
            return _page(502, "Trustly", "<p class=error>The establish answer names no transaction.</p>")
        return 303, {"Location": f"{PREFIX}/lightbox/{transaction_id}"}, b""

    def get(self, transaction_id: str) -> Answer:
        """`GET /_simulator/lightbox/{id}`: the page of the customer's current step."""
        with self._sim.ledger.lock:
            transaction = self._sim.ledger.transactions.get(transaction_id)
            if transaction is None:
                return _page(404, "Trustly", f"<p class=error>No transaction {_e(transaction_id)}.</p>")
            payment = dict(self._sim.ledger.payment_of(transaction))
            waiting = transaction["status"] == NEW
        with self._lock:
            session = self._sessions.setdefault(transaction_id, _Session())
        if session.step == "failed":
            return self._failed(transaction_id, payment, session)
        if not waiting:
            return _page(409, "Trustly", "<p>This payment is no longer waiting for the customer.</p>", payment)
        if not (_web_url(payment.get("returnUrl")) and _web_url(payment.get("cancelUrl"))):
            return _page(400, "Trustly", "<p class=error>The payment's returnUrl or cancelUrl is not http(s).</p>")
        if session.step == "login":
            return self._login(transaction_id, payment)
        if session.step == "mfa":
            return self._mfa(transaction_id, payment)
        if session.step == "account":
            return self._account(transaction_id, payment, session)
        buttons = _button("bank", "Demo Bank", extra="<input type=hidden name=bank value=demo>")
        return _page(200, "Select your bank", f"<p>Choose your bank to pay with:</p>{_form(transaction_id, buttons)}"
                     f"{_cancel(transaction_id)}", payment)  # fmt: skip

    def post(self, transaction_id: str, body: bytes) -> Answer:
        """`POST /_simulator/lightbox/{id}`: one of the customer's steps (form field `action`)."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        action = form.get("action", "")
        with self._sim.ledger.lock:
            if transaction_id not in self._sim.ledger.transactions:
                return _page(404, "Trustly", f"<p class=error>No transaction {_e(transaction_id)}.</p>")
        with self._lock:
            session = self._sessions.setdefault(transaction_id, _Session())
        here = {"Location": f"{PREFIX}/lightbox/{transaction_id}"}
        try:
            if action == "finish" and session.step == "failed":
                return _redirect(session.finish_url)
            if action == "cancel":
                return _redirect(self._sim.abandon(transaction_id))
            if action == "bank" and form.get("bank") == "demo":
                session.step = "login"
                return 303, here, b""
            if action == "login" and session.step == "login":
                username, password = form.get("username", "").strip(), form.get("password", "")
                if not username or len(password) < 3:
                    return self._login(transaction_id, None, "Enter a username and a password of 3 or more characters.")
                session.username, session.password = username, password
                third_party = self._sim.options.third_party_keyphrases
                if password.lower() == "2fa" and third_party:
                    session.step = "mfa"
                elif bank_login(username, password, third_party=third_party).bank is None:
                    self._fail(transaction_id, session)
                else:
                    session.step = "account"
                return 303, here, b""
            if action == "mfa" and session.step == "mfa":
                session.mfa_answer = form.get("answer", "")
                if session.mfa_answer.lower() == "error":
                    self._fail(transaction_id, session)
                else:
                    session.step = "account"
                return 303, here, b""
            if action == "authorize" and session.step == "account":
                url = self._sim.authorize(
                    transaction_id, username=session.username, password=session.password, mfa_answer=session.mfa_answer
                )
                return _redirect(url)
        except ValueError as error:  # decided meanwhile (expired, canceled by the merchant ...)
            return _page(409, "Trustly", f"<p class=error>{_e(error)}</p>")
        return _page(400, "Trustly", "<p class=error>That step is not possible now.</p>")

    # -- pages ------------------------------------------------------------------------------
    def _fail(self, transaction_id: str, session: _Session) -> None:
        """A login the bank refuses: the payment ends Canceled now; the customer goes back to
        the merchant's cancelUrl from the page that says so."""
        session.finish_url = self._sim.authorize(
            transaction_id, username=session.username, password=session.password, mfa_answer=session.mfa_answer
        )
        session.step, session.message = "failed", "Demo Bank could not log you in."

    def _failed(self, transaction_id: str, payment: dict[str, Any], session: _Session) -> Answer:
        back = _form(transaction_id, _button("finish", "Return to the merchant"), top=True)
        return _page(200, "Login failed", f"<p class=error>{_e(session.message)}</p>{back}", payment)

    def _login(self, transaction_id: str, payment: dict[str, Any] | None, error: str = "") -> Answer:
        fields = (
            (f"<p class=error>{_e(error)}</p>" if error else "")
            + "<label>Username <input type=text name=username autocomplete=off required></label>"
            + "<label>Password <input type=password name=password autocomplete=off required></label>"
            + "<p class=note>Sandbox: any password of 3 or more characters logs in; a Demo Bank keyphrase "
            + "(LoginError, NotEnoughFunds, ...) picks its scenario.</p>"
            + _button("login", "Log in")
        )
        body = f"<p>Log in to Demo Bank.</p>{_form(transaction_id, fields)}{_cancel(transaction_id)}"
        return _page(400 if error else 200, "Demo Bank", body, payment)

    def _mfa(self, transaction_id: str, payment: dict[str, Any]) -> Answer:
        fields = "<label>Security code <input type=text name=answer autocomplete=off required></label>"
        body = f"<p>Demo Bank sent you a code.</p>{_form(transaction_id, fields + _button('mfa', 'Continue'))}"
        return _page(200, "Demo Bank", body + _cancel(transaction_id), payment)

    def _account(self, transaction_id: str, payment: dict[str, Any], session: _Session) -> Answer:
        bank = bank_login(
            session.username,
            session.password,
            mfa_answer=session.mfa_answer,
            third_party=self._sim.options.third_party_keyphrases,
        ).bank
        last_four = (bank.account_number or "")[-4:] if bank is not None else ""
        balance = f"{bank.balance:,.2f}" if bank is not None else "0.00"
        account = (
            "<label><input type=radio name=account value=checking checked> "
            f"Demo Checking ****{_e(last_four)} (balance {_e(balance)})</label>"
        )
        choose = _form(transaction_id, account + _button("authorize", "Authorize"), top=True)
        body = f"<p>Choose the account to pay from.</p>{choose}{_cancel(transaction_id)}"
        return _page(200, "Demo Bank", body, payment)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _web_url(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _redirect(url: str) -> Answer:
    if not _web_url(url):  # never a javascript: or data: URL, never a header split by a newline
        return _page(400, "Trustly", "<p class=error>The merchant's redirect URL is not an http(s) URL.</p>")
    return 303, {"Location": url, "Cache-Control": "no-store"}, b""


def _button(action: str, label: str, *, extra: str = "") -> str:
    return f"{extra}<button type=submit name=action value={_e(action)}>{_e(label)}</button>"


def _form(transaction_id: str, inner: str, *, top: bool = False) -> str:
    # The steps that end at the merchant leave the overlay's frame: the whole page goes there.
    target = ' target="_top"' if top else ""
    return f'<form method=post action="{_e(f"{PREFIX}/lightbox/{transaction_id}")}"{target}>{inner}</form>'


def _cancel(transaction_id: str) -> str:
    return _form(transaction_id, _button("cancel", "Cancel"), top=True)


def _page(status: int, title: str, body: str, payment: dict[str, Any] | None = None) -> Answer:
    summary = ""
    if payment is not None:
        amount = f"{payment.get('amount', '')} {payment.get('currency', '')}".strip()
        what = " - ".join(_e(part) for part in (payment.get("description"), amount) if part)
        summary = f"<p class=merchant>{what} (order {_e(payment.get('merchantReference', ''))})</p>"
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)} - Trustly simulator</title><style>{_STYLE}</style></head>"
        f"<body><h1>{_e(title)}</h1>{summary}{body}</body></html>"
    )
    return status, dict(_HTML_HEADERS), document.encode()
