"""The httpx backend builds and sends a request itself: it must be exactly the one httpx would send.

`_exchange.build` skips `build_request` and `send` for the client's own httpx client. Whatever the
arguments, the method, URL, headers (names, values and order), body and extensions must equal
what `build_request` plus the client's `BasicAuth` give; a client configured in a way the direct
path does not cover must fall back to httpx; and sending must keep what httpx's client does
around the transport (the transport mounted for the URL, the request on an exception, its log line).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, BASE_URL
from trustly import _exchange
from trustly._auth import CORRELATION_EXTENSION, BasicAuth, Credentials
from trustly._settings import StatelessAsyncClient, StatelessClient
from trustly_api_client.operations import OPERATIONS, Operation

BASES = [
    BASE_URL,
    "https://sandbox.trustly.one/api/v1/",
    "http://127.0.0.1:8080",
    "https://bücher.example:8443/trustly",
    "https://[::1]:9000/api",
]

TIMEOUT = httpx.Timeout(5.0, pool=7.0)


def _template_path(op: Operation, value: str) -> str:
    # As the generated code builds it: every path parameter percent-encoded, nothing safe.
    return re.sub(r"\{[^}]+\}", quote(value, safe=""), op.path)


_OPERATIONS = sorted(OPERATIONS.values(), key=lambda o: o.operation_id)
_PATHS = st.one_of(
    st.tuples(st.sampled_from(_OPERATIONS), st.text(max_size=12)).map(lambda pair: _template_path(*pair)),
    st.text(max_size=20).map(lambda text: "/" + text),
    st.lists(st.sampled_from(["a", ".", "..", "%41", "%zz", "%", "?q=1", "#f", "//", " ", "é", "~"]), max_size=6).map(
        lambda parts: "/" + "/".join(parts)
    ),
)
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_BODIES = st.one_of(
    st.just({}),
    st.dictionaries(_TEXT, _TEXT | st.integers() | st.none(), max_size=3).map(lambda body: {"json": body}),
    st.dictionaries(_TEXT, _TEXT, max_size=3).map(lambda form: {"data": form}),
    st.binary(max_size=16).map(lambda content: {"content": content}),
)
_HEADERS = st.one_of(
    st.just({}),
    st.sampled_from(
        [
            {"headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            {"headers": {"accept": "text/plain"}},
            {"headers": {"X-Extra": "1", "user-agent": "other"}},
        ]
    ),
)


def _clients(base_url: str, headers: dict[str, str] | None) -> list[httpx.Client | httpx.AsyncClient]:
    sync = trustly.TrustlyClient(base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, headers=headers)
    asynchronous = trustly.AsyncTrustlyClient(
        base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, headers=headers
    )
    return [sync._pool.get(), asynchronous._pool.get()]


def _httpx_request(client: httpx.Client | httpx.AsyncClient, arguments: dict[str, Any]) -> httpx.Request:
    """What httpx's own client would send for `arguments`: built, then authenticated."""
    request = client.build_request(**arguments, timeout=TIMEOUT)
    assert client.auth is not None
    next(client.auth.sync_auth_flow(request))
    return request


def _shape(request: httpx.Request) -> tuple[Any, ...]:
    return (
        request.method,
        str(request.url),
        request.url.raw_path,
        request.headers.multi_items(),
        request.read(),
        request.extensions,
    )


@pytest.mark.parametrize("base_url", BASES)
@pytest.mark.parametrize("client_headers", [None, {"X-Merchant": "shop-1"}], ids=["plain", "extra-header"])
def test_a_built_request_is_the_one_httpx_builds(base_url: str, client_headers: dict[str, str] | None) -> None:
    clients = _clients(base_url, client_headers)
    directs: list[bool] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        path=_PATHS,
        method=st.sampled_from(["get", "delete", "post", "put", "patch", "GET"]),
        params=st.none() | st.dictionaries(st.sampled_from(["count", "startIndex", "q"]), _TEXT, max_size=2),
        body=_BODIES,
        headers=_HEADERS,
        correlation=st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    )
    def check(
        path: str,
        method: str,
        params: dict[str, str] | None,
        body: dict[str, Any],
        headers: dict[str, Any],
        correlation: str | None,
    ) -> None:
        arguments: dict[str, Any] = {"method": method, "url": path, **body, **headers}
        if params is not None:
            arguments["params"] = params
        if correlation is not None:
            arguments["extensions"] = {CORRELATION_EXTENSION: correlation}
        for client in clients:
            try:
                expected = _httpx_request(client, arguments)
            except Exception as exc:  # httpx refuses it: so must the direct build, before sending
                with pytest.raises(type(exc)):
                    _exchange.build(client, _exchange.request_arguments(client, arguments), TIMEOUT)
                continue
            ours, direct = _exchange.build(client, _exchange.request_arguments(client, arguments), TIMEOUT)
            if not direct:  # built by httpx: its send() authenticates it
                next(client.auth.sync_auth_flow(ours))  # type: ignore[union-attr]
            assert _shape(ours) == _shape(expected)
            directs.append(direct)

    check()
    assert any(directs)
    # Every operation, as the generated code calls it, takes the direct path.
    for op in _OPERATIONS:
        arguments = {"method": op.method, "url": _template_path(op, "1234567890")}
        for client in clients:
            ours, direct = _exchange.build(client, _exchange.request_arguments(client, arguments), TIMEOUT)
            assert direct, op.operation_id
            assert _shape(ours) == _shape(_httpx_request(client, arguments)), op.operation_id


def _client(**options: Any) -> StatelessClient:
    auth = BasicAuth(Credentials(ACCESS_ID, ACCESS_KEY))
    return StatelessClient(base_url=BASE_URL, auth=auth, **options)


class _OtherAuth(BasicAuth):
    """An auth of another class: its flow may differ, so httpx must run it."""


def _reconfigure(name: str, client: httpx.Client) -> dict[str, Any]:
    """Change `client` (or the arguments) in one way the direct path does not cover; the arguments."""
    arguments: dict[str, Any] = {"method": "get", "url": "/transactions/1"}
    if name == "event hook":
        client.event_hooks = {"request": [lambda request: None]}
    elif name == "response hook":
        client.event_hooks = {"response": [lambda response: None]}
    elif name == "redirects followed":
        client.follow_redirects = True
    elif name == "client query":
        client.params = {"always": "1"}
    elif name == "other auth":
        client.auth = _OtherAuth(Credentials(ACCESS_ID, ACCESS_KEY))
    elif name == "files":
        arguments = {"method": "post", "url": "/files", "files": {"upload": b"x"}}
    elif name == "cookies":
        arguments["cookies"] = {"a": "b"}
    elif name == "relative text URL":
        arguments["url"] = "transactions/1"
    return arguments


@pytest.mark.parametrize(
    "name",
    [
        "event hook",
        "response hook",
        "redirects followed",
        "client query",
        "other auth",
        "files",
        "cookies",
        "relative text URL",
    ],
)
def test_anything_else_goes_through_httpx(name: str) -> None:
    client = _client()
    arguments = _exchange.request_arguments(client, _reconfigure(name, client))
    request, direct = _exchange.build(client, arguments, TIMEOUT)
    assert direct is False
    assert "Authorization" not in request.headers  # httpx's send() authenticates it


def test_headers_set_after_the_first_call_are_used() -> None:
    client = _client()
    arguments = {"method": "get", "url": httpx.URL(BASE_URL + "/transactions/1")}
    first, _ = _exchange.build(client, arguments, TIMEOUT)
    client.headers = {"X-Later": "yes"}
    second, direct = _exchange.build(client, arguments, TIMEOUT)
    assert direct and "X-Later" not in first.headers and second.headers["X-Later"] == "yes"


def test_the_transport_mounted_for_the_url_is_used() -> None:
    seen: list[str] = []

    def answer(name: str) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            seen.append(name)
            return httpx.Response(200, json={})

        return httpx.MockTransport(handle)

    client = _client(transport=answer("default"), mounts={"http://127.0.0.1:8765": answer("mounted")})
    request, direct = _exchange.build(client, {"method": "get", "url": httpx.URL(BASE_URL + "/x")}, TIMEOUT)
    response = _exchange.send(client, request)
    assert direct and seen == ["mounted"] and response.request is request


def test_a_transport_error_names_its_request_as_httpx_does() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = _client(transport=httpx.MockTransport(refuse))
    request, _ = _exchange.build(client, {"method": "get", "url": httpx.URL(BASE_URL + "/x")}, TIMEOUT)
    with pytest.raises(httpx.ConnectError) as raised:
        _exchange.send(client, request)
    assert raised.value.request is request


def test_a_closed_client_refuses_to_send() -> None:
    client = _client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    request, _ = _exchange.build(client, {"method": "get", "url": httpx.URL(BASE_URL + "/x")}, TIMEOUT)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        _exchange.send(client, request)


def test_the_async_client_sends_directly_too() -> None:
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async def main() -> tuple[httpx.Request, bool, httpx.Response]:
        auth = BasicAuth(Credentials(ACCESS_ID, ACCESS_KEY))
        transport = httpx.MockTransport(handle)
        async with StatelessAsyncClient(base_url=BASE_URL, auth=auth, transport=transport) as client:
            arguments = {"method": "delete", "url": httpx.URL(BASE_URL + "/x")}
            request, direct = _exchange.build(client, arguments, TIMEOUT)
            return request, direct, await _exchange.send_async(client, request)

    request, direct, response = asyncio.run(main())
    assert direct and seen == [request] and response.status_code == 204
    assert request.headers["Authorization"].startswith("Basic ")


def test_httpx_request_log_line_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    client = _client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    request, _ = _exchange.build(client, {"method": "get", "url": httpx.URL(BASE_URL + "/x")}, TIMEOUT)
    with caplog.at_level(logging.INFO, logger="httpx"):
        _exchange.send(client, request)
    assert [r.getMessage() for r in caplog.records if r.name == "httpx"] == [
        f'HTTP Request: GET {BASE_URL}/x "HTTP/1.1 200 OK"'
    ]
