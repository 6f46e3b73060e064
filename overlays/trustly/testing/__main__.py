"""Serve a simulator by hand: `trustly simulator` (the `cli` extra), or without it
`python -m trustly.testing` (and the older `trustly-simulator`, kept as an alias).

    trustly simulator --port 8089 --notification-url http://127.0.0.1:8000/hooks/trustly

Prints the base URL, the Lightbox URL, the stand-in `trustly.js` and the variables that point
the client and the `trustly` command at it, then serves until interrupted. Open the Lightbox URL
establish returns in a browser to authorize as the customer, or drive it from a script with the
simulator's own endpoints under `/_simulator/` (`POST /_simulator/authorize/{transactionId}`,
`POST /_simulator/advance` with form field `days`, `hours`, `minutes` or `seconds`, ...). The
clock runs at `--time-scale` seconds of real time per simulated minute.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ._server import SimulatorServer
from ._simulator import Simulator

__all__ = ["DEFAULT_ACCESS_ID", "DEFAULT_ACCESS_KEY", "main", "serve"]

DEFAULT_ACCESS_ID = "simulator-access-id"
DEFAULT_ACCESS_KEY = "simulator-access-key"


def serve(
    *,
    port: int = 8089,
    tls: bool = False,
    notification_url: str | None = None,
    access_id: str = DEFAULT_ACCESS_ID,
    access_key: str = DEFAULT_ACCESS_KEY,
    time_scale: float = 1.0,
    echo: Callable[[str], None] = print,
) -> int:
    """Serve a simulator on 127.0.0.1 until Ctrl-C (SIGINT) or SIGTERM; return 0.

    `echo` receives each line of the banner; the first is always `Trustly simulator at BASE_URL`.
    """
    stop = _stop_on_signals()
    sim = Simulator(
        access_id=access_id, access_key=access_key, notification_url=notification_url, time_scale=time_scale
    )
    with (
        tempfile.TemporaryDirectory(prefix="trustly-simulator-") as scratch,
        SimulatorServer(sim, port=port, tls=tls) as server,
    ):
        root = server.base_url.removesuffix("/api/v1")
        echo(f"Trustly simulator at {server.base_url}")
        echo(f"  merchant id    {sim.merchant_id}")
        box = f"{root}/_simulator"
        echo(f"  Lightbox       {box}/lightbox/{{transactionId}} (the url establish returns; open it in a browser)")
        echo(f"  trustly.js     {box}/start/scripts/trustly.js (a checkout page's script src, for Trustly's)")
        echo(f"  helpers        {box}/ (POST authorize/{{transactionId}}, settle, advance, ...: README, Test helpers)")
        echo(f"  notifications  {notification_url or 'kept in memory (no --notification-url)'}")
        echo("Point the client or the trustly command at it:")
        echo(f"  export TRUSTLY_ENVIRONMENT={server.base_url}")
        echo(f"  export TRUSTLY_ACCESS_ID={access_id}")
        # A key the user chose may be a real one: never echo it.
        shown_key = access_key if access_key == DEFAULT_ACCESS_KEY else "<the --access-key you gave>"
        echo(f"  export TRUSTLY_ACCESS_KEY={shown_key}")
        if tls:
            bundle = Path(scratch) / "simulator-ca.pem"
            bundle.write_bytes(server.ca_pem())
            echo(f"  export TRUSTLY_CA_BUNDLE={bundle}  # TrustlyClient(verify=...) takes the same file")
        echo("Serving until Ctrl-C.")
        while not stop.wait(3600):
            pass
    sim.close()
    return 0


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, the signal that ends `serve`.

    A process started in the background by a non-interactive shell inherits SIGINT as ignored,
    and Python then never raises KeyboardInterrupt; a service manager stops with SIGTERM. Both
    must end the server cleanly, so both are handled here explicitly. The handler only sets an
    event: an exception raised from a handler could land anywhere, even between the banner and
    the wait, or inside the server's shutdown.
    """
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    return stop


def main(argv: list[str] | None = None) -> int:
    """`python -m trustly.testing`: the same as `trustly simulator`, without the `cli` extra."""
    parser = argparse.ArgumentParser(prog="python -m trustly.testing", description="A local Trustly on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway CA")
    parser.add_argument("--notification-url", default=None)
    parser.add_argument("--access-id", default=DEFAULT_ACCESS_ID)
    parser.add_argument("--access-key", default=DEFAULT_ACCESS_KEY)
    parser.add_argument("--time-scale", type=float, default=1.0, help="seconds of real time per simulated minute")
    args = parser.parse_args(argv)
    return serve(
        port=args.port,
        tls=args.tls,
        notification_url=args.notification_url,
        access_id=args.access_id,
        access_key=args.access_key,
        time_scale=args.time_scale,
        echo=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    raise SystemExit(main())
