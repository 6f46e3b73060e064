"""Trustly's transaction lifecycle as one table: which trigger moves which transaction where.

Every status change in the simulator goes through `TRANSITIONS`, so the table is the whole
model: a transaction type, the statuses a trigger applies in, the status it leads to and the
event notifications it raises. A trigger is an API operation (`cancel`, `refund`), the bank
(`authorize`, `deny`), or simulated time (`process`, `complete`, `timeout`, `expire`). Anything not in the
table is refused with Trustly's invalid-parameter error (code 200).

Evidence is given per row: [doc] is Trustly's documentation or OpenAPI file (see the project's
reference notes, trustly-docs.md and NOTES.md); [3rd] is a third-party summary of Trustly's
pages, which `LifecycleOptions` lets a test switch off; [inferred] is our reading where the docs
give the rule but not the detail (timings above all), also adjustable in `LifecycleOptions`.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import time as time_of_day
from datetime import timedelta
from decimal import Decimal

__all__ = ["TRANSITIONS", "LifecycleOptions", "Rule", "find_rule"]

# Transaction types (TransactionType) [doc: status-codes-and-type-definitions, trustly-docs.md 5.2].
AUTHORIZE, PAY, CAPTURE, REFUND, REVERSE, DEPOSIT, RECLAIM, REPRESENTMENT, PREAUTH = (
    "1", "2", "3", "4", "5", "6", "7", "8", "10",
)  # fmt: skip
TYPE_NAMES = {
    AUTHORIZE: "Authorize", PAY: "Pay", CAPTURE: "Capture", REFUND: "Refund", REVERSE: "Reverse",
    DEPOSIT: "Deposit", RECLAIM: "Reclaim", REPRESENTMENT: "Representment", PREAUTH: "Preauthorization",
}  # fmt: skip

# Statuses (TransactionStatus) [doc: transaction-status page; numbers from trustly-docs.md 5.2].
NEW, PENDING, AUTHORIZED, PROCESSED, COMPLETED, FAILED, EXPIRED, CANCELED, DENIED = (
    "0", "1", "2", "3", "4", "5", "6", "7", "8",
)  # fmt: skip
REVERSED, PARTIALLY_REFUNDED, REFUNDED, VOIDED, ON_HOLD = "10", "11", "12", "13", "14"
STATUS_NAMES = {
    NEW: "New", PENDING: "Pending", AUTHORIZED: "Authorized", PROCESSED: "Processed", COMPLETED: "Completed",
    FAILED: "Failed", EXPIRED: "Expired", CANCELED: "Canceled", DENIED: "Denied", REVERSED: "Reversed",
    PARTIALLY_REFUNDED: "PartiallyRefunded", REFUNDED: "Refunded", VOIDED: "Voided", ON_HOLD: "OnHold",
}  # fmt: skip

# Payment types by their establish name [doc: payment-products; trustly-docs.md 5.1].
INSTANT, DEFERRED, RECURRING, DISBURSEMENT, VERIFICATION, RETRIEVAL = "1", "2", "3", "4", "5", "6"
PAYMENT_TYPES = {
    "Instant": INSTANT, "Deferred": DEFERRED, "Recurring": RECURRING, "Disbursement": DISBURSEMENT,
    "Verification": VERIFICATION, "Retrieval": RETRIEVAL,
}  # fmt: skip
# Capture collects on Deferred and Recurring authorizations and on preauthorizations; deposit
# pays out on Disbursement and Deferred ones [doc: capture and deposit API pages, 5.3].
CAPTURE_ON = frozenset({DEFERRED, RECURRING})
DEPOSIT_ON = frozenset({DISBURSEMENT, DEFERRED})

# Money movements: they follow Authorized -> Processed -> Completed [doc: choose-an-integration].
MONEY = frozenset({PAY, CAPTURE, REFUND, DEPOSIT, RECLAIM, REPRESENTMENT})
COLLECTIONS = frozenset({PAY, CAPTURE})  # what a refund, an ACH return or a dispute applies to
# A merchantReference is unique across these types once one of them reached Authorized,
# Processed or Completed [doc: idempotency page; trustly-docs.md 4].
UNIQUE_REFERENCE_TYPES = frozenset({PAY, AUTHORIZE, CAPTURE, DEPOSIT, PREAUTH})


@dataclass(frozen=True)
class Rule:
    """One row: `trigger` moves a transaction of one of `types` from one of `sources` to `target`."""

    trigger: str
    types: frozenset[str]
    sources: frozenset[str]
    target: str
    events: tuple[str, ...]


def _rule(trigger: str, types: Set[str], sources: Set[str], target: str, *events: str) -> Rule:
    return Rule(trigger, frozenset(types), frozenset(sources), target, events)


REFUNDABLE = {COMPLETED, PARTIALLY_REFUNDED}

TRANSITIONS: tuple[Rule, ...] = (
    # -- the bank authorization (Authorize, or Pay for Instant) --------------------------------
    # The customer authorizes at the bank: returnUrl with status=2 and an Authorize event that
    # carries the split token [doc: testing page "Expected results"; webhooks page].
    _rule("authorize", {AUTHORIZE, PAY}, {NEW}, AUTHORIZED, "Authorize"),
    # Closing the Lightbox or failing the bank login: cancelUrl with status=7 [doc: testing page].
    _rule("abandon", {AUTHORIZE, PAY}, {NEW}, CANCELED, "Cancel"),
    # The bank denies the authorization, e.g. insufficient funds: SW021 [doc: status-codes page].
    _rule("deny", {AUTHORIZE, PAY}, {NEW, ON_HOLD}, DENIED, "Deny"),
    # Verification status ToVerify is "held as OnHold" until the merchant verifies [doc: OpenAPI
    # VerificationStatus]; the Update event reports a status change [doc: Update event].
    _rule("hold", {AUTHORIZE}, {NEW}, ON_HOLD, "Update"),
    _rule("release", {AUTHORIZE}, {ON_HOLD}, AUTHORIZED, "Authorize"),
    # A session the customer never finishes times out [doc: Expired event]; after how long is
    # not published (LifecycleOptions.session_ttl) [inferred].
    _rule("timeout", {AUTHORIZE, PAY}, {NEW}, EXPIRED, "Expired"),
    # An authorization that is not used expires only if the account is set up so
    # (LifecycleOptions.authorization_ttl, off by default) [inferred].
    _rule("expire", {AUTHORIZE}, {AUTHORIZED}, EXPIRED, "Expired"),
    # Cancel before authorization cancels; after it, it voids the bank authorization, and capture
    # and deposit are refused from then on [doc: cancel API page; status 13 Voided].
    _rule("cancel", {AUTHORIZE, PAY}, {NEW}, CANCELED, "Cancel"),
    _rule("cancel", {AUTHORIZE}, {AUTHORIZED, ON_HOLD}, VOIDED, "Cancel"),
    # -- preauthorization (capture/preAuth) -------------------------------------------------
    # Guarantees captures up to an amount for `period` hours (1-6), then expires; expiredAt
    # gives the moment [doc: capture/preAuth API page].
    _rule("expire", {PREAUTH}, {AUTHORIZED}, EXPIRED, "Expired"),
    _rule("cancel", {PREAUTH}, {AUTHORIZED}, CANCELED, "Cancel"),
    # -- money movements ----------------------------------------------------------------------
    # Created Authorized, then Processed (submitted) and Completed (funds moved), with the
    # Process and Completed events [doc: choose-an-integration; webhooks event-type table].
    _rule("accept", MONEY | {PREAUTH}, {NEW}, AUTHORIZED),
    _rule("process", MONEY, {AUTHORIZED}, PROCESSED, "Process"),
    _rule("complete", MONEY, {PROCESSED}, COMPLETED, "Completed"),
    # extendedreasoncode_<code> denies the next capture with SW054 [3rd: sandbox keyphrases].
    _rule("deny", {CAPTURE, PAY}, {NEW}, DENIED, "Deny"),
    # The bank refuses the debit when it is processed (invalid account, SW056) [doc: SW codes].
    _rule("fail", MONEY, {NEW, AUTHORIZED, PROCESSED}, FAILED, "Failed"),
    # Cancel works only before the processing cut-off, i.e. while not yet Processed [doc: cancel].
    _rule("cancel", MONEY, {AUTHORIZED}, CANCELED, "Cancel"),
    # Refunds of a Completed collection, partial and repeated until all is refunded [doc: refund
    # API page; statuses 11 PartiallyRefunded and 12 Refunded].
    _rule("refund", COLLECTIONS, REFUNDABLE, PARTIALLY_REFUNDED, "Refund"),
    _rule("refund_all", COLLECTIONS, REFUNDABLE, REFUNDED, "Refund"),
    # An ACH return after completion reverses the collection and raises a Dispute carrying the
    # return type [doc: Dispute event, status 10 Reversed, R01-R84 returns]; a return that comes
    # back before completion fails it [inferred].
    _rule("return", COLLECTIONS | {DEPOSIT}, REFUNDABLE, REVERSED, "Reverse", "Dispute"),
    _rule("return", COLLECTIONS | {DEPOSIT}, {PROCESSED}, FAILED, "Failed", "Dispute"),
)


def find_rule(trigger: str, transaction_type: str, status: str) -> Rule | None:
    """The row for `trigger` on a transaction of this type in this status, or None if not allowed."""
    for rule in TRANSITIONS:
        if rule.trigger == trigger and transaction_type in rule.types and status in rule.sources:
            return rule
    return None


@dataclass(frozen=True)
class LifecycleOptions:
    """Settings that make the simulator match one merchant account; the defaults follow the docs.

    Args:
        process_after: Time from a money movement's creation to Processed (ACH submission).
            [inferred: the docs give the order, not the hours]
        complete_after: Time from Processed to Completed (ACH settlement). [inferred]
        payout_batch: Deposits are processed in batches at this interval, as in the sandbox.
            [doc: sandbox notes "batched every 300 seconds"]
        session_ttl: An established transaction nobody authorizes expires after this. [inferred]
        authorization_ttl: An authorization expires after this; None: never. [inferred]
        split_token_ttl: A split token expires after this (capture then answers 326); None:
            never, as the docs give no lifetime. [inferred]
        minimum_amount: The smallest capture, deposit, refund or reclaim. [doc: 0.99]
        idempotency: Refuse a reused merchantReference with code 210; an account may be set up
            without it. [doc: idempotency page]
        third_party_keyphrases: Honour the Demo Bank passwords known only from a third-party
            summary (Balance{n}, ExpiredSplitToken, 2FA, extendedreasoncode_<code> ...). [3rd]
        recurring_cancel_cutoff: A Recurring capture can be canceled on the day it was made only
            before this time (UTC); None: no cut-off. [3rd: 8:30 PM GMT]
        notification_retry_every: How often an unacknowledged event is sent again. [doc: 5 min]
        notification_retry_for: How long an event is retried before Trustly gives up. [doc: 12 h]
    """

    process_after: timedelta = timedelta(hours=1)
    complete_after: timedelta = timedelta(days=3)
    payout_batch: timedelta = timedelta(seconds=300)
    session_ttl: timedelta = timedelta(minutes=30)
    authorization_ttl: timedelta | None = None
    split_token_ttl: timedelta | None = None
    minimum_amount: Decimal = Decimal("0.99")
    idempotency: bool = True
    third_party_keyphrases: bool = True
    recurring_cancel_cutoff: time_of_day | None = time_of_day(20, 30)
    notification_retry_every: timedelta = timedelta(minutes=5)
    notification_retry_for: timedelta = timedelta(hours=12)
