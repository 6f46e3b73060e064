"""The list resources of both clients with `list_all` and `pages` added (see `_pagination`).

Imported on first access to `client.transactions` / `payments` / `payment_providers`, because
the generated resources load their models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from trustly_api_client.api.payment_providers import AsyncPaymentProviders, PaymentProviders
from trustly_api_client.api.payments import AsyncPayments, Payments
from trustly_api_client.api.transactions import AsyncTransactions, Transactions
from trustly_api_client.types import Unset

from ._pagination import MAX_PAGE_SIZE, Page, aiterate, apages, check_paging, iterate, pages

if TYPE_CHECKING:
    from trustly_api_client.models import Payment, PaymentProvider, Transaction

T = TypeVar("T")


def _items(listed: list[T] | Unset) -> list[T]:
    """A page's items; Trustly may leave the list out of an empty page, which ends the paging."""
    return listed if isinstance(listed, list) else []


__all__ = [
    "AsyncPaymentProvidersResource",
    "AsyncPaymentsResource",
    "AsyncTransactionsResource",
    "PaymentProvidersResource",
    "PaymentsResource",
    "TransactionsResource",
]


def _transaction_id(t: Transaction) -> object:
    return t.transaction_id


def _payment_id(p: Payment) -> object:
    return p.payment_id


def _provider_id(p: PaymentProvider) -> object:
    return p.payment_provider_id if isinstance(p.payment_provider_id, str) else id(p)


class TransactionsResource(Transactions):
    """`client.transactions`, with auto-paging. Filters are those of `list`."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Any
    ) -> Iterator[Page[Transaction]]:
        """Each page in turn, starting at `start_index`."""
        check_paging(page_size, None, start_index)
        return pages(
            lambda s, c: _items(self.list(start_index=s, count=c, **filters).transactions), page_size, start_index
        )

    def list_all(
        self, *, page_size: int = MAX_PAGE_SIZE, max_items: int | None = None, start_index: int = 0, **filters: Any
    ) -> Iterator[Transaction]:
        """Every matching transaction, fetching `page_size` at a time, up to `max_items` in all."""
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).transactions)  # noqa: E731
        return iterate(fetch, _transaction_id, page_size, max_items, start_index)


class PaymentsResource(Payments):
    """`client.payments`, with auto-paging. Filters are those of `list`."""

    def pages(self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Any) -> Iterator[Page[Payment]]:
        check_paging(page_size, None, start_index)
        return pages(lambda s, c: self.list(start_index=s, count=c, **filters).payments, page_size, start_index)

    def list_all(
        self, *, page_size: int = MAX_PAGE_SIZE, max_items: int | None = None, start_index: int = 0, **filters: Any
    ) -> Iterator[Payment]:
        fetch = lambda s, c: self.list(start_index=s, count=c, **filters).payments  # noqa: E731
        return iterate(fetch, _payment_id, page_size, max_items, start_index)


class PaymentProvidersResource(PaymentProviders):
    """`client.payment_providers`, with auto-paging. Filters are those of `list`."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Any
    ) -> Iterator[Page[PaymentProvider]]:
        check_paging(page_size, None, start_index)
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).payment_providers)  # noqa: E731
        return pages(fetch, page_size, start_index)

    def list_all(
        self, *, page_size: int = MAX_PAGE_SIZE, max_items: int | None = None, start_index: int = 0, **filters: Any
    ) -> Iterator[PaymentProvider]:
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).payment_providers)  # noqa: E731
        return iterate(fetch, _provider_id, page_size, max_items, start_index)


class AsyncTransactionsResource(AsyncTransactions):
    """`client.transactions` of the async client, with auto-paging."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Any
    ) -> AsyncIterator[Page[Transaction]]:
        check_paging(page_size, None, start_index)

        async def fetch(s: int, c: int) -> list[Transaction]:
            return _items((await self.list(start_index=s, count=c, **filters)).transactions)

        return apages(fetch, page_size, start_index)

    def list_all(
        self, *, page_size: int = MAX_PAGE_SIZE, max_items: int | None = None, start_index: int = 0, **filters: Any
    ) -> AsyncIterator[Transaction]:
        async def fetch(s: int, c: int) -> list[Transaction]:
            return _items((await self.list(start_index=s, count=c, **filters)).transactions)

        return aiterate(fetch, _transaction_id, page_size, max_items, start_index)


class AsyncPaymentsResource(AsyncPayments):
    """`client.payments` of the async client, with auto-paging."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Any
    ) -> AsyncIterator[Page[Payment]]:
        check_paging(page_size, None, start_index)

        async def fetch(s: int, c: int) -> list[Payment]:
            return (await self.list(start_index=s, count=c, **filters)).payments

        return apages(fetch, page_size, start_index)

    def list_all(
        self, *, page_size: int = MAX_PAGE_SIZE, max_items: int | None = None, start_index: int = 0, **filters: Any
    ) -> AsyncIterator[Payment]:
        async def fetch(s: int, c: int) -> list[Payment]:
            return (await self.list(start_index=s, count=c, **filters)).payments

        return aiterate(fetch, _payment_id, page_size, max_items, start_index)


class AsyncPaymentProvidersResource(AsyncPaymentProviders):
    """`client.payment_providers` of the async client, with auto-paging."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Any
    ) -> AsyncIterator[Page[PaymentProvider]]:
        check_paging(page_size, None, start_index)

        async def fetch(s: int, c: int) -> list[PaymentProvider]:
            return _items((await self.list(start_index=s, count=c, **filters)).payment_providers)

        return apages(fetch, page_size, start_index)

    def list_all(
        self, *, page_size: int = MAX_PAGE_SIZE, max_items: int | None = None, start_index: int = 0, **filters: Any
    ) -> AsyncIterator[PaymentProvider]:
        async def fetch(s: int, c: int) -> list[PaymentProvider]:
            return _items((await self.list(start_index=s, count=c, **filters)).payment_providers)

        return aiterate(fetch, _provider_id, page_size, max_items, start_index)
