"""Faults on the provider's side, over real HTTP: nothing lost, nothing doubled, everyone told.

The provider is the real local provider told to fail (``SpyProvider.failures``); the outbox worker is
driven by calling ``Outbox.retry_due`` as the background loop does, with no waiting between tries.
Each test records what it tried and counts the provider-side effects into ``FIGURES`` (printed at the
end of the run by conftest.py): duplicated and lost must stay 0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from conftest import ALICE, BOB, CAROL, FIGURES, Bot
from fakes.timetastic import TOKEN, FakeTimetastic
from helpers.cards import approval_cards, preview_value
from remote_bot import provider_bot
from sqlalchemy import update
from test_e2e import DAY

from bot.domain import PROVIDER_CALLS, JobKind, JobResult
from bot.services.outbox import RetryPolicy
from bot.services.wiring import Services
from bot.store import Store
from bot.store.tables import LeaveRequest, OutboxJob, now
from bot.views import ids
from providers.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from providers.models import Status
from providers.timetastic import TimetasticProvider

DOWN = ProviderUnavailable("leavebot answered 503", provider="local")
NO_WAIT = RetryPolicy(first=timedelta(0), tries=5)


@pytest.fixture(autouse=True)
def no_waiting(bot: Bot) -> None:
    """Retries are due at once: the tests call the worker instead of waiting for its clock."""
    bot.service.outbox.policy = NO_WAIT


async def press_submit(bot: Bot, hook: str, text: str = DAY.isoformat()) -> str:
    """Alice previews a request and presses Submit; returns the Submit button's value (to press it again)."""
    value = preview_value((await bot.command(text)).json())
    await bot.click(ids.SUBMIT, value, user=ALICE, hook=hook)
    return value


async def answer(bot: Bot, hook: str) -> str:
    """The text sent to a response_url."""
    [told] = await bot.slack.wait_for(f"hooks/{hook}")
    return str(told.args["text"])


async def only_request(bot: Bot) -> LeaveRequest:
    """The one request in the store."""
    rows = await bot.service.deps.store.requests_of(slack_user_id=ALICE, since=DAY - timedelta(days=1))
    assert len(rows) == 1, rows
    return rows[0]


async def work_off(service: Services, rounds: int = 10) -> None:
    """Run the outbox worker until nothing is due."""
    for _ in range(rounds):
        if not await service.outbox.retry_due():
            return
    raise AssertionError("the outbox never emptied")


def dms(bot: Bot, user: str) -> list[str]:
    """Texts of direct messages to ``user``."""
    return [c.args["text"] for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == user]


def count(tried: int = 0, refused: int = 0, duplicated: int = 0, lost: int = 0) -> None:
    """Add one test's figures to the run's summary."""
    FIGURES.update(tried=tried, refused=refused, duplicated=duplicated, lost=lost)


async def bookings(bot: Bot) -> int:
    """Bookings the provider holds on DAY."""
    return len(await bot.provider.absences(DAY, DAY))


async def test_submission_while_the_provider_is_down_is_queued_then_sent_once(bot: Bot) -> None:
    """Down on Submit: Alice hears it is saved; pressing again doubles nothing; the worker books it once
    when the provider is back, asks both approvers, and tells Alice it went through."""
    bot.provider.failures["submit"] = [DOWN, DOWN]
    value = await press_submit(bot, "down")
    assert "saved and will be sent automatically" in await answer(bot, "down")
    await bot.click(ids.SUBMIT, value, user=ALICE, hook="again")
    assert "being sent already" in await answer(bot, "again")
    assert approval_cards(bot) == [] and await bookings(bot) == 0

    await work_off(bot.service)
    request = await only_request(bot)
    assert request.status == Status.PENDING and request.booking_id
    assert bot.provider.calls["submit"] == 3  # failed, failed, booked
    assert {c.args["channel"] for c in approval_cards(bot)} == {BOB, CAROL}
    assert [t for t in dms(bot, ALICE) if "went through" in t] != []
    [job] = await bot.service.deps.store.jobs(request_id=request.id, kinds=PROVIDER_CALLS)
    assert (job.result, job.attempts) == (JobResult.DONE, 3)
    count(tried=1, duplicated=await bookings(bot) - 1, lost=1 - await bookings(bot))


async def test_a_provider_that_never_comes_back_is_given_up_and_alice_told(bot: Bot) -> None:
    """After the last try the request is marked failed, nothing is booked, and Alice is told to try again."""
    bot.service.outbox.policy = RetryPolicy(first=timedelta(0), tries=3)
    bot.provider.failures["submit"] = [DOWN] * 5
    await press_submit(bot, "down")
    await answer(bot, "down")
    await work_off(bot.service)
    request = await only_request(bot)
    assert request.status == "failed" and await bookings(bot) == 0
    [job] = await bot.service.deps.store.jobs(request_id=request.id, kinds=PROVIDER_CALLS)
    assert (job.result, job.attempts) == (JobResult.GAVE_UP, 3)
    assert any("did not answer for too long" in t for t in dms(bot, ALICE))
    assert approval_cards(bot) == []
    count(tried=1, refused=1, duplicated=await bookings(bot))


async def test_retry_after_is_honoured_before_the_next_try(bot: Bot) -> None:
    """A 429 with Retry-After 30 s queues the submission no sooner than 30 s from now."""
    bot.provider.failures["submit"] = [ProviderRateLimited("slow down", provider="local", retry_after=30)]
    await press_submit(bot, "busy")
    assert "saved" in await answer(bot, "busy")
    [job] = await bot.service.deps.store.jobs(kinds=PROVIDER_CALLS)
    assert job.due_at.replace(tzinfo=now().tzinfo) >= now() + timedelta(seconds=29)
    assert await bot.service.outbox.retry_due() == 0  # not due yet
    assert bot.provider.calls["submit"] == 1
    count(tried=1)


async def test_a_refusal_is_not_retried(bot: Bot) -> None:
    """The provider saying no is final: Alice reads its words, the request is failed, no job stays owed."""
    bot.provider.failures["submit"] = [ProviderRejected("You have no allowance left", provider="local")]
    await press_submit(bot, "no")
    assert "You have no allowance left" in await answer(bot, "no")
    [job] = await bot.service.deps.store.jobs(kinds=PROVIDER_CALLS)
    assert job.result == JobResult.REFUSED
    assert await bot.service.outbox.retry_due() == 0 and bot.provider.calls["submit"] == 1
    count(tried=1, refused=1, duplicated=await bookings(bot))


async def test_approval_while_the_provider_is_down_is_queued_and_done_once(bot: Bot) -> None:
    """Bob approves while the provider is down: he hears it is saved, Carol cannot decide meanwhile, and
    once it is back the booking is approved once, every card updated and Alice told once."""
    await press_submit(bot, "submit")
    await bot.slack.wait_for("chat.postMessage", count=2)
    request = await only_request(bot)
    bot.provider.failures["approve"] = [DOWN]
    await bot.click(ids.APPROVE, str(request.id), user=BOB, hook="bob")
    assert "saved and will be sent automatically" in await answer(bot, "bob")
    await bot.click(ids.APPROVE, str(request.id), user=CAROL, hook="carol")
    assert f"<@{BOB}> is deciding" in await answer(bot, "carol")

    await work_off(bot.service)
    request = await only_request(bot)
    assert request.status == Status.APPROVED and request.decided_by == BOB
    assert bot.provider.calls["approve"] == 2  # the failed try and the one that worked
    assert len(bot.slack.calls_to("chat.update")) == 2  # both cards
    assert len([t for t in dms(bot, ALICE) if "was approved" in t]) == 1
    assert any("went through" in t for t in dms(bot, BOB))
    count(tried=2, duplicated=bot.provider.calls["approve"] - 2)


async def test_the_queue_survives_a_restart(bot: Bot) -> None:
    """A submission queued by one instance is sent by another started later on the same database."""
    bot.provider.failures["submit"] = [DOWN]
    await press_submit(bot, "down")
    await answer(bot, "down")
    restarted = Services(
        provider=bot.provider, store=Store(bot.service.deps.store.engine), slack=bot.service.deps.slack
    )
    restarted.outbox.policy = NO_WAIT
    await work_off(restarted)
    assert (await only_request(bot)).status == Status.PENDING
    assert await bookings(bot) == 1
    count(tried=1, lost=1 - await bookings(bot), duplicated=await bookings(bot) - 1)


async def test_a_job_whose_instance_died_is_taken_over_once_its_lease_ran_out(store: Store) -> None:
    """A leased job is nobody else's until its lease runs out; then exactly one claimer takes it."""
    row = LeaveRequest(
        idempotency_key="k",
        provider="local",
        status="submitting",
        requester_person_id="alice@example.com",
        requester_name="alice",
        start_date=DAY,
        end_date=DAY,
        start_part="AM",
        end_part="PM",
    )
    request, _ = await store.create_request(request=row)
    assert request.id is not None
    await store.enqueue(
        job=OutboxJob(request_id=request.id, kind="submit", revert_to="failed"), lease=timedelta(0)
    )
    dead = await store.claim_due(lease=timedelta(minutes=5))  # an instance takes it, then dies
    assert len(dead) == 1
    assert await store.claim_due(lease=timedelta(minutes=5)) == []
    async with store.session() as session:  # five minutes later: the lease ran out
        await session.exec(update(OutboxJob).values(lease_until=now() - timedelta(seconds=1)))  # type: ignore[call-overload]
        await session.commit()
    claims = await asyncio.gather(*(store.claim_due(lease=timedelta(minutes=5)) for _ in range(8)))
    assert sorted(len(c) for c in claims) == [0] * 7 + [1]


# -- over real HTTP, against Timetastic's fake -------------------------------------------------------


@pytest.fixture
async def tt(tmp_path: Any, slack: Any) -> AsyncIterator[tuple[Bot, FakeTimetastic]]:
    """leavebot on Timetastic's fake, with a short provider timeout and retries due at once."""
    with FakeTimetastic() as fake:
        config = TimetasticProvider.Config(api_token=TOKEN, base_url=fake.url)
        provider = TimetasticProvider(config, http=httpx.AsyncClient(timeout=0.5))
        async with provider_bot(provider, slack, tmp_path) as bot:
            bot.service.outbox.policy = NO_WAIT
            yield bot, fake


async def until_carded(bot: Bot) -> None:
    """Wait for the approver's card (Bob approves Alice in Timetastic's fake data)."""
    await bot.slack.wait_for("chat.postMessage")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_timetastic_answering_503_twice_books_once(tt: tuple[Bot, FakeTimetastic]) -> None:
    """Timetastic down for two calls: the submission is queued, then booked once when it answers again."""
    bot, fake = tt
    fake.fail_next(2, status=503, method="POST", path="/holidays")
    await press_submit(bot, "down")
    assert "saved" in await answer(bot, "down")
    await work_off(bot.service)
    await until_carded(bot)
    assert len(fake.holidays) == 1
    count(tried=1, duplicated=len(fake.holidays) - 1, lost=1 - len(fake.holidays))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_timeout_after_timetastic_booked_is_not_booked_twice(tt: tuple[Bot, FakeTimetastic]) -> None:
    """Timetastic books but answers too late: the retry finds that booking and adopts it instead of booking again."""
    bot, fake = tt
    fake.stall_next(1, seconds=1.0, method="POST", path="/holidays")
    await press_submit(bot, "slow")
    assert "saved" in await answer(bot, "slow")
    await work_off(bot.service)
    await until_carded(bot)
    request = await only_request(bot)
    assert len(fake.holidays) == 1 and request.booking_id == str(next(iter(fake.holidays)))
    assert len(fake.calls_to("POST", "/holidays")) == 1
    count(tried=1, duplicated=len(fake.holidays) - 1, lost=1 - len(fake.holidays))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_timetastic_429_on_approve_is_waited_out(tt: tuple[Bot, FakeTimetastic]) -> None:
    """A 429 with a short Retry-After on the approval is waited out inside the call: one approval, no queue."""
    bot, fake = tt
    await press_submit(bot, "submit")
    await until_carded(bot)
    request = await only_request(bot)
    fake.throttle_next(1, retry_after="1")
    await bot.click(ids.APPROVE, str(request.id), user=BOB)
    await bot.slack.wait_for("chat.update")
    assert fake.holidays[int(request.booking_id or 0)]["status"] == "Approved"
    assert [
        j.result for j in await bot.service.deps.store.jobs(request_id=request.id, kinds=PROVIDER_CALLS)
    ] == [
        JobResult.DONE,
        JobResult.DONE,
    ]
    count(tried=1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_cold_instance_queues_like_a_warm_one_while_timetastic_is_down(
    tt: tuple[Bot, FakeTimetastic],
) -> None:
    """Nobody known yet and Timetastic down: the request is saved anyway (who Alice is there is looked up by
    the job that sends it), she is told it will be sent, and it is booked once, for her, when Timetastic is back."""
    bot, fake = tt
    assert await bot.service.deps.store.slack_user(slack_user_id=ALICE) is None  # cold
    fake.fail_next(3, status=503)
    await press_submit(bot, "cold")
    assert "saved" in await answer(bot, "cold")
    assert (await only_request(bot)).status == "submitting"
    await work_off(bot.service)
    await until_carded(bot)
    request = await only_request(bot)
    [holiday] = fake.holidays.values()
    assert request.requester_person_id and request.requester_name
    assert str(holiday["userId"]) == request.requester_person_id
    count(tried=1, duplicated=len(fake.holidays) - 1, lost=1 - len(fake.holidays))


@pytest.mark.parametrize("error", ["invalid_auth", "account_inactive", "token_revoked", "not_authed"])
async def test_a_refused_slack_token_pauses_the_cards_until_leavebot_starts_again(
    bot: Bot, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refusing the token on the ask-approvers step: one warning naming the fix, no retries (the
    request is pending and its step waits in the outbox, paused); once leavebot starts again (with a
    token Slack accepts) the step goes out and both approvers get their card."""
    bot.slack.error_next("chat.postMessage", error)
    with caplog.at_level(logging.INFO, logger="bot.services.outbox"):
        await press_submit(bot, "s")
        await bot.drain()
        await work_off(bot.service)
    request = await only_request(bot)
    [step] = await bot.service.deps.store.jobs(request_id=request.id, kinds=[JobKind.ASK_APPROVERS])
    assert (request.status, step.result, step.attempts) == (Status.PENDING, None, 0)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # tried once: refused, nothing posted
    assert [bot.slack.messages_in(f"D{user}") for user in (BOB, CAROL)] == [[], []]
    said = [r for r in caplog.records if r.name == "bot.services.outbox"]
    assert [r.levelname for r in said] == ["WARNING"] and not said[0].exc_info
    assert error in said[0].getMessage() and "SLACK_BOT_TOKEN" in said[0].getMessage()

    assert await bot.service.outbox.unpause() == 1  # what `serve` and `socket` do once they start
    await work_off(bot.service)
    [step] = await bot.service.deps.store.jobs(request_id=request.id, kinds=[JobKind.ASK_APPROVERS])
    assert step.result == JobResult.DONE
    assert [len(bot.slack.messages_in(f"D{user}")) for user in (BOB, CAROL)] == [1, 1]
