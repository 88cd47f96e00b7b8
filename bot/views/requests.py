"""Messages of one leave request: preview, approval card, outcomes, and the decline modal (the request modal is in ``modal``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from typing import Any

from bot.domain import COLLEAGUES, CROWDED_DAYS, CardContext, NoApprover, RequestState, Team
from bot.store.tables import LeaveRequest
from bot.views import ids
from bot.views.blocks import Blocks, button, clip, context, escape, input_block, section, text
from providers.models import Draft, LeaveSpan, day_words, format_minute

VALUE_LIMIT = 1950  # characters of a button's value kept (Slack's limit is 2,000)
LINE_LIMIT = 250  # one line of a card's context: ten of them stay well inside a section's 3,000

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
            input_block(
                ids.DECLINE_REASON,
                "Reason (shown to them)",
                {"type": "plain_text_input", "multiline": True, "max_length": 500},
                optional=True,
            ),
        ],
    }


def stand_in_note(name: str, no: NoApprover) -> str:
    """On top of the card of whoever is asked for someone with no approver of their own."""
    return f"⤴️ Sent to you: {name} has no approver {no.where} that I can find in Slack."


def asked_text(
    request: LeaveRequest,
    approvers: Sequence[str],
    *,
    no: NoApprover | None,
    held: bool,
    hr: str,
    again: str = "",
    month_first: bool = False,
) -> str:
    """What the requester is told once their approvers were asked: who has it, or why nobody does.

    Where leavebot holds the approval nothing is "booked" before it: the request is saved, and with
    nobody at all to ask it is withdrawn; an HR system holding it keeps it for its own admins.
    """
    when = request.span.describe(month_first=month_first)
    lacking = f"you have no approver {no.where} that I can find in Slack" if no else ""
    if no is not None and not approvers:
        if request.status == RequestState.CANCELLED:
            return (
                f"⚠️ Nobody can approve your leave for {when}: {lacking}, and there is nobody above to ask, "
                f"so I haven't kept it waiting: it is withdrawn. To fix it, {no.fixer}; then ask again."
            )
        return (
            f"⚠️ Your leave for {when} is booked in {hr} as pending, but nobody in Slack can approve it: "
            f"{lacking}, and there is nobody above to ask. It waits in {hr}, where its admins can "
            f"decide it. To fix it, {no.fixer}."
        )
    if request.status != RequestState.PENDING:
        return f"Your leave for {when} is {request.status}."
    if not approvers:  # asked without Slack (no token): nobody could be told
        return f"Your leave for {when} is {'saved' if held else f'booked in {hr} as pending'}, waiting for approval."
    names = ", ".join(f"<@{a}>" for a in approvers)
    up = f" ({lacking}, so it went to the next one up)" if no else ""
    return f"📨 Sent{again}: your leave for {when} is waiting for {names}{up}."


def not_asked_yet(request: LeaveRequest, *, held: bool, hr: str, month_first: bool = False) -> str:
    """Told when the request went through but its approvers could not be asked yet (the step waits)."""
    where = "saved" if held else f"booked in {hr} as pending"
    return (
        f"📨 Your leave for {request.span.describe(month_first=month_first)} is {where}, but I couldn't reach your approvers yet. "
        "I'll keep trying, and tell you once they have it."
    )
