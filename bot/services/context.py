"""What an approver needs to decide in one look: the cost, the balance, who else is off, the team's limit.

Gathered once per card post or refresh, while the request is pending. Each part comes from the
provider on its own; one that fails is logged and left off the card, never stopping the card.
Provider cost per card: one ``public_holidays`` call (cached by most providers), one ``absences``
call for the request's days, one ``find_person`` and, where they exist, ``balance`` and ``max_off``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypeVar
from weakref import WeakKeyDictionary

from bot.services.whos_off import Calendar, namer, work_calendar
from bot.store.tables import LeaveRequest
from bot.views.requests import COLLEAGUES
from providers.errors import ProviderError
from providers.models import Absence, Balance, LeaveSpan, Status

if TYPE_CHECKING:
    from bot.services.requests import LeaveService

log = logging.getLogger(__name__)

T = TypeVar("T")
OFF = (Status.PENDING, Status.APPROVED)


@dataclass(frozen=True)
class Cost:
    """What the request takes: working days (halves count 0.5), or hours for an hourly booking."""

    amount: float
    unit: str  # "days" or "hours"
    holidays: Sequence[str] = ()  # public holidays inside the request, not counted


@dataclass(frozen=True)
class Colleague:
    """Someone of the requester's team off (or asking to be) during the request."""

    name: str  # a Slack mention, or their escaped name
    days: str  # their absence in words
    pending: bool


@dataclass(frozen=True)
class Crowded:
    """A day on which approving puts more of the team off than the limit allows."""

    day: date
    off: int  # the requester included


@dataclass(frozen=True)
class Team:
    """The requester's team during the request: who else is off, and its limit."""

    name: str | None  # the department; None: everyone (the provider knows no departments)
    colleagues: Sequence[Colleague]
    limit: int | None = None
    crowded: Sequence[Crowded] = ()
    unnamed: int = 0  # colleagues off beyond those named


@dataclass(frozen=True)
class CardContext:
    """Everything the card adds to the request itself; a part left as None is not shown."""

    cost: Cost | None = None
    balance: Balance | None = None
    team: Team | None = None

    @property
    def balance_after(self) -> float | None:
        """The balance once this request is taken, where the balance and the cost share a unit."""
        if self.balance is None or self.cost is None or self.balance.unit != self.cost.unit:
            return None
        return self.balance.remaining - self.cost.amount


async def card_context(service: LeaveService, request: LeaveRequest) -> CardContext:
    """The context of a pending request's card; parts the provider could not give are left out."""
    if request.status != Status.PENDING:
        return CardContext()  # decided: the card shows the outcome, and nothing is asked of the provider
    span = request.span
    # The parts are asked for at once: with a slow HR system the card waits for one call, not three.
    calendar, balance, team = await asyncio.gather(
        _attempt(
            "the working days", request, work_calendar(service, service.plan, span.start_date, span.end_date)
        ),
        _attempt("the balance", request, _balance(service, request)),
        _attempt("who else is off", request, _team(service, request)),
    )
    cost = cost_of(span, calendar) if calendar is not None else None
    if team is not None and calendar is not None:  # the limit counts working days only
        team = dataclasses.replace(
            team,
            crowded=[c for c in team.crowded if c.day in calendar.workdays(span.start_date, span.end_date)],
        )
    return CardContext(cost=cost, balance=balance, team=team)


async def _balance(service: LeaveService, request: LeaveRequest) -> Balance | None:
    if not service.provider.capabilities.balances:
        return None
    return await service.provider.balance(request.requester)


def cost_of(span: LeaveSpan, calendar: Calendar) -> Cost:
    """Working days from the calendar, half days counting 0.5; hours for an hourly booking."""
    if isinstance(span.start, int) and isinstance(span.end, int):
        return Cost((span.end - span.start) / 60, "hours")
    holidays = [h.name for day in span.days() for h in calendar.closed.get(day, ())]
    workdays = calendar.workdays(span.start_date, span.end_date)
    days = sum(0.5 if span.part_on(day) in ("morning", "afternoon") else 1.0 for day in workdays)
    return Cost(days, "days", list(dict.fromkeys(holidays)))


async def _team(service: LeaveService, request: LeaveRequest) -> Team:
    """Colleagues off during the request, the team's limit and the days approving would exceed it."""
    span = request.span
    department, listing = await asyncio.gather(
        _department(service, request), shared_absences(service, span.start_date, span.end_date)
    )
    others = [
        a
        for a in listing
        if a.status in OFF
        and a.person.id != request.requester_person_id
        and (department is None or a.person.department == department)
    ]
    # Only those the card names are named: on a busy day in a big company the rest is a count.
    shown = sorted(others, key=lambda a: (a.start_date, a.person.name.lower(), a.id))[:COLLEAGUES]
    name = await namer(service, shown)
    colleagues = [Colleague(name(a.person), a.describe(), a.status == Status.PENDING) for a in shown]
    limit = await _limit(service, department)
    crowded = _crowded(others, span.days(), limit)
    return Team(department, colleagues, limit, crowded, unnamed=len(others) - len(shown))


_in_flight: WeakKeyDictionary[LeaveService, dict[tuple[date, date], asyncio.Future[list[Absence]]]]
_in_flight = WeakKeyDictionary()


async def shared_absences(service: LeaveService, start: date, end: date) -> list[Absence]:
    """The provider's absences for these days; cards that need them while a call is out share that call.

    A burst of requests for one busy day (everyone asking for Christmas Eve) would otherwise list
    the same absences once per card, all at once, from a provider that may be slow and rate-limited.
    A finished call is not reused: a card refreshed later sees the absences as they are then.
    """
    calls = _in_flight.setdefault(service, {})
    if (start, end) not in calls:
        call = calls[(start, end)] = asyncio.ensure_future(service.provider.absences(start, end))
        call.add_done_callback(lambda _: calls.pop((start, end), None))
    return await asyncio.shield(calls[(start, end)])


def _crowded(others: Sequence[Absence], days: Sequence[date], limit: int | None) -> list[Crowded]:
    if limit is None:
        return []
    counts = [(day, len({a.person.id for a in others if a.covers(day)}) + 1) for day in days]
    return [Crowded(day, off) for day, off in counts if off > limit]


async def _department(service: LeaveService, request: LeaveRequest) -> str | None:
    """The requester's department, where the provider knows departments."""
    if not request.requester_email:
        return None
    return (await service.provider.find_person(request.requester_email)).department


async def _limit(service: LeaveService, department: str | None) -> int | None:
    """The stricter of the provider's limit for the department and MAX_OFF_PER_TEAM."""
    limits = [service.plan.max_off]
    if department is not None:
        limits.append(await service.provider.max_off(department))
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


async def _attempt(what: str, request: LeaveRequest, work: Awaitable[T]) -> T | None:
    """The result of ``work``, or None (logged) when the provider fails: the card goes out without it."""
    try:
        return await work
    except ProviderError as exc:
        log.warning("could not read %s for the card of request %s: %s", what, request.id, exc)
        return None
