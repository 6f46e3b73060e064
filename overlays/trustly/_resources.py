"""The list resources of both clients with `list_all` and `pages` added (see `_pagination`).

Imported on first access to `client.transactions` / `payments` / `payment_providers`, because
the generated resources load their models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from trustly_api_client.api.payment_providers import (
    AsyncPaymentProviders,
    PaymentProviders,
    PaymentProvidersListFilters,
)
from trustly_api_client.api.payments import AsyncPayments, Payments, PaymentsListFilters
from trustly_api_client.api.transactions import AsyncTransactions, Transactions, TransactionsListFilters
from trustly_api_client.types import Unset

from ._errors import InvalidRequestError
from ._pagination import MAX_PAGE_SIZE, Page, aiterate, apages, check_paging, iterate, pages

if TYPE_CHECKING:
    from trustly_api_client.models import Payment, PaymentProvider, Transaction

__all__ = [
    "AsyncPaymentProvidersResource",
    "AsyncPaymentsResource",
    "AsyncTransactionsResource",
    "PaymentProvidersResource",
    "PaymentsResource",
    "TransactionsResource",
]


T = TypeVar("T")


def _items(listed: list[T] | Unset) -> list[T]:
    """A page's items; Trustly may leave the list out of an empty page, which ends the paging."""
    return listed if isinstance(listed, list) else []


def _check_filters(filters: Mapping[str, Any], allowed: type) -> None:
    # The type checker reports a misspelt filter; at run time it is refused here, at the call,
    # not when the iterator is first advanced.
    for name in filters:
        if name not in allowed.__annotations__:
            raise InvalidRequestError(name, f"is not a filter of list (see {allowed.__name__})")


def _transaction_id(t: Transaction) -> object:
    return t.transaction_id


def _payment_id(p: Payment) -> object:
    return p.payment_id


def _provider_id(p: PaymentProvider) -> object:
    return p.payment_provider_id if isinstance(p.payment_provider_id, str) else id(p)


class TransactionsResource(Transactions):
    """`client.transactions`, with auto-paging. Filters are those of `list`."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Unpack[TransactionsListFilters]
    ) -> Iterator[Page[Transaction]]:
        """Each page in turn, starting at `start_index`."""
        check_paging(page_size, None, start_index)
        _check_filters(filters, TransactionsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)
        return pages(
            lambda s, c: _items(self.list(start_index=s, count=c, **filters).transactions), page_size, start_index
        )

    def list_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        start_index: int = 0,
        **filters: Unpack[TransactionsListFilters],
    ) -> Iterator[Transaction]:
        """Every matching transaction, fetching `page_size` at a time, up to `max_items` in all."""
        _check_filters(filters, TransactionsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).transactions)  # noqa: E731
        return iterate(fetch, _transaction_id, page_size, max_items, start_index)


class PaymentsResource(Payments):
    """`client.payments`, with auto-paging. Filters are those of `list`."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Unpack[PaymentsListFilters]
    ) -> Iterator[Page[Payment]]:
        check_paging(page_size, None, start_index)
        _check_filters(filters, PaymentsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)
        return pages(lambda s, c: _items(self.list(start_index=s, count=c, **filters).payments), page_size, start_index)

    def list_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        start_index: int = 0,
        **filters: Unpack[PaymentsListFilters],
    ) -> Iterator[Payment]:
        _check_filters(filters, PaymentsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).payments)  # noqa: E731
        return iterate(fetch, _payment_id, page_size, max_items, start_index)


class PaymentProvidersResource(PaymentProviders):
    """`client.payment_providers`, with auto-paging. Filters are those of `list`."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Unpack[PaymentProvidersListFilters]
    ) -> Iterator[Page[PaymentProvider]]:
        check_paging(page_size, None, start_index)
        _check_filters(filters, PaymentProvidersListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).payment_providers)  # noqa: E731
        return pages(fetch, page_size, start_index)

    def list_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        start_index: int = 0,
        **filters: Unpack[PaymentProvidersListFilters],
    ) -> Iterator[PaymentProvider]:
        _check_filters(filters, PaymentProvidersListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)
        fetch = lambda s, c: _items(self.list(start_index=s, count=c, **filters).payment_providers)  # noqa: E731
        return iterate(fetch, _provider_id, page_size, max_items, start_index)


class AsyncTransactionsResource(AsyncTransactions):
    """`client.transactions` of the async client, with auto-paging."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Unpack[TransactionsListFilters]
    ) -> AsyncIterator[Page[Transaction]]:
        check_paging(page_size, None, start_index)
        _check_filters(filters, TransactionsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)

        async def fetch(s: int, c: int) -> list[Transaction]:
            return _items((await self.list(start_index=s, count=c, **filters)).transactions)

        return apages(fetch, page_size, start_index)

    def list_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        start_index: int = 0,
        **filters: Unpack[TransactionsListFilters],
    ) -> AsyncIterator[Transaction]:
        _check_filters(filters, TransactionsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)

        async def fetch(s: int, c: int) -> list[Transaction]:
            return _items((await self.list(start_index=s, count=c, **filters)).transactions)

        return aiterate(fetch, _transaction_id, page_size, max_items, start_index)


class AsyncPaymentsResource(AsyncPayments):
    """`client.payments` of the async client, with auto-paging."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Unpack[PaymentsListFilters]
    ) -> AsyncIterator[Page[Payment]]:
        check_paging(page_size, None, start_index)
        _check_filters(filters, PaymentsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)

        async def fetch(s: int, c: int) -> list[Payment]:
            return _items((await self.list(start_index=s, count=c, **filters)).payments)

        return apages(fetch, page_size, start_index)

    def list_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        start_index: int = 0,
        **filters: Unpack[PaymentsListFilters],
    ) -> AsyncIterator[Payment]:
        _check_filters(filters, PaymentsListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)

        async def fetch(s: int, c: int) -> list[Payment]:
            return _items((await self.list(start_index=s, count=c, **filters)).payments)

        return aiterate(fetch, _payment_id, page_size, max_items, start_index)


class AsyncPaymentProvidersResource(AsyncPaymentProviders):
    """`client.payment_providers` of the async client, with auto-paging."""

    def pages(
        self, *, page_size: int = MAX_PAGE_SIZE, start_index: int = 0, **filters: Unpack[PaymentProvidersListFilters]
    ) -> AsyncIterator[Page[PaymentProvider]]:
        check_paging(page_size, None, start_index)
        _check_filters(filters, PaymentProvidersListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)

        async def fetch(s: int, c: int) -> list[PaymentProvider]:
            return _items((await self.list(start_index=s, count=c, **filters)).payment_providers)

        return apages(fetch, page_size, start_index)

    def list_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        start_index: int = 0,
        **filters: Unpack[PaymentProvidersListFilters],
    ) -> AsyncIterator[PaymentProvider]:
        _check_filters(filters, PaymentProvidersListFilters)
        self._list_request(start_index=start_index, count=page_size, **filters)

        async def fetch(s: int, c: int) -> list[PaymentProvider]:
            return _items((await self.list(start_index=s, count=c, **filters)).payment_providers)

        return aiterate(fetch, _provider_id, page_size, max_items, start_index)
