from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import ACCESS_KEY
from trustly import ConfigurationError, Credentials, Environment
from trustly._auth import BasicAuth
from trustly._environment import check_base_url, resolve_base_url


def test_environments_have_the_documented_roots() -> None:
    assert str(resolve_base_url(Environment.SANDBOX, None)) == "https://sandbox.trustly.one/api/v1"
    assert str(resolve_base_url("production", None)) == "https://trustly.one/api/v1"


def test_there_is_no_default_environment() -> None:
    with pytest.raises(ConfigurationError, match="no environment chosen"):
        resolve_base_url(None, None)


def test_environment_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTLY_ENVIRONMENT", "SANDBOX")
    assert resolve_base_url(None, None).host == "sandbox.trustly.one"
    monkeypatch.setenv("TRUSTLY_ENVIRONMENT", "http://127.0.0.1:9000/api/v1")
    assert resolve_base_url(None, None).port == 9000
    monkeypatch.setenv("TRUSTLY_ENVIRONMENT", "staging")
    with pytest.raises(ConfigurationError, match="unknown environment 'staging'"):
        resolve_base_url(None, None)


def test_environment_and_base_url_are_exclusive() -> None:
    with pytest.raises(ConfigurationError, match="either"):
        resolve_base_url(Environment.SANDBOX, "https://example.test")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/api", "http://localhost/api", "http://[::1]:80/", "https://trustly.one/api/v1"]
)
def test_https_or_loopback_http_is_allowed(url: str) -> None:
    assert check_base_url(url) == httpx.URL(url)


@pytest.mark.parametrize(
    "url", ["http://trustly.one/api/v1", "http://10.0.0.5/api", "ftp://127.0.0.1/", "https://", "not a url"]
)
def test_everything_else_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        check_base_url(url)


def test_credentials_never_show_the_key() -> None:
    credentials = Credentials("id", ACCESS_KEY)
    assert ACCESS_KEY not in repr(credentials) and ACCESS_KEY not in str(credentials)
    assert credentials.reveal_key() == ACCESS_KEY
    assert Credentials("id", ACCESS_KEY) == credentials


def test_missing_credentials_name_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=r"access_id \(TRUSTLY_ACCESS_ID\), access_key"):
        Credentials.from_env()
    monkeypatch.setenv("TRUSTLY_ACCESS_ID", "from-env")
    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    assert Credentials.from_env().access_id == "from-env"
    assert Credentials.from_env(access_id="explicit").access_id == "explicit"


@pytest.mark.parametrize(("access_id", "access_key"), [("", "k"), ("id", " "), ("a:b", "k")])
def test_invalid_credentials(access_id: str, access_key: str) -> None:
    with pytest.raises(ConfigurationError):
        Credentials(access_id, access_key)


def test_basic_auth_header_and_repr() -> None:
    auth = BasicAuth(Credentials("id", ACCESS_KEY))
    request = httpx.Request("GET", "https://trustly.one/api/v1/transactions")
    flow = auth.auth_flow(request)
    sent = next(flow)
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"id:{ACCESS_KEY}".encode()).decode()
    assert ACCESS_KEY not in repr(auth)
