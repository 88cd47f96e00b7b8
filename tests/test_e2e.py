"""End to end over real HTTP: signed Slack requests into the served app, a fake Slack and the local provider."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import slack_requests as sr
from conftest import ALICE, BOB, CAROL, MALLORY, Bot
from helpers.cards import button_value, buttons, preview_value, submitted_request

from bot.jobs import tick
from bot.services.digest import post_digest
from bot.views import ids
from providers.errors import ProviderAuthError
from providers.models import Draft, Status

DAY = date.today() + timedelta(days=30)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds, for work that runs after the ack."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


async def test_unsigned_request_is_refused(bot: Bot) -> None:
    """A body signed with the wrong secret gets 401 and does nothing."""
    response = await bot.post(
        sr.slash_command("tomorrow", user_id=ALICE, response_url=bot.response_url("x")), secret="wrong"
    )
    assert response.status_code == 401
    assert bot.slack.calls == []


async def test_stale_timestamp_is_refused(bot: Bot) -> None:
    """A correctly signed request from six minutes ago is a replay: 401."""
    body = sr.slash_command("tomorrow", user_id=ALICE, response_url=bot.response_url("x"))
    response = await bot.post(body, timestamp=int(time.time()) - 360)
    assert response.status_code == 401


async def test_typed_request_is_previewed_in_the_ack(bot: Bot) -> None:
    """`/leave <text>` answers in the HTTP response itself with a preview and Submit / Edit / Cancel."""
    response = await bot.command(f"{DAY.isoformat()} pm for the dentist")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "(afternoon)" in body["blocks"][0]["text"]["text"]
    assert "the dentist" in body["blocks"][0]["text"]["text"]
    assert buttons(body["blocks"]) == [ids.SUBMIT, ids.EDIT, ids.DISCARD]
    assert bot.provider.calls["submit"] == 0


async def test_bad_date_gets_a_clear_message_with_an_example(bot: Bot) -> None:
    """Text that is not a date is answered with what was not understood and a working example."""
    response = await bot.command("the day after the party")
    assert response.status_code == 200
    text = response.json()["text"]
    assert "couldn't" in text and "/leave tomorrow" in text


async def test_end_before_start_is_explained(bot: Bot) -> None:
    """A range that ends before it starts is refused in words."""
    response = await bot.command(f"{DAY.isoformat()} to {(DAY - timedelta(days=3)).isoformat()}")
    assert "end date is before the start date" in response.json()["text"]


async def test_submit_books_and_asks_every_approver(bot: Bot) -> None:
    """Submit books the leave as pending, DMs each approver a card and tells the requester who decides."""
    request_id = await submitted_request(bot)
    cards = bot.slack.calls_to("chat.postMessage")
    assert {c.args["channel"] for c in cards} == {BOB, CAROL}
    assert all(buttons(c.args["blocks"]) == [ids.APPROVE, ids.DECLINE] for c in cards)
    [sent] = await bot.slack.wait_for("hooks/submit")
    assert f"<@{BOB}>" in sent.args["text"] and sent.args["replace_original"] is True
    [absence] = await bot.provider.absences(DAY, DAY)
    assert (absence.status, absence.start, absence.end) == (Status.PENDING, "PM", "PM")
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.requester_name == "Alice Archer"


async def test_approve_updates_every_card_and_tells_the_requester_once(bot: Bot) -> None:
    """Bob approves: the provider approves, both cards lose their buttons and name Bob, Alice gets one DM."""
    request_id = await submitted_request(bot)
    await bot.click(ids.APPROVE, str(request_id), user=BOB)
    updates = await bot.slack.wait_for("chat.update", count=2)
    assert all(buttons(u.args["blocks"]) == [] for u in updates)
    assert all(f"Approved by <@{BOB}>" in json.dumps(u.args["blocks"]) for u in updates)
    assert {(u.args["channel"]) for u in updates} == {f"D{BOB}", f"D{CAROL}"}
    dms = [c for c in await bot.slack.wait_for("chat.postMessage", count=3) if c.args["channel"] == ALICE]
    assert len(dms) == 1 and "approved" in dms[0].args["text"]
    [absence] = await bot.provider.absences(DAY, DAY)
    assert absence.status == Status.APPROVED
    log = await bot.service.deps.store.audit_log(request_id=request_id)
    assert [(e.actor, e.action) for e in log] == [(ALICE, "submitted"), (BOB, "approve")]


async def test_non_approver_click_is_refused_and_changes_nothing(bot: Bot) -> None:
    """Mallory, who is not an approver, pressing Approve gets a private refusal; nothing changes."""
    request_id = await submitted_request(bot)
    await bot.click(ids.APPROVE, str(request_id), user=MALLORY, hook="mallory")
    [refusal] = await bot.slack.wait_for("hooks/mallory")
    assert "Only an approver" in refusal.args["text"] and refusal.args["response_type"] == "ephemeral"
    await bot.drain()
    assert bot.provider.calls["approve"] == 0
    assert bot.slack.calls_to("chat.update") == []
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == Status.PENDING


async def test_requester_cannot_approve_their_own_request(bot: Bot) -> None:
    """The requester is never one of their own approvers."""
    request_id = await submitted_request(bot)
    await bot.click(ids.APPROVE, str(request_id), user=ALICE, hook="self")
    [refusal] = await bot.slack.wait_for("hooks/self")
    assert "Only an approver" in refusal.args["text"]


async def test_two_approvers_clicking_at_once_cause_one_provider_action(bot: Bot) -> None:
    """Bob and Carol press Approve at the same moment, Bob twice: the provider is called once."""
    request_id = await submitted_request(bot)
    await asyncio.gather(
        bot.click(ids.APPROVE, str(request_id), user=BOB, hook="bob1"),
        bot.click(ids.APPROVE, str(request_id), user=CAROL, hook="carol"),
        bot.click(ids.APPROVE, str(request_id), user=BOB, hook="bob2"),
    )
    await bot.slack.wait_for("chat.update", count=2)
    await bot.drain()
    assert bot.provider.calls["approve"] == 1
    decisions = [
        e for e in await bot.service.deps.store.audit_log(request_id=request_id) if e.action == "approve"
    ]
    assert len(decisions) == 1
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]) == 1
    told = [c for c in bot.slack.calls if c.method.startswith("hooks/") and c.method != "hooks/submit"]
    assert len(told) == 2 and all(
        "already decided" in c.args["text"] or "deciding" in c.args["text"] for c in told
    )


async def test_slack_retry_of_a_delivery_creates_nothing_twice(bot: Bot) -> None:
    """The same Submit delivery arriving again with X-Slack-Retry-Num books nothing more."""
    preview = await bot.command(f"{DAY.isoformat()} for a wedding")
    payload = sr.block_action(
        user_id=ALICE,
        action_id=ids.SUBMIT,
        value=preview_value(preview.json()),
        response_url=bot.response_url("s"),
    )
    body = sr.interactive(payload)
    first = await bot.post(body)
    retry = await bot.post(body, retry_num=1)
    assert (first.status_code, retry.status_code) == (200, 200)
    await bot.slack.wait_for("chat.postMessage", count=2)
    await bot.drain()
    assert bot.provider.calls["submit"] == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


async def test_double_clicked_submit_books_once(bot: Bot) -> None:
    """Two separate Submit clicks on one preview book one request; the second says it was sent already."""
    value = preview_value((await bot.command(f"{DAY.isoformat()} for a wedding")).json())
    await bot.click(ids.SUBMIT, value, user=ALICE, hook="first")
    await bot.slack.wait_for("hooks/first")
    await bot.click(ids.SUBMIT, value, user=ALICE, hook="second")
    [again] = await bot.slack.wait_for("hooks/second")
    assert "already" in again.args["text"]
    assert bot.provider.calls["submit"] == 1
    assert len(await bot.provider.absences(DAY, DAY)) == 1


async def test_decline_with_reason_reaches_the_requester(bot: Bot) -> None:
    """Decline opens a modal; its reason is quoted to the requester and shown on every card."""
    request_id = await submitted_request(bot)
    await bot.click(ids.DECLINE, str(request_id), user=CAROL)
    [opened] = await bot.slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == ids.DECLINE_MODAL
    reason = {
        ids.DECLINE_REASON: {ids.DECLINE_REASON: {"type": "plain_text_input", "value": "Release week, sorry"}}
    }
    await bot.submit_view(
        ids.DECLINE_MODAL, reason, user=CAROL, private_metadata=opened.args["view"]["private_metadata"]
    )
    updates = await bot.slack.wait_for("chat.update", count=2)
    assert all("Release week, sorry" in json.dumps(u.args["blocks"]) for u in updates)
    dms = [c for c in await bot.slack.wait_for("chat.postMessage", count=3) if c.args["channel"] == ALICE]
    assert (
        len(dms) == 1 and "declined" in dms[0].args["text"] and "> Release week, sorry" in dms[0].args["text"]
    )
    [absence] = await bot.provider.absences(DAY, DAY)
    assert absence.status == Status.DECLINED


async def test_decline_click_by_non_approver_opens_nothing(bot: Bot) -> None:
    """A non-approver pressing Decline is refused before any modal opens."""
    request_id = await submitted_request(bot)
    await bot.click(ids.DECLINE, str(request_id), user=MALLORY, hook="m")
    await bot.slack.wait_for("hooks/m")
    assert bot.slack.calls_to("views.open") == []


async def test_modal_request_end_to_end(bot: Bot) -> None:
    """`/leave` opens the modal with the leave types; submitting it books the leave and DMs the requester."""
    response = await bot.command("")
    assert response.status_code == 200
    [opened] = await bot.slack.wait_for("views.open")
    view = opened.args["view"]
    types = next(b for b in view["blocks"] if b["block_id"] == ids.LEAVE_TYPE)["element"]["options"]
    assert [o["text"]["text"] for o in types] == ["Annual Leave", "Sick Leave", "Other"]
    values = {
        ids.START_DATE: {ids.START_DATE: {"type": "datepicker", "selected_date": DAY.isoformat()}},
        ids.END_DATE: {
            ids.END_DATE: {"type": "datepicker", "selected_date": (DAY + timedelta(days=2)).isoformat()}
        },
        ids.START_PART: {ids.START_PART: {"type": "static_select", "selected_option": {"value": "AM"}}},
        ids.END_PART: {ids.END_PART: {"type": "static_select", "selected_option": {"value": "AM"}}},
        ids.LEAVE_TYPE: {ids.LEAVE_TYPE: {"type": "static_select", "selected_option": {"value": "2"}}},
        ids.REASON: {ids.REASON: {"type": "plain_text_input", "value": "flu"}},
    }
    answer = await bot.submit_view(ids.REQUEST_MODAL, values, user=ALICE, view_id="V0MODAL")
    assert answer.status_code == 200 and answer.content in (b"", b"{}")
    calls = await bot.slack.wait_for("chat.postMessage", count=3)
    assert any(c.args["channel"] == ALICE and "waiting for" in c.args["text"] for c in calls)
    [absence] = await bot.provider.absences(DAY, DAY)
    assert (absence.leave_type, absence.end_date, absence.end) == (
        "Sick Leave",
        DAY + timedelta(days=2),
        "AM",
    )


async def test_modal_with_impossible_dates_shows_inline_errors(bot: Bot) -> None:
    """A modal whose last day is before its first is answered with response_action=errors on that field."""
    await bot.command("")  # warms the leave-type cache, as opening the modal does
    values = {
        ids.START_DATE: {ids.START_DATE: {"type": "datepicker", "selected_date": DAY.isoformat()}},
        ids.END_DATE: {
            ids.END_DATE: {"type": "datepicker", "selected_date": (DAY - timedelta(days=1)).isoformat()}
        },
    }
    answer = await bot.submit_view(ids.REQUEST_MODAL, values, user=ALICE)
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "before the start date" in body["errors"][ids.END_DATE]
    assert bot.provider.calls["submit"] == 0


async def test_who_lists_approved_leave_only(bot: Bot) -> None:
    """`/leave who DATE` lists approved absences on that day, not pending ones."""
    approved = await submitted_request(bot)
    await bot.click(ids.APPROVE, str(approved), user=BOB)
    await bot.slack.wait_for("chat.update", count=2)
    await submitted_request(bot, f"{DAY.isoformat()} am")  # still pending
    response = await bot.command(f"who {DAY.isoformat()}", hook="who")
    assert response.status_code == 200
    [answer] = await bot.slack.wait_for("hooks/who")
    text = json.dumps(answer.args["blocks"])
    assert f"<@{ALICE}>" in text and text.count("<@") == 1 and "afternoon" in text


async def test_help_explains_what_the_bot_understands(bot: Bot) -> None:
    """`/leave help` answers at once with examples."""
    text = (await bot.command("help")).json()["text"]
    assert "/leave who" in text and "/leave tomorrow" in text


async def test_home_tab_shows_my_leave(bot: Bot) -> None:
    """Opening the App Home publishes the user's own requests with their status."""
    await submitted_request(bot)
    await bot.slack.wait_for("views.publish", count=3)  # the submission refreshed Alice's, Bob's and Carol's
    bot.slack.reset()
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "home", "event_ts": "1.0"}
    response = await bot.post(sr.event_callback(event, event_id="Ev0HOME"), json_body=True)
    assert response.status_code == 200
    [published] = await bot.slack.wait_for("views.publish")
    assert published.args["user_id"] == ALICE
    assert "waiting for approval" in json.dumps(published.args["view"])


async def test_digest_is_posted_once_per_channel_per_day(bot: Bot) -> None:
    """The digest lists today's approved leave and a second run the same day posts nothing."""
    today = date.today()
    preview = await bot.command(today.isoformat())
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="s")
    cards = await bot.slack.wait_for("chat.postMessage", count=2)
    await bot.click(ids.APPROVE, button_value(cards[0].args["blocks"], ids.APPROVE), user=BOB)
    await bot.slack.wait_for("chat.update", count=2)
    first = await post_digest(bot.service.deps, channels=["C0DIGEST", "C0OTHER"], day=today)
    second = await post_digest(bot.service.deps, channels=["C0DIGEST"], day=today)
    assert first == {"C0DIGEST": True, "C0OTHER": True} and second == {"C0DIGEST": False}
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
    assert len(posts) == 1 and f"<@{ALICE}>" in json.dumps(posts[0].args["blocks"])


async def test_failed_digest_post_is_retried_not_lost(bot: Bot) -> None:
    """A digest whose post failed gives its claim back, so the next run posts it."""
    bot.slack.error_next("chat.postMessage", "internal_error")
    today = date.today()
    try:
        await post_digest(bot.service.deps, channels=["C0DIGEST"], day=today)
    except Exception as exc:  # the Slack error surfaces to the caller (the job loop logs it)
        assert "internal_error" in str(exc)
    else:
        raise AssertionError("the failed post should have raised")
    assert await post_digest(bot.service.deps, channels=["C0DIGEST"], day=today) == {"C0DIGEST": True}


async def test_healthz(bot: Bot) -> None:
    """GET /healthz answers 200 while the database is reachable."""
    response = await bot.http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True, "last_sync": None}


async def test_refused_credentials_tell_the_user_and_the_operator(bot: Bot, caplog: Any) -> None:
    """When the provider refuses the bot's credentials, the approver is told plainly and the log names the settings."""
    request_id = await submitted_request(bot)
    bot.provider.failures["approve"] = [ProviderAuthError("refused", provider="local")]
    await bot.click(ids.APPROVE, str(request_id), user=BOB, hook="auth")
    [told] = await bot.slack.wait_for("hooks/auth")
    assert "can't sign in" in told.args["text"]
    assert "LOCAL_*" in caplog.text
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == Status.PENDING  # the next click can still decide


async def test_cards_reach_approvers_despite_a_slack_rate_limit(bot: Bot) -> None:
    """A 429 with Retry-After from Slack on an approval card is waited out and retried."""
    bot.slack.fail_next(status=429, retry_after=0, path="chat.postMessage")
    await submitted_request(bot)
    await eventually(lambda: [len(bot.slack.messages_in(f"D{user}")) for user in (BOB, CAROL)] == [1, 1])


async def test_edit_opens_the_modal_prefilled_and_cancel_removes_the_preview(bot: Bot) -> None:
    """Edit opens the request modal with the typed values; Cancel deletes the preview."""
    blocks = (await bot.command(f"{DAY.isoformat()} am for a haircut")).json()["blocks"]
    await bot.click(ids.EDIT, button_value(blocks, ids.EDIT), user=ALICE, hook="edit")
    [opened] = await bot.slack.wait_for("views.open")
    view = json.dumps(opened.args["view"])
    assert DAY.isoformat() in view and "a haircut" in view and "To lunchtime" in view
    await bot.click(ids.DISCARD, button_value(blocks, ids.DISCARD), user=ALICE, hook="cancel")
    hooks = await bot.slack.wait_for("hooks/cancel")
    assert hooks[0].args["delete_original"] is True
    assert bot.provider.calls["submit"] == 0


async def test_background_tick_posts_the_digest_when_due(bot: Bot) -> None:
    """The serve loop's tick posts the digest at DIGEST_TIME on a weekday, once."""
    monday = date(2026, 11, 23)
    draft = Draft(start_date=monday, end_date=monday)
    person = await bot.service.deps.provider.find_person("alice@example.com")
    submitted = await bot.service.requests.submit(draft=draft, key="tick-test", person=person)
    await bot.service.deps.provider.approve(submitted.request.booking_id or "")
    before = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
    await tick(bot.service, bot.settings, before)
    assert bot.slack.messages_in("C0DIGEST") == []
    for minute in (0, 1):
        await tick(bot.service, bot.settings, before.replace(hour=9, minute=minute))
    [digest] = bot.slack.messages_in("C0DIGEST")
    assert "alice" in json.dumps(digest["blocks"])


async def test_text_containing_payload_is_still_a_command(bot: Bot) -> None:
    """`/leave … payload …` is answered like any request (slack_bolt alone would answer 404)."""
    response = await bot.command(f"{DAY.isoformat()} for the payload team offsite")
    assert response.status_code == 200
    assert "payload team offsite" in response.json()["blocks"][0]["text"]["text"]


async def test_typed_leave_type_is_recognised_and_booked(bot: Bot) -> None:
    """A leave type named in the text shows in the preview and is the type booked."""
    preview = (await bot.command(f"sick {DAY.isoformat()}")).json()
    assert "*Type:* Sick" in preview["blocks"][0]["text"]["text"]
    await bot.click(ids.SUBMIT, preview_value(preview), user=ALICE, hook="sick")
    await bot.slack.wait_for("hooks/sick")
    [absence] = await bot.provider.absences(DAY, DAY)
    assert absence.leave_type is not None and absence.leave_type.lower().startswith("sick")


async def test_escaped_command_text_is_read_as_typed(bot: Bot) -> None:
    """Slack escapes &, < and > in command text: the draft holds what was typed, the preview escapes it again."""
    response = (await bot.command(f"{DAY.isoformat()} for R&amp;R &lt;3")).json()
    assert "*Reason:* R&amp;R &lt;3" in response["blocks"][0]["text"]["text"]
    assert json.loads(preview_value(response))["draft"]["reason"] == "R&R <3"


async def test_a_start_in_the_past_is_named_in_the_preview_and_still_books(bot: Bot) -> None:
    """`/leave <past day> to <later day>`: the preview says which days are past and how to ask from today; Submit books."""
    today = await bot.service.deps.today_for(ALICE)
    first, last = today - timedelta(days=3), today + timedelta(days=3)
    preview = await bot.command(f"{first.isoformat()} to {last.isoformat()} sick")
    blocks = preview.json()["blocks"]
    warning = blocks[1]["elements"][0]["text"]
    yesterday = today - timedelta(days=1)
    assert f"{first:%a %-d %b} – {yesterday:%a %-d %b} are in the past" in warning
    assert f"`/leave today to {last:%-d %b}`" in warning
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="submit")
    await eventually(lambda: bot.provider.calls["submit"] == 1)
    await bot.drain()  # counted as the call begins: its booking is stored once the Submit's work is over
    [absence] = await bot.provider.absences(first, last)
    assert absence.status == Status.PENDING


async def test_a_future_request_has_no_past_warning(bot: Bot) -> None:
    """Only a past start gets the warning (and only a day off work the no-working-day one)."""
    workday = DAY + timedelta(days=max(0, 7 - DAY.weekday()) if DAY.weekday() >= 5 else 0)
    preview = await bot.command(f"{workday.isoformat()} pm for the dentist")
    assert [b["type"] for b in preview.json()["blocks"]] == ["section", "actions"]


async def test_named_holidays_are_the_digest_countrys(bot: Bot) -> None:
    """DIGEST_COUNTRY decides whose holiday a name is: `memorial day` is a US day, unknown without it."""
    refused = await bot.command("memorial day 2031")
    assert "memorial day is a holiday in" in refused.json()["text"].lower()  # named as the calendars write it
    bot.settings.digest_country = "US"  # as DIGEST_COUNTRY=US in the environment
    preview = await bot.command("memorial day 2031")
    assert "Mon 26 May" in preview.json()["blocks"][0]["text"]["text"]
