"""Overlaps: the local provider refuses a request overlapping the person's own pending or approved leave, naming it;
a change of dates is no overlap with the request it replaces; the HR systems' own refusals reach people in their words.

End to end over real HTTP (signed slash commands, clicks and modal submissions into the served app, the fake Slack).
"""

from __future__ import annotations

from datetime import timedelta

from conftest import ALICE, BOB, Bot
from helpers.cards import approval_cards, preview_value, submitted_request
from test_change import dms_to, modal_values, open_change
from test_e2e import DAY, eventually

from bot.views import ids
from providers.models import LeaveSpan, Status

OLD = LeaveSpan(start_date=DAY, end_date=DAY, start="PM", end="PM")  # submitted_request's


async def typed_and_submitted(bot: Bot, text: str, hook: str) -> str:
    """Alice types ``text`` and presses Submit; what she is told."""
    preview = await bot.command(text)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook=hook)
    [told] = await bot.slack.wait_for(f"hooks/{hook}")
    return str(told.args["text"])


async def test_a_request_overlapping_ones_pending_leave_is_refused_naming_it(bot: Bot) -> None:
    """Alice has the afternoon of DAY pending; asking for all of DAY is refused, naming that request; nothing else is booked."""
    await submitted_request(bot)
    told = await typed_and_submitted(bot, DAY.isoformat(), "again")
    assert f"You already have pending leave for {OLD.describe()}, which overlaps" in told
    assert "`/leave mine`" in told
    assert [a.status for a in await bot.provider.absences(DAY, DAY)] == [Status.PENDING]
    assert len(approval_cards(bot)) == 2  # only the first request's


async def test_approved_leave_overlaps_too(bot: Bot) -> None:
    """Once approved, the afternoon still blocks a request for the whole week around it."""
    request_id = await submitted_request(bot)
    await bot.click(ids.APPROVE, str(request_id), user=BOB, hook="bob")
    await eventually(lambda: any("was approved" in t for t in dms_to(bot, ALICE)))
    week = f"{(DAY - timedelta(days=2)).isoformat()} to {(DAY + timedelta(days=2)).isoformat()}"
    told = await typed_and_submitted(bot, week, "week")
    assert f"You already have approved leave for {OLD.describe()}" in told


async def test_the_morning_and_the_afternoon_of_one_day_do_not_overlap(bot: Bot) -> None:
    """With the afternoon of DAY booked, its morning can still be asked for."""
    await submitted_request(bot)
    told = await typed_and_submitted(bot, f"{DAY.isoformat()} am", "morning")
    assert "waiting for" in told
    assert sorted(str(a.start) for a in await bot.provider.absences(DAY, DAY)) == ["AM", "PM"]


async def test_cancelled_leave_is_no_overlap(bot: Bot) -> None:
    """After cancelling her afternoon, Alice can ask for the whole day."""
    request_id = await submitted_request(bot)
    await bot.service.requests.cancel(request_id=request_id, slack_user_id=ALICE)
    told = await typed_and_submitted(bot, DAY.isoformat(), "after")
    assert "waiting for" in told


async def test_a_change_is_no_overlap_with_the_request_it_replaces(bot: Bot) -> None:
    """Changing the afternoon of DAY to DAY and the day after (which covers it) is accepted and replaces it."""
    old_id = await submitted_request(bot)
    await open_change(bot, old_id)
    before = len(dms_to(bot, ALICE))
    await bot.submit_view(
        ids.REQUEST_MODAL,
        modal_values(DAY, DAY + timedelta(days=1)),
        user=ALICE,
        view_id="V0OVERLAP",
        private_metadata=str(old_id),
    )
    await eventually(lambda: len(dms_to(bot, ALICE)) > before)
    [told] = dms_to(bot, ALICE)[before:]
    assert f"replaces your leave for {OLD.describe()}" in told
    spans = {(a.start_date, a.end_date, a.status) for a in await bot.provider.absences(DAY, DAY)}
    assert spans == {(DAY, DAY, Status.CANCELLED), (DAY, DAY + timedelta(days=1), Status.PENDING)}
