"""Establish Data: from the typed request to the signed body, one path for both uses.

Trustly checks `requestSignature` against the values it receives, so a signature computed over
anything but the serialised body fails as code 375/300, which looks like bad credentials. The
client therefore signs after serialising: `EstablishRequest.to_dict()` renders every value
(amounts with two decimals, enums as their codes, times in their unit), and the signature is
computed over exactly that dict, which is then what httpx sends or what the Lightbox receives.

- `client.transactions.establish(body=EstablishRequest(...))` fills in `accessId` and signs; a
  signature set by hand is checked against the body instead, and refused if it does not cover it.
- `client.sign_establish_data(request)` returns the same signed dict for the browser (Lightbox).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import attrs

from trustly_api_client.models import EstablishRequest
from trustly_api_client.types import InvalidFieldError

from ._errors import InvalidRequestError
from ._signatures import Algorithm, establish_string_to_sign, hmac_signature

__all__ = ["establish_body", "sign_body"]


def _wire_name(python_name: str) -> str:
    head, *rest = python_name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _refuse_unknown(model: Any, prefix: str = "") -> None:
    """Refuse keys the model does not know (a typo), at any depth, naming the dotted field."""
    extra = getattr(model, "additional_properties", None)
    if extra:
        name = sorted(extra)[0]
        raise InvalidRequestError(f"{prefix}{name}", f"is not a field of {type(model).__name__} (a typo?)")
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        if attrs.has(type(value)):
            _refuse_unknown(value, f"{prefix}{_wire_name(field.name)}.")


def _refuse_floats(data: Mapping[str, Any], prefix: str = "") -> None:
    # Reading a response accepts JSON numbers as money; a request never takes a float.
    for key, value in data.items():
        if isinstance(value, Mapping):
            _refuse_floats(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            raise InvalidRequestError(f"{prefix}{key}", f"floats are not accepted ({value!r}); pass a Decimal or str")


def establish_body(request: EstablishRequest | Mapping[str, Any]) -> dict[str, Any]:
    """The Establish Data as it goes on the wire; a Mapping (Trustly's field names) is read strictly."""
    try:
        if isinstance(request, Mapping):
            _refuse_floats(request)
            request = EstablishRequest.from_dict(request)
            _refuse_unknown(request)
        if not isinstance(request, EstablishRequest):
            raise InvalidFieldError("request", f"expected an EstablishRequest, not {type(request).__name__}")
        return request.to_dict()
    except InvalidFieldError as error:
        raise InvalidRequestError(error.field, error.reason) from None


def sign_body(
    body: dict[str, Any], access_id: str, access_key: str, algorithm: Algorithm | None = None
) -> dict[str, Any]:
    """`body` with this accessId and the signature over its exact values.

    A `requestSignature` already in `body` is checked rather than replaced: if it does not cover
    these values, InvalidRequestError, since Trustly would refuse it as if the credentials were wrong.
    """
    signed = dict(body)
    given_id = signed.get("accessId")
    if given_id not in (None, "") and given_id != access_id:
        raise InvalidRequestError("accessId", "is not the accessId of this client; leave it out")
    signed["accessId"] = access_id
    given = signed.pop("requestSignature", None)
    if algorithm is None:
        algorithm = "HmacSHA512" if isinstance(given, str) and given.startswith("HmacSHA512:") else "HmacSHA1"
    signature = hmac_signature(establish_string_to_sign(signed), access_key, algorithm)
    if given not in (None, "") and not hmac.compare_digest(str(given).encode(), signature.encode()):
        raise InvalidRequestError(
            "requestSignature",
            "does not cover the values being sent (signed before serialising?); leave it out and the client "
            "signs the exact body",
        )
    signed["requestSignature"] = signature
    return signed
