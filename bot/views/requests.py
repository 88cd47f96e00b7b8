"""Messages and modals of one leave request: preview, request modal, approval card, outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from typing import Any

from pydantic import ValidationError

from bot.domain import COLLEAGUES, CROWDED_DAYS, CardContext, RequestState, Team
from bot.store.tables import LeaveRequest
from bot.views import ids
from bot.views.blocks import Blocks, button, clip, context, escape, section, text
from providers.models import Draft, LeaveSpan, LeaveType, day_words, format_minute

VALUE_LIMIT = 1950  # characters of a button's value kept (Slack's limit is 2,000)
LINE_LIMIT = 250  # one line of a card's context: ten of them stay well inside a section's 3,000

CHANGE_HINT = (
    "🔁 This replaces your pending request: the new dates are sent, then the old ones withdrawn. "
    "Your approvers are told."
)

HOURS = "HOURS"
START_PARTS = {"AM": "From the morning", "PM": "From lunchtime", HOURS: "At a time (hours)"}
END_PARTS = {"PM": "To the end of the day", "AM": "To lunchtime", HOURS: "At a time (hours)"}
OUTCOME_WORDS = {
    RequestState.APPROVED: "✅ Approved",
    RequestState.DECLINED: "❌ Declined",
    RequestState.CANCELLED: "🚫 Cancelled",
}


def summary(
    span: LeaveSpan,
    leave_type: str | None,
    reason: str,
    *,
    month_first: bool = False,
    this_year: int | None = None,
) -> str:
    """Dates, type and reason in a few mrkdwn lines (dates as the reader writes them, the year outside this one)."""
    lines = [f"*When:* {span.describe(month_first=month_first, this_year=this_year)}"]
    if leave_type:
        lines.append(f"*Type:* {escape(leave_type)}")
    if reason:
        lines.append(f"*Reason:* {escape(reason)}")
    return "\n".join(lines)


def preview(
    draft: Draft,
    draft_id: str,
    today: date,
    *,
    month_first: bool = False,
    no_workday: bool = False,
    type_note: str | None = None,
    typed: dict[str, Any] | None = None,
) -> Blocks:
    """The ephemeral preview of a typed request, with Submit / Edit / Cancel; says which days are past,
    when it takes no working day, and which leave type it goes in as when none was named.

    A past start is kept (sick leave is booked afterwards), never silently: the preview names the past
    days and how to ask from today instead. Dates are written as the typist writes them (``month_first``
    for en-US), with the year when it is not ``today``'s.
    """
    data: dict[str, Any] = {"id": draft_id, "draft": draft.model_dump(mode="json")}
    if type_note:  # the types were not known: Submit reads the type from ``typed`` again, or names its choice
        data["typeless"] = typed or True
    value = json.dumps(data, separators=(",", ":"))
    if len(value) > VALUE_LIMIT:  # a button's value holds 2,000 characters: the text is then not kept
        value = json.dumps({**data, "typeless": True}, separators=(",", ":"))
    words = summary(draft, draft.leave_type, draft.reason, month_first=month_first, this_year=today.year)
    notes = [
        *([past_days(draft, today, month_first=month_first)] if draft.start_date < today else []),
        *([no_workday_line(draft, today, month_first=month_first)] if no_workday else []),
        *([type_note] if type_note else []),
    ]
    return [
        section(f"*Here's your leave request:*\n{words}"),
        *(context(note) for note in notes),
        {
            "type": "actions",
            "elements": [
                button("Submit", ids.SUBMIT, value, "primary"),
                button("Edit", ids.EDIT, value),
                button("Cancel", ids.DISCARD, draft_id),
            ],
        },
    ]


def past_days(draft: Draft, today: date, *, month_first: bool = False) -> str:
    """The warning for a request that starts before ``today`` (the requester's date)."""
    last_past = min(draft.end_date, date.fromordinal(today.toordinal() - 1))
    past = LeaveSpan(start_date=draft.start_date, end_date=last_past)
    days = past.describe(month_first=month_first, this_year=today.year)
    verb = "is" if last_past == draft.start_date else "are"
    if draft.end_date < today:
        return (
            f":warning: {days} {verb} in the past: the whole request is. "
            "Submit records it anyway (e.g. sick leave already taken)."
        )
    end = day_words(draft.end_date, year=draft.end_date.year != today.year, month_first=month_first)
    return (
        f":warning: {days} {verb} in the past. Submit books them too "
        f"(e.g. sick leave already taken); to start from today instead, type `/leave today to {end.partition(' ')[2]}`."
    )


def no_workday_line(draft: Draft, today: date, *, month_first: bool = False) -> str:
    """The warning for a request with no working day in it (a weekend, a public holiday)."""
    when = LeaveSpan(start_date=draft.start_date, end_date=draft.end_date).describe(
        month_first=month_first, this_year=today.year
    )
    return (
        f":warning: {when} takes no working day (a weekend or a public holiday), so no leave is needed. "
        "Submit records it anyway."
    )


def default_type_line(name: str, hr: str) -> str:
    """Told of a request whose requester could choose no type (none were listed when they asked)."""
    return (
        f"ℹ️ No type of leave could be chosen when you asked, so it went in as *{escape(name)}*, the first of "
        f"{escape(hr)}'s types. Cancel it from `/leave mine` and ask again if that's the wrong one."
    )


def types_unknown_line(hr: str, *, submitted: bool = False) -> str:
    """Said while the HR system's leave types cannot be listed: the request goes in as its own default."""
    if submitted:
        return (
            f":warning: {escape(hr)}'s types of leave couldn't be listed just now, so it went in as "
            f"{escape(hr)}'s default type. Cancel it from `/leave mine` and ask again if that's the wrong one."
        )
    return (
        f":warning: {escape(hr)}'s types of leave couldn't be listed just now, so any type you named can't be "
        f"matched: Submit sends it as {escape(hr)}'s default type. To choose one, try again in a minute."
    )


def read_preview_value(value: str) -> tuple[str, Draft]:
    """The draft id and draft carried by a preview button."""
    data = json.loads(value)
    return data["id"], Draft.model_validate(data["draft"])


def preview_typeless(value: str) -> dict[str, Any] | bool:
    """What a preview made while the HR system's leave types were not known kept to read the type again
    (the text typed, its today and order of dates), True without it, False when the types were known."""
    typeless = json.loads(value).get("typeless") or False
    return typeless if isinstance(typeless, dict) else bool(typeless)


def modal_typeless(view: dict[str, Any]) -> bool:
    """True when the submitted request modal said its types could not be listed (it had no type picker)."""
    return any(block.get("block_id") == ids.TYPES_UNKNOWN for block in view.get("blocks") or [])


def request_modal(
    leave_types: Sequence[LeaveType],
    *,
    initial: Draft | None = None,
    today: date,
    replaces: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The modal for a new request; ``initial`` pre-fills it (the preview's Edit, or a Change); ``note``
    on top (why there is no type to pick).

    With ``replaces`` (a pending request's id, kept in ``private_metadata``) submitting it changes
    that request: the new one is sent and the old one withdrawn.
    """
    draft = initial or Draft(start_date=today, end_date=today)
    blocks: Blocks = [context(CHANGE_HINT)] if replaces is not None else []
    blocks += [{**context(note), "block_id": ids.TYPES_UNKNOWN}] if note else []
    blocks += [
        _input(
            ids.START_DATE, "First day", {"type": "datepicker", "initial_date": draft.start_date.isoformat()}
        ),
        _input(ids.START_PART, "Starting", _select(START_PARTS, _part_key(draft.start))),
        _input(ids.END_DATE, "Last day", {"type": "datepicker", "initial_date": draft.end_date.isoformat()}),
        _input(ids.END_PART, "Ending", _select(END_PARTS, _part_key(draft.end))),
        _input(ids.START_TIME, "From (for hours)", _timepicker(draft.start), optional=True),
        _input(ids.END_TIME, "To (for hours)", _timepicker(draft.end), optional=True),
    ]
    if leave_types:
        choices = {t.id: t.name for t in leave_types[:100]}
        chosen = next((t.id for t in leave_types if t.name == draft.leave_type), leave_types[0].id)
        blocks.append(_input(ids.LEAVE_TYPE, "Type of leave", _select(choices, chosen)))
    reason = {"type": "plain_text_input", "max_length": 500, "initial_value": draft.reason}
    blocks.append(_input(ids.REASON, "Reason", reason, optional=True))
    return {
        "type": "modal",
        "callback_id": ids.REQUEST_MODAL,
        "private_metadata": "" if replaces is None else str(replaces),
        "title": text("Request leave" if replaces is None else "Change leave"),
        "submit": text("Submit" if replaces is None else "Change"),
        "close": text("Cancel"),
        "blocks": blocks,
    }


def _part_key(part: object) -> str:
    return HOURS if isinstance(part, int) else str(part)


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    element = {key: value for key, value in element.items() if value not in (None, "")}
    return {
        "type": "input",
        "block_id": block_id,
        "label": text(label),
        "optional": optional,
        "element": {**element, "action_id": block_id},
    }


def _select(choices: dict[str, str], initial: str) -> dict[str, Any]:
    options = [{"text": text(label), "value": value} for value, label in choices.items()]
    chosen = next((o for o in options if o["value"] == initial), options[0])
    return {"type": "static_select", "options": options, "initial_option": chosen}


def _timepicker(part: object) -> dict[str, Any]:
    return {"type": "timepicker", "initial_time": format_minute(part) if isinstance(part, int) else None}


def approval_card(
    request: LeaveRequest,
    about: CardContext | None = None,
    times: str | None = None,
    *,
    note: str | None = None,
) -> Blocks:
    """An approver's card: who, when, what, what it costs, who else is off, and Approve / Decline while pending.

    The approver sees everything of the request itself, private leave types included; of the
    colleagues off only their names and days. ``note`` says why they were asked (a reminder,
    an escalation, a delegate, a change of dates), on top.
    """
    blocks = [context(note)] if note else []
    blocks += [
        section(
            f"*<@{request.requester_slack_id}>* asks for leave\n"
            f"{summary(request.span, request.leave_type_name, request.reason)}"
        )
    ]
    if times:
        blocks.append(context(times))
    if about is not None:
        blocks += context_blocks(about)
    if request.status == RequestState.PENDING:
        value = str(request.id)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"decide-{request.id}",
                "elements": [
                    button("Approve", ids.APPROVE, value, "primary"),
                    button("Decline", ids.DECLINE, value, "danger"),
                ],
            }
        )
    else:
        blocks.append(context(outcome_line(request)))
    return blocks


def times_elsewhere(span: LeaveSpan, booked_in: tzinfo | None, viewer: tzinfo | None) -> str | None:
    """'🕘 09:00–12:00 in Asia/Tokyo is Sun 19:00–22:00 your time (America/New_York)', or None where
    the times read the same for the viewer (not hourly, same offset, or a zone unknown)."""
    if not (isinstance(span.start, int) and isinstance(span.end, int) and booked_in and viewer):
        return None
    start, end = (
        datetime.combine(span.start_date, time(m // 60, m % 60), booked_in) for m in (span.start, span.end)
    )
    there, until = start.astimezone(viewer), end.astimezone(viewer)
    if there.utcoffset() == start.utcoffset() and until.utcoffset() == end.utcoffset():
        return None
    day = "" if there.date() == start.date() else f"{there:%a} "
    return (
        f"🕘 {format_minute(span.start)}–{format_minute(span.end)} in {booked_in} is "
        f"{day}{there:%H:%M}–{until:%H:%M} your time ({viewer})"
    )


def context_blocks(about: CardContext) -> Blocks:
    """The card's context: cost and balance, who else in the team is off, and the limit's warning."""
    lines = [line for line in (cost_line(about), balance_line(about)) if line]
    blocks = [section("\n".join(lines))] if lines else []
    team = about.team
    if team is not None:
        blocks.append(section(colleagues_text(team)))
        if team.crowded:
            blocks.append(section(crowded_line(team)))
    return blocks


def amount(value: float, unit: str) -> str:
    """'1 day', '2.5 days', '7.5 hours'."""
    return f"{value:g} {unit.removesuffix('s') if value == 1 else unit}"


def cost_line(about: CardContext) -> str | None:
    """'*Takes:* 2 working days (Christmas Day not counted)' or '*Takes:* 3 hours'."""
    cost = about.cost
    if cost is None:
        return None
    if cost.unit == "hours":
        return f"*Takes:* {amount(cost.amount, 'hours')}"
    days = f"{cost.amount:g} working day{'' if cost.amount == 1 else 's'}"
    holidays = f" ({escape(', '.join(cost.holidays))} not counted)" if cost.holidays else ""
    return clip(f"*Takes:* {days}{holidays}", LINE_LIMIT)


def balance_line(about: CardContext) -> str | None:
    """'*Balance:* 20.5 days now, 19.5 days after', or just what is left when the units differ."""
    balance = about.balance
    if balance is None:
        return None
    now = amount(balance.remaining, balance.unit)
    after = about.balance_after
    return f"*Balance:* {now} now" + (f", {amount(after, balance.unit)} after" if after is not None else "")


def colleagues_text(team: Team) -> str:
    """'*Also off in Engineering:*' and a line per colleague, at most COLLEAGUES of them."""
    where = f" in {escape(team.name)}" if team.name else ""
    if not team.colleagues:
        return clip(f"*Also off{where}:* nobody", LINE_LIMIT)
    lines = [
        clip(f"• {c.name}: {c.days}" + (" · pending" if c.pending else ""), LINE_LIMIT)
        for c in team.colleagues[:COLLEAGUES]
    ]
    more = len(team.colleagues) + team.unnamed - COLLEAGUES
    if more > 0:
        lines.append(f"…and {more} other{'s' if more > 1 else ''}")
    return "\n".join([clip(f"*Also off{where}:*", LINE_LIMIT), *lines])


def crowded_line(team: Team) -> str:
    """'⚠️ Approving puts 3 people of Engineering off on Tue 24 Nov, Wed 25 Nov: the limit is 2.'"""
    most = max(c.off for c in team.crowded)
    days = ", ".join(day_words(c.day) for c in team.crowded[:CROWDED_DAYS])
    more = f" and {len(team.crowded) - CROWDED_DAYS} more days" if len(team.crowded) > CROWDED_DAYS else ""
    where = f" of {escape(team.name)}" if team.name else ""
    return clip(
        f"⚠️ Approving puts {most} people{where} off on {days}{more}: the limit is {team.limit}.", LINE_LIMIT
    )


def outcome_line(request: LeaveRequest) -> str:
    """'✅ Approved by @bob' or '❌ Declined by @bob: not this week'."""
    words = OUTCOME_WORDS.get(RequestState(request.status), request.status.capitalize())
    line = f"{words} by <@{request.decided_by}>" if request.decided_by else words
    return f"{line}: {escape(request.decline_reason)}" if request.decline_reason else line


def changes_note(old: LeaveRequest) -> str:
    """On top of the new request's cards: '🔁 Changes @Alice's earlier request for Fri 8 Jan'."""
    return f"🔁 Changes <@{old.requester_slack_id}>'s earlier request for {old.span.describe()}."


def replaced_line(new_dates: str) -> str:
    """On top of a replaced request's cards: '🔁 Replaced by a new request: Mon 11 Jan – Tue 12 Jan'."""
    return f"🔁 Replaced by a new request: {new_dates}."


def not_changeable(request: LeaveRequest) -> str:
    """Why a request's dates cannot be changed: only a pending one can."""
    when = request.span.describe()
    if request.status == RequestState.DECIDING:
        return f"Your leave for {when} is being decided right now; try again in a moment."
    if request.status == RequestState.APPROVED:
        return (
            f"Your leave for {when} is approved already, so its dates can't be changed here. "
            "Cancel it from `/leave mine`, then ask for the new dates."
        )
    return f"Your leave for {when} is {request.status}: only a pending request can be changed."


def change_refused(refusal: str, old: LeaveRequest, new: LeaveSpan) -> str:
    """Told when the HR system refuses the new dates: the old request stands (and, if they overlap, what to do)."""
    line = f"{refusal} Your leave for {old.span.describe()} stands as it was."
    if new.start_date <= old.end_date and old.start_date <= new.end_date:
        line += " If it refuses dates overlapping it, cancel it from `/leave mine` first, then ask again."
    return line


def card_fallback(request: LeaveRequest) -> str:
    """Notification text of an approval card."""
    return f"Leave request from {request.requester_name}: {request.span.describe()}"


def requester_outcome(request: LeaveRequest, *, month_first: bool = False) -> str:
    """The DM telling a requester what was decided (and by whom, when Slack knows them); dates as they write them."""
    when = request.span.describe(month_first=month_first)
    by = f" by <@{request.decided_by}>" if request.decided_by else ""
    if request.status == RequestState.APPROVED:
        return f"✅ Your leave for {when} was approved{by}."
    if request.status == RequestState.CANCELLED:
        return f"🚫 Your leave for {when} was cancelled{by}."
    reason = f"\n> {escape(request.decline_reason)}" if request.decline_reason else ""
    return f"❌ Your leave for {when} was declined{by}.{reason}"


def decline_modal(request: LeaveRequest) -> dict[str, Any]:
    """Ask an approver why they decline (optional)."""
    return {
        "type": "modal",
        "callback_id": ids.DECLINE_MODAL,
        "private_metadata": str(request.id),
        "title": text("Decline leave"),
        "submit": text("Decline"),
        "close": text("Back"),
        "blocks": [
            section(f"Decline {request.requester_name}'s leave for {request.span.describe()}?"),
            _input(
                ids.DECLINE_REASON,
                "Reason (shown to them)",
                {"type": "plain_text_input", "multiline": True, "max_length": 500},
                optional=True,
            ),
        ],
    }


class ModalError(ValueError):
    """A modal field is wrong; ``block_id`` says which, for Slack's inline errors."""

    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id


def draft_from_modal(values: dict[str, dict[str, Any]], leave_types: Sequence[LeaveType]) -> Draft:
    """Read the request modal's state back into a draft, or raise ModalError for the field to fix."""

    def value(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(block_id, {})

    start_part = (value(ids.START_PART).get("selected_option") or {}).get("value", "AM")
    end_part = (value(ids.END_PART).get("selected_option") or {}).get("value", "PM")
    start_date = value(ids.START_DATE).get("selected_date")
    end_date = value(ids.END_DATE).get("selected_date") or start_date
    start = _modal_part(start_part, value(ids.START_TIME), ids.START_TIME)
    end = _modal_part(end_part, value(ids.END_TIME), ids.END_TIME)
    chosen = (value(ids.LEAVE_TYPE).get("selected_option") or {}).get("value")
    leave_type = next((t.name for t in leave_types if t.id == chosen), None)
    try:
        return Draft(
            start_date=start_date,
            end_date=end_date,
            start=start,
            end=end,
            leave_type=leave_type,
            reason=(value(ids.REASON).get("value") or "").strip(),
        )
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ModalError(
            ids.END_TIME if "hourly" in message else ids.END_DATE, message.capitalize()
        ) from None


def _modal_part(part: str, time_value: dict[str, Any], block_id: str) -> object:
    if part != HOURS:
        return part
    chosen = time_value.get("selected_time")
    if not chosen:
        raise ModalError(block_id, "Pick a time for an hourly booking.")
    hours, minutes = (int(x) for x in chosen.split(":"))
    return hours * 60 + minutes
