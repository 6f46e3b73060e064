"""Every operation of the spec, called through the client against the simulator, answers 2xx and parses."""

from __future__ import annotations

import pytest

import trustly
from trustly.models import CustomerInput, DepositRequest
from trustly.testing import Simulator
from trustly_api_client.operations import OPERATIONS

from ..contract.calls import Ids, every_operation
from .flows import authorized, captured, establish

pytestmark = pytest.mark.integration


def simulator_ids(client: trustly.TrustlyClient, sim: Simulator) -> Ids:
    authorization, token = authorized(client, sim, amount="1000.00")
    disbursement, _ = authorized(client, sim, amount="50.00", payment_type="Disbursement")
    deposit = client.transactions.deposit(disbursement, body=DepositRequest(merchant_reference="dep-0", amount="20.00"))
    to_cancel, _ = establish(client, sim)
    customer = client.customers.create(body=CustomerInput(external_id="ids-customer", name="Ada"))
    returned = captured(client, sim).transaction_id
    sim.ach_return(returned, "R01")  # dispute recovery re-presents a returned collection
    ids = Ids(
        merchant_id=sim.merchant_id,
        authorization=authorization,
        split_token=token,
        capture=returned,
        capture_to_refund=captured(client, sim).transaction_id,
        disbursement=disbursement,
        deposit=deposit.transaction_id,
        pre_authorization=authorization,
        to_cancel=to_cancel,
        customer=customer.customer.customer_id,
        payment=sim.ledger.transactions[authorization]["payment"]["paymentId"],
        establish=client.sign_establish_data(
            {
                "merchantId": sim.merchant_id,
                "merchantReference": "every-op",
                "currency": "USD",
                "amount": "10.00",
                "paymentType": "Deferred",
                "returnUrl": "https://s.example/r",
                "cancelUrl": "https://s.example/c",
            }
        ),
    )
    sim.settle_all()
    assert sim.split_token(authorization) == token
    return ids


def test_every_operation_succeeds_against_the_simulator(client: trustly.TrustlyClient, sim: Simulator) -> None:
    calls = every_operation(client, simulator_ids(client, sim))
    assert set(calls) == set(OPERATIONS), "the call table must cover the spec"
    failures = {}
    for operation_id, call in calls.items():
        try:
            result = call()
        except trustly.TrustlyError as error:
            failures[operation_id] = str(error)
            continue
        assert result is not None
    assert failures == {}
    applied = [op for op, _, _ in sim.ledger.applied]
    assert len(applied) == len(set(zip(applied, [t for _, t, _ in sim.ledger.applied], strict=True)))
