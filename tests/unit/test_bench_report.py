"""The `make bench` table: every target beside its ratio, whatever the figures are."""

from __future__ import annotations

from typing import Any

import pytest

from bench.run import build_rows, print_table

TARGETS = {
    "sync GET transaction + decode vs raw httpx + json.loads": "<= 1.10",
    "sync GET transaction + decode vs default generator": "<= 0.90",
    "sync GET page of 100 + decode vs raw httpx + json.loads": "<= 1.10",
    "sync GET page of 100 + decode vs default generator": "<= 0.90",
    "async     1 concurrent GETs vs raw httpx.AsyncClient": ">= 1.00",
    "async    10 concurrent GETs vs raw httpx.AsyncClient": ">= 1.00",
    "async   100 concurrent GETs vs raw httpx.AsyncClient": ">= 1.00",
    "async  1000 concurrent GETs vs raw httpx.AsyncClient": ">= 1.00",
    "async 1000 concurrent vs its own rate at 10": ">= 0.80",
    "async     1 aiohttp backend vs raw aiohttp": ">= 0.80",
    "async  1000 aiohttp backend vs raw aiohttp": ">= 0.80",
    "import trustly, over import httpx": "<= +30 ms",
    "auto-page 100,000 transactions, peak RSS growth": "<= 30 MB",
    "make generate": "<= 3 s",
    "make generate, templates compiled by an earlier run": "<= 3 s",
}


def _figures(*, default: bool = True, backend: bool = False, raw_1000: float = 300.0) -> dict[str, Any]:
    clients = {"raw": [0.0006, 0.0007, 0.0005], "trustly": [0.00063, 0.0007, 0.0006]}
    if default:
        clients["default"] = [0.0008, 0.0009, 0.0007]
    sync = {key: {name: list(values) for name, values in clients.items()} for key in ("get", "page", "error")}
    rates = {"raw_httpx": [400.0, 420.0], "trustly": [500.0, 480.0], "raw_aiohttp": [1500.0, 1600.0]}
    if backend:
        rates["trustly_aiohttp"] = [1400.0, 1300.0]
    asynchronous = {level: {name: list(values) for name, values in rates.items()} for level in (1, 10, 100, 1000)}
    asynchronous[1000]["raw_httpx"] = [raw_1000, raw_1000]
    return {
        "sync": {"wall": sync, "cpu": sync},
        "async": asynchronous,
        "async_capped": {level: [] for level in asynchronous},
        "import": {"httpx": [0.100, 0.110], "trustly": [0.120, 0.125]},
        "import_cpu": {"httpx": [0.090, 0.100], "trustly": [0.100, 0.110]},
        "paging_total": 100_000,
        "paging_rss_mb": 12.0,
        "generate_s": [1.5, 1.7],
        "generate_cpu_s": [1.2, 1.4],
        "generate_warm_s": [1.1, 1.3],
        "generate_warm_cpu_s": [0.9, 1.1],
        "server_capacity_per_s": 30_000.0,
        "webhook_p50_s": 0.004,
        "webhook_p99_s": 0.02,
    }


def _by_label(rows: list[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {row[0]: row for row in rows}


def test_every_target_of_the_budget_has_a_row_with_its_ratio() -> None:
    rows = _by_label(build_rows(_figures()))
    for label, target in TARGETS.items():
        assert rows[label][4] == target, label
    assert rows["sync GET transaction + decode vs raw httpx + json.loads"][3] == "1.05 [1.00-1.20]"
    assert rows["sync GET transaction + decode vs raw httpx + json.loads"][5] == "yes"
    assert rows["sync GET transaction + decode vs default generator"][5] == "yes"  # 0.78-0.86 of the default
    assert rows["async 1000 concurrent vs its own rate at 10"][3] == "1.00 [1.00-1.00]"
    imports = rows["import trustly, over import httpx"]
    assert imports[3:] == ("+17.5 [15.0-20.0] ms", "<= +30 ms", "yes", "+10.0 [10.0-10.0] ms")
    assert rows["make generate"][3:] == ("1.60 [1.50-1.70] s", "<= 3 s", "yes", "1.30 [1.20-1.40] s")
    warm = rows["make generate, templates compiled by an earlier run"]
    assert warm[3:] == ("1.20 [1.10-1.30] s", "<= 3 s", "yes", "1.00 [0.90-1.10] s")
    assert rows["notification verified + stored (SQLite inbox)"][1:6] == (
        "4.0 ms p50",
        "",
        "p99 20.0 ms",
        "p99 <= 100 ms (Trustly waits 3 s)",
        "yes",
    )
    assert rows["bench server capacity vs fastest client measured"][5] == "yes"


def test_the_aiohttp_backend_row_says_not_built_until_it_exists() -> None:
    rows = _by_label(build_rows(_figures()))
    assert rows["async    10 aiohttp backend vs raw aiohttp"][1:3] == ("not built", "1,550/s")
    rows = _by_label(build_rows(_figures(backend=True)))
    assert rows["async    10 aiohttp backend vs raw aiohttp"][1] == "1,350/s"
    assert rows["async    10 aiohttp backend vs raw aiohttp"][5] == "yes"


def test_without_the_published_file_the_default_generator_rows_say_so() -> None:
    rows = _by_label(build_rows(_figures(default=False)))
    assert rows["sync GET transaction + decode vs default generator"][2] == "no published file"
    assert rows["sync GET transaction + decode vs default generator"][5] == "-"


@pytest.mark.parametrize(("raw_1000", "ratio"), [(0.0, "inf [inf-inf]"), (980.0, "0.50 [0.49-0.51]")])
def test_a_collapsed_or_faster_reference_is_reported_not_crashed_on(raw_1000: float, ratio: str) -> None:
    rows = _by_label(build_rows(_figures(raw_1000=raw_1000)))
    row = rows["async  1000 concurrent GETs vs raw httpx.AsyncClient"]
    assert row[3] == ratio
    assert row[5] == ("yes" if raw_1000 == 0 else "NO")


def test_the_table_prints_one_aligned_line_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    rows = build_rows(_figures())
    print_table(rows)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(rows) + 2
    assert len({line.index("|") for line in lines}) == 1


def test_an_earlier_run_without_the_warm_generate_figure_shows_only_the_cold_row() -> None:
    figures = _figures()
    del figures["generate_warm_s"], figures["generate_warm_cpu_s"]
    rows = _by_label(build_rows(figures))
    assert rows["make generate"][5] == "yes"
    assert "make generate, templates compiled by an earlier run" not in rows
