"""Calendar feeds as iCalendar (RFC 5545), built with the ``icalendar`` package: pure, from feed items.

Whole days are ``DTSTART;VALUE=DATE`` with the exclusive ``DTEND`` (the day after the last); half days
and hours are timed events in the person's own zone, each zone once as a ``VTIMEZONE``. One event per
booking, its ``UID`` fixed for the booking's life and its ``SEQUENCE`` raised with each change, so a change
replaces the event; ``DTSTAMP`` and ``LAST-MODIFIED`` are the last change, so an unchanged feed keeps its bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from icalendar import Calendar, Event

from providers.models import LeaveSpan

PRODID = "-//leavebot//calendar feed//EN"


@dataclass(frozen=True)
class Workday:
    """Where a morning off starts and ends, and an afternoon, in the person's own zone (WORKDAY_START,
    WORKDAY_SPLIT, WORKDAY_END): a morning is start..split, an afternoon split..end."""

    start: time
    split: time
    end: time


@dataclass(frozen=True)
class FeedItem:
    """One booking as a feed shows it: nothing of it but what the feed's reader may see."""

    uid: str
    summary: str
    span: LeaveSpan
    zone: tzinfo
    sequence: int  # how many times what the event shows has changed
    stamp: datetime  # when it last changed: DTSTAMP and LAST-MODIFIED, so an unchanged feed keeps its bytes
    tentative: bool = False


def build_feed(name: str, items: Sequence[FeedItem], *, workday: Workday, refresh: timedelta) -> bytes:
    """The VCALENDAR of ``items``, ordered by start then UID so the same items give the same bytes."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", f"PT{max(60, int(refresh.total_seconds())) // 60}M")
    for item in sorted(items, key=lambda i: (i.span.start_date, i.uid)):
        calendar.add_component(_event(item, workday))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _event(item: FeedItem, workday: Workday) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", item.stamp.astimezone(UTC))
    event.add("last-modified", item.stamp.astimezone(UTC))
    event.add("sequence", item.sequence)
    event.add("summary", item.summary)
    start, end = bounds(item.span, item.zone, workday)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("status", "TENTATIVE" if item.tentative else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # someone's leave never makes the reader busy
    return event


def bounds(span: LeaveSpan, zone: tzinfo, workday: Workday) -> tuple[date, date] | tuple[datetime, datetime]:
    """Where the event starts and ends: dates (end exclusive) for whole days, else times in ``zone``."""
    if isinstance(span.start, int) and isinstance(span.end, int):
        day = datetime.combine(span.start_date, time(0), zone)
        return day + timedelta(minutes=span.start), day + timedelta(minutes=span.end)
    if (span.start, span.end) == ("AM", "PM"):
        return span.start_date, span.end_date + timedelta(days=1)
    begins = workday.split if span.start == "PM" else workday.start
    ends = workday.split if span.end == "AM" else workday.end
    return datetime.combine(span.start_date, begins, zone), datetime.combine(span.end_date, ends, zone)
