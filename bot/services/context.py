"""What an approver needs to decide in one look: the cost, the balance, who else is off, the team's limit.

Gathered once per card post or refresh, while the request is pending. Each part comes from the
provider on its own; one that fails is logged and left off the card, never stopping the card.
Provider cost per card: one ``public_holidays`` call (cached by most providers) and one ``holiday_countries``
(kept: Timetastic reads it from its user list), one ``absences``
call for the request's days, one ``find_person`` and, where they exist, ``balance`` and ``max_off``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Sequence
from datetime import date
from typing import TypeVar

from bot.domain import COLLEAGUES, CardContext, Colleague, Cost, Crowded, RequestState, Team
from bot.services.calendar import Calendar
from bot.services.deps import Deps
from bot.store.tables import LeaveRequest
from providers.errors import ProviderError
from providers.models import Absence, Balance, LeaveSpan, Status

log = logging.getLogger(__name__)

T = TypeVar("T")
OFF = (Status.PENDING, Status.APPROVED)


async def card_context(deps: Deps, request: LeaveRequest) -> CardContext:
    """The context of a pending request's card; parts the provider could not give are left out."""
    if request.status != RequestState.PENDING:
        return CardContext()  # decided: the card shows the outcome, and nothing is asked of the provider
    span = request.span
    # The parts are asked for at once: with a slow HR system the card waits for one call, not three.
    calendar, balance, team = await asyncio.gather(
        _attempt("the working days", request, deps.calendar(span.start_date, span.end_date)),
        _attempt("the balance", request, _balance(deps, request)),
        _attempt("who else is off", request, _team(deps, request)),
    )
    if calendar is not None:  # the requester's own working days: their country's public holidays
        calendar = calendar.of(request.requester_person_id)
    cost = cost_of(span, calendar) if calendar is not None else None
    if team is not None and calendar is not None:  # the limit counts working days only
        team = dataclasses.replace(
            team,
            crowded=[c for c in team.crowded if c.day in calendar.workdays(span.start_date, span.end_date)],
        )
    return CardContext(cost=cost, balance=balance, team=team)


async def _balance(deps: Deps, request: LeaveRequest) -> Balance | None:
    if not deps.provider.capabilities.balances:
        return None
    return await deps.provider.balance(request.requester)


def cost_of(span: LeaveSpan, calendar: Calendar) -> Cost:
    """Working days from the calendar, half days counting 0.5; hours for an hourly booking."""
    if isinstance(span.start, int) and isinstance(span.end, int):
        return Cost((span.end - span.start) / 60, "hours")
    holidays = [h.name for day in span.days() for h in calendar.closed.get(day, ())]
    workdays = calendar.workdays(span.start_date, span.end_date)
    days = sum(0.5 if span.part_on(day) in ("morning", "afternoon") else 1.0 for day in workdays)
    return Cost(days, "days", list(dict.fromkeys(holidays)))


async def _team(deps: Deps, request: LeaveRequest) -> Team:
    """Colleagues off during the request, the team's limit and the days approving would exceed it."""
    span = request.span
    department, listing = await asyncio.gather(
        _department(deps, request), deps.absences(span.start_date, span.end_date)
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
    name = await deps.people.namer(shown)
    colleagues = [Colleague(name(a.person), a.describe(), a.status == Status.PENDING) for a in shown]
    limit = await _limit(deps, department)
    crowded = _crowded(others, span.days(), limit)
    return Team(department, colleagues, limit, crowded, unnamed=len(others) - len(shown))


def _crowded(others: Sequence[Absence], days: Sequence[date], limit: int | None) -> list[Crowded]:
    if limit is None:
        return []
    counts = [(day, len({a.person.id for a in others if a.covers(day)}) + 1) for day in days]
    return [Crowded(day, off) for day, off in counts if off > limit]


async def _department(deps: Deps, request: LeaveRequest) -> str | None:
    """The requester's department, where the provider knows departments."""
    if not request.requester_email:
        return None
    return (await deps.provider.find_person(request.requester_email)).department


async def _limit(deps: Deps, department: str | None) -> int | None:
    """The stricter of the provider's limit for the department and MAX_OFF_PER_TEAM."""
    limits = [deps.plan.max_off]
    if department is not None:
        limits.append(await deps.provider.max_off(department))
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


async def _attempt(what: str, request: LeaveRequest, work: Awaitable[T]) -> T | None:
    """The result of ``work``, or None (logged) when the provider fails: the card goes out without it."""
    try:
        return await work
    except ProviderError as exc:
        log.warning("could not read %s for the card of request %s: %s", what, request.id, exc)
        return None
