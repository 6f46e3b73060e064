"""schemathesis against the simulator, from our spec: no schema violation in either direction.

Responses must fit the spec, schema-valid requests must be accepted and schema-violating ones
refused (coverage, fuzzing and stateful phases; bounded examples, deterministic generation).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trustly.testing import Simulator, SimulatorServer

from ..conftest import REPORT

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_schemathesis_finds_no_violations(tmp_path: Path) -> None:
    sim = Simulator(access_id="st-id", access_key="st-key")
    with SimulatorServer(sim) as server:
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"), "run", str(ROOT / "spec" / "trustly-openapi.yaml"),
                "--url", server.base_url, "--auth", "st-id:st-key", "--checks", "all",
                "--max-examples", "20", "--generation-deterministic", "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.st_hooks", "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    sim.close()
    summary = re.search(r"(\d+) generated, (.*)", done.stdout)
    REPORT.append(f"schemathesis: {summary.group(0) if summary else 'no summary'} (exit {done.returncode})")
    assert done.returncode == 0, done.stdout[-6000:]
