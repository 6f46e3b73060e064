"""The pytest plugin as a merchant's suite uses it: a test file run by pytest itself (pytester).

The entry point that loads it by itself from an installed wheel is checked by test_publish.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

USER_SUITE = """
import pytest

import trustly
from trustly.models import EstablishRequest, RefundRequest
from trustly.testing import Fault

TRANSPORTS = ["in-process", "http", "https"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def establish(client, sim, reference):
    data = client.sign_establish_data({
        "merchantId": sim.merchant_id, "merchantReference": reference, "paymentType": "Deferred",
        "currency": "USD", "amount": "10.00",
        "returnUrl": "https://shop.example/return", "cancelUrl": "https://shop.example/cancel",
    })
    return str(client.transactions.establish(body=EstablishRequest.from_dict(data)).transaction_id)


@pytest.mark.parametrize("trustly_client", TRANSPORTS, indirect=True)
def test_checkout(trustly_client, trustly_simulator, trustly_events):
    transaction_id = establish(trustly_client, trustly_simulator, "order-1")
    redirect = trustly_simulator.authorize(transaction_id)
    assert trustly_client.verify_redirect(redirect, merchant_reference="order-1").status.name == "AUTHORIZED"
    event = trustly_events.wait_for("Authorize", object_id=transaction_id)
    assert type(event).__name__ == "AuthorizeEvent"
    assert event in trustly_events() and all(e.object_id == transaction_id for e in trustly_events())


@pytest.mark.anyio
@pytest.mark.parametrize("trustly_async_client", TRANSPORTS, indirect=True)
async def test_async_client(trustly_async_client, trustly_simulator):
    countries = await trustly_async_client.countries.list()
    assert countries.countries
    with pytest.raises(trustly.NotFoundError):
        await trustly_async_client.transactions.get("404404")


def test_faults(trustly_client, trustly_simulator, trustly_faults):
    transaction_id = establish(trustly_client, trustly_simulator, "order-2")
    trustly_faults.add("transactions_cancel", Fault.drop_after_applying())
    with pytest.raises(trustly.AmbiguousOutcomeError):
        trustly_client.transactions.cancel(transaction_id)
    assert trustly_client.transactions.get(transaction_id).status.name == "CANCELED"


def test_served_simulators(trustly_server, trustly_tls_server, trustly_simulator):
    assert trustly_server.base_url.startswith("http://127.0.0.1:")
    assert trustly_tls_server.base_url.startswith("https://127.0.0.1:")
    assert trustly_server.simulator is trustly_simulator is trustly_tls_server.simulator


@pytest.mark.trustly_simulator(merchant_id="5550001", access_id="shop-id", access_key="shop-key")
def test_marker_configures_the_simulator(trustly_client, trustly_simulator):
    assert trustly_simulator.merchant_id == "5550001"
    assert trustly_client.access_id == "shop-id"
    establish(trustly_client, trustly_simulator, "order-3")


def test_each_test_gets_a_fresh_simulator(trustly_client):
    assert list(trustly_client.transactions.list_all()) == []


def test_waiting_for_an_event_that_never_comes_fails_clearly(trustly_events):
    with pytest.raises(AssertionError, match="no Completed event for 42 was delivered"):
        trustly_events.wait_for("Completed", object_id="42", timeout=0.05)
"""


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each pytest run is its own process: an in-process run would unload what it imported
    # (cryptography's classes among them) and leave this session with two copies.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "overlays"), str(ROOT / "generated")]))


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_user_suite=textwrap.dedent(USER_SUITE))
    return pytester


def test_a_merchant_suite_uses_every_fixture(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-p", "trustly.testing.pytest_plugin", "-q", "-W", "error")
    result.assert_outcomes(passed=11)


def test_the_marker_is_registered(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-p", "trustly.testing.pytest_plugin", "--strict-markers", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.trustly_simulator(**options)*"])


def test_an_unknown_transport_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("trustly_client", ["carrier-pigeon"], indirect=True)
        def test_it(trustly_client):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "trustly.testing.pytest_plugin", "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*take one of*carrier-pigeon*"])


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    # Every pytest run in an environment with this package loads the plugin: it must not need
    # the `testing` extra, nor pay for the simulator, until a fixture is used.
    code = (
        "import sys, trustly.testing.pytest_plugin\n"
        "heavy = {'yaml', 'jsonschema', 'trustme', 'trustly.testing._simulator', 'trustly.testing._server'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    env = {"PYTHONPATH": f"{ROOT / 'overlays'}:{ROOT / 'generated'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "[]"
