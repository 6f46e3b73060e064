"""`make spec-drift`: no drift on the baseline; each change of a doctored copy reported and failing."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

import spec_drift  # noqa: E402

BASELINE = max((ROOT / "spec" / "upstream").glob("trustly-north-america-openapi.*.yml"))
OURS = ROOT / "spec" / "trustly-openapi.yaml"
PUBLISHED: dict[str, Any] = yaml.safe_load(BASELINE.read_text())


def _run(upstream: Path) -> tuple[int, str]:
    done = subprocess.run(
        ["make", "--no-print-directory", "spec-drift", f"UPSTREAM={upstream}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_baseline_has_no_drift() -> None:
    code, output = _run(BASELINE)
    assert code == 0, output
    assert "No upstream changes" in output


def _doctored() -> dict[str, Any]:
    doctored = copy.deepcopy(PUBLISHED)
    # An added operation.
    doctored["paths"]["/transactions/{transactionId}/hold"] = {
        "post": {
            "operationId": "transactions_post-transactions-hold",
            "parameters": [{"name": "transactionId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}},
        }
    }
    # A removed enum value: status 14 (OnHold) is gone.
    doctored["components"]["schemas"]["TransactionStatus"]["enum"].remove("14")
    # A new response field on every Transaction.
    doctored["components"]["schemas"]["Transaction"]["properties"]["settlementDate"] = {"type": "integer"}
    return doctored


def test_a_doctored_copy_reports_each_change_and_fails(tmp_path: Path) -> None:
    upstream = tmp_path / "trustly-north-america-openapi.next.yml"
    upstream.write_text(yaml.safe_dump(_doctored(), sort_keys=False))
    code, output = _run(upstream)
    assert code != 0, output  # the script exits 1; make reports that as its own failure
    assert "not reflected in spec/trustly-openapi.yaml" in output
    assert "+ operation POST /transactions/{transactionId}/hold  <- not in our spec" in output
    assert "- enum value GET /transactions/{transactionId} 200: response status = 14  <- still in our spec" in output
    assert "+ response property GET /transactions/{transactionId} 200: settlementDate  <- not in our spec" in output
    assert "+ response property GET /transactions 200: transactions[].settlementDate  <- not in our spec" in output
    args = ["--upstream", str(upstream), "--baseline", str(BASELINE), "--spec", str(OURS)]
    assert spec_drift.main(args) == 1


def test_changes_our_spec_already_reflects_pass() -> None:
    # Upstream adds the fields our spec already has beyond the baseline (the redirect webhook).
    ours: dict[str, Any] = yaml.safe_load(OURS.read_text())
    doctored = copy.deepcopy(PUBLISHED)
    doctored["webhooks"]["Process"] = ours["webhooks"]["Process"]
    doctored["components"]["schemas"]["ProcessEvent"] = {
        "type": "object",
        "properties": {"eventId": {"type": "string"}},
    }
    drift = spec_drift.compare(PUBLISHED, doctored, ours)
    assert [str(item) for item in drift.added] == ["webhook Process", "webhook property Process: eventId"]
    assert drift.unreflected == set()


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("parameter", lambda d: d["paths"]["/payments"]["get"]["parameters"].append({"name": "cur", "in": "query"})),
        ("webhook", lambda d: d["webhooks"].pop("eventNotifications_Refresh")),
        ("request property", lambda d: d["paths"]["/transactions/{transactionId}/refund"]["post"]["requestBody"]
            ["content"]["application/json"]["schema"]["properties"].update(reason={"type": "string"})),
    ],
)  # fmt: skip
def test_every_kind_of_change_is_seen(kind: str, change: Any) -> None:
    doctored = copy.deepcopy(PUBLISHED)
    change(doctored)
    ours: dict[str, Any] = yaml.safe_load(OURS.read_text())
    drift = spec_drift.compare(PUBLISHED, doctored, ours)
    assert {item.kind for item in drift.added + drift.removed} >= {kind}
    assert drift.unreflected
