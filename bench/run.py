"""`make bench`: the client against raw httpx, measured in the same run, printed as a table.

Reported, not asserted: timings vary by machine, ratios much less. Every measurement runs
against a local HTTP server on 127.0.0.1 (or in-process for the paging memory test).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TRANSACTION = json.dumps(
    {
        "transactionId": "1002633191",
        "transactionType": "1",
        "status": "2",
        "createdAt": 1700000000000,
        "updatedAt": 1700000001000,
        "amount": "10.00",
        "currency": "USD",
        "merchantReference": "order-1",
        "payment": {"paymentId": "1002633190", "paymentType": "2", "merchantReference": "order-1", "currency": "USD"},
        "statusMessage": "Authorized",
    }
).encode()


def _serve(tmp: Path) -> tuple[subprocess.Popen[str], str]:
    body = tmp / "transaction.json"
    body.write_bytes(TRANSACTION)
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("server.py")), str(body)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    return server, f"http://127.0.0.1:{port}/api/v1"


# The same pool for raw httpx and the client (httpx's defaults): 1000 concurrent calls queue
# for 100 connections.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
TIMEOUT = httpx.Timeout(30.0, pool=120.0)


def _client(base_url: str, **kw: object) -> object:
    import trustly

    return trustly.TrustlyClient(base_url=base_url, access_id="bench", access_key="bench-key", **kw)  # type: ignore[arg-type]


def bench_sync(base_url: str, n: int = 200, rounds: int = 40) -> tuple[float, float]:
    raw = httpx.Client(base_url=base_url, auth=("bench", "bench-key"), timeout=TIMEOUT)
    ours = _client(base_url, timeout=TIMEOUT)
    path = "/transactions/1002633191"

    def run_raw() -> None:
        json.loads(raw.get(path).content)

    def run_ours() -> None:
        ours.transactions.get("1002633191")  # type: ignore[attr-defined]

    for fn in (run_raw, run_ours):  # warm up connections and lazy imports
        for _ in range(50):
            fn()
    raw_times, our_times = [], []
    for _ in range(rounds):
        for fn, bucket in ((run_raw, raw_times), (run_ours, our_times)):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            bucket.append((time.perf_counter() - start) / n)
    raw.close()
    ours.close()  # type: ignore[attr-defined]
    # Short interleaved rounds and medians: both sides see the same machine noise.
    return statistics.median(raw_times), statistics.median(our_times)


def bench_async(base_url: str, n: int = 1000, rounds: int = 2) -> tuple[float, float]:
    import trustly

    async def run() -> tuple[float, float]:
        raw = httpx.AsyncClient(base_url=base_url, auth=("bench", "bench-key"), timeout=TIMEOUT, limits=LIMITS)
        ours = trustly.AsyncTrustlyClient(
            base_url=base_url, access_id="bench", access_key="bench-key", timeout=TIMEOUT, deadline=600, limits=LIMITS
        )
        path = "/transactions/1002633191"

        async def raw_one() -> None:
            json.loads((await raw.get(path)).content)

        async def our_one() -> None:
            await ours.transactions.get("1002633191")

        async def burst(one: object) -> float:
            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))  # type: ignore[operator]
            return n / (time.perf_counter() - start)

        await burst(raw_one)
        await burst(our_one)
        raw_rates, our_rates = [], []
        for _ in range(rounds):
            raw_rates.append(await burst(raw_one))
            our_rates.append(await burst(our_one))
        await raw.aclose()
        await ours.close()
        return statistics.median(raw_rates), statistics.median(our_rates)

    return asyncio.run(run())


def _import_seconds(module: str, runs: int = 15) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "overlays"), str(ROOT / "generated")])}
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(times)


PAGING_SCRIPT = r"""
import resource, sys, httpx, trustly
total, size = int(sys.argv[1]), 100

def handler(request):
    start = int(request.url.params["startIndex"]); count = int(request.url.params["count"])
    rows = [{"transactionId": str(i), "transactionType": "1", "status": "2", "createdAt": 1700000000000 + i,
             "amount": "10.00", "currency": "USD"} for i in range(start, min(start + count, total))]
    return httpx.Response(200, json={"transactions": rows})

client = trustly.TrustlyClient(base_url="http://127.0.0.1:1/api/v1", access_id="a", access_key="k",
                               transport=httpx.MockTransport(handler))
list(client.transactions.list_all(page_size=size, max_items=size))  # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seen = sum(1 for _ in client.transactions.list_all(page_size=size))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert seen == total, seen
print((after - before) / 1024)
"""


def bench_paging(total: int = 100_000) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "overlays"), str(ROOT / "generated")])}
    done = subprocess.run(
        [sys.executable, "-c", PAGING_SCRIPT, str(total)], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout)


def bench_webhook_receive(tmp: Path, n: int = 500) -> tuple[float, float]:
    """Seconds (median, p99) for WebhookHandler.handle to verify a notification and store it in a SQLite inbox."""
    import base64
    from urllib.parse import urlencode

    import trustly
    from trustly.webhooks import SQLiteInbox, WebhookHandler

    inbox = SQLiteInbox(tmp / "bench-inbox.sqlite3")
    handler = WebhookHandler(access_key="bench-key", access_id="bench-id", inbox=inbox)
    durations = []
    for i in range(n):
        fields = {
            "eventId": str(10_000 + i),
            "eventType": "Authorize",
            "objectId": str(i),
            "objectType": "Transaction",
            "createdAt": str(int(time.time() * 1000)),
            "status": "2",
            "splitToken": "abc+/def==",
            "timeZone": "Etc/UTC",
        }
        body = urlencode(fields).encode()
        token = base64.b64encode(f"bench-id:{trustly.notification_signature(body, 'bench-key')}".encode()).decode()
        start = time.perf_counter()
        status = handler.handle(body, {"Authorization": f"Basic {token}"})[0]
        durations.append(time.perf_counter() - start)
        assert status == 200
    inbox.close()
    durations.sort()
    return statistics.median(durations), durations[int(n * 0.99)]


def main() -> int:
    sys.path[:0] = [str(ROOT / "overlays"), str(ROOT / "generated")]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        server, base_url = _serve(Path(tmp))
        try:
            raw_s, our_s = bench_sync(base_url)
            raw_rate, our_rate = bench_async(base_url)
        finally:
            server.kill()
            server.wait()
        hook_p50, hook_p99 = bench_webhook_receive(Path(tmp))
    httpx_import = _import_seconds("httpx")
    trustly_import = _import_seconds("trustly")
    rss = bench_paging()
    rows = [
        ("sync GET transaction + parse", f"{raw_s * 1e6:.0f} us", f"{our_s * 1e6:.0f} us", f"{our_s / raw_s:.2f}", "<= 1.10 (time)"),
        ("async 1000 concurrent GETs", f"{raw_rate:.0f}/s", f"{our_rate:.0f}/s", f"{our_rate / raw_rate:.2f}", ">= 0.90 (throughput)"),
        ("import cost over httpx", f"{httpx_import * 1e3:.1f} ms", f"{trustly_import * 1e3:.1f} ms",
         f"+{(trustly_import - httpx_import) * 1e3:.1f} ms", "<= 30 ms"),
        ("auto-page 100k transactions", "", f"{rss:.1f} MB", "peak RSS growth", "<= 30 MB"),
        ("notification verified + stored (SQLite inbox)", "", f"{hook_p50 * 1e3:.1f} ms p50",
         f"{hook_p99 * 1e3:.1f} ms p99", "<= 100 ms (Trustly waits 3 s)"),
    ]  # fmt: skip
    header = ("measurement", "raw httpx", "trustly", "ratio", "goal")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
