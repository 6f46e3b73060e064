"""The sync sender joins each request's path to the base URL itself: the URL must be httpx's own."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustly._exchange import request_arguments as _request_arguments

BASES = (
    "https://sandbox.trustly.one/api/v1",
    "https://sandbox.trustly.one/api/v1/",
    "http://127.0.0.1:8080/prefix/api/v1",
    "https://[::1]:8443/api",
    "http://127.0.0.1:8765",
    "https://sandbox.trustly.one",
    "https://user:secret@sandbox.trustly.one:8443/a%20b/",
    "https://sandbox.trustly.one/api?v=1",
    "https://sandbox.trustly.one/api#part",
)

# Path parameters as the generated functions put them (quoted, nothing safe) and raw text too:
# what httpx does with either must not change.
segments = st.text(min_size=1, max_size=12)
quoted = segments.map(lambda text: quote(text, safe=""))
params = st.dictionaries(st.sampled_from(["count", "startIndex", "merchantReference", "q"]), st.text(max_size=8))


# Building an httpx client loads TLS certificates: one per base URL for the whole module.
CLIENTS = {base: httpx.Client(base_url=base) for base in BASES}


def _both(base: str, url: str, extra: dict[str, Any]) -> tuple[httpx.Request, httpx.Request]:
    client = CLIENTS[base]
    request = {"method": "get", "url": url, **extra}
    ours = client.build_request(**_request_arguments(client, request))
    theirs = client.build_request(**request)
    return ours, theirs


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(BASES), parts=st.lists(quoted | segments, min_size=1, max_size=3), query=params)
def test_the_joined_url_is_the_one_httpx_builds(base: str, parts: list[str], query: dict[str, str]) -> None:
    url = "/" + "/".join(parts)
    try:
        ours, theirs = _both(base, url, {"params": query} if query else {})
    except httpx.InvalidURL:
        # httpx refuses such a path whichever way it is joined.
        with pytest.raises(httpx.InvalidURL):
            CLIENTS[base].build_request("get", url)
        return
    assert ours.url == theirs.url
    assert str(ours.url) == str(theirs.url)
    assert ours.url.raw_path == theirs.url.raw_path


@pytest.mark.parametrize(
    "url",
    [
        "/transactions/1002630834",
        "/transactions/a%2Fb",
        "/transactions/..%2F..%2Fadmin",
        "/transactions/%E2%82%AC?x=1",
        "/transactions/1/refund",
    ],
)
@pytest.mark.parametrize("base", BASES)
def test_generated_paths_join_like_httpx(base: str, url: str) -> None:
    ours, theirs = _both(base, url, {})
    assert str(ours.url) == str(theirs.url)


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/x",
        "transactions/1",
        httpx.URL("/transactions/1"),
        "/transactions/1#part",
        "//elsewhere/x",
    ],
)
def test_anything_but_a_rooted_path_is_left_to_httpx(url: Any) -> None:
    request = {"method": "get", "url": url}
    assert _request_arguments(CLIENTS[BASES[0]], request) is request


@pytest.mark.parametrize("base", [b for b in BASES if "?" not in b and "#" not in b])
@pytest.mark.parametrize(
    "url", ["/transactions/1002630834", "/transactions/a%2Fb/refund", "/payments/p-1_x.y~z/capture"]
)
def test_generated_paths_are_joined_without_a_parse(base: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The paths the generated code builds (every id quoted) take the no-parse join; if httpx
    # stops keeping its parsed parts where the join reads them, this fails instead of the
    # client silently slowing down.
    client = CLIENTS[base]
    expected = client.build_request("get", url).url

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the URL was parsed")

    monkeypatch.setattr(httpx._urls, "urlparse", refuse)
    joined = _request_arguments(client, {"method": "get", "url": url})["url"]
    assert isinstance(joined, httpx.URL)
    assert joined == expected
    assert str(joined) == str(expected)
    assert joined.raw_path == expected.raw_path
    assert joined.host == expected.host and joined.port == expected.port


@pytest.mark.parametrize("url", ["/transactions/a b", "/transactions/./x", "/transactions/%zz", "/a/../b"])
def test_paths_httpx_would_change_are_parsed_by_httpx(url: str) -> None:
    ours, theirs = _both(BASES[0], url, {})
    assert str(ours.url) == str(theirs.url)
