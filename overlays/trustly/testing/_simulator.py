"""`Simulator`: a stateful local Trustly that speaks the REST API of spec/trustly-openapi.yaml.

The simulator is transport-free: `handle()` takes a request and returns a `Reply`. The HTTP(S)
server (`SimulatorServer`) and the httpx transports (`SimulatorTransport`) put it on a socket or
in-process. It checks HTTP Basic credentials, validates every request against the spec, keeps
transactions, payments and customers, de-duplicates merchantReference with code 210, sends
signed event notifications, and applies injected faults.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .._signatures import Algorithm, hmac_signature, sign_establish_data
from ._data import StaticData
from ._faults import Fault, FaultPlan
from ._ledger import CAPTURE, COMPLETED, PROCESSED, REPRESENTMENT, ApiError, Ledger, now_ms
from ._notifier import Notifier
from ._realism import Realism
from ._validate import Route, load_routes

__all__ = ["Reply", "Simulator"]


class MethodNotAllowed(ApiError):
    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(405, 200, f"{method} is not allowed on {path}")
        self.allowed = allowed


@dataclass
class Reply:
    """The simulator's answer; `fault` tells the front end to drop or delay it."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None


class Simulator:
    """A local Trustly. Use it through `SimulatorServer` or `SimulatorTransport`.

    Args:
        access_id, access_key: The credentials the simulator accepts (and signs notifications with).
        merchant_id: The merchant every request must name.
        notification_url: Where event notifications are POSTed; None keeps them in `ledger.events` only.
        time_scale: Seconds of real time per simulated minute (settlement, notification retries).
        check_responses: Validate every 200 body against the spec and answer 500 if it does not fit
            (a simulator bug); on by default, off for load tests.
        realism: Answer as untidily as Trustly's docs allow (see `Realism`); None sends tidy answers.
    """

    def __init__(
        self,
        *,
        access_id: str = "simulator-access-id",
        access_key: str = "simulator-access-key",
        merchant_id: str = "1002463580",
        notification_url: str | None = None,
        time_scale: float = 0.01,
        base_url: str = "http://127.0.0.1",
        check_responses: bool = True,
        realism: Realism | None = None,
    ) -> None:
        self.check_responses = check_responses
        self.realism = realism
        self.access_id = access_id
        self._access_key = access_key
        self.merchant_id = merchant_id
        self.base_url = base_url
        self.ledger = Ledger(merchant_id)
        self.faults = FaultPlan()
        self.data = StaticData(merchant_id)
        self.time_scale = time_scale
        self.notifier = Notifier(self, notification_url, access_id, access_key, time_scale)
        self._routes = load_routes()
        self._expected_auth = "Basic " + base64.b64encode(f"{access_id}:{access_key}".encode()).decode()
        self._timers: list[threading.Timer] = []
        self._recoveries: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"Simulator(access_id={self.access_id!r}, merchant_id={self.merchant_id!r})"

    # -- the simulated customer ---------------------------------------------------------------
    def authorize(
        self,
        transaction_id: str,
        *,
        username: str = "happy_path_01",
        password: str = "secret",  # noqa: S107 - Demo Bank
    ) -> str:
        """Stand in for the customer's bank login in the Lightbox; return the signed redirect URL.

        Success redirects to returnUrl with status=2 and sends an Authorize notification; a Demo
        Bank error keyphrase as password (LoginError, AccountLocked ...) redirects to cancelUrl
        with status=7. Other keyphrases: NotEnoughFunds, Balance{n}, extendedreasoncode_{code},
        ExpiredSplitToken.
        """
        with self.ledger.lock:
            try:
                transaction, ok = self.ledger.authorize(transaction_id, username, password)
            except ApiError as error:
                raise ValueError(error.message) from None
            except KeyError:
                raise ValueError(f"transaction {transaction_id} not found") from None
            payment = self.ledger.payment_of(transaction)
        self.notifier.flush()
        target = payment["returnUrl"] if ok else payment["cancelUrl"]
        params = {
            "transactionId": transaction["transactionId"],
            "transactionType": transaction["transactionType"],
            "merchantReference": payment["merchantReference"],
            "status": transaction["status"],
            "payment.paymentType": payment["paymentType"],
            "panel": "1",
        }
        url = f"{target}{'&' if '?' in target else '?'}{urlencode(params)}"
        signature = hmac_signature(url, self._access_key)
        return f"{url}&{urlencode({'requestSignature': signature})}"

    def sign_establish_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """What a merchant backend does with its key; for tests that build Establish Data by hand."""
        return sign_establish_data({**data, "accessId": self.access_id}, self._access_key)

    def settle_all(self) -> None:
        """Move every pending money movement to Completed now, sending its notifications."""
        with self.ledger.lock:
            for transaction_id in list(self.ledger.transactions):
                self.ledger.settle(transaction_id)
                self.ledger.settle(transaction_id)
        self.notifier.flush()

    def close(self) -> None:
        """Stop the settlement timers and the notification thread; call it when the simulator is done."""
        for timer in self._timers:
            timer.cancel()
        self.notifier.close()

    # -- HTTP ---------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request. `headers` keys are lower case; `target` is path plus query."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/api/v1"):
            path = path[len("/api/v1") :] or "/"
        if path.startswith("/simulator/authorize/") and method.upper() == "POST":
            return self._lightbox(path.rsplit("/", 1)[-1], body)
        route: Route | None = None
        try:
            route, params = self._route(method.upper(), path)
            if headers.get("authorization") != self._expected_auth:
                raise ApiError(401, 375, "Access not authorized")
            route.check_headers(headers)
            params = route.check_path(params)
            fault = self.faults.take(route.operation_id)
            if fault is not None and not fault.applies_request:
                if fault.kind == "drop_before":
                    return Reply(0, b"", fault=fault)
                extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                error = ApiError(fault.status_code, 100, "Simulated server error")
                return self._json(fault.status_code, error.body(), extra)
            query = route.parse_query(parts.query)
            payload = route.parse_body(headers.get("content-type", ""), body)
            with self.ledger.lock:
                if route.operation_id == "disputes_recover":
                    result = self._recover(headers["idempotency-key"], payload)
                else:
                    result = self._dispatch(route.operation_id, params, query, payload)
            self.notifier.flush()
            problem = route.response_problem(result) if self.check_responses else None
            if problem is not None:
                raise ApiError(500, 100, f"simulator bug: the {route.operation_id} answer breaks the spec: {problem}")
            reply = self._json(200, self._untidy(route, 200, result))
            reply.fault = fault
            return reply
        except MethodNotAllowed as error:
            return self._json(405, error.body(), {"Allow": ", ".join(sorted(set(error.allowed)))})
        except ApiError as error:
            return self._json(error.status, self._untidy(route, error.status, error.body()))

    def _untidy(self, route: Route | None, status: int, body: Any) -> Any:
        if self.realism is None or route is None:
            return body
        return self.realism.answer(route.operation_id, status, body, route.response_schema)

    def _lightbox(self, transaction_id: str, body: bytes) -> Reply:
        """The customer's side, over HTTP: form fields `username` and `password` (Demo Bank rules)."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        try:
            url = self.authorize(
                transaction_id, username=form.get("username", "happy_path_01"), password=form.get("password", "secret")
            )
        except ValueError as error:
            return self._json(400, ApiError(400, 200, str(error), "transactionId").body())
        return self._json(200, {"redirectUrl": url})

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        template: str | None = None
        for route in self._routes:
            match = route.regex.match(path)
            if match is None or (template is not None and route.path != template):
                continue
            if route.method == method:
                return route, match.groupdict()
            template = route.path  # the most specific path that matched; only its methods count
            allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(method, path, allowed)
        raise ApiError(404, 200, f"no operation at {path}")

    @staticmethod
    def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(data, separators=(",", ":")).encode()
        return Reply(status, body, {"Content-Type": "application/json", **(headers or {})})

    def _schedule_settlement(self, transaction_id: str) -> None:
        # Trustly processes within minutes and completes within days; here a few "minutes" each.
        for step in (1, 2):
            timer = threading.Timer(step * 3 * self.time_scale, self._settle_one, args=(transaction_id,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _settle_one(self, transaction_id: str) -> None:
        with self.ledger.lock:
            self.ledger.settle(transaction_id)
        self.notifier.flush()

    # -- operations ---------------------------------------------------------------------------
    def _dispatch(self, op: str, params: dict[str, str], query: dict[str, Any], body: Any) -> Any:
        ledger = self.ledger
        tid = params.get("transactionId", "")
        if op == "transactions_establish":
            if body.get("accessId") != self.access_id or body.get("merchantId") != self.merchant_id:
                raise ApiError(401, 375, "Access not authorized", "accessId")
            given = str(body.get("requestSignature", ""))
            algorithm: Algorithm = "HmacSHA512" if given.startswith("HmacSHA512:") else "HmacSHA1"
            expected = sign_establish_data(body, self._access_key, algorithm)["requestSignature"]
            if not hmac.compare_digest(expected.encode(), given.encode()):
                raise ApiError(401, 300, "Invalid requestSignature", "requestSignature")
            return ledger.establish(body, self.base_url)
        if op == "transactions_get":
            return ledger.view(ledger.transaction(tid))
        if op == "transactions_list":
            return {"transactions": self._list_transactions(query)}
        if op in ("transactions_capture", "transactions_capture_pre_auth", "transactions_deposit"):
            method = {"transactions_capture": ledger.capture, "transactions_capture_pre_auth": ledger.capture_pre_auth}
            child = method.get(op, ledger.deposit)(tid, body)
            self._schedule_settlement(child["transactionId"])
            return ledger.view(child)
        if op in ("transactions_refund", "transactions_reclaim"):
            child = (ledger.refund if op == "transactions_refund" else ledger.reclaim)(tid, body or {})
            self._schedule_settlement(child["transactionId"])
            return ledger.view(child)
        if op == "transactions_cancel":
            return ledger.view(ledger.cancel(tid))
        if op == "transactions_refresh":
            transaction = ledger.transaction(tid)
            payment = ledger.payment_of(transaction)
            if body["splitToken"] != ledger.split_tokens.get(payment["paymentId"]):
                raise ApiError(400, 397, "splitToken is not valid", "splitToken")
            return {"refresh": {"processId": f"refresh-{tid}-{now_ms()}"}}
        if op == "payments_get":
            found = ledger.payments.get(params["paymentId"])
            if found is None:
                raise ApiError(404, 330, "payment not found", "paymentId")
            return found
        if op == "payments_list":
            start, count = query.get("startIndex", 0), query.get("count", 25)
            items = sorted(ledger.payments.values(), key=lambda p: p["createdAt"], reverse=True)
            if "merchantReference" in query:
                items = [p for p in items if p.get("merchantReference") == query["merchantReference"]]
            return {"payments": items[start : start + count], "startIndex": start, "itemsPerPage": count}
        if op.startswith("customers_"):
            return self.data.customers(op, params, query, body)
        if op == "identity_send_feedback":
            return ledger.view(ledger.transaction(tid))
        if op.startswith(("account_data_", "identity_")):
            ledger.transaction(tid)
            return self.data.account_data(op, tid, body)
        return self.data.other(op, query, body)

    def _recover(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Re-present a returned collection once per Idempotency-Key; a repeat gets the same answer."""
        done = self._recoveries.get(key)
        if done is None:
            original = self.ledger.transaction(body["transactionId"])
            if original["transactionType"] != CAPTURE or original["status"] not in (PROCESSED, COMPLETED):
                raise ApiError(400, 200, "only a processed or completed capture can be recovered", "transactionId")
            child = self.ledger.new_child(original, REPRESENTMENT, Decimal(body["amount"]), None)
            self.ledger.applied.append(("disputes_recover", child["transactionId"], key))
            done = self._recoveries[key] = child
        return self.ledger.view(done)

    def _list_transactions(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        items = list(self.ledger.transactions.values())
        reverse = query.get("sortOrder", "desc") == "desc"
        key = query.get("orderBy", "createdAt")
        items.sort(key=lambda t: (t.get(key, 0), int(t["transactionId"])), reverse=reverse)
        filters: dict[str, Callable[[dict[str, Any], Any], bool]] = {
            "transactionStatus": lambda t, v: t["status"] in v,
            "transactionType": lambda t, v: t["transactionType"] in v,
            "originalTransactionId": lambda t, v: t.get("originalTransactionId") == v,
            "payment.merchantReference": lambda t, v: self.ledger.payment_of(t).get("merchantReference") == v,
            "payment.paymentId": lambda t, v: t["payment"]["paymentId"] == v,
        }
        for name, test in filters.items():
            if name in query:
                items = [t for t in items if test(t, query[name])]
        start, count = query.get("startIndex", 0), query.get("count", 25)
        return [self.ledger.view(t) for t in items[start : start + count]]
