"""Private leave types (PRIVATE_LEAVE_TYPES): the team sees "Out of office", the approver sees everything."""

from __future__ import annotations

import json

from conftest import ALICE, BOB, CAROL, Bot
from helpers.cards import approval_cards
from remote_bot import until
from test_card import WEDNESDAY, card_text
from test_who import ask

from bot.config import Settings
from bot.services.calendar import DigestPlan
from bot.services.digest import post_digest
from bot.views import ids
from providers.models import Draft, Status


async def approved(bot: Bot, user: str, leave_type: str, reason: str = "") -> None:
    """A day off on WEDNESDAY of some type, requested by ``user`` and approved by Carol in Slack."""
    draft = Draft(start_date=WEDNESDAY, end_date=WEDNESDAY, leave_type=leave_type, reason=reason)
    submitted = await bot.service.requests.submit(draft=draft, key=f"privacy-{user}", slack_user_id=user)
    request_id = submitted.request.id
    assert request_id is not None
    await bot.click(ids.APPROVE, str(request_id), user=CAROL, hook=f"approve-{user}")

    async def done() -> bool:
        request = await bot.service.deps.store.request(request_id=request_id)
        return request is not None and request.status == Status.APPROVED

    await until(done)


def test_private_leave_types_are_read_as_words_in_any_case() -> None:
    """PRIVATE_LEAVE_TYPES is comma-separated and case-insensitive; a type matches by containing a word."""
    settings = Settings(_env_file=None, private_leave_types=" Medical, SICK ,")
    plan = DigestPlan.from_settings(settings)
    assert plan.private_types == {"medical", "sick"}
    assert plan.is_private("Sick Leave") and plan.is_private("medical appointment")
    assert not plan.is_private("Annual Leave") and not plan.is_private(None)
    assert DigestPlan.from_settings(Settings(_env_file=None)).private_types == {"sick"}
    assert DigestPlan.from_settings(Settings(_env_file=None, private_leave_types="")).private_types == set()


async def test_sick_leave_is_out_of_office_for_the_team_but_not_for_the_approver(bot: Bot) -> None:
    """Alice's sick day: the approver's card says Sick Leave and why; the digest and `/leave who` say Out of office."""
    await approved(bot, ALICE, "Sick Leave", "flu & fever")
    await approved(bot, BOB, "Annual Leave")
    [card, *_] = [c for c in approval_cards(bot) if f"<@{ALICE}>" in card_text(c.args["blocks"])]
    assert "*Type:* Sick Leave\n*Reason:* flu &amp; fever" in card_text(card.args["blocks"])

    plan = DigestPlan.from_settings(bot.settings)
    assert await post_digest(bot.service.deps, day=WEDNESDAY, plan=plan) == {"C0DIGEST": True}
    digest = json.dumps(
        [c.args for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
    )
    [who_day] = await ask(bot, WEDNESDAY.isoformat(), "who-day")
    [who_alice] = await ask(bot, f"&lt;@{ALICE}|alice&gt;", "who-alice")
    for answer in (digest, json.dumps(who_day.args), json.dumps(who_alice.args)):
        assert "Out of office" in answer
        assert "Sick" not in answer and "flu" not in answer
    assert f"<@{ALICE}>: Out of office, all day" in digest
    assert f"<@{BOB}>: Annual Leave, all day" in digest  # only the private type is hidden


async def test_no_private_types_shows_every_type(bot: Bot) -> None:
    """With PRIVATE_LEAVE_TYPES empty, the digest names the sick leave."""
    await approved(bot, ALICE, "Sick Leave")
    plan = DigestPlan.from_settings(bot.settings.model_copy(update={"private_leave_types": frozenset()}))
    assert await post_digest(bot.service.deps, day=WEDNESDAY, plan=plan) == {"C0DIGEST": True}
    digest = json.dumps(
        [c.args for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
    )
    assert f"<@{ALICE}>: Sick Leave, all day" in digest and "Out of office" not in digest
