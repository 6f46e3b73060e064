"""The typing suite: the type checkers accept correct user code and report each known mistake.

Both directions, under mypy --strict and pyright strict (the npm package pinned in package.json,
run by the local Node):
- `typing_cases/user_code.py` and the README's examples type-check; the user code also under
  mypy's --disallow-any-expr, so no `Any` leaks out of our package into it;
- every line of `typing_cases/mistakes.py` marked `# error` is reported, and no other line.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "typing_cases"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
ENV = {**os.environ, "MYPYPATH": f"{ROOT / 'overlays'}:{ROOT / 'generated'}"}


def _statements(path: Path) -> list[range]:
    """The line span of every statement: a checker may report a mistake on any line of its call."""
    tree = ast.parse(path.read_text())
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, ast.FunctionDef | ast.Module):
            spans.append(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return spans


def _statement_of(path: Path, line: int) -> int:
    return min((span for span in _statements(path) if line in span), key=len).start


def _marked(path: Path) -> set[int]:
    lines = [n for n, text in enumerate(path.read_text().splitlines(), 1) if "# error" in text]
    return {_statement_of(path, n) for n in lines}


def _reported(path: Path, lines: set[int]) -> set[int]:
    return {_statement_of(path, n) for n in lines}


def _mypy(tmp_path: Path, *paths: Path, no_any_in: str | None = None) -> tuple[int, str]:
    # --disallow-any-expr applies to the user's module only: our own code may use Any inside.
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\nincremental = False\n"
        + (f"[mypy-{no_any_in}]\ndisallow_any_expr = True\n" if no_any_in else "")
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), *map(str, paths)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
    )
    return done.returncode, done.stdout + done.stderr


def _pyright(path: Path, tmp_path: Path) -> list[dict[str, object]]:
    if not PYRIGHT.exists():
        pytest.fail("pyright is not installed: run `make install`")
    config = tmp_path / "pyrightconfig.json"
    config.write_text(
        json.dumps(
            {
                "typeCheckingMode": "strict",
                "extraPaths": [str(ROOT / "overlays"), str(ROOT / "generated")],
                "pythonVersion": "3.11",
                "pythonPath": sys.executable,
                "reportUnusedExpression": "none",
                "reportUnusedCallResult": "none",
            }
        )
    )
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--project", str(config), str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    report = json.loads(done.stdout)
    diagnostics: list[dict[str, object]] = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    return diagnostics


def _readme_scripts(tmp_path: Path) -> list[Path]:
    """The README's examples as the user would have them: one script, plus each `# test_*.py` file."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    folder = tmp_path / "readme"
    folder.mkdir()
    script = folder / "readme_examples.py"
    script.write_text("\n\n".join(b for b in blocks if not b.startswith("# test_")))
    files = [script]
    for block in (b for b in blocks if b.startswith("# test_")):
        files.append(folder / block.splitlines()[0].removeprefix("# ").strip())
        files[-1].write_text(block)
    return files


# -- Correct code -----------------------------------------------------------------------------


def test_user_code_has_no_any_from_our_package_under_mypy(tmp_path: Path) -> None:
    code, output = _mypy(tmp_path, CASES / "user_code.py", no_any_in="user_code")
    assert code == 0, output


def test_readme_and_examples_type_check_under_mypy(tmp_path: Path) -> None:
    code, output = _mypy(tmp_path, *_readme_scripts(tmp_path), ROOT / "examples" / "merchant_flow.py")
    assert code == 0, output


def test_user_code_and_readme_type_check_under_pyright_strict(tmp_path: Path) -> None:
    for path in (CASES / "user_code.py", *_readme_scripts(tmp_path)):
        errors = _pyright(path, tmp_path)
        assert errors == [], (path.name, errors)


# -- Mistakes ---------------------------------------------------------------------------------

MISTAKES = CASES / "mistakes.py"


def test_mypy_reports_every_mistake_and_nothing_else(tmp_path: Path) -> None:
    _, output = _mypy(tmp_path, MISTAKES)
    reported = _reported(MISTAKES, {int(m) for m in re.findall(r"mistakes\.py:(\d+): error", output)})
    assert reported == _marked(MISTAKES), output
    print(f"typing suite: mypy reports {len(reported)} of {len(_marked(MISTAKES))} mistakes")


def test_pyright_reports_every_mistake_and_nothing_else(tmp_path: Path) -> None:
    errors = _pyright(MISTAKES, tmp_path)
    lines = {int(e["range"]["start"]["line"]) + 1 for e in errors}  # type: ignore[index]
    reported = _reported(MISTAKES, lines)
    assert reported == _marked(MISTAKES), errors
    print(f"typing suite: pyright reports {len(reported)} of {len(_marked(MISTAKES))} mistakes")
