"""Every signature vector from Trustly's documentation (and the derived ones noted beside them)."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from trustly import InvalidRequestError, SignatureVerificationError
from trustly._signatures import (
    establish_string_to_sign,
    hmac_signature,
    notification_signature,
    sign_establish_data,
    verify_notification_signature,
    verify_redirect,
)
from trustly.models import (
    PaymentProvider,
    PaymentType,
    RedirectAccount,
    RedirectPayment,
    TransactionStatus,
    TransactionType,
)

KEY = "123456"

# Test vector 1: the input object of Trustly's own signer unit test.
VECTOR_1: dict[str, Any] = {
    "accessId": "1234",
    "merchantId": "1234",
    "description": "text",
    "currency": "USD",
    "amount": "1.00",
    "displayAmount": "1.00",
    "merchantReference": "ref123",
    "paymentType": "Recurring",
    "recurrence": {"automaticCapture": False, "frequencyUnit": 1, "frequencyUnitType": 3, "recurringAmount": "1.00"},
    "verification": {"verifyCustomer": False, "status": ""},
    "customer": {
        "address": {"address1": "123 Main St", "city": "San Francisco", "country": "US", "state": "CA", "zip": "94111"},
        "dateOfBirth": "1990-01-01",
        "driverLicense": {"number": "1010", "state": "CA"},
        "email": "john@ca.us",
        "enrollDate": 1234567890,
        "externalId": "1234",
        "name": "John Doe",
        "phone": "123-456-7890",
        "taxId": "123-45-6789",
        "customerId": "",
    },
    "account": {"type": 1, "accountNumber": "", "routingNumber": "", "name": "", "nameOnAccount": "", "profile": 0},
    "minimumBalance": 0,
    "timeZone": "",
    "transactionId": "",
    "cancelUrl": "",
    "returnUrl": "",
    "localUrl": "mySite",
    "metadata": {"urlScheme": ""},
    "env": "",
}
STRING_1 = (
    "accessId=1234&merchantId=1234&description=text&currency=USD&amount=1.00&displayAmount=1.00"
    "&merchantReference=ref123&paymentType=Recurring&recurrence.frequencyUnit=1&recurrence.frequencyUnitType=3"
    "&recurrence.recurringAmount=1.00&customer.externalId=1234&customer.name=John Doe&customer.taxId=123-45-6789"
    "&customer.driverLicense.number=1010&customer.driverLicense.state=CA&customer.address.address1=123 Main St"
    "&customer.address.city=San Francisco&customer.address.state=CA&customer.address.zip=94111"
    "&customer.address.country=US&customer.phone=123-456-7890&customer.email=john@ca.us"
    "&customer.enrollDate=1234567890&customer.dateOfBirth=1990-01-01&account.type=1"
)


def test_vector_1_string_to_sign() -> None:
    assert establish_string_to_sign(VECTOR_1) == STRING_1


def test_vector_1_signature() -> None:
    assert sign_establish_data(VECTOR_1, KEY)["requestSignature"] == "HrGQpg/NsPXmh+P9u37R121Rot0="


def test_vector_1_variants() -> None:
    assert (
        sign_establish_data({**VECTOR_1, "unknownKey": "x"}, KEY)["requestSignature"] == "HrGQpg/NsPXmh+P9u37R121Rot0="
    )
    no_display = {**VECTOR_1, "displayAmount": ""}
    assert sign_establish_data(no_display, KEY)["requestSignature"] == "L/tBy40/WKaWNH0dcdp9j09cMqs="


def test_vector_1_sha512() -> None:
    assert sign_establish_data(VECTOR_1, KEY, "HmacSHA512")["requestSignature"] == (
        "HmacSHA512:DPldpGpPlYUvpeaxWVFdTvs+R1BSjeyLydwfVQiXplHSWpeBvluzzl4wMklegnmMIuDmB484bniw2yn12AbgUw=="
    )


def test_dotted_keys_sign_like_nested_ones() -> None:
    dotted = {"accessId": "1", "customer.name": "A B", "customer.address.city": "X", "amount": "5.00"}
    nested = {"accessId": "1", "customer": {"name": "A B", "address": {"city": "X"}}, "amount": "5.00"}
    assert establish_string_to_sign(dotted) == establish_string_to_sign(nested)
    assert establish_string_to_sign(nested) == "accessId=1&amount=5.00&customer.name=A B&customer.address.city=X"


def test_signing_refuses_floats_and_decimals_and_needs_the_access_id() -> None:
    with pytest.raises(InvalidRequestError, match="floats") as caught:
        establish_string_to_sign({"accessId": "1", "amount": 1.5})
    assert caught.value.field == "amount"
    # Decimal("10.5") would be signed as 10.5 while the body carries 10.50: only wire text is signed.
    with pytest.raises(InvalidRequestError, match="text that is sent") as caught:
        establish_string_to_sign({"accessId": "1", "minimumBalance": Decimal("0")})
    assert caught.value.field == "minimumBalance"
    with pytest.raises(InvalidRequestError, match="accessId"):
        sign_establish_data({"amount": "1.00"}, KEY)


def test_a_true_boolean_is_signed_in_lower_case() -> None:
    assert establish_string_to_sign({"accessId": "1", "verification": {"verifyCustomer": True}}) == (
        "accessId=1&verification.verifyCustomer=true"
    )


# Redirect: the docs' URL; the signature with key 123456 over the full URL is derived in the notes.
REDIRECT = (
    "https://merchant.com/Trustly/return?transactionId=1002655801&transactionType=1&merchantReference=123123"
    "&status=2&payment.paymentType=4&payment.paymentProvider.type=1&payment.account.verified=false&panel=1"
)


def test_redirect_vector() -> None:
    url = REDIRECT + "&requestSignature=xYZ1FJjJ7i%2BASZDu3OOJYpYGWoU%3D&instantPayoutAvail=true"
    params = verify_redirect(url, KEY, merchant_reference="123123")
    assert params.transaction_id == "1002655801" and params.status is TransactionStatus.AUTHORIZED
    assert params.transaction_type is TransactionType.AUTHORIZE
    payment = params.payment
    assert isinstance(payment, RedirectPayment) and payment.payment_type is PaymentType.DISBURSEMENT
    assert isinstance(payment.payment_provider, PaymentProvider) and payment.payment_provider.type_ == 1
    assert isinstance(payment.account, RedirectAccount) and payment.account.verified is False
    assert params.panel == "1" and params.merchant_reference == "123123"
    # Parameters after the signature are not signed, so they are not returned.
    assert "requestSignature" not in params and "instantPayoutAvail" not in params


def test_redirect_sha512_and_failures() -> None:
    signature = hmac_signature(REDIRECT, KEY, "HmacSHA512")
    from urllib.parse import quote

    assert verify_redirect(f"{REDIRECT}&requestSignature={quote(signature, safe='')}", KEY).panel == "1"
    tampered = REDIRECT.replace("status=2", "status=4") + "&requestSignature=xYZ1FJjJ7i%2BASZDu3OOJYpYGWoU%3D"
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_redirect(tampered, KEY)
    with pytest.raises(SignatureVerificationError, match="no requestSignature"):
        verify_redirect(REDIRECT, KEY)
    with pytest.raises(SignatureVerificationError, match="merchantReference"):
        verify_redirect(REDIRECT + "&requestSignature=xYZ1FJjJ7i%2BASZDu3OOJYpYGWoU%3D", KEY, merchant_reference="x")
    with pytest.raises(SignatureVerificationError):
        verify_redirect(REDIRECT + "&requestSignature=MD5%3Aabc", KEY)


# Notification: test vector 2 with the key the notes use for the derived signature.
BODY = (
    b"merchantId=1002463580&merchantReference=cb180040-7210-4ab9-97b7-415824754802&paymentType=2&transactionType=3"
    b"&eventId=1002593570&eventType=Authorize&objectId=1002593555&objectType=Transaction&message=&timeZone=Etc%2FUTC"
    b"&createdAt=1556234040954&accessId=M8RaHgEjBE54zuFYMRQq&paymentProviderTransaction.status=AC100"
    b"&paymentProviderTransaction.statusMessage=AC100&status=2&statusMessage=Authorized"
)
HEADER = "Basic TThSYUhnRWpCRTU0enVGWU1SUXE6ZFBnMEpWY3Rxb2dTRTRXVjhGSGZtRkt0MXdJPQ=="


def test_notification_vector() -> None:
    assert notification_signature(BODY, KEY) == "dPg0JVctqogSE4WV8FHfmFKt1wI="
    verify_notification_signature(BODY, HEADER, KEY, access_id="M8RaHgEjBE54zuFYMRQq")


def test_docs_header_decodes_to_the_docs_signature() -> None:
    docs_header = "Basic TThSYUhnRWpCRTU0enVGWU1SUXE6RVlOM0dYYXNyVlUxdlExdXlZejIyTk5RZHk0PQ=="
    decoded = base64.b64decode(docs_header.split()[1]).decode()
    assert decoded == "M8RaHgEjBE54zuFYMRQq:EYN3GXasrVU1vQ1uyYz22NNQdy4="
    with pytest.raises(SignatureVerificationError):  # the docs' real key is not published
        verify_notification_signature(BODY, docs_header, KEY)


def test_signing_the_raw_body_would_be_wrong() -> None:
    assert hmac_signature(BODY.decode(), KEY) == "ag0TDdvqeV62inbOug07py6nc3g="
    bad = "Basic " + base64.b64encode(b"M8RaHgEjBE54zuFYMRQq:ag0TDdvqeV62inbOug07py6nc3g=").decode()
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_notification_signature(BODY, bad, KEY)


def test_notification_sha512() -> None:
    signature = notification_signature(BODY, KEY, "HmacSHA512")
    header = "Basic " + base64.b64encode(f"M8RaHgEjBE54zuFYMRQq:{signature}".encode()).decode()
    verify_notification_signature(BODY, header, KEY)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "no Authorization"),
        ("Bearer abc", "not Basic"),
        ("Basic !!!", "not valid Base64"),
        ("Basic " + base64.b64encode(b"no-colon").decode(), "no signature"),
        ("Basic " + base64.b64encode(b"other:dPg0JVctqogSE4WV8FHfmFKt1wI=").decode(), "another accessId"),
    ],
)
def test_notification_header_failures(header: str | None, message: str) -> None:
    with pytest.raises(SignatureVerificationError, match=message):
        verify_notification_signature(BODY, header, KEY, access_id="M8RaHgEjBE54zuFYMRQq")


def test_a_changed_body_fails() -> None:
    with pytest.raises(SignatureVerificationError):
        verify_notification_signature(BODY.replace(b"status=2", b"status=4"), HEADER, KEY)
