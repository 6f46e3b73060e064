"""The simulator against Trustly's documented lifecycle, table by table, through the public client.

Each table states the documented rule (evidence in overlays/trustly/testing/_lifecycle.py and
_bank.py); each cell builds its own simulator in the state it names, calls the client and checks
the answer (status or error code), the events raised and that nothing else moved. The operation
x state matrix is complete: every cell not listed as allowed must be refused with code 200.
"""

from __future__ import annotations

import itertools
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trustly
from trustly.models import (
    CancelRequest,
    CaptureRequest,
    DepositRequest,
    DisputeRecoveryRequest,
    EstablishRequest,
    PreAuthRequest,
    ReclaimRequest,
    RefreshRequest,
    RefundRequest,
    Transaction,
)
from trustly.testing import LifecycleOptions, Simulator, SimulatorTransport

from ..conftest import REPORT

pytestmark = pytest.mark.integration

ACCESS_ID, ACCESS_KEY = "lifecycle-id", "lifecycle-key"
TLS = ssl.create_default_context()  # unused in-process; built once because loading CAs is slow
SIZES: dict[str, int] = {}
WORLDS: list[Simulator] = []  # every simulator the suite built, to check it used every table row


def _ref(prefix: str = "ref") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class World:
    """A fresh simulator and a client on it, plus the ids a table cell works with."""

    sim: Simulator
    client: trustly.TrustlyClient
    target: str = ""
    auth: str = ""
    token: str = "bm90LWlzc3VlZA=="  # a token Trustly never issued, until an authorization gives one
    references: dict[str, str] = field(default_factory=dict)

    def events(self, since: int) -> list[str]:
        return [e["eventType"] for e in self.sim.ledger.events[since:]]

    def raw(self, transaction_id: str) -> dict[str, Any]:
        return self.sim.ledger.transactions[transaction_id]


def balance(w: World, transaction_id: str | None = None) -> Decimal:
    """The customer's account balance as the client reads it."""
    found = w.client.account_data.get_balance(transaction_id or w.auth).account_balance
    return Decimal(str(found.amount))  # type: ignore[union-attr]


def world(options: LifecycleOptions | None = None) -> World:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, lifecycle=options)
    WORLDS.append(sim)
    client = trustly.TrustlyClient(
        base_url="http://127.0.0.1/api/v1",
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        transport=SimulatorTransport(sim),
        max_retries=0,
        verify=TLS,
    )
    return World(sim, client)


# -- steps that build a state ---------------------------------------------------------------------
def establish(w: World, payment_type: str = "Deferred", amount: str = "100.00", reference: str | None = None) -> str:
    data = w.client.sign_establish_data(
        {
            "merchantId": w.sim.merchant_id,
            "merchantReference": reference or _ref("order"),
            "paymentType": payment_type,
            "currency": "USD",
            "amount": amount,
            "returnUrl": "https://shop.example/return",
            "cancelUrl": "https://shop.example/cancel",
        }
    )
    transaction_id = str(w.client.transactions.establish(body=EstablishRequest.from_dict(data)).transaction_id)
    w.target = w.auth = transaction_id
    return transaction_id


def authorize(w: World, payment_type: str = "Deferred", amount: str = "100.00", **login: Any) -> str:
    transaction_id = establish(w, payment_type, amount)
    w.sim.authorize(transaction_id, **login)
    payment_id = w.raw(transaction_id)["payment"]["paymentId"]
    w.token = w.sim.ledger.split_tokens.get(payment_id, w.token)
    return transaction_id


def capture(w: World, amount: str = "40.00", reference: str | None = None) -> str:
    made = w.client.transactions.capture(
        w.auth, body=CaptureRequest(merchant_reference=reference or _ref("cap"), amount=amount, split_token=w.token)
    )
    w.target = made.transaction_id
    return made.transaction_id


def deposit(w: World, amount: str = "20.00") -> str:
    made = w.client.transactions.deposit(w.auth, body=DepositRequest(merchant_reference=_ref("dep"), amount=amount))
    w.target = made.transaction_id
    return made.transaction_id


def preauth(w: World, period: int = 1) -> str:
    made = w.client.transactions.capture_pre_auth(
        w.auth, body=PreAuthRequest(merchant_reference=_ref("pre"), period=period, amount="50.00", split_token=w.token)
    )
    w.target = made.transaction_id
    return made.transaction_id


def _then(*steps: Callable[[World], object]) -> Callable[[World], None]:
    def build(w: World) -> None:
        for step in steps:
            step(w)

    return build


def _keep_target(step: Callable[[World], object]) -> Callable[[World], None]:
    def run(w: World) -> None:
        target = w.target
        step(w)
        w.target = target

    return run


STATES: dict[str, Callable[[World], None]] = {
    "Authorize New": _then(establish),
    "Authorize Authorized": _then(authorize),
    "Authorize OnHold": _then(lambda w: authorize(w, hold=True)),
    "Authorize Voided": _then(authorize, lambda w: w.client.transactions.cancel(w.auth, body=CancelRequest())),
    "Authorize Canceled": _then(lambda w: authorize(w, password="LoginError")),
    "Authorize Denied": _then(establish, lambda w: w.sim.deny(w.auth)),
    "Authorize Expired": _then(establish, lambda w: w.sim.advance(minutes=30)),
    "Disbursement Authorized": _then(lambda w: authorize(w, "Disbursement")),
    "Pay Authorized": _then(lambda w: authorize(w, "Instant")),
    "Pay Completed": _then(lambda w: authorize(w, "Instant"), lambda w: w.sim.settle_all()),
    "Preauthorization Authorized": _then(authorize, preauth),
    "Preauthorization Expired": _then(authorize, preauth, lambda w: w.sim.advance(hours=1)),
    "Capture Authorized": _then(authorize, capture),
    "Capture Processed": _then(authorize, capture, lambda w: w.sim.advance(hours=1)),
    "Capture Completed": _then(authorize, capture, lambda w: w.sim.settle_all()),
    "Capture PartiallyRefunded": _then(
        authorize,
        capture,
        lambda w: w.sim.settle_all(),
        _keep_target(lambda w: w.client.transactions.refund(w.target, body=RefundRequest(amount="5.00"))),
    ),
    "Capture Refunded": _then(
        authorize,
        capture,
        lambda w: w.sim.settle_all(),
        _keep_target(lambda w: w.client.transactions.refund(w.target, body=RefundRequest())),
    ),
    "Capture Reversed": _then(authorize, capture, lambda w: w.sim.settle_all(), lambda w: w.sim.ach_return(w.target)),
    "Capture Canceled": _then(
        authorize, capture, lambda w: w.client.transactions.cancel(w.target, body=CancelRequest())
    ),
    "Capture Denied": _then(lambda w: authorize(w, password="extendedreasoncode_10000"), capture),
    "Deposit Authorized": _then(lambda w: authorize(w, "Disbursement"), deposit),
    "Deposit Processed": _then(lambda w: authorize(w, "Disbursement"), deposit, lambda w: w.sim.advance(minutes=5)),
    "Deposit Completed": _then(lambda w: authorize(w, "Disbursement"), deposit, lambda w: w.sim.settle_all()),
    "Refund Authorized": _then(
        authorize,
        capture,
        lambda w: w.sim.settle_all(),
        lambda w: setattr(w, "target", w.client.transactions.refund(w.target, body=RefundRequest()).transaction_id),
    ),
}

OPERATIONS: dict[str, Callable[[World], Transaction | object]] = {
    "capture": lambda w: w.client.transactions.capture(
        w.target, body=CaptureRequest(merchant_reference=_ref(), amount="10.00", split_token=w.token)
    ),
    "capture/preAuth": lambda w: w.client.transactions.capture_pre_auth(
        w.target, body=PreAuthRequest(merchant_reference=_ref(), period=1, amount="10.00", split_token=w.token)
    ),
    "deposit": lambda w: w.client.transactions.deposit(
        w.target, body=DepositRequest(merchant_reference=_ref(), amount="10.00")
    ),
    "refund": lambda w: w.client.transactions.refund(w.target, body=RefundRequest(amount="5.00")),
    "reclaim": lambda w: w.client.transactions.reclaim(w.target, body=ReclaimRequest(amount="5.00")),
    "cancel": lambda w: w.client.transactions.cancel(w.target, body=CancelRequest()),
    "refresh": lambda w: w.client.transactions.refresh(w.target, body=RefreshRequest(split_token=w.token)),
    "dispute recovery": lambda w: w.client.disputes.recover(
        body=DisputeRecoveryRequest(transaction_id=w.target, amount="10.00"), idempotency_key=uuid.uuid4().hex
    ),
}


@dataclass(frozen=True)
class Allowed:
    """What an allowed cell leads to: a new transaction (type, status) or the target's new status."""

    new: tuple[str, str] | None = None
    target_status: str | None = None
    events: tuple[str, ...] = ()
    on_authorization: bool = False  # the new transaction hangs off the authorization, not the target


# Every (operation, state) not listed here is refused with code 200 and changes nothing.
ALLOWED: dict[tuple[str, str], Allowed] = {
    # Capture on Deferred/Recurring authorizations and on preauthorizations [doc: capture page];
    # after its period a preauthorization captures like its authorization [doc: preAuth page].
    ("capture", "Authorize Authorized"): Allowed(new=("CAPTURE", "AUTHORIZED")),
    ("capture", "Preauthorization Authorized"): Allowed(new=("CAPTURE", "AUTHORIZED")),
    ("capture", "Preauthorization Expired"): Allowed(new=("CAPTURE", "AUTHORIZED"), on_authorization=True),
    ("capture/preAuth", "Authorize Authorized"): Allowed(new=("PREAUTHORIZATION", "AUTHORIZED")),
    # Deposit on Disbursement and Deferred authorizations [doc: deposit page].
    ("deposit", "Authorize Authorized"): Allowed(new=("DEPOSIT", "AUTHORIZED")),
    ("deposit", "Disbursement Authorized"): Allowed(new=("DEPOSIT", "AUTHORIZED")),
    # Refund only once the collection is Completed [doc: refund page].
    ("refund", "Capture Completed"): Allowed(new=("REFUND", "AUTHORIZED"), events=("Refund",)),
    ("refund", "Capture PartiallyRefunded"): Allowed(new=("REFUND", "AUTHORIZED"), events=("Refund",)),
    ("refund", "Pay Completed"): Allowed(new=("REFUND", "AUTHORIZED"), events=("Refund",)),
    # Reclaim only a Completed deposit [doc: reclaim page].
    ("reclaim", "Deposit Completed"): Allowed(new=("RECLAIM", "AUTHORIZED")),
    # Cancel before processing; on an authorization it voids it [doc: cancel page].
    ("cancel", "Authorize New"): Allowed(target_status="CANCELED", events=("Cancel",)),
    ("cancel", "Authorize Authorized"): Allowed(target_status="VOIDED", events=("Cancel",)),
    ("cancel", "Authorize OnHold"): Allowed(target_status="VOIDED", events=("Cancel",)),
    ("cancel", "Disbursement Authorized"): Allowed(target_status="VOIDED", events=("Cancel",)),
    ("cancel", "Pay Authorized"): Allowed(target_status="CANCELED", events=("Cancel",)),
    ("cancel", "Preauthorization Authorized"): Allowed(target_status="CANCELED", events=("Cancel",)),
    ("cancel", "Capture Authorized"): Allowed(target_status="CANCELED", events=("Cancel",)),
    ("cancel", "Deposit Authorized"): Allowed(target_status="CANCELED", events=("Cancel",)),
    ("cancel", "Refund Authorized"): Allowed(target_status="CANCELED", events=("Cancel",)),
    # Refresh an open authorization with its split token; a Refresh event follows [doc: Refresh].
    ("refresh", "Authorize Authorized"): Allowed(events=("Refresh",)),
    ("refresh", "Disbursement Authorized"): Allowed(events=("Refresh",)),
    # Dispute recovery re-presents a returned collection [doc: Dispute event].
    ("dispute recovery", "Capture Reversed"): Allowed(new=("REPRESENTMENT", "AUTHORIZED")),
}
MATRIX = list(itertools.product(OPERATIONS, STATES))


@pytest.mark.parametrize(("operation", "state"), MATRIX, ids=[f"{o} on {s}" for o, s in MATRIX])
def test_operation_by_state(operation: str, state: str) -> None:
    w = world()
    STATES[state](w)
    before_events, before_applied = len(w.sim.ledger.events), len(w.sim.ledger.applied)
    target_before = w.raw(w.target)["status"]
    expected = ALLOWED.get((operation, state))
    if expected is None:
        with pytest.raises(trustly.BadRequestError) as refused:
            OPERATIONS[operation](w)
        assert refused.value.code == 200, refused.value
        assert w.events(before_events) == [] and len(w.sim.ledger.applied) == before_applied
        assert w.raw(w.target)["status"] == target_before
        return
    result = OPERATIONS[operation](w)
    if expected.new is not None:
        assert isinstance(result, Transaction)
        assert (result.transaction_type.name, result.status.name) == expected.new
        assert result.original_transaction_id == (w.auth if expected.on_authorization else w.target)
    if expected.target_status is not None:
        assert w.client.transactions.get(w.target).status.name == expected.target_status
    assert w.events(before_events) == list(expected.events)


# -- time -------------------------------------------------------------------------------------------
TIMED: list[tuple[str, dict[str, float], str, tuple[str, ...]]] = [
    # state, how far the clock moves, the target's status after, the events on the way
    ("Authorize New", {"minutes": 29}, "0", ()),
    ("Authorize New", {"minutes": 30}, "6", ("Expired",)),  # session timeout [doc: Expired event]
    ("Authorize Authorized", {"days": 60}, "2", ()),  # no documented authorization lifetime
    ("Capture Authorized", {"minutes": 59}, "2", ()),
    ("Capture Authorized", {"hours": 1}, "3", ("Process",)),  # ACH submission [doc: lifecycle order]
    ("Capture Authorized", {"hours": 1, "days": 3}, "4", ("Process", "Completed")),  # ACH settlement
    ("Pay Authorized", {"hours": 1, "days": 3}, "4", ("Process", "Completed")),
    ("Refund Authorized", {"hours": 1, "days": 3}, "4", ("Process", "Completed")),
    ("Deposit Authorized", {"minutes": 5}, "3", ("Process",)),  # sandbox payout batches of 300 s
    ("Preauthorization Authorized", {"minutes": 59}, "2", ()),
    ("Preauthorization Authorized", {"hours": 1}, "6", ("Expired",)),  # period=1 [doc: preAuth page]
    ("Capture Canceled", {"days": 5}, "7", ()),  # a canceled capture never settles
]


@pytest.mark.parametrize(("state", "span", "status", "events"), TIMED, ids=[f"{r[0]} +{r[1]}" for r in TIMED])
def test_time_moves_the_lifecycle(state: str, span: dict[str, float], status: str, events: tuple[str, ...]) -> None:
    w = world()
    STATES[state](w)
    before = len(w.sim.ledger.events)
    w.sim.advance(**span)
    assert w.client.transactions.get(w.target).status.value == status
    assert w.events(before) == list(events)


def test_authorizations_expire_when_the_account_says_so() -> None:
    w = world(LifecycleOptions(authorization_ttl=timedelta(days=7)))
    authorize(w)
    w.sim.advance(days=6)
    assert w.client.transactions.get(w.auth).status.name == "AUTHORIZED"
    before = len(w.sim.ledger.events)
    w.sim.advance(days=1)
    assert w.client.transactions.get(w.auth).status.name == "EXPIRED" and w.events(before) == ["Expired"]
    with pytest.raises(trustly.BadRequestError):
        capture(w)
    SIZES["authorization lifetime"] = 3


# -- helpers for the bank's side --------------------------------------------------------------------
def test_fault_scenarios_reachable_by_helper() -> None:
    w = world()
    denied = establish(w)
    redirect = w.sim.deny(denied)  # a denied authorization (SW021)
    assert w.client.verify_redirect(redirect).status.value == "8" and redirect.startswith("https://shop.example/cancel")
    assert w.raw(denied)["paymentProviderTransaction"]["status"] == "SW021"

    held = authorize(w, hold=True)  # an account on hold
    assert w.client.transactions.get(held).status.name == "ON_HOLD"
    assert w.sim.ledger.events[-1]["eventType"] == "Update"
    with pytest.raises(trustly.BadRequestError):
        capture(w)
    w.sim.release(held)
    assert w.sim.ledger.events[-1]["eventType"] == "Authorize" and w.sim.ledger.events[-1]["splitToken"] == w.token
    captured = capture(w, "40.00")

    before = len(w.sim.ledger.events)
    w.sim.advance(hours=1)
    w.sim.ach_return(captured, "R01")  # returned before completion: Failed
    assert w.client.transactions.get(captured).status.name == "FAILED"
    assert w.events(before) == ["Process", "Failed", "Dispute"]

    authorize(w)
    returned = capture(w, "30.00")
    w.sim.ach_return(returned, "R10", after=timedelta(days=5))  # an ACH return after completion
    before = len(w.sim.ledger.events)
    w.sim.advance(days=5)
    assert w.events(before) == ["Process", "Completed", "Reverse", "Dispute"]
    transaction = w.client.transactions.get(returned)
    assert transaction.status.name == "REVERSED" and str(transaction.reversed_) == "30.00"
    dispute = w.sim.ledger.events[-1]
    assert (dispute["returnType"], dispute["amountReturned"], dispute["transactionId"]) == ("R10", "30.00", returned)

    authorize(w)
    partial = capture(w, "30.00")
    w.sim.settle_all()
    w.client.transactions.refund(partial, body=RefundRequest(amount="10.00"))  # a partially refunded capture
    assert w.client.transactions.get(partial).status.name == "PARTIALLY_REFUNDED"
    w.client.transactions.refund(partial, body=RefundRequest())  # the rest
    final = w.client.transactions.get(partial)
    assert final.status.name == "REFUNDED" and str(final.refunded) == "30.00"
    SIZES["bank-side scenarios"] = 5


# -- merchantReference: unique per merchant across Pay, Authorize, Capture, Deposit ------------------
def _hold_reference(kind: str, w: World, reference: str) -> None:
    """Make a transaction of `kind` that holds `reference` (reached Authorized)."""
    if kind == "authorization":
        w.sim.authorize(establish(w, reference=reference))
        return
    authorize(w, "Deferred")
    if kind == "capture":
        capture(w, "10.00", reference)
    elif kind == "preauthorization":
        w.client.transactions.capture_pre_auth(
            w.auth, body=PreAuthRequest(merchant_reference=reference, period=1, amount="10.00", split_token=w.token)
        )
    else:
        w.client.transactions.deposit(w.auth, body=DepositRequest(merchant_reference=reference, amount="10.00"))


def _reuse_reference(kind: str, w: World, reference: str) -> object:
    """Send `reference` again with an operation of `kind`, on a different authorization."""
    if kind == "establish":
        data = w.client.sign_establish_data(
            {"merchantId": w.sim.merchant_id, "merchantReference": reference, "paymentType": "Deferred",
             "currency": "USD", "amount": "10.00", "returnUrl": "https://s.example/r", "cancelUrl": "https://s.example/c"}
        )  # fmt: skip
        return w.client.transactions.establish(body=EstablishRequest.from_dict(data))
    authorize(w, "Deferred")
    if kind == "capture":
        return capture(w, "10.00", reference)
    if kind == "capture/preAuth":
        return w.client.transactions.capture_pre_auth(
            w.auth, body=PreAuthRequest(merchant_reference=reference, period=1, amount="10.00", split_token=w.token)
        )
    if kind == "deposit":
        return w.client.transactions.deposit(w.auth, body=DepositRequest(merchant_reference=reference, amount="10.00"))
    collected = capture(w, "10.00")
    w.sim.settle_all()  # refund: exempt from the check [doc: idempotency page]
    return w.client.transactions.refund(collected, body=RefundRequest(merchant_reference=reference))


HOLDERS = ["authorization", "capture", "preauthorization", "deposit"]
REUSES = ["establish", "capture", "capture/preAuth", "deposit", "refund"]
REFERENCE_MATRIX = list(itertools.product(HOLDERS, REUSES))


@pytest.mark.parametrize(("holder", "reuse"), REFERENCE_MATRIX, ids=[f"{h} then {r}" for h, r in REFERENCE_MATRIX])
def test_a_merchant_reference_is_unique_across_transaction_types(holder: str, reuse: str) -> None:
    w = world()
    reference = _ref("shared")
    _hold_reference(holder, w, reference)
    if reuse == "refund":
        _reuse_reference(reuse, w, reference)  # refunds are not checked
        return
    with pytest.raises(trustly.DuplicateRequestError) as duplicate:
        _reuse_reference(reuse, w, reference)
    assert duplicate.value.code == 210


def test_the_quoted_reference_reproductions_are_code_210() -> None:
    w = world()
    order = _ref("order")
    w.sim.authorize(establish(w, reference=order))
    w.token = w.sim.ledger.split_tokens[w.raw(w.auth)["payment"]["paymentId"]]
    first_auth, first_token = w.auth, w.token
    cap = _ref("cap")
    capture(w, "10.00", cap)
    quoted: list[Callable[[], object]] = [
        lambda: capture(w, "10.00", order),  # a capture reusing its authorization's reference
        lambda: (authorize(w), capture(w, "10.00", cap)),  # a capture reference reused on another authorization
        lambda: (authorize(w, "Disbursement"), deposit_with(w, cap)),  # a deposit reusing a capture's reference
        lambda: establish(w, reference=cap),  # an establish reusing a capture's reference
    ]
    for call in quoted:
        w.auth, w.token = first_auth, first_token
        with pytest.raises(trustly.DuplicateRequestError):
            call()
    SIZES["quoted reference reproductions"] = len(quoted)


def deposit_with(w: World, reference: str) -> object:
    return w.client.transactions.deposit(w.auth, body=DepositRequest(merchant_reference=reference, amount="10.00"))


def test_references_that_are_free_again_or_never_taken() -> None:
    w = world()
    pending = _ref("pending")
    establish(w, reference=pending)
    establish(w, reference=pending)  # a bank authorization still pending can be reused [doc]
    voided = _ref("voided")
    w.sim.authorize(establish(w, reference=voided))
    w.client.transactions.cancel(w.auth, body=CancelRequest())
    establish(w, reference=voided)  # a canceled authorization gives its reference back [doc]
    denied = _ref("denied")
    authorize(w, password="extendedreasoncode_1")
    capture(w, "10.00", denied)
    capture(w, "10.00", denied)  # a denied capture never reached Authorized
    loose = world(LifecycleOptions(idempotency=False))  # an account set up without idempotency
    authorize(loose)
    capture(loose, "10.00", "same")
    capture(loose, "10.00", "same")
    SIZES["reference exemptions"] = 4


# -- amounts ------------------------------------------------------------------------------------------
AMOUNT_CELLS = list(itertools.product(["capture", "deposit", "refund", "reclaim"], ["0.98", "0.99"]))


@pytest.mark.parametrize(("operation", "amount"), AMOUNT_CELLS, ids=[f"{o} {a}" for o, a in AMOUNT_CELLS])
def test_the_minimum_amount_is_0_99(operation: str, amount: str) -> None:
    w = world()
    if operation in ("capture", "refund"):
        authorize(w)
        if operation == "refund":
            capture(w)
            w.sim.settle_all()
    else:
        authorize(w, "Disbursement")
        if operation == "reclaim":
            deposit(w)
            w.sim.settle_all()
    call: dict[str, Callable[[], object]] = {
        "capture": lambda: capture(w, amount),
        "deposit": lambda: deposit(w, amount),
        "refund": lambda: w.client.transactions.refund(w.target, body=RefundRequest(amount=amount)),
        "reclaim": lambda: w.client.transactions.reclaim(w.target, body=ReclaimRequest(amount=amount)),
    }
    if amount == "0.98":
        with pytest.raises(trustly.BadRequestError) as refused:
            call[operation]()
        assert refused.value.code == 200 and refused.value.errors[0].location == "amount"
    else:
        call[operation]()


TOTALS = [
    # operation, amounts in order, how many are accepted: the rest exceed the documented total
    ("capture", ["60.00", "40.00", "0.99"], 2),  # captures total at most the authorized amount
    ("deposit", ["60.00", "40.00", "0.99"], 2),  # deposits likewise [doc: deposit page]
    ("refund", ["5.00", "20.00", "20.00"], 2),  # refunds total at most the capture (40.00)
    ("reclaim", ["5.00", "15.00", "0.99"], 2),  # reclaims total at most the deposit (20.00)
    ("reclaim", ["5.00", "20.00", "20.00"], 1),  # the quoted reproduction: 45.00 from a 20.00 deposit
]


@pytest.mark.parametrize(("operation", "amounts", "accepted"), TOTALS)
def test_totals_are_limited(operation: str, amounts: list[str], accepted: int) -> None:
    w = world()
    authorize(w, "Disbursement" if operation in ("deposit", "reclaim") else "Deferred")
    if operation == "refund":
        capture(w)
        w.sim.settle_all()
    if operation == "reclaim":
        deposit(w)
        w.sim.settle_all()
    target = w.target
    outcomes = []
    for amount in amounts:
        try:
            if operation == "capture":
                capture(w, amount)
            elif operation == "deposit":
                deposit(w, amount)
            elif operation == "refund":
                w.client.transactions.refund(target, body=RefundRequest(amount=amount))
            else:
                w.client.transactions.reclaim(target, body=ReclaimRequest(amount=amount))
            outcomes.append(True)
        except trustly.BadRequestError as error:
            assert error.code == 200
            outcomes.append(False)
    assert outcomes.count(True) == accepted and outcomes[:accepted] == [True] * accepted


def test_captures_on_a_preauthorization_count_against_both_limits() -> None:
    w = world()
    authorize(w, amount="100.00")
    auth, pre = w.auth, preauth(w)  # 50.00 guaranteed for an hour
    outcomes = []
    for parent, amount in ((pre, "40.00"), (pre, "20.00"), (auth, "60.00"), (auth, "0.99")):
        w.auth = parent
        try:
            capture(w, amount)
            outcomes.append(True)
        except trustly.BadRequestError as error:
            assert error.code == 200
            outcomes.append(False)
    assert outcomes == [True, False, True, False]
    SIZES["preauthorization limits"] = len(outcomes)


# -- payment types ------------------------------------------------------------------------------------
PAYMENT_TYPES = ["Instant", "Deferred", "Recurring", "Disbursement", "Verification", "Retrieval"]
CAN = {"capture": {"Deferred", "Recurring"}, "capture/preAuth": {"Deferred", "Recurring"},
       "deposit": {"Deferred", "Disbursement"}}  # fmt: skip
TYPE_CELLS = list(itertools.product(CAN, PAYMENT_TYPES))


@pytest.mark.parametrize(("operation", "payment_type"), TYPE_CELLS, ids=[f"{o} on {p}" for o, p in TYPE_CELLS])
def test_operations_by_payment_type(operation: str, payment_type: str) -> None:
    w = world()
    authorize(w, payment_type)
    expected_type = "PAY" if payment_type == "Instant" else "AUTHORIZE"
    assert w.client.transactions.get(w.auth).transaction_type.name == expected_type  # Instant is one Pay
    if payment_type in CAN[operation]:
        assert isinstance(OPERATIONS[operation](w), Transaction)
    else:
        with pytest.raises(trustly.BadRequestError) as refused:
            OPERATIONS[operation](w)
        assert refused.value.code == 200


# -- split tokens, balance and the bank's answers ----------------------------------------------------
def test_split_token_errors_are_told_apart() -> None:
    w = world()
    authorize(w)
    own = w.token
    authorize(w)
    other = w.token
    body = {"merchant_reference": _ref(), "amount": "10.00"}
    for token, code in (("bm90LWlzc3VlZA==", 380), (own, 397)):  # unknown / another transaction's
        with pytest.raises(trustly.BadRequestError) as refused:
            w.client.transactions.capture(w.auth, body=CaptureRequest(split_token=token, **body))
        assert refused.value.code == code
    assert w.client.transactions.capture(w.auth, body=CaptureRequest(split_token=other, **body))

    expiring = world(LifecycleOptions(split_token_ttl=timedelta(days=30)))
    authorize(expiring)
    expiring.sim.advance(days=30)
    with pytest.raises(trustly.BadRequestError) as expired:
        capture(expiring)
    assert expired.value.code == 326

    keyphrase = world()
    authorize(keyphrase, password="ExpiredSplitToken")
    capture(keyphrase)  # the authorization works; later refreshes fail [3rd]
    with pytest.raises(trustly.BadRequestError) as refresh:
        keyphrase.client.transactions.refresh(keyphrase.auth, body=RefreshRequest(split_token=keyphrase.token))
    assert refresh.value.code == 326
    SIZES["split token codes"] = 4


def test_balance_comes_from_the_bank_login_and_not_enough_is_code_331() -> None:
    w = world()
    authorize(w, amount="1000.00", password="Balance120")
    assert balance(w) == Decimal("120.00")
    capture(w, "100.00")
    assert balance(w) == Decimal("20.00")
    with pytest.raises(trustly.BadRequestError) as refused:
        capture(w, "20.01")
    assert refused.value.code == 331


def test_redirects_and_notifications_carry_the_documented_fields() -> None:
    w = world()
    transaction_id = establish(w)
    params = w.client.verify_redirect(w.sim.authorize(transaction_id))
    assert params.payment.payment_provider.type_ == 1 and params.payment.account.verified is True  # type: ignore[union-attr]
    assert all(event["accessId"] == ACCESS_ID for event in w.sim.ledger.events)
    canceled = w.client.verify_redirect(w.sim.authorize(establish(w), password="LoginError"))
    assert canceled.status.value == "7"
    assert canceled.payment.payment_provider_transaction.status == "UC01"  # type: ignore[union-attr]


# -- Demo Bank keyphrases -----------------------------------------------------------------------------
KEYPHRASES: list[tuple[str, str, str]] = [
    # password (or "Sleep:<s>"), redirect status, what to check afterwards
    ("secret", "2", "balance 10000.00"),
    ("NoEligibleAccounts", "7", "UC01"), ("LoginError", "7", "UC01"), ("Unavailable", "7", "SW060"),
    ("AccountLocked", "7", "UC01"), ("BankAction", "7", "UC01"), ("ConnectError", "7", "SW053"),
    ("ConnectionError", "7", "SW053"), ("BlockedIpError", "7", "UC01"), ("ChallengeError", "7", "UC01"),
    ("TimeoutError", "7", "after 60 s"), ("WrongCredentials", "7", "UC01"), ("SessionTimeout", "7", "UC01"),
    ("NotSupported", "7", "UC01"), ("2FA", "2", "balance 10000.00"), ("2FA:error", "7", "UC01"),
    ("TestPrompts", "2", "balance 10000.00"), ("ValidRouteCodeExtra", "2", "balance 10000.00"),
    ("InvalidRouteCodeExtra", "2", "capture fails SW056"), ("InvalidAccountNumberSize", "2", "capture fails SW056"),
    ("NotEnoughFunds", "2", "balance 0.00"), ("NotEnoughFundsExtra", "2", "balance 0.00"),
    ("Balance1000", "2", "balance 1000.00"), ("ExpiredSplitToken", "2", "refresh 326"),
    ("AccFromUsername", "2", "account 123456789"), ("AccNumberNull", "2", "no account number"),
    ("Virtual", "2", "account 9990000000006"), ("extendedreasoncode_10000", "2", "capture denied SW054"),
    ("Sleep:90", "2", "after 90 s"),
]  # fmt: skip


@pytest.mark.parametrize(("password", "status", "effect"), KEYPHRASES, ids=[k[0] for k in KEYPHRASES])
def test_demo_bank_keyphrases(password: str, status: str, effect: str) -> None:
    w = world()
    transaction_id = establish(w)
    login: dict[str, str] = {"username": "keyphrase_123456789", "password": password}
    if password.startswith("2FA:"):
        login = {"password": "2FA", "mfa_answer": password.split(":")[1]}
    elif password.startswith("Sleep:"):
        login = {"username": "Sleep", "password": password.split(":")[1]}
    started = w.sim.clock.now_ms()
    params = w.client.verify_redirect(w.sim.authorize(transaction_id, **login))
    assert params.status.value == status
    raw = w.raw(transaction_id)
    payment = w.sim.ledger.payment_of(raw)
    w.token = w.sim.ledger.split_tokens.get(payment["paymentId"], w.token)
    if effect.startswith(("UC", "SW")):
        assert raw["paymentProviderTransaction"]["status"] == effect
    elif effect.startswith("after"):
        assert w.sim.clock.now_ms() - started >= int(effect.split()[1]) * 1000
    elif effect.startswith("balance"):
        assert balance(w, transaction_id) == Decimal(effect.split()[1])
    elif effect.startswith("capture"):
        made = capture(w, "10.00")
        assert (w.raw(made)["status"], w.raw(made)["paymentProviderTransaction"]["status"]) == (
            ("5", "SW056") if "fails" in effect else ("8", "SW054")
        )
    elif effect == "refresh 326":
        with pytest.raises(trustly.BadRequestError) as refused:
            w.client.transactions.refresh(transaction_id, body=RefreshRequest(split_token=w.token))
        assert refused.value.code == 326
    elif effect.startswith("account"):
        assert payment["account"]["accountNumber"] == effect.split()[1]
    else:
        assert "accountNumber" not in payment["account"]


def test_third_party_keyphrases_can_be_switched_off() -> None:
    w = world(LifecycleOptions(third_party_keyphrases=False))
    params = w.client.verify_redirect(w.sim.authorize(establish(w), password="WrongCredentials"))
    assert params.status.value == "2"  # an ordinary password once the third-party list is off
    authorize(w, password="Balance5")
    assert balance(w) == Decimal("10000.00")
    SIZES["keyphrase switch"] = 2


# -- a property: whatever a merchant does, the books stay consistent ---------------------------------
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["capture", "refund", "cancel", "advance", "return", "settle", "deposit", "reclaim"]),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["0.50", "0.99", "5.00", "20.00", "35.00", "60.00"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_any_sequence_keeps_the_books_consistent(actions: list[tuple[str, int, str]]) -> None:
    w = world()
    authorize(w, amount="100.00")
    auth = w.auth
    deferred = w.token
    authorize(w, "Disbursement", amount="50.00")
    payout = w.auth
    made: list[str] = []
    for action, index, amount in actions:
        picked = made[index % len(made)] if made else auth
        try:
            if action == "capture":
                w.auth, w.token = auth, deferred
                made.append(capture(w, amount))
            elif action == "deposit":
                w.auth = payout
                made.append(deposit(w, amount))
            elif action == "refund":
                w.client.transactions.refund(picked, body=RefundRequest(amount=amount))
            elif action == "reclaim":
                w.client.transactions.reclaim(picked, body=ReclaimRequest(amount=amount))
            elif action == "cancel":
                w.client.transactions.cancel(picked, body=CancelRequest())
            elif action == "return":
                w.sim.ach_return(picked)
            elif action == "advance":
                w.sim.advance(hours=index * 13)
            else:
                w.sim.settle_all()
        except (trustly.BadRequestError, ValueError):
            pass
    _check_books(w, auth, payout)
    SIZES["property examples (max)"] = 40


def _check_books(w: World, auth: str, payout: str) -> None:
    ledger = w.sim.ledger
    live = ("0", "1", "2", "3", "4", "10", "11", "12", "14")
    for parent, kind, limit in ((auth, "3", Decimal("100.00")), (payout, "6", Decimal("50.00"))):
        moved = [t for t in ledger.children(parent, kind) if t["status"] in live]
        assert sum(Decimal(t["amount"]) for t in moved) <= limit
    for t in ledger.transactions.values():
        amount = Decimal(t["amount"])
        if t["transactionType"] == "3":
            refunds = sum(Decimal(r["amount"]) for r in ledger.children(t["transactionId"], "4"))
            assert refunds == Decimal(t["refunded"]) <= amount
            if refunds and t["status"] != "10":
                assert t["status"] == ("12" if refunds == amount else "11")
        if t["transactionType"] == "6":
            assert sum(Decimal(r["amount"]) for r in ledger.children(t["transactionId"], "7")) <= amount
        if t["status"] == "4":
            assert t["processedAt"] <= t["completedAt"]
        if t["transactionType"] in ("4", "7") and t["status"] in ("3", "4"):
            assert ledger.transactions[t["originalTransactionId"]]["status"] in ("4", "10", "11", "12")
    applied = [(op, tid) for op, tid, _ in ledger.applied]
    assert len(applied) == len(set(applied))


def test_report_the_size_of_the_lifecycle_suite() -> None:
    from trustly.testing._lifecycle import TRANSITIONS, find_rule

    used = set()
    for sim in WORLDS:
        for transaction_id, trigger, source, _ in sim.ledger.history:
            used.add(find_rule(trigger, sim.ledger.transactions[transaction_id]["transactionType"], source))
    unused = [rule for rule in TRANSITIONS if rule not in used]
    assert unused == [], "every row of the lifecycle table is exercised by this suite"

    figures = {
        "operation x state": len(MATRIX),
        "timed transitions": len(TIMED),
        "reference uniqueness": len(REFERENCE_MATRIX),
        "minimum amounts": len(AMOUNT_CELLS),
        "totals": len(TOTALS),
        "payment types": len(TYPE_CELLS),
        "Demo Bank keyphrases": len(KEYPHRASES),
        **SIZES,
    }
    REPORT.append(
        f"lifecycle: {len(TRANSITIONS)} table rows, all exercised; {sum(figures.values())} checks: "
        + ", ".join(f"{name} {count}" for name, count in figures.items())
    )
    assert len(MATRIX) == len(OPERATIONS) * len(STATES)
