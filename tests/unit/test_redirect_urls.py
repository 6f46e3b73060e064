"""Redirects as real frameworks see them: raw paths, re-encoding, TLS-terminating proxies, both signed forms."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import trustly
from trustly._signatures import hmac_signature
from trustly.webhooks import asgi_request_url, wsgi_request_url

KEY = "redirect-key"
PARAMS = urlencode({"transactionId": "1002655801", "merchantReference": "ë/1 2", "status": "2", "panel": "1"})
PATHS = ["/trustly/return", "/trustly/r%C3%ABturn", "/a%2Fb/c", "/x%7Ey", "/ok~/%20space"]


def signed_url(public: str, path: str, *, form: str = "url") -> str:
    url = f"{public}{path}?{PARAMS}"
    signature = hmac_signature(url if form == "url" else PARAMS, KEY)
    return f"{url}&{urlencode({'requestSignature': signature})}&instantPayoutAvail=true"


def flask_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/<path:anything>")
    def any_path(anything: str) -> dict[str, Any]:
        return {
            "request_url": flask.request.url,
            "direct": wsgi_request_url(flask.request.environ),
            "forwarded": wsgi_request_url(flask.request.environ, trust_forwarded=True),
            "public": wsgi_request_url(flask.request.environ, public_url="https://shop.example"),
        }

    return app


@pytest.mark.parametrize("path", PATHS)
def test_flask_request_url_breaks_but_wsgi_request_url_verifies(path: str) -> None:
    url = signed_url("http://localhost", path)
    query = url.partition("?")[2]
    seen = flask_app().test_client().get(f"{path}?{query}").get_json()
    assert trustly.verify_redirect(seen["direct"], KEY).status == "2"
    if path != "/trustly/return":
        with pytest.raises(trustly.SignatureVerificationError):
            trustly.verify_redirect(seen["request_url"], KEY)  # Werkzeug re-encoded the path


@pytest.mark.parametrize("path", PATHS)
def test_behind_a_tls_terminating_proxy(path: str) -> None:
    url = signed_url("https://shop.example", path)
    query = url.partition("?")[2]
    client = flask_app().test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example", "Host": "10.0.0.7:8000"}
    seen = client.get(f"{path}?{query}", headers=proxied).get_json()
    with pytest.raises(trustly.SignatureVerificationError):
        trustly.verify_redirect(seen["direct"], KEY)  # http://10.0.0.7:8000/...: not what Trustly signed
    assert trustly.verify_redirect(seen["forwarded"], KEY).panel == "1"
    assert trustly.verify_redirect(seen["public"], KEY).panel == "1"
    rfc7239 = {"Forwarded": 'for=1.2.3.4;proto=https;host="shop.example", for=10.0.0.1', "Host": "10.0.0.7"}
    seen = client.get(f"{path}?{query}", headers=rfc7239).get_json()
    assert trustly.verify_redirect(seen["forwarded"], KEY).status == "2"


@pytest.mark.parametrize("path", PATHS)
def test_wsgi_servers_without_request_uri(path: str) -> None:
    from urllib.parse import unquote_to_bytes

    url = signed_url("http://127.0.0.1:8000", path)
    environ = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1:8000",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),  # what wsgiref hands over
        "QUERY_STRING": url.partition("?")[2],
        "SCRIPT_NAME": "",
    }
    rebuilt = wsgi_request_url(environ)
    if "%" in path:  # PATH_INFO is decoded: the original escapes cannot always be recovered
        assert rebuilt.partition("?")[2] == url.partition("?")[2], "the query is always raw"
    else:
        assert trustly.verify_redirect(rebuilt, KEY).status == "2"


def starlette_app() -> Starlette:
    async def endpoint(request: Request) -> PlainTextResponse:
        mode = request.query_params.get("panel")
        assert mode == "1"
        return PlainTextResponse(
            "\n".join(
                [
                    str(request.url),
                    asgi_request_url(request.scope),
                    asgi_request_url(request.scope, trust_forwarded=True),
                ]
            )
        )

    return Starlette(routes=[Route("/{rest:path}", endpoint)])


@pytest.mark.parametrize("path", PATHS)
def test_asgi_raw_path(path: str) -> None:
    async def run() -> list[str]:
        transport = httpx.ASGITransport(app=starlette_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            url = signed_url("https://shop.example", path)
            response = await client.get(
                "http://testserver" + path + "?" + url.partition("?")[2], headers={"X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "shop.example"},
            )  # fmt: skip
            return response.text.splitlines()

    _, direct, forwarded = asyncio.run(run())
    assert trustly.verify_redirect(forwarded, KEY).status == "2"
    with pytest.raises(trustly.SignatureVerificationError):
        trustly.verify_redirect(direct, KEY)


def test_both_signed_forms() -> None:
    whole = signed_url("https://shop.example", "/trustly/return")
    query_only = signed_url("https://shop.example", "/trustly/return", form="query")
    for url in (whole, query_only):
        assert trustly.verify_redirect(url, KEY).transaction_id == "1002655801"
    assert trustly.verify_redirect(whole, KEY, signed="url").status == "2"
    assert trustly.verify_redirect(query_only, KEY, signed="query").status == "2"
    with pytest.raises(trustly.SignatureVerificationError):
        trustly.verify_redirect(query_only, KEY, signed="url")
    with pytest.raises(trustly.SignatureVerificationError):
        trustly.verify_redirect(whole, KEY, signed="query")
    with pytest.raises(trustly.InvalidRequestError):
        trustly.verify_redirect(whole, KEY, signed="path")  # type: ignore[arg-type]
    assert trustly.verify_redirect(whole + "#fragment", KEY).status == "2"


def test_the_client_method_takes_the_same_forms() -> None:
    whole = signed_url("https://shop.example", "/trustly/return")
    query_only = signed_url("https://shop.example", "/trustly/return", form="query")
    with trustly.TrustlyClient(base_url="http://127.0.0.1/api/v1", access_id="id", access_key=KEY) as client:
        assert client.verify_redirect(whole, signed="url").status == "2"
        assert client.verify_redirect(query_only, signed="query").status == "2"
        assert client.verify_redirect(query_only).status == "2"
        with pytest.raises(trustly.SignatureVerificationError):
            client.verify_redirect(query_only, signed="url")
        with pytest.raises(trustly.SignatureVerificationError):
            client.verify_redirect(whole, signed="query")


def test_public_url_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="public_url"):
        wsgi_request_url({"PATH_INFO": "/"}, public_url="shop.example")
