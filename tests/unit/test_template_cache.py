"""The compiled-template cache of `make generate` never serves a template other than the current one.

Each case compiles a template into the cache, changes something, and renders again through a new
environment on the same cache: the result must be what compiling afresh gives.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

import workspace  # noqa: E402


def _environment(templates: Path, **settings: object) -> Environment:
    # The settings openapi-python-client gives its environment.
    options: dict[str, object] = {
        "trim_blocks": True,
        "lstrip_blocks": True,
        "extensions": ["jinja2.ext.loopcontrols"],
        "keep_trailing_newline": True,
    }
    options.update(settings)
    # S701: these templates write Python source, never HTML, like the generator's own environment.
    return Environment(loader=FileSystemLoader(str(templates)), **options)  # type: ignore[arg-type]  # noqa: S701


def _render(templates: Path, cache_root: Path, **settings: object) -> str:
    env = _environment(templates, **settings)
    workspace.TemplateCache(workspace.TemplateCache.folder_for(cache_root, env), templates).attach(env)
    return env.get_template("model.py.jinja").render(names=["a", "b"])


def _entries(cache_root: Path) -> dict[Path, tuple[int, int]]:
    return {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in cache_root.rglob("*") if path.is_file()}


SOURCE = "{% for name in names %}\n{{ name }} = 1\n{% endfor %}\n"
CHANGES = {
    "text": "{% for name in names %}\n{{ name }} = 2\n{% endfor %}\n",
    "whitespace only": "{% for name in names %}\n{{ name }}  = 1\n{% endfor %}\n",
    "control flow": "{% for name in names %}\n{% if name == 'b' %}{% break %}{% endif %}{{ name }} = 1\n{% endfor %}\n",
    "to an empty template": "",
}


@pytest.mark.parametrize("changed", CHANGES.values(), ids=CHANGES.keys())
def test_a_changed_template_is_compiled_anew(tmp_path: Path, changed: str) -> None:
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    (templates / "model.py.jinja").write_text(SOURCE)
    assert _render(templates, cache) == "a = 1\nb = 1\n"
    (templates / "model.py.jinja").write_text(changed)
    fresh = _environment(templates).get_template("model.py.jinja").render(names=["a", "b"])
    assert _render(templates, cache) == fresh


DAMAGE = {
    "empty": lambda data: b"",
    "cut short": lambda data: data[: len(data) // 2],
    "garbage": lambda data: b"\x80\x04not a cache entry" * 10,
    "another template's entry": None,
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_entry_is_compiled_anew(tmp_path: Path, damage: object) -> None:
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    (templates / "model.py.jinja").write_text(SOURCE)
    _render(templates, cache)
    (entry,) = _entries(cache)
    if damage is None:
        (templates / "model.py.jinja").write_text("other = 1\n")
        _render(templates, cache)
        (templates / "model.py.jinja").write_text(SOURCE)
    else:
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert _render(templates, cache) == "a = 1\nb = 1\n"
    assert _render(templates, cache) == "a = 1\nb = 1\n"


def test_the_same_templates_in_another_scratch_folder_are_served_from_the_cache(tmp_path: Path) -> None:
    first, second, cache = tmp_path / "run1" / "templates", tmp_path / "run2" / "templates", tmp_path / "cache"
    first.mkdir(parents=True)
    (first / "model.py.jinja").write_text(SOURCE)
    _render(first, cache)
    before = _entries(cache)
    shutil.copytree(first, second)
    shutil.rmtree(first)
    assert _render(second, cache) == "a = 1\nb = 1\n"
    assert _entries(cache) == before, "the entry was compiled and written again"


SETTINGS = {
    "trim_blocks": {"trim_blocks": False},
    "lstrip_blocks": {"lstrip_blocks": False},
    "keep_trailing_newline": {"keep_trailing_newline": False},
    "extensions": {"extensions": []},
    "block syntax": {"block_start_string": "<%", "block_end_string": "%>"},
    "newline_sequence": {"newline_sequence": "\r\n"},
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_other_environment_settings_use_another_folder(tmp_path: Path, settings: dict[str, object]) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    base = workspace.TemplateCache.folder_for(tmp_path, _environment(templates))
    assert workspace.TemplateCache.folder_for(tmp_path, _environment(templates)) == base
    assert workspace.TemplateCache.folder_for(tmp_path, _environment(templates, **settings)) != base
