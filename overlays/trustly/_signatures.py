"""Trustly's HMAC signatures: signing Establish Data, verifying redirects and notifications.

Three places use the same primitive, an HMAC keyed with the accessKey and Base64-encoded:

- `requestSignature` of the Establish Data (the Lightbox and `POST /establish`) over
  `key=value` pairs in Trustly's fixed field order, nothing URL-encoded, empty values left out;
- the `requestSignature` query parameter Trustly adds to returnUrl / cancelUrl redirects, over
  the URL up to that parameter;
- the `Authorization: Basic base64(accessId:signature)` header of event notifications, over the
  URL-decoded form body.

HMAC-SHA1 is the default; `HmacSHA512:` in front of the Base64 selects HMAC-SHA512. Every
comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, unquote_plus

from ._encoding import wire_text
from ._errors import InvalidRequestError, SignatureVerificationError
from ._redirects import redirect_parameters

if TYPE_CHECKING:
    from trustly_api_client.models import RedirectParameters

__all__ = [
    "ESTABLISH_SIGNED_FIELDS",
    "Algorithm",
    "RedirectForm",
    "establish_string_to_sign",
    "hmac_signature",
    "notification_signature",
    "sign_establish_data",
    "verify_notification_signature",
    "verify_redirect",
]

Algorithm = Literal["HmacSHA1", "HmacSHA512"]

_DIGESTS = {"HmacSHA1": hashlib.sha1, "HmacSHA512": hashlib.sha512}

ESTABLISH_SIGNED_FIELDS: tuple[str, ...] = (
    "accessId", "merchantId", "description", "currency", "amount", "displayAmount", "minimumBalance",
    "merchantReference", "paymentType", "timeZone", "recurrence.startDate", "recurrence.endDate",
    "recurrence.frequency", "recurrence.frequencyUnit", "recurrence.frequencyUnitType", "recurrence.recurringAmount",
    "recurrence.automaticCapture", "verification.status", "verification.verifyCustomer", "customer.customerId",
    "customer.externalId", "customer.name", "customer.vip", "customer.taxId", "customer.driverLicense.number",
    "customer.driverLicense.state", "customer.address.address1", "customer.address.address2",
    "customer.address.city", "customer.address.state", "customer.address.zip", "customer.address.country",
    "customer.phone", "customer.email", "customer.balance", "customer.currency", "customer.enrollDate",
    "customer.externalTier", "customer.dateOfBirth", "account.nameOnAccount", "account.name", "account.type",
    "account.profile", "account.accountNumber", "account.routingNumber", "transactionId",
)  # fmt: skip
"""The Establish Data fields covered by `requestSignature`, in the order Trustly signs them.

URLs, metadata and `requestSignature` itself are not signed."""


def _digest(algorithm: str) -> Any:
    try:
        return _DIGESTS[algorithm]
    except KeyError:
        raise InvalidRequestError("algorithm", f"{algorithm!r} is not HmacSHA1 or HmacSHA512") from None


def hmac_signature(message: str, access_key: str, algorithm: Algorithm = "HmacSHA1") -> str:
    """Base64 HMAC of `message` under `access_key`; prefixed with `HmacSHA512:` for that algorithm."""
    mac = hmac.new(access_key.encode("utf-8"), message.encode("utf-8"), _digest(algorithm)).digest()
    encoded = base64.b64encode(mac).decode("ascii")
    return encoded if algorithm == "HmacSHA1" else f"{algorithm}:{encoded}"


def _matches(message: str, signature: str, access_key: str) -> bool:
    algorithm, _, value = signature.rpartition(":")
    if not algorithm:
        algorithm = "HmacSHA1"
    if algorithm not in _DIGESTS:
        return False
    mac = hmac.new(access_key.encode("utf-8"), message.encode("utf-8"), _DIGESTS[algorithm]).digest()
    expected = base64.b64encode(mac).decode("ascii")
    return hmac.compare_digest(expected.encode("ascii"), value.encode("ascii", "replace"))


# -- Establish Data ---------------------------------------------------------------------------


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _render(field: str, value: Any) -> str | None:
    """A wire value as Trustly's signer writes it, or None when it leaves the field out (empty, false, 0).

    The values are those of the serialised body (JSON strings, integers, booleans), so the rule
    is JavaScript's, as in Trustly's sample signer: the string "0.00" is signed, the number 0 is not.
    """
    if isinstance(value, Enum):
        value = value.value
    if value is None or value is False or value == "" or (type(value) is int and value == 0):
        return None
    if isinstance(value, float):
        raise InvalidRequestError(field, f"floats cannot be signed exactly ({value!r}); pass the text that is sent")
    if isinstance(value, Decimal):
        # Decimal("10.5") would be signed as 10.5 while the body says 10.50: sign the wire text.
        raise InvalidRequestError(field, f"sign the text that is sent, e.g. format_amount({value!r}), not a Decimal")
    # Written as a form body writes it: the signed text and the sent text are one rule.
    return wire_text(field, value)


def establish_string_to_sign(data: Mapping[str, Any]) -> str:
    """The exact string Trustly signs for this Establish Data as sent (nested or dotted keys)."""
    flat = _flatten(data)
    pairs = []
    for field in ESTABLISH_SIGNED_FIELDS:
        rendered = _render(field, flat.get(field))
        if rendered is not None:
            pairs.append(f"{field}={rendered}")
    return "&".join(pairs)


def sign_establish_data(data: Mapping[str, Any], access_key: str, algorithm: Algorithm = "HmacSHA1") -> dict[str, Any]:
    """A copy of wire-form Establish Data with `requestSignature` set. `accessId` must be in `data`.

    The low-level form, for data that is already exactly what will be sent (the simulator uses
    it on received bodies). Clients use `client.sign_establish_data(EstablishRequest(...))`,
    which serialises first and so cannot sign something other than what is sent.
    """
    if not data.get("accessId"):
        raise InvalidRequestError("accessId", "the Establish Data must carry the accessId it is signed for")
    signed = dict(data)
    signed.pop("requestSignature", None)
    signed["requestSignature"] = hmac_signature(establish_string_to_sign(signed), access_key, algorithm)
    return signed


# -- Redirects -------------------------------------------------------------------------------


RedirectForm = Literal["either", "url", "query"]
"""Which signed form of a redirect to accept: the whole URL (API 1.18.0 and later), the query
string only (earlier versions), or either of the two."""


def verify_redirect(
    url: str, access_key: str, *, merchant_reference: str | None = None, signed: RedirectForm = "either"
) -> RedirectParameters:
    """Check the signature Trustly put on a returnUrl / cancelUrl redirect; return its typed parameters.

    Pass the URL exactly as the customer's browser requested it: scheme, host, raw path and raw
    query. Web frameworks rebuild `request.url` (re-encoding the path, or seeing http behind a
    TLS-terminating proxy); `trustly.webhooks.wsgi_request_url` / `asgi_request_url` give the
    URL as Trustly signed it. Since API version 1.18.0 Trustly signs the whole URL up to its
    `requestSignature`; earlier versions signed only the query parameters. `signed` chooses which
    form is accepted ("either" by default). With `merchant_reference`, also check it is the one
    this session was established with. Raises SignatureVerificationError when anything does not match.
    """
    if signed not in ("either", "url", "query"):
        raise InvalidRequestError("signed", f"{signed!r} is not 'either', 'url' or 'query'")
    base, sep, query = url.partition("?")
    if not sep:
        raise SignatureVerificationError("the redirect URL has no query string, so no requestSignature")
    query = query.partition("#")[0]
    parts = query.split("&")
    index = next((i for i, p in enumerate(parts) if p.startswith("requestSignature=")), None)
    if index is None:
        raise SignatureVerificationError("the redirect URL carries no requestSignature")
    signature = unquote(parts[index][len("requestSignature=") :])
    # Trustly signs the URL up to its signature; parameters it appends afterwards are not covered.
    signed_query = "&".join(parts[:index])
    candidates = {"url": [base + "?" + signed_query], "query": [signed_query]}
    candidates["either"] = candidates["url"] + candidates["query"]
    if not any(_matches(message, signature, access_key) for message in candidates[signed]):
        raise SignatureVerificationError("the redirect's requestSignature does not match")
    params = dict(parse_qsl(signed_query, keep_blank_values=True))
    if merchant_reference is not None and not hmac.compare_digest(
        params.get("merchantReference", "").encode(), merchant_reference.encode()
    ):
        raise SignatureVerificationError("the redirect's merchantReference is not this session's")
    return redirect_parameters(params)


# -- Notifications ---------------------------------------------------------------------------


def notification_signature(body: bytes, access_key: str, algorithm: Algorithm = "HmacSHA1") -> str:
    """The signature Trustly computes for a notification body (used by the simulator and tests)."""
    return hmac_signature(unquote_plus(body.decode("utf-8")), access_key, algorithm)


def verify_notification_signature(
    body: bytes, authorization: str | None, access_key: str, *, access_id: str | None = None
) -> str:
    """Check the Authorization header of an event notification against its raw body.

    The header is `Basic base64(accessId:signature)`; the signature covers the URL-decoded body
    in arrival order. With `access_id`, the header must also name our accessId. Returns the
    accessId the header names.
    """
    if not authorization:
        raise SignatureVerificationError("the notification has no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        raise SignatureVerificationError("the notification's Authorization header is not Basic")
    try:
        decoded = base64.b64decode(token.strip().encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):  # non-ASCII header text or bad Base64
        raise SignatureVerificationError("the notification's Authorization header is not valid Base64") from None
    sender, sep, signature = decoded.partition(":")
    if not sep or not signature:
        raise SignatureVerificationError("the notification's Authorization header carries no signature")
    if access_id is not None and not hmac.compare_digest(sender.encode(), access_id.encode()):
        raise SignatureVerificationError("the notification was signed for another accessId")
    try:
        message = unquote_plus(body.decode("utf-8"), errors="strict")
    except UnicodeDecodeError:
        raise SignatureVerificationError("the notification body is not UTF-8") from None
    if not _matches(message, signature, access_key):
        raise SignatureVerificationError("the notification signature does not match its body")
    return sender
