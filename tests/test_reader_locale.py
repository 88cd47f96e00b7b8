"""Dates as the person reads them: numeric dates in their Slack locale (read once, remembered), years outside this
one, and a preview that says when a request is wholly past or takes no working day.

End to end over real HTTP (signed slash commands and clicks into the served app, the fake Slack), on the local
provider; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from conftest import ALICE, Bot
from helpers.cards import approval_cards, preview_value
from test_e2e import eventually

from bot.services.wiring import Services
from bot.views import ids
from providers.models import LeaveSpan, Status

DAN = "U0DAN"  # in New York, Slack set to en-US


def add_dan(bot: Bot) -> None:
    """Dan joins the workspace: en-US, in New York."""
    bot.slack.add_user(
        DAN, email="dan@example.com", name="dan", real_name="Dan Doe", tz="America/New_York", locale="en-US"
    )


def next_date(month: int, day: int, today: date) -> date:
    """The next ``month``/``day`` not before ``today``, as the parser reads a date without a year."""
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def said(call: Any) -> str:
    """Everything a message says, its blocks included."""
    return json.dumps([call.args.get("text"), call.args.get("blocks")], ensure_ascii=False)


def locale_reads(bot: Bot, user: str) -> list[Any]:
    """The users.info calls for ``user`` that asked for the locale."""
    return [
        c
        for c in bot.slack.calls_to("users.info")
        if c.args.get("user") == user and str(c.args.get("include_locale")) in ("1", "true", "True")
    ]


async def test_an_en_us_typists_numeric_dates_are_month_first_and_their_locale_read_once(bot: Bot) -> None:
    """Dan (en-US) types `/leave 7/4 to 7/8`: July 4–8, not 7 April–7 August; his locale is read from Slack
    once, the preview (after the ack) writes his dates month first, and his next request is answered in the ack."""
    add_dan(bot)
    today = await bot.service.deps.today_for(DAN)
    answer = await bot.command("7/4 to 7/8", user=DAN, hook="first")
    assert answer.status_code == 200 and answer.content in (b"", b"{}")  # the locale is not known yet
    [preview] = await bot.slack.wait_for("hooks/first")
    start, end = next_date(7, 4, today), next_date(7, 8, today)
    expected = LeaveSpan(start_date=start, end_date=end).describe(month_first=True, this_year=today.year)
    assert expected in said(preview)
    assert "Jul 4" in expected and (start.year == today.year or f"{start.year}" in expected)
    assert len(locale_reads(bot, DAN)) == 1

    again = await bot.command("7/4", user=DAN, hook="again")
    body = again.json()  # remembered: the preview is in the ack itself
    assert LeaveSpan(start_date=start, end_date=start).describe(month_first=True) in json.dumps(body)
    assert len(locale_reads(bot, DAN)) == 1
    stored = await bot.service.deps.store.slack_user(slack_user_id=DAN)
    assert stored is not None and stored.locale == "en-US"


async def test_an_en_gb_typists_numeric_dates_are_day_first(bot: Bot) -> None:
    """Alice (en-GB) types `/leave 7/4`: 7 April, written day first."""
    today = await bot.service.deps.today_for(ALICE)
    await bot.command("7/4", hook="gb")
    [preview] = await bot.slack.wait_for("hooks/gb")
    april = next_date(4, 7, today)
    assert LeaveSpan(start_date=april, end_date=april).describe(this_year=today.year) in said(preview)


async def test_a_typed_request_without_numeric_dates_never_waits_for_the_locale(bot: Bot) -> None:
    """`/leave tomorrow` from someone whose locale was never read is previewed in the ack: the order can't matter."""
    add_dan(bot)
    answer = await bot.command("tomorrow", user=DAN)
    assert ids.SUBMIT in json.dumps(answer.json())
    assert locale_reads(bot, DAN) == []


async def test_a_remembered_locale_is_known_to_a_new_instance_before_any_ack(bot: Bot) -> None:
    """The locale is stored with the Slack user: an instance started later knows it with no Slack call."""
    add_dan(bot)
    await bot.command("7/4", user=DAN, hook="first")
    await bot.slack.wait_for("hooks/first")
    other = Services(provider=bot.provider, store=bot.service.deps.store, slack=None)
    await other.warm_up()
    assert other.deps.people.remembered_locale(DAN) == "en-US"


async def test_a_submit_learns_the_locale_with_the_person(bot: Bot) -> None:
    """Matching a Slack user to the HR system reads their locale in the same users.info call."""
    add_dan(bot)
    preview = await bot.command("tomorrow", user=DAN)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=DAN, hook="sent")
    await bot.slack.wait_for("hooks/sent")
    assert bot.service.deps.people.remembered_locale(DAN) == "en-US"
    assert len(locale_reads(bot, DAN)) == 1


async def test_dates_of_another_year_show_it_in_the_preview_the_card_and_the_dm(bot: Bot) -> None:
    """A request next year says its year in the preview, on the approvers' cards and in Alice's DM."""
    today = await bot.service.deps.today_for(ALICE)
    day = date(today.year + 1, 3, 3)
    when = LeaveSpan(start_date=day, end_date=day).describe()
    assert str(day.year) in when
    preview = await bot.command(day.isoformat())
    assert when in json.dumps(preview.json(), ensure_ascii=False)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="sent")
    [sent] = await bot.slack.wait_for("hooks/sent")
    assert when in sent.args["text"]
    await eventually(lambda: len(approval_cards(bot)) == 2)
    assert all(when in said(card) for card in approval_cards(bot))


async def test_this_years_dates_show_no_year(bot: Bot) -> None:
    """A date in the current year is written without it."""
    today = await bot.service.deps.today_for(ALICE)
    assert str(today.year) not in LeaveSpan(start_date=today, end_date=today).describe()


async def test_sick_leave_wholly_past_is_said_so_and_still_recorded(bot: Bot) -> None:
    """`/leave <last week> sick`: the preview says the whole request is past; Submit records it as sick leave."""
    today = await bot.service.deps.today_for(ALICE)
    first, last = today - timedelta(days=9), today - timedelta(days=8)
    preview = await bot.command(f"{first.isoformat()} to {last.isoformat()} sick")
    notes = [b["elements"][0]["text"] for b in preview.json()["blocks"] if b["type"] == "context"]
    assert any("the whole request is" in n and "Submit records it anyway" in n for n in notes)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="sent")
    await bot.slack.wait_for("hooks/sent")
    [absence] = await bot.provider.absences(first, last)
    assert absence.status == Status.PENDING and absence.leave_type == "Sick Leave"


async def test_a_request_with_no_working_day_is_said_so_and_can_still_be_recorded(bot: Bot) -> None:
    """`/leave <a saturday>`: the preview says it takes no working day; Submit still records it."""
    today = await bot.service.deps.today_for(ALICE)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    preview = await bot.command(saturday.isoformat())
    notes = [b["elements"][0]["text"] for b in preview.json()["blocks"] if b["type"] == "context"]
    assert any("takes no working day" in n for n in notes)
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="sent")
    await bot.slack.wait_for("hooks/sent")
    assert [a.start_date for a in await bot.provider.absences(saturday, saturday)] == [saturday]


async def test_a_working_day_has_no_such_warning(bot: Bot) -> None:
    """A weekday that is no holiday gets no no-working-day line."""
    today = await bot.service.deps.today_for(ALICE)
    monday = today + timedelta(days=(0 - today.weekday()) % 7 or 7)
    preview = await bot.command(f"{monday.isoformat()} to {(monday + timedelta(days=4)).isoformat()}")
    assert "takes no working day" not in json.dumps(preview.json())


async def test_an_en_us_requester_is_told_in_month_first_dates(bot: Bot) -> None:
    """Dan's confirmation and the DM with Bob's decision write his dates as he does: 'Sun Jul 4, 2027'."""
    add_dan(bot)
    today = await bot.service.deps.today_for(DAN)
    await bot.command("7/4", user=DAN, hook="first")
    [preview] = await bot.slack.wait_for("hooks/first")
    start = next_date(7, 4, today)
    when = LeaveSpan(start_date=start, end_date=start).describe(month_first=True)
    value = next(
        e["value"]
        for b in preview.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.SUBMIT
    )
    await bot.click(ids.SUBMIT, value, user=DAN, hook="sent")
    [sent] = await bot.slack.wait_for("hooks/sent")
    assert when in sent.args["text"]
    await eventually(lambda: len(approval_cards(bot)) == 2)
    request_id = int(approval_cards(bot)[-1].args["blocks"][-1]["elements"][0]["value"])
    await bot.click(ids.APPROVE, str(request_id), user="U0BOB", hook="bob")
    await eventually(
        lambda: any(
            c.args.get("channel") == DAN and "was approved" in c.args.get("text", "")
            for c in bot.slack.calls_to("chat.postMessage")
        )
    )
    [dm] = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == DAN]
    assert when in dm.args["text"]
