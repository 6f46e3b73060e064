"""The `trustly` command against the simulator, through the entry point pyproject.toml declares.

Look-ups run in-process (the console script's target function, with the real environment
variables and a simulator on a real socket); `trustly simulator` runs as its own process. The
installed console script itself is exercised by tests/integration/test_publish.py.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import trustly
from trustly.testing import Fault, Simulator, SimulatorServer
from trustly.testing.pytest_plugin import DEFAULT_OPTIONS

from .flows import authorized, captured, establish

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACCESS_ID = DEFAULT_OPTIONS["access_id"]
ACCESS_KEY = DEFAULT_OPTIONS["access_key"]


def _entry_point() -> Callable[[list[str]], int]:
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["trustly"]
    module, _, name = target.partition(":")
    function: Callable[[list[str]], int] = getattr(importlib.import_module(module), name)
    return function


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    main = _entry_point()

    def run(*args: str, **env: str | None) -> Result:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            capsys.readouterr()
            code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, trustly_server: SimulatorServer) -> dict[str, str]:
    """The variables a developer exports to point the command at the served simulator."""
    variables = {"TRUSTLY_ENVIRONMENT": trustly_server.base_url, "TRUSTLY_ACCESS_ID": ACCESS_ID}
    for name, value in {**variables, "TRUSTLY_ACCESS_KEY": ACCESS_KEY}.items():
        monkeypatch.setenv(name, value)
    return variables


def test_transactions_get_as_table_and_json(
    cli: Callable[..., Result], env: dict[str, str], trustly_client: trustly.TrustlyClient, trustly_simulator: Simulator
) -> None:
    transaction_id, _ = authorized(trustly_client, trustly_simulator)
    table = cli("transactions", "get", transaction_id)
    assert table.code == 0, table.err
    assert transaction_id in table.out and "2 (AUTHORIZED)" in table.out and "payment.paymentId" in table.out
    as_json = cli("transactions", "get", transaction_id, "--json")
    assert as_json.code == 0
    expected = trustly_client.transactions.get(transaction_id).to_dict()
    assert as_json.json() == json.loads(json.dumps(expected, default=str))


def test_payments_get(
    cli: Callable[..., Result], env: dict[str, str], trustly_client: trustly.TrustlyClient, trustly_simulator: Simulator
) -> None:
    transaction_id, _ = authorized(trustly_client, trustly_simulator)
    payment_id = str(trustly_client.transactions.get(transaction_id).payment.payment_id)  # type: ignore[union-attr]
    result = cli("payments", "get", payment_id, "--json")
    assert result.code == 0, result.err
    assert result.json()["paymentId"] == payment_id
    assert payment_id in cli("payments", "get", payment_id).out


LIST_CASES: list[tuple[list[str], dict[str, Any]]] = [
    ([], {}),
    (["--status", "authorized"], {"transaction_status": ["AUTHORIZED"]}),
    (["--status", "4", "--status", "PROCESSED"], {"transaction_status": ["COMPLETED", "PROCESSED"]}),
    (["--type", "capture"], {"transaction_type": ["CAPTURE"]}),
    (["--type", "refund", "--type", "authorize"], {"transaction_type": ["REFUND", "AUTHORIZE"]}),
    (["--payment-type", "deferred"], {"payment_payment_type": ["DEFERRED"]}),
    (["--sort-order", "asc"], {"sort_order": "ASC"}),
    (["--order-by", "updated_at", "--sort-order", "desc"], {"order_by": "UPDATED_AT", "sort_order": "DESC"}),
    (["--limit", "2"], {"max_items": 2}),
    (["--limit", "0", "--page-size", "1"], {"page_size": 1}),
]


# Settlement on a slow clock: nothing changes between the client's listing and the command's.
@pytest.mark.trustly_simulator(time_scale=1000)
@pytest.mark.parametrize(("args", "filters"), LIST_CASES, ids=[" ".join(a) or "none" for a, _ in LIST_CASES])
def test_transactions_list_matches_the_client(
    cli: Callable[..., Result],
    env: dict[str, str],
    trustly_client: trustly.TrustlyClient,
    trustly_simulator: Simulator,
    args: list[str],
    filters: dict[str, Any],
) -> None:
    from trustly.models import OrderBy, PaymentType, SortOrder, TransactionStatus, TransactionType

    capture = captured(trustly_client, trustly_simulator, amount="20.00")
    trustly_client.transactions.refund(
        str(capture.transaction_id), body=trustly.models.RefundRequest(merchant_reference="cli-r-1", amount="5.00")
    )
    trustly_simulator.settle_all()
    authorized(trustly_client, trustly_simulator)
    enums = {
        "transaction_status": TransactionStatus,
        "transaction_type": TransactionType,
        "payment_payment_type": PaymentType,
        "sort_order": SortOrder,
        "order_by": OrderBy,
    }
    typed = {
        name: ([enums[name][v] for v in value] if isinstance(value, list) else enums[name][value])
        if name in enums
        else value
        for name, value in filters.items()
    }
    typed.setdefault("max_items", 100)
    expected = [str(t.transaction_id) for t in trustly_client.transactions.list_all(**typed)]
    result = cli("transactions", "list", "--json", *args)
    assert result.code == 0, result.err
    assert [t["transactionId"] for t in result.json()] == expected
    table = cli("transactions", "list", *args)
    assert table.code == 0 and f"{len(expected)} transaction(s)" in table.err
    assert all(transaction_id in table.out for transaction_id in expected)


def test_transactions_list_by_reference_and_time(
    cli: Callable[..., Result], env: dict[str, str], trustly_client: trustly.TrustlyClient, trustly_simulator: Simulator
) -> None:
    transaction_id, reference = establish(trustly_client, trustly_simulator)
    establish(trustly_client, trustly_simulator)
    by_reference = cli("transactions", "list", "--json", "--merchant-reference", reference)
    assert [t["transactionId"] for t in by_reference.json()] == [transaction_id]
    # The simulator validates these query parameters against the spec (the client's encoding of
    # dates and amounts has its own tests; the command's date parsing is in tests/unit/test_cli.py).
    accepted = (
        ("--created-from", "2000-01-01"),
        ("--created-to", "2000-01-01T00:00:00+02:00"),
        ("--amount-min", "10"),
        ("--amount-max", "99.90"),
    )
    for option, value in accepted:
        assert cli("transactions", "list", "--json", option, value).code == 0
    children = cli("transactions", "list", "--json", "--original-transaction-id", transaction_id)
    assert children.code == 0 and children.json() == []


def test_a_listing_shows_its_progress_on_a_terminal(
    env: dict[str, str], trustly_client: trustly.TrustlyClient, trustly_simulator: Simulator
) -> None:
    import pty

    establish(trustly_client, trustly_simulator)
    controller, terminal = pty.openpty()  # stderr is a terminal, stdout a pipe (as in `... | jq`)
    code = "import sys; from trustly._cli import main; sys.exit(main())"
    variables = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "overlays"), str(ROOT / "generated")])}
    done = subprocess.run(
        [sys.executable, "-c", code, "transactions", "list", "--json", "--page-size", "1"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=variables,
        timeout=60,
        check=False,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal's other end is closed: everything was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 1
    assert b"fetched" in shown and b"transactions" in shown


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


ERROR_CASES: list[tuple[str, list[str], dict[str, str | None], int, list[str]]] = [
    ("not found", ["transactions", "get", "999999999"], {}, 6, ["Trustly code", "HTTP 404", "correlation id: "]),
    ("wrong key", ["transactions", "get", "1"], {"TRUSTLY_ACCESS_KEY": "nope"}, 5, ["Trustly code 375"]),
    ("no key", ["transactions", "get", "1"], {"TRUSTLY_ACCESS_KEY": None}, 3, ["TRUSTLY_ACCESS_KEY"]),
    ("no environment", ["transactions", "get", "1"], {"TRUSTLY_ENVIRONMENT": None}, 3, ["TRUSTLY_ENVIRONMENT"]),
    ("plain http", ["transactions", "get", "1"], {"TRUSTLY_ENVIRONMENT": "http://api.example/v1"}, 3, ["https"]),
    ("refused", ["transactions", "get", "1"], {"TRUSTLY_ENVIRONMENT": "http://127.0.0.1:9/api/v1"}, 9, ["id: "]),
    ("empty id", ["transactions", "get", ""], {}, 4, ["InvalidRequestError"]),
    ("bad status", ["transactions", "list", "--status", "paid"], {}, 2, ["not a TransactionStatus"]),
    ("bad date", ["transactions", "list", "--created-from", "yesterday"], {}, 2, ["not a date"]),
    ("bad limit", ["transactions", "list", "--limit", "-1"], {}, 2, ["--limit"]),
    ("third decimal", ["transactions", "list", "--amount-min", "1.005"], {}, 4, ["amount.min", "two decimals"]),
    ("not an amount", ["transactions", "list", "--amount-max", "ten"], {}, 4, ["amount.max"]),
    ("unknown command", ["transaction", "get", "1"], {}, 2, ["No such command"]),
    ("no argument", ["payments", "get"], {}, 2, ["Missing argument"]),
]


@pytest.mark.parametrize(
    ("args", "variables", "code", "fragments"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_errors_name_the_code_and_message_and_exit_distinctly(
    cli: Callable[..., Result],
    env: dict[str, str],
    args: list[str],
    variables: dict[str, str | None],
    code: int,
    fragments: list[str],
) -> None:
    result = cli(*args, **variables)
    assert result.code == code, (result.out, result.err)
    for fragment in fragments:
        assert fragment in result.err
    assert "Traceback" not in result.err and ACCESS_KEY not in result.out + result.err
    assert " raised " not in result.err  # the client's log line is not repeated on the terminal


def test_a_server_error_after_the_retries_exits_8(
    cli: Callable[..., Result], env: dict[str, str], trustly_faults: Any
) -> None:
    trustly_faults.add("transactions_get", Fault.status(500), times=3)
    result = cli("transactions", "get", "1")
    assert result.code == 8 and "HTTP 500" in result.err and "correlation id: " in result.err


def test_every_exit_code_is_listed_in_the_help(cli: Callable[..., Result]) -> None:
    from trustly._cli import ExitCode

    result = cli("--help")
    assert result.code == 0
    for code in ExitCode:
        assert f"{code.value:>3}  {code.name.lower().replace('_', ' ')}" in result.out
    assert cli("--version").out.strip() == f"trustly {trustly.__version__}"


# -- webhooks verify ---------------------------------------------------------------------------

NOW_MS = int(time.time() * 1000)
EVENT = (
    f"eventId=e-1&eventType=Authorize&objectId=1001&objectType=Transaction&createdAt={NOW_MS}&accessId={ACCESS_ID}"
).encode()
STALE = EVENT.replace(str(NOW_MS).encode(), str(NOW_MS - 14 * 3600 * 1000).encode())
OTHER_ID_IN_BODY = EVENT.replace(f"accessId={ACCESS_ID}".encode(), b"accessId=someone-else")


def _signed(body: bytes, access_id: str = ACCESS_ID, key: str = ACCESS_KEY) -> str:
    return _basic(access_id, trustly.notification_signature(body, key))


VERIFY_CASES: list[tuple[str, bytes, str, list[str], int, str]] = [
    ("valid", EVENT, _signed(EVENT), [], 0, "signature: ok"),
    ("tampered body", EVENT.replace(b"1001", b"1002"), _signed(EVENT), [], 11, "does not match its body"),
    ("trailing newline", EVENT + b"\n", _signed(EVENT), [], 11, "without a trailing newline"),
    ("other key", EVENT, _signed(EVENT, key="another-key"), [], 11, "does not match its body"),
    ("other accessId", EVENT, _signed(EVENT, access_id="someone-else"), [], 11, "another accessId"),
    ("body names another accessId", OTHER_ID_IN_BODY, _signed(OTHER_ID_IN_BODY), [], 11, "another accessId"),
    ("stale", STALE, _signed(STALE), [], 11, "ago"),
    ("stale, any age", STALE, _signed(STALE), ["--max-age", "0"], 0, "signature: ok"),
    ("not basic", EVENT, "Bearer abc", [], 11, "is not Basic"),
    ("not base64", EVENT, "Basic %%%", [], 11, "not valid Base64"),
    ("no signature", EVENT, _basic(ACCESS_ID, ""), [], 11, "carries no signature"),
]


@pytest.mark.parametrize(
    ("body", "authorization", "options", "code", "fragment"),
    [c[1:] for c in VERIFY_CASES],
    ids=[c[0] for c in VERIFY_CASES],
)
def test_webhooks_verify_names_the_part_that_fails(
    cli: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
    authorization: str,
    options: list[str],
    code: int,
    fragment: str,
) -> None:
    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("TRUSTLY_ACCESS_ID", ACCESS_ID)
    saved = tmp_path / "body.txt"
    saved.write_bytes(body)
    result = cli("webhooks", "verify", str(saved), "--authorization", authorization, *options)
    assert result.code == code, (result.out, result.err)
    assert fragment in (result.out if code == 0 else result.err)
    if code == 0:
        assert "AuthorizeEvent" in result.out and "1001" in result.out


def test_webhooks_verify_reads_stdin(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EVENT)))
    result = cli("--access-id", ACCESS_ID, "webhooks", "verify", "-a", _signed(EVENT))
    assert result.code == 0 and "signature: ok" in result.out


def test_webhooks_verify_needs_the_access_id(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    (tmp_path / "body.txt").write_bytes(EVENT)
    result = cli("webhooks", "verify", str(tmp_path / "body.txt"), "-a", _signed(EVENT))
    assert result.code == 3 and "TRUSTLY_ACCESS_ID" in result.err


# -- establish sign ----------------------------------------------------------------------------


def _establish_data(sim: Simulator, reference: str) -> dict[str, Any]:
    return {
        "merchantId": sim.merchant_id,
        "merchantReference": reference,
        "paymentType": "Deferred",
        "currency": "USD",
        "amount": "12.30",
        "description": "Order 42 & more",
        "customer": {"name": "Ada Lovelace", "address": {"country": "US"}},
        "returnUrl": "https://shop.example/return",
        "cancelUrl": "https://shop.example/cancel",
    }


@pytest.mark.parametrize("algorithm", ["HmacSHA1", "HmacSHA512"])
def test_establish_sign_output_is_accepted_by_the_simulator(
    cli: Callable[..., Result],
    env: dict[str, str],
    tmp_path: Path,
    trustly_client: trustly.TrustlyClient,
    trustly_simulator: Simulator,
    algorithm: str,
) -> None:
    from trustly.models import EstablishRequest

    data = _establish_data(trustly_simulator, f"sign-{algorithm}")
    source = tmp_path / "establish.json"
    source.write_text(json.dumps(data))
    result = cli("establish", "sign", str(source), "--algorithm", algorithm, "--explain")
    assert result.code == 0, result.err
    signed = result.json()
    assert signed == trustly_client.sign_establish_data(data, algorithm)  # type: ignore[arg-type]
    assert "signed string: accessId=" in result.err and "description=Order 42 & more" in result.err
    established = trustly_client.transactions.establish(body=EstablishRequest.from_dict(signed))
    assert established.transaction_id


def test_establish_sign_needs_no_environment(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTLY_ACCESS_ID", ACCESS_ID)
    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    source = tmp_path / "establish.json"
    data = {"merchantId": "1", "merchantReference": "r", "amount": "1.00", "currency": "USD"}
    source.write_text(json.dumps({**data, "returnUrl": "https://s.example/r", "cancelUrl": "https://s.example/c"}))
    result = cli("establish", "sign", str(source))
    assert result.code == 0 and result.json()["accessId"] == ACCESS_ID and result.json()["requestSignature"]


@pytest.mark.parametrize(
    ("content", "code", "fragment"),
    [
        ("{not json", 2, "not JSON"),
        ("[1, 2]", 2, "a JSON object"),
        ('{"amount": 1.5}', 4, "floats"),
        ('{"merchantId": "1", "merchantReferance": "r"}', 4, "is required but missing"),
    ],
)
def test_establish_sign_refuses_bad_input(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, code: int, fragment: str
) -> None:
    monkeypatch.setenv("TRUSTLY_ACCESS_ID", ACCESS_ID)
    monkeypatch.setenv("TRUSTLY_ACCESS_KEY", ACCESS_KEY)
    source = tmp_path / "establish.json"
    source.write_text(content)
    result = cli("establish", "sign", str(source))
    assert result.code == code and fragment in result.err, result.err


# -- trustly simulator -------------------------------------------------------------------------


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """`trustly simulator --port 0` in its own process; the variables its banner tells to export."""
    tls = getattr(request, "param", False)
    code = "import sys; from trustly._cli import main; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "overlays"), str(ROOT / "generated")])}
    process = subprocess.Popen(
        [sys.executable, "-c", code, "simulator", "--port", "0", *(["--tls"] if tls else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    banner: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not banner or banner[-1] != "Serving until Ctrl-C.":
            assert time.monotonic() < deadline and process.poll() is None, banner
            banner.append(process.stdout.readline().rstrip("\n"))
        exports = dict(
            line.strip().removeprefix("export ").split("  #")[0].split("=", 1)
            for line in banner
            if line.strip().startswith("export ")
        )
        assert banner[0] == f"Trustly simulator at {exports['TRUSTLY_ENVIRONMENT']}"
        assert any("Lightbox" in line and "/_simulator/lightbox/{transactionId}" in line for line in banner)
        script = next(line.split()[1] for line in banner if line.strip().startswith("trustly.js"))
        bundle = exports.get("TRUSTLY_CA_BUNDLE")
        verify = ssl.create_default_context(cafile=bundle) if bundle else True
        assert "window.Trustly" in httpx.get(script, verify=verify).text  # the checkout page's script src
        yield exports
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0, process.stderr.read() if process.stderr else ""
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize("served", [False, True], ids=["http", "https"], indirect=True)
def test_the_simulator_command_serves_what_the_other_commands_use(
    cli: Callable[..., Result], served: dict[str, str]
) -> None:
    assert served["TRUSTLY_ENVIRONMENT"].startswith("https://" if "TRUSTLY_CA_BUNDLE" in served else "http://")
    result = cli("transactions", "list", "--json", **served)
    assert result.code == 0 and result.json() == [], result.err
    missing = cli("transactions", "get", "1", **served)
    assert missing.code == 6 and "correlation id" in missing.err
