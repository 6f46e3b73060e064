"""How `make generate` runs the pinned generator and where its files go.

`generate.py` builds the package in a scratch folder (`scratch_root`) by running the pinned
openapi-python-client in process (`run_generator`), which compiles our templates through a cache
that never serves a stale one (`TemplateCache`), and makes the output folder an exact copy of the
result (`replace_tree`). They live here, apart from the spec checks and rendering in
`generate.py`, because they are about running tools, files and caches, not about the spec.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import stat
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["GenerateError", "TemplateCache", "replace_tree", "run_generator", "scratch_root"]


class GenerateError(Exception):
    """An input is wrong; the message says which and why."""


def scratch_root() -> str | None:
    """Where the package is built before it replaces the output: in memory where Linux offers that.

    Every file is written by the generator, then rewritten in place for the header and by both
    ruff passes. On ext4 (the default `auto_da_alloc`), rewriting a file by truncating it pushes
    its blocks to disk at once, and deleting the scratch folder then has to free them: on a
    2-core machine that was 0.4-0.6 s of a 2.4 s run. On tmpfs the same steps cost a few ms.
    """
    # S108: only the parent; TemporaryDirectory makes a private (0700) folder with a random name in it.
    shm = Path("/dev/shm")  # noqa: S108
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def replace_tree(source: Path, output: Path) -> None:
    """Make `output` an exact copy of `source`, as deleting it and copying `source` anew would.

    Anything `source` lacks is deleted, and a file is written only where its bytes or mode
    differ; an unchanged file is left as it was. Deleting and rewriting the whole committed tree
    cost about 0.15 s of every `make generate` (ext4 freeing the old files' blocks) and gave
    every file a new mtime, which sent editors and incremental tools back over all of it.
    """
    files = {path.relative_to(source): path for path in source.rglob("*") if path.is_file()}
    folders = {path.relative_to(source) for path in source.rglob("*") if path.is_dir()}
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        output.unlink()
    output.mkdir(parents=True, exist_ok=True)
    for root, dirs, names in os.walk(output):
        here = Path(root)
        for name in list(dirs):
            path = here / name
            if path.is_symlink():
                path.unlink()
                dirs.remove(name)
            elif path.relative_to(output) not in folders:
                shutil.rmtree(path)
                dirs.remove(name)
        for name in names:
            path = here / name
            if path.is_symlink() or not path.is_file() or path.relative_to(output) not in files:
                path.unlink()
    for folder in sorted(folders):
        (output / folder).mkdir(exist_ok=True)
    for relative, path in files.items():
        target = output / relative
        data, mode = path.read_bytes(), stat.S_IMODE(path.stat().st_mode)
        if target.exists():
            if target.read_bytes() == data:
                if stat.S_IMODE(target.stat().st_mode) != mode:
                    target.chmod(mode)
                continue
            target.unlink()
        target.write_bytes(data)
        target.chmod(mode)


class TemplateCache:
    """Compiled templates kept between runs in a folder, so that a run compiles only what changed.

    Compiling the 26 templates was about a sixth of a run. Nothing stale can be served: Jinja
    checks each entry against the sha1 of the template's source and the Python version, and the
    folder is named by everything else compiled code depends on (`folder_for`). A damaged or
    unreadable entry is a miss, and entries are replaced atomically, so concurrent runs are safe.
    (A traceback through one of our templates served from here names the scratch folder of the
    run that compiled it; the output is the same.)
    """

    def __init__(self, folder: Path, templates: Path) -> None:
        self.folder = folder
        self.templates = str(templates)

    @staticmethod
    def folder_for(root: Path, environment: Any) -> Path:
        """The cache folder inside `root` for the Jinja, generator and Python versions and the syntax."""
        import importlib.util

        import jinja2

        env = environment
        key = repr(
            (
                jinja2.__version__,
                metadata.version("openapi-python-client"),
                sys.version,
                importlib.util.MAGIC_NUMBER,
                sorted(env.extensions),
                [getattr(env, name) for name in _JINJA_SYNTAX],
                env.finalize is None,
                env.optimized,
                env.is_async,
                str(env.autoescape),
            )
        )
        return root / hashlib.sha256(key.encode()).hexdigest()[:32]

    def key(self, name: str, filename: str | None) -> str:
        # Our templates are copied to a new scratch folder on each run: key them by their place
        # in it, not by its random name. The source checksum still guards the content.
        where = (filename or "").replace(self.templates, "<templates>")
        return hashlib.sha256(f"{name}|{where}".encode()).hexdigest()

    def attach(self, environment: Any) -> None:
        """Make `environment` load and store its compiled templates here."""
        from jinja2 import BytecodeCache
        from jinja2.bccache import Bucket

        cache = self

        class _Jinja(BytecodeCache):
            def get_cache_key(self, name: str, filename: str | None = None) -> str:
                return cache.key(name, filename)

            def load_bytecode(self, bucket: Bucket) -> None:
                try:
                    data = (cache.folder / bucket.key).read_bytes()
                    bucket.bytecode_from_string(data)
                # Whatever is wrong with an entry (missing, cut short, garbage), it is compiled anew.
                except Exception:
                    bucket.reset()

            def dump_bytecode(self, bucket: Bucket) -> None:
                cache.folder.mkdir(parents=True, exist_ok=True)
                partial = cache.folder / f".{bucket.key}.{os.getpid()}"
                partial.write_bytes(bucket.bytecode_to_string())
                partial.replace(cache.folder / bucket.key)

        environment.bytecode_cache = _Jinja()


# The Environment settings that change how a template's source is parsed.
_JINJA_SYNTAX = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
)


def run_generator(
    spec_path: Path, config_path: Path, templates: Path, package: Path, template_cache: Path | None = None
) -> None:
    """Run the pinned openapi-python-client on the spec, in this process; any warning is an error.

    In process rather than through its command line: `generate.py`'s checks have imported it already,
    and a second interpreter importing it again cost a third of `make generate`. With
    `template_cache`, compiled templates are kept there between runs (`TemplateCache`).
    """
    from openapi_python_client import _get_project_for_url_or_path
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser.errors import GeneratorError

    config = Config.from_sources(
        ConfigFile.load_from_path(config_path),
        MetaType.NONE,
        document_source=spec_path,
        file_encoding="utf-8",
        overwrite=False,
        output_path=package,
    )
    # The body of openapi_python_client.generate, with a bytecode cache given to the project's
    # Jinja environment before it loads any template.
    project = _get_project_for_url_or_path(config=config, custom_template_path=templates)
    if isinstance(project, GeneratorError):
        errors = [project]
    else:
        if template_cache is not None:
            TemplateCache(TemplateCache.folder_for(template_cache, project.env), templates).attach(project.env)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the folder it generates into
            errors = list(project.build())
    if errors:
        details = "\n".join(f"{error.header}\n{error.detail or ''}" for error in errors)
        raise GenerateError(f"openapi-python-client failed:\n{details}")
