"""Secrets at the edges of a call: error reporters' frame locals, and httpx's own log lines."""

from __future__ import annotations

import logging

import httpx
import pytest

import trustly
from tests.conftest import ACCESS_KEY, TRANSACTION
from tests.overlay.conftest import Recorder, make_client
from tests.overlay.test_invariant import assert_no_secret_in_frames

ACCOUNT = "000123456789"
ROUTING = "124003116"


def test_bank_details_in_list_filters_never_reach_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(httpx.Response(200, json={"transactions": [TRANSACTION]}))
    client = make_client(recorder)
    client.transactions.list(
        account_number=ACCOUNT,
        routing_number=ROUTING,
        payment_fi_account_account_number=ACCOUNT,
        payment_fi_account_routing_number=ROUTING,
    )
    sent = str(recorder.requests[0].url)
    assert ACCOUNT in sent and ROUTING in sent  # the filters did go to Trustly
    assert any(record.name == "httpx" for record in caplog.records)  # httpx logged the request line
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert ACCOUNT not in text and ROUTING not in text, record.name


def test_redirect_and_signing_errors_hold_no_key_in_their_frames() -> None:
    client = make_client(Recorder(httpx.Response(200)))
    with pytest.raises(trustly.SignatureVerificationError) as bad_redirect:
        client.verify_redirect("https://shop.example/return?transactionId=1&requestSignature=bm9wZQ%3D%3D")
    assert_no_secret_in_frames(bad_redirect.value)
    with pytest.raises(Exception) as bad_data:
        client.sign_establish_data({"amount": object()}, algorithm="nope")  # type: ignore[arg-type]
    assert ACCESS_KEY not in str(bad_data.value)
    assert_no_secret_in_frames(bad_data.value)
