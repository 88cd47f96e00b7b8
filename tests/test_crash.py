"""An instance that dies after its ack loses nothing: the click or submission it accepted is resumed once.

A click that changes leave is stored (accepted) before its ack. Here the instance is cut short right
after the ack, at whatever point its work had reached (its work after acks is cancelled, as a kill
would stop it, with nothing written on the way out), and the lease it held runs out; then the job loop's
``resume_abandoned`` and ``Outbox.retry_due`` finish what it had begun: exactly once.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
import slack_requests as sr
import time_machine
from conftest import ALICE, BOB, CAROL, Bot
from helpers.cards import approval_cards, preview_value, submitted_request
from sqlmodel import col, select
from test_e2e import DAY

from bot.domain import RequestState
from bot.listeners import GAVE_UP
from bot.services.outbox import RetryPolicy
from bot.store.people import MAX_DELIVERY_TRIES
from bot.store.tables import SlackDelivery, now
from bot.views import ids
from providers.models import Status


async def die_after_the_ack(bot: Bot) -> None:
    """Cut short every piece of work after acks, wherever it is, as a killed process would stop."""
    await bot.listeners.backlog.cancel()
    bot.listeners.working.clear()  # a dead process hands nothing back
    bot.service.outbox.working.clear()


async def come_back_later(bot: Bot) -> int:
    """Past the dead instance's leases, the job loop's first round: accepted work resumed, jobs retried."""
    assert bot.service.deps.slack is not None
    with time_machine.travel(now() + bot.service.outbox.policy.lease + timedelta(seconds=1), tick=True):
        resumed = await bot.listeners.resume_abandoned(bot.service.deps.slack)
        while await bot.service.outbox.retry_due():
            pass
        # and a second round finds nothing left
        assert await bot.listeners.resume_abandoned(bot.service.deps.slack) == 0
    return resumed


def dms_to(bot: Bot, user: str) -> list[str]:
    return [c.args["text"] for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == user]


async def test_an_approval_cut_short_after_its_ack_is_finished_once(bot: Bot) -> None:
    """Bob's click was acked and his instance died: the leave is approved once, both cards say so, Alice hears once."""
    request_id = await submitted_request(bot)
    response = await bot.click(ids.APPROVE, str(request_id), user=BOB)
    assert response.status_code == 200
    await die_after_the_ack(bot)
    async with bot.service.deps.store.session() as session:  # stored before the ack: all the work needs
        rows = await session.exec(select(SlackDelivery).where(col(SlackDelivery.work) == "approve"))
        [stored] = [json.loads(row.body) for row in rows.all()]
    assert stored["user"]["id"] == BOB and stored["actions"][0]["value"] == str(request_id)
    assert "token" not in stored  # Slack's verification token is not kept
    await come_back_later(bot)
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == RequestState.APPROVED and request.decided_by == BOB
    assert bot.provider.calls["approve"] == 1
    [absence] = await bot.provider.absences(DAY, DAY)
    assert absence.status == Status.APPROVED
    edited = {
        u.args["channel"] for u in bot.slack.calls_to("chat.update") if "Approved by" in json.dumps(u.args)
    }
    assert edited == {f"D{BOB}", f"D{CAROL}"}
    assert len([t for t in dms_to(bot, ALICE) if "approved" in t]) == 1


async def test_a_submission_cut_short_after_its_ack_is_booked_once(bot: Bot) -> None:
    """Alice's Submit was acked and the instance died: one booking, one card per approver, one answer to her."""
    value = preview_value((await bot.command(f"{DAY.isoformat()} pm")).json())
    await bot.click(ids.SUBMIT, value, user=ALICE, hook="submit")
    await die_after_the_ack(bot)
    await come_back_later(bot)
    assert bot.provider.calls["submit"] == 1
    assert len(await bot.provider.absences(DAY, DAY)) == 1
    assert sorted(c.args["channel"] for c in approval_cards(bot)) == [BOB, CAROL]
    answers = [c.args["text"] for c in bot.slack.calls_to("hooks/submit")]
    assert len(answers) == 1 and "waiting for" in answers[0]


async def test_a_slack_retry_of_an_accepted_click_does_nothing_more(bot: Bot) -> None:
    """Slack sends the same click again (it thought the first went unanswered): one decision, one answer."""
    request_id = await submitted_request(bot)
    payload = sr.block_action(
        user_id=BOB, action_id=ids.APPROVE, value=str(request_id), response_url=bot.response_url("click")
    )
    for retry_num in (None, 1, 2):
        assert (await bot.post(sr.interactive(payload), retry_num=retry_num)).status_code == 200
    await bot.drain()
    assert bot.provider.calls["approve"] == 1
    assert len([u for u in bot.slack.calls_to("chat.update") if "Approved by" in json.dumps(u.args)]) == 2


async def test_work_that_keeps_killing_its_instance_is_given_up(bot: Bot) -> None:
    """A delivery begun MAX_DELIVERY_TRIES times without ending is no longer resumed: its user is told, once,
    and it is forgotten with the rest."""
    request_id = await submitted_request(bot)
    await bot.drain()
    payload = sr.block_action(user_id=BOB, action_id=ids.APPROVE, value=str(request_id))
    store = bot.service.deps.store
    poison = SlackDelivery(
        key="T-poison",
        work="approve",
        body=json.dumps(payload),
        attempts=MAX_DELIVERY_TRIES,
        lease_until=now(),
    )
    async with store.session() as session:
        session.add(poison)
        await session.commit()
    assert await come_back_later(bot) == 0
    assert bot.provider.calls["approve"] == 0
    assert dms_to(bot, BOB).count(GAVE_UP) == 1  # the second round of come_back_later told nobody again
    await store.forget_deliveries(before=now() + timedelta(days=1))
    async with store.session() as session:
        assert await session.get(SlackDelivery, "T-poison") is None


async def owed(bot: Bot) -> list[SlackDelivery]:
    """Accepted deliveries whose work is not over."""
    async with bot.service.deps.store.session() as session:
        rows = await session.exec(select(SlackDelivery).where(col(SlackDelivery.done_at).is_(None)))
        return [row for row in rows.all() if row.work]


@pytest.mark.parametrize("grace", [0, 10])
async def test_a_stop_finishes_or_hands_back_what_it_accepted(bot: Bot, grace: int) -> None:
    """Stopping (SIGTERM) gives the work after acks SHUTDOWN_GRACE seconds; what is left then is handed back,
    free for the next instance at once, instead of waiting for its lease to run out."""
    request_id = await submitted_request(bot)
    bot.settings.shutdown_grace = grace
    await bot.click(ids.APPROVE, str(request_id), user=BOB)
    await bot.listeners.stop()
    await bot.service.outbox.release()
    left = await owed(bot)
    if grace:
        assert left == []
    assert all(
        row.lease_until is not None
        and (row.lease_until if row.lease_until.tzinfo else row.lease_until.replace(tzinfo=UTC)) <= now()
        for row in left
    )
    assert bot.service.deps.slack is not None
    await bot.listeners.resume_abandoned(bot.service.deps.slack)
    while await bot.service.outbox.retry_due():
        pass
    assert await owed(bot) == []
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == RequestState.APPROVED
    assert bot.provider.calls["approve"] == 1


@pytest.mark.parametrize("method", ["chat.update", "chat.postMessage"])
async def test_slack_failing_during_a_decision_loses_no_card_and_no_message(bot: Bot, method: str) -> None:
    """Slack answers 500 to the card edits (or to the requester's DM) while Bob approves: retried until done,
    every card edited and Alice told, once each."""
    bot.service.outbox.policy = RetryPolicy(first=timedelta(0), tries=5)
    request_id = await submitted_request(bot)
    await bot.drain()
    bot.slack.fail_next(2, status=500, path=method)
    await bot.click(ids.APPROVE, str(request_id), user=BOB)
    await bot.drain()
    while await bot.service.outbox.retry_due():
        pass
    assert bot.provider.calls["approve"] == 1
    for approver in (BOB, CAROL):  # what each approver sees now: the card, decided, with no buttons left
        [card] = [m for m in bot.slack.messages_in(f"D{approver}") if "Approved by" in json.dumps(m)]
        assert ids.APPROVE not in json.dumps(card)
    told = [m["text"] for m in bot.slack.messages_in(f"D{ALICE}") if "approved" in m["text"]]
    assert len(told) == 1  # delivered once (the calls Slack failed delivered nothing)


async def test_slack_down_for_ten_seconds_during_a_decision_catches_up_once_it_is_back(bot: Bot) -> None:
    """Every Slack call answers 503 for 10 s from the moment Bob approves: the approval reaches the HR system at
    once, and with the default backoff every card is edited and Alice told, once, after Slack is back."""
    request_id = await submitted_request(bot)
    await bot.drain()
    bot.slack.outage()
    began = now()
    assert (await bot.click(ids.APPROVE, str(request_id), user=BOB)).status_code == 200
    await bot.drain()
    assert bot.provider.calls["approve"] == 1
    with time_machine.travel(began + timedelta(seconds=5)):
        await bot.service.outbox.retry_due()  # a retry while Slack is still down: put off again
    bot.slack.outage(False)
    with time_machine.travel(began + timedelta(minutes=2)):
        while await bot.service.outbox.retry_due():
            pass
    for approver in (BOB, CAROL):
        [card] = [m for m in bot.slack.messages_in(f"D{approver}") if "Approved by" in json.dumps(m)]
        assert ids.APPROVE not in json.dumps(card)
    assert len([t for t in dms_to(bot, ALICE) if "approved" in t]) == 1
    hooks = [c.args for c in bot.slack.calls if c.method.startswith("hooks/")]
    assert not [h for h in hooks if "went wrong" in str(h)]
