"""The URL of a redirect exactly as Trustly signed it, from a WSGI environ or an ASGI scope.

Trustly signs the returnUrl / cancelUrl it redirects to, byte for byte. Frameworks hand you a
rebuilt URL instead: Flask's `request.url` re-encodes the path (`%7E` becomes `~`, `%C3%AB`
and `%2F` are decoded and encoded again), and behind a TLS-terminating proxy or load balancer
the application sees `http://` and an internal host. These helpers take the raw path and query
from the server and the scheme and host from one of three places, in this order:

1. `public_url="https://shop.example"`: your public origin, from configuration (the safest);
2. `trust_forwarded=True`: the proxy's `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host`
   headers. Only turn this on when a proxy you run sets (and overwrites) those headers, since
   anyone can send them;
3. otherwise what the server saw (scheme and `Host`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["asgi_request_url", "wsgi_request_url"]


def _first(value: str) -> str:
    # Each proxy appends its own entry: the first is what the client sent to the outermost one.
    return value.split(",")[0].strip()


def _forwarded(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    forwarded = headers.get("forwarded")
    if forwarded:
        scheme = host = None
        for pair in _first(forwarded).split(";"):
            name, _, value = pair.strip().partition("=")
            value = value.strip().strip('"')
            if name.lower() == "proto" and value:
                scheme = value
            elif name.lower() == "host" and value:
                host = value
        return scheme, host
    proto = headers.get("x-forwarded-proto")
    host = headers.get("x-forwarded-host")
    return (_first(proto) if proto else None), (_first(host) if host else None)


def _origin(
    scheme: str, host: str, headers: Mapping[str, str], *, trust_forwarded: bool, public_url: str | None
) -> str:
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"public_url must be an absolute http(s) URL, not {public_url!r}")
        return f"{parts.scheme}://{parts.netloc}"
    if trust_forwarded:
        forwarded_scheme, forwarded_host = _forwarded(headers)
        scheme = (forwarded_scheme or scheme).lower()
        host = forwarded_host or host
    # A default port is left out, as it is in the returnUrl the merchant registered.
    for default_scheme, port in (("http", ":80"), ("https", ":443")):
        if scheme == default_scheme and host.endswith(port):
            host = host[: -len(port)]
    return f"{scheme}://{host}"


def wsgi_request_url(
    environ: Mapping[str, Any], *, trust_forwarded: bool = False, public_url: str | None = None
) -> str:
    """The URL the client requested, as Trustly signed it, from a WSGI environ (Flask: `request.environ`).

    The raw path comes from `REQUEST_URI` / `RAW_URI` when the server provides it (gunicorn,
    uWSGI, Werkzeug, mod_wsgi do); otherwise it is re-encoded from `PATH_INFO`, which matches
    whenever the path has no percent-escapes. `QUERY_STRING` is always raw.
    """
    headers = {
        key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
    }
    host = headers.get("host") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}".rstrip(":")
    origin = _origin(
        str(environ.get("wsgi.url_scheme", "http")),
        host,
        headers,
        trust_forwarded=trust_forwarded,
        public_url=public_url,
    )
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        target = str(raw)
        if "://" in target.split("?")[0]:  # an absolute-form request target
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        return origin + target
    # PEP 3333: PATH_INFO is the decoded path as latin-1 text; encode it back to its bytes.
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    path = quote(path.encode("latin-1"), safe="/:@!$&'()*+,;=~")
    query = str(environ.get("QUERY_STRING", ""))
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"


def asgi_request_url(scope: Mapping[str, Any], *, trust_forwarded: bool = False, public_url: str | None = None) -> str:
    """The URL the client requested, as Trustly signed it, from an ASGI scope (FastAPI/Starlette: `request.scope`).

    Uses the scope's `raw_path` and `query_string`, both undecoded bytes.
    """
    headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", [])}
    server = scope.get("server") or ("", None)
    host = headers.get("host") or (f"{server[0]}:{server[1]}" if server[1] else str(server[0]))
    origin = _origin(
        str(scope.get("scheme", "http")), host, headers, trust_forwarded=trust_forwarded, public_url=public_url
    )
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(str(scope.get("path", "/")).encode("utf-8"), safe="/~")
    path = str(scope.get("root_path", "")) + path if raw_path is None else path
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"
