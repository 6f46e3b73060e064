"""`trustly webhooks verify`, `trustly establish sign` and `trustly simulator`: the offline tools.

The first two debug what merchants get wrong most often: a notification whose signature does not
match (which part fails, and the usual cause), and Establish Data whose requestSignature Trustly
refuses (the signed JSON, and with `--explain` the exact string that was signed).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import click

from .._errors import ConfigurationError, InvalidNotificationError, SignatureVerificationError
from .._signatures import Algorithm, establish_string_to_sign
from ._app import Settings, cli, pass_settings, print_json, print_object

if TYPE_CHECKING:
    from ..webhooks import WebhookHandler

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
@click.option(
    "--max-age",
    type=click.FloatRange(min=0),
    default=None,
    help="Refuse a notification created longer ago, in seconds (default: the handler's 13 hours); 0: any age.",
)
@pass_settings
def webhooks_verify(settings: Settings, body: Any, authorization: str, max_age: float | None) -> None:
    """Verify a notification as `trustly.webhooks.WebhookHandler` does, from its raw BODY (a file, or - for stdin).

    Uses TRUSTLY_ACCESS_KEY and TRUSTLY_ACCESS_ID (or --access-id). Prints the event on
    success; otherwise names the part that fails (header, accessId, signature over the body,
    freshness) and exits with code 11.
    """
    from ..webhooks import DEFAULT_MAX_AGE, WebhookHandler

    if not settings.access_id:
        raise ConfigurationError(
            "missing Trustly credentials: access_id (TRUSTLY_ACCESS_ID or --access-id); "
            "a notification signed for another accessId must be refused"
        )
    raw: bytes = body.read()
    handler = WebhookHandler(
        access_key=_access_key(),
        access_id=settings.access_id,
        on_event=lambda event: None,
        max_age=None if max_age == 0 else (max_age or DEFAULT_MAX_AGE),
    )
    headers = {"Authorization": authorization}
    try:
        event = handler.verify_and_parse(raw, headers)
    except (SignatureVerificationError, InvalidNotificationError) as error:
        error.args = (f"{error}{_hint(handler, raw, headers)}",)
        raise
    click.echo(f"signature: ok (accessId {settings.access_id})")
    print_object(event.to_dict(), title=f"{type(event).__name__} {getattr(event, 'event_id', '')}".strip())


def _hint(handler: WebhookHandler, raw: bytes, headers: dict[str, str]) -> str:
    """The usual cause of a mismatch, when the body itself shows it."""
    for trimmed, what in ((raw.rstrip(b"\r\n"), "a trailing newline"), (raw.strip(), "surrounding whitespace")):
        if trimmed != raw:
            try:
                handler.verify_and_parse(trimmed, headers)
            except (SignatureVerificationError, InvalidNotificationError):
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
