"""The benchmark's own parts: its bodies follow the spec, and its server answers them correctly.

`make bench` is only as honest as what it serves: a body missing half the schema flatters
every client, and a server that mixes up answers or stalls measures itself, not the client.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from bench import baseline, fixtures
from bench.harness import pipelined_capacity, start_server, stop_server
from trustly_api_client.models import Transaction, TransactionList

pytestmark = pytest.mark.integration


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = fixtures.schema(node["$ref"].rsplit("/", 1)[-1])
    return node


def _missing(value: Any, node: dict[str, Any], where: str) -> list[str]:
    """Every property of every object in `node` that `value` leaves out."""
    node = _resolve(node)
    for combinator in ("oneOf", "anyOf"):
        if combinator in node:
            node = _resolve(next(b for b in node[combinator] if _resolve(b).get("type") != "null"))
    missing = []
    if isinstance(value, dict):
        for key, sub in node.get("properties", {}).items():
            if key not in value:
                missing.append(f"{where}.{key}")
            else:
                missing += _missing(value[key], sub, f"{where}.{key}")
    elif isinstance(value, list):
        if not value:
            missing.append(f"{where}[]")
        for i, item in enumerate(value):
            missing += _missing(item, node.get("items", {}), f"{where}[{i}]")
    return missing


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": fixtures.spec()["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


# -- bodies ----------------------------------------------------------------------------------
def test_the_transaction_sets_every_property_of_the_schema_nested_objects_included() -> None:
    body = fixtures.transaction()
    assert _missing(body, fixtures.schema("Transaction"), "transaction") == []
    # Nested objects are really there, not just the top level.
    assert body["payment"]["account"]["paymentProvider"]["address"]["city"]
    assert body["payment"]["recurrence"]["recurringAmount"]


def test_every_body_fits_the_spec() -> None:
    _validator("Transaction").validate(fixtures.transaction())
    _validator("TransactionList").validate(fixtures.transaction_page())
    _validator("ErrorResponse").validate(fixtures.error_body())


def test_our_models_decode_the_bodies_without_losing_a_field() -> None:
    body = fixtures.transaction()
    assert Transaction.from_dict(body).to_dict() == body
    page = TransactionList.from_dict(fixtures.transaction_page())
    assert len(page.transactions) == 100
    assert len({t.transaction_id for t in page.transactions}) == 100


@pytest.mark.parametrize(("count", "start"), [(0, 0), (1, 7), (100, 0), (100, 9_900)])
def test_pages_have_distinct_ids_from_their_start(count: int, start: int) -> None:
    page = fixtures.transaction_page(count, start)
    ids = [row["transactionId"] for row in page["transactions"]]
    assert ids == [str(1_002_000_000 + i) for i in range(start, start + count)]
    assert page["startIndex"] == start


# -- conform: our body as Trustly's published file types it -----------------------------------
@pytest.mark.parametrize(
    ("value", "node", "expected"),
    [
        (1_767_225_600_000, {"type": "string", "format": "date-time"}, "2026-01-01T00:00:00+00:00"),
        ("CAD", {"type": "string", "enum": ["USD"]}, "USD"),
        ("USD", {"type": "string", "enum": ["USD"]}, "USD"),
        (5, {"type": "string"}, "5"),
        (5, {"type": "number"}, 5),
        ({"a": 1, "extra": 2}, {"type": "object", "properties": {"a": {"type": "string"}}}, {"a": "1", "extra": 2}),
        ({}, {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["x", "y"]}}}, {"kind": "x"}),
        ([1, 2], {"type": "array", "items": {"type": "string"}}, ["1", "2"]),
        (3, {"anyOf": [{"type": "null"}, {"type": "string"}]}, "3"),
    ],
)
def test_conform_rewrites_only_what_the_published_schema_types_otherwise(value: Any, node: Any, expected: Any) -> None:
    assert baseline.conform(value, node) == expected


# -- the server ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bodies")
    for name, body in fixtures.encoded().items():
        (folder / f"{name}.json").write_bytes(body)
    published = folder / "published"
    published.mkdir()
    (published / "transaction.json").write_bytes(b'{"published": "transaction"}')
    (published / "page.json").write_bytes(b'{"published": "page"}')
    return folder


@pytest.fixture(scope="module")
def port(bodies: Path) -> Iterator[int]:
    server, port = start_server(bodies)
    try:
        yield port
    finally:
        stop_server(server)


@pytest.mark.parametrize(
    ("target", "status", "body"),
    [
        ("/api/v1/transactions/1002633191", 200, "transaction"),
        ("/api/v1/transactions/1", 200, "transaction"),
        ("/api/v1/transactions?count=100&startIndex=0", 200, "page"),
        ("/api/v1/transactions", 200, "page"),
        (f"/api/v1/transactions/{fixtures.NOT_FOUND_ID}", 404, "error"),
        ("/api/v1/transactions/1/capture", 404, "error"),
        ("/api/v1/payments", 404, "error"),
        ("/", 404, "error"),
        ("/published/api/v1/transactions/1002633191", 200, "published/transaction"),
        ("/published/api/v1/transactions?count=100", 200, "published/page"),
        (f"/published/api/v1/transactions/{fixtures.NOT_FOUND_ID}", 404, "error"),
    ],
)
def test_the_server_answers_each_route_with_its_body(
    port: int, bodies: Path, target: str, status: int, body: str
) -> None:
    response = httpx.get(f"http://127.0.0.1:{port}{target}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.content == (bodies / f"{body}.json").read_bytes()


def test_one_kept_alive_connection_serves_many_requests(port: int, bodies: Path) -> None:
    expected = (bodies / "transaction.json").read_bytes()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", limits=httpx.Limits(max_connections=1)) as client:
        for _ in range(50):
            assert client.get("/transactions/1002633191").content == expected
        # A request with a body is read whole, so the next request on the connection is not garbled.
        assert client.post("/transactions/1002633191", content=b"x" * 10_000).content == expected
        assert client.get("/transactions").content == (bodies / "page.json").read_bytes()


def _read_answer(stream: Any) -> tuple[bytes, bytes]:
    status = stream.readline()
    length = 0
    while (line := stream.readline()) != b"\r\n":
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return status, stream.read(length)


def test_pipelined_requests_are_answered_in_order_even_when_the_client_reads_late(port: int, bodies: Path) -> None:
    targets = ["/api/v1/transactions", f"/api/v1/transactions/{fixtures.NOT_FOUND_ID}", "/api/v1/transactions/1"] * 40
    expected = {"/api/v1/transactions": "page", "/api/v1/transactions/1": "transaction"}
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # About 18 MB of answers: far past the socket buffers, so the server must pause reading
        # while this client is not reading, and resume when it does.
        sock.sendall(b"".join(f"GET {t} HTTP/1.1\r\nHost: bench\r\n\r\n".encode() for t in targets))
        with sock.makefile("rb") as stream:
            for target in targets:
                status, body = _read_answer(stream)
                name = expected.get(target, "error")
                assert status.startswith(b"HTTP/1.1 404" if name == "error" else b"HTTP/1.1 200")
                assert body == (bodies / f"{name}.json").read_bytes()


def test_the_capacity_probe_reads_every_answer_it_asked_for(port: int) -> None:
    rate, answered = asyncio.run(
        pipelined_capacity(port, "/api/v1/transactions/1", connections=2, depth=8, seconds=0.2)
    )
    assert answered > 0 and answered % 8 == 0
    assert rate > 0


def test_the_server_bodies_are_the_fixtures(bodies: Path) -> None:
    assert json.loads((bodies / "transaction.json").read_bytes()) == fixtures.transaction()
    assert json.loads((bodies / "error.json").read_bytes()) == fixtures.error_body()
