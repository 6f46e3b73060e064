"""`make generate` leaves the output folder exactly as deleting it and copying the new tree would.

`replace_tree` writes only what differs, so each starting state of the output below must end in
the same tree (paths, kinds, bytes, modes) as a fresh copy, without writing through a symlink.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

import workspace  # noqa: E402

Snapshot = dict[str, tuple[str, bytes, int]]


def _snapshot(root: Path) -> Snapshot:
    found: Snapshot = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path).encode(), 0)
        elif path.is_dir():
            found[relative] = ("dir", b"", mode)
        else:
            found[relative] = ("file", path.read_bytes(), mode)
    return found


def _source(tmp: Path) -> Path:
    source = tmp / "source"
    (source / "models" / "nested").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "__init__.py").write_text("# init\n")
    (source / "client.py").write_text("client = 1\n")
    (source / "models" / "payment.py").write_text("class Payment: ...\n")
    (source / "models" / "nested" / "deep.py").write_text("deep = True\n")
    (source / "py.typed").write_text("")
    return source


def _missing(output: Path, outside: Path) -> None:
    shutil.rmtree(output)


def _identical(output: Path, outside: Path) -> None:
    pass


def _stale_files_and_folders(output: Path, outside: Path) -> None:
    (output / "models" / "removed_schema.py").write_text("gone\n")
    (output / "api" / "removed_tag").mkdir(parents=True)
    (output / "api" / "removed_tag" / "op.py").write_text("gone\n")
    (output / "__pycache__").mkdir()
    (output / "__pycache__" / "client.cpython-311.pyc").write_bytes(b"\0")


def _changed_bytes(output: Path, outside: Path) -> None:
    (output / "client.py").write_text("client = 2\n")
    (output / "models" / "nested" / "deep.py").write_text("")
    (output / "py.typed").write_text("not empty")


def _changed_mode(output: Path, outside: Path) -> None:
    (output / "client.py").chmod(0o755)
    (output / "models" / "payment.py").chmod(0o600)


def _file_where_a_folder_belongs(output: Path, outside: Path) -> None:
    shutil.rmtree(output / "models")
    (output / "models").write_text("a file\n")


def _folder_where_a_file_belongs(output: Path, outside: Path) -> None:
    (output / "client.py").unlink()
    (output / "client.py").mkdir()
    (output / "client.py" / "inner.py").write_text("x\n")


def _symlink_where_a_file_belongs(output: Path, outside: Path) -> None:
    (output / "client.py").unlink()
    (output / "client.py").symlink_to(outside / "kept.txt")


def _symlink_where_a_folder_belongs(output: Path, outside: Path) -> None:
    shutil.rmtree(output / "models")
    (output / "models").symlink_to(outside, target_is_directory=True)


def _output_is_a_file(output: Path, outside: Path) -> None:
    shutil.rmtree(output)
    output.write_text("a file\n")


def _output_is_a_symlink(output: Path, outside: Path) -> None:
    shutil.rmtree(output)
    output.symlink_to(outside, target_is_directory=True)


STARTS: list[Callable[[Path, Path], None]] = [
    _missing,
    _identical,
    _stale_files_and_folders,
    _changed_bytes,
    _changed_mode,
    _file_where_a_folder_belongs,
    _folder_where_a_file_belongs,
    _symlink_where_a_file_belongs,
    _symlink_where_a_folder_belongs,
    _output_is_a_file,
    _output_is_a_symlink,
]


@pytest.mark.parametrize("start", STARTS, ids=[start.__name__.strip("_") for start in STARTS])
def test_the_output_ends_as_a_fresh_copy_of_the_new_tree(tmp_path: Path, start: Callable[[Path, Path], None]) -> None:
    source = _source(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.txt").write_text("not ours\n")
    before_outside = _snapshot(outside)
    output = tmp_path / "out" / "trustly_api_client"
    output.parent.mkdir()
    shutil.copytree(source, output)
    start(output, outside)

    workspace.replace_tree(source, output)

    assert not output.is_symlink()
    assert _snapshot(output) == _snapshot(source)
    assert _snapshot(outside) == before_outside, "replace_tree wrote through a symlink"


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    source = _source(tmp_path)
    output = tmp_path / "out"
    shutil.copytree(source, output)
    (output / "client.py").write_text("client = 2\n")
    before = {path: path.stat() for path in output.rglob("*.py")}

    workspace.replace_tree(source, output)

    for path, was in before.items():
        now = path.stat()
        rewritten = (now.st_ino, now.st_mtime_ns) != (was.st_ino, was.st_mtime_ns)
        assert rewritten == (path.name == "client.py"), path
