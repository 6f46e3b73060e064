"""What is particular to `backend="aiohttp"`: choosing it, its extra, its error map and its proxy.

The behaviour both backends share (retries, the invariant matrix, faults, load) is tested by
running the same suites on each; this file covers the backend's own surface.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import subprocess
import sys
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import trustly
import trustly._aiohttp as backend_module
from tests.conftest import ACCESS_ID, ACCESS_KEY, BASE_URL
from tests.overlay.aiohttp_bridge import AIOHTTP_EVENT
from trustly._auth import CORRELATION_EXTENSION
from trustly._retries import Outcome, classify_exception
from trustly_api_client.operations import OPERATIONS, Operation

# What each exception aiohttp raises says about the request. A new aiohttp exception class
# fails `test_every_aiohttp_exception_is_classified` until it is placed here.
KINDS: dict[str, Outcome | None] = {
    # no connection was made: nothing was sent
    "ClientConnectorError": Outcome.NOT_SENT,
    "ClientConnectorDNSError": Outcome.NOT_SENT,
    "ClientProxyConnectionError": Outcome.NOT_SENT,
    "ClientConnectorSSLError": Outcome.NOT_SENT,
    "ClientConnectorCertificateError": Outcome.NOT_SENT,
    "ClientSSLError": Outcome.NOT_SENT,
    "UnixClientConnectorError": Outcome.NOT_SENT,
    "ConnectionTimeoutError": Outcome.NOT_SENT,
    # the connection failed after the request was handed to it
    "ServerTimeoutError": Outcome.MAYBE_APPLIED,
    "SocketTimeoutError": Outcome.MAYBE_APPLIED,
    "ServerDisconnectedError": Outcome.MAYBE_APPLIED,
    "ServerConnectionError": Outcome.MAYBE_APPLIED,
    "ServerFingerprintMismatch": Outcome.MAYBE_APPLIED,
    "ClientOSError": Outcome.MAYBE_APPLIED,
    "ClientConnectionError": Outcome.MAYBE_APPLIED,
    "ClientConnectionResetError": Outcome.MAYBE_APPLIED,
    "ClientPayloadError": Outcome.MAYBE_APPLIED,
    "ClientResponseError": Outcome.MAYBE_APPLIED,
    "ContentTypeError": Outcome.MAYBE_APPLIED,
    "WSServerHandshakeError": Outcome.MAYBE_APPLIED,
    # refused on the client's side
    "ClientHttpProxyError": Outcome.FATAL,
    "TooManyRedirects": Outcome.FATAL,
    "InvalidURL": Outcome.FATAL,
    "InvalidUrlClientError": Outcome.FATAL,
    "NonHttpUrlClientError": Outcome.FATAL,
    "InvalidUrlRedirectClientError": Outcome.FATAL,
    "NonHttpUrlRedirectClientError": Outcome.FATAL,
    # not mapped: the sender's rule for an unexpected exception applies (by how far the call got)
    "ClientError": None,
    "RedirectClientError": None,
    "UploadAbortedError": None,
}


def _aiohttp_exceptions() -> list[type[BaseException]]:
    """Every exception class aiohttp's client exports."""
    classes = {getattr(aiohttp, name) for name in aiohttp.__all__}
    return sorted((c for c in classes if isinstance(c, type) and issubclass(c, aiohttp.ClientError)), key=str)


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance as aiohttp builds it."""
    key = ConnectionKey("sandbox.trustly.one", 443, True, True, None, None, None)
    if issubclass(cls, aiohttp.ClientConnectorCertificateError):
        return cls(key, ssl.SSLCertVerificationError(1, "certificate verify failed"))
    if issubclass(cls, aiohttp.ClientConnectorError):
        return cls(key, OSError(111, "Connect call failed"))
    if issubclass(cls, aiohttp.ClientResponseError):
        info = aiohttp.RequestInfo(URL(BASE_URL), "GET", CIMultiDictProxy(CIMultiDict()))
        return cls(info, (), status=400, message="Bad status line")
    if issubclass(cls, aiohttp.InvalidURL):
        return cls("http://[::1")
    if issubclass(cls, aiohttp.ServerFingerprintMismatch):
        return cls(b"a", b"b", "sandbox.trustly.one", 443)
    return cls()


def _client() -> trustly.AsyncTrustlyClient:
    return trustly.AsyncTrustlyClient(base_url=BASE_URL, access_id=ACCESS_ID, access_key=ACCESS_KEY, backend="aiohttp")


@pytest.mark.parametrize("cls", _aiohttp_exceptions(), ids=lambda c: c.__name__)
def test_every_aiohttp_exception_is_classified(cls: type[BaseException]) -> None:
    assert cls.__name__ in KINDS, f"{cls.__name__}: not sent, may have arrived or refused?"
    exc = _instance(cls)
    request = httpx.Request("POST", BASE_URL + "/transactions/1/refund")
    mapped = backend_module.AiohttpClient.failure(_client_shell(), exc, request)  # type: ignore[arg-type]
    expected = KINDS[cls.__name__]
    if expected is None:
        assert mapped is exc
    else:
        assert isinstance(mapped, httpx.RequestError) and mapped.__cause__ is exc
        assert classify_exception(mapped) is expected, type(mapped).__name__
        assert mapped.__traceback__ is None and exc.__traceback__ is None


class _Shell:
    """Just the error map, without a session (the mapping needs nothing else)."""

    _aio_errors = backend_module._error_map()


def _client_shell() -> _Shell:
    return _Shell()


@pytest.mark.parametrize("event", list(AIOHTTP_EVENT), ids=lambda c: c.__name__)
def test_each_network_event_maps_back_to_the_httpx_exception_of_its_kind(event: type[httpx.TransportError]) -> None:
    # The bridge raises, for each httpx exception, the aiohttp one for the same event; the
    # backend must map it back to an exception of the same outcome kind.
    raised = AIOHTTP_EVENT[event](event("x"))
    request = httpx.Request("GET", BASE_URL)
    mapped = backend_module.AiohttpClient.failure(_client_shell(), raised, request)  # type: ignore[arg-type, arg-type]
    assert classify_exception(mapped) is classify_exception(event("x"))  # type: ignore[arg-type]


def test_backend_is_checked() -> None:
    with pytest.raises(trustly.ConfigurationError, match='"httpx" or "aiohttp"'):
        trustly.AsyncTrustlyClient(base_url=BASE_URL, access_id=ACCESS_ID, access_key=ACCESS_KEY, backend="curl")  # type: ignore[arg-type]


def test_an_httpx_transport_needs_the_httpx_backend() -> None:
    with pytest.raises(trustly.ConfigurationError, match="transport"):
        trustly.AsyncTrustlyClient(
            base_url=BASE_URL,
            access_id=ACCESS_ID,
            access_key=ACCESS_KEY,
            backend="aiohttp",
            transport=httpx.MockTransport(lambda request: httpx.Response(200)),
        )


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # what an environment without aiohttp sees
    with pytest.raises(trustly.ConfigurationError, match=r"trustly-api-client\[aiohttp\]"):
        _client()


def test_aiohttp_is_imported_only_when_chosen() -> None:
    code = (
        "import sys, trustly\n"
        "trustly.AsyncTrustlyClient(base_url='http://127.0.0.1:1/api/v1', access_id='a', access_key='k')\n"
        "assert 'aiohttp' not in sys.modules, 'imported by default'\n"
        "trustly.AsyncTrustlyClient(base_url='http://127.0.0.1:1/api/v1', access_id='a', access_key='k',"
        " backend='aiohttp')\n"
        "print('aiohttp' in sys.modules)\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    assert done.stdout.strip() == "True"


PROXY_ENVIRONMENTS = [
    {},
    {"HTTPS_PROXY": "http://proxy.example:3128"},
    {"HTTPS_PROXY": "proxy.example:3128"},
    {"HTTP_PROXY": "http://plain.example:3128"},
    {"ALL_PROXY": "http://all.example:3128"},
    {"HTTPS_PROXY": "http://user:pw@proxy.example:3128", "ALL_PROXY": "http://all.example:3128"},
    {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "trustly.one"},
    {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": ".trustly.one"},
    {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "other.example,sandbox.trustly.one"},
    {"ALL_PROXY": "http://all.example:3128", "NO_PROXY": "*"},
    {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "203.0.113.7"},
]
URLS = ["https://sandbox.trustly.one/api/v1", "https://trustly.one/api/v1", "https://203.0.113.7/api/v1"]


def _httpx_choice(url: str) -> str | None:
    client = httpx.AsyncClient(trust_env=True)
    transport = client._transport_for_url(httpx.URL(url))
    pool = getattr(transport, "_pool", None)
    proxy = getattr(pool, "_proxy_url", None)
    if proxy is None:
        return None
    return f"{proxy.scheme.decode()}://{proxy.host.decode()}:{proxy.port}"


@pytest.mark.parametrize("environment", PROXY_ENVIRONMENTS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
@pytest.mark.parametrize("url", URLS)
def test_the_proxy_is_the_one_httpx_would_use(
    environment: dict[str, str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    ours = backend_module.proxy_for(httpx.URL(url), trust_env=True)
    expected = _httpx_choice(url)
    if ours is None or expected is None:
        assert ours == expected
    else:
        ours_url = httpx.URL(ours if "://" in ours else f"http://{ours}")
        assert f"{ours_url.scheme}://{ours_url.host}:{ours_url.port}" == expected
    assert backend_module.proxy_for(httpx.URL(url), trust_env=False) is None  # a loopback base URL


def test_a_socks_proxy_is_refused_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://user:secret@socks.example:1080")
    with pytest.raises(trustly.ConfigurationError, match="not an HTTP proxy") as caught:
        backend_module.proxy_for(httpx.URL("https://sandbox.trustly.one/api/v1"), trust_env=True)
    assert "secret" not in str(caught.value)


@pytest.mark.anyio
async def test_close_closes_the_session_and_the_client() -> None:
    client = _client()
    inner = client._pool.get()
    assert isinstance(inner, backend_module.AiohttpClient)
    session = inner._aio_session
    await client.close()
    assert session.closed and inner.is_closed
    with pytest.raises(trustly.ConfigurationError, match="closed"):
        await client.countries.list()


# -- what the backend sends: the same request httpx would build ----------------------------------
PLAIN_BASES = [
    BASE_URL,
    "https://sandbox.trustly.one/api/v1/",
    "http://127.0.0.1:8080",
    "https://bücher.example:8443/trustly",
    "https://[::1]:9000/api",
]


def _template_path(op: Operation, value: str) -> str:
    # As the generated code builds it: every path parameter percent-encoded, nothing safe.
    return re.sub(r"\{[^}]+\}", quote(value, safe=""), op.path)


_PATHS = st.one_of(
    st.tuples(st.sampled_from(sorted(OPERATIONS.values(), key=lambda o: o.operation_id)), st.text(max_size=12)).map(
        lambda pair: _template_path(*pair)
    ),
    st.text(max_size=20).map(lambda text: "/" + text),
    st.lists(st.sampled_from(["a", ".", "..", "%41", "%zz", "%", "?q=1", "#f", "//", " ", "é", "~"]), max_size=6).map(
        lambda parts: "/" + "/".join(parts)
    ),
)


@pytest.mark.parametrize("base_url", PLAIN_BASES)
def test_a_request_is_sent_as_httpx_builds_it(base_url: str) -> None:
    # The backend joins a plain path to the base URL itself (no httpx.Request per call); for
    # every path the generated code can build, and any other, the method, URL, headers and
    # body must be the ones httpx builds and authenticates for the default backend.
    loop = asyncio.new_event_loop()
    client = trustly.AsyncTrustlyClient(
        base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, backend="aiohttp"
    )
    inner = loop.run_until_complete(_inner_client(client))
    taken: list[bool] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        path=_PATHS,
        method=st.sampled_from(["get", "delete", "post"]),
        correlation=st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    )
    def check(path: str, method: str, correlation: str | None) -> None:
        arguments: dict[str, Any] = {"method": method, "url": path}
        if correlation is not None:
            arguments["extensions"] = {CORRELATION_EXTENSION: correlation}
        timeout = httpx.Timeout(5.0, pool=7.0)
        try:
            built = inner.build_request(**arguments, timeout=timeout)
        except Exception as exc:  # httpx refuses it: so must the backend, before sending
            with pytest.raises(type(exc)):
                inner.prepare(arguments, timeout)
            return
        ours = inner.prepare(arguments, timeout)
        expected = inner._outgoing(built)
        assert (ours.method, ours.url, sorted(ours.headers), ours.content) == (
            expected.method,
            expected.url,
            sorted(expected.headers),
            expected.content,
        )
        assert ours.timeout == expected.timeout
        taken.append(ours._request is None)

    try:
        check()
        # Every GET and DELETE, with a plain path value, takes the text join.
        for op in OPERATIONS.values():
            if op.method.upper() not in ("GET", "DELETE"):
                continue
            arguments = {"method": op.method, "url": _template_path(op, "123456789")}
            assert inner.prepare(arguments, httpx.Timeout(5.0))._request is None, op.operation_id
        assert any(taken) and not all(taken)  # both ways were exercised
    finally:
        loop.run_until_complete(client.close())
        loop.close()


async def _inner_client(client: trustly.AsyncTrustlyClient) -> backend_module.AiohttpClient:
    inner = client._pool.get()
    assert isinstance(inner, backend_module.AiohttpClient)
    return inner
