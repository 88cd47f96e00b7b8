"""The normalized leave model every provider speaks and the bot reads.

Parts of a day follow Timetastic's booking table: a start part of ``AM`` starts
in the morning, ``PM`` after lunch; an end part of ``AM`` ends at lunchtime,
``PM`` at the end of the day. An integer is a minute of the day (540 = 09:00)
and makes the booking hourly, on one day.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_SPAN_DAYS = 365

Minute = Annotated[int, Field(ge=0, le=1439)]
Part = Literal["AM", "PM"] | Minute


def part_to_text(part: Part) -> str:
    """A part as stored text: 'AM', 'PM' or the minute as digits."""
    return str(part)


def part_from_text(text: str) -> Part:
    """A stored part read back."""
    return int(text) if text.isdigit() else ("AM" if text == "AM" else "PM")


class Status(enum.StrEnum):
    """Where a leave request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Decision(enum.StrEnum):
    """What an approver can decide."""

    APPROVE = "approve"
    DECLINE = "decline"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Model):
    """Someone known to the HR system."""

    id: str
    name: str
    email: str | None = None
    # Set only where the provider knows people by their Slack id (the local provider).
    slack_user_id: str | None = None
    # Where the provider groups people into departments (the digest groups and routes by it).
    department: str | None = None


class LeaveType(_Model):
    """A kind of leave the HR system offers (holiday, sick, ...)."""

    id: str
    name: str
    # The HR system keeps this kind of leave private: the team sees "Out of office", never its name.
    private: bool = False


def format_minute(minute: int) -> str:
    """540 -> '09:00'."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


class LeaveSpan(_Model):
    """Dates plus a start and end part, validated as one booking."""

    start_date: date
    end_date: date
    start: Part = "AM"
    end: Part = "PM"

    @model_validator(mode="after")
    def _check_span(self) -> LeaveSpan:
        if self.end_date < self.start_date:
            raise ValueError("the end date is before the start date")
        if (self.end_date - self.start_date).days >= MAX_SPAN_DAYS:
            raise ValueError(f"a request can cover at most {MAX_SPAN_DAYS} days")
        hourly = [isinstance(p, int) for p in (self.start, self.end)]
        if any(hourly):
            if not all(hourly) or self.start_date != self.end_date:
                raise ValueError("an hourly booking needs a start and an end time on the same day")
            assert isinstance(self.start, int) and isinstance(self.end, int)
            if self.end <= self.start:
                raise ValueError("an hourly booking must end after it starts")
        elif self.start_date == self.end_date and (self.start, self.end) == ("PM", "AM"):
            raise ValueError("an afternoon start cannot end in the morning of the same day")
        return self

    @property
    def is_hourly(self) -> bool:
        """True for a booking in minutes on one day."""
        return isinstance(self.start, int)

    def covers(self, day: date) -> bool:
        """True when the booking includes any part of ``day``."""
        return self.start_date <= day <= self.end_date

    def part_on(self, day: date) -> str:
        """How much of ``day`` is taken: 'all day', 'morning', 'afternoon' or '09:00–12:00'."""
        if isinstance(self.start, int) and isinstance(self.end, int):
            return f"{format_minute(self.start)}–{format_minute(self.end)}"
        from_lunch = day == self.start_date and self.start == "PM"
        to_lunch = day == self.end_date and self.end == "AM"
        return "afternoon" if from_lunch else "morning" if to_lunch else "all day"

    def describe(self, *, this_year: int | None = None, month_first: bool = False) -> str:
        """The booking in words: 'Fri 27 Nov (afternoon)', 'Mon 23 Nov – Wed 25 Nov', 'Fri 1 Jan 2027'.

        A date outside ``this_year`` (the reader's; by default the current one) shows its year, and both
        ends do where the years differ; ``month_first`` writes 'Fri Nov 27' (en-US).
        """
        year = this_year if this_year is not None else date.today().year
        years = {self.start_date.year, self.end_date.year}
        shown = len(years) > 1 or years != {year}
        first = day_words(self.start_date, year=shown, month_first=month_first)
        if self.start_date == self.end_date:
            part = self.part_on(self.start_date)
            return first if part == "all day" else f"{first} ({part})"
        start = " (afternoon)" if self.start == "PM" else ""
        end = " (morning)" if self.end == "AM" else ""
        last = day_words(self.end_date, year=shown, month_first=month_first)
        return f"{first}{start} – {last}{end}"

    def days(self) -> list[date]:
        """Every calendar day the booking touches."""
        count = (self.end_date - self.start_date).days + 1
        return [self.start_date + timedelta(days=i) for i in range(count)]


def day_words(day: date, *, year: bool | None = None, month_first: bool = False) -> str:
    """'Fri 27 Nov' ('Fri Nov 27' month first); with the year when ``year``, or (None) when it is not this year's."""
    shown = day.year != date.today().year if year is None else year
    words = f"{day:%a} {day:%b} {day.day}" if month_first else f"{day:%a} {day.day} {day:%b}"
    return f"{words}, {day.year}" if shown and month_first else f"{words} {day.year}" if shown else words


MAX_REASON = 500


class Draft(LeaveSpan):
    """What a requester asked for, before it names a person: the parser's output."""

    leave_type: str | None = None
    reason: str = Field(default="", max_length=MAX_REASON)


class HolidayRequest(LeaveSpan):
    """A complete leave request, ready for a provider."""

    requester: Person
    leave_type: LeaveType | None = None
    reason: str = ""
    # The booking this request replaces (a change of dates): it is withdrawn once this one is accepted,
    # so it is no overlap.
    replaces: str | None = None


class Booking(_Model):
    """A request as the provider holds it after submission."""

    id: str
    status: Status


class Absence(LeaveSpan):
    """Someone off (or asking to be off) for a span of days."""

    id: str
    person: Person
    status: Status
    leave_type: str | None = None


class BookingState(_Model):
    """One booking as the HR system holds it now, and who decided it, where it says."""

    absence: Absence
    decided_by: Person | None = None


class Outcome(_Model):
    """What an approve, decline or cancel did at the provider.

    ``already_actioned`` means someone else decided first; ``status`` is then
    the state the provider reports now.
    """

    status: Status
    already_actioned: bool = False
    message: str | None = None
    # Who decided, where the provider reports it (when someone else decided first).
    decided_by: Person | None = None


class Balance(_Model):
    """Leave left for a person, in the provider's unit."""

    remaining: float
    unit: Literal["days", "hours"] = "days"


class PublicHoliday(_Model):
    """A day off for everyone in a country (or holiday set)."""

    day: date
    name: str
    country: str | None = None


class BookingEvent(_Model):
    """A change to one booking that the provider pushed to us (a webhook), in normalized terms.

    ``updated_at`` is when the provider last changed the booking: events may
    arrive out of order, and an older one must never overwrite a newer state.
    """

    event_id: str
    booking: Absence
    updated_at: datetime
    reason: str = ""
    decline_reason: str | None = None
    actor: Person | None = None  # who made the change in the HR system
