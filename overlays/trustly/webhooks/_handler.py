"""The notification endpoint: verify, parse, then store in the inbox (or handle inline), and answer.

Every request ends in an HTTP answer, never an exception: 200 once the event is stored (or was
already), 400 for an unreadable or stale notification, 401 for a bad signature, 411 for a chunked
body the server cannot delimit, 413 for a body over 64 KiB, 415 for JSON unless enabled, 500 when
an inline `on_event` failed and 503 when the store is unreachable (both make Trustly redeliver).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError, InvalidNotificationError, SignatureVerificationError
from .._signatures import verify_notification_signature
from ._inbox import Inbox, is_coroutine_function
from ._memory import InMemoryReplayStore, ReplayStore
from ._parsing import DEFAULT_MAX_AGE, MAX_BODY_BYTES, check_fresh, event_fields, model_event

if TYPE_CHECKING:
    from trustly_api_client.models import Event

__all__ = ["AsyncWebhookHandler", "WebhookHandler", "WebhookResult"]

WebhookResult = tuple[int, list[tuple[str, str]], bytes]
"""(status, headers, body) to answer Trustly with."""

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

_log = logging.getLogger("trustly.webhooks")
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed", 411: "Length Required",
    413: "Content Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable",
}  # fmt: skip
_JSON_TYPES = ("application/json", "text/json")


def _answer(status: int, text: str) -> WebhookResult:
    return status, list(_TEXT), text.encode()


def _header(headers: Headers, name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if str(key).lower() == name:
            return str(value)
    return None


@dataclass(frozen=True, slots=True)
class _Verified:
    event: Event
    content_type: str


class _Too(Exception):
    def __init__(self, status: int, text: str) -> None:
        self.result = _answer(status, text)


class _Endpoint:
    """What both handlers share: configuration, verification and the framework adapters."""

    def __init__(
        self,
        *,
        access_key: str,
        access_id: str,
        inbox: Inbox | None,
        store: ReplayStore | None,
        max_age: float | None,
        accept_json: bool,
    ) -> None:
        if not access_key or not isinstance(access_key, str):
            raise ConfigurationError("access_key is required to verify notifications")
        if not access_id or not isinstance(access_id, str):
            raise ConfigurationError("access_id is required: notifications signed for another accessId are refused")
        if inbox is not None and store is not None:
            raise ConfigurationError("pass an inbox (workers process events) or a store (inline), not both")
        if max_age is not None and max_age <= 0:
            raise ConfigurationError("max_age must be positive seconds, or None to turn the check off")
        self._access_key = access_key
        self._access_id = access_id
        self.inbox = inbox
        self.store: ReplayStore = store if store is not None else InMemoryReplayStore()
        self.max_age = max_age
        self.accept_json = accept_json

    def __repr__(self) -> str:
        return f"{type(self).__name__}(access_id={self._access_id!r}, inbox={self.inbox!r})"

    def _verified_fields(self, body: bytes, headers: Headers) -> tuple[dict[str, Any], str]:
        if not isinstance(body, bytes | bytearray | memoryview):
            _log.error("trustly webhook: the handler was given a %s body; pass the raw bytes", type(body).__name__)
            raise InvalidNotificationError(f"pass the raw body as bytes, not {type(body).__name__}")
        body = bytes(body)
        if len(body) > MAX_BODY_BYTES:
            raise _Too(413, "too large")
        content_type = _header(headers, "content-type") or "application/x-www-form-urlencoded"
        if content_type.split(";")[0].strip().lower() in _JSON_TYPES and not self.accept_json:
            raise _Too(415, "form-encoded notifications only")
        sender = verify_notification_signature(
            body, _header(headers, "authorization"), self._access_key, access_id=self._access_id
        )
        fields = event_fields(body, content_type)
        # The body's accessId is optional (the docs list it among "other fields seen"); when
        # present it must name the accessId the header was signed for.
        body_access_id = fields.get("accessId")
        if body_access_id is not None and not hmac.compare_digest(str(body_access_id).encode(), sender.encode()):
            raise SignatureVerificationError("the notification body names another accessId than its signature")
        check_fresh(int(fields["createdAt"]), max_age=self.max_age)
        return fields, content_type

    def verify_and_parse(self, body: bytes, headers: Headers) -> Event:
        """Verify signature, accessId and freshness, then parse into the typed event model.

        Raises SignatureVerificationError or InvalidNotificationError (StaleNotificationError for
        a createdAt outside the freshness window).
        """
        try:
            fields, _ = self._verified_fields(body, headers)
        except _Too as too:
            raise InvalidNotificationError(too.result[2].decode()) from None
        return model_event(fields)

    def _check(self, body: bytes, headers: Headers) -> _Verified | WebhookResult:
        try:
            fields, content_type = self._verified_fields(body, headers)
            return _Verified(model_event(fields), content_type)
        except _Too as too:
            return too.result
        except SignatureVerificationError as error:
            _log.warning("trustly webhook refused (401): %s", error)
            return _answer(401, "invalid signature")
        except InvalidNotificationError as error:
            _log.warning("trustly webhook refused (400): %s", error)
            return _answer(400, "invalid notification")

    def _store(self, event: Event, body: bytes, content_type: str) -> WebhookResult:
        assert self.inbox is not None
        try:
            new = self.inbox.put(str(event.event_id), bytes(body), content_type)
        except Exception as exc:
            _log.error("trustly webhook: the inbox is unavailable (503): %s", type(exc).__name__)
            return _answer(503, "try again")
        if not new:
            _log.info("trustly webhook: event %s redelivered, already stored", event.event_id)
        return _answer(200, "OK")

    # -- framework adapters ---------------------------------------------------------------

    def _wsgi_body(self, environ: Mapping[str, Any]) -> bytes | WebhookResult:
        if environ.get("REQUEST_METHOD") != "POST":
            status, headers, payload = _answer(405, "POST only")
            return status, [*headers, ("Allow", "POST")], payload
        raw_length = str(environ.get("CONTENT_LENGTH") or "").strip()
        stream = environ["wsgi.input"]
        if raw_length:
            if not raw_length.isascii() or not raw_length.isdigit():
                return _answer(400, "invalid Content-Length")
            length = int(raw_length)
            if length > MAX_BODY_BYTES:
                return _answer(413, "too large")
            return bytes(stream.read(length)) if length else b""
        if environ.get("wsgi.input_terminated"):
            # The server delimits the body itself (chunked uploads): read to its end, bounded.
            chunks: list[bytes] = []
            size = 0
            while chunk := stream.read(min(65536, MAX_BODY_BYTES + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return _answer(413, "too large")
            return b"".join(chunks)
        if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
            return _answer(411, "Content-Length required")
        return b""

    @staticmethod
    def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
        return {
            "authorization": str(environ.get("HTTP_AUTHORIZATION", "")),
            "content-type": str(environ.get("CONTENT_TYPE", "")),
        }

    @staticmethod
    async def _asgi_body(
        scope: Mapping[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]]
    ) -> bytes | WebhookResult:
        if scope.get("method") != "POST":
            status, headers, payload = _answer(405, "POST only")
            return status, [*headers, ("Allow", "POST")], payload
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return _answer(400, "client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return _answer(413, "too large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    async def _asgi_send(send: Callable[[dict[str, Any]], Awaitable[None]], result: WebhookResult) -> None:
        status, headers, payload = result
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        await send({"type": "http.response.body", "body": payload})


class WebhookHandler(_Endpoint):
    """The notification endpoint for WSGI and plain-Python servers (and ASGI, in a thread).

    With `inbox=` (recommended) it verifies each notification, stores it and answers 200 in
    milliseconds; `InboxWorker`s then call your function, in any process. With `on_event=` it
    calls your function inline, before answering, de-duplicating through `store` (one process
    only: a worker that dies after recording an eventId loses that event).

    `access_id` and `access_key` are your Trustly credentials: the Authorization header must be
    signed with the key for that accessId, and a body's `accessId`, when present, must match.
    `max_age` (seconds, default 13 hours) refuses a notification created longer ago, so a
    captured notification cannot be replayed after the store forgot its eventId.
    `accept_json=True` also accepts JSON bodies (Trustly itself sends form-encoded ones).
    """

    def __init__(
        self,
        *,
        access_key: str,
        access_id: str,
        on_event: Callable[[Event], None] | None = None,
        inbox: Inbox | None = None,
        store: ReplayStore | None = None,
        max_age: float | None = DEFAULT_MAX_AGE,
        accept_json: bool = False,
    ) -> None:
        if (on_event is None) == (inbox is None):
            raise ConfigurationError("pass either inbox= (workers call your function) or on_event= (inline)")
        if on_event is not None and is_coroutine_function(on_event):
            raise ConfigurationError("on_event is a coroutine function: use AsyncWebhookHandler (or an inbox)")
        super().__init__(
            access_key=access_key,
            access_id=access_id,
            inbox=inbox,
            store=store,
            max_age=max_age,
            accept_json=accept_json,
        )
        self._on_event = on_event

    def handle(self, body: bytes, headers: Headers) -> WebhookResult:
        """Process one delivery (the raw body bytes and the request headers); return the answer."""
        checked = self._check(body, headers)
        if not isinstance(checked, _Verified):
            return checked
        if self.inbox is not None:
            return self._store(checked.event, body, checked.content_type)
        return self._inline(checked.event)

    def _inline(self, event: Event) -> WebhookResult:
        assert self._on_event is not None
        event_id = str(event.event_id)
        if not self.store.add(event_id):
            return _answer(200, "OK")
        try:
            result: object = self._on_event(event)
            if inspect.isawaitable(result):
                # A coroutine that slipped past the constructor check would never run.
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError("on_event returned an awaitable: use AsyncWebhookHandler")
        except Exception as exc:
            self.store.discard(event_id)
            _log.error("trustly webhook: on_event failed for %s (500): %s", event_id, type(exc).__name__)
            return _answer(500, "not processed")
        return _answer(200, "OK")

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The handler as a WSGI application (mount it at the notification URL)."""
        body = self._wsgi_body(environ)
        result = body if isinstance(body, tuple) else self.handle(body, self._wsgi_headers(environ))
        status, headers, payload = result
        start_response(f"{status} {_REASONS[status]}", headers)
        return [payload]

    async def asgi(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """The handler as an ASGI application; the store and `on_event` run in a worker thread."""
        if scope["type"] != "http":
            return
        body = await self._asgi_body(scope, receive)
        if isinstance(body, tuple):
            result = body
        else:
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            result = await asyncio.to_thread(self.handle, body, headers)
        await self._asgi_send(send, result)


class AsyncWebhookHandler(_Endpoint):
    """`WebhookHandler` for asyncio applications: `await handle(...)`, and `on_event` may be async.

    An `async def on_event` is awaited before the answer; a plain function runs in a worker
    thread, as do the inbox's database calls, so the event loop is never blocked.
    """

    def __init__(
        self,
        *,
        access_key: str,
        access_id: str,
        on_event: Callable[[Event], Awaitable[None] | None] | None = None,
        inbox: Inbox | None = None,
        store: ReplayStore | None = None,
        max_age: float | None = DEFAULT_MAX_AGE,
        accept_json: bool = False,
    ) -> None:
        if (on_event is None) == (inbox is None):
            raise ConfigurationError("pass either inbox= (workers call your function) or on_event= (inline)")
        super().__init__(
            access_key=access_key,
            access_id=access_id,
            inbox=inbox,
            store=store,
            max_age=max_age,
            accept_json=accept_json,
        )
        self._on_event = on_event

    async def handle(self, body: bytes, headers: Headers) -> WebhookResult:
        """Process one delivery (the raw body bytes and the request headers); return the answer."""
        checked = self._check(body, headers)
        if not isinstance(checked, _Verified):
            return checked
        event = checked.event
        if self.inbox is not None:
            return await asyncio.to_thread(self._store, event, body, checked.content_type)
        assert self._on_event is not None
        event_id = str(event.event_id)
        if not await asyncio.to_thread(self.store.add, event_id):
            return _answer(200, "OK")
        try:
            if is_coroutine_function(self._on_event):
                result = self._on_event(event)
            else:
                result = await asyncio.to_thread(self._on_event, event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            await asyncio.to_thread(self.store.discard, event_id)
            _log.error("trustly webhook: on_event failed for %s (500): %s", event_id, type(exc).__name__)
            return _answer(500, "not processed")
        return _answer(200, "OK")

    async def asgi(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """The handler as an ASGI application (Starlette, FastAPI, uvicorn ...)."""
        if scope["type"] != "http":
            return
        body = await self._asgi_body(scope, receive)
        if isinstance(body, tuple):
            result = body
        else:
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            result = await self.handle(body, headers)
        await self._asgi_send(send, result)
