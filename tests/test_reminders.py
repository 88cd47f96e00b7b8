"""Reminders, escalation and `/leave mine`, end to end over real HTTP with the clock moved by time-machine.

Requests are submitted through the served app (signed Slack requests); the background job is called
as `leavebot serve` calls it, at the moments the clock is moved to; the fake Slack records what
each approver and requester got. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from conftest import ALICE, APPROVERS, BOB, CAROL, MALLORY, Bot
from fakes.timetastic import TOKEN, FakeTimetastic
from helpers.cards import approval_cards, button_value, submitted_request
from test_e2e import eventually

from bot.app import slack_client
from bot.jobs import tick
from bot.services.calendar import DigestPlan
from bot.services.reminders import ReminderPlan
from bot.services.wiring import Services
from bot.store import Store, create_engine
from bot.store.tables import now
from bot.views import ids
from bot.views.ids import MINE_CANCEL
from providers.local import LocalProvider
from providers.models import Decision, Status
from providers.timetastic import TimetasticProvider

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # DIGEST_TIMEZONE is UTC in the bot fixture


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` after MONDAY, at ``hour``:``minute`` UTC."""
    return (MONDAY + timedelta(days=days)).replace(hour=hour, minute=minute)


def texts(call: Any) -> str:
    """Everything a message says, its blocks included."""
    return json.dumps([call.args.get("text"), call.args.get("blocks")], ensure_ascii=False)


def reminders_to(bot: Bot, user: str) -> list[str]:
    """Every reminder posted to ``user`` so far, as text."""
    posts = bot.slack.calls_to("chat.postMessage")
    return [texts(c) for c in posts if c.args["channel"] == user and "⏰ Reminder" in texts(c)]


def dms_to(bot: Bot, user: str) -> list[str]:
    """Every plain DM (no blocks) sent to ``user`` so far."""
    posts = bot.slack.calls_to("chat.postMessage")
    return [c.args["text"] for c in posts if c.args["channel"] == user and not c.args.get("blocks")]


@pytest.fixture
async def other(bot: Bot) -> AsyncIterator[Services]:
    """A second instance of the bot's service on the same database (another process, or after a restart)."""
    engine = create_engine(bot.settings.database_url)
    provider = LocalProvider(LocalProvider.Config(approvers=APPROVERS), engine=engine)
    yield Services(provider=provider, store=Store(engine), slack=slack_client(bot.settings))
    await engine.dispose()


async def test_three_reminders_on_three_working_days_then_escalation(bot: Bot) -> None:
    """Bob and Carol are reminded once on Tue, Wed and Thu at 10:00; on Fri Mallory is asked, says why, and can approve."""
    settings = bot.settings.model_copy(update={"escalation_approver": "mallory@example.com"})
    with time_machine.travel(MONDAY, tick=True) as clock:
        request_id = await submitted_request(bot)
        for day in (1, 2, 3):
            clock.move_to(at(day, 9, 59))
            await tick(bot.service, settings, now())
            assert len(reminders_to(bot, BOB)) == day - 1  # not before REMINDER_TIME
            clock.move_to(at(day, 10))
            await tick(bot.service, settings, now())
            clock.move_to(at(day, 16))
            await tick(bot.service, settings, now())  # once a day
            assert len(reminders_to(bot, BOB)) == len(reminders_to(bot, CAROL)) == day
            assert f"Reminder {day} of 3" in reminders_to(bot, BOB)[-1]
        assert approval_cards(bot)[-1].args["channel"] == CAROL and not dms_to(bot, ALICE)
        clock.move_to(at(4, 10))
        await tick(bot.service, settings, now())
        [card] = [c for c in approval_cards(bot) if c.args["channel"] == MALLORY]
        assert "Escalated to you: no answer after 3 reminders" in texts(card)
        [told] = [t for t in dms_to(bot, ALICE) if "still waiting" in t]
        assert (
            f"still waiting for <@{BOB}>, <@{CAROL}>; reminded 3 times; now also asked <@{MALLORY}>" in told
        )
        await bot.click(ids.APPROVE, button_value(card.args["blocks"], ids.APPROVE), user=MALLORY)
        await bot.slack.wait_for("chat.update", count=3)
        clock.move_to(at(7, 10))
        await tick(bot.service, settings, now())
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and (request.status, request.decided_by) == (Status.APPROVED, MALLORY)
    assert len(reminders_to(bot, BOB)) == 3 and not reminders_to(bot, MALLORY)


async def test_a_reminder_replaces_the_card_so_a_decision_updates_the_new_one(bot: Bot) -> None:
    """The reminder is the card again (with its buttons); the old copy is removed and a decision edits the new one."""
    with time_machine.travel(MONDAY, tick=True) as clock:
        request_id = await submitted_request(bot)
        first = {
            card.approver_slack_id: card.ts
            for card in await bot.service.deps.store.cards(request_id=request_id)
        }
        clock.move_to(at(1, 10))
        assert await bot.service.reminders.send(ReminderPlan(), now()) == 1
    [reminder] = [c for c in approval_cards(bot) if c.args["channel"] == BOB][1:]
    assert button_value(reminder.args["blocks"], ids.APPROVE) == str(request_id)
    deleted = {c.args["ts"] for c in bot.slack.calls_to("chat.delete")}
    assert deleted == {first[BOB], first[CAROL]}
    await bot.service.requests.decide(request_id=request_id, slack_user_id=CAROL, decision=Decision.DECLINE)
    updated = {c.args["ts"] for c in bot.slack.calls_to("chat.update")}
    assert updated == {card.ts for card in await bot.service.deps.store.cards(request_id=request_id)}
    assert not updated & deleted


@pytest.mark.parametrize("how", ["approved", "cancelled"])
async def test_no_reminder_after_a_decision_or_a_cancel(bot: Bot, how: str) -> None:
    """Once Bob approves, or Alice withdraws the request, nobody is reminded of it any more."""
    with time_machine.travel(MONDAY, tick=True) as clock:
        request_id = await submitted_request(bot)
        if how == "approved":
            await bot.service.requests.decide(
                request_id=request_id, slack_user_id=BOB, decision=Decision.APPROVE
            )
        else:
            await bot.service.requests.cancel(request_id=request_id, slack_user_id=ALICE)
        for day in (1, 2, 3, 4):
            clock.move_to(at(day, 10))
            await tick(bot.service, bot.settings, now())
    assert reminders_to(bot, BOB) == reminders_to(bot, CAROL) == []
    assert [c for c in approval_cards(bot) if c.args["channel"] not in (BOB, CAROL)] == []


async def test_two_instances_at_the_same_moment_send_each_reminder_once(bot: Bot, other: Services) -> None:
    """Both instances run the job at Tuesday 10:00: one reminder each; on Wednesday an instance started later sends the next."""
    with time_machine.travel(MONDAY, tick=True):
        request_id = await submitted_request(bot)
    sent = await asyncio.gather(
        bot.service.reminders.send(ReminderPlan(), at(1, 10)),
        other.reminders.send(ReminderPlan(), at(1, 10)),
    )
    assert sorted(sent) == [0, 1]
    assert len(reminders_to(bot, BOB)) == len(reminders_to(bot, CAROL)) == 1
    assert await other.reminders.send(ReminderPlan(), at(2, 10)) == 1  # scheduled in the store
    reminder = await other.deps.store.reminder(request_id=request_id)
    assert reminder is not None and reminder.sent == 2
    assert "Reminder 2 of 3" in reminders_to(bot, CAROL)[-1]


async def test_no_reminder_on_a_weekend_or_a_public_holiday(bot: Bot) -> None:
    """Asked on Wed 23 Dec (DIGEST_COUNTRY=GB): reminded Thu 24, then not over Christmas, the weekend or Boxing Day observed, then Tue 29."""
    service = Services(
        provider=bot.provider,
        store=bot.service.deps.store,
        slack=bot.service.deps.slack,
        plan=DigestPlan({}, country="GB"),
    )
    wednesday = datetime(2026, 12, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(wednesday, tick=True):
        await submitted_request(bot)
    reminded = []
    for day in range(1, 7):
        moment = wednesday + timedelta(days=day, hours=1)
        if await service.reminders.send(ReminderPlan(), moment):
            reminded.append(f"{moment:%a %d}")
    assert reminded == ["Thu 24", "Tue 29"]
    assert "Reminder 2 of 3" in reminders_to(bot, BOB)[-1]


async def test_escalation_with_nobody_to_ask_tells_the_requester_so(bot: Bot) -> None:
    """With REMINDER_LIMIT=1 and no ESCALATION_APPROVER, Alice hears that there is nobody else to ask, once."""
    with time_machine.travel(MONDAY, tick=True):
        await submitted_request(bot)
    plan = ReminderPlan(limit=1)
    for day in (1, 2, 3):
        await bot.service.reminders.send(plan, at(day, 10))
    assert len(reminders_to(bot, BOB)) == 1
    [told] = [t for t in dms_to(bot, ALICE) if "still waiting" in t]
    assert "reminded 1 time; there is nobody else I can ask" in told


async def test_timetastic_names_the_department_manager_when_the_approver_is_someone_else() -> None:
    """Alice's approverId is Bob: Carol, Engineering's manager, is next; Bob's approver is Carol already: nobody."""
    with FakeTimetastic() as fake:
        config = TimetasticProvider.Config(api_token=TOKEN, base_url=fake.url)
        provider = TimetasticProvider(config, http=httpx.AsyncClient(timeout=10))
        alice, bob = [await provider.find_person(f"{n}@example.com") for n in ("alice", "bob")]
        assert [p.email for p in await provider.escalation_approvers(alice)] == ["carol@example.com"]
        assert await provider.escalation_approvers(bob) == []
        await provider.aclose()


# -- /leave mine ------------------------------------------------------------------------------------


async def test_leave_mine_lists_upcoming_leave_and_cancel_tells_everyone(bot: Bot) -> None:
    """`/leave mine` lists pending and approved leave with Cancel; Cancel withdraws it, edits both cards and DMs the approvers."""
    approved = await submitted_request(bot, "2027-01-11 for skiing")
    await bot.service.requests.decide(request_id=approved, slack_user_id=BOB, decision=Decision.APPROVE)
    pending = await submitted_request(bot)
    await bot.command("mine", hook="mine")
    [listing] = await bot.slack.wait_for("hooks/mine")
    cancels = [b["accessory"]["value"] for b in listing.args["blocks"] if "accessory" in b]
    assert sorted(cancels) == sorted([str(approved), str(pending)])
    assert all(b["accessory"]["action_id"] == MINE_CANCEL for b in listing.args["blocks"] if "accessory" in b)
    updates = len(bot.slack.calls_to("chat.update"))
    await bot.click(MINE_CANCEL, str(pending), user=ALICE, hook="cancel")
    [answer] = await bot.slack.wait_for("hooks/cancel")
    assert answer.args["replace_original"] is True and "is cancelled" in answer.args["text"]
    assert [b["accessory"]["value"] for b in answer.args["blocks"] if "accessory" in b] == [str(approved)]
    edited = (await bot.slack.wait_for("chat.update", count=updates + 2))[updates:]
    assert all(f"Cancelled by <@{ALICE}>" in texts(u) for u in edited)
    await eventually(
        lambda: all(any("cancelled their leave" in t for t in dms_to(bot, u)) for u in (BOB, CAROL))
    )
    request = await bot.service.deps.store.request(request_id=pending)
    assert request is not None and request.status == Status.CANCELLED


async def test_only_the_requester_can_cancel_from_the_list(bot: Bot) -> None:
    """Mallory pressing a Cancel button carrying Alice's request id is refused; the leave stays."""
    request_id = await submitted_request(bot)
    await bot.click(MINE_CANCEL, str(request_id), user=MALLORY, hook="mallory")
    [refusal] = await bot.slack.wait_for("hooks/mallory")
    assert "only cancel your own leave" in refusal.args["text"]
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == Status.PENDING
