"""The public surface: what `import trustly` offers, and nothing private leaking into it."""

from __future__ import annotations

import importlib
import pkgutil

import trustly


def test_all_is_sorted_unique_and_importable() -> None:
    names = trustly.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(trustly, name) is not None, name


def test_expected_public_names() -> None:
    expected = {
        "TrustlyClient",
        "AsyncTrustlyClient",
        "Environment",
        "Credentials",
        "TrustlyError",
        "APIConnectionError",
        "APITimeoutError",
        "APIStatusError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
        "DuplicateRequestError",
        "AmbiguousOutcomeError",
        "ResponseValidationError",
        "ResponseTooLargeError",
        "SignatureVerificationError",
        "InvalidRequestError",
        "ConfigurationError",
    }
    assert expected <= set(trustly.__all__)


def test_every_public_module_declares_all() -> None:
    for info in pkgutil.iter_modules(trustly.__path__):
        module = importlib.import_module(f"trustly.{info.name}")
        assert hasattr(module, "__all__"), info.name
        for name in module.__all__:
            assert hasattr(module, name), f"trustly.{info.name}.{name}"


def test_models_reexport() -> None:
    from trustly import models
    from trustly_api_client import models as generated

    assert models.Transaction is generated.Transaction
    assert set(models.__all__) == set(generated.__all__)


def test_generated_package_never_imports_the_overlay() -> None:
    from pathlib import Path

    import trustly_api_client

    root = Path(trustly_api_client.__file__).parent
    for source in root.rglob("*.py"):
        text = source.read_text()
        assert "import trustly\n" not in text and "from trustly " not in text and "from trustly." not in text, source


def test_webhooks_surface() -> None:
    from trustly import webhooks

    assert webhooks.__all__ == sorted(webhooks.__all__, key=lambda name: (not name.isupper(), name))
    expected = {
        "WebhookHandler", "AsyncWebhookHandler", "WebhookResult", "parse_event", "EVENT_MODELS",
        "ReplayStore", "InMemoryReplayStore", "Inbox", "InMemoryInbox", "SQLiteInbox", "PostgresInbox",
        "InboxWorker", "AsyncInboxWorker", "Claim", "StaleNotificationError", "wsgi_request_url", "asgi_request_url",
    }  # fmt: skip
    assert expected <= set(webhooks.__all__)
    import subprocess
    import sys

    code = "import sys, trustly.webhooks; print('psycopg' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": ":".join(sys.path)}
    )
    assert done.stdout.strip() == "False", "psycopg is imported only when a PostgresInbox is created"
