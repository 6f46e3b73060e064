"""Logs carry what an operator needs and never a secret, on every path."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

import trustly
from tests.conftest import ACCESS_ID, ACCESS_KEY, TRANSACTION
from tests.overlay.conftest import Recorder, make_client
from trustly.models import Currency, EstablishRequest, RefundRequest

AUTH_VALUE = base64.b64encode(f"{ACCESS_ID}:{ACCESS_KEY}".encode()).decode()


def _everything(caplog: pytest.LogCaptureFixture, errors: list[BaseException], client: trustly.TrustlyClient) -> str:
    parts = [caplog.text, repr(client), str(client)]
    for record in caplog.records:
        parts.append(repr(record.__dict__))
    for error in errors:
        parts += [str(error), repr(error), repr(error.__dict__), repr(error.args)]
        cause = error.__cause__
        while cause is not None:
            parts += [str(cause), repr(cause)]
            cause = cause.__cause__
    return "\n".join(parts)


def test_no_secret_in_any_log_repr_or_error(caplog: pytest.LogCaptureFixture, sleeps: list[float]) -> None:
    caplog.set_level(logging.DEBUG)
    signature_holder: list[str] = []
    recorder = Recorder(
        httpx.Response(200, json=TRANSACTION),
        httpx.Response(401, json={"errors": [{"code": 100, "message": "Unauthorized"}]}),
        httpx.ConnectError("refused"),
        httpx.Response(500, text="<html>oops</html>"),
        httpx.Response(200, json=TRANSACTION),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, content=b"not json"),
    )
    client = make_client(recorder)
    errors: list[BaseException] = []
    client.transactions.get("1")
    for call in (
        lambda: client.transactions.get("1"),  # 401
        lambda: client.transactions.get("1"),  # connect error, 500, then 200
        lambda: client.transactions.refund("1", body=RefundRequest(merchant_reference="r", amount="1.00")),  # ambiguous
        lambda: client.transactions.get("1"),  # bad body
    ):
        try:
            call()
        except trustly.TrustlyError as error:
            errors.append(error)
    signed = client.sign_establish_data(
        EstablishRequest(
            merchant_id="m",
            merchant_reference="x",
            currency=Currency.USD,
            amount=Decimal("1.00"),
            return_url="https://shop.example/r",
            cancel_url="https://shop.example/c",
        )
    )
    signature_holder.append(signed["requestSignature"])
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationError",
        "AmbiguousOutcomeError",
        "ResponseValidationError",
    ]
    text = _everything(caplog, errors, client)
    for secret in (ACCESS_KEY, AUTH_VALUE, signature_holder[0]):
        assert secret not in text
    assert recorder.requests[0].headers["Authorization"] == f"Basic {AUTH_VALUE}"


def test_log_records_carry_operation_fields(caplog: pytest.LogCaptureFixture, sleeps: list[float]) -> None:
    caplog.set_level(logging.DEBUG, logger="trustly")
    recorder = Recorder(httpx.Response(503), httpx.Response(200, json=TRANSACTION))
    make_client(recorder).transactions.get("1002633191")
    attempts = [r for r in caplog.records if r.levelno == logging.DEBUG]
    final = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.trustly_attempt for r in attempts] == [1, 2]  # type: ignore[attr-defined]
    assert [r.trustly_status for r in attempts] == [503, 200]  # type: ignore[attr-defined]
    (done,) = final
    assert done.trustly_path == "/transactions/{transactionId}"  # type: ignore[attr-defined]
    assert done.trustly_method == "GET"  # type: ignore[attr-defined]
    assert done.trustly_correlation_id == recorder.requests[0].headers[trustly.CORRELATION_HEADER]  # type: ignore[attr-defined]
    assert done.trustly_elapsed_ms >= 0  # type: ignore[attr-defined]
    assert "1002633191" not in caplog.text, "filled-in paths (ids) are not logged"


def test_info_level_logs_one_line_per_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="trustly")
    make_client(Recorder(httpx.Response(200, json=TRANSACTION))).transactions.get("1")
    assert len(caplog.records) == 1 and "-> 200 after 1 attempt(s)" in caplog.text


def test_trustly_log_environment_variable() -> None:
    code = (
        "import httpx, trustly\n"
        "c = trustly.TrustlyClient(base_url='http://127.0.0.1:1/api/v1', access_id='a', access_key='SECRETKEY',"
        " transport=httpx.MockTransport(lambda r: httpx.Response(404, json={'errors': []})))\n"
        "try:\n    c.transactions.get('1')\nexcept trustly.NotFoundError:\n    pass\n"
    )
    env = {"TRUSTLY_LOG": "debug", "PYTHONPATH": ":".join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "GET /transactions/{transactionId} attempt 1 -> 404" in done.stderr
    assert "raised NotFoundError" in done.stderr
    assert "SECRETKEY" not in done.stderr
