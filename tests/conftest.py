"""Fixtures shared by every layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The plugin users get from the `testing` extra (not installed here, so no entry point), and pytester.
pytest_plugins = ["trustly.testing.pytest_plugin", "pytester"]

ACCESS_ID = "merchant-access-id"
ACCESS_KEY = "s3cr3t-access-key-never-logged"
BASE_URL = "http://127.0.0.1:8765/api/v1"

TRANSACTION = {
    "transactionId": "1002633191",
    "transactionType": "1",
    "status": "2",
    "createdAt": 1700000000000,
    "amount": "10.00",
    "currency": "USD",
    "merchantReference": "order-1",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TRUSTLY_ACCESS_ID", "TRUSTLY_ACCESS_KEY", "TRUSTLY_ENVIRONMENT", "TRUSTLY_LOG"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


REPORT: list[str] = []
"""Figures the reliability suites print at the end of the run."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("reliability figures")
        for line in REPORT:
            terminalreporter.write_line(line)
