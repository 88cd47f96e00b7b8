"""Who's off, as Block Kit: the daily digest and `/leave who`, condensed and threaded when big.

Slack takes at most 50 blocks and 3,000 characters per section in a message, and refuses a
message whose blocks hold much more than ~12,000 characters in all (``msg_blocks_too_long``,
undocumented). A listing is tried in full (one line per person with leave type, part of the day
and return date); when that does not fit one message it is condensed (counts per group up top,
one short line per person) and split into messages: the first is posted, the rest go in its thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.views.blocks import Blocks, clip, context, escape, header, section
from providers import models
from providers.models import Absence, Person, PublicHoliday

SECTION_LIMIT = 2900  # Slack's limit is 3,000; the margin keeps a section safe whatever is appended
BLOCK_LIMIT = 50
MESSAGE_CHARS = 11_000  # below the ~12,000 characters at which Slack answers msg_blocks_too_long
LINE_LIMIT = 300  # one person's line, however long their name or leave type
LATER_NAMES = 12  # names per day in the full "Later this week" before "and N more"
GROUPS_IN_SUMMARY = 40
NO_DEPARTMENT = "No department"

Name = Callable[[Person], str]


class NextWorkday(Protocol):
    """The first working day after a day, for one person where their own public holidays are known."""

    def __call__(self, day: date, person: Person | None = None, /) -> date: ...


@dataclass(frozen=True)
class Message:
    """One Slack message: its notification text and its blocks."""

    text: str
    blocks: Blocks


@dataclass(frozen=True)
class Group:
    """People off on one day under one title (a department, or the day itself)."""

    title: str | None
    day: date
    absences: Sequence[Absence]


def day_words(day: date) -> str:
    """'Tue 24 Nov', or 'Fri 1 Jan 2027' outside the current year."""
    return models.day_words(day)


def people(count: int) -> str:
    """'1 person', '3 people'."""
    return f"{count} {'person' if count == 1 else 'people'}"


def back_words(absence: Absence, day: date, next_workday: NextWorkday) -> str | None:
    """When someone off on ``day`` is back: 'back Thu 26 Nov', 'back after lunch', or None (back that day)."""
    if absence.is_hourly:
        return None
    if absence.end_date == day and absence.end == "AM":
        return "back after lunch"
    return f"back {day_words(next_workday(absence.end_date, absence.person))}"


def absence_line(
    absence: Absence, day: date, name: Name, next_workday: NextWorkday, *, short: bool = False
) -> str:
    """'• @alice: Annual leave, all day, back Thu 26 Nov' (short: without the leave type)."""
    kind = [] if short else [escape(absence.leave_type or "Away")]
    back = back_words(absence, day, next_workday)
    details = [*kind, absence.part_on(day), *([back] if back else [])]
    return clip(f"• {name(absence.person)}: {', '.join(details)}", LINE_LIMIT)


def by_department(absences: Sequence[Absence], day: date) -> list[Group]:
    """One group per department (alphabetical, people without one last), or one untitled group."""
    ordered = sorted(absences, key=lambda a: (a.person.name.lower(), a.start_date, a.id))
    if not any(a.person.department for a in ordered):
        return [Group(None, day, ordered)] if ordered else []
    groups: dict[str, list[Absence]] = defaultdict(list)
    for absence in ordered:
        groups[absence.person.department or NO_DEPARTMENT].append(absence)
    titles = sorted(groups, key=lambda t: (t == NO_DEPARTMENT, t.lower()))
    return [Group(t, day, groups[t]) for t in titles]


def pack(lines: Sequence[str], *, title: str | None = None) -> Blocks:
    """Lines as few sections as fit Slack's limit, the title (bold) heading the first."""
    chunks: list[list[str]] = [[f"*{escape(title)}*"]] if title else [[]]
    size = len(chunks[0][0]) if title else 0
    for line in lines:
        if chunks[-1] and size + 1 + len(line) > SECTION_LIMIT:
            chunks.append([])
            size = -1
        chunks[-1].append(line)
        size += 1 + len(line)
    return [section("\n".join(chunk)) for chunk in chunks if chunk]


def build_digest(
    today: Sequence[Absence],
    later: Sequence[tuple[date, Sequence[Absence]]],
    day: date,
    *,
    name: Name,
    next_workday: NextWorkday,
    holidays: Sequence[PublicHoliday] = (),
    heading: str | None = None,
    threaded: bool = True,
) -> list[Message]:
    """The digest of ``day``: who is off (by department), a short "Later this week", as one or more messages.

    ``threaded``: the messages after the first go in its thread (else, below it: `/leave who`).
    """
    heading = heading or f"Who's off today, {day_words(day)}"
    groups = by_department(today, day)
    coming = sum(len(a) for _, a in later)
    summary = f"{people(len(today))} off" + (f" · {coming} more later this week" if coming else "")
    notes = [context(holidays_line(holidays))] if holidays else []
    if not today:
        return [
            Message(
                f"{heading}: everyone's in",
                [header(heading), *notes, section("Everyone's in. 🎉"), *_later_full(later, name)],
            )
        ]
    full = [
        header(heading),
        context(summary),
        *notes,
        *_groups(groups, name, next_workday),
        *_later_full(later, name),
    ]
    condensed = [
        header(heading),
        context(summary),
        *notes,
        *_counts(groups),
        *_later_counts(later),
        *_groups(groups, name, next_workday, short=True),
    ]
    return _messages(full, condensed, heading=heading, text=f"{heading}: {summary}", threaded=threaded)


def build_days(
    days: Sequence[tuple[date, Sequence[Absence]]],
    *,
    heading: str,
    name: Name,
    next_workday: NextWorkday,
    threaded: bool = False,
) -> list[Message]:
    """Who is off on each of several days (`/leave who next week`), one group per day."""
    groups = [Group(day_words(day), day, sorted(a, key=lambda a: a.person.name.lower())) for day, a in days]
    total = sum(len(g.absences) for g in groups)
    full = [header(heading), *_groups(groups, name, next_workday, empty="Nobody is off.")]
    condensed = [header(heading), *_groups(groups, name, next_workday, short=True, empty="Nobody is off.")]
    text = f"{heading}: {total} absences"
    return _messages(full, condensed, heading=heading, text=text, threaded=threaded)


def build_person_leave(who: str, absences: Sequence[Absence], *, until: date) -> Message:
    """`/leave who @someone`: their upcoming approved leave."""
    if not absences:
        return Message(
            f"No leave booked for {who}", [section(f"{who} has no leave booked until {day_words(until)}.")]
        )
    lines = [
        clip(f"• {a.describe()}" + (f" · {escape(a.leave_type)}" if a.leave_type else ""), LINE_LIMIT)
        for a in absences
    ]
    blocks = pack(lines, title=None)
    return Message(
        f"Upcoming leave of {who}", [section(f"*Upcoming leave of {who}*"), *blocks[: BLOCK_LIMIT - 1]]
    )


def more_than_fits(last: Message) -> Message:
    """The last message an answer has room for, saying that more was left out."""
    cut = context("…and more than fits here: ask about fewer days, or see the digest channel.")
    return Message(last.text, [*last.blocks, cut])


def holidays_line(holidays: Sequence[PublicHoliday]) -> str:
    """'🎌 Public holiday: Thanksgiving Day (US)'."""
    names = [f"{escape(h.name)} ({h.country})" if h.country else escape(h.name) for h in holidays]
    return clip(f"🎌 Public holiday: {', '.join(dict.fromkeys(names))}", LINE_LIMIT)


def message_chars(blocks: Blocks) -> int:
    """Characters of text in some blocks, as Slack counts them against a message."""
    total = 0
    for block in blocks:
        texts = [block.get("text"), *block.get("elements", []), *block.get("fields", [])]
        total += sum(len(t.get("text", "")) for t in texts if isinstance(t, dict))
    return total


# -- inside -----------------------------------------------------------------------------------


def _groups(
    groups: Sequence[Group], name: Name, next_workday: NextWorkday, *, short: bool = False, empty: str = ""
) -> Blocks:
    blocks: Blocks = []
    for group in groups:
        lines = [absence_line(a, group.day, name, next_workday, short=short) for a in group.absences]
        title = f"{group.title} ({len(group.absences)})" if group.title else None
        blocks += pack(lines or [empty], title=title) if lines or empty else []
    return blocks


def _later_full(later: Sequence[tuple[date, Sequence[Absence]]], name: Name) -> Blocks:
    lines = []
    for day, absences in later:
        names = [
            name(a.person) + ("" if (part := a.part_on(day)) == "all day" else f" ({part})")
            for a in sorted(absences, key=lambda a: a.person.name.lower())[:LATER_NAMES]
        ]
        more = f" and {len(absences) - LATER_NAMES} more" if len(absences) > LATER_NAMES else ""
        lines.append(clip(f"*{day_words(day)}:* {', '.join(names)}{more}", LINE_LIMIT))
    return [{"type": "divider"}, *pack(lines, title="Later this week")] if lines else []


def _later_counts(later: Sequence[tuple[date, Sequence[Absence]]]) -> Blocks:
    counts = " · ".join(f"{day_words(day)}: {len(absences)}" for day, absences in later)
    return [section(f"*Later this week:* {counts}")] if counts else []


def _counts(groups: Sequence[Group]) -> Blocks:
    if len(groups) < 2:
        return []
    shown = [f"{escape(g.title or '')}: {len(g.absences)}" for g in groups[:GROUPS_IN_SUMMARY]]
    more = (
        f" · and {len(groups) - GROUPS_IN_SUMMARY} more departments"
        if len(groups) > GROUPS_IN_SUMMARY
        else ""
    )
    return [section(clip(f"*By department:* {' · '.join(shown)}{more}", SECTION_LIMIT))]


def _messages(full: Blocks, condensed: Blocks, *, heading: str, text: str, threaded: bool) -> list[Message]:
    """The full listing when it fits one message; else the condensed one, continued in its thread (or below)."""
    if len(full) <= BLOCK_LIMIT and message_chars(full) <= MESSAGE_CHARS:
        return [Message(text, full)]
    pages = _paginate(condensed)
    if len(pages) == 1:
        return [Message(text, pages[0])]
    count = len(pages)
    where = "in the thread" if threaded else "below"
    first = Message(text, [*pages[0], context(f"The list continues {where} ({count - 1} more messages). 🧵")])
    rest = [
        Message(f"{heading} ({n}/{count})", [context(f"{heading} — continued ({n}/{count})"), *page])
        for n, page in enumerate(pages[1:], start=2)
    ]
    return [first, *rest]


def _paginate(blocks: Blocks) -> list[Blocks]:
    # Two blocks and ~300 characters of each message are kept for its "continued" and closing lines.
    room_blocks, room_chars = BLOCK_LIMIT - 2, MESSAGE_CHARS - 300
    pages: list[Blocks] = [[]]
    size = 0
    for block in blocks:
        chars = message_chars([block])
        if pages[-1] and (len(pages[-1]) >= room_blocks or size + chars > room_chars):
            pages.append([])
            size = 0
        pages[-1].append(block)
        size += chars
    return pages
