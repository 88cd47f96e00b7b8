"""Everyone sees their own time: a requester in Tokyo, an approver in New York, a company on UTC."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from conftest import ALICE, BOB, CAROL, USERS, Bot
from helpers.cards import preview_value

from bot.views import ids
from bot.views.requests import times_elsewhere
from providers.models import LeaveSpan

TOKYO, NEW_YORK = "Asia/Tokyo", "America/New_York"
# A Tuesday evening in UTC (the company's zone) is already Wednesday morning in Tokyo.
EVENING = datetime(2027, 1, 12, 20, 0, tzinfo=UTC)


def live_in(bot: Bot, zones: dict[str, str]) -> None:
    """Put Slack users in time zones, as their Slack profiles say."""
    for user, zone in zones.items():
        email, name = USERS[user]
        bot.slack.add_user(user, email=email, name=name.split()[0].lower(), real_name=name, tz=zone)


async def test_tomorrow_is_the_typists_own_tomorrow(bot: Bot) -> None:
    """At 20:00 UTC on Tuesday, Alice in Tokyo (Wednesday 05:00) asking for 'tomorrow' means Thursday."""
    live_in(bot, {ALICE: TOKYO})
    await bot.service.deps.people.person_for(ALICE)  # she has used leavebot before: her zone is known
    with time_machine.travel(EVENING):
        preview = await bot.command("tomorrow")
    assert "Thu 14 Jan" in json.dumps(preview.json()["blocks"])


async def test_an_unknown_zone_falls_back_to_the_company_one(bot: Bot) -> None:
    """Someone leavebot has never seen gets the company's 'tomorrow' (no Slack call before the ack)."""
    live_in(bot, {ALICE: TOKYO})
    with time_machine.travel(EVENING):
        preview = await bot.command("tomorrow")
    assert "Wed 13 Jan" in json.dumps(preview.json()["blocks"])
    assert bot.slack.calls_to("users.info") == []


async def test_an_hourly_request_shows_each_approver_their_own_time(bot: Bot) -> None:
    """Alice in Tokyo asks for 09:00–12:00; Bob in New York reads 19:00–22:00 the evening before, Carol
    (in Tokyo too) reads no conversion."""
    live_in(bot, {ALICE: TOKYO, BOB: NEW_YORK, CAROL: TOKYO})
    day = date.today() + timedelta(days=30)
    preview = await bot.command(f"{day.isoformat()} 9am to 12pm")
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="submit")
    cards = {
        c.args["channel"]: json.dumps(c.args["blocks"], ensure_ascii=False)
        for c in await bot.slack.wait_for("chat.postMessage", 2)
    }
    evening_before = day - timedelta(days=1)
    assert (
        f"09:00–12:00 in Asia/Tokyo is {evening_before:%a} 19:00–22:00 your time (America/New_York)"
        in cards[BOB]
    )
    assert "your time" not in cards[CAROL]


def test_times_elsewhere_follows_daylight_saving() -> None:
    """London's 09:00 is 04:00 in New York in January, but 05:00 in the weeks between the two clock changes."""
    london, new_york = ZoneInfo("Europe/London"), ZoneInfo(NEW_YORK)
    winter = LeaveSpan(start_date=date(2027, 1, 12), end_date=date(2027, 1, 12), start=540, end=600)
    march = LeaveSpan(start_date=date(2027, 3, 22), end_date=date(2027, 3, 22), start=540, end=600)
    assert times_elsewhere(winter, london, new_york) == (
        "🕘 09:00–10:00 in Europe/London is 04:00–05:00 your time (America/New_York)"
    )
    # Between the two countries' clock changes the gap is four hours, not five.
    assert "05:00–06:00" in (times_elsewhere(march, london, new_york) or "")
    assert times_elsewhere(winter, london, london) is None
    whole_day = LeaveSpan(start_date=date(2027, 1, 12), end_date=date(2027, 1, 12))
    assert times_elsewhere(whole_day, london, new_york) is None
