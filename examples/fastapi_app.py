"""A FastAPI (ASGI) merchant app: Trustly notifications through the inbox, and verified redirects.

    uvicorn --factory examples.fastapi_app:main --workers 4    # SQLite inbox shared by the 4 workers

Each uvicorn worker answers notifications from the shared inbox and runs an AsyncInboxWorker with
an `async def` handler; across hosts, use PostgresInbox. Redirects are verified against the raw
path and query of the ASGI scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

import trustly
from trustly.models import AuthorizeEvent, Event
from trustly.webhooks import AsyncInboxWorker, AsyncWebhookHandler, Inbox, SQLiteInbox, asgi_request_url


class Shop:
    """The merchant's own state; a real shop keeps it in its database."""

    def __init__(self) -> None:
        self.split_tokens: dict[str, str] = {}
        self.events: list[tuple[str, str, str]] = []

    async def on_event(self, event: Event) -> None:
        """Awaited by the inbox worker once per event; idempotent by eventId all the same."""
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
) -> FastAPI:
    """The FastAPI app with its notification endpoint, redirect pages and an inbox worker task."""
    shop = shop if shop is not None else Shop()
    webhooks = AsyncWebhookHandler(access_key=access_key, access_id=access_id, inbox=inbox)
    worker = AsyncInboxWorker(inbox, shop.on_event, poll_interval=0.1)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run())
        yield
        worker.stop()
        await task

    app = FastAPI(lifespan=lifespan)
    app.state.shop = shop

    @app.post("/trustly/notifications")
    async def notifications(request: Request) -> Response:
        # The raw bytes, exactly as signed: never a parsed form.
        status, headers, body = await webhooks.handle(await request.body(), request.headers.items())
        return Response(content=body, status_code=status, headers=dict(headers))

    @app.get("/trustly/{page:path}")
    async def redirect_page(page: str, request: Request) -> JSONResponse:
        url = asgi_request_url(request.scope, public_url=public_url, trust_forwarded=trust_forwarded)
        try:
            params = trustly.verify_redirect(url, access_key)
        except trustly.SignatureVerificationError:
            return JSONResponse({"error": "this redirect was not signed by Trustly"}, status_code=400)
        body: dict[str, Any] = {"page": page, "status": params.status.value, "transactionId": params.transaction_id}
        return JSONResponse(body)

    return app


def main() -> FastAPI:
    """The app factory for `uvicorn --factory`."""
    return create_app(
        access_id=os.environ.get("TRUSTLY_ACCESS_ID", "demo-access-id"),
        access_key=os.environ.get("TRUSTLY_ACCESS_KEY", "demo-access-key"),
        inbox=SQLiteInbox(Path(tempfile.gettempdir()) / "trustly-example-inbox.sqlite3"),
    )
