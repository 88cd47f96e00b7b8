"""`/leave who`: today, tomorrow, a weekday, next week day by day, and someone's upcoming leave."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import ALICE, BOB, Bot

from bot.errors import UserError
from bot.services.who import MAX_WHO_DAYS, read_who, who_heading
from providers.models import Draft

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        pytest.param("", WEDNESDAY, WEDNESDAY, id="nothing-is-today"),
        pytest.param("today", WEDNESDAY, WEDNESDAY, id="today"),
        pytest.param("tomorrow", date(2026, 11, 26), date(2026, 11, 26), id="tomorrow"),
        pytest.param("friday", date(2026, 11, 27), date(2026, 11, 27), id="weekday"),
        pytest.param("mon", date(2026, 11, 30), date(2026, 11, 30), id="next-monday"),
        pytest.param("2026-12-24", date(2026, 12, 24), date(2026, 12, 24), id="iso-date"),
        pytest.param("next week", date(2026, 11, 30), date(2026, 12, 4), id="next-week"),
        pytest.param("this week", WEDNESDAY, date(2026, 11, 27), id="rest-of-this-week"),
        pytest.param("is off?", WEDNESDAY, WEDNESDAY, id="question-today"),
        pytest.param("is off on friday?", date(2026, 11, 27), date(2026, 11, 27), id="question-weekday"),
        pytest.param("are out next week", date(2026, 11, 30), date(2026, 12, 4), id="question-out"),
        pytest.param("'s on holiday tomorrow", date(2026, 11, 26), date(2026, 11, 26), id="question-holiday"),
        pytest.param("off for 2026-12-24", date(2026, 12, 24), date(2026, 12, 24), id="question-off-for"),
    ],
)
def test_who_reads_days_and_spans(words: str, start: date, end: date) -> None:
    """The words after `/leave who` become the days asked about (the parser's, or a week)."""
    query = read_who(words, today=WEDNESDAY)
    assert (query.start, query.end, query.slack_user_id) == (start, end, None)


@pytest.mark.parametrize("mention", ["<@U0ALICE>", "<@U0ALICE|alice>"])
def test_who_reads_a_mention_in_either_form(mention: str) -> None:
    """`/leave who @alice` arrives as <@U…|name> (escaped command) or <@U…>; both name the user."""
    query = read_who(mention, today=WEDNESDAY)
    assert query.slack_user_id == ALICE and query.start == WEDNESDAY and query.end > WEDNESDAY


@pytest.mark.parametrize(
    ("words", "message"),
    [
        pytest.param("@alice", "from Slack's @ list", id="unresolved-name"),
        pytest.param("whenever", "/leave who next week", id="gibberish"),
        pytest.param(
            f"2026-11-25 to {date(2026, 11, 25) + timedelta(days=MAX_WHO_DAYS)}", "shorter", id="too-long"
        ),
    ],
)
def test_who_explains_what_it_cannot_answer(words: str, message: str) -> None:
    """A plain @name, words that are no date and too long a span are explained, with examples."""
    with pytest.raises(UserError, match=message):
        read_who(words, today=WEDNESDAY)


def test_headings_say_today_tomorrow_a_day_or_a_span() -> None:
    """Headings read naturally."""
    assert who_heading(WEDNESDAY, WEDNESDAY, WEDNESDAY) == "Who's off today, Wed 25 Nov"
    assert who_heading(date(2026, 11, 26), date(2026, 11, 26), WEDNESDAY) == "Who's off tomorrow, Thu 26 Nov"
    assert who_heading(date(2026, 11, 27), date(2026, 11, 27), WEDNESDAY) == "Who's off on Fri 27 Nov"
    assert who_heading(date(2026, 11, 30), date(2026, 12, 6), WEDNESDAY) == "Who's off Mon 30 Nov – Sun 6 Dec"


async def approved_leave(bot: Bot, start: date, end: date | None = None, *, user: str = ALICE) -> None:
    """Book and approve leave for a Slack user (the store then knows them)."""
    draft = Draft(start_date=start, end_date=end or start)
    submitted = await bot.service.requests.submit(draft=draft, key=f"who-{user}-{start}", slack_user_id=user)
    await bot.provider.approve(submitted.request.booking_id or "")


async def ask(bot: Bot, words: str, hook: str) -> list[Any]:
    """Type `/leave who <words>` and return the private answers."""
    response = await bot.command(f"who {words}".strip(), hook=hook)
    assert response.status_code == 200
    answers = await bot.slack.wait_for(f"hooks/{hook}")
    assert all(a.args["response_type"] == "ephemeral" for a in answers)
    return answers


def this_friday(today: date) -> date:
    """The Friday a bare "friday" means: the next one after today (on a Friday, next week's, as Duckling reads it)."""
    return today + timedelta(days=(4 - today.weekday()) % 7 or 7)


async def test_who_answers_for_today_tomorrow_friday_and_next_week(bot: Bot) -> None:
    """Each variant answers privately with the approved leave of the days asked, day by day for next week."""
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    await approved_leave(bot, today)
    await approved_leave(bot, this_friday(today), user=BOB)
    await approved_leave(bot, monday + timedelta(days=2), monday + timedelta(days=3), user=BOB)
    [now] = await ask(bot, "", "today")
    assert f"<@{ALICE}>: Annual leave, all day" in json.dumps(now.args["blocks"]).replace("Leave", "leave")
    [friday] = await ask(bot, "friday", "friday")
    assert f"<@{BOB}>" in json.dumps(friday.args["blocks"])
    [tomorrow] = await ask(bot, "tomorrow", "tomorrow")
    assert "Who's off tomorrow" in tomorrow.args["text"]
    [week] = await ask(bot, "next week", "week")
    days = [b["text"]["text"].split("\n")[0] for b in week.args["blocks"] if b["type"] == "section"]
    assert len(days) == 5 and days[0].startswith(f"*{monday:%a} {monday.day} {monday:%b} (0)*")
    wednesday = next(b["text"]["text"] for b in week.args["blocks"] if "(1)" in b["text"].get("text", ""))
    assert f"<@{BOB}>: Annual leave, all day" in wednesday.replace("Leave", "leave")


@pytest.mark.parametrize(
    "question", ["who's off tomorrow?", "Who’s out tomorrow", "whos off tomorrow", "who is off tomorrow?"]
)
async def test_who_answers_a_question_as_it_is_asked(bot: Bot, question: str) -> None:
    """`/leave who's off tomorrow?` is `/leave who tomorrow`, not a leave request for tomorrow."""
    await approved_leave(bot, date.today() + timedelta(days=1), user=BOB)
    response = await bot.command(question, hook="question")
    assert response.status_code == 200 and not response.content  # acked empty: no preview of a request
    [answer] = await bot.slack.wait_for("hooks/question")
    assert "Who's off tomorrow" in answer.args["text"] and f"<@{BOB}>" in json.dumps(answer.args["blocks"])


async def test_who_someone_lists_their_upcoming_leave(bot: Bot) -> None:
    """`/leave who @alice` lists Alice's approved leave to come, not pending or past."""
    start = date.today() + timedelta(days=10)
    await approved_leave(bot, start, start + timedelta(days=2))
    pending = Draft(start_date=start + timedelta(days=20), end_date=start + timedelta(days=20))
    await bot.service.requests.submit(draft=pending, key="who-pending", slack_user_id=ALICE)
    [answer] = await ask(bot, f"&lt;@{ALICE}|alice&gt;", "someone")
    text = json.dumps(answer.args["blocks"], ensure_ascii=False)
    assert f"Upcoming leave of <@{ALICE}>" in text
    assert f"{start:%a} {start.day} {start:%b} – " in text and text.count("• ") == 1


async def test_who_explains_words_it_does_not_understand(bot: Bot) -> None:
    """Unknown words are answered privately with examples that work."""
    [answer] = await ask(bot, "whenever", "what")
    assert "/leave who next week" in answer.args["text"]
