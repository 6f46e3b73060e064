"""`PostgresInbox`: the inbox in a PostgreSQL table, shared by workers on many hosts.

Needs psycopg 3 (`pip install "trustly-api-client[postgres]"`), imported only when a
`PostgresInbox` is created. Claims use `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers
never wait on or take each other's events; leases are timed by the database clock, so hosts with
skewed clocks agree on when a lease runs out. Each thread and each forked process opens its own
connection (in autocommit mode: every method is one statement or one short transaction).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from ._inbox import Claim, Inbox, new_token

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresInbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    event_id     text PRIMARY KEY,
    body         bytea NOT NULL,
    content_type text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    available_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts     integer NOT NULL DEFAULT 0,
    lease_token  text,
    lease_until  timestamptz NOT NULL DEFAULT '-infinity',
    done_at      timestamptz,
    last_error   text
);
CREATE INDEX IF NOT EXISTS {table}_due ON {table} (received_at) WHERE done_at IS NULL;
"""


class PostgresInbox(Inbox):
    """An `Inbox` in PostgreSQL, reached with a libpq connection string (`conninfo`).

    For example `PostgresInbox("postgresql://trustly@db.internal/shop")` or
    `PostgresInbox("host=/run/postgresql dbname=shop")`. The table is created on first use.
    """

    def __init__(self, conninfo: str, *, table: str = "trustly_inbox", connect_timeout: int = 10) -> None:
        if not table.isidentifier():
            raise ValueError(f"table must be a plain SQL identifier, not {table!r}")
        import psycopg  # the optional extra: imported only by those who use PostgreSQL

        self._psycopg = psycopg
        self._conninfo = conninfo
        self._table = table
        self._connect_timeout = connect_timeout
        self._local = threading.local()
        self._opened: list[psycopg.Connection[Any]] = []
        self._opened_lock = threading.Lock()
        db = self._db()
        with db.transaction():
            # CREATE ... IF NOT EXISTS races between processes starting together: serialise it.
            db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (table,))
            for statement in _SCHEMA.format(table=table).split(";"):
                if statement.strip():
                    db.execute(statement.encode())

    def __repr__(self) -> str:
        # The connection string may hold a password: never show it.
        return f"PostgresInbox(table={self._table!r})"

    def _db(self) -> psycopg.Connection[Any]:
        db: psycopg.Connection[Any] | None = getattr(self._local, "db", None)
        if db is None or db.closed or getattr(self._local, "pid", None) != os.getpid():
            db = self._psycopg.connect(self._conninfo, autocommit=True, connect_timeout=self._connect_timeout)
            self._local.db, self._local.pid = db, os.getpid()
            with self._opened_lock:
                self._opened.append(db)
        return db

    def _run(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self._db().execute(sql.format(table=self._table).encode(), params)

    def put(self, event_id: str, body: bytes, content_type: str) -> bool:
        cursor = self._run(
            "INSERT INTO {table} (event_id, body, content_type) VALUES (%s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
            (event_id, bytes(body), content_type),
        )
        return bool(cursor.rowcount == 1)

    def claim(self, lease: float) -> Claim | None:
        token = new_token()
        row = self._run(
            "UPDATE {table} SET attempts = attempts + 1, lease_token = %s, "
            "lease_until = clock_timestamp() + make_interval(secs => %s) "
            "WHERE event_id = (SELECT event_id FROM {table} WHERE done_at IS NULL "
            "AND available_at <= clock_timestamp() AND lease_until <= clock_timestamp() "
            "ORDER BY received_at, event_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "RETURNING event_id, body, content_type, attempts",
            (token, lease),
        ).fetchone()
        if row is None:
            return None
        return Claim(row[0], bytes(row[1]), row[2], token, row[3])

    def _update_held(self, claim: Claim, assignments: str, values: tuple[Any, ...]) -> bool:
        cursor = self._run(
            # assignments are this module's own constants, never caller input
            "UPDATE {table} SET " + assignments + " WHERE event_id = %s AND lease_token = %s AND done_at IS NULL",  # noqa: S608
            (*values, claim.event_id, claim.token),
        )
        return bool(cursor.rowcount == 1)

    def extend(self, claim: Claim, lease: float) -> bool:
        return self._update_held(claim, "lease_until = clock_timestamp() + make_interval(secs => %s)", (lease,))

    def complete(self, claim: Claim) -> bool:
        return self._update_held(claim, "done_at = clock_timestamp(), lease_token = NULL", ())

    def release(self, claim: Claim, *, delay: float, error: str) -> bool:
        return self._update_held(
            claim,
            "lease_token = NULL, lease_until = '-infinity', "
            "available_at = clock_timestamp() + make_interval(secs => %s), last_error = %s",
            (delay, error),
        )

    def purge(self, older_than: float) -> int:
        cursor = self._run(
            "DELETE FROM {table} WHERE done_at < clock_timestamp() - make_interval(secs => %s)", (older_than,)
        )
        return int(cursor.rowcount)

    def counts(self) -> dict[str, int]:
        done, leased, total = self._run(
            "SELECT count(*) FILTER (WHERE done_at IS NOT NULL), "
            "count(*) FILTER (WHERE done_at IS NULL AND lease_until > clock_timestamp()), count(*) FROM {table}",
            (),
        ).fetchone()
        return {"pending": total - done - leased, "leased": leased, "done": done}

    def close(self) -> None:
        """Close every connection this process opened; the inbox reconnects if used again."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
        self._local = threading.local()
