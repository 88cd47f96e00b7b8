"""The one interface every HR system implements, and the HTTP plumbing remote ones share."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
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
from providers.models import Absence, Balance, Booking, HolidayRequest, LeaveType, Outcome, Person


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

    async def aclose(self) -> None:
        """Release what the provider holds (its HTTP client)."""
        if self._http is not None:
            await self._http.aclose()


class HttpProvider(LeaveProvider):
    """A provider behind an HTTP API: ``_request`` turns every failure into a ProviderError."""

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; map transport failures and error statuses to the typed errors."""
        if self._http is None:
            raise ProviderError("no HTTP client configured", provider=self.name)
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(
                f"{self.display_name} did not answer in time", provider=self.name
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"{self.display_name} could not be reached", provider=self.name
            ) from exc
        status = response.status_code
        if status < 300:
            return response
        detail = self._error_detail(response)
        if status in (401, 403) or 300 <= status < 400:
            raise ProviderAuthError(f"{self.display_name} refused our credentials", provider=self.name)
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
