"""The Lightbox pages and the simulator's own endpoints, over HTTP without a browser.

The browser test (test_lightbox_browser.py) walks one happy path and two cancels in Chromium;
here every Demo Bank keyphrase goes through the Lightbox and must end exactly as
`Simulator.authorize` ends it, every value the merchant sends is shown escaped, and nothing
but an http(s) URL is ever redirected to.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from trustly.testing import Simulator, SimulatorServer, SimulatorTransport

from .conftest import ACCESS_ID, ACCESS_KEY

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHOP = "https://shop.example"
# Every Demo Bank keyphrase the README documents, the third-party ones included, and plain logins.
KEYPHRASES = [
    "NoEligibleAccounts", "LoginError", "Unavailable", "AccountLocked", "BankAction", "ConnectError",
    "ConnectionError", "BlockedIpError", "ChallengeError", "TimeoutError", "WrongCredentials", "SessionTimeout",
    "NotSupported", "NotEnoughFunds", "NotEnoughFundsExtra", "InvalidAccountNumberSize", "InvalidRouteCodeExtra",
    "TestPrompts", "ValidRouteCodeExtra", "Balance250", "ExpiredSplitToken", "AccNumberNull", "Virtual",
    "extendedreasoncode_10000", "secret", "loginerror",
]  # fmt: skip
TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "p", "form", "input", "button", "label"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    s = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY)
    yield s
    s.close()


@pytest.fixture
def web(sim: Simulator) -> Iterator[httpx.Client]:
    """A browser's view of the simulator, in-process: redirects are not followed, only read."""
    with httpx.Client(transport=SimulatorTransport(sim), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def client(sim: Simulator) -> Iterator[trustly.TrustlyClient]:
    with trustly.TrustlyClient(
        base_url="http://127.0.0.1/api/v1",
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=SimulatorTransport(sim),
    ) as c:
        yield c


def _data(client: trustly.TrustlyClient, sim: Simulator, reference: str, **extra: Any) -> dict[str, Any]:
    fields = {
        "merchantId": sim.merchant_id, "merchantReference": reference, "paymentType": "Deferred", "currency": "USD",
        "amount": "10.00", "returnUrl": f"{SHOP}/return", "cancelUrl": f"{SHOP}/cancel", **extra,
    }  # fmt: skip
    return client.sign_establish_data(fields)


def _open(web: httpx.Client, data: dict[str, Any]) -> httpx.Response:
    return web.post("/_simulator/lightbox", data={"establishData": json.dumps(data)})


def _lightbox(web: httpx.Client, client: trustly.TrustlyClient, sim: Simulator, reference: str) -> str:
    opened = _open(web, _data(client, sim, reference))
    assert opened.status_code == 303, opened.text
    return str(opened.headers["location"])


def _step(web: httpx.Client, page: str, **form: str) -> httpx.Response:
    answer = web.post(page, data=form)
    assert answer.status_code in (303, 400), answer.text
    return answer


def _through_lightbox(web: httpx.Client, page: str, password: str, mfa: str = "") -> str:
    """Bank, login (and 2FA), account, authorize; the URL the customer is sent to."""
    assert _step(web, page, action="bank", bank="demo").headers["location"] == page
    _step(web, page, action="login", username="keyphrase_user_01", password=password)
    shown = web.get(page).text
    if "Security code" in shown:
        _step(web, page, action="mfa", answer=mfa)
        shown = web.get(page).text
    action = "finish" if "Return to the merchant" in shown else "authorize"
    return str(_step(web, page, action=action).headers["location"])


def _status(url: str) -> str:
    return parse_qs(urlsplit(url).query)["status"][0]


@pytest.mark.parametrize(("password", "mfa"), [(p, "") for p in KEYPHRASES] + [("2FA", "123456"), ("2FA", "error")])
def test_every_keyphrase_ends_in_the_lightbox_as_authorize_ends_it(
    web: httpx.Client, client: trustly.TrustlyClient, sim: Simulator, password: str, mfa: str
) -> None:
    page = _lightbox(web, client, sim, "in-browser")
    landed = _through_lightbox(web, page, password, mfa)
    twin = client.transactions.establish(body=trustly.models.EstablishRequest.from_dict(_data(client, sim, "twin")))
    expected = sim.authorize(str(twin.transaction_id), username="keyphrase_user_01", password=password, mfa_answer=mfa)

    params = client.verify_redirect(landed)  # signed as the client checks it
    assert landed.startswith(expected.split("?")[0]) and _status(landed) == _status(expected)
    transaction = client.transactions.get(str(params.transaction_id))
    assert transaction.status == client.transactions.get(str(twin.transaction_id)).status
    if _status(landed) == "2":
        assert sim.split_token(str(params.transaction_id))
    assert web.get(page).status_code in (200, 409)  # a finished payment offers no more steps
    again = web.post(page, data={"action": "authorize"})
    assert again.status_code in (400, 409) and "location" not in again.headers  # decided once only


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    description=st.text(alphabet=st.sampled_from("<>&\"' /=ab\u00e9"), min_size=1, max_size=30),
    reference=st.text(alphabet=st.sampled_from("<>&\"'abc-_"), min_size=1, max_size=20),
)
def test_merchant_data_is_shown_escaped_on_every_page(
    web: httpx.Client, client: trustly.TrustlyClient, sim: Simulator, description: str, reference: str
) -> None:
    opened = _open(web, _data(client, sim, reference, description=description))
    if opened.status_code != 303:  # a reference Trustly refuses (a duplicate) is reported, escaped
        assert opened.status_code == 400 and "<" not in re.sub(r"<[^<>]*>", "", opened.text)
        return
    page = opened.headers["location"]
    pages = [web.get(page)]
    _step(web, page, action="bank", bank="demo")
    pages.append(web.get(page))
    _step(web, page, action="login", username=description, password="secret")
    pages.append(web.get(page))
    for shown in pages:
        assert html.escape(description) in shown.text and html.escape(reference) in shown.text
        parser = _Tags()
        parser.feed(shown.text)
        assert parser.tags <= TAGS  # nothing the merchant sent became markup
        assert "script-src" not in shown.headers["content-security-policy"]  # so no script runs at all
    _step(web, page, action="cancel")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "https://shop.example/r\r\nSet-Cookie: a=b", "/relative"]
)
def test_only_http_urls_are_redirected_to(
    web: httpx.Client, client: trustly.TrustlyClient, sim: Simulator, url: str
) -> None:
    before = len(sim.events())
    opened = _open(web, _data(client, sim, "bad-url", returnUrl=url))
    assert opened.status_code == 400 and "returnUrl is not an http(s) URL" in opened.text
    assert len(sim.events()) == before  # nothing was established


def test_refused_establish_data_create_nothing(
    web: httpx.Client, client: trustly.TrustlyClient, sim: Simulator
) -> None:
    forged = {**_data(client, sim, "forged"), "amount": "9999.00"}  # changed after signing
    answer = _open(web, forged)
    assert answer.status_code == 401 and "Invalid requestSignature" in answer.text
    assert web.post("/_simulator/lightbox", data={"establishData": "not json"}).status_code == 400
    assert web.post("/_simulator/lightbox", data={"establishData": "[1]"}).status_code == 400
    assert sim.events() == []
    assert web.get("/_simulator/lightbox/404404").status_code == 404


def test_the_script_stand_in_mirrors_trustlys_path(web: httpx.Client) -> None:
    script = web.get("/_simulator/start/scripts/trustly.js?accessId=x")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "window.Trustly" in script.text and "establish" in script.text and "http" not in script.text.split("*/")[1]
    assert web.post("/_simulator/start/scripts/trustly.js").status_code == 405


def test_every_endpoint_of_the_simulator_is_under_one_prefix(web: httpx.Client) -> None:
    spec = yaml.safe_load((ROOT / "spec" / "trustly-openapi.yaml").read_text())
    assert not [path for path in spec["paths"] if path.startswith("/_simulator")]
    assert web.post("/simulator/advance", data={"days": "1"}).status_code == 404  # not an endpoint
    assert web.post("/_simulator/nothing").status_code == 404
    assert web.get("/_simulator/advance").status_code == 405
    assert web.post("/_simulator/advance", data={"hours": "2"}).json()["now"] > 0


def test_the_url_establish_returns_is_the_lightbox(endpoint_free_server: tuple[Simulator, str]) -> None:
    """It used to answer `no operation at /lightbox/...`."""
    sim, base_url = endpoint_free_server
    with trustly.TrustlyClient(base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as client:
        established = client.transactions.establish(
            body=trustly.models.EstablishRequest.from_dict(_data(client, sim, "from-the-api"))
        )
        assert established.url == f"{base_url.removesuffix('/api/v1')}/_simulator/lightbox/{established.transaction_id}"
        page = httpx.get(established.url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<title>Select your bank - Trustly simulator</title>" in page.text and "from-the-api" in page.text


@pytest.fixture
def endpoint_free_server() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY)
    with SimulatorServer(sim) as server:
        yield sim, server.base_url
    sim.close()
