"""`trustly webhooks verify`, `trustly establish sign` and `trustly simulator`: the offline tools.

The first two debug what merchants get wrong most often: a notification whose signature does not
match (which part fails, and the usual cause), and Establish Data whose requestSignature Trustly
refuses (the signed JSON, and with `--explain` the exact string that was signed).
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from .._errors import ConfigurationError, SignatureVerificationError
from .._signatures import Algorithm, establish_string_to_sign, verify_notification_signature
from ._app import Settings, cli, pass_settings, print_json, print_object

__all__ = ["establish", "simulator", "webhooks"]


def _access_key() -> str:
    key = os.environ.get("TRUSTLY_ACCESS_KEY", "")
    if not key:
        raise ConfigurationError("missing Trustly credentials: access_key (TRUSTLY_ACCESS_KEY)")
    return key


@cli.group()
def webhooks() -> None:
    """Check event notifications."""


@webhooks.command("verify")
@click.argument("body", type=click.File("rb"), default="-")
@click.option(
    "-a",
    "--authorization",
    required=True,
    help="The notification's Authorization header value ('Basic ...').",
)
@pass_settings
def webhooks_verify(settings: Settings, body: Any, authorization: str) -> None:
    """Verify a notification's signature against its raw BODY (a file, or - for stdin).

    Uses TRUSTLY_ACCESS_KEY, and checks the accessId in the header when --access-id or
    TRUSTLY_ACCESS_ID is set. Prints the event on success; otherwise names the part that fails
    and exits with code 11.
    """
    raw: bytes = body.read()
    key = _access_key()
    try:
        verify_notification_signature(raw, authorization, key, access_id=settings.access_id)
    except SignatureVerificationError as error:
        hint = _hint(raw, authorization, key, settings.access_id)
        raise SignatureVerificationError(f"{error}{hint}") from None
    click.echo("signature: ok" + (f" (accessId {settings.access_id})" if settings.access_id else ""))
    from ..webhooks import parse_event

    event = parse_event(raw, "application/x-www-form-urlencoded")
    print_object(event.to_dict(), title=f"{type(event).__name__} {getattr(event, 'event_id', '')}".strip())


def _hint(raw: bytes, authorization: str, key: str, access_id: str | None) -> str:
    """The usual cause of a mismatch, when the body itself shows it."""
    for trimmed, what in ((raw.rstrip(b"\r\n"), "a trailing newline"), (raw.strip(), "surrounding whitespace")):
        if trimmed != raw:
            try:
                verify_notification_signature(trimmed, authorization, key, access_id=access_id)
            except SignatureVerificationError:
                continue
            return f"; it verifies without {what}, so the body was changed after it arrived (save it byte for byte)"
    return ""


@cli.group()
def establish() -> None:
    """Work with Establish Data (the Lightbox's and `POST /establish`'s input)."""


@establish.command("sign")
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--algorithm", type=click.Choice(["HmacSHA1", "HmacSHA512"]), default="HmacSHA1", show_default=True)
@click.option("--explain", is_flag=True, help="Also print the exact string that is signed (on stderr).")
@pass_settings
def establish_sign(settings: Settings, file: Any, algorithm: str, explain: bool) -> None:
    """Sign the Establish Data in FILE (JSON; - for stdin) with TRUSTLY_ACCESS_ID and TRUSTLY_ACCESS_KEY.

    Prints the data with accessId and requestSignature added, ready for the Lightbox or
    `POST /establish`. Nothing is sent.
    """
    try:
        data = json.loads(file.read())
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="FILE") from None
    if not isinstance(data, dict):
        raise click.BadParameter("the Establish Data must be a JSON object", param_hint="FILE")
    chosen: Algorithm = "HmacSHA512" if algorithm == "HmacSHA512" else "HmacSHA1"
    signed = settings.client(needs_environment=False).sign_establish_data(data, chosen)
    if explain:
        click.echo(f"signed string: {establish_string_to_sign(signed)}", err=True)
    print_json(signed)


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8089, show_default=True, help="0 picks a free port.")
@click.option("--tls", is_flag=True, help="Serve HTTPS with a throwaway CA (prints TRUSTLY_CA_BUNDLE).")
@click.option("--notification-url", help="Where to POST signed event notifications.")
@click.option("--access-id", default="simulator-access-id", show_default=True)
@click.option("--access-key", default="simulator-access-key", show_default=True)
@click.option("--time-scale", type=float, default=1.0, show_default=True, help="Seconds per simulated minute.")
def simulator(
    port: int, tls: bool, notification_url: str | None, access_id: str, access_key: str, time_scale: float
) -> None:
    """Serve a local Trustly on 127.0.0.1 (needs the `testing` extra) until Ctrl-C."""
    try:
        from ..testing.__main__ import serve
    except ImportError as error:
        raise ConfigurationError(
            f"the simulator needs the `testing` extra ({error.name} is not installed): "
            'pip install "trustly-api-client[testing]"'
        ) from None
    serve(
        port=port,
        tls=tls,
        notification_url=notification_url,
        access_id=access_id,
        access_key=access_key,
        time_scale=time_scale,
        echo=lambda line: click.echo(line),
    )
