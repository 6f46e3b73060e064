"""The root of the `trustly` command: shared options, the client it builds, output and errors.

Every failure ends as one message on stderr and a distinct exit code (see `ExitCode`): Trustly's
error code, message and the correlation id of the call, never a traceback and never a secret.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from .._client import TrustlyClient
from .._environment import Environment
from .._errors import APIStatusError, TrustlyError
from .._version import __version__
from ._exit import ExitCode, exit_code_for

__all__ = ["Settings", "cli", "console", "json_option", "out", "pass_settings", "print_json", "print_object", "run"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value:>3}  {code.name.lower().replace('_', ' ')}" for code in ExitCode
)


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (results) or stderr (progress)."""
    stream = sys.stderr if stderr else sys.stdout
    # A pipe or a file gets the whole line; rich would otherwise wrap tables at 80 columns.
    width = None if stream.isatty() else 200
    return Console(file=stream, width=width, soft_wrap=False, highlight=False)


def out() -> Console:
    """The console for results (stdout)."""
    return console()


class Settings:
    """The global options, and the client built from them on first use."""

    def __init__(self, environment: str | None, access_id: str | None, ca_bundle: str | None, timeout: float) -> None:
        self.environment = environment
        self.access_id = access_id
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        self._client: TrustlyClient | None = None

    def client(self, *, needs_environment: bool = True) -> TrustlyClient:
        """A client from the options and TRUSTLY_* variables; the access key only ever comes from the environment.

        `needs_environment=False` is for offline work (signing): the client then never sends anything,
        so an unset environment is not an error.
        """
        if self._client is None:
            environment, base_url = self._target(needs_environment)
            self._client = TrustlyClient(
                access_id=self.access_id,
                environment=environment,
                base_url=base_url,
                verify=self.ca_bundle or True,
                timeout=self.timeout,
            )
        return self._client

    def _target(self, needs_environment: bool) -> tuple[str | None, str | None]:
        value = (self.environment or "").strip()
        if "://" in value:
            return None, value
        if value:
            return value, None
        if needs_environment:
            return None, None  # the client explains what is missing
        return Environment.SANDBOX.value, None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


pass_settings = click.make_pass_decorator(Settings)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.option(
    "-e",
    "--environment",
    envvar="TRUSTLY_ENVIRONMENT",
    metavar="sandbox|production|URL",
    help="Where to send requests: an environment or an API root such as a local simulator. [env: TRUSTLY_ENVIRONMENT]",
)
@click.option(
    "--access-id",
    envvar="TRUSTLY_ACCESS_ID",
    help="The accessId. [env: TRUSTLY_ACCESS_ID; the key: TRUSTLY_ACCESS_KEY]",
)
@click.option(
    "--ca-bundle",
    envvar="TRUSTLY_CA_BUNDLE",
    type=click.Path(exists=True, dir_okay=False),
    help="A CA bundle to trust instead of the system's (e.g. an HTTPS simulator's). [env: TRUSTLY_CA_BUNDLE]",
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True)
@click.version_option(__version__, message="trustly %(version)s")
@click.pass_context
def cli(
    ctx: click.Context, environment: str | None, access_id: str | None, ca_bundle: str | None, timeout: float
) -> None:
    """Trustly's REST API from a terminal: look things up, debug signatures, serve the simulator.

    Credentials come from TRUSTLY_ACCESS_ID and TRUSTLY_ACCESS_KEY, as for the client; the key
    is never accepted on the command line, where other users of the machine could read it.
    """
    settings = Settings(environment, access_id, ca_bundle, timeout)
    ctx.obj = settings
    ctx.call_on_close(settings.close)


def json_option(function: F) -> F:
    """Add `--json` (machine-readable output) to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(function)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # Decimal, datetime, enums: their wire text


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout."""
    click.echo(json.dumps(_plain(data), indent=2))


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def print_object(data: Mapping[str, Any], *, title: str, names: Mapping[str, str] | None = None) -> None:
    """Print one object as a two-column table of its (dotted) fields; `names` annotate coded values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in _flatten(_plain(data)):
        text = json.dumps(value) if isinstance(value, list) else str(value)
        if names and key in names:
            text = f"{text} ({names[key]})"
        table.add_row(key, text)
    out().print(table)


def _report(error: TrustlyError) -> None:
    lines = [f"trustly: {type(error).__name__}: {_summary(error)}"]
    if isinstance(error, APIStatusError):
        lines.append(f"  HTTP {error.status_code} on {error.method} {error.path}")
        for detail in error.errors[1:]:
            lines.append(f"  also: {detail}")
    correlation_id = getattr(error, "correlation_id", None)
    if correlation_id:
        lines.append(f"  correlation id: {correlation_id}")
    click.echo("\n".join(lines), err=True)


def _summary(error: TrustlyError) -> str:
    if isinstance(error, APIStatusError) and error.errors:
        first = error.errors[0]
        code = f"Trustly code {_code(first.code)}: " if first.code is not None else ""
        return f"{code}{first.message}" + (f" (at {first.location})" if first.location else "")
    text = str(error)
    correlation_id = getattr(error, "correlation_id", None)
    return text.replace(f" (correlation id {correlation_id})", "") if correlation_id else text


def _code(code: object) -> str:
    """`375 (ACCESS_CONTROL_ERROR)`: the number Trustly's docs list, and its name."""
    if isinstance(code, Enum):
        return f"{code.value} ({code.name})" if not getattr(code, "is_unrecognized", False) else str(code.value)
    return str(code)


def run(argv: list[str]) -> int:
    """Run the command line; map every outcome onto an `ExitCode`."""
    from . import _lookups, _tools  # noqa: F401  (they register their commands on `cli`)

    # The error is reported once, below; the client's own WARNING line would repeat it through
    # logging's last-resort handler. TRUSTLY_LOG=debug still prints the client's log.
    logging.getLogger("trustly").addHandler(logging.NullHandler())

    try:
        result = cli.main(args=argv, prog_name="trustly", standalone_mode=False)
    except TrustlyError as error:
        _report(error)
        return exit_code_for(error)
    except click.ClickException as error:
        error.show()
        return ExitCode.USAGE if isinstance(error, click.UsageError | click.FileError) else ExitCode.FAILURE
    except (click.Abort, KeyboardInterrupt):
        click.echo("trustly: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # `trustly transactions list | head`: the reader left. Point stdout at /dev/null so that
        # the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    # standalone_mode=False hands back --help's and --version's exit status as the result.
    return result if isinstance(result, int) else ExitCode.OK
