"""Where a sync call's time goes: each step of our call path timed on its own, beside raw httpx.

`make bench` says how far we are from raw httpx; this says why. Over HTTP against the bench
server it times raw httpx (+ json.loads), our httpx client alone (our auth, headers and
timeout, + json.loads) and the whole call; in process, without I/O, it times each step the
call adds: building the request, validation, the correlation id, retry bookkeeping, logging
and decoding. Medians of interleaved rounds, in microseconds per call: wall clock and CPU time
over HTTP, CPU time in process (the steps are short, and CPU time does not count waiting for a
core on a busy machine).

Usage: python bench/callpath.py [--rounds N] [--cprofile FILE]
    --cprofile FILE also writes a cProfile of 2,000 whole calls (read it with pstats).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "overlays"), str(ROOT / "generated")]

import httpx  # noqa: E402

from bench import fixtures  # noqa: E402
from bench.harness import interleaved, start_server, stop_server  # noqa: E402

ACCESS_ID, ACCESS_KEY = "bench-access-id", "bench-access-key"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--cprofile", type=Path, default=None)
    args = parser.parse_args()

    import trustly
    from trustly import _logging
    from trustly._auth import CORRELATION_EXTENSION
    from trustly._call import _Call
    from trustly._exchange import request_arguments as _request_arguments
    from trustly._sender import decode
    from trustly._validation import prepare_request
    from trustly_api_client.api.transactions import transactions_get
    from trustly_api_client.models import Transaction
    from trustly_api_client.operations import OPERATIONS

    with tempfile.TemporaryDirectory() as scratch:
        bodies = Path(scratch)
        fixtures.write_bodies(bodies)
        server, port = start_server(bodies)
        try:
            base_url = f"http://127.0.0.1:{port}/api/v1"
            path = f"/transactions/{fixtures.TRANSACTION_ID}"
            raw = httpx.Client(base_url=base_url, auth=(ACCESS_ID, ACCESS_KEY))
            ours = trustly.TrustlyClient(base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY)
            http = ours._pool.get()
            policy = ours._policy
            request = transactions_get._get_kwargs(transaction_id=fixtures.TRANSACTION_ID)
            op = OPERATIONS["transactions_get"]
            response = http.request(**request, timeout=policy.timeout)
            content = response.content
            parsed = json.loads(content)
            call = _Call("transactions_get", request, policy)

            def whole() -> Any:
                return ours.transactions.get(fixtures.TRANSACTION_ID)

            def raw_call() -> Any:
                return json.loads(raw.get(path).content)

            url = _request_arguments(http, request)["url"]  # joined to the base URL as the sender does

            def our_httpx() -> Any:
                extensions = {CORRELATION_EXTENSION: "0" * 32}
                return json.loads(http.request("GET", url, extensions=extensions, timeout=policy.timeout).content)

            def bookkeeping() -> Any:
                call.attempt = 0
                call.next_timeout()
                call.on_response(response)
                return call.finish(response)

            def logging_only() -> None:
                _logging.log_attempt(call, response, None)
                _logging.log_call_end(call, response, None)

            over_http: dict[str, Callable[[], Any]] = {
                "raw httpx get + json.loads": raw_call,
                "our httpx client get + json.loads": our_httpx,
                "trustly transactions.get (whole call)": whole,
            }
            in_process: dict[str, Callable[[], Any]] = {
                "generated _get_kwargs": lambda: transactions_get._get_kwargs(transaction_id=fixtures.TRANSACTION_ID),
                "validation (prepare_request)": lambda: prepare_request(op, request),
                "_Call() (validation + correlation id + clock)": lambda: _Call("transactions_get", request, policy),
                "retry bookkeeping + logging (next_timeout, on_response, finish)": bookkeeping,
                "logging alone (logger disabled)": logging_only,
                "json.loads": lambda: json.loads(content),
                "Transaction.from_dict": lambda: Transaction.from_dict(parsed),
                "decode (response.json + from_dict + error wrapping)": lambda: decode(
                    "transactions_get", response, Transaction.from_dict
                ),
            }
            http_times, http_cpu = interleaved(over_http, calls=200, rounds=args.rounds)
            _, local_times = interleaved(in_process, calls=2000, rounds=args.rounds)
            if args.cprofile is not None:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(2000):
                    whole()
                profiler.disable()
                profiler.dump_stats(args.cprofile)
            raw.close()
            ours.close()
        finally:
            stop_server(server)

    def show(times: dict[str, list[float]]) -> None:
        width = max(len(name) for name in times)
        for name, values in times.items():
            print(
                f"  {name.ljust(width)}  {statistics.median(values) * 1e6:8.1f} us"
                f"  [{min(values) * 1e6:.1f}-{max(values) * 1e6:.1f}]"
            )

    print(f"transaction body {len(content):,} bytes; {args.rounds} interleaved rounds, median [min-max] per call")
    print("over HTTP (bench server), wall clock:")
    show(http_times)
    print("over HTTP (bench server), this process's CPU time:")
    show(http_cpu)
    print("in process, no I/O, CPU time:")
    show(local_times)
    for label, times in (("wall clock", http_times), ("CPU time", http_cpu)):
        raw_median = statistics.median(times["raw httpx get + json.loads"])
        whole_median = statistics.median(times["trustly transactions.get (whole call)"])
        print(
            f"whole call over raw httpx, {label}: +{(whole_median - raw_median) * 1e6:.1f} us"
            f" ({whole_median / raw_median:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
