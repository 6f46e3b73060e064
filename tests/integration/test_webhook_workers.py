"""Many worker processes, one shared inbox: each event handled exactly once, even when a worker dies.

Four worker processes each serve the notification endpoint on 127.0.0.1 and run an InboxWorker
on one shared inbox (SQLite, then PostgreSQL). The simulator's notifier delivers its signed
notifications to a fan-out balancer that posts every delivery to three different workers at
once; afterwards every notification is delivered again to every live worker, as Trustly's
redeliveries would be. One worker hangs inside its first event and is killed with SIGKILL:
its event must be processed by another worker after the lease runs out, once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

import trustly
from tests.conftest import REPORT
from tests.integration import flows
from tests.integration.webhook_worker import ACCESS_ID, ACCESS_KEY
from trustly.testing import Simulator, SimulatorTransport
from trustly.webhooks import Inbox, PostgresInbox, SQLiteInbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
FAN_OUT = 3
TRANSACTIONS = 12
LEASE = 2.0


class Worker:
    def __init__(self, store: str, results: Path, *, victim: bool) -> None:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'overlays'}:{ROOT / 'generated'}"}
        command = [sys.executable, "-m", "tests.integration.webhook_worker", "--store", store]
        command += ["--results", str(results), "--lease", str(LEASE)] + (["--victim"] if victim else [])
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"worker did not start: {line!r}"
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/trustly/notifications"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


class Balancer:
    """The notification URL: forwards each delivery to FAN_OUT different live workers at once."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.posts = 0
        self._pool = ThreadPoolExecutor(max_workers=16)
        self._client = httpx.Client(timeout=5)
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {"Authorization": self.headers["Authorization"], "Content-Type": self.headers["Content-Type"]}
                balancer.deliveries.append((body, headers))
                statuses = balancer.fan_out(body, headers, FAN_OUT)
                self.send_response(200 if 200 in statuses else 503)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/notifications"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            return self._client.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError:
            return 0

    def fan_out(self, body: bytes, headers: dict[str, str], count: int) -> list[int]:
        live = [worker for worker in self.workers if worker.alive]
        targets = random.sample(live, min(count, len(live)))
        self.posts += len(targets)
        return list(self._pool.map(lambda worker: self.post(worker.url, body, headers), targets))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._pool.shutdown()
        self._client.close()


def _run(store: str, inbox: Inbox, results: Path) -> dict[str, int]:
    workers = [Worker(store, results, victim=(i == 0)) for i in range(WORKERS)]
    balancer = Balancer(workers)
    sim = Simulator(access_id=ACCESS_ID, access_key=ACCESS_KEY, notification_url=balancer.url)
    killed = 0
    try:
        with trustly.TrustlyClient(
            base_url="http://127.0.0.1/api/v1", access_id=ACCESS_ID, access_key=ACCESS_KEY,
            transport=SimulatorTransport(sim),
        ) as client:  # fmt: skip
            for i in range(TRANSACTIONS):
                flows.captured(client, sim, amount=f"{10 + i}.00")
                if not killed and (results / "victim.started").exists():
                    os.kill(workers[0].process.pid, signal.SIGKILL)
                    killed = 1
        assert sim.notifier.wait_idle(timeout=60), "the simulator's notifications were not all acknowledged"
        deadline = time.monotonic() + 30
        while not killed and time.monotonic() < deadline:
            if (results / "victim.started").exists():
                os.kill(workers[0].process.pid, signal.SIGKILL)
                killed = 1
            time.sleep(0.05)
        assert killed, "the victim never claimed an event"
        # Trustly's redeliveries: every notification once more to every live worker.
        for body, headers in list(balancer.deliveries):
            balancer.fan_out(body, headers, WORKERS)
        events = {event["eventId"] for event in sim.ledger.events}
        deadline = time.monotonic() + 30
        while inbox.counts()["done"] < len(events) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(LEASE)  # room for a wrong second processing to show up
    finally:
        sim.close()
        balancer.close()
        for worker in workers:
            worker.stop()
    processed = Counter(
        line for path in results.glob("*.log") for line in path.read_text().splitlines() if line.strip()
    )
    victim_event = (results / "victim.started").read_text()
    return {
        "events": len(events),
        "deliveries": balancer.posts,
        "processed": sum(processed.values()),
        "duplicates": sum(count - 1 for count in processed.values()),
        "lost": len(events - set(processed)),
        "unknown": len(set(processed) - events),
        "victim_event_processed": processed[victim_event],
        "done": inbox.counts()["done"],
    }


def _check(name: str, figures: dict[str, int]) -> None:
    REPORT.append(
        f"webhook workers ({name}): {WORKERS} processes, {figures['events']} events, {figures['deliveries']} "
        f"deliveries, 1 worker SIGKILLed mid-event; processed {figures['processed']}, "
        f"duplicates processed = {figures['duplicates']}, lost = {figures['lost']}"
    )
    assert figures["events"] >= 3 * TRANSACTIONS
    assert figures["deliveries"] >= FAN_OUT * figures["events"]
    assert figures["duplicates"] == 0 and figures["lost"] == 0 and figures["unknown"] == 0, figures
    assert figures["victim_event_processed"] == 1, "the killed worker's event was processed once, by another"
    assert figures["done"] == figures["events"]


@pytest.fixture
def results(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "results"
    path.mkdir()
    yield path


def test_many_workers_on_sqlite(tmp_path: Path, results: Path) -> None:
    database = tmp_path / "inbox.sqlite3"
    inbox = SQLiteInbox(database)
    try:
        _check("SQLite", _run(f"sqlite:{database}", inbox, results))
    finally:
        inbox.close()


def test_many_workers_on_postgres(postgres: str, results: Path) -> None:
    inbox = PostgresInbox(postgres)
    try:
        _check("PostgreSQL", _run(f"postgres:{postgres}", inbox, results))
    finally:
        inbox.close()
