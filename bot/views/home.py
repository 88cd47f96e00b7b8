"""The App Home: your own leave and what waits for your decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.store.tables import LeaveRequest
from bot.views.requests import context, section
from providers.models import Status

STATUS_WORDS = {
    "submitting": "⏳ being sent",
    "failed": "⚠️ not sent yet: submit it again",
    Status.PENDING: "⏳ waiting for approval",
    "deciding": "⏳ being decided",
    Status.APPROVED: "✅ approved",
    Status.DECLINED: "❌ declined",
    Status.CANCELLED: "🚫 cancelled",
}


def _line(request: LeaveRequest) -> str:
    status = STATUS_WORDS.get(request.status, request.status)
    kind = f" · {request.leave_type_name}" if request.leave_type_name else ""
    return f"• {request.span.describe()}{kind} — {status}"


def home(mine: Sequence[LeaveRequest], to_decide: Sequence[LeaveRequest]) -> dict[str, Any]:
    """The Home tab view."""
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your leave"}},
        section(
            "\n".join(_line(r) for r in mine[:40])
            if mine
            else "No upcoming leave. Type `/leave` to ask for some."
        ),
    ]
    if to_decide:
        lines = [f"• <@{r.requester_slack_id}>: {r.span.describe()}" for r in to_decide[:40]]
        blocks += [
            {"type": "header", "text": {"type": "plain_text", "text": "Waiting for you"}},
            section("\n".join(lines)),
        ]
    blocks.append(context("`/leave tomorrow` · `/leave who` · `/leave help`"))
    return {"type": "home", "blocks": blocks}
