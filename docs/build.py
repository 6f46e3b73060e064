"""Build the offline HTML API reference of `trustly` with pdoc, and fail on a public symbol without a docstring.

    python docs/build.py --output build/docs

The reference covers what users import: `trustly`, `trustly.models` (the generated models it
re-exports), `trustly.webhooks` and `trustly.testing` with its pytest plugin. A symbol is public
when its name has no leading underscore and pdoc documents it; every public module, class,
function, method and property must say what it is for. Enum members and model fields are
documented by their class's docstring.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pdoc
import pdoc.doc

MODULES = ("trustly", "trustly.models", "trustly.webhooks", "trustly.testing", "trustly.testing.pytest_plugin")
LAZY = ("trustly.models", "trustly.testing")
"""Modules that resolve their names on first use; pdoc reads a module's namespace, so load them first."""


def _load_lazy_names() -> None:
    for name in LAZY:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            setattr(module, attribute, getattr(module, attribute))


def _walk(namespace: pdoc.doc.Namespace[Any]) -> Iterator[tuple[Any, pdoc.doc.Doc[Any]]]:
    """(owner object, member) for public members; for a class, only those it defines itself."""
    owner = namespace.taken_from[1] if isinstance(namespace, pdoc.doc.Class) else None
    for member in namespace.members.values():
        if member.name.startswith("_"):
            continue
        if owner is not None and member.taken_from[1].rpartition(".")[0] != owner:
            continue  # inherited: the base class documents it
        yield namespace.obj, member
        if isinstance(member, pdoc.doc.Class):
            yield from _walk(member)


def _needs_docstring(owner: Any, member: pdoc.doc.Doc[Any]) -> bool:
    if not isinstance(member, pdoc.doc.Variable):
        return True  # modules, classes, functions and methods
    # Of variables, only properties: constants, enum members and model fields are described by
    # their module's or class's docstring.
    return isinstance(inspect.getattr_static(owner, member.name, None), property | functools.cached_property)


def missing_docstrings(module_names: tuple[str, ...] = MODULES) -> list[str]:
    """Qualified names of public modules, classes, functions and properties without a docstring."""
    _load_lazy_names()
    missing: list[str] = []
    for name in module_names:
        module = pdoc.doc.Module.from_name(name)
        if not module.docstring.strip():
            missing.append(name)
        for owner, member in _walk(module):
            if _needs_docstring(owner, member) and not member.docstring.strip():
                missing.append(f"{member.modulename}.{member.qualname}")
    return sorted(set(missing))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("build/docs"))
    args = parser.parse_args()
    pdoc.render.configure(docformat="google", show_source=False, search=True)
    _load_lazy_names()
    pdoc.pdoc(*MODULES, output_directory=args.output)
    missing = missing_docstrings()
    if missing:
        print(f"{len(missing)} public symbol(s) without a docstring:", file=sys.stderr)
        for name in missing:
            print(f"  {name}", file=sys.stderr)
        return 1
    print(f"API reference in {args.output / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
