"""`trustly transactions get|list` and `trustly payments get`: read-only look-ups.

Lists page through `list_all` (constant memory, de-duplicated across pages) with the typed
filters of `client.transactions.list`; a spinner on stderr counts what was fetched so far.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from trustly_api_client.models import OrderBy, PaymentType, SortOrder, TransactionStatus, TransactionType

from ._app import Settings, cli, console, json_option, out, pass_settings, print_json, print_object

__all__ = ["EnumChoice", "Moment", "payments", "transactions"]


class EnumChoice(click.ParamType[Enum]):
    """A member of a Trustly enum, by name (any case) or by its wire value: `completed`, `COMPLETED` or `4`."""

    def __init__(self, enum: type[Enum]) -> None:
        self.enum = enum
        self.name = enum.__name__

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(member.name.lower() for member in self.enum) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Enum:
        if isinstance(value, self.enum):
            return value
        text = str(value).strip()
        by_name = self.enum.__members__.get(text.upper().replace("-", "_"))
        if by_name is not None:
            return by_name
        for member in self.enum:
            if member.value == text:
                return member
        names = ", ".join(member.name.lower() for member in self.enum)
        self.fail(f"{text!r} is not a {self.name} (one of: {names})", param, ctx)


class Moment(click.ParamType[datetime]):
    """A date or an ISO 8601 date-time, UTC when no offset is given."""

    name = "date-time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{text!r} is not a date (2026-01-31) or an ISO date-time (2026-01-31T12:00:00Z)", param, ctx)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _names(record: Any) -> dict[str, str]:
    """Enum names for the coded fields of a record, to show beside their codes."""
    names: dict[str, str] = {}
    for field, attribute in (("status", "status"), ("transactionType", "transaction_type")):
        value = getattr(record, attribute, None)
        if isinstance(value, Enum):
            names[field] = value.name
    return names


@cli.group()
def transactions() -> None:
    """Look up transactions."""


@transactions.command("get")
@click.argument("transaction_id")
@json_option
@pass_settings
def transactions_get(settings: Settings, transaction_id: str, as_json: bool) -> None:
    """Show one transaction."""
    transaction = settings.client().transactions.get(transaction_id)
    if as_json:
        print_json(transaction.to_dict())
    else:
        print_object(transaction.to_dict(), title=f"Transaction {transaction_id}", names=_names(transaction))


LIST_COLUMNS = ("transactionId", "transactionType", "status", "amount", "currency", "merchantReference", "createdAt")


@transactions.command("list")
@click.option("--status", "statuses", multiple=True, type=EnumChoice(TransactionStatus), help="Repeat for several.")
@click.option("--type", "types", multiple=True, type=EnumChoice(TransactionType), help="Repeat for several.")
@click.option("--payment-type", "payment_types", multiple=True, type=EnumChoice(PaymentType))
@click.option("--merchant-reference", help="The payment's merchantReference.")
@click.option("--payment-id")
@click.option("--original-transaction-id", help="Children (captures, refunds ...) of this transaction.")
@click.option("--created-from", type=Moment(), help="Created at or after (2026-01-31 or an ISO date-time).")
@click.option("--created-to", type=Moment(), help="Created at or before.")
@click.option("--amount-min", help="At least this amount (a decimal, e.g. 10.00).")
@click.option("--amount-max", help="At most this amount.")
@click.option("--order-by", type=EnumChoice(OrderBy))
@click.option("--sort-order", type=EnumChoice(SortOrder))
@click.option(
    "--limit", type=click.IntRange(min=0), default=100, show_default=True, help="At most this many; 0 for all."
)
@click.option("--page-size", type=click.IntRange(1, 100), default=100, show_default=True)
@json_option
@pass_settings
def transactions_list(
    settings: Settings,
    statuses: tuple[TransactionStatus, ...],
    types: tuple[TransactionType, ...],
    payment_types: tuple[PaymentType, ...],
    merchant_reference: str | None,
    payment_id: str | None,
    original_transaction_id: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    amount_min: str | None,
    amount_max: str | None,
    order_by: OrderBy | None,
    sort_order: SortOrder | None,
    limit: int,
    page_size: int,
    as_json: bool,
) -> None:
    """List transactions, newest first, with Trustly's filters."""
    given: dict[str, Any] = {
        "transaction_status": list(statuses),
        "transaction_type": list(types),
        "payment_payment_type": list(payment_types),
        "payment_merchant_reference": merchant_reference,
        "payment_payment_id": payment_id,
        "original_transaction_id": original_transaction_id,
        "created_at_start": created_from,
        "created_at_end": created_to,
        # Checked by the client like any amount (two decimals at most) before anything is sent.
        "amount_min": amount_min,
        "amount_max": amount_max,
        "order_by": order_by,
        "sort_order": sort_order,
    }
    filters = {name: value for name, value in given.items() if value not in (None, [])}
    found = settings.client().transactions.list_all(page_size=page_size, max_items=limit or None, **filters)
    progress_console = console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("fetched {task.completed} transactions"),
        console=progress_console,
        transient=True,
        disable=not progress_console.is_terminal,
    ) as progress:
        task = progress.add_task("list", total=None)
        if as_json:
            # One object per line as it arrives, inside a JSON array: constant memory on long listings.
            click.echo("[")
            for index, transaction in enumerate(found):
                line = json.dumps(transaction.to_dict(), default=str)
                click.echo(("  " if index == 0 else ", ") + line)
                progress.advance(task)
            click.echo("]")
            return
        table = Table(*LIST_COLUMNS)
        for transaction in found:
            row = transaction.to_dict()
            names = _names(transaction)
            table.add_row(*(_cell(row.get(column), names.get(column)) for column in LIST_COLUMNS))
            progress.advance(task)
    out().print(table)
    click.echo(f"{table.row_count} transaction(s)", err=True)


def _cell(value: Any, name: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and value > 10**11:
        # Trustly's milliseconds since the epoch, shown as UTC.
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{value} {name}" if name else str(value)


@cli.group()
def payments() -> None:
    """Look up payments."""


@payments.command("get")
@click.argument("payment_id")
@json_option
@pass_settings
def payments_get(settings: Settings, payment_id: str, as_json: bool) -> None:
    """Show one payment."""
    payment = settings.client().payments.get(payment_id)
    if as_json:
        print_json(payment.to_dict())
    else:
        print_object(payment.to_dict(), title=f"Payment {payment_id}")
