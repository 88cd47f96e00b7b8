"""The one interface every HR system implements, and the HTTP plumbing remote ones share."""

from __future__ import annotations

import asyncio
import enum
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.models import (
    Absence,
    Balance,
    Booking,
    BookingEvent,
    HolidayRequest,
    LeaveType,
    Outcome,
    Person,
    PublicHoliday,
)


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

    class Config(BaseModel):
        """Provider settings; subclasses add fields, read from ``<NAME>_<FIELD>`` variables."""

    def __init__(
        self,
        config: BaseModel | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.config = config if config is not None else self.Config()
        self._http = http
        self._engine = engine

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
        """Book the request (pending where approval is native)."""

    @abstractmethod
    async def absences(self, start: date, end: date) -> list[Absence]:
        """Every absence touching the days from ``start`` to ``end`` inclusive."""

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

    async def balance(self, person: Person) -> Balance | None:
        """Leave left, where the provider tracks it."""
        return None

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's absences touching ``start``..``end``; providers that can filter by person override this."""
        return [a for a in await self.absences(start, end) if a.person.id == person.id]

    async def public_holidays(self, start: date, end: date) -> list[PublicHoliday] | None:
        """Public holidays from ``start`` to ``end`` inclusive; None where the provider does not know them.

        None (not an empty list) lets the bot fall back to the ``holidays`` package for DIGEST_COUNTRY.
        """
        return None

    def verify_webhook(self, headers: Mapping[str, str]) -> bool:
        """True when a webhook delivery proves it comes from the provider; False refuses it (401)."""
        return False

    async def parse_webhook(self, body: bytes) -> BookingEvent | None:
        """The booking change a verified delivery reports; None for one to ignore (a test event).

        Raises ProviderRejected for a body that is not the provider's webhook format.
        """
        return None

    async def aclose(self) -> None:
        """Release what the provider holds (its HTTP client)."""
        if self._http is not None:
            await self._http.aclose()


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests in any ``per`` seconds."""

    calls: int
    per: float


class RateLimiter:
    """A sliding-window limiter shared by every task using one provider (one API key).

    A sliding window never lets more than ``calls`` requests start in any
    ``per`` seconds, so it also satisfies a server counting fixed windows.
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return once one more request may start."""
        async with self._lock:  # one waiter at a time keeps the order fair
            while True:
                moment = time.monotonic()
                while self._starts and moment - self._starts[0] >= self.limit.per:
                    self._starts.popleft()
                if len(self._starts) < self.limit.calls:
                    break
                await asyncio.sleep(self.limit.per - (moment - self._starts[0]))
            self._starts.append(time.monotonic())


class HttpProvider(LeaveProvider):
    """A provider behind an HTTP API: ``_request`` turns every failure into a ProviderError.

    Subclasses declare ``rate_limit`` to stay under the API's limit; a 429 is
    retried after its ``Retry-After`` up to ``rate_limit_retries`` times when the
    wait is at most ``max_retry_wait`` seconds, then raised as ProviderRateLimited.
    """

    rate_limit: ClassVar[RateLimit | None] = None
    rate_limit_retries: ClassVar[int] = 2
    max_retry_wait: ClassVar[float] = 5.0  # longer waits are reported: a Slack user is waiting
    auth_hint: ClassVar[str] = ""  # what an operator should check when credentials are refused

    def __init__(
        self,
        config: BaseModel | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        super().__init__(config, http=http, engine=engine)
        self._limiter = RateLimiter(self.rate_limit) if self.rate_limit else None

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request under the rate limit; map transport failures and error statuses to the typed errors."""
        for attempt in range(self.rate_limit_retries + 1):
            response = await self._send(method, url, **kwargs)
            wait = _seconds(response.headers.get("Retry-After"))
            if response.status_code != 429 or attempt == self.rate_limit_retries:
                break
            if (wait := 1.0 if wait is None else wait) > self.max_retry_wait:
                break
            await asyncio.sleep(wait)  # 429 means the request was not processed: sending it again is safe
        return self._check(response)

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._http is None:
            raise ProviderError("no HTTP client configured", provider=self.name)
        if self._limiter is not None:
            await self._limiter.wait()
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(
                f"{self.display_name} did not answer in time", provider=self.name
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"{self.display_name} could not be reached", provider=self.name
            ) from exc

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
        """The provider's own words for an error response; subclasses know their envelope."""
        return response.text[:300]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
