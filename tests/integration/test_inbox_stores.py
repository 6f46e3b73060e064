"""The inbox contract, on every store: in memory, SQLite and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.test_webhooks import ACCESS_ID, KEY, fresh, signed
from trustly.models import Event
from trustly.webhooks import (
    AsyncInboxWorker,
    Inbox,
    InboxWorker,
    InMemoryInbox,
    PostgresInbox,
    SQLiteInbox,
    WebhookHandler,
)

pytestmark = pytest.mark.integration

_TABLES = iter(range(1_000_000))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Inbox]:
    if request.param == "memory":
        yield InMemoryInbox()
    elif request.param == "sqlite":
        store = SQLiteInbox(tmp_path / "inbox.sqlite3")
        yield store
        store.close()
    else:
        conninfo = request.getfixturevalue("postgres")
        pg = PostgresInbox(conninfo, table=f"inbox_{next(_TABLES)}")
        yield pg
        pg.close()


def test_put_is_insert_if_absent(inbox: Inbox) -> None:
    assert inbox.put("e1", b"a=1", "application/x-www-form-urlencoded") is True
    assert inbox.put("e1", b"a=2", "application/x-www-form-urlencoded") is False
    assert inbox.counts() == {"pending": 1, "leased": 0, "done": 0}
    assert isinstance(inbox, Inbox)


def test_claim_lease_complete(inbox: Inbox) -> None:
    inbox.put("e1", b"a=1", "ct")
    inbox.put("e2", b"a=2", "ct")
    first = inbox.claim(30)
    second = inbox.claim(30)
    assert first is not None and second is not None
    assert (first.event_id, first.body, first.content_type, first.attempts) == ("e1", b"a=1", "ct", 1)
    assert second.event_id == "e2"
    assert inbox.claim(30) is None, "both are leased"
    assert inbox.extend(first, 30)
    assert inbox.complete(first) and not inbox.complete(first)
    assert not inbox.extend(first, 30), "a done event cannot be leased again"
    assert inbox.counts() == {"pending": 0, "leased": 1, "done": 1}
    inbox.put("e1", b"a=1", "ct")
    assert inbox.claim(30) is None, "a redelivered, completed event is never processed again"


def test_an_expired_lease_is_claimed_again_and_fences_the_old_claim(inbox: Inbox) -> None:
    inbox.put("e1", b"a=1", "ct")
    lost = inbox.claim(0.2)
    assert lost is not None
    time.sleep(0.3)
    again = inbox.claim(30)
    assert again is not None and again.event_id == "e1" and again.attempts == 2
    assert not inbox.complete(lost) and not inbox.extend(lost, 30) and not inbox.release(lost, delay=0, error="x")
    assert inbox.complete(again)


def test_release_makes_it_due_after_the_delay(inbox: Inbox) -> None:
    inbox.put("e1", b"a=1", "ct")
    claim = inbox.claim(30)
    assert claim is not None and inbox.release(claim, delay=0.3, error="RuntimeError: down")
    assert inbox.claim(30) is None
    time.sleep(0.4)
    retry = inbox.claim(30)
    assert retry is not None and retry.attempts == 2


def test_purge_forgets_only_old_completed_events(inbox: Inbox) -> None:
    inbox.put("done", b"a=1", "ct")
    inbox.put("open", b"a=2", "ct")
    claim = inbox.claim(30)
    assert claim is not None and inbox.complete(claim)
    assert inbox.purge(3600) == 0
    time.sleep(0.05)
    assert inbox.purge(0.01) == 1
    assert inbox.counts() == {"pending": 1, "leased": 0, "done": 0}


def test_concurrent_claims_never_share_an_event(inbox: Inbox) -> None:
    for i in range(60):
        inbox.put(f"e{i}", b"a=1", "ct")
    claimed: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        while (claim := inbox.claim(30)) is not None:
            with lock:
                claimed.append(claim.event_id)
            inbox.complete(claim)

    threads = [threading.Thread(target=drain) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(f"e{i}" for i in range(60))


def test_handler_and_worker_through_the_inbox(inbox: Inbox) -> None:
    handler = WebhookHandler(access_key=KEY, access_id=ACCESS_ID, inbox=inbox)
    body, headers = signed(fresh())
    for _ in range(3):
        assert handler.handle(body, headers)[0] == 200
    seen: list[Event] = []
    failures = [RuntimeError("database down")]

    def on_event(event: Event) -> None:
        if failures:
            raise failures.pop()
        seen.append(event)

    worker = InboxWorker(inbox, on_event, retry_delay=0.1, max_retry_delay=0.1)
    assert worker.run_until_idle() == 1, "failed once, released for later"
    time.sleep(0.2)
    assert worker.run_until_idle() == 1
    assert [event.event_id for event in seen] == ["1002593570"]
    assert handler.handle(body, headers)[0] == 200 and worker.run_until_idle() == 0


def test_a_slow_worker_keeps_its_lease_by_renewing(inbox: Inbox) -> None:
    inbox.put("e1", signed(fresh())[0], "application/x-www-form-urlencoded")
    started = threading.Event()
    others: list[object] = []

    def slow(event: Event) -> None:
        started.set()
        time.sleep(1.0)

    worker = InboxWorker(inbox, slow, lease=0.3)
    thread = threading.Thread(target=worker.process_next)
    thread.start()
    started.wait(5)
    for _ in range(5):
        time.sleep(0.15)
        others.append(inbox.claim(0.3))
    thread.join()
    assert others == [None] * 5, "the lease was renewed while the handler ran"
    assert inbox.counts()["done"] == 1


def test_async_worker(inbox: Inbox) -> None:
    inbox.put("1002593570", signed(fresh())[0], "application/x-www-form-urlencoded")
    seen: list[str] = []

    async def on_event(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(str(event.event_id))

    with pytest.raises(TypeError):
        AsyncInboxWorker(inbox, lambda event: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError):
        InboxWorker(inbox, on_event)  # type: ignore[arg-type]
    assert asyncio.run(AsyncInboxWorker(inbox, on_event).run_until_idle()) == 1
    assert seen == ["1002593570"]


def test_postgres_repr_hides_the_connection_string(postgres: str) -> None:
    inbox = PostgresInbox(postgres + " password=hunter2", table="inbox_repr")
    try:
        assert "hunter2" not in repr(inbox) and "host=" not in repr(inbox)
    finally:
        inbox.close()


def test_workers_purge_old_completed_events(inbox: Inbox) -> None:
    inbox.put("old", signed(fresh())[0], "application/x-www-form-urlencoded")
    InboxWorker(inbox, lambda event: None).run_until_idle()
    time.sleep(0.05)
    worker = InboxWorker(inbox, lambda event: None, retention=0.01, poll_interval=0.01).start()
    deadline = time.monotonic() + 5
    while inbox.counts()["done"] and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    assert inbox.counts() == {"pending": 0, "leased": 0, "done": 0}
