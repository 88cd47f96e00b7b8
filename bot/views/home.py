"""The App Home: your upcoming leave (with Cancel), your balance, Request leave, and what waits for your decision.

Buttons in the Home tab arrive without a ``response_url`` (their container is the view), so
they have action ids of their own and are answered by publishing the Home again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain import LIVE, RequestState
from bot.store.tables import LeaveRequest
from bot.views import ids
from bot.views.away import AwayOffer, away_blocks
from bot.views.blocks import Blocks, button, context, escape, header, section, text
from bot.views.feed_links import feed_blocks
from providers.models import Balance

MINE_SHOWN = 20  # a Home tab holds 100 blocks: 20 of yours, 30 to decide (two blocks each), the rest
TO_DECIDE_SHOWN = 30
CANCELLABLE = LIVE
STATUS_WORDS = {
    RequestState.SUBMITTING: "⏳ being sent",
    RequestState.FAILED: "⚠️ not sent yet: submit it again",
    RequestState.PENDING: "⏳ waiting for approval",
    RequestState.DECIDING: "⏳ being decided",
    RequestState.APPROVED: "✅ approved",
    RequestState.DECLINED: "❌ declined",
    RequestState.CANCELLED: "🚫 cancelled",
}


@dataclass(frozen=True)
class HomeSummary:
    """What one person's Home shows."""

    mine: Sequence[LeaveRequest] = ()
    to_decide: Sequence[LeaveRequest] = ()  # the first of them, at least those shown
    balance: Balance | None = None
    waiting: int | None = None  # how many wait in all (None: as many as ``to_decide``)
    away: AwayOffer | None = None  # None: leavebot is not set up to show leave in Slack statuses
    feeds: Mapping[str, str] | None = None  # calendar feed links by kind; None: LEAVEBOT_PUBLIC_URL unset


def build_home(summary: HomeSummary, *, today: date, notice: str | None = None) -> dict[str, Any]:
    """The Home tab view; ``notice`` (the answer to a button pressed here) goes on top."""
    blocks: Blocks = [section(f"ℹ️ {notice}")] if notice else []
    blocks += [header("Your leave"), *_tools(summary.balance), *_mine(summary.mine, today)]
    if summary.away is not None:
        blocks += away_blocks(summary.away)
    if summary.to_decide:
        waiting = summary.waiting if summary.waiting is not None else len(summary.to_decide)
        blocks += [{"type": "divider"}, header(f"Waiting for you ({waiting})")]
        blocks += _to_decide(summary.to_decide, waiting)
    blocks += feed_blocks(summary.feeds)
    blocks.append(context("`/leave tomorrow pm` · `/leave who` · `/leave who next week` · `/leave help`"))
    return {"type": "home", "blocks": blocks}


def request_line(request: LeaveRequest) -> str:
    """'Fri 27 Nov (afternoon) · Annual leave — ✅ approved'."""
    status = STATUS_WORDS.get(request.status, request.status)
    kind = f" · {escape(request.leave_type_name)}" if request.leave_type_name else ""
    return f"{request.span.describe()}{kind} — {status}"


def requester(request: LeaveRequest) -> str:
    """The requester's mention, or their name when Slack does not know them."""
    return (
        f"<@{request.requester_slack_id}>" if request.requester_slack_id else escape(request.requester_name)
    )


def _tools(balance: Balance | None) -> Blocks:
    blocks: Blocks = [
        {"type": "actions", "elements": [button("Request leave", ids.HOME_REQUEST, "new", "primary")]}
    ]
    if balance is not None:
        amount = f"{balance.remaining:g} {balance.unit}"
        blocks.insert(0, section(f"*Balance:* {amount} left"))
    return blocks


def _mine(mine: Sequence[LeaveRequest], today: date) -> Blocks:
    if not mine:
        return [section("No upcoming leave. Press *Request leave* or type `/leave tomorrow`.")]
    blocks: Blocks = []
    for request in mine[:MINE_SHOWN]:
        block = section(request_line(request))
        if request.status in CANCELLABLE and request.end_date >= today:
            block["accessory"] = _cancel_button(request)
        blocks.append(block)
    if len(mine) > MINE_SHOWN:
        blocks.append(context(f"…and {len(mine) - MINE_SHOWN} more."))
    return blocks


def _cancel_button(request: LeaveRequest) -> dict[str, Any]:
    return button("Cancel", ids.HOME_CANCEL, str(request.id)) | {
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


def _to_decide(requests: Sequence[LeaveRequest], waiting: int) -> Blocks:
    blocks: Blocks = []
    for request in requests[:TO_DECIDE_SHOWN]:
        kind = f" · {escape(request.leave_type_name)}" if request.leave_type_name else ""
        reason = f"\n> {escape(request.reason)}" if request.reason else ""
        blocks.append(section(f"*{requester(request)}*: {request.span.describe()}{kind}{reason}"))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"home-decide-{request.id}",
                "elements": [
                    button("Approve", ids.HOME_APPROVE, str(request.id), "primary"),
                    button("Decline", ids.HOME_DECLINE, str(request.id), "danger"),
                ],
            }
        )
    if waiting > TO_DECIDE_SHOWN:
        blocks.append(context(f"…and {waiting - TO_DECIDE_SHOWN} more: they will show here as you decide."))
    return blocks
