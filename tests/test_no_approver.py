"""What the requester is told is true, over real HTTP against the fake Slack: someone with no approver goes
to ESCALATION_APPROVER or is told plainly who can fix it (never a request waiting for nobody), the message
names the setting of the provider in use, and "📨 Sent" is said only once the approvers have their card."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ALICE, BOB, CAROL, MALLORY, Bot
from fakes.slack import FakeSlack
from fakes.timetap import FakeTimeTap
from helpers.cards import button_value, preview_value
from remote_bot import provider_bot
from test_timetap import KIT as TIMETAP

from bot.domain import JobKind, JobResult, RequestState
from bot.services.outbox import RetryPolicy
from bot.views import ids
from providers.models import Status

DAY = date.today() + timedelta(days=30)
NOBODY_FOR_ALICE = "bob@example.com=carol@example.com"  # LOCAL_APPROVERS naming no approver for Alice


async def submit(bot: Bot, hook: str = "submit") -> str:
    """Alice types a request and presses Submit; what the preview is replaced with."""
    preview = await bot.command(f"{DAY.isoformat()} pm for the dentist")
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook=hook)
    [told] = await bot.slack.wait_for(f"hooks/{hook}")
    return str(told.args["text"])


def cards_to(bot: Bot, user: str) -> list[dict]:
    """The approval cards DMed to ``user``."""
    posts = bot.slack.calls_to("chat.postMessage")
    return [c.args for c in posts if c.args["channel"] == user and c.args.get("blocks")]


@pytest.mark.bot(approvers=NOBODY_FOR_ALICE)
async def test_no_approver_and_no_escalation_withdraws_and_names_the_setting_and_who_fixes_it(
    bot: Bot,
) -> None:
    """With nobody to ask, Alice is told LOCAL_APPROVERS names nobody for her and who can fix it; the
    request is withdrawn (it does not wait for nobody); nothing says "booked" (leavebot holds the approval)."""
    told = await submit(bot)

    assert "Nobody can approve" in told and "LOCAL_APPROVERS" in told
    assert "whoever runs leavebot" in told and "ESCALATION_APPROVER" in told
    assert "withdrawn" in told and "booked" not in told and "📨" not in told
    await bot.drain()
    [request] = await bot.service.deps.store.requests_of(slack_user_id=ALICE, since=DAY)
    assert request.status == RequestState.CANCELLED
    assert await bot.service.deps.store.due_reminders(moment=request.created_at + timedelta(days=9)) == []
    assert [cards_to(bot, user) for user in (BOB, CAROL, MALLORY)] == [[], [], []]
    assert bot.provider.calls["cancel"] == 1  # its booking in leavebot's own table is taken back
    live = [a for a in await bot.provider.absences(DAY, DAY) if a.status in (Status.PENDING, Status.APPROVED)]
    assert live == []


@pytest.mark.bot(approvers=NOBODY_FOR_ALICE, escalation_approver="mallory@example.com")
async def test_no_approver_goes_to_the_escalation_approver_who_is_told_why_and_can_approve(bot: Bot) -> None:
    """ESCALATION_APPROVER gets the card at once, saying Alice has no approver in LOCAL_APPROVERS; Alice
    hears it went to them and why; their Approve books it."""
    told = await submit(bot)

    assert told.startswith("📨 Sent") and f"<@{MALLORY}>" in told and "LOCAL_APPROVERS" in told
    [card] = cards_to(bot, MALLORY)
    assert f"Sent to you: <@{ALICE}> has no approver in LOCAL_APPROVERS" in str(card["blocks"])
    request_id = button_value(card["blocks"], ids.APPROVE)
    await bot.click(ids.APPROVE, request_id, user=MALLORY, hook="approve")
    await bot.slack.wait_for("chat.update")
    await bot.drain()
    request = await bot.service.deps.store.request(request_id=int(request_id))
    assert request is not None and request.status == RequestState.APPROVED


async def test_sent_is_said_only_once_the_approvers_have_their_card(bot: Bot) -> None:
    """Slack failing to post the cards: Alice is told her approvers could not be reached yet (not "📨 Sent",
    not "booked"); the outbox posts them on its retry and then tells her who has it."""
    bot.service.outbox.policy = RetryPolicy(first=timedelta(0), longest=timedelta(0))
    bot.slack.error_next("chat.postMessage", "service_unavailable")

    told = await submit(bot)

    assert "couldn't reach your approvers yet" in told and "saved" in told
    assert "📨 Sent" not in told and "booked" not in told
    await bot.drain()
    assert await bot.service.outbox.retry_due() == 1
    dms = [c.args["text"] for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]
    assert [t for t in dms if t.startswith("📨 Sent")] == [
        f"📨 Sent: your leave for {_when()} is waiting for <@{BOB}>, <@{CAROL}>."
    ]
    [request] = await bot.service.deps.store.requests_of(slack_user_id=ALICE, since=DAY)
    [step] = await bot.service.deps.store.jobs(request_id=request.id, kinds=[JobKind.ASK_APPROVERS])
    assert step.result == JobResult.DONE
    assert [len(bot.slack.messages_in(f"D{user}")) for user in (BOB, CAROL)] == [1, 1]


def _when() -> str:
    year = f" {DAY.year}" if DAY.year != date.today().year else ""  # a date outside this year shows its year
    return f"{DAY:%a} {DAY.day} {DAY:%b}{year} (afternoon)"


async def test_on_timetap_the_message_names_timetap_approvers_and_nothing_reaches_timetap(
    slack: FakeSlack, tmp_path: Path
) -> None:
    """TimeTap knows no approvers: with TIMETAP_APPROVERS naming nobody for Alice she is told so, the request
    is withdrawn, and TimeTap never hears of it."""
    with FakeTimeTap() as fake:
        provider = TIMETAP.connect(fake, approvers=NOBODY_FOR_ALICE)
        async with provider_bot(provider, slack, tmp_path) as bot:
            told = await submit(bot)
            await bot.drain()

    assert "TIMETAP_APPROVERS" in told and "whoever runs leavebot" in told and "withdrawn" in told
    assert "booked" not in told and "LOCAL_APPROVERS" not in told
    assert fake.calls_to("POST", "/timeOffBulk") == [] and fake.time_off == {}
