"""What reminders, escalations and delegates say, and `/leave mine` with its Cancel and Change buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.domain import RequestState
from bot.store.tables import LeaveRequest
from bot.views import ids
from bot.views.blocks import Blocks, button, context, section, text
from bot.views.home import CANCELLABLE, request_line
from providers.models import Balance, day_words

MINE_SHOWN = 20  # requests listed by `/leave mine`: two blocks each at most, inside a message's 50


def day(value: date) -> str:
    """'Fri 4 Dec', or 'Fri 1 Jan 2027' outside the current year."""
    return day_words(value)


def mentions(slack_ids: Sequence[str]) -> str:
    """'<@U1>, <@U2>'."""
    return ", ".join(f"<@{i}>" for i in slack_ids)


def reminder_line(sent: int, limit: int) -> str:
    """On top of a reminded card: '⏰ Reminder 2 of 3: this still waits for your decision.'"""
    return f"⏰ Reminder {sent} of {limit}: this still waits for your decision."


def escalated_note(reminders: int) -> str:
    """Why an escalation approver got a card."""
    times = f"{reminders} reminder{'' if reminders == 1 else 's'}"
    return f"⤴️ Escalated to you: no answer after {times}."


def escalated_text(
    request: LeaveRequest, waiting: Sequence[str], reminders: int, asked: Sequence[str]
) -> str:
    """The requester's DM after an escalation: who was reminded, and who was asked now."""
    still = f"still waiting for {mentions(waiting)}" if waiting else "still waiting for a decision"
    times = f"reminded {reminders} time{'' if reminders == 1 else 's'}"
    then = f"now also asked {mentions(asked)}" if asked else "there is nobody else I can ask"
    return f"⏳ Your leave for {request.span.describe()} is {still}; {times}; {then}."


def delegate_note(approver: str, *, off_until: date | None, until: date | None) -> str:
    """Why a delegate got a card: '<@U0BOB> is off until Fri 4 Dec: sent to you as their delegate.'"""
    if off_until is not None:
        away = f"<@{approver}> is off until {day(off_until)}"
    elif until is not None:
        away = f"<@{approver}> has handed their approvals to you until {day(until)}"
    else:
        away = f"<@{approver}> has handed their approvals to you"
    return f"👥 {away}: sent to you as their delegate."


def cancelled_for_approver(request: LeaveRequest) -> str:
    """The DM to each approver when the requester withdraws their leave."""
    return (
        f"🚫 <@{request.requester_slack_id}> cancelled their leave for {request.span.describe()}: "
        "nothing to decide any more."
    )


def delegation_text(delegate: str | None, until: date | None) -> str:
    """What `/leave delegate` answers: the delegate now in place, or none."""
    if delegate is None:
        return "🙋 Your approval cards come to you: you have no delegate."
    to = f" until {day(until)} (inclusive)" if until else " until you type `/leave delegate off`"
    return f"👥 Your approval cards go to <@{delegate}>{to}."


def mine_message(
    requests: Sequence[LeaveRequest],
    *,
    notice: str | None = None,
    heading: str = "Your upcoming leave",
    none: str = "You have no upcoming leave. Type `/leave tomorrow` to ask for some.",
) -> tuple[str, Blocks]:
    """`/leave mine` (or `/leave cancel <day>`, with its ``heading`` and what to say for ``none``): upcoming
    pending and approved leave, each with a Cancel button and, while pending, a Change button below it;
    ``notice`` on top."""
    requests = [r for r in requests if r.status in CANCELLABLE]
    blocks: Blocks = [section(f"ℹ️ {notice}")] if notice else []
    if not requests:
        blocks.append(section(none))
        return notice or none, blocks
    blocks.append(section(f"*{heading}*"))
    for request in requests[:MINE_SHOWN]:
        blocks.append(section(request_line(request)) | {"accessory": _cancel_button(request)})
        if request.status == RequestState.PENDING:  # a section holds one button: Change goes just below
            change = button("Change dates", ids.MINE_CHANGE, str(request.id))
            blocks.append({"type": "actions", "block_id": f"change-{request.id}", "elements": [change]})
    if len(requests) > MINE_SHOWN:
        blocks.append(context(f"…and {len(requests) - MINE_SHOWN} more: see my Home tab."))
    return notice or f"Your upcoming leave: {len(requests)} request(s)", blocks


def balance_text(balance: Balance | None, *, hr: str | None, kept: bool) -> str:
    """`/leave balance`: what is left, or a plain sentence where the HR system (``kept`` False) keeps none;
    ``hr`` None: there is no HR system (the local provider)."""
    if not kept and hr is None:
        return "leavebot keeps no leave balances, so I can't tell you yours: ask whoever manages leave in your team."
    if not kept:
        return f"{hr} doesn't keep leave balances that leavebot can read, so I can't tell you yours: look in {hr} itself."
    where = hr or "leavebot"
    if balance is None:
        return f"{where} has no leave balance for you."
    left = (
        f"{balance.remaining:g} {balance.unit.removesuffix('s') if balance.remaining == 1 else balance.unit}"
    )
    return f"🏖️ You have {left} of leave left (from {where})."


def cancel_none(days: str) -> str:
    """`/leave cancel <day>` when nothing of the user's matches."""
    return f"You have no pending or approved leave on {days}. `/leave mine` lists all of yours."


def _cancel_button(request: LeaveRequest) -> dict[str, Any]:
    return button("Cancel", ids.MINE_CANCEL, str(request.id)) | {
        "confirm": {
            "title": text("Cancel this leave?"),
            "text": {
                "type": "mrkdwn",
                "text": f"Your leave for {request.span.describe()} will be withdrawn.",
            },
            "confirm": text("Cancel leave"),
            "deny": text("Keep it"),
        }
    }
