"""One shape per concept: form bodies use the nested models, flattened to dotted names by the encoder only.

Every write that may be sent as a form (its own media type or the alternate) is sent both ways
through the client, and each body is read back by the simulator's own parser (which unflattens
the dotted form fields): for random typed bodies, form and JSON carry the same values, and the
JSON reads back as the model that was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import attrs
import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from tests.conftest import REPORT, TRANSACTION
from tests.overlay.conftest import Recorder, make_client
from tests.overlay.test_typing import ROOT
from trustly._encoding import FORM, JSON, form_fields, wire_text
from trustly.models import (
    Address,
    Beneficiary,
    BeneficiaryAccount,
    BeneficiaryBank,
    CancelRequest,
    CaptureRequest,
    CountryCode,
    DepositRequest,
    PreAuthRequest,
    ReclaimRequest,
    RefreshRequest,
    RefundRequest,
    Remittance,
    RemittanceMetadata,
    WithdrawalMethod,
)
from trustly.testing._validate import load_routes, load_spec
from trustly_api_client.operations import OPERATIONS
from trustly_api_client.types import UNSET, InvalidFieldError

EXAMPLES = 40
ROUTES = {route.operation_id: route for route in load_routes()}
FORM_WRITES = sorted(op for op, o in OPERATIONS.items() if FORM in (o.content_type, o.alternate_content_type))

# Text as users type it: any character a body can carry (no NUL, no lone surrogate), including
# the ones form encoding must escape (& = + % . and spaces).
_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00") | st.sampled_from("&=+%. ")


def _text(min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(_CHAR, min_size=min_size, max_size=max_size)


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(UNSET) | strategy


_REFERENCE = _text(1).filter(str.strip)
# Amounts as users pass them: whole, one or two decimals, Decimal or text.
_AMOUNT = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2),
    st.decimals(min_value=0, max_value=Decimal("999999.9"), places=1),
    st.integers(0, 9999999).map(Decimal),
).flatmap(lambda d: st.sampled_from([d, str(d)]))
_ADDRESS = st.builds(
    Address,
    address1=_opt(_text()),
    address2=_opt(_text()),
    city=_opt(_text()),
    state=_opt(_text(max_size=2)),
    zip_=_opt(_text(max_size=10)),
    country=_opt(_text(max_size=2)),
)
_BANK = st.builds(
    BeneficiaryBank,
    name=_opt(_text(max_size=35)),
    swift=_opt(st.from_regex(r"\A[A-Z0-9]{8,11}\Z")),
    routing_number=_opt(st.from_regex(r"\A[0-9]{9}\Z")),
    country=_opt(st.sampled_from(CountryCode)),
)
_METADATA = st.builds(
    RemittanceMetadata,
    remittance=_opt(st.builds(Remittance, withdrawal_method=_opt(st.sampled_from(WithdrawalMethod)))),
)
_BENEFICIARY = st.builds(
    Beneficiary,
    name=_opt(_text()),
    tax_id=_opt(_text()),
    address=_opt(_ADDRESS),
    phone=_opt(_text()),
    email=_opt(_text()),
    date_of_birth=_opt(_text()),
)
_ACCOUNT = st.builds(
    BeneficiaryAccount,
    account_number=_opt(st.from_regex(r"\A[0-9]{1,12}\Z")),
    iban=_opt(st.from_regex(r"\A[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}\Z")),
    payment_provider=_opt(_BANK),
)
BODIES: dict[str, st.SearchStrategy[Any]] = {
    "transactions_capture": st.builds(
        CaptureRequest,
        merchant_reference=_REFERENCE,
        amount=_AMOUNT,
        split_token=_text(1),
        interaction_id=_opt(_text()),
        beneficiary_account=_opt(_ACCOUNT),
        beneficiary=_opt(_BENEFICIARY),
        metadata=_opt(_METADATA),
    ),
    "transactions_capture_pre_auth": st.builds(
        PreAuthRequest,
        merchant_reference=_REFERENCE,
        period=st.integers(1, 6),
        amount=_AMOUNT,
        split_token=_opt(_text()),
        external_tier=_opt(_text()),
        interaction_id=_opt(_text()),
        metadata=_opt(_METADATA),
    ),
    "transactions_refresh": st.builds(RefreshRequest, split_token=_text(1)),
    "transactions_deposit": st.builds(
        DepositRequest,
        merchant_reference=_REFERENCE,
        split_token=_opt(_text(1)),
        amount=_opt(_AMOUNT),
        instant_payout_request=_opt(st.booleans()),
        external_tier=_opt(_text()),
    ),
    # A reference is always given: a generated one differs between the two sends.
    "transactions_refund": st.builds(RefundRequest, merchant_reference=_REFERENCE, amount=_opt(_AMOUNT)),
    "transactions_reclaim": st.builds(ReclaimRequest, merchant_reference=_REFERENCE, amount=_opt(_AMOUNT)),
    "transactions_cancel": st.builds(
        CancelRequest,
        merchant_reference=_REFERENCE,
        message=_opt(_text(max_size=40)),
        reason=_opt(st.integers(0, 10**6)),
        signature=_opt(_text()),
    ),
}
_ANSWER = {**TRANSACTION, "refresh": {"processId": "p-1"}}


def _send(operation: str, content_type: str, body: Any) -> httpx.Request:
    recorder = Recorder(httpx.Response(200, json=_ANSWER))
    with make_client(recorder, max_retries=0, content_types={operation: content_type}) as client:
        method: Callable[..., object] = getattr(client.transactions, operation.removeprefix("transactions_"))
        method("1002633191", body=body)
    (request,) = recorder.requests
    assert request.headers["Content-Type"] == content_type
    return request


def _pruned(data: Any) -> Any:
    """The values a body carries: a form cannot send an empty object, so it carries none."""
    if not isinstance(data, dict):
        return data
    kept = {key: _pruned(value) for key, value in data.items()}
    return {key: value for key, value in kept.items() if value != {}}


def test_every_form_write_is_covered() -> None:
    assert set(BODIES) == set(FORM_WRITES)
    assert len(FORM_WRITES) == 7
    REPORT.append(
        f"form bodies: {len(FORM_WRITES)} form-capable writes x {EXAMPLES} random nested typed bodies, each sent as "
        "form and as JSON and read back by the simulator: same values, same model"
    )


@pytest.mark.parametrize("operation", FORM_WRITES)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_form_and_json_of_one_model_carry_the_same_values(operation: str, data: st.DataObject) -> None:
    body = data.draw(BODIES[operation], label="body")
    route = ROUTES[operation]
    sent_form = _send(operation, FORM, body)
    sent_json = _send(operation, JSON, body)
    as_form = route.parse_body(FORM, sent_form.content)  # the simulator unflattens the dotted fields
    as_json = route.parse_body(JSON, sent_json.content)
    assert as_form == _pruned(as_json)
    # The JSON reads back as the typed model that was sent (an amount given as text is a Decimal
    # then, so the models are compared by what they serialise to).
    assert type(body).from_dict(as_json).to_dict() == body.to_dict()
    assert type(body).from_dict(as_form) == type(body).from_dict(_pruned(as_json))
    # Every form field is a dotted path of the nested JSON, written by the one rendering rule.
    fields = parse_qsl(sent_form.content.decode("ascii"), keep_blank_values=True)
    assert dict(fields) == form_fields(json.loads(sent_json.content)) and len(fields) == len(dict(fields))
    if not isinstance(getattr(body, "amount", UNSET), type(UNSET)):
        assert dict(fields)["amount"] == trustly.format_amount(body.amount)


def test_the_readme_capture_goes_on_the_wire_with_dotted_names() -> None:
    body = CaptureRequest(
        merchant_reference="order-1042-c1",
        amount=Decimal("25"),
        split_token="token-from-the-authorize-event",
        beneficiary=Beneficiary(name="Jane Doe", address=Address(city="Austin", zip_="78701", country="US")),
        beneficiary_account=BeneficiaryAccount(
            account_number="000123456789",
            payment_provider=BeneficiaryBank(routing_number="124003116", country=CountryCode.US),
        ),
        metadata=RemittanceMetadata(remittance=Remittance(withdrawal_method=WithdrawalMethod.BANK_DEPOSIT)),
    )
    sent = _send("transactions_capture", FORM, body)
    assert parse_qsl(sent.content.decode()) == [
        ("merchantReference", "order-1042-c1"),
        ("amount", "25.00"),
        ("splitToken", "token-from-the-authorize-event"),
        ("beneficiaryAccount.accountNumber", "000123456789"),
        ("beneficiaryAccount.paymentProvider.routingNumber", "124003116"),
        ("beneficiaryAccount.paymentProvider.country", "US"),
        ("beneficiary.name", "Jane Doe"),
        ("beneficiary.address.city", "Austin"),
        ("beneficiary.address.zip", "78701"),
        ("beneficiary.address.country", "US"),
        ("metadata.remittance.withdrawalMethod", "BankDeposit"),
    ]
    # The same model as JSON is nested.
    nested = json.loads(_send("transactions_capture", JSON, body).content)
    assert nested["beneficiary"]["address"]["zip"] == "78701"
    assert nested["metadata"] == {"remittance": {"withdrawalMethod": "BankDeposit"}}


# -- the flattened names are gone ---------------------------------------------------------------


def _upstream_dotted_fields() -> list[tuple[str, str]]:
    """(operation, dotted property) for every dotted request property in Trustly's published file."""
    upstream = max((ROOT / "spec" / "upstream").glob("trustly-north-america-openapi.*.yml"))
    paths = yaml.safe_load(upstream.read_text())["paths"]
    return [
        (path, name)
        for path in ("/transactions/{transactionId}/capture", "/transactions/{transactionId}/capture/preAuth")
        for name in paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
        if "." in name
    ]


DOTTED = _upstream_dotted_fields()


def test_no_request_body_in_the_spec_has_a_dotted_field() -> None:
    spec = load_spec()
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()
    dotted: list[str] = []

    def walk(schema: dict[str, Any], where: str) -> None:
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        if ref:
            if ref not in seen:
                seen.add(ref)
                walk(schemas[ref], ref)
            return
        for part in schema.get("allOf", []) + schema.get("oneOf", []):
            walk(part, where)
        for name, sub in schema.get("properties", {}).items():
            if "." in name:
                dotted.append(f"{where}.properties[{name}]")
            walk(sub, f"{where}.{name}")

    for item in spec["paths"].values():
        for op in item.values():
            for media in op.get("requestBody", {}).get("content", {}).values():
                walk(media["schema"], op["operationId"])
    assert seen and dotted == []
    assert len(DOTTED) == 18  # capture's 17 and preAuth's metadata.remittance.withdrawalMethod


@pytest.mark.parametrize(("path", "name"), DOTTED, ids=[f"{p.rsplit('/', 1)[-1]}:{n}" for p, n in DOTTED])
def test_the_flattened_fields_no_longer_exist(path: str, name: str) -> None:
    model: Any = PreAuthRequest if path.endswith("preAuth") else CaptureRequest
    required: dict[str, Any] = {"merchant_reference": "c", "amount": Decimal(1)}
    required.update(period=1) if model is PreAuthRequest else required.update(split_token="t")
    flat = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.replace(".", "_")).lower()
    assert flat not in {field.name for field in attrs.fields(model)}
    with pytest.raises(TypeError, match=flat):
        model(**required, **{flat: "x"})
    model(**required)  # and without it the call is valid


def test_a_dotted_name_as_an_extra_field_is_refused_not_sent() -> None:
    # The old flat spelling, passed as data, is not a field of the nested model.
    with pytest.raises(InvalidFieldError) as caught:
        CaptureRequest.from_dict(
            {"merchantReference": "c", "amount": "1.00", "splitToken": "t", "beneficiary.address.country": "US"}
        )
    assert caught.value.field == "beneficiary.address.country"


# -- what the encoder refuses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"a": 1.5}, "a"),
        ({"a": {"b": [1, 2]}}, "a.b"),
        ({"a": {"b": "x"}, "a.b": "y"}, "a.b"),
        ({"a": object()}, "a"),
    ],
)
def test_the_encoder_refuses_what_a_form_cannot_carry(body: dict[str, Any], field: str) -> None:
    with pytest.raises(trustly.InvalidRequestError) as caught:
        form_fields(body)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (0, "0"), (12, "12"), ("10.50", "10.50"), (WithdrawalMethod.CASH, "Cash")],
)
def test_wire_text_is_the_one_rendering_rule(value: object, text: str) -> None:
    assert wire_text("f", value) == text
    assert form_fields({"f": value, "g": None, "h": {}}) == {"f": text}
