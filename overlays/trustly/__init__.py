"""A typed, retry-safe Python client for the Trustly North America (Pay by Bank) REST API.

```python
from trustly import Environment, TrustlyClient

with TrustlyClient(environment=Environment.SANDBOX) as client:  # TRUSTLY_ACCESS_ID / _KEY
    transaction = client.transactions.get("1002633191")
```

Models and enums live in `trustly.models`; errors, `UNSET` / `Unset` (a field left out, as
opposed to None) and `Timestamp` (the datetime type of times Trustly sends, with its raw epoch
integer in `.raw`) are importable from here.
"""

from trustly_api_client.types import UNSET, Timestamp, Unset

from ._auth import CORRELATION_HEADER, Credentials
from ._client import DEFAULT_DEADLINE, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncTrustlyClient, TrustlyClient
from ._environment import Environment
from ._errors import (
    AmbiguousOutcomeError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DuplicateRequestError,
    ErrorDetail,
    InternalServerError,
    InvalidNotificationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    SignatureVerificationError,
    TrustlyError,
    UnprocessableEntityError,
)
from ._pagination import MAX_PAGE_SIZE, Page
from ._signatures import (
    establish_string_to_sign,
    notification_signature,
    sign_establish_data,
    verify_notification_signature,
    verify_redirect,
)
from ._validation import format_amount
from ._version import __version__

__all__ = [
    "CORRELATION_HEADER",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "UNSET",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AmbiguousOutcomeError",
    "AsyncTrustlyClient",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "Credentials",
    "DuplicateRequestError",
    "Environment",
    "ErrorDetail",
    "InternalServerError",
    "InvalidNotificationError",
    "InvalidRequestError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "SignatureVerificationError",
    "Timestamp",
    "TrustlyClient",
    "TrustlyError",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
    "establish_string_to_sign",
    "format_amount",
    "notification_signature",
    "sign_establish_data",
    "verify_notification_signature",
    "verify_redirect",
]
