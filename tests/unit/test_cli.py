"""The `trustly` command's pieces that need no server: exit codes, argument types, a missing extra."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
import pytest

import trustly
from trustly._cli import ExitCode, main
from trustly._cli._exit import exit_code_for
from trustly._errors import ErrorDetail


def _status(kind: type[trustly.APIStatusError], status: int) -> trustly.APIStatusError:
    return kind(
        status_code=status,
        errors=(ErrorDetail(code=200, message="m"),),
        body=b"",
        method="GET",
        path="/x",
        correlation_id="c",
    )


ERRORS: list[tuple[trustly.TrustlyError, ExitCode]] = [
    (trustly.ConfigurationError("x"), ExitCode.CONFIGURATION),
    (trustly.InvalidRequestError("amount", "x"), ExitCode.INVALID_REQUEST),
    (trustly.APIConnectionError("x"), ExitCode.CONNECTION),
    (trustly.APITimeoutError("x"), ExitCode.CONNECTION),
    (trustly.ResponseTooLargeError("x"), ExitCode.CONNECTION),
    (_status(trustly.AuthenticationError, 401), ExitCode.AUTHENTICATION),
    (_status(trustly.PermissionDeniedError, 403), ExitCode.AUTHENTICATION),
    (_status(trustly.NotFoundError, 404), ExitCode.NOT_FOUND),
    (_status(trustly.BadRequestError, 400), ExitCode.API_ERROR),
    (_status(trustly.ConflictError, 409), ExitCode.API_ERROR),
    (_status(trustly.UnprocessableEntityError, 422), ExitCode.API_ERROR),
    (_status(trustly.RateLimitError, 429), ExitCode.API_ERROR),
    (_status(trustly.DuplicateRequestError, 400), ExitCode.API_ERROR),
    (_status(trustly.InternalServerError, 503), ExitCode.SERVER_ERROR),
    (trustly.SignatureVerificationError("x"), ExitCode.SIGNATURE),
    (trustly.InvalidNotificationError("x"), ExitCode.SIGNATURE),
    (_status(trustly.APIStatusError, 418), ExitCode.API_ERROR),
    (
        trustly.AmbiguousOutcomeError(
            "x", operation_id="transactions_refund", merchant_reference="r", transaction_id="1", correlation_id="c"
        ),
        ExitCode.AMBIGUOUS,
    ),
    (trustly.ResponseValidationError("x", operation_id="o", body=b"{}", correlation_id="c"), ExitCode.FAILURE),
    (trustly.TrustlyError("x"), ExitCode.FAILURE),
]


@pytest.mark.parametrize(("error", "code"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
def test_each_error_kind_has_its_exit_code(error: trustly.TrustlyError, code: ExitCode) -> None:
    assert exit_code_for(error) is code


def test_every_public_error_class_is_mapped() -> None:
    classes = {
        getattr(trustly, name)
        for name in trustly.__all__
        if isinstance(getattr(trustly, name), type) and issubclass(getattr(trustly, name), trustly.TrustlyError)
    }
    covered = {type(error) for error, _ in ERRORS}
    assert classes <= covered, classes - covered


def test_exit_codes_are_distinct_and_clear_of_the_shell_range() -> None:
    values = [code.value for code in ExitCode]
    assert len(values) == len(set(values))
    assert all(value < 64 or value == 130 for value in values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T12:30:00Z", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
        ("2026-01-31T12:30:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
        ("2026-01-31T14:30:00+02:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
    ],
)
def test_dates_are_read_as_utc_unless_they_say_otherwise(text: str, expected: datetime) -> None:
    from trustly._cli._lookups import Moment

    moment = Moment().convert(text, None, None)
    assert moment == expected and moment.tzinfo is not None


@pytest.mark.parametrize("text", ["", "yesterday", "31/01/2026", "2026-13-01"])
def test_other_dates_are_refused(text: str) -> None:
    from trustly._cli._lookups import Moment

    with pytest.raises(click.BadParameter):
        Moment().convert(text, None, None)


@pytest.mark.parametrize("text", ["completed", "COMPLETED", "Completed", "4", " 4 "])
def test_enum_options_take_a_name_or_a_code(text: str) -> None:
    from trustly._cli._lookups import EnumChoice
    from trustly.models import TransactionStatus

    assert EnumChoice(TransactionStatus).convert(text, None, None) is TransactionStatus.COMPLETED


@pytest.mark.parametrize("text", ["paid", "42", "unknown", ""])
def test_enum_options_refuse_what_trustly_does_not_define(text: str) -> None:
    from trustly._cli._lookups import EnumChoice
    from trustly.models import TransactionStatus

    with pytest.raises(click.BadParameter):
        EnumChoice(TransactionStatus).convert(text, None, None)


def test_without_the_cli_extra_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m.startswith(("trustly._cli.", "click.")) or m == "click"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "click", None)  # what an environment without click looks like
    assert main(["--help"]) == ExitCode.CONFIGURATION
    assert 'pip install "trustly-api-client[cli]"' in capsys.readouterr().err
