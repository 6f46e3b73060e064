"""Fault injection: every money-moving POST x every way a request can fail, against the simulator.

The simulator's own record (`ledger.applied`) must show each request applied at most once, and
the client must either return the result or raise a typed error, AmbiguousOutcomeError where
the outcome is unknown; `reconcile` must then tell the truth. Every fault runs against both
account settings (`unique_merchant_references` True and False), and an `AsyncTrustlyClient`
reused across event loops runs every operation once more.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import trustly
import trustly._client as trustly_client
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

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
HUGE_CODE = b'{"errors": [{"code": ' + b"7" * 5000 + b', "message": "huge"}]}'

FAULTS = {
    "reset before applying": Fault.drop_before_applying(),
    "reset after applying": Fault.drop_after_applying(),
    "read timeout": Fault.delay(1.0),
    "500": Fault.status(500),
    "503 + Retry-After": Fault.status(503, retry_after=0.05),
    "corrupt encoding": Fault.corrupt_encoding(),
    "drip": Fault.drip(0.05),
    "deep body": Fault.answer(500, DEEP_JSON),
    "huge code": Fault.answer(500, HUGE_CODE),
}
DRIP_DEADLINE = 1.0  # the drip would take far longer; the call must end at its deadline

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
    sim.ach_return(original, "R01")  # only a returned collection can be recovered
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
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, realism=REALISM)
    with SimulatorServer(sim) as server:
        yield sim, server
    sim.close()


def _expected(operation_id: str, fault_name: str, unique_references: bool, applied_by_fault: bool) -> str:
    """The one right outcome of a scenario."""
    retry_class = trustly_api_client_retry(operation_id)
    if retry_class == "unsafe" or fault_name == "drip":
        return "ambiguous"  # unsafe: never resent; drip: the deadline leaves no time to retry or read
    if operation_id == "disputes_recover" or unique_references:
        return "returned"  # retried: the Idempotency-Key or the account's merchantReference check dedups
    # read-before-retry: the transaction is returned if the failed attempt created it
    return "returned" if applied_by_fault else "ambiguous"


def _run(call: Callable[[], object]) -> tuple[str, BaseException | None]:
    try:
        call()
    except trustly.AmbiguousOutcomeError as error:
        return "ambiguous", error
    except trustly.TrustlyError as error:
        return type(error).__name__, error
    except Exception as error:  # the invariant under test: nothing untyped escapes
        return f"UNTYPED {type(error).__name__}", error
    return "returned", None


Runner = Callable[[Callable[[Any], object], float | None], object]
"""Makes one call (`call(client)`) on a client under test, with another deadline if given."""


def _sync_runner(client: trustly.TrustlyClient) -> Runner:
    def run(call: Callable[[Any], object], deadline: float | None) -> object:
        return call(client if deadline is None else client.with_options(deadline=deadline))

    return run


def _async_runner(client: trustly.AsyncTrustlyClient) -> Runner:
    # Each call on a new event loop, as a worker pool of short asyncio.run()s would make them.
    def run(call: Callable[[Any], object], deadline: float | None) -> object:
        caller = client if deadline is None else client.with_options(deadline=deadline)
        return asyncio.run(call(caller))  # type: ignore[arg-type]

    return run


def _matrix(
    sim: Simulator, setup: trustly.TrustlyClient, runner: Runner, unique_references: bool, label: str
) -> tuple[Counter[str], list[str], int, int, float]:
    """Every operation x every fault through `runner`: outcomes, rows, duplicates, untyped, longest drip."""
    outcomes: Counter[str] = Counter()
    rows: list[str] = []
    duplicates = untyped = 0
    longest_drip = 0.0
    for operation_id, prepare in OPERATIONS.items():
        for fault_name, fault in FAULTS.items():
            call = prepare(setup, sim)
            before = len(sim.ledger.applied)
            sim.faults.add(operation_id, fault)
            started = time.monotonic()
            deadline = DRIP_DEADLINE if fault_name == "drip" else None
            outcome, error = _run(lambda: runner(call, deadline))  # noqa: B023 - called at once
            if fault_name == "drip":
                longest_drip = max(longest_drip, time.monotonic() - started)
            sim.faults.clear()
            applied = [op for op, _, _ in sim.ledger.applied[before:] if op == operation_id]
            if isinstance(error, trustly.AmbiguousOutcomeError) and operation_id != "transactions_cancel":
                if error.merchant_reference is not None:
                    assert (setup.reconcile(error) is not None) == bool(applied), (operation_id, fault_name)
            duplicates += max(0, len(applied) - 1)
            untyped += outcome.startswith("UNTYPED")
            outcomes[outcome] += 1
            rows.append(f"  {operation_id:<30} {fault_name:<22} {label:<20} applied {len(applied)}  {outcome}")
            expected = _expected(operation_id, fault_name, unique_references, fault.applies_request)
            assert outcome == expected and len(applied) <= 1, (operation_id, fault_name, label, outcome)
            if outcome == "returned":
                assert len(applied) == 1, (operation_id, fault_name, label)
    return outcomes, rows, duplicates, untyped, longest_drip


def _client_options(server: SimulatorServer, unique_references: bool) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "access_id": ACCESS_ID,
        "access_key": ACCESS_KEY,
        "timeout": 0.5,
        "deadline": 20,
        "unique_merchant_references": unique_references,
    }


@pytest.fixture
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Backoff waits are not what this suite measures; keep them short.
    monkeypatch.setattr("trustly._retries.RetryPolicy.delay", lambda self, attempt, retry_after: 0.01)


@pytest.mark.usefixtures("short_backoff")
def test_fault_matrix(running: tuple[Simulator, SimulatorServer]) -> None:
    sim, server = running
    outcomes: Counter[str] = Counter()
    rows: list[str] = []
    duplicates = untyped = 0
    longest_drip = 0.0
    for unique_references in (True, False):
        setting = "unique refs" if unique_references else "unknown refs"
        with trustly.TrustlyClient(**_client_options(server, unique_references)) as client:
            found = _matrix(sim, client, _sync_runner(client), unique_references, setting)
        outcomes += found[0]
        rows += found[1]
        duplicates, untyped, longest_drip = duplicates + found[2], untyped + found[3], max(longest_drip, found[4])
    loop_changes = _loop_change(sim, server, outcomes, rows)
    total = 2 * len(OPERATIONS) * len(FAULTS) + loop_changes
    REPORT.append(
        f"fault injection: {total} scenarios ({len(OPERATIONS)} operations x {len(FAULTS)} faults x 2 account "
        f"settings + {loop_changes} event-loop changes), duplicates found: {duplicates}, untyped exceptions: "
        f"{untyped}, longest drip with a {DRIP_DEADLINE:g} s deadline: {longest_drip:.1f} s, outcomes: {dict(outcomes)}"
    )
    REPORT.extend(rows)
    assert duplicates == 0 and untyped == 0
    assert longest_drip < DRIP_DEADLINE + 2.0, longest_drip  # a correctness bound, see DEADLINE_BOUND


@pytest.mark.usefixtures("short_backoff")
@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_async_fault_matrix(running: tuple[Simulator, SimulatorServer], backend: trustly_client.Backend) -> None:
    """The same matrix through AsyncTrustlyClient on each backend, over real sockets.

    One account setting (the default, which reads before retrying) keeps the suite short; the
    other setting's rules are the sender's, shared by every backend and covered above.
    """
    sim, server = running
    with trustly.TrustlyClient(**_client_options(server, False)) as setup:
        client = trustly.AsyncTrustlyClient(**_client_options(server, False), backend=backend)
        outcomes, rows, duplicates, untyped, longest_drip = _matrix(
            sim, setup, _async_runner(client), False, f"async {backend}"
        )
    REPORT.append(
        f"fault injection, async on {backend}: {len(OPERATIONS) * len(FAULTS)} scenarios ({len(OPERATIONS)} "
        f"operations x {len(FAULTS)} faults, each call on a new event loop), duplicates found: {duplicates}, "
        f"untyped exceptions: {untyped}, longest drip: {longest_drip:.1f} s, outcomes: {dict(outcomes)}"
    )
    REPORT.extend(rows)
    assert duplicates == 0 and untyped == 0
    assert longest_drip < DRIP_DEADLINE + 2.0, longest_drip  # a correctness bound, see DEADLINE_BOUND


def _loop_change(sim: Simulator, server: SimulatorServer, outcomes: Counter[str], rows: list[str]) -> int:
    """An AsyncTrustlyClient reused across two asyncio.run() calls: the second must work normally."""
    count = 0
    with trustly.TrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY) as setup:
        client = trustly.AsyncTrustlyClient(base_url=server.base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY)
        for operation_id, prepare in OPERATIONS.items():
            call = prepare(setup, sim)

            async def first_loop() -> None:
                await client.countries.list()

            async def second_loop() -> object:
                return await call(client)  # type: ignore[arg-type]  # noqa: B023 - awaited at once

            asyncio.run(first_loop())
            before = len(sim.ledger.applied)
            outcome, _ = _run(lambda: asyncio.run(second_loop()))
            applied = [op for op, _, _ in sim.ledger.applied[before:] if op == operation_id]
            outcomes[outcome] += 1
            rows.append(f"  {operation_id:<30} {'loop change':<22} {'async':<12} applied {len(applied)}  {outcome}")
            assert outcome == "returned" and len(applied) == 1, (operation_id, outcome)
            count += 1
    return count


def trustly_api_client_retry(operation_id: str) -> str:
    from trustly_api_client.operations import OPERATIONS as TABLE

    return TABLE[operation_id].retry.value


# -- the deadline bounds the whole call -----------------------------------------------------------
DEADLINE = 1.0
DEADLINE_BOUND = 3.0  # a correctness bound, not a speed figure: without it these calls take 4-5 s
DEADLINE_FAULTS = {
    "drip status line": Fault.drip_status_line(0.05),
    "drip headers": Fault.drip_headers(0.05),
    "stall after headers": Fault.stall_after_headers(3.0),
    "drip body": Fault.drip(0.05),
}


def get(client: trustly.TrustlyClient, sim: Simulator) -> Callable[[trustly.TrustlyClient], object]:
    transaction_id = captured(client, sim).transaction_id
    return lambda c: c.transactions.get(transaction_id)


DEADLINE_OPERATIONS: dict[str, Scenario] = {
    "transactions_get": get,  # safe
    "disputes_recover": recover,  # idempotent (Idempotency-Key)
    "transactions_capture": capture,  # idempotent by account (read before retry)
    "transactions_refund": refund,  # unsafe
}


def _client_sockets(server: SimulatorServer) -> int:
    """Sockets of this process connected to the simulator from the client side."""
    import psutil

    port = int(server.base_url.rsplit(":", 1)[1].split("/", 1)[0])
    connections = psutil.Process().net_connections(kind="tcp")
    return sum(1 for c in connections if c.raddr and c.raddr.port == port and c.laddr.port != port)


def _timed(call: Callable[[], object]) -> tuple[str, float]:
    started = time.monotonic()
    outcome, _ = _run(call)
    return outcome, time.monotonic() - started


async def _timed_async(call: Callable[[], Awaitable[object]]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        await call()
    except trustly.AmbiguousOutcomeError:
        outcome = "ambiguous"
    except trustly.TrustlyError as error:
        outcome = type(error).__name__
    except Exception as error:  # the invariant under test: nothing untyped escapes
        outcome = f"UNTYPED {type(error).__name__}"
    else:
        outcome = "returned"
    return outcome, time.monotonic() - started


def test_the_deadline_bounds_every_part_of_an_answer(running: tuple[Simulator, SimulatorServer]) -> None:
    """Dripped status lines, dripped headers, stalled and dripped bodies: every call ends by its deadline.

    Each byte arrives well within the read timeout, so only the whole call's deadline can end
    these calls. Sync and async, one operation per retry class; the scenarios of each client run
    at once, each timed on its own.
    """
    sim, server = running
    options: dict[str, Any] = {"base_url": server.base_url, "access_id": ACCESS_ID, "access_key": ACCESS_KEY}
    cases = [(op, fault) for op in DEADLINE_OPERATIONS for fault in DEADLINE_FAULTS]
    backends: tuple[trustly_client.Backend, ...] = ("httpx", "aiohttp")
    with trustly.TrustlyClient(**options) as setup:
        sync_calls = [DEADLINE_OPERATIONS[op](setup, sim) for op, _ in cases]
        async_calls = {backend: [DEADLINE_OPERATIONS[op](setup, sim) for op, _ in cases] for backend in backends}
    for op, fault_name in cases:
        # one for the sync call, one for the async call on each backend
        sim.faults.add(op, DEADLINE_FAULTS[fault_name], times=1 + len(backends))
    before = len(sim.ledger.applied)

    with trustly.TrustlyClient(**options, timeout=5, deadline=DEADLINE) as client:
        with ThreadPoolExecutor(len(cases)) as pool:
            sync_results = list(pool.map(lambda call: _timed(lambda: call(client)), sync_calls))
        sync_sockets = _client_sockets(server)

    async def run_async(backend: trustly_client.Backend) -> tuple[list[tuple[str, float]], int]:
        async with trustly.AsyncTrustlyClient(**options, timeout=5, deadline=DEADLINE, backend=backend) as client:
            # A scenario's call on an async client returns the coroutine to await.
            calls: list[Callable[[], Any]] = [functools.partial(call, client) for call in async_calls[backend]]
            results = await asyncio.gather(*(_timed_async(call) for call in calls))
            return list(results), _client_sockets(server)

    runs: list[tuple[str, list[tuple[str, float]]]] = [("sync", sync_results)]
    async_sockets = 0
    for backend in backends:
        results, sockets = asyncio.run(run_async(backend))
        runs.append((backend, results))
        async_sockets += sockets
    sim.faults.clear()
    applied = Counter(op for op, _, _ in sim.ledger.applied[before:])

    rows, longest, untyped = [], 0.0, 0
    for kind, results in runs:
        for (op, fault_name), (outcome, elapsed) in zip(cases, results, strict=True):
            rows.append(f"  {kind:<7} {op:<22} {fault_name:<20} {elapsed:4.2f} s  {outcome}")
            longest = max(longest, elapsed)
            untyped += outcome.startswith("UNTYPED")
            expected = "APITimeoutError" if op == "transactions_get" else "ambiguous"
            assert outcome == expected, (kind, op, fault_name, outcome)
            assert elapsed < DEADLINE_BOUND, (kind, op, fault_name, elapsed)
    # Each money-moving scenario's request was applied once (by the fault), never resent.
    for op in DEADLINE_OPERATIONS:
        if op != "transactions_get":
            assert applied[op] == len(runs) * len(DEADLINE_FAULTS), (op, applied[op])
    assert (sync_sockets, async_sockets, untyped) == (0, 0, 0), "a timed-out connection was left open"
    REPORT.append(
        f"deadline faults: {len(runs) * len(cases)} scenarios ({len(DEADLINE_OPERATIONS)} operations, one or more per "
        f"retry class x {len(DEADLINE_FAULTS)} faults x sync / async on httpx / async on aiohttp), {DEADLINE:g} s "
        f"deadline: longest call {longest:.2f} s "
        f"(bound {DEADLINE_BOUND:g} s), untyped exceptions: {untyped}, "
        f"connections left open: {sync_sockets + async_sockets}"
    )
    REPORT.extend(rows)
