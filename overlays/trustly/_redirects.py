"""The parameters of a returnUrl / cancelUrl redirect as a typed `RedirectParameters`.

Trustly sends the customer back with everything in the query string, so every value arrives as
text, under dotted names for nested values: `status=2`, `payment.account.verified=false`.
`verify_redirect` checks the signature and then hands the signed parameters here, which turns
them into the model: dotted names are nested (`params.payment.account.verified`), statuses and
types become their enums (`TransactionStatus.AUTHORIZED`, not "2"), flags become booleans and
numbers integers. A value that does not convert is kept, as received and under its dotted
name, in the top-level `additional_properties`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._encoding import unflatten_fields
from ._errors import SignatureVerificationError

if TYPE_CHECKING:
    from trustly_api_client.models import RedirectParameters

__all__ = ["redirect_parameters"]


def _boolean(text: str) -> bool | None:
    lowered = text.strip().lower()
    return {"true": True, "false": False}.get(lowered)


def _integer(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() and len(stripped) <= 18 else None


# By the dotted names Trustly sends: converted while still flat, nested afterwards.
_CONVERT: dict[str, Callable[[str], Any]] = {
    "payment.account.verified": _boolean,
    "instantPayoutAvail": _boolean,
    "payment.paymentProvider.type": _integer,
}


def redirect_parameters(params: Mapping[str, str]) -> RedirectParameters:
    """The signed query parameters of a redirect as a `RedirectParameters`.

    Raises SignatureVerificationError when the redirect lacks transactionId or status, which
    Trustly puts on every redirect: such a URL is not one Trustly made.
    """
    from trustly_api_client.models import RedirectParameters

    for required in ("transactionId", "status"):
        if not params.get(required):
            raise SignatureVerificationError(f"the redirect carries no {required}")
    data: dict[str, Any] = dict(params)
    unconverted: dict[str, str] = {}
    for name, convert in _CONVERT.items():
        if name in data:
            value = convert(data[name])
            if value is None:
                unconverted[name] = data.pop(name)
            else:
                data[name] = value
    tree = unflatten_fields(data)
    # A plain `payment=...` is no nested payment: kept as received rather than refused.
    if "payment" in tree and not isinstance(tree["payment"], dict):
        unconverted["payment"] = tree.pop("payment")
    result = RedirectParameters.from_dict(tree)
    result.additional_properties.update(unconverted)
    return result
