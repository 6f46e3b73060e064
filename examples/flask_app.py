"""A Flask (WSGI) merchant app: Trustly notifications through the inbox, and verified redirects.

    python examples/flask_app.py        # serves on 127.0.0.1:8000 with a SQLite inbox

In production run it under gunicorn with several workers (`gunicorn 'examples.flask_app:app()'`);
every worker process receives notifications into the same inbox and runs an InboxWorker on it,
so each event is handled once whichever worker Trustly reaches. Across hosts, use PostgresInbox.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import flask

import trustly
from trustly.models import AuthorizeEvent, Event
from trustly.webhooks import Inbox, InboxWorker, SQLiteInbox, WebhookHandler, wsgi_request_url


class Shop:
    """The merchant's own state; a real shop keeps it in its database."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.split_tokens: dict[str, str] = {}
        self.events: list[tuple[str, str, str]] = []

    def on_event(self, event: Event) -> None:
        """Called by the inbox worker once per event; idempotent by eventId all the same."""
        with self.lock:
            if any(seen[0] == event.event_id for seen in self.events):
                return
            self.events.append((str(event.event_id), event.event_type.value, str(event.object_id)))
            if isinstance(event, AuthorizeEvent) and isinstance(event.split_token, str):
                self.split_tokens[str(event.object_id)] = event.split_token


def create_app(
    *,
    access_id: str,
    access_key: str,
    inbox: Inbox,
    shop: Shop | None = None,
    public_url: str | None = None,
    trust_forwarded: bool = False,
) -> flask.Flask:
    """The Flask app with its notification endpoint, redirect pages and a background inbox worker."""
    app = flask.Flask(__name__)
    app.config["shop"] = shop = shop if shop is not None else Shop()
    webhooks = WebhookHandler(access_key=access_key, access_id=access_id, inbox=inbox)
    app.config["worker"] = InboxWorker(inbox, shop.on_event).start()

    @app.post("/trustly/notifications")
    def notifications() -> tuple[bytes, int, list[tuple[str, str]]]:
        # The raw bytes, exactly as signed: never request.form (it re-parses and loses order).
        status, headers, body = webhooks.handle(flask.request.get_data(cache=False), flask.request.headers)
        return body, status, headers

    @app.get("/trustly/<path:page>")
    def redirect_page(page: str) -> tuple[dict[str, Any], int]:
        # request.url is rebuilt by Werkzeug (re-encoded path, http behind a proxy): not what Trustly signed.
        url = wsgi_request_url(flask.request.environ, public_url=public_url, trust_forwarded=trust_forwarded)
        try:
            params = trustly.verify_redirect(url, access_key)
        except trustly.SignatureVerificationError:
            return {"error": "this redirect was not signed by Trustly"}, 400
        return {"page": page, "status": params.status.value, "transactionId": params.transaction_id}, 200

    return app


def main() -> None:
    inbox = SQLiteInbox(Path(tempfile.gettempdir()) / "trustly-example-inbox.sqlite3")
    app = create_app(
        access_id=os.environ.get("TRUSTLY_ACCESS_ID", "demo-access-id"),
        access_key=os.environ.get("TRUSTLY_ACCESS_KEY", "demo-access-key"),
        inbox=inbox,
    )
    app.run(host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main()
