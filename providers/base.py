"""The one interface every HR system implements, and the HTTP plumbing remote ones share."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping
from contextlib import asynccontextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
)
from providers.models import (
    Absence,
    Balance,
    Booking,
    BookingEvent,
    BookingState,
    HolidayRequest,
    LeaveType,
    Outcome,
    Person,
    PublicHoliday,
)

log = logging.getLogger(__name__)
M = TypeVar("M")


class ApprovalMode(enum.StrEnum):
    """Who holds a request while it waits for an approver."""

    NATIVE = "native"  # the provider books it as pending and has approve/decline endpoints
    BOT = "bot"  # the bot keeps it pending and books it at the provider once approved


class Capabilities(BaseModel, frozen=True):
    """What a provider can do, declared as data so the bot never asks 'which provider is this?'."""

    approval: ApprovalMode = ApprovalMode.NATIVE
    half_days: bool = True
    hourly: bool = True
    balances: bool = False


class LeaveProvider(ABC):
    """An HR system, seen through the normalized models of ``providers.models``."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Where a person's approvers come from, for the message to someone who has none: a leavebot setting
    # (fixed by whoever runs leavebot), else the HR system's own approver field (fixed by its admins).
    approvers_setting: ClassVar[str | None] = None
    # False where leavebot is the only place a request is decided (the local provider: no HR app).
    decides_elsewhere: ClassVar[bool] = True
    approvers_field: ClassVar[str] = ""  # e.g. "the user's Approver"; empty: the HR system's own

    class Config(BaseModel):
        """Provider settings; subclasses add fields, read from ``<NAME>_<FIELD>`` variables."""

    def __init__(self, config: BaseModel | None = None) -> None:
        self.config = config if config is not None else self.Config()

    async def check_connection(self) -> None:
        """Make one cheap call that proves the credentials work; raise ProviderError if not."""
        await self.leave_types()

    @abstractmethod
    async def find_person(self, email: str) -> Person:
        """The person with this e-mail address; ProviderNotFound if none."""

    @abstractmethod
    async def leave_types(self) -> list[LeaveType]:
        """The kinds of leave people can request."""

    @abstractmethod
    async def submit(self, request: HolidayRequest) -> Booking:
        """Book the request: pending where approval is native; approved where the bot keeps approval
        (it is then called only once an approver has approved, and approve/decline are never called)."""

    async def validate(self, request: HolidayRequest) -> None:
        """Raise ProviderRejected (in the provider's words) if the request could not be booked.

        Called when a request is made where the bot keeps approval, so the requester hears of a
        refusal at once rather than when an approver approves. Default: nothing to check.
        """
        return None

    @abstractmethod
    async def absences(self, start: date, end: date) -> list[Absence]:
        """Every absence touching the days from ``start`` to ``end`` inclusive."""

    async def booking(self, booking_id: str) -> BookingState | None:
        """One booking as the HR system holds it now, declined or cancelled too; ProviderNotFound once it is
        deleted; None where the provider cannot read a booking alone."""
        return None

    @abstractmethod
    async def approve(self, booking_id: str) -> Outcome:
        """Approve a pending booking."""

    @abstractmethod
    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """Decline a pending booking, with an optional reason."""

    @abstractmethod
    async def cancel(self, booking_id: str) -> Outcome:
        """Withdraw a booking, pending or approved."""

    @abstractmethod
    async def approvers(self, person: Person) -> list[Person]:
        """Who may approve this person's requests."""

    async def escalation_approvers(self, person: Person) -> list[Person]:
        """Who to ask next when this person's approvers do not answer (or are away); [] where the provider names nobody."""
        return []

    async def balance(self, person: Person) -> Balance | None:
        """Leave left, where the provider tracks it."""
        return None

    async def max_off(self, department: str) -> int | None:
        """The most people of ``department`` the provider lets be off at once; None where it sets no limit."""
        return None

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's absences touching ``start``..``end``; providers that can filter by person override this."""
        return [a for a in await self.absences(start, end) if a.person.id == person.id]

    async def public_holidays(self, start: date, end: date) -> list[PublicHoliday] | None:
        """Public holidays from ``start`` to ``end`` inclusive; None where the provider does not know them.

        None (not an empty list) lets the bot fall back to the ``holidays`` package for DIGEST_COUNTRY.
        """
        return None

    async def holiday_countries(self) -> Mapping[str, str | None]:
        """Each person's (by id) country of public holidays, None for someone who has none; empty where the
        provider does not say (everyone then has the company's). Read from a kept list, not once per person."""
        return {}

    def verify_webhook(self, headers: Mapping[str, str]) -> bool:
        """True when a webhook delivery proves it comes from the provider; False refuses it (401)."""
        return False

    async def parse_webhook(self, body: bytes) -> BookingEvent | None:
        """The booking change a verified delivery reports; None for one to ignore (a test event).

        Raises ProviderRejected for a body that is not the provider's webhook format.
        """
        return None

    async def aclose(self) -> None:
        """Release what the provider holds (an HTTP client); nothing by default."""
        return None


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests in any ``per`` seconds."""

    calls: int
    per: float


class RateLimiter:
    """A sliding-window limiter shared by every task using one provider (one API key).

    A request holds its slot from its start until its answer, and the slot stays taken for ``per`` seconds
    after the answer: the server counted the request somewhere in between, so however late a request reaches
    it (a busy machine, a slow connection, a new TLS handshake), no ``per`` seconds of the server's see more
    than ``calls`` — by a sliding window or fixed ones. A 429 spent is a ``Retry-After`` that holds every call.
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._answered: deque[float] = deque()  # when each request of the last ``per`` seconds was answered
        self._running = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request's slot while it runs."""
        async with self._changed:  # waiters are woken in turn, which keeps the order fair
            while True:
                moment = time.monotonic()
                while self._answered and moment - self._answered[0] >= self.limit.per:
                    self._answered.popleft()
                if self._running + len(self._answered) < self.limit.calls:
                    break
                # Until the oldest answer leaves the window, or a running request is answered.
                expires = self.limit.per - (moment - self._answered[0]) if self._answered else None
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), expires)
            self._running += 1
        try:
            yield
        finally:
            async with self._changed:
                self._running -= 1
                self._answered.append(time.monotonic())
                self._changed.notify()


class HttpProvider(LeaveProvider):
    """A provider behind an HTTP API: ``_request`` turns every failure into a ProviderError.

    Subclasses declare ``rate_limit`` to stay under the API's limit; a 429 is
    retried after its ``Retry-After`` up to ``rate_limit_retries`` times when the
    wait is at most ``max_retry_wait`` seconds, then raised as ProviderRateLimited.
    While a 429's wait runs, no other call to the provider starts either.
    """

    rate_limit: ClassVar[RateLimit | None] = None
    rate_limit_retries: ClassVar[int] = 2
    max_retry_wait: ClassVar[float] = 5.0  # longer waits are reported: a Slack user is waiting
    auth_hint: ClassVar[str] = ""  # what an operator should check when credentials are refused
    # Where an error body's JSON carries the provider's own words, tried in order.
    error_fields: ClassVar[tuple[str, ...]] = ("message", "errorMessage", "error")

    def __init__(self, config: BaseModel | None = None, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(config)
        self._http = http
        self._limiter = RateLimiter(self.rate_limit) if self.rate_limit else None
        self._auth: httpx.Auth | None = None  # how each call is signed, where the provider signs them
        self._resume_at = 0.0  # monotonic time before which no call starts: the last 429's Retry-After

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.aclose()

    def _url(self, path: str) -> str:
        """The absolute URL of an API path (one already absolute is kept); subclasses may check links here."""
        return path if "://" in path else f"{getattr(self.config, 'base_url', '')}{path}"

    async def _json(self, method: str, path: str, shape: type[M], **kwargs: Any) -> M:
        """Call ``path`` and parse its JSON as ``shape`` (a private model or type); every failure typed.

        Transport failures and error statuses come from ``_request``; a body that is not JSON, or not
        ``shape``, is ProviderResponseError. An empty body reads as ``None``.
        """
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        if self._auth is not None:
            kwargs["auth"] = self._auth
        response = await self._request(method, self._url(path), headers=headers, **kwargs)
        return self._parse(shape, self._decode(response, path))

    def _decode(self, response: httpx.Response, path: str) -> Any:
        """The body's JSON (``None`` when empty); subclasses unwrap their envelope here."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderResponseError(
                f"{self.display_name} answered {path} with something that is not JSON", provider=self.name
            ) from exc

    def _parse(self, shape: type[M], data: Any) -> M:
        """``data`` as ``shape``; ProviderResponseError when it does not fit."""
        try:
            return TypeAdapter(shape).validate_python(data)
        except ValidationError as exc:
            raise ProviderResponseError(
                f"{self.display_name} answered in a shape leavebot does not know", provider=self.name
            ) from exc

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request under the rate limit; map transport failures and error statuses to the typed errors."""
        return self._check(await self._request_unchecked(method, url, **kwargs))

    async def _request_unchecked(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request under the rate limit, waiting out short 429s; the last response, whatever its status."""
        for attempt in range(self.rate_limit_retries + 1):
            response = await self._send(method, url, **kwargs)
            wait = _seconds(response.headers.get("Retry-After"))
            if response.status_code != 429 or attempt == self.rate_limit_retries:
                break
            if (wait := 1.0 if wait is None else wait) > self.max_retry_wait:
                break
            # 429 means the request was not processed: sending it again is safe. The wait holds every
            # caller (``_send``), so concurrent calls do not spend their retries on the same limit.
            self._resume_at = max(self._resume_at, time.monotonic() + wait)
        return response

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._http is None:
            raise ProviderError("no HTTP client configured", provider=self.name)
        if (pause := self._resume_at - time.monotonic()) > 0:
            await asyncio.sleep(pause)
        async with self._limiter.slot() if self._limiter is not None else nullcontext():
            started, outcome = time.monotonic(), "failed"
            try:
                response = await self._http.request(method, url, **kwargs)
                outcome = str(response.status_code)
                return response
            except httpx.TimeoutException as exc:
                outcome = "timed out"
                raise ProviderUnavailable(
                    f"{self.display_name} did not answer in time", provider=self.name
                ) from exc
            except httpx.TransportError as exc:
                outcome = "unreachable"
                raise ProviderUnavailable(
                    f"{self.display_name} could not be reached", provider=self.name
                ) from exc
            finally:
                self._log_call(method, url, outcome, time.monotonic() - started)

    def _log_call(self, method: str, url: str, outcome: str, seconds: float) -> None:
        """One line per HTTP call: its method and path (never the query string, where some HR APIs carry
        keys), its status and how long it took, also as the fields ``provider``, ``call``, ``status`` and
        ``duration_ms`` for a structured log."""
        call = f"{method} {httpx.URL(url).path}"
        duration_ms = round(seconds * 1000, 1)
        log.info(
            "%s %s: %s in %.1f ms",
            self.name,
            call,
            outcome,
            duration_ms,
            extra={"provider": self.name, "call": call, "status": outcome, "duration_ms": duration_ms},
        )

    def _check(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 300:
            return response
        detail = self._error_detail(response)
        if status in (401, 403) or 300 <= status < 400:
            hint = f" ({status}: {self.auth_hint})" if self.auth_hint else ""
            raise ProviderAuthError(f"{self.display_name} refused our credentials{hint}", provider=self.name)
        if status == 404:
            raise ProviderNotFound(detail or "not found", provider=self.name)
        if status == 429:
            retry_after = _seconds(response.headers.get("Retry-After"))
            raise ProviderRateLimited(
                f"{self.display_name} asked us to slow down", provider=self.name, retry_after=retry_after
            )
        if status >= 500:
            raise ProviderUnavailable(f"{self.display_name} answered {status}", provider=self.name)
        raise ProviderRejected(detail or f"{self.display_name} answered {status}", provider=self.name)

    def _error_detail(self, response: httpx.Response) -> str:
        """The provider's own words for an error response: the first of ``error_fields``, else its text."""
        try:
            data = response.json()
        except ValueError:
            return response.text.strip()[:300]
        said = (
            next((data[f] for f in self.error_fields if data.get(f)), None)
            if isinstance(data, dict)
            else None
        )
        return str(said or response.text).strip()[:300]


class SessionProvider(HttpProvider):
    """A provider that signs in for a session (a token or a cookie) which can expire.

    Every call but the sign-in's own carries the provider's ``Session``, a ``SessionAuth`` subclass that
    holds the sign-in request and how to read and apply what it answers.
    """

    Session: ClassVar[type[SessionAuth[Any]]]

    def __init__(self, config: BaseModel | None = None, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, http=http)
        self._session = self.Session(self)

    async def _request(self, method: str, url: str, *, session: bool = True, **kwargs: Any) -> httpx.Response:
        """One call, signed with the session unless it is the sign-in's own (``session=False``)."""
        return await super()._request(method, url, **({"auth": self._session} if session else {}), **kwargs)


P = TypeVar("P", bound=SessionProvider)


class SessionAuth(httpx.Auth, Generic[P]):
    """A provider's sign-in as an ``httpx.Auth``: sign in once for concurrent callers, never in a loop.

    It signs in before the first call, renews a session that ``fresh`` says is about to lapse, and when a
    response says the session expired (``expired``) signs in again once and repeats the call; a session
    refused right after signing in is reported as ProviderAuthError, not retried.

    Subclasses implement ``sign_in`` with the provider's ``_json(..., session=False)`` (or ``_request``),
    keep what they got, and return it from ``headers`` (a cookie kept by the client needs no headers).
    """

    def __init__(self, provider: P) -> None:
        self.provider = provider
        self._lock = asyncio.Lock()
        self._generation = 0  # counts sign-ins; 0 = never signed in

    async def sign_in(self) -> None:
        """Obtain a new session and keep it; raise ProviderAuthError when the credentials are refused."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        """Headers that carry the session on every call."""
        return {}

    def fresh(self) -> bool:
        """False when the session is known to lapse soon (a token with an expiry date)."""
        return True

    def expired(self, response: httpx.Response) -> bool:
        """True when a response says the session is no longer valid."""
        return response.status_code == 401

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Only the async flow exists: signing in awaits the provider."""
        raise RuntimeError("SessionAuth works with httpx.AsyncClient only")
        yield request  # pragma: no cover  # makes this a generator, as httpx expects

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign the request (signing in first when needed); on an expired session, sign in once and repeat."""
        generation = self._generation
        if generation == 0 or not self.fresh():
            generation = await self._renew(seen=generation)
        response = yield self._signed(request)
        await response.aread()  # ``expired`` may read the body (WhosOff's error envelope)
        if self.expired(response):
            await self._renew(seen=generation)
            response = yield self._signed(request)
            await response.aread()
            if self.expired(response):  # refused straight after signing in: never loop
                provider = self.provider
                hint = provider.auth_hint or "check the credentials"
                raise ProviderAuthError(
                    f"{provider.display_name} refused a new session ({hint})", provider=provider.name
                )

    def _signed(self, request: httpx.Request) -> httpx.Request:
        request.headers.update(self.headers())
        client = self.provider._http
        if client is not None and client.cookies:  # a cookie session: the jar's cookie, renewed or not
            request.headers.pop("Cookie", None)
            client.cookies.set_cookie_header(request)
        return request

    async def _renew(self, *, seen: int) -> int:
        """Sign in, unless another caller already replaced the session ``seen``; the session's generation now."""
        async with self._lock:
            if self._generation == seen:
                await self.sign_in()
                self._generation += 1
            return self._generation


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
