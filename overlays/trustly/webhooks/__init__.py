"""Receiving Trustly event notifications: verify, parse, store durably, process once.

Trustly POSTs each event to the merchant's notification URL as a form-encoded body signed in
the Authorization header, and redelivers every 5 minutes for 12 hours until it gets a 200
within 3 seconds. The endpoint verifies and stores each notification in an inbox shared by all
your processes, and answers at once; workers process the stored events:

```python
from trustly.webhooks import InboxWorker, SQLiteInbox, WebhookHandler

inbox = SQLiteInbox("/var/lib/shop/trustly-inbox.sqlite3")   # PostgresInbox(...) across hosts
webhooks = WebhookHandler(access_key=..., access_id=..., inbox=inbox)
app = webhooks.wsgi                       # or webhooks.asgi, or webhooks.handle(body, headers)
InboxWorker(inbox, on_event).start()      # in one or more processes
```

Redirects: `wsgi_request_url` / `asgi_request_url` give the URL as Trustly signed it, for
`trustly.verify_redirect`.
"""

from ._handler import AsyncWebhookHandler, WebhookHandler, WebhookResult
from ._inbox import DEFAULT_LEASE, DEFAULT_RETENTION, AsyncInboxWorker, Claim, Inbox, InboxWorker
from ._memory import InMemoryInbox, InMemoryReplayStore, ReplayStore
from ._parsing import (
    DEFAULT_MAX_AGE,
    EVENT_MODELS,
    MAX_BODY_BYTES,
    StaleNotificationError,
    parse_event,
    parse_form,
)
from ._postgres import PostgresInbox
from ._sqlite import SQLiteInbox
from ._urls import asgi_request_url, wsgi_request_url

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_AGE",
    "DEFAULT_RETENTION",
    "EVENT_MODELS",
    "MAX_BODY_BYTES",
    "AsyncInboxWorker",
    "AsyncWebhookHandler",
    "Claim",
    "InMemoryInbox",
    "InMemoryReplayStore",
    "Inbox",
    "InboxWorker",
    "PostgresInbox",
    "ReplayStore",
    "SQLiteInbox",
    "StaleNotificationError",
    "WebhookHandler",
    "WebhookResult",
    "asgi_request_url",
    "parse_event",
    "parse_form",
    "wsgi_request_url",
]
