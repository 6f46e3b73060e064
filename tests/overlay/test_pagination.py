"""Auto-paging over count/startIndex on httpx.MockTransport."""

from __future__ import annotations

import httpx
import pytest

import trustly
from tests.overlay.conftest import make_async_client, make_client
from trustly.models import TransactionStatus


def _tx(i: int) -> dict[str, object]:
    return {"transactionId": str(i), "transactionType": "1", "status": "2", "createdAt": 1_700_000_000_000 + i}


class Ledger:
    """A fake list endpoint over `total` transactions; `inserted` arrive after the first page."""

    def __init__(self, total: int, inserted: int = 0) -> None:
        self.records = [_tx(i) for i in range(total, 0, -1)]  # newest first
        self.inserted = inserted
        self.calls: list[httpx.QueryParams] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        self.calls.append(params)
        start, count = int(params["startIndex"]), int(params["count"])
        page = self.records[start : start + count]
        if len(self.calls) == 1 and self.inserted:
            newest = int(self.records[0]["transactionId"])  # type: ignore[arg-type]
            self.records[:0] = [_tx(newest + i) for i in range(self.inserted, 0, -1)]
        key = request.url.path.rsplit("/", 1)[-1]
        if key == "payments":
            page = [{"paymentId": r["transactionId"], "paymentType": "2"} for r in page]
        if key == "paymentProviders":
            page = [{"paymentProviderId": r["transactionId"]} for r in page]
        return httpx.Response(200, json={key: page})


def test_list_all_walks_every_page_and_stops_on_a_short_one() -> None:
    ledger = Ledger(250)
    client = make_client(ledger)
    ids = [t.transaction_id for t in client.transactions.list_all(page_size=100)]
    assert ids == [str(i) for i in range(250, 0, -1)]
    assert [(c["startIndex"], c["count"]) for c in ledger.calls] == [("0", "100"), ("100", "100"), ("200", "100")]


def test_an_exact_multiple_ends_with_one_empty_page() -> None:
    ledger = Ledger(200)
    assert len(list(make_client(ledger).transactions.list_all(page_size=100))) == 200
    assert len(ledger.calls) == 3


def test_max_items_is_separate_from_page_size() -> None:
    ledger = Ledger(1000)
    items = list(make_client(ledger).transactions.list_all(page_size=25, max_items=60))
    assert len(items) == 60 and len(ledger.calls) == 3
    assert list(make_client(Ledger(5)).transactions.list_all(max_items=0)) == []


def test_filters_are_passed_on_every_page() -> None:
    ledger = Ledger(30)
    list(make_client(ledger).transactions.list_all(page_size=10, transaction_status=[TransactionStatus.AUTHORIZED]))
    assert all(c.get_list("transactionStatus") == ["2"] for c in ledger.calls)


def test_records_shifted_across_a_page_boundary_are_not_repeated() -> None:
    ledger = Ledger(30, inserted=3)
    ids = [t.transaction_id for t in make_client(ledger).transactions.list_all(page_size=10)]
    assert len(ids) == len(set(ids)), "no duplicates"
    assert ids[:10] == [str(i) for i in range(30, 20, -1)]
    assert set(ids) == {str(i) for i in range(1, 31)}


def test_pages_for_manual_paging() -> None:
    client = make_client(Ledger(25))
    pages = list(client.transactions.pages(page_size=10, start_index=5))
    assert [(p.start_index, len(p.items), p.next_start_index) for p in pages] == [
        (5, 10, 15),
        (15, 10, 25),
        (25, 0, None),
    ]
    assert isinstance(pages[0], trustly.Page)


def test_payments_and_payment_providers() -> None:
    client = make_client(Ledger(7))
    assert [p.payment_id for p in client.payments.list_all(page_size=3)] == [str(i) for i in range(7, 0, -1)]
    assert len(list(client.payment_providers.list_all(page_size=3))) == 7


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"page_size": 0}, "page_size"), ({"page_size": 101}, "page_size"), ({"max_items": -1}, "max_items"),
     ({"start_index": -5}, "start_index")],
)  # fmt: skip
def test_bad_paging_arguments(kwargs: dict[str, int], field: str) -> None:
    client = make_client(Ledger(1))
    with pytest.raises(trustly.InvalidRequestError) as caught:
        list(client.transactions.list_all(**kwargs))
    assert caught.value.field == field


def test_the_plain_list_operation_is_still_there() -> None:
    client = make_client(Ledger(3))
    assert len(client.transactions.list(start_index=0, count=10).transactions) == 3


@pytest.mark.anyio
async def test_async_list_all_and_pages() -> None:
    ledger = Ledger(23, inserted=2)
    async with make_async_client(ledger) as client:
        ids = [t.transaction_id async for t in client.transactions.list_all(page_size=10)]
        assert len(ids) == len(set(ids)) == 23
        pages = [p async for p in client.payments.pages(page_size=10)]
        assert [len(p.items) for p in pages] == [10, 10, 5]
        limited = [p async for p in client.payment_providers.list_all(page_size=4, max_items=5)]
        assert len(limited) == 5
