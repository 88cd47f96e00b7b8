"""Who's off: the daily digest and `/leave who`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from bot.views.requests import Blocks, section
from providers.models import Absence

SECTION_LIMIT = 2900  # Slack allows 3,000 characters per section
BLOCK_LIMIT = 50


def next_working_day(day: date) -> date:
    """The first weekday after ``day``."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def absence_line(absence: Absence, day: date, mention: Callable[[Absence], str]) -> str:
    """'• @alice: Annual leave, all day, back Tue 24 Nov'."""
    details = [absence.leave_type or "Away", absence.part_on(day)]
    if absence.end_date == day and absence.end == "AM":
        details.append("back after lunch")
    elif absence.end_date == day and absence.is_hourly:
        pass
    else:
        back = next_working_day(absence.end_date)
        details.append(f"back {back:%a} {back.day} {back:%b}")
    return f"• {mention(absence)}: {', '.join(details)}"


def whos_off(
    absences: Sequence[Absence], day: date, mention: Callable[[Absence], str], *, title: str
) -> tuple[str, Blocks]:
    """Fallback text and blocks listing who is off on ``day``; long lists are split into sections."""
    heading = f"{title}, {day:%a} {day.day} {day:%b}"
    if not absences:
        return f"{heading}: nobody", [section(f"*{heading}*\nNobody is off. 🎉")]
    lines = [absence_line(a, day, mention) for a in sorted(absences, key=lambda a: a.person.name.lower())]
    blocks: Blocks = [section(f"*{heading}* ({len(absences)})")]
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    if len(blocks) > BLOCK_LIMIT:
        shown = sum(b["text"]["text"].count("\n• ") + 1 for b in blocks[1 : BLOCK_LIMIT - 1])
        blocks = [*blocks[: BLOCK_LIMIT - 1], section(f"…and {len(lines) - shown} more.")]
    return f"{heading}: {len(absences)} off", blocks
