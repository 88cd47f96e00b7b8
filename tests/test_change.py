"""Changing the dates of a pending request from `/leave mine`: one step, the old request replaced, everyone told.

End to end over real HTTP (signed slash commands, clicks and modal submissions into the served
app, the fake Slack), on the local provider; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from conftest import ALICE, BOB, CAROL, MALLORY, Bot
from helpers.cards import approval_cards, button_value, buttons, submitted_request
from test_e2e import DAY, eventually

from bot.views import ids
from bot.views.ids import MINE_CHANGE
from providers.errors import ProviderRejected, ProviderUnavailable
from providers.models import Decision, LeaveSpan, Status

OLD = LeaveSpan(start_date=DAY, end_date=DAY, start="PM", end="PM").describe()  # submitted_request's
NEW_START, NEW_END = DAY + timedelta(days=7), DAY + timedelta(days=8)
NEW = LeaveSpan(start_date=NEW_START, end_date=NEW_END).describe()


def said(call: Any) -> str:
    """Everything a message says, its blocks included."""
    return json.dumps([call.args.get("text"), call.args.get("blocks")], ensure_ascii=False)


def dms_to(bot: Bot, user: str) -> list[str]:
    """Every plain DM (no blocks) sent to ``user`` so far."""
    posts = bot.slack.calls_to("chat.postMessage")
    return [c.args["text"] for c in posts if c.args["channel"] == user and not c.args.get("blocks")]


def modal_values(start: date, end: date, reason: str = "the dentist") -> dict[str, Any]:
    """The request modal's state with whole days from ``start`` to ``end``."""

    def pick(block_id: str, kind: str, **value: Any) -> dict[str, Any]:
        return {block_id: {block_id: {"type": kind, **value}}}

    return (
        pick(ids.START_DATE, "datepicker", selected_date=start.isoformat())
        | pick(ids.END_DATE, "datepicker", selected_date=end.isoformat())
        | pick(ids.START_PART, "static_select", selected_option={"value": "AM"})
        | pick(ids.END_PART, "static_select", selected_option={"value": "PM"})
        | pick(ids.REASON, "plain_text_input", value=reason)
    )


async def open_change(bot: Bot, request_id: int) -> dict[str, Any]:
    """Alice types `/leave mine` and presses Change on ``request_id``; the modal that opens."""
    await bot.command("mine", hook="mine")
    [listing] = await bot.slack.wait_for("hooks/mine")
    assert button_value(listing.args["blocks"], MINE_CHANGE) == str(request_id)
    await bot.click(MINE_CHANGE, str(request_id), user=ALICE, hook="change")
    [opened] = await bot.slack.wait_for("views.open")
    return dict(opened.args["view"])


async def submit_change(bot: Bot, request_id: int, *, user: str = ALICE) -> str:
    """Submit a Change modal replacing ``request_id`` with NEW_START..NEW_END; the one DM that answers."""
    before = len(dms_to(bot, user))
    values = modal_values(NEW_START, NEW_END)
    answer = await bot.submit_view(
        ids.REQUEST_MODAL,
        values,
        user=user,
        view_id=f"V0CHANGE{request_id}",
        private_metadata=str(request_id),
    )
    assert answer.status_code == 200 and answer.content in (b"", b"{}")
    await eventually(lambda: len(dms_to(bot, user)) > before)
    [told] = dms_to(bot, user)[before:]
    return told


async def test_change_replaces_the_pending_request_and_tells_everyone(bot: Bot) -> None:
    """Change opens the modal pre-filled; submitting books the new dates, cancels the old booking, marks both old cards replaced, notes the change on the new cards and tells Alice once."""
    old_id = await submitted_request(bot)
    view = await open_change(bot, old_id)
    assert view["private_metadata"] == str(old_id) and view["title"]["text"] == "Change leave"
    prefilled = json.dumps(view)
    assert DAY.isoformat() in prefilled and "the dentist" in prefilled and "From lunchtime" in prefilled

    told = await submit_change(bot, old_id)

    assert f"waiting for <@{BOB}>, <@{CAROL}>" in told and f"replaces your leave for {OLD}" in told
    assert dms_to(bot, ALICE) == [told]
    new_cards = approval_cards(bot)[2:]
    assert {c.args["channel"] for c in new_cards} == {BOB, CAROL} and len(new_cards) == 2
    assert all(f"Changes <@{ALICE}>'s earlier request for {OLD}" in said(c) for c in new_cards)
    updates = bot.slack.calls_to("chat.update")
    assert {u.args["channel"] for u in updates} == {f"D{BOB}", f"D{CAROL}"} and len(updates) == 2
    assert all(f"Replaced by a new request: {NEW}" in said(u) for u in updates)
    assert all(f"Cancelled by <@{ALICE}>" in said(u) and buttons(u.args["blocks"]) == [] for u in updates)
    assert not [t for u in (BOB, CAROL) for t in dms_to(bot, u) if "cancelled their leave" in t]
    bookings = {(a.start_date, a.status) for a in await bot.provider.absences(DAY, NEW_END)}
    assert bookings == {(DAY, Status.CANCELLED), (NEW_START, Status.PENDING)}
    new_id = int(button_value(new_cards[-1].args["blocks"], ids.APPROVE))
    old, new = [await bot.service.deps.store.request(request_id=i) for i in (old_id, new_id)]
    assert old is not None and old.status == Status.CANCELLED
    assert new is not None and (new.status, new.end_date, new.reason) == (
        Status.PENDING,
        NEW_END,
        "the dentist",
    )


async def test_only_ones_own_pending_request_can_be_changed(bot: Bot) -> None:
    """An approved request has no Change button, and pressing a stale one, or submitting its modal, is refused; so is Mallory's try on Alice's request."""
    approved = await submitted_request(bot)
    await bot.service.requests.decide(request_id=approved, slack_user_id=BOB, decision=Decision.APPROVE)
    await bot.command("mine", hook="mine")
    [listing] = await bot.slack.wait_for("hooks/mine")
    assert MINE_CHANGE not in buttons(listing.args["blocks"])

    await bot.click(MINE_CHANGE, str(approved), user=ALICE, hook="stale")
    [refusal] = await bot.slack.wait_for("hooks/stale")
    assert f"Your leave for {OLD} is approved already" in refusal.args["text"]
    told = await submit_change(bot, approved)
    assert "approved already" in told and "Cancel it from `/leave mine`" in told
    pending = await submitted_request(bot, f"{(DAY + timedelta(days=1)).isoformat()} for a haircut")
    await bot.click(MINE_CHANGE, str(pending), user=MALLORY, hook="mallory")
    [mallory] = await bot.slack.wait_for("hooks/mallory")
    assert "only change your own leave" in mallory.args["text"]

    assert bot.slack.calls_to("views.open") == []
    assert bot.provider.calls["submit"] == 2 and bot.provider.calls["cancel"] == 0
    requests = [await bot.service.deps.store.request(request_id=i) for i in (approved, pending)]
    assert [r.status for r in requests if r] == [Status.APPROVED, Status.PENDING]


async def test_a_refusal_of_the_new_dates_leaves_the_old_request_untouched(bot: Bot) -> None:
    """The HR system refuses the new dates: Alice hears why and that her leave stands; nothing is cancelled or edited."""
    old_id = await submitted_request(bot)
    bot.provider.failures["submit"] = [ProviderRejected("those days are blocked", provider="local")]

    told = await submit_change(bot, old_id)

    assert told.startswith("The HR system said no: those days are blocked")
    assert f"Your leave for {OLD} stands as it was" in told
    assert bot.provider.calls["cancel"] == 0 and bot.slack.calls_to("chat.update") == []
    assert len(approval_cards(bot)) == 2
    old = await bot.service.deps.store.request(request_id=old_id)
    assert old is not None and old.status == Status.PENDING
    assert [(a.start_date, a.status) for a in await bot.provider.absences(DAY, NEW_END)] == [
        (DAY, Status.PENDING)
    ]


async def test_new_dates_only_queued_keep_the_old_request_and_say_so(bot: Bot) -> None:
    """The HR system is down: the new request waits in the outbox, the old one stays pending, and Alice is told both."""
    old_id = await submitted_request(bot)
    bot.provider.failures["submit"] = [ProviderUnavailable("down", provider="local")]

    told = await submit_change(bot, old_id)

    assert "isn't answering right now" in told and f"Until then your leave for {OLD} stays as it is" in told
    assert bot.provider.calls["cancel"] == 0 and bot.slack.calls_to("chat.update") == []
    old = await bot.service.deps.store.request(request_id=old_id)
    assert old is not None and old.status == Status.PENDING
