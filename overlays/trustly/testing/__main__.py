"""`python -m trustly.testing` (or `trustly-simulator`): serve a simulator by hand.

    python -m trustly.testing --port 8089 --notification-url http://127.0.0.1:8000/hooks/trustly

Prints the base URL and credentials, then serves until interrupted. Authorize an established
transaction (the Lightbox step) with `POST /simulator/authorize/{transactionId}`; the clock runs
at `--time-scale` seconds per simulated minute, and `POST /simulator/advance` (form field `days`,
`hours`, `minutes` or `seconds`) jumps it forward.
"""

from __future__ import annotations

import argparse
import time

from ._server import SimulatorServer
from ._simulator import Simulator

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trustly-simulator", description="A local Trustly on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway CA")
    parser.add_argument("--notification-url", default=None)
    parser.add_argument("--access-id", default="simulator-access-id")
    parser.add_argument("--access-key", default="simulator-access-key")
    parser.add_argument("--time-scale", type=float, default=1.0, help="seconds of real time per simulated minute")
    args = parser.parse_args(argv)
    sim = Simulator(
        access_id=args.access_id,
        access_key=args.access_key,
        notification_url=args.notification_url,
        time_scale=args.time_scale,
    )
    with SimulatorServer(sim, port=args.port, tls=args.tls) as server:
        print(f"Trustly simulator at {server.base_url}")
        print(f"  access id {sim.access_id}, merchant id {sim.merchant_id} (access key as given)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    sim.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
