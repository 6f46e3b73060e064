"""`TrustlyClient` and `AsyncTrustlyClient`: the objects users build and call.

A client owns one pooled httpx client, Basic authentication, the environment and the call
policy (timeouts, retries). Resources come from the generated facade:
`client.transactions.capture(...)`, `client.customers.get(...)`; each call goes through the
client's sender, which applies that policy and turns every failure into a `TrustlyError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx

from trustly_api_client.api import Api, AsyncApi
from trustly_api_client.operations import Operation

if TYPE_CHECKING:
    from trustly_api_client.models import EstablishRequest, RedirectParameters, Transaction

    from ._resources import (
        AsyncPaymentProvidersResource,
        AsyncPaymentsResource,
        AsyncTransactionsResource,
        PaymentProvidersResource,
        PaymentsResource,
        TransactionsResource,
    )

from ._auth import CORRELATION_HEADER, without_key_frames
from ._call import CallPolicy, lookup_keys
from ._encoding import check_content_types
from ._environment import Environment
from ._errors import AmbiguousOutcomeError, ConfigurationError, DuplicateRequestError, InvalidRequestError
from ._pool import AsyncPool, SyncPool
from ._reconcile import as_response, find_transaction, find_transaction_async, with_merchant_reference
from ._sender import AsyncSender, InFlightLimit, SyncSender
from ._settings import (
    DEFAULT_ASYNC_LIMITS,
    DEFAULT_DEADLINE,
    DEFAULT_LIMITS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Settings,
    StatelessAsyncClient,
    StatelessClient,
    TimeoutArg,
    Verify,
    check_deadline,
    check_max_retries,
    check_timeout,
)
from ._signatures import Algorithm, RedirectForm, verify_redirect

__all__ = [
    "DEFAULT_ASYNC_LIMITS",
    "DEFAULT_DEADLINE",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "AsyncTrustlyClient",
    "Backend",
    "TrustlyClient",
]

Backend = Literal["httpx", "aiohttp"]
"""What `AsyncTrustlyClient` sends through: httpx's connection pool, or aiohttp's (the `aiohttp` extra)."""


def _bounded(client: httpx.Client) -> httpx.Client:
    # _deadline imports httpcore: loaded with the first client, not with `import trustly`.
    from ._deadline import bound_client

    return bound_client(client)


def _async_transport(settings: Settings, given: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
    """The caller's transport, or httpx's split into small pools (see `_shards`)."""
    if given is not None:
        return given
    from ._shards import ShardedTransport

    return ShardedTransport(settings.limits, settings.ssl_context, settings.trust_env)


def _reference(error: AmbiguousOutcomeError | DuplicateRequestError) -> str:
    if not error.merchant_reference:
        raise InvalidRequestError("merchant_reference", "the request carried no merchantReference to look up")
    return error.merchant_reference


class _ClientBase:
    """What the sync and async clients share: settings, signing and their public identity."""

    _settings: Settings
    _policy: CallPolicy

    @property
    def base_url(self) -> httpx.URL:
        """The API root requests go to."""
        return self._settings.base_url

    @property
    def access_id(self) -> str:
        """The accessId requests are authenticated with."""
        return self._settings.credentials.access_id

    def sign_establish_data(
        self, request: EstablishRequest | Mapping[str, Any], algorithm: Algorithm = "HmacSHA1"
    ) -> dict[str, object]:
        """The signed Establish Data to hand to Trustly's JavaScript library (the Lightbox).

        Build the request as an `EstablishRequest`; the result is its serialised form with this
        client's `accessId` and a `requestSignature` over exactly those values, the same body
        `transactions.establish(body=request)` would send. A dict with Trustly's field names is
        also accepted and read strictly (a misspelt or missing field is an InvalidRequestError).

        Raises:
            InvalidRequestError: a field cannot be sent as given (named in `.field`).
        """
        from ._establish import establish_body, sign_body  # loads the establish models on first use

        try:
            body = establish_body(request)
            body.pop("requestSignature", None)
            return sign_body(body, self.access_id, self._settings.credentials.reveal_key(), algorithm)
        except Exception as error:
            raise without_key_frames(error)  # noqa: B904 - the same error, its key-holding frames dropped

    def _complete(self, op: Operation, request: dict[str, Any]) -> dict[str, Any]:
        """What the client adds to a checked request: the establish signature and generated references."""
        if op.operation_id == "transactions_establish" and isinstance(request.get("json"), dict):
            from ._establish import sign_body

            try:
                return {
                    **request,
                    "json": sign_body(request["json"], self.access_id, self._settings.credentials.reveal_key()),
                }
            except Exception as error:
                raise without_key_frames(error)  # noqa: B904 - the same error, its key-holding frames dropped
        return with_merchant_reference(op, request)

    def verify_redirect(
        self, url: str, *, merchant_reference: str | None = None, signed: RedirectForm = "either"
    ) -> RedirectParameters:
        """Check a returnUrl / cancelUrl redirect's signature with this client's key; return its parameters.

        `signed` chooses the accepted form, as in `trustly.verify_redirect`: the whole URL (API
        1.18.0 and later), the query only (earlier versions) or "either".
        """
        try:
            return verify_redirect(
                url, self._settings.credentials.reveal_key(), merchant_reference=merchant_reference, signed=signed
            )
        except Exception as error:
            raise without_key_frames(error)  # noqa: B904 - the same error, its key-holding frames dropped

    def _paged(self, tag: str, name: str) -> Any:
        # Ours replace the generated list resources; built on first use, then a dict lookup.
        resource = self.__dict__.get(name)
        if resource is None:
            from . import _resources

            resource = self.__dict__[name] = getattr(_resources, name)(self._sender)  # type: ignore[attr-defined]
        return resource

    def _changed_policy(
        self,
        timeout: TimeoutArg,
        max_retries: int | None,
        deadline: float | None,
        content_types: Mapping[str, str] | None = None,
    ) -> CallPolicy:
        return self._policy.replace(
            timeout=check_timeout(timeout) if timeout is not None else None,
            max_retries=check_max_retries(max_retries) if max_retries is not None else None,
            deadline=check_deadline(deadline) if deadline is not None else None,
            # A choice equal to the spec's default undoes an earlier switch of this client.
            content_types=None
            if content_types is None
            else check_content_types({**self._policy.content_types, **content_types}),
        )

    def __repr__(self) -> str:
        # Never raises, even on a client whose __init__ failed half-way (debuggers, error reporters).
        settings = self.__dict__.get("_settings")
        if settings is None:
            return f"{type(self).__name__}(<not configured>)"
        return (
            f"{type(self).__name__}(base_url={str(settings.base_url)!r}, access_id={settings.credentials.access_id!r})"
        )


class TrustlyClient(_ClientBase, Api):
    """A synchronous Trustly client.

    Example:
        ```python
        from trustly import Environment, TrustlyClient

        with TrustlyClient(environment=Environment.SANDBOX, access_id="...", access_key="...") as client:
            transaction = client.transactions.get("1002633191")
        ```

    Args:
        access_id: Trustly accessId; defaults to TRUSTLY_ACCESS_ID.
        access_key: Trustly accessKey; defaults to TRUSTLY_ACCESS_KEY.
        environment: `Environment.SANDBOX` or `Environment.PRODUCTION`; defaults to TRUSTLY_ENVIRONMENT.
            There is no implicit default.
        base_url: Instead of `environment`, an explicit API root such as a local simulator.
            Must be https, or http on a loopback address.
        timeout: Seconds (or an httpx.Timeout) for one attempt; default `DEFAULT_TIMEOUT`.
        max_retries: Retries after the first attempt, only where retrying cannot move money twice.
        deadline: Seconds one call may take across all its attempts; default `DEFAULT_DEADLINE`.
        verify: True, a CA bundle path, or an ssl.SSLContext. TLS verification cannot be disabled.
        transport: An httpx transport to send through (tests, proxies, `httpx.MockTransport`).
        headers: Extra headers for every request: printable ASCII, and not one the client sets
            itself (Host, Content-Length, Transfer-Encoding, Connection, Authorization).
        limits: Connection pool limits; default `DEFAULT_LIMITS` (httpx's: 100 connections, 20 kept alive).
        unique_merchant_references: True only if your Trustly account is configured for idempotency
            (Trustly refuses a repeated merchantReference with code 210). Then capture, capture/preAuth
            and deposit are retried after a failure that may have reached Trustly. False (the default)
            never resends them: the client looks the transaction up by merchantReference within the
            remaining deadline and returns it, or raises `AmbiguousOutcomeError`.
        max_response_bytes: The longest answer read; longer ones raise `ResponseTooLargeError`
            (16 MiB by default).
        content_types: Per operation id, the body media type to send instead of the spec's, e.g.
            `{"transactions_deposit": "application/x-www-form-urlencoded"}`; only the alternative
            the spec names for the operation is accepted (see `trustly._encoding`).
        on_ambiguous: Called with every `AmbiguousOutcomeError` a call ends in, before it is
            raised, and when a cancellation (or Ctrl-C) interrupts a money-moving request that may
            have arrived, before the `CancelledError` propagates. Use it to queue the transaction
            for reconciliation where the caller's own `except` may never see it (a web framework
            cancelling a request handler). Whatever it raises is logged and ignored.
    """

    def __init__(
        self,
        *,
        access_id: str | None = None,
        access_key: str | None = None,
        environment: Environment | str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutArg = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        verify: Verify = True,
        transport: httpx.BaseTransport | None = None,
        headers: dict[str, str] | None = None,
        limits: httpx.Limits | None = None,
        unique_merchant_references: bool = False,
        max_response_bytes: int | None = None,
        content_types: Mapping[str, str] | None = None,
        on_ambiguous: Callable[[AmbiguousOutcomeError], object] | None = None,
    ) -> None:
        settings = Settings(
            access_id=access_id,
            access_key=access_key,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            verify=verify,
            headers=headers,
            limits=limits,
            unique_merchant_references=unique_merchant_references,
            max_response_bytes=max_response_bytes,
            content_types=content_types,
            on_ambiguous=on_ambiguous,
        )
        pool = SyncPool(lambda: _bounded(StatelessClient(transport=transport, **settings.httpx_kwargs())))
        self._init(settings, pool, settings.policy)

    def _init(self, settings: Settings, pool: SyncPool, policy: CallPolicy) -> None:
        self._settings = settings
        self._pool = pool
        self._policy = policy
        super().__init__(SyncSender(pool.get, policy, lookup=self._look_up, complete=self._complete))

    def with_options(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        content_types: Mapping[str, str] | None = None,
    ) -> TrustlyClient:
        """A copy with other call settings that shares this client's connection pool.

        Use it per call: `client.with_options(max_retries=0).transactions.refund(...)`.
        """
        policy = self._changed_policy(timeout, max_retries, deadline, content_types)
        copy = object.__new__(TrustlyClient)
        copy._init(self._settings, self._pool, policy)
        return copy

    def reconcile(self, error: AmbiguousOutcomeError | DuplicateRequestError) -> Transaction | None:
        """Look up the transaction an ambiguous (or refused-as-duplicate) request would have created.

        Returns it if the request was applied, None if Trustly has no such transaction (it is
        then safe to send the request again with the same merchantReference). Refunds, reclaims
        and cancels sent without a merchantReference get a generated one, so they can always be
        looked up.
        """
        reference = _reference(error)
        return find_transaction(self, reference, error.transaction_id)

    def _look_up(
        self, op: Operation, request: dict[str, Any], correlation_id: str, remaining: float
    ) -> httpx.Response | None:
        # Resolving a 210 or reading before a retry: within what is left of the call's deadline.
        keys = lookup_keys(op, request)
        if keys is None:
            return None
        found = find_transaction(self.with_options(deadline=remaining), *keys)
        return None if found is None else as_response(found, correlation_id, CORRELATION_HEADER)

    @property
    def transactions(self) -> TransactionsResource:
        """Operations on transactions, plus `list_all` and `pages`."""
        resource: TransactionsResource = self._paged("transactions", "TransactionsResource")
        return resource

    @property
    def payments(self) -> PaymentsResource:
        """Operations on payments, plus `list_all` and `pages`."""
        resource: PaymentsResource = self._paged("payments", "PaymentsResource")
        return resource

    @property
    def payment_providers(self) -> PaymentProvidersResource:
        """Operations on payment providers, plus `list_all` and `pages`."""
        resource: PaymentProvidersResource = self._paged("payment_providers", "PaymentProvidersResource")
        return resource

    def close(self) -> None:
        """Close the connection pool. Safe to call more than once; copies share the pool."""
        client = self._pool.take()
        if client is not None:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncTrustlyClient(_ClientBase, AsyncApi):
    """An asyncio Trustly client; the same arguments and behaviour as `TrustlyClient`, plus `backend`.

    Example:
        ```python
        async with AsyncTrustlyClient(environment=Environment.SANDBOX) as client:
            transaction = await client.transactions.get("1002633191")
        ```

    Args:
        backend: `"httpx"` (the default) sends through httpx's connection pool; `"aiohttp"`
            sends through an aiohttp session (install `trustly-api-client[aiohttp]`), several
            times cheaper per request under concurrency. Retries, timeouts, the deadline, the
            size cap, proxies, TLS and every error are the same on both; `transport` is for
            the httpx backend only. With aiohttp, `limits.max_connections` bounds the pool
            and idle connections are all kept (aiohttp has no separate keep-alive limit).
        limits: Connection pool limits; default `DEFAULT_ASYNC_LIMITS` (100 connections, all
            kept alive while in use within 5 s). The httpx backend splits its pool into pools of
            at most two connections (`_shards.ShardedTransport`), whose limits add up to these,
            so that a request's cost does not grow with the size of the pool.
    """

    def __init__(
        self,
        *,
        access_id: str | None = None,
        access_key: str | None = None,
        environment: Environment | str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutArg = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        verify: Verify = True,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
        limits: httpx.Limits | None = None,
        unique_merchant_references: bool = False,
        max_response_bytes: int | None = None,
        content_types: Mapping[str, str] | None = None,
        on_ambiguous: Callable[[AmbiguousOutcomeError], object] | None = None,
        backend: Backend = "httpx",
    ) -> None:
        if backend not in ("httpx", "aiohttp"):
            raise ConfigurationError(f'backend must be "httpx" or "aiohttp", not {backend!r}')
        if backend == "aiohttp":
            if transport is not None:
                raise ConfigurationError('transport= is an httpx transport: it needs backend="httpx"')
            from ._aiohttp import check_aiohttp

            check_aiohttp()  # before anything else: the missing extra is the error to report
        settings = Settings(
            access_id=access_id,
            access_key=access_key,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            verify=verify,
            headers=headers,
            limits=limits if limits is not None else DEFAULT_ASYNC_LIMITS,
            unique_merchant_references=unique_merchant_references,
            max_response_bytes=max_response_bytes,
            content_types=content_types,
            on_ambiguous=on_ambiguous,
        )
        if backend == "aiohttp":
            from ._aiohttp import AiohttpClient, proxy_for

            proxy = proxy_for(settings.base_url, settings.trust_env)
            pool = AsyncPool(lambda: AiohttpClient(settings, proxy))
            # aiohttp's pool queues waiting requests cheaply; its connect timeout bounds the wait.
            in_flight = InFlightLimit(None)
        else:
            pool = AsyncPool(
                lambda: StatelessAsyncClient(transport=_async_transport(settings, transport), **settings.httpx_kwargs())
            )
            # Bursts larger than the pool wait in our queue, not inside httpx's (see InFlightLimit).
            in_flight = InFlightLimit(settings.limits.max_connections)
        self.backend: Backend = backend
        self._init(settings, pool, settings.policy, in_flight)

    def _init(self, settings: Settings, pool: AsyncPool, policy: CallPolicy, in_flight: InFlightLimit) -> None:
        self._settings = settings
        self._pool = pool
        self._policy = policy
        self._in_flight = in_flight
        super().__init__(AsyncSender(pool.get, policy, self._look_up, in_flight, complete=self._complete))

    def with_options(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        content_types: Mapping[str, str] | None = None,
    ) -> AsyncTrustlyClient:
        """A copy with other call settings that shares this client's connection pool."""
        policy = self._changed_policy(timeout, max_retries, deadline, content_types)
        copy = object.__new__(AsyncTrustlyClient)
        copy.backend = self.backend
        copy._init(self._settings, self._pool, policy, self._in_flight)
        return copy

    async def reconcile(self, error: AmbiguousOutcomeError | DuplicateRequestError) -> Transaction | None:
        """Look up the transaction an ambiguous or duplicate request created (see `TrustlyClient.reconcile`)."""
        return await find_transaction_async(self, _reference(error), error.transaction_id)

    async def _look_up(
        self, op: Operation, request: dict[str, Any], correlation_id: str, remaining: float
    ) -> httpx.Response | None:
        keys = lookup_keys(op, request)
        if keys is None:
            return None
        found = await find_transaction_async(self.with_options(deadline=remaining), *keys)
        return None if found is None else as_response(found, correlation_id, CORRELATION_HEADER)

    @property
    def transactions(self) -> AsyncTransactionsResource:
        """Operations on transactions, plus `list_all` and `pages`."""
        resource: AsyncTransactionsResource = self._paged("transactions", "AsyncTransactionsResource")
        return resource

    @property
    def payments(self) -> AsyncPaymentsResource:
        """Operations on payments, plus `list_all` and `pages`."""
        resource: AsyncPaymentsResource = self._paged("payments", "AsyncPaymentsResource")
        return resource

    @property
    def payment_providers(self) -> AsyncPaymentProvidersResource:
        """Operations on payment providers, plus `list_all` and `pages`."""
        resource: AsyncPaymentProvidersResource = self._paged("payment_providers", "AsyncPaymentProvidersResource")
        return resource

    async def close(self) -> None:
        """Close the connection pool. Safe to call more than once; copies share the pool."""
        client = self._pool.take()
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
