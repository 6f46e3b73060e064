"""One merchant worker process for the multi-process webhook test.

    python -m tests.integration.webhook_worker --store sqlite:/path/db | postgres:<conninfo> --results DIR

Serves the notification endpoint (WSGI, threaded, on 127.0.0.1) into the shared inbox and runs an
InboxWorker on the same inbox. Each completed `on_event` appends the eventId to DIR/<pid>.log.
With --victim, the first event it claims writes DIR/victim.started and then hangs, so that the
test can SIGKILL the process in the middle of that event.
"""

from __future__ import annotations

import argparse
import os
import socketserver
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from trustly.models import Event
from trustly.webhooks import Inbox, InboxWorker, PostgresInbox, SQLiteInbox, WebhookHandler

ACCESS_ID = "it-access-id"
ACCESS_KEY = "it-access-key-secret"


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _inbox(spec: str) -> Inbox:
    kind, _, target = spec.partition(":")
    if kind == "sqlite":
        return SQLiteInbox(target)
    if kind == "postgres":
        return PostgresInbox(target)
    raise SystemExit(f"unknown store {spec!r}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--victim", action="store_true")
    args = parser.parse_args()
    inbox = _inbox(args.store)
    log_path = args.results / f"{os.getpid()}.log"
    hung = threading.Event()

    def on_event(event: Event) -> None:
        if args.victim and not hung.is_set():
            hung.set()
            (args.results / "victim.started").write_text(str(event.event_id))
            time.sleep(600)  # killed here, mid-event
        time.sleep(0.01)  # some work, so that deliveries and claims overlap
        with log_path.open("a") as log:
            log.write(f"{event.event_id}\n")
            log.flush()
            os.fsync(log.fileno())

    handler = WebhookHandler(access_key=ACCESS_KEY, access_id=ACCESS_ID, inbox=inbox)
    server = make_server("127.0.0.1", 0, handler.wsgi, server_class=_Server, handler_class=_Quiet)
    InboxWorker(inbox, on_event, lease=args.lease, poll_interval=0.05).start()
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
