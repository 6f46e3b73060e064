"""`make bench`: the client against raw httpx, raw aiohttp and the default generator's output.

Everything compared is measured in the same run, against the same local server and the same
realistic bodies (bench/fixtures.py): a transaction with every property of the spec's
`Transaction` set, a list page of 100 of them, and an error answer. It prints one table, each
target of the performance budget beside its measured ratio (min / median / max over
interleaved rounds), and writes every figure as JSON under .bench/ for comparison across
commits. Reported, not asserted: absolute times vary by machine, ratios much less.

Usage: python bench/run.py [--rounds N] [--async-rounds N] [--quick] [--show .bench/FILE.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import compileall
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "overlays"), str(ROOT / "generated")]

import httpx  # noqa: E402

from bench import baseline, fixtures  # noqa: E402
from bench.harness import (  # noqa: E402
    interleaved,
    interleaved_async,
    pipelined_capacity,
    start_server,
    stop_server,
    summarise,
)

ACCESS_ID, ACCESS_KEY = "bench-access-id", "bench-access-key"
TRANSACTION_PATH = f"/transactions/{fixtures.TRANSACTION_ID}"
PAGE_PARAMS = {"count": 100, "startIndex": 0}
# Generous for every client alike: a burst of 1,000 on a pool of 100 must queue, not time out.
TIMEOUT = httpx.Timeout(60.0, pool=300.0)
LEVELS = (1, 10, 100, 1000)


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{ACCESS_ID}:{ACCESS_KEY}".encode()).decode()


# -- sync ------------------------------------------------------------------------------------
def bench_sync(base_url: str, default_package: str | None, rounds: int) -> dict[str, Any]:
    """Seconds per call ("wall" and this process's "cpu"), per body kind and client, per round."""
    import trustly

    raw = httpx.Client(base_url=base_url, auth=(ACCESS_ID, ACCESS_KEY), timeout=TIMEOUT)
    ours = trustly.TrustlyClient(base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, timeout=TIMEOUT)

    def raw_get() -> Any:
        return json.loads(raw.get(TRANSACTION_PATH).content)

    def raw_page() -> Any:
        return json.loads(raw.get("/transactions", params=PAGE_PARAMS).content)

    def raw_error() -> Any:
        response = raw.get(f"/transactions/{fixtures.NOT_FOUND_ID}")
        return response.status_code, json.loads(response.content)

    def our_get() -> Any:
        return ours.transactions.get(fixtures.TRANSACTION_ID)

    def our_page() -> Any:
        return ours.transactions.list(count=100, start_index=0)

    def our_error() -> Any:
        try:
            ours.transactions.get(fixtures.NOT_FOUND_ID)
        except trustly.NotFoundError as error:
            return error
        raise AssertionError("the bench server answered 404 with a success")

    assert our_get().transaction_id == fixtures.TRANSACTION_ID
    assert len(our_page().transactions) == 100
    get = {"raw": raw_get, "trustly": our_get}
    page = {"raw": raw_page, "trustly": our_page}
    error = {"raw": raw_error, "trustly": our_error}

    default_client = None
    if default_package is not None:
        import importlib

        client_module = importlib.import_module(default_package)
        get_module = importlib.import_module(f"{default_package}.api.transactions.transactions_get_transaction")
        list_module = importlib.import_module(f"{default_package}.api.transactions.transactions_list_transactions")
        default_client = client_module.AuthenticatedClient(
            base_url=base_url.replace("/api/v1", "/published/api/v1"),
            token=_basic().removeprefix("Basic "),
            prefix="Basic",
            timeout=TIMEOUT,
        )

        def default_get() -> Any:
            return get_module.sync(fixtures.TRANSACTION_ID, client=default_client)

        def default_page() -> Any:
            return list_module.sync(client=default_client, count="100", start_index="0")

        def default_error() -> Any:
            # The published file declares no 404 here: the default client answers None.
            return get_module.sync(fixtures.NOT_FOUND_ID, client=default_client)

        assert default_get().transaction_id == fixtures.TRANSACTION_ID, "the default client did not decode the body"
        assert len(default_page().transactions) == 100
        get["default"], page["default"], error["default"] = default_get, default_page, default_error

    results: dict[str, Any] = {"wall": {}, "cpu": {}}
    for key, functions, calls, warmup in (("get", get, 100, 20), ("page", page, 5, 3), ("error", error, 100, 20)):
        results["wall"][key], results["cpu"][key] = interleaved(functions, calls=calls, rounds=rounds, warmup=warmup)
    raw.close()
    ours.close()
    if default_client is not None:
        default_client.get_httpx_client().close()
    return results


# -- async -----------------------------------------------------------------------------------
def bench_async(
    base_url: str, rounds: int, levels: tuple[int, ...], total: int, cap: float
) -> tuple[dict[int, dict[str, list[float]]], dict[int, list[str]]]:
    import aiohttp

    import trustly

    url = base_url + TRANSACTION_PATH

    async def run() -> tuple[dict[int, dict[str, list[float]]], dict[int, list[str]]]:
        raw = httpx.AsyncClient(auth=(ACCESS_ID, ACCESS_KEY), timeout=TIMEOUT)
        ours = trustly.AsyncTrustlyClient(
            base_url=base_url, access_id=ACCESS_ID, access_key=ACCESS_KEY, timeout=TIMEOUT, deadline=600
        )
        session = aiohttp.ClientSession(headers={"Authorization": _basic()}, timeout=aiohttp.ClientTimeout(total=600))
        aiohttp_backend = _aiohttp_backend(base_url)

        async def raw_one() -> Any:
            return json.loads((await raw.get(url)).content)

        async def our_one() -> Any:
            return await ours.transactions.get(fixtures.TRANSACTION_ID)

        async def aiohttp_one() -> Any:
            async with session.get(url) as response:
                return json.loads(await response.read())

        async def backend_one() -> Any:
            return await aiohttp_backend.transactions.get(fixtures.TRANSACTION_ID)

        functions: dict[str, Callable[[], Any]] = {
            "raw_httpx": raw_one,
            "trustly": our_one,
            "raw_aiohttp": aiohttp_one,
            "trustly_aiohttp": backend_one,
        }
        assert (await our_one()).transaction_id == fixtures.TRANSACTION_ID
        assert (await backend_one()).transaction_id == fixtures.TRANSACTION_ID
        results, capped = {}, {}
        try:
            for level in levels:
                results[level], hit = await interleaved_async(functions, level, max(level, total), rounds, cap)
                capped[level] = sorted(hit)
        finally:
            await raw.aclose()
            await ours.close()
            await session.close()
            await aiohttp_backend.close()
        return results, capped

    return asyncio.run(run())


def _aiohttp_backend(base_url: str) -> Any:
    """The client on its aiohttp backend (the `aiohttp` extra, installed with the dev tools)."""
    import trustly

    return trustly.AsyncTrustlyClient(
        base_url=base_url,
        access_id=ACCESS_ID,
        access_key=ACCESS_KEY,
        timeout=TIMEOUT,
        deadline=600,
        backend="aiohttp",
    )


# -- budgets ---------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "overlays"), str(ROOT / "generated")])}


def bench_import(runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds to import httpx, and trustly with it, in fresh interpreters: wall clock and CPU."""
    # As installed from a wheel: bytecode compiled. With PYTHONDONTWRITEBYTECODE set, a module
    # changed since its last .pyc would otherwise be compiled again at every import.
    for folder in ("overlays", "generated"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    # Each fresh interpreter imports httpx, then trustly: "trustly" is the whole time an
    # application's `import trustly` takes (httpx included), "httpx" that of httpx alone, and
    # their difference in one process is what trustly adds, free of the noise between two
    # processes on a busy machine.
    code = (
        "import time; t, c = time.perf_counter(), time.process_time(); import httpx; "
        "t1, c1 = time.perf_counter(), time.process_time(); import trustly; "
        "print(t1 - t, c1 - c, time.perf_counter() - t, time.process_time() - c)"
    )
    wall: dict[str, list[float]] = {"httpx": [], "trustly": []}
    cpu: dict[str, list[float]] = {"httpx": [], "trustly": []}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
        httpx_s, httpx_cpu, trustly_s, trustly_cpu = (float(value) for value in done.stdout.split())
        wall["httpx"].append(httpx_s)
        cpu["httpx"].append(httpx_cpu)
        wall["trustly"].append(trustly_s)
        cpu["trustly"].append(trustly_cpu)
    return wall, cpu


PAGING_SCRIPT = r"""
import resource, sys
import httpx, trustly

def peak_mb():
    # VmHWM is this program's own high-water mark; ru_maxrss also counts the parent's memory
    # at fork (Linux keeps it across exec), which would hide a growth smaller than the parent.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

total, size = int(sys.argv[2]), 100
# One transaction as bytes around its id (made by the parent, so that building it, the spec
# included, does not raise this process's high-water mark): each answer is one join.
head, tail = open(sys.argv[1], "rb").read().split(b"@@ID@@")

def handler(request):
    start = int(request.url.params["startIndex"]); count = int(request.url.params["count"])
    rows = b",".join(head + str(1_002_000_000 + i).encode() + tail for i in range(start, min(start + count, total)))
    body = b'{"transactions":[' + rows + b'],"startIndex":%d,"itemsPerPage":%d}' % (start, count)
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

client = trustly.TrustlyClient(base_url="http://127.0.0.1:1/api/v1", access_id="a", access_key="k",
                               transport=httpx.MockTransport(handler))
# No warm-up: the growth counts everything paging needs, its lazy imports and one page's
# body and models included.
before = peak_mb()
seen = sum(1 for _ in client.transactions.list_all(page_size=size))
after = peak_mb()
assert seen == total, seen
print(after - before)
"""


def bench_paging(total: int) -> float:
    """Peak RSS growth (MB) while auto-paging `total` full transactions, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "transaction.json"
        template.write_bytes(json.dumps(fixtures.transaction("@@ID@@"), separators=(",", ":")).encode())
        done = subprocess.run(
            [sys.executable, "-c", PAGING_SCRIPT, str(template), str(total)],
            capture_output=True,
            text=True,
            env=_env(),
            check=True,
        )
    return float(done.stdout)


def bench_generate(runs: int, *, warm: bool) -> tuple[list[float], list[float]]:
    """Seconds `make generate` takes (the same script, into a scratch folder): wall clock and CPU.

    Cold: each run starts from an empty template cache, as the first run on a fresh clone does.
    Warm: the templates were compiled by an earlier run (not counted), as for every later run.
    """
    import resource

    times, cpu = [], []
    with tempfile.TemporaryDirectory() as scratch:

        def once(cache: Path) -> tuple[float, float]:
            with tempfile.TemporaryDirectory() as tmp:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "generator" / "generate.py"),
                        "--spec",
                        str(ROOT / "spec" / "trustly-openapi.yaml"),
                        "--output",
                        str(Path(tmp) / "trustly_api_client"),
                        "--template-cache",
                        str(cache),
                    ],
                    check=True,
                    capture_output=True,
                )
                wall = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

        if warm:
            once(Path(scratch) / "cache")
        for run in range(runs):
            wall, used = once(Path(scratch) / ("cache" if warm else f"cold-{run}"))
            times.append(wall)
            cpu.append(used)
    return times, cpu


def bench_webhook_receive(tmp: Path, n: int = 500) -> tuple[float, float]:
    """Seconds (median, p99) for WebhookHandler.handle to verify a notification and store it in a SQLite inbox."""
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


# -- report ----------------------------------------------------------------------------------
def _ratios(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    # A collapsed client can complete nothing within the time cap: its ratio is unbounded.
    return summarise([a / b if b else float("inf") for a, b in zip(numerator, denominator, strict=True)])


def _fmt(summary: dict[str, float], digits: int = 2) -> str:
    return f"{summary['median']:.{digits}f} [{summary['min']:.{digits}f}-{summary['max']:.{digits}f}]"


def _verdict(value: float, limit: float, at_most: bool) -> str:
    return "yes" if (value <= limit if at_most else value >= limit) else "NO"


def _us(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e6:,.0f} us"


def _per_s(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f}/s"


def build_rows(figures: dict[str, Any]) -> list[tuple[str, ...]]:
    """The table: measurement, trustly, reference, ratio median [min-max], target, met, CPU ratio."""
    rows: list[tuple[str, ...]] = []
    wall, cpu = figures["sync"]["wall"], figures["sync"]["cpu"]
    comparisons = [
        ("get", "raw", "sync GET transaction + decode vs raw httpx + json.loads", 1.10),
        ("get", "default", "sync GET transaction + decode vs default generator", 0.90),
        ("page", "raw", "sync GET page of 100 + decode vs raw httpx + json.loads", 1.10),
        ("page", "default", "sync GET page of 100 + decode vs default generator", 0.90),
        ("error", "raw", "sync 404 error answer vs raw httpx (reported)", None),
        ("error", "default", "sync 404 error answer vs default generator (reported)", None),
    ]
    for key, reference, label, limit in comparisons:
        ours = wall[key]["trustly"]
        target = "-" if limit is None else f"<= {limit:.2f}"
        if reference not in wall[key]:
            rows.append((label, _us(ours), "no published file", "-", target, "-", "-"))
            continue
        ratio = _ratios(ours, wall[key][reference])
        cpu_ratio = _ratios(cpu[key]["trustly"], cpu[key][reference])
        met = "-" if limit is None else _verdict(ratio["median"], limit, True)
        rows.append((label, _us(ours), _us(wall[key][reference]), _fmt(ratio), target, met, _fmt(cpu_ratio)))
    asynchronous, capped = figures["async"], figures["async_capped"]

    def per_s(level: int, name: str) -> str:
        return _per_s(asynchronous[level][name]) + (" (capped)" if name in capped[level] else "")

    for level, rates in asynchronous.items():
        ratio = _ratios(rates["trustly"], rates["raw_httpx"])
        rows.append((f"async {level:>5} concurrent GETs vs raw httpx.AsyncClient", per_s(level, "trustly"),
                     per_s(level, "raw_httpx"), _fmt(ratio), ">= 1.00", _verdict(ratio["median"], 1.0, False)))  # fmt: skip
    if 10 in asynchronous and 1000 in asynchronous:
        ratio = _ratios(asynchronous[1000]["trustly"], asynchronous[10]["trustly"])
        rows.append(("async 1000 concurrent vs its own rate at 10", per_s(1000, "trustly"), per_s(10, "trustly"), _fmt(ratio), ">= 0.80", _verdict(ratio["median"], 0.8, False)))  # fmt: skip
    for level, rates in asynchronous.items():
        label = f"async {level:>5} aiohttp backend vs raw aiohttp"
        if "trustly_aiohttp" in rates:
            ratio = _ratios(rates["trustly_aiohttp"], rates["raw_aiohttp"])
            rows.append((label, per_s(level, "trustly_aiohttp"), per_s(level, "raw_aiohttp"), _fmt(ratio),
                         ">= 0.80", _verdict(ratio["median"], 0.8, False)))  # fmt: skip
        else:
            rows.append((label, "not built", per_s(level, "raw_aiohttp"), "-", ">= 0.80", "-"))
    imports, imports_cpu = figures["import"], figures["import_cpu"]

    def extra_ms(times: dict[str, list[float]]) -> dict[str, float]:
        return summarise([(t - h) * 1000 for t, h in zip(times["trustly"], times["httpx"], strict=True)])

    extra = extra_ms(imports)
    rows.append(("import trustly, over import httpx", f"{statistics.median(imports['trustly']) * 1e3:.1f} ms",
                 f"{statistics.median(imports['httpx']) * 1e3:.1f} ms", "+" + _fmt(extra, 1) + " ms", "<= +30 ms",
                 _verdict(extra["median"], 30, True), "+" + _fmt(extra_ms(imports_cpu), 1) + " ms"))  # fmt: skip
    rss = figures["paging_rss_mb"]
    rows.append((f"auto-page {figures['paging_total']:,} transactions, peak RSS growth", f"{rss:.1f} MB", "", "-",
                 "<= 30 MB", _verdict(rss, 30, True)))  # fmt: skip
    generate = summarise(figures["generate_s"])
    generate_cpu = _fmt(summarise(figures["generate_cpu_s"])) + " s" if "generate_cpu_s" in figures else "-"
    rows.append(("make generate", f"{generate['median']:.2f} s", "", _fmt(generate) + " s", "<= 3 s",
                 _verdict(generate["median"], 3.0, True), generate_cpu))  # fmt: skip
    if "generate_warm_s" in figures:  # runs before the template cache measured only the cold figure
        warm = summarise(figures["generate_warm_s"])
        warm_cpu = _fmt(summarise(figures["generate_warm_cpu_s"])) + " s"
        rows.append(("make generate, templates compiled by an earlier run", f"{warm['median']:.2f} s", "",
                     _fmt(warm) + " s", "<= 3 s", _verdict(warm["median"], 3.0, True), warm_cpu))  # fmt: skip
    p50, p99 = figures["webhook_p50_s"] * 1e3, figures["webhook_p99_s"] * 1e3
    rows.append(("notification verified + stored (SQLite inbox)", f"{p50:.1f} ms p50", "", f"p99 {p99:.1f} ms",
                 "p99 <= 100 ms (Trustly waits 3 s)", _verdict(p99, 100, True)))  # fmt: skip
    capacity = figures["server_capacity_per_s"]
    fastest = max(max(r) for rates in asynchronous.values() for r in rates.values()) if asynchronous else 0.0
    rows.append(("bench server capacity vs fastest client measured", f"{capacity:,.0f}/s", f"{fastest:,.0f}/s",
                 f"{capacity / fastest:.1f}" if fastest else "-", "> 1 (not the bottleneck)",
                 _verdict(capacity / fastest, 1.0, False) if fastest else "-"))  # fmt: skip
    return rows


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("measurement", "trustly", "reference", "ratio median [min-max]", "target", "met", "client CPU ratio")
    rows = [row + ("",) * (len(header) - len(row)) for row in rows]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per sync comparison")
    parser.add_argument("--async-rounds", type=int, default=3, help="interleaved rounds per concurrency level")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests: a smoke run, not figures")
    parser.add_argument("--show", type=Path, help="print the table of an earlier run's JSON and exit")
    args = parser.parse_args()
    if args.show is not None:
        earlier = json.loads(args.show.read_text())
        for key in ("async", "async_capped"):
            earlier[key] = {int(level): value for level, value in earlier[key].items()}
        print(f"commit {earlier['commit']}, {earlier['date']}")
        print_table(build_rows(earlier))
        return 0
    rounds, async_rounds, total, cap, paging_total, import_runs, generate_runs = (
        (2, 1, 100, 5.0, 10_000, 3, 1) if args.quick else (args.rounds, args.async_rounds, 400, 10.0, 100_000, 10, 3)
    )
    figures: dict[str, Any] = {
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rounds": rounds,
        "async_rounds": async_rounds,
        "async_requests_per_round": total,
        "async_cap_s": cap,
    }
    # Seconds each phase took, so that the bench's own run time can be followed across commits.
    phases: dict[str, float] = {}
    current: list[Any] = ["default generator", time.perf_counter()]

    def phase(name: str | None) -> None:
        now = time.perf_counter()
        phases[current[0]] = round(now - current[1], 1)
        current[:] = [name, now]
        if name is not None:
            print(f"{name} ...", flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        default_package = None
        if baseline.PUBLISHED_SPEC.is_file():
            print(f"generating the default client from {baseline.PUBLISHED_SPEC} ...", flush=True)
            start = time.perf_counter()
            generated = baseline.generate(folder / "default")
            figures["default_generate_s"] = time.perf_counter() - start
            assert generated is not None
            sys.path.insert(0, str(generated.parent))
            default_package = baseline.PACKAGE
        else:
            print(
                f"Trustly's published file is not at {baseline.PUBLISHED_SPEC} (set TRUSTLY_PUBLISHED_SPEC):"
                " measuring everything except the default generator's client.",
                flush=True,
            )
        bodies = folder / "bodies"
        bodies.mkdir()
        figures["body_bytes"] = fixtures.write_bodies(bodies)
        server, port = start_server(bodies)
        base_url = f"http://127.0.0.1:{port}/api/v1"
        try:
            phase("server capacity")
            figures["server_capacity_per_s"], _ = asyncio.run(
                pipelined_capacity(port, f"/api/v1{TRANSACTION_PATH}", seconds=0.5 if args.quick else 1.5)
            )
            phase("sync")
            figures["sync"] = bench_sync(base_url, default_package, rounds)
            phase("async")
            figures["async"], figures["async_capped"] = bench_async(base_url, async_rounds, LEVELS, total, cap)
        finally:
            stop_server(server)
        phase("webhooks")
        figures["webhook_p50_s"], figures["webhook_p99_s"] = bench_webhook_receive(folder, 100 if args.quick else 500)
    phase("import, paging, generate")
    figures["import"], figures["import_cpu"] = bench_import(import_runs)
    figures["paging_total"] = paging_total
    figures["paging_rss_mb"] = bench_paging(paging_total)
    figures["generate_s"], figures["generate_cpu_s"] = bench_generate(generate_runs, warm=False)
    figures["generate_warm_s"], figures["generate_warm_cpu_s"] = bench_generate(generate_runs, warm=True)
    phase(None)
    figures["phase_s"] = phases
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    stamp = figures["date"].replace(":", "").replace("-", "")
    as_json = {
        **figures,
        "async": {str(k): v for k, v in figures["async"].items()},
        "async_capped": {str(k): v for k, v in figures["async_capped"].items()},
    }
    for path in (out / f"{stamp}-{figures['commit']}.json", out / "latest.json"):
        path.write_text(json.dumps(as_json, indent=1) + "\n")
    print()
    print(
        f"bodies: transaction {figures['body_bytes']['transaction']:,} B, page of 100 "
        f"{figures['body_bytes']['page']:,} B, error {figures['body_bytes']['error']:,} B; "
        f"{rounds} sync rounds, {async_rounds} async rounds of >= {total} requests per level"
    )
    print_table(build_rows(figures))
    print(f"\nfigures: {out / 'latest.json'}; the run took {sum(phases.values()):.0f} s ({phases})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
