"""The docstring gate of `make docs` (which runs it over the real package): it finds every kind of
undocumented public symbol, and only those."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from docs.build import missing_docstrings

SAMPLE = '''
"""A module with one undocumented thing of each kind."""

import enum
import functools

__all__ = ["Documented", "Kind", "Undocumented", "documented", "undocumented", "LIMIT"]

LIMIT = 3


def documented() -> None:
    """Does something."""


def undocumented() -> None:
    pass


def _private() -> None:
    pass


class Kind(enum.Enum):
    """Enum members are described by the class."""

    A = "a"


class Documented:
    """Has everything."""

    field: int = 0

    def method(self) -> None:
        """Does something."""

    @property
    def value(self) -> int:
        """A value."""
        return 1


class Undocumented:
    def method(self) -> None:
        pass

    @property
    def value(self) -> int:
        return 1

    @functools.cached_property
    def cached(self) -> int:
        return 1

    def _helper(self) -> None:
        pass


class Child(Documented):
    """Inherits documented members; it needs no docstrings of its own for them."""
'''


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "docs_gate_sample.py").write_text(textwrap.dedent(SAMPLE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "docs_gate_sample"
    sys.modules.pop("docs_gate_sample", None)


def test_the_gate_reports_each_undocumented_public_symbol(sample: str) -> None:
    assert missing_docstrings((sample,)) == [
        f"{sample}.Undocumented",
        f"{sample}.Undocumented.cached",
        f"{sample}.Undocumented.method",
        f"{sample}.Undocumented.value",
        f"{sample}.undocumented",
    ]
