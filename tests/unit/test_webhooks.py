"""Notifications: verify, parse into typed events, de-duplicate, acknowledge, inline mode."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest

import trustly
from trustly import Timestamp
from trustly.models import (
    AuthorizeEvent,
    Event,
    EventType,
    PaymentProviderTransaction,
    RefreshEvent,
    TransactionStatus,
    UpdateEvent,
)
from trustly.webhooks import AsyncWebhookHandler, InMemoryReplayStore, WebhookHandler, parse_event

KEY = "notification-key"
ACCESS_ID = "M8RaHgEjBE54zuFYMRQq"


def now_ms() -> str:
    return str(int(time.time() * 1000))


AUTHORIZE = {
    "merchantId": "1002463580",
    "merchantReference": "cb180040",
    "paymentType": "2",
    "transactionType": "1",
    "eventId": "1002593570",
    "eventType": "Authorize",
    "objectId": "1002593555",
    "objectType": "Transaction",
    "message": "",
    "timeZone": "Etc/UTC",
    "createdAt": "1556234040954",
    "accessId": ACCESS_ID,
    "paymentProviderTransaction.status": "AC100",
    "status": "2",
    "statusMessage": "Authorized",
    "splitToken": "abc+/def==",
}


def fresh(**changes: str) -> dict[str, str]:
    return {**AUTHORIZE, "createdAt": now_ms(), **changes}


def authorization(body: bytes, key: str = KEY, access_id: str = ACCESS_ID) -> str:
    signature = trustly.notification_signature(body, key)
    return "Basic " + base64.b64encode(f"{access_id}:{signature}".encode()).decode()


def signed(fields: dict[str, str], key: str = KEY, access_id: str = ACCESS_ID) -> tuple[bytes, dict[str, str]]:
    body = urlencode(fields).encode()
    form = "application/x-www-form-urlencoded"
    return body, {"Authorization": authorization(body, key, access_id), "Content-Type": form}


def test_form_notification_parses_into_the_typed_event() -> None:
    body, _ = signed(AUTHORIZE)
    event = parse_event(body)
    assert isinstance(event, AuthorizeEvent)
    assert event.created_at == datetime(2019, 4, 25, 23, 14, 0, 954000, tzinfo=UTC)
    assert isinstance(event.created_at, Timestamp) and event.created_at.raw == 1556234040954
    assert event.status is TransactionStatus.AUTHORIZED
    assert event.split_token == "abc+/def=="
    assert isinstance(event.payment_provider_transaction, PaymentProviderTransaction)
    assert event.payment_provider_transaction.status == "AC100"
    assert event.event_type is EventType.AUTHORIZE


def test_json_notification_with_numbers_parses() -> None:
    payload = {
        "createdAt": "1701986440726", "eventId": "1028606610", "eventType": "Update", "objectId": "1024919204",
        "status": "1", "fiName": "Demo Bank", "fiCode": 200005501,
    }  # fmt: skip
    event = parse_event(json.dumps(payload).encode(), "application/json")
    assert isinstance(event, UpdateEvent)
    assert event.fi_code == "200005501" and isinstance(event.created_at, Timestamp)
    assert event.created_at.raw == 1701986440726


def test_refresh_booleans_are_coerced() -> None:
    body, _ = signed({**AUTHORIZE, "eventType": "Refresh", "hardRefresh": "true", "success": "false"})
    event = parse_event(body)
    assert isinstance(event, RefreshEvent)
    assert event.hard_refresh is True and event.success is False


def test_unknown_event_type_is_a_generic_event() -> None:
    body, _ = signed({**AUTHORIZE, "eventType": "CONSENT_GRANTED", "brandNew": "x"})
    event = parse_event(body)
    assert type(event) is Event
    assert event.event_type == "CONSENT_GRANTED" and event.event_type.is_unrecognized
    assert event.additional_properties["brandNew"] == "x"


def _handler(events: list[Event], **kw: object) -> WebhookHandler:
    return WebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=events.append, **kw)  # type: ignore[arg-type]


def test_handler_acknowledges_once_and_rejects_replays() -> None:
    events: list[Event] = []
    handler = _handler(events)
    body, headers = signed(fresh())
    assert handler.handle(body, headers)[0] == 200
    assert handler.handle(body, headers)[0] == 200, "a redelivery is acknowledged again"
    assert len(events) == 1, "but handled only once"


def test_handler_rejects_bad_signatures_and_bodies() -> None:
    events: list[Event] = []
    handler = _handler(events)
    body, headers = signed(fresh(), key="another-key")
    assert handler.handle(body, headers)[0] == 401
    assert handler.handle(body, {})[0] == 401
    good_body, good_headers = signed(fresh())
    assert handler.handle(good_body + b"&status=4", good_headers)[0] == 401
    junk, junk_headers = signed({"eventType": "Authorize"})
    assert handler.handle(junk, junk_headers)[0] == 400
    assert handler.handle(b"x" * 70_000, good_headers)[0] == 413
    assert events == []
    assert KEY not in repr(handler)


def test_a_failing_callback_lets_trustly_redeliver() -> None:
    calls: list[Event] = []

    def flaky(event: Event) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database down")

    handler = WebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=flaky)
    body, headers = signed(fresh())
    assert handler.handle(body, headers)[0] == 500
    assert handler.handle(body, headers)[0] == 200
    assert len(calls) == 2


def test_replay_store_is_bounded_and_expires() -> None:
    store = InMemoryReplayStore(max_entries=3, ttl=3600)
    assert all(store.add(str(i)) for i in range(5))
    assert len(store) == 3 and store.add("0"), "the oldest entries were evicted"
    assert not store.add("4")
    expiring = InMemoryReplayStore(ttl=0)
    assert expiring.add("a") and expiring.add("a")


def test_replay_store_is_atomic_across_threads() -> None:
    store = InMemoryReplayStore()
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(store.add("same"))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_wsgi_app_on_a_real_server() -> None:
    events: list[Event] = []
    handler = _handler(events)
    server = make_server("127.0.0.1", 0, handler.wsgi, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/trustly/notifications"
        body, headers = signed(fresh())
        response = httpx.post(url, content=body, headers=headers, timeout=5)
        assert response.status_code == 200 and response.text == "OK"
        assert httpx.post(url, content=b"x=1", headers=headers, timeout=5).status_code == 401
        assert httpx.get(url, timeout=5).status_code == 405
    finally:
        server.shutdown()
        server.server_close()
    assert [e.event_id for e in events] == ["1002593570"]


@pytest.mark.anyio
async def test_asgi_app() -> None:
    events: list[Event] = []
    handler = _handler(events)
    transport = httpx.ASGITransport(app=handler.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        body, headers = signed(fresh())
        assert (await client.post("/hook", content=body, headers=headers)).status_code == 200
        assert (await client.post("/hook", content=body, headers=headers)).status_code == 200
        assert (await client.post("/hook", content=b"a" * 70_000, headers=headers)).status_code == 413
        assert (await client.get("/hook")).status_code == 405
    assert len(events) == 1


@pytest.mark.anyio
async def test_async_handler_awaits_async_and_runs_plain_callbacks() -> None:
    seen: list[str] = []

    async def on_event(event: Event) -> None:
        seen.append(f"async {event.event_id}")

    handler = AsyncWebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=on_event)
    body, headers = signed(fresh())
    assert (await handler.handle(body, headers))[0] == 200
    assert (await handler.handle(body, headers))[0] == 200
    plain = AsyncWebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=lambda event: seen.append("plain"))
    assert (await plain.handle(body, headers))[0] == 200
    assert seen == ["async 1002593570", "plain"]
