"""Text → leave request draft: the one parser behind `/leave <text>`, the modal's prefill and the CLI.

This is the small grammar of the foundation: ISO dates, ``today``, ``tomorrow``,
weekday names, a range ``A to B``, ``am``/``pm``/``morning``/``afternoon``,
hours ``09:00-12:30``, a leave type named in the text and ``for <reason>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import ValidationError

from providers.models import Draft, LeaveType, Part

EXAMPLES = "`/leave tomorrow`, `/leave 2026-12-24 pm` or `/leave 2026-12-21 to 2026-12-24 for skiing`"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MORNING = {"am", "morning"}
AFTERNOON = {"pm", "afternoon"}
HOURS = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(?:-|–|to)\s*(\d{1,2})(?::(\d{2}))?\b")
RANGE = re.compile(r"\s+(?:to|until|till|through|-|–)\s+")
FILLER = {"off", "on", "the", "leave", "day", "all", "whole", "full"}


class ParseError(ValueError):
    """The text could not be understood; the message says what and shows what would work."""


@dataclass
class _Side:
    day: date
    part: str | None  # "AM", "PM" or None


def parse_request(text: str, *, today: date, leave_types: Sequence[LeaveType] = ()) -> Draft:
    """Understand ``text`` as a leave request, relative to ``today``."""
    body, reason = _split_reason(text)
    leave_type, body = _find_leave_type(body, leave_types)
    hours, body = _find_hours(body)
    if not body.strip():
        raise ParseError(f"Please say which day you want off, for example {EXAMPLES}.")
    sides = [_side(chunk, today) for chunk in RANGE.split(body.strip(), maxsplit=1)]
    first, last = sides[0], sides[-1]
    start: Part = "PM" if first.part == "PM" else "AM"
    end: Part = "AM" if last.part == "AM" else "PM"
    if len(sides) == 1 and first.part:
        start = end = first.part  # type: ignore[assignment]
    if hours:
        start, end = hours
    try:
        return Draft(
            start_date=first.day,
            end_date=last.day,
            start=start,
            end=end,
            leave_type=leave_type,
            reason=reason,
        )
    except ValidationError as exc:
        problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ParseError(f"That doesn't work: {problem}. Try {EXAMPLES}.") from None


def _split_reason(text: str) -> tuple[str, str]:
    body, sep, reason = text.strip().partition(" for ")
    return body, reason.strip() if sep else ""


def _find_leave_type(body: str, leave_types: Sequence[LeaveType]) -> tuple[str | None, str]:
    words = body.lower().split()
    for leave_type in leave_types:
        key = leave_type.name.lower().split()[0]
        if key in words:
            words.remove(key)
            return leave_type.name, " ".join(words)
    return None, body


def _find_hours(body: str) -> tuple[tuple[int, int] | None, str]:
    match = HOURS.search(body)
    if not match or ":" not in match.group(0):
        return None, body
    h1, m1, h2, m2 = (int(g or 0) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ParseError(f"“{match.group(0)}” is not a time range. Try `/leave tomorrow 09:00-12:30`.")
    return (h1 * 60 + m1, h2 * 60 + m2), body[: match.start()] + body[match.end() :]


def _side(chunk: str, today: date) -> _Side:
    words = [w for w in chunk.lower().replace(",", " ").split() if w not in FILLER]
    part = "AM" if MORNING & set(words) else "PM" if AFTERNOON & set(words) else None
    rest = [w for w in words if w not in MORNING | AFTERNOON]
    if len(rest) != 1:
        raise ParseError(f"I couldn't tell which day “{chunk.strip()}” means. Try {EXAMPLES}.")
    return _Side(_day(rest[0], today), part)


def _day(word: str, today: date) -> date:
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    for index, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return today + timedelta(days=(index - today.weekday()) % 7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ParseError(f"I couldn't understand “{word}” as a date. Try {EXAMPLES}.") from None
