"""The daily digest: its content and size (pure builders), and end to end over real HTTP.

End-to-end tests run whole app instances (engine, service, Bolt app under uvicorn) against the fake
Slack and a fake remote HR system (latency, rate limit, paged listings, departments, holidays),
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import fake_slack_settings, served_on_loopback
from fakes.hr import FakeHR, FakeHRProvider, company
from fakes.slack import FakeSlack
from slack_sdk.errors import SlackApiError
from sqlalchemy import insert

from bot.app import create_app, slack_client
from bot.config import ConfigError, Settings, load_settings
from bot.jobs import tick
from bot.listeners import ListenerDeps
from bot.server import create_server
from bot.services.calendar import Calendar, DigestPlan
from bot.services.digest import post_digest
from bot.services.wiring import Services
from bot.store import Store, create_engine, upgrade
from bot.store.tables import SlackUser, now
from bot.views.whos_off import BLOCK_LIMIT, MESSAGE_CHARS, build_digest, message_chars
from providers.models import Absence, Person, PublicHoliday, Status

MONDAY = date(2026, 11, 23)
TUESDAY = MONDAY + timedelta(days=1)
AT_NINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday, DIGEST_TIME in UTC
WEEKDAYS = frozenset(range(5))
MENTION = re.compile(r"<@(U[0-9A-Z]+)>")


def absence(
    name: str,
    start: date,
    end: date | None = None,
    *,
    start_part: Any = "AM",
    end_part: Any = "PM",
    department: str | None = None,
    leave_type: str = "Annual leave",
    status: Status = Status.APPROVED,
) -> Absence:
    """An absence of someone called ``name``."""
    key = name.lower().replace(" ", ".")
    person = Person(id=key, name=name, email=f"{key}@example.com", department=department)
    return Absence(
        id=f"{key}-{start}",
        person=person,
        start_date=start,
        end_date=end or start,
        start=start_part,
        end=end_part,
        status=status,
        leave_type=leave_type,
    )


def names(person: Person) -> str:
    """Name people by their name, as the digest does when Slack does not know them."""
    return person.name


def texts(blocks: list[dict[str, Any]]) -> str:
    """All the text of some blocks, one block a line."""
    found = []
    for block in blocks:
        for part in [block.get("text"), *block.get("elements", [])]:
            if isinstance(part, dict):
                found.append(part.get("text", ""))
    return "\n".join(found)


def assert_within_slack_limits(pages: list[list[dict[str, Any]]]) -> None:
    """At most 50 blocks and 3,000 characters per section in each message, and the message budget."""
    for blocks in pages:
        assert 0 < len(blocks) <= BLOCK_LIMIT
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        assert all(len(b["text"]["text"]) <= 150 for b in blocks if b["type"] == "header")
        assert message_chars(blocks) <= MESSAGE_CHARS


# -- the builders ---------------------------------------------------------------------------------


def test_digest_says_who_is_off_how_much_of_the_day_and_when_they_are_back() -> None:
    """Each person off shows leave type, part of the day and return date; a morning off is back after lunch."""
    calendar = Calendar(days=WEEKDAYS)
    today = [
        absence("Alice Archer", MONDAY, TUESDAY + timedelta(days=1)),
        absence("Bob Boss", TUESDAY, start_part="PM", end_part="PM", leave_type="Sick leave"),
        absence("Carol Chief", TUESDAY, start_part="AM", end_part="AM"),
        absence("Dan Dev", TUESDAY, start_part=540, end_part=720, leave_type="Training"),
        absence("Eve Ops", MONDAY - timedelta(days=4), TUESDAY + timedelta(days=3)),
    ]
    [message] = build_digest(today, [], TUESDAY, name=names, next_workday=calendar.next_workday)
    text = texts(message.blocks)
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Who's off today, Tue 24 Nov", "emoji": True},
    }
    assert "• Alice Archer: Annual leave, all day, back Thu 26 Nov" in text
    assert "• Bob Boss: Sick leave, afternoon, back Wed 25 Nov" in text
    assert "• Carol Chief: Annual leave, morning, back after lunch" in text
    assert "• Dan Dev: Training, 09:00–12:00" in text and "Dan Dev: Training, 09:00–12:00, back" not in text
    assert "• Eve Ops: Annual leave, all day, back Mon 30 Nov" in text  # the weekend is skipped
    assert message.text == "Who's off today, Tue 24 Nov: 5 people off"


def test_return_date_skips_public_holidays() -> None:
    """Someone whose leave ends the day before a public holiday is back the working day after it."""
    holiday = PublicHoliday(day=date(2026, 12, 25), name="Christmas Day", country="GB")
    boxing = PublicHoliday(day=date(2026, 12, 28), name="Boxing Day (substitute)", country="GB")
    calendar = Calendar(days=WEEKDAYS, closed={holiday.day: [holiday], boxing.day: [boxing]})
    day = date(2026, 12, 24)
    [message] = build_digest(
        [absence("Alice Archer", day)], [], day, name=names, next_workday=calendar.next_workday
    )
    assert "back Tue 29 Dec" in texts(message.blocks)


def test_the_working_week_follows_digest_days() -> None:
    """The "Later this week" span ends with the working week: Friday for Mon–Fri, Thursday for Sun–Thu."""
    sunday = MONDAY - timedelta(days=1)
    assert Calendar(days=WEEKDAYS).week_end(TUESDAY) == MONDAY + timedelta(days=4)
    assert Calendar(days=WEEKDAYS).week_end(MONDAY + timedelta(days=4)) == MONDAY + timedelta(days=4)
    assert Calendar(days=frozenset({6, 0, 1, 2, 3})).week_end(sunday) == MONDAY + timedelta(days=3)


def test_digest_groups_people_by_department_when_the_provider_has_them() -> None:
    """Departments become titled groups, alphabetical, with people lacking one last."""
    today = [
        absence("Zed Zane", TUESDAY, department="Sales"),
        absence("Alice Archer", TUESDAY, department="Engineering"),
        absence("Nora Nobody", TUESDAY),
        absence("Bob Boss", TUESDAY, department="Engineering"),
    ]
    [message] = build_digest(today, [], TUESDAY, name=names, next_workday=Calendar(WEEKDAYS).next_workday)
    text = texts(message.blocks)
    assert text.index("*Engineering (2)*") < text.index("*Sales (1)*") < text.index("*No department (1)*")
    assert text.index("Alice Archer") < text.index("Bob Boss") < text.index("Zed Zane")


def test_later_this_week_lists_people_by_day_after_a_divider() -> None:
    """A short "Later this week" names who is off on each coming day, with the part of the day."""
    later = [
        (
            TUESDAY + timedelta(days=1),
            [absence("Alice Archer", TUESDAY + timedelta(days=1), start_part="PM")],
        ),
        (
            TUESDAY + timedelta(days=3),
            [absence(f"Person {n:02d}", TUESDAY + timedelta(days=3)) for n in range(15)],
        ),
    ]
    [message] = build_digest(
        [absence("Bob Boss", TUESDAY)],
        later,
        TUESDAY,
        name=names,
        next_workday=Calendar(WEEKDAYS).next_workday,
    )
    assert {"type": "divider"} in message.blocks
    text = texts(message.blocks)
    assert "*Later this week*" in text
    assert "*Wed 25 Nov:* Alice Archer (afternoon)" in text
    assert "*Fri 27 Nov:* Person 00" in text and "and 3 more" in text
    assert "1 person off · 16 more later this week" in text


def test_nobody_off_is_one_friendly_line() -> None:
    """With nobody off the digest is a heading and one friendly line."""
    [message] = build_digest([], [], TUESDAY, name=names, next_workday=Calendar(WEEKDAYS).next_workday)
    assert texts(message.blocks) == "Who's off today, Tue 24 Nov\nEveryone's in. 🎉"


def test_a_list_too_long_for_full_lines_is_condensed_into_one_message() -> None:
    """225 people: counts per department up top, one short line each (no leave type), still one message."""
    today = [absence(f"Person {n:03d}", TUESDAY, department=f"Dept {n % 3}") for n in range(225)]
    [message] = build_digest(today, [], TUESDAY, name=names, next_workday=Calendar(WEEKDAYS).next_workday)
    text = texts(message.blocks)
    assert "*By department:* Dept 0: 75 · Dept 1: 75 · Dept 2: 75" in text
    assert "• Person 000: all day, back Wed 25 Nov" in text and "Annual leave" not in text
    assert_within_slack_limits([message.blocks])


def test_ten_thousand_people_fit_slack_limits_in_a_thread() -> None:
    """800 of 10,000 off: every message within Slack's limits, each person once, the rest in the thread."""
    departments = [f"Department {n:02d}" for n in range(12)]
    today = [
        absence(
            f"Person {n:05d} With A Rather Long Name",
            TUESDAY,
            TUESDAY + timedelta(days=n % 9),
            department=departments[n % 12],
        )
        for n in range(800)
    ]
    later = [
        (
            TUESDAY + timedelta(days=d),
            [absence(f"Later {d}{n}", TUESDAY + timedelta(days=d)) for n in range(300)],
        )
        for d in (1, 2, 3)
    ]
    messages = build_digest(today, later, TUESDAY, name=names, next_workday=Calendar(WEEKDAYS).next_workday)
    assert len(messages) > 1
    assert_within_slack_limits([m.blocks for m in messages])
    everything = "\n".join(texts(m.blocks) for m in messages)
    assert all(everything.count(f"Person {n:05d} ") == 1 for n in range(800))
    first = texts(messages[0].blocks)
    assert "*By department:* Department 00: 67" in first and "*Later this week:* Wed 25 Nov: 300" in first
    assert "continues in the thread" in first
    assert all(f"continued ({n}/{len(messages)})" in texts(m.blocks) for n, m in enumerate(messages[1:], 2))


# -- settings -------------------------------------------------------------------------------------


def test_digest_settings_name_days_country_and_department_channels() -> None:
    """DIGEST_DAYS takes day names and ranges; DIGEST_CHANNEL maps departments to channels; DIGEST_COUNTRY is checked."""
    settings = Settings(
        _env_file=None,
        digest_days="Sun-Thu",
        digest_country="gb-eng",
        digest_channel="C0ALL, Engineering=C0ENG, Support=C0ENG",
    )
    assert settings.digest_days == frozenset({6, 0, 1, 2, 3})
    assert settings.digest_country == "GB-ENG"
    assert dict(settings.digest_routes) == {"C0ALL": None, "C0ENG": frozenset({"Engineering", "Support"})}
    assert settings.digest_channels == ["C0ALL", "C0ENG"]
    for bad, words in [
        ({"digest_days": "Mon-Fro"}, "DIGEST_DAYS: 'fro' is not a day"),
        ({"digest_country": "XX"}, "DIGEST_COUNTRY: unknown country"),
        ({"digest_country": "GB-XYZ"}, "DIGEST_COUNTRY: unknown region of GB"),
    ]:
        with pytest.raises(ConfigError, match=words):
            load_settings(_env_file=None, **bad)


# -- end to end -----------------------------------------------------------------------------------


@dataclass
class Instance:
    """One running leavebot: its service, settings and HTTP address."""

    service: Services
    settings: Settings
    http: httpx.AsyncClient

    @property
    def provider(self) -> FakeHRProvider:
        """The fake HR provider."""
        assert isinstance(self.service.deps.provider, FakeHRProvider)
        return self.service.deps.provider


@asynccontextmanager
async def instance(
    database_url: str, slack: FakeSlack, hr: FakeHR, *, paced: bool = True, **settings: Any
) -> AsyncIterator[Instance]:
    """A whole leavebot instance (its own engine, provider client and server) on the shared database."""
    config = fake_slack_settings(slack, database_url, **({"digest_channel": "C0DIGEST"} | settings))
    engine = create_engine(config.database_url)
    await upgrade(engine)
    provider = FakeHRProvider(
        FakeHRProvider.Config(base_url=hr.url, paced=paced), http=httpx.AsyncClient(timeout=10)
    )
    client = slack_client(config)
    service = Services(provider=provider, store=Store(engine), slack=client, zone=config.zone)
    app = create_app(ListenerDeps(services=service, settings=config), slack=client)
    try:
        async with served_on_loopback(create_server(app, service.deps.store)) as http:
            yield Instance(service=service, settings=config, http=http)
    finally:
        await provider.aclose()
        await engine.dispose()


@pytest.fixture
def slack() -> Any:
    """A fake Slack with nobody in it (the digest needs no Slack user lookups)."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def hr() -> Any:
    """The fake remote HR system, with its real rate limit and no latency."""
    with FakeHR() as fake:
        yield fake


def top_level(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Messages posted in a channel itself (not in a thread)."""
    return [m for m in slack.messages_in(channel) if m["thread_ts"] is None]


async def remember_in_slack(store: Store, people: list[tuple[str, str]]) -> None:
    """Put people in the store's Slack user cache, as if each had used the bot."""
    rows = [
        {
            "slack_user_id": f"U{n:08d}",
            "email": email,
            "name": email,
            "person_id": person_id,
            "updated_at": now(),
        }
        for n, (person_id, email) in enumerate(people)
    ]
    async with store.engine.begin() as connection:
        await connection.execute(insert(SlackUser), rows)


async def test_two_instances_sharing_a_database_post_once_per_channel(
    database_url: str, slack: FakeSlack, hr: FakeHR
) -> None:
    """Two instances ticking at once, again and again, post one digest per channel; mentions come from the store."""
    alice = hr.add_person("Alice Archer", "alice@example.com", "Engineering")
    hr.add_absence(alice, TUESDAY)
    channels = {"digest_channel": "C0ONE,C0TWO"}
    async with (
        instance(database_url, slack, hr, **channels) as one,
        instance(database_url, slack, hr, **channels) as two,
    ):
        await remember_in_slack(one.service.deps.store, [(alice, "alice@example.com")])
        for _ in range(3):
            await asyncio.gather(*(tick(i.service, i.settings, AT_NINE) for i in (one, two, one, two)))
        assert (
            (await one.http.get("/healthz")).status_code
            == (await two.http.get("/healthz")).status_code
            == 200
        )
        absence_calls = one.provider.calls["/absences"] + two.provider.calls["/absences"]
    for channel in ("C0ONE", "C0TWO"):
        [digest] = top_level(slack, channel)
        assert "<@U00000000>: Annual leave, all day, back Wed 25 Nov" in texts(digest["blocks"])
    assert absence_calls <= 2  # one listing of the week per instance that won a claim, whatever its channels
    assert slack.calls_to("users.lookupByEmail") == slack.calls_to("users.info") == []


async def test_big_company_digest_is_threaded_within_slack_limits(
    database_url: str, slack: FakeSlack, hr: FakeHR
) -> None:
    """10,000 people, 800 off today: one post plus thread replies, all within Slack's limits, in few provider calls."""
    people = company(hr, people=10_000, absences=800, day=TUESDAY)
    async with instance(database_url, slack, hr) as bot:
        await remember_in_slack(bot.service.deps.store, people[:9_000])
        assert await post_digest(
            bot.service.deps, day=TUESDAY, plan=DigestPlan.from_settings(bot.settings)
        ) == {"C0DIGEST": True}
        calls = sum(bot.provider.calls.values())
    [top] = top_level(slack, "C0DIGEST")
    replies = [m for m in slack.messages_in("C0DIGEST") if m["thread_ts"] == top["ts"]]
    assert replies and len(slack.messages_in("C0DIGEST")) == 1 + len(replies)
    assert_within_slack_limits([m["blocks"] for m in [top, *replies]])
    off_today = [
        a
        for a in hr.absences.values()
        if a["status"] == "approved" and a["start"] <= str(TUESDAY) <= a["end"]
    ]
    lines = [
        line for m in [top, *replies] for line in texts(m["blocks"]).splitlines() if line.startswith("• ")
    ]
    assert len(lines) == len(off_today)
    assert f"{len(off_today)} people off" in texts(top["blocks"]) and "*By department:*" in texts(
        top["blocks"]
    )
    # public holidays, the leave types (this instance never listed them: which are private?), then 1,200
    # absences (any status) in pages of 100
    assert calls == 1 + 1 + 1 + 11
    assert len(MENTION.findall(" ".join(lines))) > 0.8 * len(
        lines
    )  # from the store's cache, no Slack call each
    assert slack.calls_to("users.lookupByEmail") == []


async def test_no_digest_on_a_public_holiday_of_the_provider_nor_outside_digest_days(
    database_url: str, slack: FakeSlack, hr: FakeHR
) -> None:
    """The provider's public holiday and a day outside DIGEST_DAYS have no digest; the holiday is asked once."""
    alice = hr.add_person("Alice Archer", "alice@example.com")
    hr.add_absence(alice, MONDAY, MONDAY + timedelta(days=7))
    hr.add_holiday(TUESDAY, "Founders' Day")
    hr.add_holiday(TUESDAY + timedelta(days=1), "Independence Day", country="XX")
    async with instance(database_url, slack, hr, digest_days="Mon-Wed,Fri", digest_country="GB") as bot:
        for minute in range(3):
            await tick(bot.service, bot.settings, AT_NINE + timedelta(minutes=minute))
        assert bot.provider.calls["/public-holidays"] == 1 and bot.provider.calls["/absences"] == 0
        await tick(bot.service, bot.settings, AT_NINE + timedelta(days=2))  # Thursday: not a digest day
        assert slack.messages_in("C0DIGEST") == []
        await tick(
            bot.service, bot.settings, AT_NINE + timedelta(days=1)
        )  # Wednesday: a holiday elsewhere only
    [digest] = top_level(slack, "C0DIGEST")
    assert "Public holiday: Independence Day (XX)" in texts(digest["blocks"])


async def test_country_holidays_close_the_digest_when_the_provider_has_none(bot: Any) -> None:
    """With the local provider, DIGEST_COUNTRY's holidays (the holidays package) decide: no digest on Christmas Day."""
    plan = DigestPlan(routes={"C0DIGEST": None}, country="GB")
    christmas = date(2026, 12, 25)
    assert await post_digest(bot.service.deps, day=christmas, plan=plan) == {"C0DIGEST": True}
    assert await post_digest(bot.service.deps, day=christmas + timedelta(days=-1), plan=plan) == {
        "C0DIGEST": True
    }
    [posted] = bot.slack.messages_in("C0DIGEST")
    assert "Thu 24 Dec" in posted["text"]


async def test_skip_empty_posts_nothing_when_nobody_is_off(
    database_url: str, slack: FakeSlack, hr: FakeHR
) -> None:
    """DIGEST_SKIP_EMPTY: no post when nobody is off, and no second look the same day; without it, one friendly line."""
    async with instance(database_url, slack, hr, digest_channel="C0QUIET,C0CHATTY") as bot:
        plan = DigestPlan(routes={"C0QUIET": None}, skip_empty=True)
        assert await post_digest(bot.service.deps, day=TUESDAY, plan=plan) == {"C0QUIET": True}
        assert await post_digest(bot.service.deps, day=TUESDAY, plan=plan) == {"C0QUIET": False}
        await post_digest(bot.service.deps, day=TUESDAY, plan=DigestPlan(routes={"C0CHATTY": None}))
        assert bot.provider.calls["/absences"] == 2
    assert slack.messages_in("C0QUIET") == []
    [chatty] = slack.messages_in("C0CHATTY")
    assert "Everyone's in" in texts(chatty["blocks"])


async def test_department_channels_show_only_their_departments(
    database_url: str, slack: FakeSlack, hr: FakeHR
) -> None:
    """DIGEST_CHANNEL=C0ALL,Engineering=C0ENG: everyone in C0ALL, Engineering alone in C0ENG, from one provider call."""
    for name, department in [("Alice Archer", "Engineering"), ("Sam Sales", "Sales")]:
        hr.add_absence(hr.add_person(name, f"{name.split()[0].lower()}@example.com", department), TUESDAY)
    async with instance(database_url, slack, hr, digest_channel="C0ALL,Engineering=C0ENG") as bot:
        await tick(bot.service, bot.settings, AT_NINE)
        assert bot.provider.calls["/absences"] == 1
    [everyone] = slack.messages_in("C0ALL")
    [engineering] = slack.messages_in("C0ENG")
    assert "Alice Archer" in texts(everyone["blocks"]) and "Sam Sales" in texts(everyone["blocks"])
    assert "Alice Archer" in texts(engineering["blocks"]) and "Sam Sales" not in texts(engineering["blocks"])


async def test_pending_declined_and_cancelled_leave_is_never_shown(
    database_url: str, slack: FakeSlack, hr: FakeHR
) -> None:
    """Only approved absences make someone 'off'."""
    for status in ("approved", "pending", "declined", "cancelled"):
        hr.add_absence(
            hr.add_person(f"{status.title()} Person", f"{status}@example.com"), TUESDAY, status=status
        )
    async with instance(database_url, slack, hr) as bot:
        await tick(bot.service, bot.settings, AT_NINE)
    [digest] = slack.messages_in("C0DIGEST")
    assert "Approved Person" in texts(digest["blocks"])
    assert not any(word in texts(digest["blocks"]) for word in ("Pending", "Declined", "Cancelled"))


async def test_a_thread_that_fails_half_way_is_withdrawn_and_posted_whole_once(
    database_url: str, slack: FakeSlack, hr: FakeHR, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed thread reply deletes what was posted and gives the claim back; the next tick posts it all, once."""
    company(hr, people=1_000, absences=300, day=TUESDAY)
    hr.rate_limit = None  # not the point here
    async with instance(database_url, slack, hr, paced=False) as bot:
        assert bot.service.deps.slack is not None
        post = bot.service.deps.slack.chat_postMessage
        failed: list[bool] = []

        async def flaky(**kwargs: Any) -> Any:
            if kwargs.get("thread_ts") and not failed:
                failed.append(True)
                slack.error_next("chat.postMessage", "internal_error")
            return await post(**kwargs)

        monkeypatch.setattr(bot.service.deps.slack, "chat_postMessage", flaky)
        with pytest.raises(SlackApiError, match="internal_error"):  # the job loop logs it and ticks again
            await tick(bot.service, bot.settings, AT_NINE)
        assert failed and slack.messages_in("C0DIGEST") == []
        assert len(slack.calls_to("chat.delete")) == 1
        await tick(bot.service, bot.settings, AT_NINE + timedelta(seconds=30))
    [top] = top_level(slack, "C0DIGEST")
    assert len(slack.messages_in("C0DIGEST")) > 1 and "continues in the thread" in texts(top["blocks"])
