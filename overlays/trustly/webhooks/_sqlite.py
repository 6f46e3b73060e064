"""`SQLiteInbox`: the inbox in one SQLite file, shared by every process on one host.

Uses only the standard library. The file runs in WAL mode so receivers insert while workers
claim; each claim is one `BEGIN IMMEDIATE` transaction, so two processes never lease the same
event. Each thread and each forked process opens its own connection (SQLite connections are not
shared across threads or `fork()`). Not for network file systems: use `PostgresInbox` across hosts.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._inbox import Claim, Inbox, new_token

__all__ = ["SQLiteInbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    event_id     TEXT PRIMARY KEY,
    body         BLOB NOT NULL,
    content_type TEXT NOT NULL,
    received_at  REAL NOT NULL,
    available_at REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_token  TEXT,
    lease_until  REAL NOT NULL DEFAULT 0,
    done_at      REAL,
    last_error   TEXT
);
CREATE INDEX IF NOT EXISTS {table}_due ON {table} (done_at, available_at, received_at);
"""


class SQLiteInbox(Inbox):
    """An `Inbox` in the SQLite database at `path` (created with its table on first use).

    `busy_timeout` is how long (seconds) a writer waits for another process's transaction.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, table: str = "trustly_inbox", busy_timeout: float = 10.0
    ) -> None:
        if not table.isidentifier():
            raise ValueError(f"table must be a plain SQL identifier, not {table!r}")
        self.path = Path(path)
        self._table = table
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        with self._connection() as db:
            db.executescript(_SCHEMA.format(table=table))

    def __repr__(self) -> str:
        return f"SQLiteInbox({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        # One connection per thread; check_same_thread is off only so that close() can close them all.
        db = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # an acknowledged notification must survive a power cut
        with self._opened_lock:
            self._opened.append(db)
        return db

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            db = self._connect()
            self._local.db, self._local.pid = db, os.getpid()
        yield db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def put(self, event_id: str, body: bytes, content_type: str) -> bool:
        now = time.time()
        with self._connection() as db:
            cursor = db.execute(
                f"INSERT INTO {self._table} (event_id, body, content_type, received_at, available_at) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                (event_id, bytes(body), content_type, now, now),
            )
            return cursor.rowcount == 1

    def claim(self, lease: float) -> Claim | None:
        token = new_token()
        with self._transaction() as db:
            now = time.time()
            row = db.execute(
                f"SELECT event_id FROM {self._table} WHERE done_at IS NULL AND available_at <= ? "  # noqa: S608
                "AND lease_until <= ? ORDER BY received_at, event_id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is None:
                return None
            claimed = db.execute(
                f"UPDATE {self._table} SET attempts = attempts + 1, lease_token = ?, lease_until = ? "  # noqa: S608
                "WHERE event_id = ? RETURNING event_id, body, content_type, attempts",
                (token, now + lease, row[0]),
            ).fetchone()
        return Claim(claimed[0], bytes(claimed[1]), claimed[2], token, claimed[3])

    def _update_held(self, claim: Claim, assignments: str, values: tuple[object, ...]) -> bool:
        with self._connection() as db:
            cursor = db.execute(
                f"UPDATE {self._table} SET {assignments} "  # noqa: S608
                "WHERE event_id = ? AND lease_token = ? AND done_at IS NULL",
                (*values, claim.event_id, claim.token),
            )
            return cursor.rowcount == 1

    def extend(self, claim: Claim, lease: float) -> bool:
        return self._update_held(claim, "lease_until = ?", (time.time() + lease,))

    def complete(self, claim: Claim) -> bool:
        return self._update_held(claim, "done_at = ?, lease_token = NULL", (time.time(),))

    def release(self, claim: Claim, *, delay: float, error: str) -> bool:
        return self._update_held(
            claim,
            "lease_token = NULL, lease_until = 0, available_at = ?, last_error = ?",
            (time.time() + delay, error),
        )

    def purge(self, older_than: float) -> int:
        with self._connection() as db:
            cursor = db.execute(
                f"DELETE FROM {self._table} WHERE done_at IS NOT NULL AND done_at < ?",  # noqa: S608
                (time.time() - older_than,),
            )
            return cursor.rowcount

    def counts(self) -> dict[str, int]:
        now = time.time()
        with self._connection() as db:
            done, leased, total = db.execute(
                f"SELECT COALESCE(SUM(done_at IS NOT NULL), 0), "  # noqa: S608
                f"COALESCE(SUM(done_at IS NULL AND lease_until > ?), 0), COUNT(*) FROM {self._table}",
                (now,),
            ).fetchone()
        return {"pending": total - done - leased, "leased": leased, "done": done}

    def close(self) -> None:
        """Close every connection this process opened; the inbox reconnects if used again."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
        self._local = threading.local()
