"""Regenerate `trustly_api_client` from an OpenAPI file: the script behind `make generate`.

It checks the inputs (spec rules, template names, config keys), works out which fields carry
money or time (`x-trustly-codec`, which the generator itself does not see) and hands that table
to the templates, runs the pinned openapi-python-client with our templates into a scratch
folder, adds what the generator cannot write itself (the operations table, `py.typed`, a
do-not-edit header on every file), formats with the pinned ruff, then makes the output folder
an exact copy of the result, so that nothing from an earlier run survives. With --stamp it
records where the code came from.

Usage:
    python generator/generate.py --spec spec/trustly-openapi.yaml \
        --output generated/trustly_api_client --stamp generator/stamp.json
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from workspace import GenerateError, replace_tree, run_generator, scratch_root

GENERATOR_DIR = Path(__file__).resolve().parent
REPO_ROOT = GENERATOR_DIR.parent
TEMPLATES = GENERATOR_DIR / "templates"
CONFIG = GENERATOR_DIR / "config.yml"
# Ignored by git, like every cache under .cache/.
TEMPLATE_CACHE = REPO_ROOT / ".cache" / "templates"
PACKAGE = "trustly_api_client"
RETRY_CLASSES = ("safe", "idempotent", "unsafe")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MAX_CLASS_NAME = 40
# The name open enums give a value the spec does not list (generator/templates/*_enum.py.jinja).
UNRECOGNIZED = "UNRECOGNIZED"
CODECS = ("amount", "money", "epoch-ms", "epoch-s")
# The body media types the client can encode, and so can switch an operation between.
BODY_TYPES = ("application/json", "application/x-www-form-urlencoded")


def _bin(name: str) -> str:
    # The generator and ruff are pinned in the same environment as this interpreter; never
    # pick up whichever copies happen to be on PATH.
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise GenerateError(f"{name} is not installed next to {sys.executable}; run `make install`")
    return str(path)


def _load_yaml(text: str) -> Any:
    """PyYAML's safe loader, in C where PyYAML was built with libyaml (the same result, faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def check_templates() -> None:
    """Every custom template must replace a built-in one: a misspelt name would be ignored silently."""
    import openapi_python_client

    builtin = Path(openapi_python_client.__file__).parent / "templates"
    if not TEMPLATES.is_dir():
        raise GenerateError(f"template folder {TEMPLATES} is missing")
    for template in sorted(TEMPLATES.rglob("*.jinja")):
        relative = template.relative_to(TEMPLATES)
        if not (builtin / relative).exists():
            raise GenerateError(f"custom template {relative} does not override any built-in template")


def check_config() -> None:
    """The generator ignores unknown config keys; refuse them here instead."""
    from openapi_python_client.config import ConfigFile

    data = _load_yaml(CONFIG.read_text()) or {}
    unknown = sorted(set(data) - set(ConfigFile.model_fields))
    if unknown:
        raise GenerateError(f"unknown keys in {CONFIG.name}: {', '.join(unknown)}")


def snake(value: str) -> str:
    """The generator's own snake_case, so operation IDs match its module names."""
    from openapi_python_client.strings import PythonIdentifier

    return str(PythonIdentifier(value, prefix=""))


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Read every operation and check the rules the spec's header comment states."""
    found: list[dict[str, Any]] = []
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            op_id = op.get("operationId")
            tags = op.get("tags") or []
            if not op_id or len(tags) != 1:
                raise GenerateError(f"{where}: needs an operationId and exactly one tag")
            if not op_id.startswith(f"{tags[0]}_"):
                raise GenerateError(f"{where}: operationId {op_id!r} must start with '{tags[0]}_'")
            retry = op.get("x-trustly-retry")
            if retry not in RETRY_CLASSES:
                raise GenerateError(f"{where}: x-trustly-retry must be one of {RETRY_CLASSES}, not {retry!r}")
            ok = op.get("responses", {}).get("200", {})
            schema = next(iter(ok.get("content", {}).values()), {}).get("schema", {})
            if "$ref" not in schema:
                raise GenerateError(f"{where}: the 200 response must be a $ref to a named schema")
            body = op.get("requestBody", {}).get("content", {})
            alternate = op.get("x-trustly-alternate-content-type")
            if alternate is not None and (len(body) != 1 or alternate in body or alternate not in BODY_TYPES):
                raise GenerateError(
                    f"{where}: x-trustly-alternate-content-type needs one declared body type and must be another of "
                    f"{BODY_TYPES}, not {alternate!r}"
                )
            found.append(
                {
                    "id": snake(op_id),
                    "method": method.upper(),
                    "path": path,
                    "tag": snake(tags[0]),
                    "retry": retry,
                    "content_type": next(iter(body), None),
                    "alternate_content_type": alternate,
                }
            )
    return sorted(found, key=lambda o: o["id"])


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) and ref.startswith("#/components/schemas/") else None


def _codec(schema: dict[str, Any], schemas: dict[str, Any], where: str) -> str | None:
    """The codec of one property or parameter schema: its own, a referenced scalar's, or an allOf's."""
    codec = schema.get("x-trustly-codec")
    name = _ref_name(schema)
    if codec is None and name is not None:
        codec = schemas.get(name, {}).get("x-trustly-codec")
    for part in schema.get("allOf", []) + schema.get("oneOf", []):
        codec = codec or _codec(part, schemas, where)
    if codec is not None and codec not in CODECS:
        raise GenerateError(f"{where}: x-trustly-codec must be one of {CODECS}, not {codec!r}")
    return codec


def _properties(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        name = _ref_name(part)
        props.update(_properties(schemas[name] if name else part, schemas))
    return props


def codecs(spec: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Which fields carry money or time: {class name: {wire name: codec}}, and the same per operation."""
    from openapi_python_client.strings import ClassName

    schemas = spec.get("components", {}).get("schemas", {})
    table: dict[str, dict[str, str]] = {}
    for name, schema in schemas.items():
        fields = {
            prop: codec
            for prop, sub in _properties(schema, schemas).items()
            if (codec := _codec(sub, schemas, f"{name}.{prop}")) is not None
        }
        if fields:
            table[str(ClassName(name, prefix=""))] = fields
    shared = spec.get("components", {}).get("parameters", {})
    for op in operations_with_params(spec):
        fields = {}
        for param in op["parameters"]:
            ref = param.get("$ref")
            if isinstance(ref, str):
                param = shared[ref.rsplit("/", 1)[-1]]
            codec = _codec(param.get("schema", {}), schemas, f"{op['id']} {param['name']}")
            if codec is not None:
                fields[param["name"]] = codec
        if fields:
            table[op["id"]] = fields
    return table


def operations_with_params(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": snake(item[method]["operationId"]), "parameters": item[method].get("parameters", [])}
        for item in spec.get("paths", {}).values()
        for method in HTTP_METHODS
        if method in item
    ]


def render_codecs(table: dict[str, dict[str, str]], ops: list[dict[str, Any]]) -> str:
    """A template the overridden templates import: `{% import "_codecs.jinja" as wire %}`.

    FIELDS maps a class name or an operation id to {wire name: codec}; RETRY maps an operation
    id to its retry class, for the facades' docstrings.
    """
    retry = {o["id"]: o["retry"] for o in ops}
    return (
        "{% set FIELDS = " + json.dumps(table, sort_keys=True) + " %}\n"
        "{% set RETRY = " + json.dumps(retry, sort_keys=True) + " %}\n"
    )


def render_operations(ops: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        f'    "{o["id"]}": Operation("{o["id"]}", "{o["method"]}", "{o["path"]}", "{o["tag"]}", '
        f"RetryClass.{o['retry'].upper()}, {o['content_type']!r}, {o['alternate_content_type']!r}),"
        for o in ops
    )
    return f'''"""Every operation of the API with its HTTP method, path template and retry class.

Read from the `x-trustly-retry` extension of each operation in the spec. The retry class says
what a client may do after a failure:

- SAFE: a read; retrying can change nothing.
- IDEMPOTENT: Trustly de-duplicates a repeat (merchantReference, answered with error code 210,
  or an Idempotency-Key), so retrying cannot move money twice.
- UNSAFE: nothing stops a repeat from being applied twice; never retry once it may have arrived.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ("OPERATIONS", "Operation", "RetryClass")


class RetryClass(StrEnum):
    """What a client may do after a failed attempt of an operation."""

    SAFE = "safe"
    IDEMPOTENT = "idempotent"
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the API."""

    operation_id: str
    method: str
    path: str
    tag: str
    retry: RetryClass
    content_type: str | None
    """The body media type the client sends by default."""
    alternate_content_type: str | None = None
    """Another body media type the operation may take, from `x-trustly-alternate-content-type`."""


OPERATIONS: Final[Mapping[str, Operation]] = MappingProxyType({{
{rows}
}})
'''


def check_enum_names(spec: dict[str, Any]) -> None:
    """No enum may declare the name open enums reserve for values they do not know."""
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        names = schema.get("x-enum-varnames") or schema.get("enum") or []
        if any(str(member).upper() == UNRECOGNIZED for member in names):
            raise GenerateError(f"enum {name}: {UNRECOGNIZED} is reserved for values the spec does not list")


def check_class_names(package: Path) -> None:
    for source in package.rglob("*.py"):
        for line in source.read_text().splitlines():
            if line.startswith("class "):
                name = line[len("class ") :].split("(")[0].split(":")[0]
                if len(name) > MAX_CLASS_NAME:
                    raise GenerateError(f"class {name} in {source.name} is longer than {MAX_CLASS_NAME} characters")


def generate(spec_path: Path, output: Path, stamp: Path | None, template_cache: Path | None = None) -> None:
    spec_path = spec_path.resolve()
    spec_text = spec_path.read_text()
    spec = _load_yaml(spec_text)
    check_templates()
    check_config()
    check_enum_names(spec)
    ops = operations(spec)
    try:
        shown = spec_path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        shown = spec_path.name
    header = f"# Generated by `make generate` from {shown}. Do not edit.\n"

    with tempfile.TemporaryDirectory(dir=scratch_root()) as scratch:
        package = Path(scratch) / PACKAGE
        # Our templates plus one generated from the spec: the generator keeps no per-field
        # extensions, so the money and time fields reach the templates through this table.
        templates = Path(scratch) / "templates"
        shutil.copytree(TEMPLATES, templates)
        (templates / "_codecs.jinja").write_text(render_codecs(codecs(spec), ops))
        run_generator(spec_path, CONFIG, templates, package, template_cache)
        (package / "operations.py").write_text(render_operations(ops))
        (package / "py.typed").write_text("")
        for source in sorted(package.rglob("*.py")):
            source.write_text(header + source.read_text())
        ruff = _bin("ruff")
        # --no-cache: every run formats a fresh folder, so a cache could never be hit; writing one
        # only cost time and left a folder to delete.
        for command in (
            [
                ruff,
                "check",
                "--isolated",
                "--no-cache",
                "--fix-only",
                "--select",
                "F401,I",
                "--target-version",
                "py311",
                ".",
            ],
            [ruff, "format", "--isolated", "--no-cache", "--line-length", "120", "--target-version", "py311", "."],
        ):
            done = subprocess.run(command, cwd=package, capture_output=True, text=True)
            if done.returncode != 0:
                raise GenerateError(f"{' '.join(command[1:3])} failed:\n{done.stdout}{done.stderr}")
        check_class_names(package)
        replace_tree(package, output)

    if stamp is not None:
        stamp.write_text(json.dumps(provenance(spec_path, spec_text), indent=2) + "\n")


def _digest(paths: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def provenance(spec_path: Path, spec_text: str) -> dict[str, str]:
    """What the committed output was made from; any change shows up in review."""
    return {
        "spec": spec_path.relative_to(REPO_ROOT).as_posix(),
        "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "generator": f"openapi-python-client {metadata.version('openapi-python-client')}",
        "ruff": metadata.version("ruff"),
        "templates_sha256": _digest(list(TEMPLATES.rglob("*.jinja")), TEMPLATES),
        "config_sha256": _digest([CONFIG, Path(__file__).resolve(), GENERATOR_DIR / "workspace.py"], GENERATOR_DIR),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--stamp", type=Path)
    parser.add_argument(
        "--template-cache",
        type=Path,
        default=TEMPLATE_CACHE,
        help="folder for compiled templates kept between runs (default: %(default)s)",
    )
    parser.add_argument("--no-template-cache", action="store_true", help="compile every template anew")
    args = parser.parse_args(argv)
    try:
        generate(args.spec, args.output, args.stamp, None if args.no_template_cache else args.template_cache)
    except GenerateError as error:
        print(f"generate: {error}", file=sys.stderr)
        return 1
    return 0


def _lean_process() -> None:
    """Settings for a process that only runs this script once and exits (not for an importer).

    The run builds a large object graph and then exits: the cyclic collector would only rescan it
    (about 8% of the run) and free next to nothing. And the generator imports httpx, which imports
    trio for httpcore's trio backend and click for httpx's command line when they are installed
    (the dev environment has both); the spec is a local file, so neither is ever used, and
    importing them was about 6% of the run. Marking them absent makes those optional imports take
    their documented fallback; if anything did need them, it would fail loudly, never differ.
    """
    gc.disable()
    for unused in ("trio", "click"):
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]


if __name__ == "__main__":
    _lean_process()
    raise SystemExit(main())
