"""The README's examples run, as written.

- Every ```python block, in order, as one script; a block starting with `# test_*.py` is a test
  file instead, run by pytest with the plugin.
- Every ```sh block with bash, with the `trustly` command on PATH (the entry point pyproject.toml
  declares) and the simulator's port 8089 replaced by a free one. ```bash blocks are not run.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
ENV = {"PYTHONPATH": f"{ROOT / 'overlays'}:{ROOT / 'generated'}", "PATH": "/usr/bin:/bin"}


def test_readme_examples_run(tmp_path: Path) -> None:
    blocks = [block for block in PYTHON_BLOCKS if not block.startswith("# test_")]
    assert len(blocks) >= 6
    script = tmp_path / "readme_examples.py"
    script.write_text("\n\n".join(blocks))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refund applied: True" in done.stdout
    assert "reported to on_ambiguous: True" in done.stdout
    assert "COMPLETED at " in done.stdout and re.search(r"^trustly-py-refund-[0-9a-f]{32}$", done.stdout, re.M)
    assert "transaction_type=REFUND" in done.stdout and "UNSET" not in done.stdout
    assert "GET /countries -> 200" in done.stderr


def test_readme_test_files_pass_with_the_plugin(tmp_path: Path) -> None:
    files = [block for block in PYTHON_BLOCKS if block.startswith("# test_")]
    assert files
    for block in files:
        (tmp_path / block.splitlines()[0].removeprefix("# ").strip()).write_text(block)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "trustly.testing.pytest_plugin", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b4 passed\b", done.stdout), done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readme_shell_session_runs(tmp_path: Path) -> None:
    (block,) = re.findall(r"```sh\n(.*?)```", TEXT, flags=re.S)
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["trustly"]
    module, _, function = target.partition(":")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "trustly"
    shim.write_text(
        f'#!/bin/sh\nexec {sys.executable} -c "import sys; from {module} import {function}; '
        f'sys.exit({function}())" "$@"\n'
    )
    shim.chmod(0o755)
    script = tmp_path / "session.sh"
    script.write_text("set -euo pipefail\n" + block.replace("8089", str(_free_port())))
    process = subprocess.Popen(
        ["bash", str(script)],
        cwd=tmp_path,
        env={**ENV, "PATH": f"{bin_dir}:{ENV['PATH']}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the background simulator is in this group: stopped even on failure
    )
    try:
        out, err = process.communicate(timeout=180)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, out + err
    assert '"transactionId"' in out and "order-7" in out  # establish answered; the listing shows it
    assert "<title>Select your bank - Trustly simulator" in out  # the Lightbox establish pointed to
    assert "exit code 6" in out and "Trustly code" in err and "correlation id: " in err
    assert "exit code 11" in out and "carries no signature" in err
    assert "signed string: accessId=simulator-access-id&merchantId=1002463580" in err
    assert "requestSignature" in (tmp_path / "signed.json").read_text()


def test_readme_uses_the_simulators_public_helpers_only() -> None:
    """The split token, events and signatures come from `Simulator` methods, not its ledger."""
    assert not re.search(r"\.(ledger|notifier)\b", TEXT)
    assert "/simulator/" not in TEXT.replace("/_simulator/", "")  # one prefix for its own endpoints
