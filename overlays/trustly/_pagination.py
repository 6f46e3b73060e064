"""Auto-paging over Trustly's `startIndex` / `count` lists.

`GET /transactions`, `/payments` and `/paymentProviders` page by offset and return no total, so
a page shorter than the one asked for is the last. Offsets shift when new records arrive while
paging (newest first), which would repeat records across a page boundary; the pager drops any
record whose id was on the previous page. Memory stays constant: one page at a time.

```python
for transaction in client.transactions.list_all(transaction_status=[TransactionStatus.AUTHORIZED]):
    ...
for page in client.payments.pages(page_size=50):
    print(page.start_index, len(page.items))
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._errors import InvalidRequestError

__all__ = ["MAX_PAGE_SIZE", "Page", "aiterate", "apages", "check_paging", "iterate", "pages"]

T = TypeVar("T")

MAX_PAGE_SIZE = 100
"""Trustly's maximum `count`."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its records and where the next page starts (None after the last)."""

    items: list[T]
    start_index: int
    page_size: int

    @property
    def next_start_index(self) -> int | None:
        """Where the next page starts, or None when this page was short (the last one)."""
        return self.start_index + len(self.items) if len(self.items) >= self.page_size else None


def check_paging(page_size: int, max_items: int | None, start_index: int) -> None:
    """Refuse page sizes Trustly does not accept and negative offsets or limits."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequestError("page_size", f"must be a whole number from 1 to {MAX_PAGE_SIZE}, not {page_size!r}")
    if max_items is not None and (isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0):
        raise InvalidRequestError("max_items", f"must be a whole number >= 0 or None, not {max_items!r}")
    if isinstance(start_index, bool) or not isinstance(start_index, int) or start_index < 0:
        raise InvalidRequestError("start_index", f"must be a whole number >= 0, not {start_index!r}")


class _Dedup(Generic[T]):
    """Drops records already yielded from the previous page (ids only; constant memory)."""

    def __init__(self, id_of: Callable[[T], object], max_items: int | None) -> None:
        self._id_of = id_of
        self._previous: set[object] = set()
        self.remaining = max_items

    def fresh(self, page: Page[T]) -> list[T]:
        ids = [self._id_of(item) for item in page.items]
        out = [item for item, key in zip(page.items, ids, strict=True) if key not in self._previous]
        self._previous = set(ids)
        if self.remaining is not None:
            out = out[: self.remaining]
            self.remaining -= len(out)
        return out

    @property
    def done(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


def pages(fetch: Callable[[int, int], list[T]], page_size: int, start_index: int) -> Iterator[Page[T]]:
    start: int | None = start_index
    while start is not None:
        page = Page(fetch(start, page_size), start, page_size)
        yield page
        start = page.next_start_index


def iterate(
    fetch: Callable[[int, int], list[T]],
    id_of: Callable[[T], object],
    page_size: int,
    max_items: int | None,
    start: int,
) -> Iterator[T]:
    check_paging(page_size, max_items, start)
    dedup: _Dedup[T] = _Dedup(id_of, max_items)
    if dedup.done:
        return
    for page in pages(fetch, page_size, start):
        yield from dedup.fresh(page)
        if dedup.done:
            return


async def apages(
    fetch: Callable[[int, int], Awaitable[list[T]]], page_size: int, start_index: int
) -> AsyncIterator[Page[T]]:
    start: int | None = start_index
    while start is not None:
        page = Page(await fetch(start, page_size), start, page_size)
        yield page
        start = page.next_start_index


async def aiterate(
    fetch: Callable[[int, int], Awaitable[list[T]]],
    id_of: Callable[[T], object],
    page_size: int,
    max_items: int | None,
    start: int,
) -> AsyncIterator[T]:
    check_paging(page_size, max_items, start)
    dedup: _Dedup[T] = _Dedup(id_of, max_items)
    if dedup.done:
        return
    async for page in apages(fetch, page_size, start):
        for item in dedup.fresh(page):
            yield item
        if dedup.done:
            return
