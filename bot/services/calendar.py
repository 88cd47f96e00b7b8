"""The company calendar: which days are working days, whose public holidays close the company, and the
policy every surface shares (where the digest goes, the team's limit, which leave types are private)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from bot.config import WEEKDAYS, Settings
from providers.base import LeaveProvider
from providers.errors import ProviderError
from providers.models import Absence, Person, PublicHoliday

log = logging.getLogger(__name__)

HOLIDAYS_AHEAD = timedelta(days=62)  # public holidays read ahead, for "back on" dates
Route = frozenset[str] | None  # the departments a channel shows; None: everyone
OUT_OF_OFFICE = "Out of office"  # what the team sees of a private leave type


class HolidaySource(Protocol):
    """What the calendar reads public holidays from: a provider, or the kept copy of its holidays."""

    display_name: str

    async def public_holidays(self, start: date, end: date) -> list[PublicHoliday] | None: ...


class KeptHolidays:
    """A provider's public holidays by calendar year, read once and kept; the sync's full passes read them
    again. So `/leave who`, the digest and the cards, which read absences from the mirror, make no HR call
    for their calendar either (a slow or failing HR system does not hold them up)."""

    def __init__(self, provider: LeaveProvider) -> None:
        self.provider = provider
        self.display_name = provider.display_name
        self._years: dict[int, list[PublicHoliday] | None] = {}

    async def public_holidays(self, start: date, end: date) -> list[PublicHoliday] | None:
        """The kept holidays of ``start``..``end``; years not kept yet are read now (ProviderError may rise)."""
        years = range(start.year, end.year + 1)
        if missing := [year for year in years if year not in self._years]:
            await self.read(missing[0], missing[-1])
        kept = [self._years[year] for year in years]
        if any(holidays is None for holidays in kept):
            return None  # the provider knows none: DIGEST_COUNTRY's are used
        return [h for holidays in kept for h in holidays or () if start <= h.day <= end]

    async def read(self, first: int, last: int) -> None:
        """Read the years ``first``..``last`` from the provider again, in one call."""
        found = await self.provider.public_holidays(date(first, 1, 1), date(last, 12, 31))
        for year in range(first, last + 1):
            self._years[year] = None if found is None else [h for h in found if h.day.year == year]

    async def refresh(self, today: date) -> None:
        """Read again every year a calendar from ``today`` may touch; a failure keeps what was kept."""
        try:
            await self.read(today.year, (today + HOLIDAYS_AHEAD).year)
        except ProviderError as exc:
            log.warning("could not read public holidays from %s: %s", self.display_name, exc)


@dataclass(frozen=True)
class DigestPlan:
    """The company calendar and what the team may see of each other, as the settings say.

    The digest, `/leave who` and the approval card all read it: where the digest goes, which
    days are working days, whose public holidays close the company, the most people of a team
    off at once, and which leave types are private.
    """

    routes: Mapping[str, Route]
    days: frozenset[int] = WEEKDAYS
    country: str | None = None
    skip_empty: bool = False
    max_off: int | None = None
    private_types: frozenset[str] = frozenset({"sick"})

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestPlan:
        """DIGEST_CHANNEL, DIGEST_DAYS, DIGEST_COUNTRY, DIGEST_SKIP_EMPTY, MAX_OFF_PER_TEAM, PRIVATE_LEAVE_TYPES."""
        return cls(
            routes=settings.digest_routes,
            days=settings.digest_days,
            country=settings.digest_country,
            skip_empty=settings.digest_skip_empty,
            max_off=settings.max_off_per_team,
            private_types=settings.private_leave_types,
        )

    def is_private(self, leave_type: str | None, marked: Collection[str] = ()) -> bool:
        """True for a leave type whose name contains one of PRIVATE_LEAVE_TYPES' words, or is one of ``marked``
        (lower-cased names of the types the HR system itself marks private)."""
        name = (leave_type or "").lower()
        return name in marked or any(word in name for word in self.private_types)

    def shown(self, absences: Sequence[Absence], marked: Collection[str] = ()) -> list[Absence]:
        """Absences as the team may see them: a private leave type becomes "Out of office"."""
        return [
            a.model_copy(update={"leave_type": OUT_OF_OFFICE}) if self.is_private(a.leave_type, marked) else a
            for a in absences
        ]


@dataclass(frozen=True)
class Calendar:
    """Working days: the digest days less the public holidays that close the company.

    ``countries`` (person id -> the country whose public holidays are theirs, None for none), where the HR
    system says, gives each person their own working days (``of``): someone in Germany works on a UK bank holiday.
    """

    days: frozenset[int]
    closed: Mapping[date, Sequence[PublicHoliday]] = field(default_factory=dict)
    elsewhere: Mapping[date, Sequence[PublicHoliday]] = field(default_factory=dict)
    countries: Mapping[str, str | None] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        """True on a digest day that is no public holiday here."""
        return day.weekday() in self.days and day not in self.closed

    def of(self, person_id: str | None) -> Calendar:
        """This person's working days: the digest days less their own country's public holidays (the company's
        where the HR system does not say)."""
        if person_id is None or person_id not in self.countries:
            return self
        country = self.countries[person_id]
        theirs: dict[date, list[PublicHoliday]] = {}
        others: dict[date, list[PublicHoliday]] = {}
        for day in sorted({*self.closed, *self.elsewhere}):
            for holiday in self.holidays_on(day):
                mine = country is not None and _same_country(holiday.country or country, country)
                (theirs if mine else others).setdefault(day, []).append(holiday)
        return Calendar(days=self.days, closed=theirs, elsewhere=others)

    def next_workday(self, day: date, person: Person | None = None, /) -> date:
        """The first working day after ``day`` (``person``'s own, where known)."""
        calendar = self.of(person.id) if person is not None else self
        for offset in range(1, 380):
            if calendar.is_workday(candidate := day + timedelta(days=offset)):
                return candidate
        return day + timedelta(days=1)  # no working days at all: say the next day

    def week_end(self, day: date) -> date:
        """The last day of ``day``'s working week: the run of digest days after it (holidays included)."""
        end = day
        while (end - day).days < 6 and (end + timedelta(days=1)).weekday() in self.days:
            end += timedelta(days=1)
        return end

    def workdays(self, start: date, end: date) -> list[date]:
        """Working days from ``start`` to ``end``, inclusive."""
        days = (start + timedelta(days=i) for i in range((end - start).days + 1))
        return [day for day in days if self.is_workday(day)]

    def holidays_on(self, day: date) -> list[PublicHoliday]:
        """Every public holiday on ``day``, here or elsewhere."""
        return [*self.closed.get(day, ()), *self.elsewhere.get(day, ())]


async def work_calendar(
    provider: HolidaySource,
    plan: DigestPlan,
    start: date,
    until: date | None = None,
    countries: Mapping[str, str | None] | None = None,
) -> Calendar:
    """The calendar from ``start`` on (to ``until`` at least): the provider's public holidays, else the country's
    (also while the provider is not answering: who is off is still told, from the absence mirror).

    With ``countries`` (each person's holidays, see ``Calendar``) and no DIGEST_COUNTRY, a holiday closes the
    company only where it is everyone's: a UK bank holiday is a working day for the digest when some are in Germany.
    """
    countries = countries or {}
    end = max(start + HOLIDAYS_AHEAD, until or start)
    try:
        holidays = await provider.public_holidays(start, end)
    except ProviderError as exc:
        log.warning(
            "public holidays from %s unavailable, using DIGEST_COUNTRY's: %s", provider.display_name, exc
        )
        holidays = None
    if holidays is None:
        holidays = _country_holidays(plan.country, start, end) if plan.country else []
    closed: dict[date, list[PublicHoliday]] = {}
    elsewhere: dict[date, list[PublicHoliday]] = {}
    everyone = set(countries.values())
    for holiday in holidays:
        if plan.country is not None:
            here = holiday.country is None or _same_country(holiday.country, plan.country)
        else:
            here = not everyone or _everyones(holiday.day, holidays, everyone)
        (closed if here else elsewhere).setdefault(holiday.day, []).append(holiday)
    return Calendar(days=plan.days, closed=closed, elsewhere=elsewhere, countries=countries)


def _everyones(day: date, holidays: Sequence[PublicHoliday], countries: set[str | None]) -> bool:
    """True when every one of ``countries`` (None: someone without public holidays) has a holiday on ``day``."""
    on_day = [h.country for h in holidays if h.day == day]
    return None not in countries and all(
        any(c is None or _same_country(c, country) for c in on_day) for country in countries if country
    )


def country_calendar(plan: DigestPlan, start: date, end: date) -> Calendar:
    """Working days from the settings alone (DIGEST_DAYS less DIGEST_COUNTRY's holidays): no I/O, for an ack."""
    holidays = _country_holidays(plan.country, start, end) if plan.country else []
    closed: dict[date, list[PublicHoliday]] = {}
    for holiday in holidays:
        closed.setdefault(holiday.day, []).append(holiday)
    return Calendar(days=plan.days, closed=closed)


def next_day(moment: datetime, zone: tzinfo) -> datetime:
    """The start of the day after ``moment`` in ``zone``, in UTC (when the next reminder may be claimed)."""
    local = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(local, time(0), zone).astimezone(UTC)


def _country_holidays(country: str, start: date, end: date) -> list[PublicHoliday]:
    years = range(start.year, end.year + 1)
    found = [h for year in years for h in _year_holidays(country, year) if start <= h.day <= end]
    return sorted(found, key=lambda h: (h.day, h.name)) if len(years) > 1 else found


@functools.lru_cache(maxsize=64)
def _year_holidays(country: str, year: int) -> tuple[PublicHoliday, ...]:
    """A country's public holidays in ``year``, in date order: built once (0.4–1.3 ms a time, and a preview
    before its ack asks for them)."""
    import holidays  # a large package: imported only where a country is set

    code, _, region = country.partition("-")
    known = holidays.country_holidays(code, subdiv=region or None, years=year)
    return tuple(PublicHoliday(day=day, name=name, country=country) for day, name in sorted(known.items()))


def _same_country(a: str, b: str) -> bool:
    return a.upper().partition("-")[0] == b.upper().partition("-")[0]
