"""Delegates: an approver who is off, or who typed `/leave delegate`, has their card sent to a stand-in.

End to end over real HTTP (signed slash commands and clicks into the served app, the fake Slack),
the local provider holding Bob's own leave; the clock set by time-machine. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import time_machine
from conftest import ALICE, APPROVERS, BOB, CAROL, MALLORY, Bot
from helpers.cards import approval_cards, button_value, submitted_request

from bot.views import ids
from providers.local import LocalProvider
from providers.models import HolidayRequest, Person, Status

TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FRIDAY = date(2026, 12, 4)


def cards_to(bot: Bot, user: str) -> list[Any]:
    """Approval cards posted to ``user``."""
    return [c for c in approval_cards(bot) if c.args["channel"] == user]


def said(call: Any) -> str:
    """Everything a message says, its blocks included."""
    return json.dumps([call.args.get("text"), call.args.get("blocks")], ensure_ascii=False)


async def book_bob_off(bot: Bot, start: date, end: date) -> None:
    """Bob's own approved leave, as the HR system holds it."""
    bob = Person(id="bob@example.com", name="Bob Boss", email="bob@example.com")
    booking = await bot.provider.submit(HolidayRequest(requester=bob, start_date=start, end_date=end))
    await bot.provider.approve(booking.id)


async def delegate(bot: Bot, text: str, *, user: str = BOB) -> str:
    """Type `/leave delegate <text>` as ``user``; the private answer."""
    hook = f"delegate-{len(bot.slack.calls)}"
    await bot.command(f"delegate {text}".strip(), user=user, hook=hook)
    [answer] = await bot.slack.wait_for(f"hooks/{hook}")
    return str(answer.args["text"])


async def test_an_approver_off_today_has_their_card_sent_to_the_next_approver(bot: Bot) -> None:
    """Bob is off Tue to Fri: his card goes to Mallory (LOCAL_ESCALATION), saying why; she may approve."""
    bot.provider.config = LocalProvider.Config(approvers=APPROVERS, escalation="*=mallory@example.com")
    with time_machine.travel(TUESDAY, tick=True):
        await book_bob_off(bot, TUESDAY.date(), FRIDAY)
        request_id = await submitted_request(bot)
    assert cards_to(bot, BOB) == [] and len(cards_to(bot, CAROL)) == 1
    [card] = cards_to(bot, MALLORY)
    assert f"<@{BOB}> is off until Fri 4 Dec: sent to you as their delegate" in said(card)
    await bot.click(ids.APPROVE, button_value(card.args["blocks"], ids.APPROVE), user=MALLORY)
    await bot.slack.wait_for("chat.update", count=2)
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and (request.status, request.decided_by) == (Status.APPROVED, MALLORY)


async def test_an_approver_off_with_nobody_to_stand_in_still_gets_the_card(bot: Bot) -> None:
    """Without a delegate or a next approver, Bob's card goes to Bob, off or not."""
    with time_machine.travel(TUESDAY, tick=True):
        await book_bob_off(bot, TUESDAY.date(), FRIDAY)
        await submitted_request(bot)
    assert len(cards_to(bot, BOB)) == 1 and cards_to(bot, MALLORY) == []


async def test_leave_delegate_sends_cards_to_the_delegate_until_the_day_or_until_off(bot: Bot) -> None:
    """Bob delegates to Mallory until 24 Dec: she gets his cards; after `delegate off`, and after the day, he does."""
    with time_machine.travel(TUESDAY, tick=True) as clock:
        answer = await delegate(bot, f"<@{MALLORY}|mallory> until 2026-12-24")
        assert answer == f"👥 Your approval cards go to <@{MALLORY}> until Thu 24 Dec (inclusive)."
        assert await delegate(bot, "") == answer
        await submitted_request(bot)
        [card] = cards_to(bot, MALLORY)
        assert f"<@{BOB}> has handed their approvals to you until Thu 24 Dec" in said(card)
        assert cards_to(bot, BOB) == []
        clock.move_to(datetime(2026, 12, 25, 9, 0, tzinfo=UTC))
        await submitted_request(bot, "2027-01-11 for skiing")
        assert len(cards_to(bot, BOB)) == 1 and len(cards_to(bot, MALLORY)) == 1
        assert "until you type `/leave delegate off`" in await delegate(bot, f"<@{MALLORY}|mallory>")
        assert "you have no delegate" in await delegate(bot, "off")
        await submitted_request(bot, "2027-01-12 for skiing")
    assert len(cards_to(bot, BOB)) == 2 and len(cards_to(bot, MALLORY)) == 1


async def test_leave_delegate_explains_what_it_needs(bot: Bot) -> None:
    """A delegate must be an @mention, not oneself, and the day must be readable and not past."""
    with time_machine.travel(TUESDAY, tick=True):
        assert "@mention" in await delegate(bot, "mallory until friday")
        assert "your own delegate" in await delegate(bot, f"<@{BOB}|bob>")
        assert "couldn't read" in await delegate(bot, f"<@{MALLORY}|mallory> until the cows come home")
        assert "has passed" in await delegate(bot, f"<@{MALLORY}|mallory> until 2026-11-02")
        assert "you have no delegate" in await delegate(bot, "")
    assert await bot.service.deps.store.delegation(approver_slack_id=BOB, on=TUESDAY.date()) is None
    assert ALICE not in {c.args["channel"] for c in approval_cards(bot)}
