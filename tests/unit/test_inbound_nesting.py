"""Inbound payloads use the nested models: Trustly's dotted names are nested while parsing.

Notifications and redirects arrive with dotted names (`paymentProviderTransaction.status`,
`payment.account.verified`); the models are nested like the JSON ones, and `unflatten_fields`
(the inverse of `form_fields`) is the one place that turns the first into the second.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from trustly._encoding import form_fields, unflatten_fields
from trustly._redirects import redirect_parameters
from trustly.models import (
    DenyEvent,
    Event,
    FailedEvent,
    PaymentCustomer,
    PaymentProvider,
    PaymentProviderTransaction,
    PaymentType,
    RedirectAccount,
    RedirectParameters,
    RedirectPayment,
    TransactionStatus,
    TransactionType,
    VerifyCustomerEvent,
)
from trustly.webhooks import parse_event

from ..conftest import REPORT

SPEC = Path(__file__).resolve().parents[2] / "spec" / "trustly-openapi.yaml"
EXAMPLES = 150


def _property_names(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every (schema location, property name) in the document, inline schemas included."""
    if isinstance(node, Mapping):
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            for name in properties:
                yield where, str(name)
        for key, value in node.items():
            yield from _property_names(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _property_names(value, f"{where}/{index}")


def test_no_model_has_a_dotted_property() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    names = list(_property_names(spec, "#"))
    assert len(names) > 500  # the walk reaches request, response and event schemas alike
    dotted = [f"{where}: {name}" for where, name in names if "." in name]
    assert dotted == []


@pytest.mark.parametrize(
    ("fields", "nested"),
    [
        ({"a.b": "1", "a.c": "2", "d": "3"}, {"a": {"b": "1", "c": "2"}, "d": "3"}),
        ({"a.b.c": "1", "a.b.d": "2"}, {"a": {"b": {"c": "1", "d": "2"}}}),
        # A dotted name through plain text is kept flat, whichever came first.
        ({"a": "x", "a.b": "y"}, {"a": "x", "a.b": "y"}),
        ({"a.b": "y", "a": "x"}, {"a": "x", "a.b": "y"}),
        ({"a.b": "1", "a.b.c": "2"}, {"a": {"b": "1"}, "a.b.c": "2"}),
        ({"a.b.c": "2", "a.b": "1"}, {"a": {"b": "1"}, "a.b.c": "2"}),
        # Names with an empty part cannot nest.
        ({"a..b": "1", ".a": "2", "a.": "3", ".": "4"}, {"a..b": "1", ".a": "2", "a.": "3", ".": "4"}),
        ({}, {}),
    ],
)
def test_unflatten_nests_what_it_can_and_keeps_the_rest_flat(fields: dict[str, str], nested: dict[str, Any]) -> None:
    assert unflatten_fields(fields) == nested


_part = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="&="), max_size=10)
_tree = st.recursive(_text, lambda children: st.dictionaries(_part, children, min_size=1, max_size=3), max_leaves=8)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.dictionaries(_part, _tree, max_size=4))
def test_unflatten_is_the_inverse_of_form_fields(tree: dict[str, Any]) -> None:
    assert unflatten_fields(form_fields(tree)) == tree


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(["a", "b", ""]), min_size=1, max_size=3), _text), max_size=6))
def test_unflatten_does_not_depend_on_the_order_and_loses_nothing(entries: list[tuple[list[str], str]]) -> None:
    fields = {".".join(parts): value for parts, value in entries}
    results = [unflatten_fields(dict(order)) for order in itertools.islice(itertools.permutations(fields.items()), 24)]
    assert all(result == results[0] for result in results)
    assert sorted(_leaves(results[0])) == sorted(fields.values())


def _leaves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    else:
        yield node


_extra = st.dictionaries(st.from_regex(r"x[A-Za-z]{1,6}", fullmatch=True), _text, max_size=2)


@st.composite
def _provider_transaction(draw: st.DrawFn) -> dict[str, Any]:
    # At least one field: a form cannot carry an empty object, so none is sent (as for requests).
    names = st.sampled_from(["status", "statusMessage", "reasonCode", "reasonCodeMessage"])
    return {**draw(st.dictionaries(names, _text, min_size=1)), **draw(_extra)}


@st.composite
def _event(draw: st.DrawFn) -> tuple[type[Event], dict[str, Any]]:
    model, event_type = draw(
        st.sampled_from([(FailedEvent, "Failed"), (DenyEvent, "Deny"), (VerifyCustomerEvent, "VerifyCustomer")])
    )
    data: dict[str, Any] = {
        "eventId": draw(st.from_regex(r"[0-9]{1,10}", fullmatch=True)),
        "eventType": event_type,
        "objectId": "1002593555",
        "createdAt": draw(st.integers(10**12, 2**41)),  # epoch milliseconds, as Trustly sends
        "status": draw(st.sampled_from(["2", "7", "8"])),
        "paymentProviderTransaction": draw(_provider_transaction()),
        **draw(_extra),
    }
    if model is VerifyCustomerEvent:
        data["customer"] = {"name": draw(_text), **draw(_extra)}
    return model, data


@settings(max_examples=EXAMPLES, deadline=None)
@given(_event())
def test_a_nested_event_sent_with_dotted_names_parses_back_to_the_same_model(
    case: tuple[type[Event], dict[str, Any]],
) -> None:
    model, data = case
    original = model.from_dict(data)
    body = urlencode(form_fields(original.to_dict())).encode()
    parsed = parse_event(body)
    assert type(parsed) is model
    assert parsed.to_dict() == original.to_dict()
    assert isinstance(parsed, FailedEvent | DenyEvent | VerifyCustomerEvent)
    assert isinstance(parsed.payment_provider_transaction, PaymentProviderTransaction)
    if isinstance(parsed, VerifyCustomerEvent):
        assert isinstance(parsed.customer, PaymentCustomer) and parsed.customer.name == data["customer"]["name"]


@st.composite
def _redirect(draw: st.DrawFn) -> RedirectParameters:
    payment = RedirectPayment(
        payment_type=draw(st.sampled_from(list(PaymentType))),
        payment_provider=PaymentProvider(type_=draw(st.integers(0, 10**6))),
        account=RedirectAccount(verified=draw(st.booleans())),
        payment_provider_transaction=PaymentProviderTransaction(status=draw(_text)),
    )
    return RedirectParameters(
        transaction_id=draw(st.from_regex(r"[0-9]{1,10}", fullmatch=True)),
        status=draw(st.sampled_from([TransactionStatus.AUTHORIZED, TransactionStatus.CANCELED])),
        transaction_type=draw(st.sampled_from(list(TransactionType))),
        payment=payment,
        panel=draw(_text),
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(_redirect())
def test_a_nested_redirect_sent_with_dotted_names_parses_back_to_the_same_model(original: RedirectParameters) -> None:
    query = form_fields(original.to_dict())
    assert "payment.account.verified" in query and "payment" not in query
    assert redirect_parameters(query) == original


def test_regression_the_flattened_attributes_are_nested() -> None:
    event = parse_event(
        b"eventId=1&eventType=Failed&objectId=2&createdAt=1556234040954&status=8"
        b"&paymentProviderTransaction.status=SW054&paymentProviderTransaction.reasonCode=R01"
    )
    assert isinstance(event, FailedEvent) and not hasattr(event, "payment_provider_transaction_status")
    assert event.payment_provider_transaction == PaymentProviderTransaction(status="SW054", reason_code="R01")
    params = redirect_parameters(
        {"transactionId": "1", "status": "2", "payment.paymentType": "4", "payment.account.verified": "false"}
    )
    assert not hasattr(params, "payment_payment_type")
    assert params.payment == RedirectPayment(payment_type=PaymentType.DISBURSEMENT, account=RedirectAccount(False))


def test_unknown_or_clashing_dotted_names_stay_reachable() -> None:
    event = parse_event(
        b"eventId=1&eventType=VerifyCustomer&objectId=2&createdAt=1&customer=plain&customer.name=A"
        b"&paymentProviderTransaction.status=AC100&paymentProviderTransaction.newField=n&a..b=1"
    )
    assert isinstance(event, VerifyCustomerEvent) and event.customer is not None
    assert event.additional_properties == {"customer": "plain", "customer.name": "A", "a..b": "1"}
    assert isinstance(event.payment_provider_transaction, PaymentProviderTransaction)
    assert event.payment_provider_transaction.additional_properties == {"newField": "n"}
    # An event type nobody documented keeps the nested values as nested dicts.
    generic = parse_event(b"eventId=1&eventType=Debited&objectId=2&createdAt=1&paymentProviderTransaction.status=X")
    assert generic.additional_properties["paymentProviderTransaction"] == {"status": "X"}
    params = redirect_parameters(
        {"transactionId": "1", "status": "7", "payment": "plain", "payment.account.verified": "maybe"}
    )
    assert params.additional_properties == {"payment": "plain", "payment.account.verified": "maybe"}


REPORT.append(
    f"inbound nesting: 8 unflatten cases, 4 properties x {EXAMPLES} generated cases (inverse, order, event, redirect)"
)
