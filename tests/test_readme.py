"""The README's Python examples run, in order, as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_examples_run(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 6
    script = tmp_path / "readme_examples.py"
    script.write_text("\n\n".join(blocks))
    env = {"PYTHONPATH": f"{ROOT / 'overlays'}:{ROOT / 'generated'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refund applied: True" in done.stdout
    assert "COMPLETED at " in done.stdout and re.search(r"^trustly-py-refund-[0-9a-f]{32}$", done.stdout, re.M)
    assert "transaction_type=REFUND" in done.stdout and "UNSET" not in done.stdout
    assert "GET /countries -> 200" in done.stderr
