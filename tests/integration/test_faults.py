"""Fault injection: every money-moving POST x every way a request can fail, against the simulator.

The simulator's own record (`ledger.applied`) must show each request applied at most once, and
the client must either return the result or raise a typed error, AmbiguousOutcomeError where
the outcome is unknown; `reconcile` must then tell the truth.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

import trustly
from trustly.models import (
    CancelRequest,
    CaptureRequest,
    DepositRequest,
    DisputeRecoveryRequest,
    PreAuthRequest,
    ReclaimRequest,
    RefundRequest,
)
from trustly.testing import Fault, Simulator, SimulatorServer

from ..conftest import REPORT
from .conftest import ACCESS_ID, ACCESS_KEY, REALISM
from .flows import authorized, captured, establish

pytestmark = pytest.mark.integration

FAULTS = {
    "reset before applying": Fault.drop_before_applying(),
    "reset after applying": Fault.drop_after_applying(),
    "read timeout": Fault.delay(1.0),
    "500": Fault.status(500),
    "503 + Retry-After": Fault.status(503, retry_after=0.05),
}

Scenario = Callable[[trustly.TrustlyClient, Simulator], Callable[[trustly.TrustlyClient], object]]


def _ref() -> str:
    return f"ref-{uuid.uuid4().hex[:10]}"


def capture(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    transaction_id, token = authorized(client, sim)
    body = CaptureRequest(merchant_reference=_ref(), amount="10.00", split_token=token)
    return lambda c: c.transactions.capture(transaction_id, body=body)


def capture_pre_auth(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    transaction_id, token = authorized(client, sim)
    body = PreAuthRequest(merchant_reference=_ref(), period=1, amount="10.00", split_token=token)
    return lambda c: c.transactions.capture_pre_auth(transaction_id, body=body)


def deposit(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    transaction_id, _ = authorized(client, sim, payment_type="Disbursement")
    body = DepositRequest(merchant_reference=_ref(), amount="10.00")
    return lambda c: c.transactions.deposit(transaction_id, body=body)


def refund(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    original = captured(client, sim).transaction_id
    body = RefundRequest(merchant_reference=_ref(), amount="5.00")
    return lambda c: c.transactions.refund(original, body=body)


def reclaim(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    transaction_id, _ = authorized(client, sim, payment_type="Disbursement")
    made = client.transactions.deposit(transaction_id, body=DepositRequest(merchant_reference=_ref(), amount="10.00"))
    sim.settle_all()
    body = ReclaimRequest(merchant_reference=_ref(), amount="5.00")
    return lambda c: c.transactions.reclaim(made.transaction_id, body=body)


def cancel(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    transaction_id, _ = establish(client, sim)
    return lambda c: c.transactions.cancel(transaction_id, body=CancelRequest(merchant_reference=_ref()))


def recover(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    original = captured(client, sim).transaction_id
    body = DisputeRecoveryRequest(transaction_id=original, amount="5.00")
    key = uuid.uuid4().hex
    return lambda c: c.disputes.recover(body=body, idempotency_key=key)


OPERATIONS: dict[str, Scenario] = {
    "transactions_capture": capture,
    "transactions_capture_pre_auth": capture_pre_auth,
    "transactions_deposit": deposit,
    "transactions_refund": refund,
    "transactions_reclaim": reclaim,
    "transactions_cancel": cancel,
    "disputes_recover": recover,
}


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Simulator, SimulatorServer]]:
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, time_scale=0.001, realism=REALISM)
    with SimulatorServer(sim) as server:
        yield sim, server
    sim.close()


def test_fault_matrix(running: tuple[Simulator, SimulatorServer], monkeypatch: pytest.MonkeyPatch) -> None:
    sim, server = running
    # Backoff waits are not what this suite measures; keep them short.
    monkeypatch.setattr("trustly._retries.RetryPolicy.delay", lambda self, attempt, retry_after: 0.01)
    outcomes: Counter[str] = Counter()
    duplicates = 0
    rows = []
    with trustly.TrustlyClient(
        base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, timeout=0.5, deadline=20
    ) as client:
        for operation_id, prepare in OPERATIONS.items():
            for fault_name, fault in FAULTS.items():
                call = prepare(client, sim)
                before = len(sim.ledger.applied)
                sim.faults.add(operation_id, fault)
                try:
                    call(client)
                    outcome = "returned"
                except trustly.AmbiguousOutcomeError as error:
                    outcome = "ambiguous"
                    if error.merchant_reference is not None and operation_id != "transactions_cancel":
                        found = client.reconcile(error)
                        truly_applied = any(op == operation_id for op, _, _ in sim.ledger.applied[before:])
                        assert (found is not None) == truly_applied, (operation_id, fault_name)
                except trustly.TrustlyError as error:
                    outcome = type(error).__name__
                sim.faults.clear()
                applied = [op for op, _, _ in sim.ledger.applied[before:] if op == operation_id]
                duplicates += max(0, len(applied) - 1)
                outcomes[outcome] += 1
                rows.append(f"  {operation_id:<32} {fault_name:<22} applied {len(applied)}  {outcome}")
                retry_class = trustly_api_client_retry(operation_id)
                if retry_class != "unsafe":
                    assert outcome == "returned" and len(applied) == 1, (operation_id, fault_name, outcome)
                else:
                    expected = "returned" if fault_name == "never" else "ambiguous"
                    assert outcome == expected and len(applied) <= 1, (operation_id, fault_name, outcome)
    total = len(OPERATIONS) * len(FAULTS)
    REPORT.append(f"fault injection: {total} scenarios, duplicates found: {duplicates}, outcomes: {dict(outcomes)}")
    REPORT.extend(rows)
    assert duplicates == 0


def trustly_api_client_retry(operation_id: str) -> str:
    from trustly_api_client.operations import OPERATIONS as TABLE

    return TABLE[operation_id].retry.value
