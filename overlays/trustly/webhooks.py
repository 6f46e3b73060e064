"""Receiving Trustly event notifications: verify, parse, de-duplicate, acknowledge.

Trustly POSTs each event to the merchant's notification URL as a form-encoded body signed in
the Authorization header, and retries every 5 minutes for 12 hours until it gets a 200 within
3 seconds. `WebhookHandler` does the whole job without any web framework:

```python
from trustly.webhooks import WebhookHandler

def on_event(event):           # keep it short: enqueue, don't call Trustly from here
    queue.put(event)

handler = WebhookHandler(access_key=..., access_id=..., on_event=on_event)
status, headers, body = handler.handle(raw_body, request_headers)   # any framework
app = handler.wsgi          # or mount it directly as a WSGI app
asgi_app = handler.asgi     # or as an ASGI app
```

Delivery is at-least-once: an event is acknowledged only after `on_event` returned, and a
repeat of an acknowledged eventId is acknowledged again without calling `on_event`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from ._errors import InvalidNotificationError, SignatureVerificationError
from ._signatures import verify_notification_signature

if TYPE_CHECKING:
    from trustly_api_client.models import Event

__all__ = [
    "EVENT_MODELS",
    "InMemoryReplayStore",
    "ReplayStore",
    "WebhookHandler",
    "WebhookResult",
    "parse_event",
]

MAX_BODY_BYTES = 64 * 1024

EVENT_MODELS: Mapping[str, str] = {
    "Authorize": "AuthorizeEvent",
    "Completed": "CompletedEvent",
    "Complete": "CompletedEvent",
    "DataReady": "DataReadyEvent",
    "Dispute": "DisputeEvent",
    "Establish": "EstablishEvent",
    "Expired": "ExpiredEvent",
    "Expire": "ExpiredEvent",
    "Failed": "FailedEvent",
    "Refresh": "RefreshEvent",
    "Update": "UpdateEvent",
    "VerifyCustomer": "VerifyCustomerEvent",
}
"""eventType -> model name in `trustly.models`; any other type parses as the generic `Event`."""

# Form bodies carry only text; these fields are typed otherwise in the event models.
_INT_FIELDS = frozenset({"createdAt"})
_BOOL_FIELDS = frozenset({"hardRefresh", "success"})


def _fields(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNotificationError("the notification body is not UTF-8") from None
    if "json" in content_type.lower() or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidNotificationError("the notification body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidNotificationError("the notification body is not a JSON object")
        return data
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidNotificationError("the notification body is not form-encoded") from None


def _coerce(name: str, value: Any) -> Any:
    if name in _INT_FIELDS:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise InvalidNotificationError(f"{name} is not epoch milliseconds: {value!r}")
    if name in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidNotificationError(f"{name} is not a boolean: {value!r}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # e.g. fiCode arrives as a JSON number in some payloads
    return value


def parse_event(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> Event:
    """Parse a notification body (not verified here) into its typed event model.

    Known event types give their own model (`AuthorizeEvent`, ...); any other type gives the
    generic `Event`, with every field kept in `additional_properties`.
    """
    import trustly_api_client.models as models

    raw = _fields(body, content_type)
    data = {k: _coerce(k, v) for k, v in raw.items()}
    for required in ("eventId", "eventType", "objectId", "createdAt"):
        if not data.get(required) and data.get(required) != 0:
            raise InvalidNotificationError(f"the notification has no {required}")
    model = getattr(models, EVENT_MODELS.get(str(data["eventType"]), "Event"))
    try:
        event: Event = model.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidNotificationError(f"the notification does not fit {model.__name__}: {exc}") from exc
    return event


class ReplayStore(Protocol):
    """Remembers handled eventIds. Share one store (e.g. Redis-backed) across processes."""

    def add(self, event_id: str) -> bool:
        """Record `event_id`; False if it was already recorded (atomically)."""
        ...

    def discard(self, event_id: str) -> None:
        """Forget `event_id`, so that Trustly's next delivery is handled again."""
        ...


class InMemoryReplayStore:
    """A bounded, thread-safe ReplayStore for one process. Entries expire after `ttl` seconds.

    The default keeps a day, longer than Trustly's 12 hours of redelivery.
    """

    def __init__(self, *, max_entries: int = 100_000, ttl: float = 24 * 3600) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._ttl = ttl

    def add(self, event_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self._max or next(iter(self._seen.values())) < now - self._ttl):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True

    def discard(self, event_id: str) -> None:
        with self._lock:
            self._seen.pop(event_id, None)

    def __len__(self) -> int:
        return len(self._seen)


WebhookResult = tuple[int, list[tuple[str, str]], bytes]
"""(status, headers, body) to answer Trustly with."""

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key.lower() == name:
            return value
    return None


class WebhookHandler:
    """Verifies, parses and de-duplicates notifications, then calls `on_event` once per eventId."""

    def __init__(
        self,
        *,
        access_key: str,
        on_event: Callable[[Event], None],
        access_id: str | None = None,
        store: ReplayStore | None = None,
    ) -> None:
        self._access_key = access_key
        self._access_id = access_id
        self._on_event = on_event
        self.store: ReplayStore = store if store is not None else InMemoryReplayStore()

    def __repr__(self) -> str:
        return f"WebhookHandler(access_id={self._access_id!r})"

    def verify_and_parse(self, body: bytes, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Event:
        """Verify the signature, then parse. Raises SignatureVerificationError or InvalidNotificationError."""
        if len(body) > MAX_BODY_BYTES:
            raise InvalidNotificationError("the notification body is too large")
        verify_notification_signature(
            body, _header(headers, "authorization"), self._access_key, access_id=self._access_id
        )
        return parse_event(body, _header(headers, "content-type") or "")

    def handle(self, body: bytes, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> WebhookResult:
        """Process one delivery and return the answer for Trustly.

        200 once the event was handled (now or by an earlier delivery); 401 for a bad signature;
        400 for an unreadable body; 500 when `on_event` raised, so that Trustly delivers again.
        """
        try:
            event = self.verify_and_parse(body, headers)
        except SignatureVerificationError:
            return 401, _TEXT, b"invalid signature"
        except InvalidNotificationError:
            return 400, _TEXT, b"invalid notification"
        event_id = str(event.event_id)
        if not self.store.add(event_id):
            return 200, _TEXT, b"OK"
        try:
            self._on_event(event)
        except Exception:
            self.store.discard(event_id)
            return 500, _TEXT, b"not processed"
        return 200, _TEXT, b"OK"

    # -- adapters ---------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The handler as a WSGI application (mount it at the notification URL)."""
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [*_TEXT, ("Allow", "POST")])
            return [b"POST only"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            start_response("413 Content Too Large", list(_TEXT))
            return [b"too large"]
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            "authorization": environ.get("HTTP_AUTHORIZATION", ""),
            "content-type": environ.get("CONTENT_TYPE", ""),
        }
        status, response_headers, payload = self.handle(body, headers)
        # A copy: WSGI servers (wsgiref) add Content-Length to the list they are given.
        start_response(f"{status} {_REASONS[status]}", list(response_headers))
        return [payload]

    async def asgi(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """The handler as an ASGI application. `on_event` runs in the event loop: keep it quick."""
        if scope["type"] != "http":
            return
        status, headers, payload = 405, [*_TEXT, ("Allow", "POST")], b"POST only"
        if scope.get("method") == "POST":
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    status, headers, payload = 413, _TEXT, b"too large"
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
            else:
                raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
                status, headers, payload = self.handle(b"".join(chunks), raw_headers)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": payload})


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}
