"""`Simulator`: a stateful local Trustly that speaks the REST API of spec/trustly-openapi.yaml.

The simulator is transport-free: `handle()` takes a request and returns a `Reply`. The HTTP(S)
server (`SimulatorServer`) and the httpx transports (`SimulatorTransport`) put it on a socket or
in-process. It checks HTTP Basic credentials, validates every request against the spec, keeps
transactions, payments and customers, de-duplicates merchantReference with code 210, sends
signed event notifications, and applies injected faults. Its own endpoints (the Lightbox, the
stand-in `trustly.js` and the HTTP twins of its test helpers) live under `/_simulator/`.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .._signatures import Algorithm, sign_establish_data
from . import _money
from ._clock import Clock
from ._customer import CustomerActions
from ._data import StaticData
from ._endpoints import PREFIX, SimulatorEndpoints
from ._faults import Fault, FaultPlan
from ._helpers import SimulatorHelpers
from ._ledger import ApiError, Ledger
from ._lifecycle import CAPTURE, REPRESENTMENT, REVERSED, LifecycleOptions
from ._notifier import Notifier
from ._realism import Realism
from ._validate import Route, load_routes

__all__ = ["Reply", "Simulator"]

_routes = functools.cache(load_routes)  # compiled once: the spec does not change while running
MONEY_OPERATIONS: dict[str, Callable[[Ledger, str, dict[str, str]], dict[str, Any]]] = {
    "transactions_capture": _money.capture,
    "transactions_capture_pre_auth": _money.capture_pre_auth,
    "transactions_deposit": _money.deposit,
    "transactions_refund": _money.refund,
    "transactions_reclaim": _money.reclaim,
}


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


class Simulator(CustomerActions, SimulatorHelpers):
    """A local Trustly. Use it through `SimulatorServer` or `SimulatorTransport`.

    Time is simulated: settlement, expiries and notification retries happen when the test moves
    the clock (`advance`, or `settle_all` to complete every money movement at once).

    The customer's side: `authorize` (or, in a browser, the Lightbox at the URL establish
    returns), `abandon`, `deny`, `release`, `ach_return`. What a test reads and steers:
    `split_token`, `settle`, `events`, `applied`, `pending_notifications`,
    `deliver_notifications`, `drop_notifications`, `sign_notification`, `pending_jobs`.

    Args:
        access_id, access_key: The credentials the simulator accepts (and signs notifications with).
        merchant_id: The merchant every request must name.
        notification_url: Where event notifications are POSTed; None keeps them in `ledger.events` only.
        lifecycle: Timings and account settings (`LifecycleOptions`); the defaults follow the docs.
        time_scale: Seconds of real time per simulated minute, to let the clock run on its own
            (serving by hand); None (the default) keeps it still between calls to `advance`.
        start_ms: The simulated time to start at (Unix milliseconds); the real time by default.
        check_responses: Validate every 200 body against the spec and answer 500 if it does not fit
            (a simulator bug); on by default, off for load tests.
        realism: Answer as untidily as Trustly's docs allow (see `Realism`); None sends tidy answers.
        payment_notification_urls: Send a payment's events to the `notificationUrl` its Establish
            Data named, over HTTP, instead of `notification_url`: True always, False never, None
            (the default) once a `SimulatorServer` serves it (so an in-process simulator never
            posts to a shop's URL a test made up).
    """

    def __init__(
        self,
        *,
        access_id: str = "simulator-access-id",
        access_key: str = "simulator-access-key",
        merchant_id: str = "1002463580",
        notification_url: str | None = None,
        lifecycle: LifecycleOptions | None = None,
        time_scale: float | None = None,
        start_ms: int | None = None,
        base_url: str = "http://127.0.0.1",
        check_responses: bool = True,
        realism: Realism | None = None,
        payment_notification_urls: bool | None = None,
    ) -> None:
        self.check_responses = check_responses
        self.realism = realism
        self.access_id = access_id
        self._access_key = access_key
        self.merchant_id = merchant_id
        self.base_url = base_url
        self.options = lifecycle or LifecycleOptions()
        self.clock = Clock(start_ms=start_ms, rate=None if time_scale is None else 60.0 / time_scale)
        self.ledger = Ledger(merchant_id, access_id, self.clock, self.options)
        self.faults = FaultPlan()
        self.data = StaticData(merchant_id, self.clock.now_ms)
        self.notifier = Notifier(
            notification_url,
            access_id,
            access_key,
            events=self.ledger.events,
            lock=self.ledger.lock,
            now_ms=self.clock.now_ms,
            retry_every=self.options.notification_retry_every,
            retry_for=self.options.notification_retry_for,
        )
        self.payment_notification_urls = payment_notification_urls
        if payment_notification_urls:
            self.notifier.url_for = self._payment_notification_url
        self.endpoints = SimulatorEndpoints(self)
        self._routes = _routes()
        self._expected_auth = "Basic " + base64.b64encode(f"{access_id}:{access_key}".encode()).decode()
        self._recoveries: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if time_scale is not None:
            self._ticker = threading.Thread(target=self._tick, name="trustly-simulator-clock", daemon=True)
            self._ticker.start()

    def __repr__(self) -> str:
        return f"Simulator(access_id={self.access_id!r}, merchant_id={self.merchant_id!r})"

    # -- simulated time -------------------------------------------------------------------------
    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> None:
        """Move the simulated clock forward, carrying out everything that falls due on the way.

        Settlement steps, expiries, returns and notification attempts run in time order, each at
        its own simulated moment; notifications due on the way are sent (and acknowledged or
        rescheduled) before this returns, so the endpoint must be served by another thread.
        """
        span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if span < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        target = self.clock.now_ms() + int(span.total_seconds() * 1000)
        self._run_until(target)
        self.clock.move_to(target)
        self._run_until(target)

    def _run_until(self, target: int) -> None:
        while True:
            with self.ledger.lock:
                job_due = self.ledger.schedule.next_due()
            send_due = self.notifier.next_due()
            due = min((d for d in (job_due, send_due) if d is not None), default=None)
            if due is None or due > target:
                return
            self.clock.move_to(due)
            with self.ledger.lock:
                while (job := self.ledger.schedule.pop_due(due)) is not None:
                    job.run(due)
            self.notifier.send_due(due)

    def _tick(self) -> None:
        while not self._stop.wait(0.02):
            self._run_until(self.clock.now_ms())

    def settle_all(self) -> None:
        """Move every money movement still on its way to Completed now, sending its notifications."""
        with self.ledger.lock:
            for transaction_id in list(self.ledger.transactions):
                self.ledger.settle(transaction_id)
        self.notifier.flush()

    def pending_jobs(self) -> list[tuple[int, str]]:
        """What the clock will do next: (simulated time in ms, what) for every scheduled step."""
        with self.ledger.lock:
            return [(job.due_ms, job.label) for job in self.ledger.schedule.pending()]

    def sign_establish_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """What a merchant backend does with its key; for tests that build Establish Data by hand."""
        return sign_establish_data({**data, "accessId": self.access_id}, self._access_key)

    def served_at(self, root: str) -> None:
        """Called by `SimulatorServer` once it listens at `root` (`http://127.0.0.1:PORT`): the
        Lightbox URLs establish returns point there, and unless `payment_notification_urls` is
        False, each payment's own notificationUrl receives its events."""
        self.base_url = root
        if self.payment_notification_urls is not False:
            self.notifier.url_for = self._payment_notification_url

    def _payment_notification_url(self, event: dict[str, str]) -> str | None:
        transaction = self.ledger.transactions.get(event.get("objectId", ""))
        if transaction is None:
            return None
        url = self.ledger.payment_of(transaction).get("notificationUrl")
        return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None

    def establish_in_browser(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Establish from the Establish Data a browser sent (`Trustly.establish`): the
        requestSignature, not HTTP Basic credentials, proves they come from the merchant, and
        they are validated like `POST /establish`. Returns the status and the JSON answer."""
        headers = {"authorization": self._expected_auth, "content-type": "application/json"}
        reply = self.handle("POST", "/api/v1/establish", headers, json.dumps(data).encode())
        answer = json.loads(reply.body) if reply.body else {}
        return reply.status or 503, answer if isinstance(answer, dict) else {}

    def close(self) -> None:
        """Stop the running clock and the notification thread; call it when the simulator is done."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        self.notifier.close()

    # -- HTTP ---------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request. `headers` keys are lower case; `target` is path plus query."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith(PREFIX + "/"):
            status, extra, content = self.endpoints.handle(method, path, body)
            return Reply(status, content, extra)
        if path.startswith("/api/v1"):
            path = path[len("/api/v1") :] or "/"
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
            error.occurred_at = self.clock.now_ms()
            return self._json(error.status, self._untidy(route, error.status, error.body()))

    def _untidy(self, route: Route | None, status: int, body: Any) -> Any:
        if self.realism is None or route is None:
            return body
        return self.realism.answer(route.operation_id, status, body, route.response_schema)

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
            return ledger.establish(body, f"{self.base_url}{PREFIX}/lightbox")
        if op == "transactions_get":
            return ledger.view(ledger.transaction(tid))
        if op == "transactions_list":
            return {"transactions": self._list_transactions(query)}
        operation = MONEY_OPERATIONS.get(op)
        if operation is not None:
            return ledger.view(operation(ledger, tid, body or {}))
        if op == "transactions_cancel":
            return ledger.view(_money.cancel(ledger, tid))
        if op == "transactions_refresh":
            return _money.refresh(ledger, tid, body)
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
            balance = ledger.bank_of(ledger.transaction(tid)).balance
            return self.data.account_data(op, tid, f"{balance:.2f}")
        return self.data.other(op, query, body)

    def _recover(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Re-present a returned collection once per Idempotency-Key; a repeat gets the same answer."""
        done = self._recoveries.get(key)
        if done is None:
            original = self.ledger.transaction(body["transactionId"])
            # Recovery re-presents a collection the customer's bank returned [doc: Dispute event].
            if original["transactionType"] != CAPTURE or original["status"] != REVERSED:
                raise ApiError(400, 200, "only a returned (Reversed) capture can be recovered", "transactionId")
            amount = Decimal(body["amount"])
            if amount > Decimal(original.get("reversed") or original["amount"]):
                raise ApiError(400, 200, "the recovery exceeds the returned amount", "amount")
            child = _money.new_child(self.ledger, original, REPRESENTMENT, amount, None)
            self.ledger.applied.append(("disputes_recover", child["transactionId"], key))
            self.ledger.move(child, "accept")
            self.ledger.submit(child)
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
