"""Hostile and malformed notifications: every one ends in a typed 4xx answer, never a 500.

Each reproduction from the field is a regression test; each belongs to a class that a matrix
(every malformed input x every entry point) or a hypothesis property covers.
"""

from __future__ import annotations

import asyncio
import io
import json
import string
from typing import Any
from urllib.parse import quote_plus, unquote_plus, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from tests.unit.test_webhooks import ACCESS_ID, KEY, authorization, fresh, signed
from trustly.models import Event
from trustly.webhooks import AsyncWebhookHandler, StaleNotificationError, WebhookHandler, parse_event, parse_form

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def handler(events: list[Event] | None = None, **kw: Any) -> WebhookHandler:
    sink: list[Event] = [] if events is None else events
    return WebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=sink.append, **kw)


def wsgi_call(app: WebhookHandler, environ: dict[str, Any]) -> int:
    statuses: list[str] = []
    app.wsgi(environ, lambda status, headers: statuses.append(status))
    return int(statuses[0].split()[0])


def environ_for(body: bytes, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "HTTP_AUTHORIZATION": headers.get("Authorization", ""),
        "wsgi.input": io.BytesIO(body),
    }
    environ.update(extra)
    return environ


def asgi_call(app: WebhookHandler, body: bytes, headers: dict[str, str]) -> int:
    async def run() -> int:
        transport = httpx.ASGITransport(app=app.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            raw = {name: value.encode() for name, value in headers.items()}  # UTF-8 on the wire
            return (await client.post("/hook", content=body, headers=raw)).status_code

    return asyncio.run(run())


def recut(body: bytes) -> bytes:
    """The attacker's body: the signed (decoded) string cut at its '&' and '=' and re-encoded."""
    pieces = (segment.partition("=") for segment in unquote_plus(body.decode()).split("&"))
    return "&".join(f"{quote_plus(key)}={quote_plus(value)}" for key, _, value in pieces).encode()


# -- the reproductions -------------------------------------------------------------------------


def test_non_ascii_authorization_is_401_not_a_crash() -> None:
    body, _ = signed(fresh())
    for value in ("Basic é", "Basic \u00e9\u00e9==", "Basic \u2603", "Bearer é"):
        assert handler().handle(body, {"Authorization": value})[0] == 401
        with pytest.raises(trustly.SignatureVerificationError):
            trustly.verify_notification_signature(body, value, KEY)
    # What a WSGI server hands over for the raw header bytes "Basic \xc3\xa9": latin-1 text.
    environ = environ_for(body, {"Authorization": "Basic \u00c3\u00a9"})
    assert wsgi_call(handler(), environ) == 401


@pytest.mark.anyio
async def test_async_on_event_is_awaited_or_refused() -> None:
    ran: list[str] = []

    async def on_event(event: Event) -> None:
        await asyncio.sleep(0)
        ran.append(str(event.event_id))

    with pytest.raises(trustly.ConfigurationError, match="AsyncWebhookHandler"):
        WebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=on_event)  # type: ignore[arg-type]

    class Callable:
        async def __call__(self, event: Event) -> None:
            ran.append("callable")

    with pytest.raises(trustly.ConfigurationError):
        WebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=Callable())  # type: ignore[arg-type]

    body, headers = signed(fresh())
    async_handler = AsyncWebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=on_event)
    assert (await async_handler.handle(body, headers))[0] == 200
    assert ran == ["1002593570"], "the coroutine ran before the 200"


def test_a_sync_function_returning_a_coroutine_is_not_acknowledged() -> None:
    async def work(event: Event) -> None:
        raise AssertionError("never runs")

    app = WebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=lambda event: work(event))  # type: ignore[arg-type,return-value]
    body, headers = signed(fresh())
    assert app.handle(body, headers)[0] == 500, "not 200: Trustly must deliver it again"


def test_duplicate_keys_and_recut_bodies_are_refused() -> None:
    events: list[Event] = []
    app = handler(events)
    # The legitimate body: its message holds an encoded "&status=4&eventId=778".
    original = fresh(message="x&status=4&eventId=778")
    body, headers = signed(original)
    assert b"message=x%26status%3D4%26eventId%3D778" in body
    assert app.handle(body, headers)[0] == 400, "ambiguous once decoded: the signature does not pin its fields"
    # The same signature on the decoded string re-sent as a form: duplicate eventId and status.
    forged = recut(body)
    assert trustly.notification_signature(forged, KEY) == trustly.notification_signature(body, KEY)
    assert app.handle(forged, headers)[0] == 400
    with pytest.raises(trustly.InvalidNotificationError, match="repeats"):
        parse_form(b"eventId=1&eventId=2")
    assert events == []


def test_recut_body_cannot_bring_a_fresh_event_id() -> None:
    # Even when the attacker's extra fields come first, the original eventId is still in the body.
    original = {k: v for k, v in fresh().items() if k not in ("eventId", "message")}
    body, headers = signed({"message": "x&eventId=778", **original, "eventId": "1002593570"})
    forged = recut(body)
    assert trustly.notification_signature(forged, KEY) == trustly.notification_signature(body, KEY)
    assert handler().handle(forged, headers)[0] == 400


@pytest.mark.parametrize("created_at", ["²", "①", "١٢٣", "12 ", "-5", "1e3", "", "99999999999999999999"])
def test_created_at_must_be_ascii_epoch_milliseconds(created_at: str) -> None:
    body, headers = signed(fresh(createdAt=created_at))
    with pytest.raises(trustly.InvalidNotificationError):
        parse_event(body)
    assert handler().handle(body, headers)[0] == 400


def test_deeply_nested_json_is_a_typed_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = json.dumps({**fresh(), "message": {"a": [1]}}).encode()
    for body in (b'{"x":' * 20_000 + b"1" + b"}" * 20_000, nested, deep[:60_000]):
        with pytest.raises(trustly.InvalidNotificationError):
            parse_event(body, "application/json")
        headers = {"Authorization": authorization(body), "Content-Type": "application/json"}
        assert handler(accept_json=True).handle(body, headers)[0] in (400, 413)
        assert handler().handle(body, headers)[0] in (413, 415), "JSON is refused unless enabled"


def test_str_body_is_a_typed_400() -> None:
    body, headers = signed(fresh())
    with pytest.raises(trustly.InvalidNotificationError, match="bytes"):
        handler().verify_and_parse(body.decode(), headers)  # type: ignore[arg-type]
    assert handler().handle(body.decode(), headers)[0] == 400  # type: ignore[arg-type]


def test_chunked_wsgi_post_without_content_length_is_read() -> None:
    events: list[Event] = []
    body, headers = signed(fresh())
    terminated = environ_for(body, headers, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    terminated["wsgi.input_terminated"] = True
    assert wsgi_call(handler(events), terminated) == 200 and len(events) == 1
    undelimited = environ_for(body, headers, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert wsgi_call(handler(), undelimited) == 411, "the server cannot tell where the body ends"
    too_big = environ_for(b"a=1" * 30_000, headers, CONTENT_LENGTH="")
    too_big["wsgi.input_terminated"] = True
    assert wsgi_call(handler(), too_big) == 413


@pytest.mark.parametrize("length", ["abc", "-1", "1.5", "²", " 12x"])
def test_bad_content_length_is_400(length: str) -> None:
    body, headers = signed(fresh())
    assert wsgi_call(handler(), environ_for(body, headers, CONTENT_LENGTH=length)) == 400


def test_access_id_is_required_and_checked_in_header_and_body() -> None:
    with pytest.raises(TypeError, match="access_id"):
        WebhookHandler(access_key=KEY, on_event=lambda event: None)  # type: ignore[call-arg]
    with pytest.raises(trustly.ConfigurationError, match="access_id"):
        WebhookHandler(access_key=KEY, access_id="", on_event=lambda event: None)
    events: list[Event] = []
    # Signed with our key but naming another accessId in the header.
    body, headers = signed(fresh(), access_id="someone-else")
    assert handler(events).handle(body, headers)[0] == 401
    # The header names us, the body names someone else.
    body, headers = signed(fresh(accessId="someone-else"))
    assert handler(events).handle(body, headers)[0] == 401
    # No accessId in the body: the docs do not list it among the fields every event carries.
    without = {k: v for k, v in fresh().items() if k != "accessId"}
    body, headers = signed(without)
    assert handler(events).handle(body, headers)[0] == 200
    assert len(events) == 1


def test_freshness_window() -> None:
    stale = str(int(trustly_now() - 14 * 3600) * 1000)
    body, headers = signed(fresh(createdAt=stale))
    with pytest.raises(StaleNotificationError):
        handler().verify_and_parse(body, headers)
    assert handler().handle(body, headers)[0] == 400
    assert handler(max_age=20 * 3600).handle(body, headers)[0] == 200
    assert handler(max_age=None).handle(body, headers)[0] == 200
    future = str(int(trustly_now() + 3600) * 1000)
    body, headers = signed(fresh(createdAt=future))
    assert handler().handle(body, headers)[0] == 400
    with pytest.raises(trustly.ConfigurationError):
        handler(max_age=0)


def trustly_now() -> float:
    import time

    return time.time()


# -- the classes: every malformed input through every entry point ------------------------------


def _malformed() -> list[tuple[str, bytes, dict[str, str], int]]:
    good, headers = signed(fresh())
    cases: list[tuple[str, bytes, dict[str, str], int]] = [
        ("no authorization", good, {}, 401),
        ("non-ascii authorization", good, {"Authorization": "Basic é"}, 401),
        ("not basic", good, {"Authorization": "Bearer abc"}, 401),
        ("bad base64", good, {"Authorization": "Basic !!!"}, 401),
        ("base64 of binary", good, {"Authorization": "Basic //79"}, 401),
        ("no colon", good, {"Authorization": "Basic " + "YWJj"}, 401),
        ("wrong key", *signed(fresh(), key="other"), 401),
        ("tampered", good.replace(b"status=2", b"status=4"), headers, 401),
        ("too large", b"a=" + b"1" * 70_000, headers, 413),
        ("json not enabled", b"{}", {**headers, "Content-Type": "application/json"}, 415),
    ]
    for name, fields in [
        ("missing eventId", {k: v for k, v in fresh().items() if k != "eventId"}),
        ("superscript createdAt", fresh(createdAt="²")),
        ("circled createdAt", fresh(createdAt="①")),
        ("stale", fresh(createdAt="1556234040954")),
        ("foreign body accessId", fresh(accessId="x")),
        ("encoded ampersand", fresh(message="a&b=c")),
        ("bad boolean", fresh(eventType="Refresh", hardRefresh="maybe")),
    ]:
        body, signed_headers = signed(fields)
        cases.append((name, body, signed_headers, 401 if "accessId" in name else 400))
    for name, raw, status in [
        ("duplicate key", good + b"&eventId=778", 400),
        ("empty segment", good + b"&", 400),
        ("bare key", good + b"&flag", 400),
        ("empty", b"", 400),
        ("bad utf-8 escape", good + b"&x=%FF", 401),  # no valid signature can cover invalid UTF-8
        ("binary", b"\xff\xfe\x00", 401),
    ]:
        auth = authorization(raw) if raw.isascii() else headers["Authorization"]
        cases.append((name, raw, {**headers, "Authorization": auth}, status))
    return cases


MALFORMED = _malformed()


@pytest.mark.parametrize("entry", ["handle", "wsgi", "asgi", "async-handle"])
@pytest.mark.parametrize(("name", "body", "headers", "status"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_malformed_matrix(entry: str, name: str, body: bytes, headers: dict[str, str], status: int) -> None:
    events: list[Event] = []
    app = handler(events)
    if entry == "handle":
        got = app.handle(body, headers)[0]
    elif entry == "wsgi":
        got = wsgi_call(app, environ_for(body, headers))
    elif entry == "asgi":
        got = asgi_call(app, body, headers)
    else:
        async_app = AsyncWebhookHandler(access_key=KEY, access_id=ACCESS_ID, on_event=events.append)
        got = asyncio.run(async_app.handle(body, headers))[0]
    assert got == status, name
    assert events == []


# -- properties ---------------------------------------------------------------------------------

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "&=%+ /:é€_.-", max_size=12)


# Free-text field names only: typed ones (success, hardRefresh) refuse a non-boolean value by design,
# and Hypothesis draws names from string constants of the loaded modules, so it does find them.
_NAMES = st.text(alphabet=string.ascii_letters + ".&=", min_size=1, max_size=8).filter(
    lambda name: name not in ("success", "hardRefresh", "createdAt")
)


@PROPERTY
@given(st.dictionaries(_NAMES, _TEXT, max_size=5))
def test_signed_bodies_are_accepted_exactly_when_their_fields_are_unambiguous(extra: dict[str, str]) -> None:
    fields = {**extra, **fresh()}
    body, headers = signed(fields)
    events: list[Event] = []
    status = handler(events).handle(body, headers)[0]
    ambiguous = any("&" in k or "=" in k or "&" in v for k, v in fields.items())
    assert status == (400 if ambiguous else 200)
    if not ambiguous:
        assert parse_form(body) == fields
        # Any other cut of the same signed string means exactly the same fields.
        assert parse_form(recut(body)) == fields


@PROPERTY
@given(st.binary(max_size=300), st.text(max_size=40), st.sampled_from(["", "application/json", "text/plain"]))
def test_any_request_gets_a_4xx_or_200_never_an_exception(body: bytes, auth: str, content_type: str) -> None:
    status = handler(accept_json=True).handle(body, {"Authorization": auth, "Content-Type": content_type})[0]
    assert status in (400, 401, 413, 415)
    try:
        signed_auth = authorization(body)
    except UnicodeDecodeError:
        return  # no signature can cover a body that is not UTF-8
    status = handler().handle(body, {"Authorization": signed_auth, "Content-Type": content_type})[0]
    assert status in (400, 413, 415), "random bytes, even signed, are no event"


def test_report_hardening_figures() -> None:
    from tests.conftest import REPORT

    REPORT.append(
        f"webhook hardening: {len(MALFORMED)} malformed inputs x 4 entry points = {4 * len(MALFORMED)} cases, "
        "2 properties x 200 generated cases; no answer outside 200/400/401/411/413/415"
    )


def test_urlencode_helper_matches_trustly_encoding() -> None:
    assert urlencode({"timeZone": "Etc/UTC"}) == "timeZone=Etc%2FUTC"


def test_secrets_stay_out_of_logs_and_reprs(caplog: pytest.LogCaptureFixture) -> None:
    body, headers = signed(fresh())
    token = headers["Authorization"].split()[1]
    signature = trustly.notification_signature(body, KEY)
    app = handler()
    with caplog.at_level("DEBUG", logger="trustly"):
        for case_body, case_headers in [
            (body, headers),
            (body, {"Authorization": headers["Authorization"] + "x"}),
            (body + b"&status=9", headers),
            (b"a" * 70_000, headers),
            (body.decode(), headers),
            *[(b, h) for _, b, h, _ in MALFORMED],
        ]:
            app.handle(case_body, case_headers)  # type: ignore[arg-type]
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "refusals are logged"
    for secret in (KEY, token, signature):
        assert secret not in text
        assert secret not in repr(app)


def test_an_unreachable_inbox_answers_503_so_trustly_redelivers() -> None:
    class Down:
        def put(self, event_id: str, body: bytes, content_type: str) -> bool:
            raise OSError("connection refused by db.internal:5432 password=hunter2")

    app = WebhookHandler(access_key=KEY, access_id=ACCESS_ID, inbox=Down())  # type: ignore[arg-type]
    body, headers = signed(fresh())
    assert app.handle(body, headers)[0] == 503
    with pytest.raises(trustly.ConfigurationError):
        WebhookHandler(access_key=KEY, access_id=ACCESS_ID)
    with pytest.raises(trustly.ConfigurationError):
        WebhookHandler(access_key=KEY, access_id=ACCESS_ID, inbox=Down(), on_event=print)  # type: ignore[arg-type]
