"""The simulator's own HTTP endpoints, all under `/_simulator/` (Trustly's API is under `/api/v1`).

For driving a served simulator from another process (a browser, a shell, a test in another
language), each test helper of `Simulator` has an HTTP twin. Actions take form fields and answer
JSON; errors use Trustly's `errors` envelope.

| endpoint | what |
|---|---|
| `GET /_simulator/start/scripts/trustly.js` | the stand-in for Trustly's JavaScript library |
| `POST /_simulator/lightbox` | `Trustly.establish` opening the Lightbox (form `establishData`, JSON) |
| `GET`, `POST /_simulator/lightbox/{id}` | the Lightbox pages (the URL establish returns) |
| `POST /_simulator/authorize/{id}` | `authorize` (`username`, `password`, `mfa_answer`, `hold`): |
| | `redirectUrl`, and `splitToken` when it succeeded |
| `POST /_simulator/cancel/{id}` | `abandon`, the customer closing the Lightbox: `redirectUrl` |
| `POST /_simulator/deny/{id}`, `/release/{id}` | `deny` (`redirectUrl`), `release` |
| `POST /_simulator/return/{id}` | `ach_return` (`returnCode`, `amount`) |
| `GET /_simulator/split-token/{id}` | `split_token`: `splitToken` |
| `POST /_simulator/settle`, `/settle/{id}` | `settle_all`, `settle` |
| `POST /_simulator/advance` | `advance` (`days`, `hours`, `minutes`, `seconds`): `now` |
| `GET /_simulator/notifications` | `pending_notifications`: `pending` |
| `POST /_simulator/notifications/deliver` | `deliver_notifications`: `delivered` (a count) |
| `POST /_simulator/notifications/drop` | `drop_notifications` (`eventType`, `objectId`): `dropped` |
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ._ledger import ApiError
from ._lightbox import PREFIX, Answer, Lightbox

if TYPE_CHECKING:
    from ._simulator import Simulator

__all__ = ["PREFIX", "SimulatorEndpoints"]

_CLOCK_FIELDS = ("days", "hours", "minutes", "seconds")


class SimulatorEndpoints:
    """Answers every request under `/_simulator/` for one `Simulator`."""

    def __init__(self, simulator: Simulator) -> None:
        self._sim = simulator
        self.lightbox = Lightbox(simulator)

    def handle(self, method: str, path: str, body: bytes) -> Answer:
        """Answer one request; `path` starts with `/_simulator/`."""
        parts = path.removeprefix(PREFIX + "/").split("/")
        method = method.upper()
        name, arg = parts[0], "/".join(parts[1:])
        if path == f"{PREFIX}/start/scripts/trustly.js":
            return self.lightbox.script() if method == "GET" else _not_allowed("GET")
        if name == "lightbox" and not arg:
            return self.lightbox.open(body) if method == "POST" else _not_allowed("POST")
        if name == "lightbox" and "/" not in arg:
            if method == "GET":
                return self.lightbox.get(arg)
            return self.lightbox.post(arg, body) if method == "POST" else _not_allowed("GET, POST")
        if name in ("split-token", "notifications") and method == "GET":
            return self._read(name, arg)
        if method != "POST":
            known = name in ("authorize", "cancel", "deny", "release", "return", "settle", "advance", "notifications")
            return _not_allowed("POST") if known else _json(404, _error(404, f"no simulator endpoint at {path}"))
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        try:
            status, data = self._act(name, arg, form)
        except (ValueError, TypeError) as error:
            return _json(400, _error(400, str(error), "transactionId"))
        if status == 404:
            return _json(404, _error(404, f"no simulator endpoint at {path}"))
        return _json(status, data)

    def _read(self, name: str, arg: str) -> Answer:
        sim = self._sim
        try:
            if name == "split-token" and arg and "/" not in arg:
                return _json(200, {"splitToken": sim.split_token(arg)})
        except ValueError as error:
            return _json(400, _error(400, str(error), "transactionId"))
        if name == "notifications" and not arg:
            return _json(200, {"pending": sim.pending_notifications()})
        return _json(404, _error(404, f"no simulator endpoint at {PREFIX}/{name}/{arg}"))

    def _act(self, name: str, arg: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        sim = self._sim
        if "/" in arg:
            return 404, {}
        if name == "advance" and not arg:
            sim.advance(**{k: float(v) for k, v in form.items() if k in _CLOCK_FIELDS})
            return 200, {"now": sim.clock.now_ms()}
        if name == "settle":
            if arg:
                return 200, {"status": sim.settle(arg)}
            sim.settle_all()
            return 200, {}
        if name == "notifications" and arg == "deliver":
            return 200, {"delivered": sim.deliver_notifications()}
        if name == "notifications" and arg == "drop":
            chosen = sim.drop_notifications(event_type=form.get("eventType"), object_id=form.get("objectId"))
            return 200, {"dropped": chosen}
        if not arg:
            return 404, {}
        if name == "authorize":
            fields = {k: v for k, v in form.items() if k in ("username", "password", "mfa_answer")}
            answer: dict[str, Any] = {"redirectUrl": sim.authorize(arg, hold=form.get("hold") == "true", **fields)}
            try:
                answer["splitToken"] = sim.split_token(arg)
            except ValueError:
                pass  # the login failed: no token
            return 200, answer
        if name == "cancel":
            return 200, {"redirectUrl": sim.abandon(arg)}
        if name == "deny":
            return 200, {"redirectUrl": sim.deny(arg)}
        if name == "release":
            sim.release(arg)
            return 200, {}
        if name == "return":
            sim.ach_return(arg, form.get("returnCode", "R01"), amount=form.get("amount"))
            return 200, {}
        return 404, {}


def _error(status: int, message: str, location: str | None = None) -> dict[str, Any]:
    return ApiError(status, 200, message, location).body()


def _json(status: int, data: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(data, separators=(",", ":")).encode()


def _not_allowed(allowed: str) -> Answer:
    status, headers, body = _json(405, _error(405, f"use {allowed}"))
    return status, {**headers, "Allow": allowed}, body
