"""Calendar feeds over real HTTP: parsed with icalendar and checked field by field against the mirror."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import time_machine
from conftest import ALICE as ALICE_ID
from conftest import BOB as BOB_ID
from conftest import served_on_loopback

from bot.ical_route import FeedRoute
from bot.server import create_server
from bot.services.feeds import FeedPolicy
from bot.services.wiring import Services
from bot.store import Store, upgrade
from bot.store.tables import SlackUser
from bot.views import ids
from providers.local import LocalProvider
from providers.models import Absence, Person, Status

DAY = date.today() + timedelta(days=10)
ALICE = Person(id="alice@example.com", name="Alice Archer", email="alice@example.com", department="Eng")
BOB = Person(id="bob@example.com", name="Bob Boss", email="bob@example.com", department="Eng")
DAN = Person(id="dan@example.com", name="Dan Dee", email="dan@example.com", department="Sales")


@asynccontextmanager
async def serving(store: Store, policy: FeedPolicy) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The server with the feed route under ``policy``, over the given store, on 127.0.0.1."""
    services = Services(
        provider=LocalProvider(LocalProvider.Config(), engine=store.engine),
        store=store,
        slack=None,
        feeds=policy,
    )
    asgi = create_server(None, store, feeds=FeedRoute(services.feeds).get)  # type: ignore[arg-type]
    async with served_on_loopback(asgi) as http:
        yield http, services


@pytest.fixture
async def served(store: Store) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The server with the feed route, over the given store, on 127.0.0.1."""
    async with serving(store, FeedPolicy(public_url="https://leave.example.com")) as served:
        yield served


def absence(booking: str, person: Person, status: Status, **span: object) -> Absence:
    """A booking of the HR system, as a sync pass lists it."""
    fields = {"start_date": DAY, "end_date": DAY, **span}
    return Absence(id=booking, person=person, status=status, leave_type="Annual leave", **fields)  # type: ignore[arg-type]


async def mirror(store: Store, *absences: Absence) -> None:
    """Put the bookings into the mirror as a full pass would."""
    await store.reconcile(
        provider="local",
        start=date.today() - timedelta(days=60),
        end=date.today() + timedelta(days=365),
        listed=list(absences),
        seen=datetime.now(UTC),
        full=True,
    )


async def fetch(http: httpx.AsyncClient, url: str) -> tuple[httpx.Response, list[icalendar.Event]]:
    """GET a feed by its public URL and parse it."""
    response = await http.get(url.removeprefix("https://leave.example.com"))
    assert response.status_code == 200, response.text
    calendar = icalendar.Calendar.from_ical(response.content)
    return response, list(calendar.walk("VEVENT"))


async def test_own_feed_shows_approved_and_pending_leave_as_in_the_mirror(served, store: Store) -> None:  # type: ignore[no-untyped-def]
    """Approved whole days are all-day events with exclusive DTEND; pending is TENTATIVE; an afternoon is timed in the person's zone."""
    http, services = served
    await store.save_slack_user(
        user=SlackUser(
            slack_user_id="U0A", email=ALICE.email, name="Alice", tz="Europe/Berlin", person_id=ALICE.id
        )
    )
    await mirror(
        store,
        absence("1", ALICE, Status.APPROVED, end_date=DAY + timedelta(days=2)),
        absence(
            "2",
            ALICE,
            Status.PENDING,
            start_date=DAY + timedelta(days=5),
            end_date=DAY + timedelta(days=5),
            start="PM",
        ),
        absence("3", ALICE, Status.DECLINED),
        absence("4", BOB, Status.APPROVED),
    )
    feed = await store.feed_of(slack_user_id="U0A", kind="mine")
    _, events = await fetch(http, services.feeds.url(feed))
    by_uid = {str(e["UID"]): e for e in events}
    assert set(by_uid) == {"booking-1@local.leavebot", "booking-2@local.leavebot"}
    whole = by_uid["booking-1@local.leavebot"]
    assert whole.decoded("DTSTART") == DAY and whole.decoded("DTEND") == DAY + timedelta(days=3)
    assert whole["DTSTART"].params.get("VALUE") == "DATE" and str(whole["STATUS"]) == "CONFIRMED"
    half = by_uid["booking-2@local.leavebot"]
    assert str(half["STATUS"]) == "TENTATIVE"
    start = half.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Berlin" and start.hour == 13
    assert half["DTSTART"].params["TZID"] == "Europe/Berlin"


async def test_team_feeds_show_approved_only_hide_private_types_and_reasons(served, store: Store) -> None:  # type: ignore[no-untyped-def]
    """The department feed has its department's approved leave; a sick day is "Out of office"; the company feed has everyone's."""
    http, services = served
    sick = absence("5", BOB, Status.APPROVED).model_copy(update={"leave_type": "Sick leave"})
    await mirror(
        store,
        absence("1", ALICE, Status.APPROVED),
        absence("2", ALICE, Status.PENDING),
        absence("3", ALICE, Status.DECLINED),
        absence("4", BOB, Status.CANCELLED),
        sick,
        absence("6", DAN, Status.APPROVED),
    )
    department = await store.feed_of(slack_user_id="U0A", kind="department", department="Eng")
    _, events = await fetch(http, services.feeds.url(department))
    assert sorted(str(e["SUMMARY"]) for e in events) == [
        "Alice Archer · Annual leave",
        "Bob Boss · Out of office",
    ]
    company = await store.feed_of(slack_user_id="U0A", kind="company")
    response, events = await fetch(http, services.feeds.url(company))
    assert len(events) == 3 and b"Sick" not in response.content and b"DESCRIPTION" not in response.content


async def test_etag_gives_304_and_a_rotated_secret_gets_the_404_of_any_unknown_path(
    served, store: Store
) -> None:  # type: ignore[no-untyped-def]
    """A client holding the feed gets 304; after rotation the old link answers exactly like a path that never existed."""
    http, services = served
    await mirror(store, absence("1", ALICE, Status.APPROVED))
    feed = await store.feed_of(slack_user_id="U0A", kind="company")
    url = services.feeds.url(feed).removeprefix("https://leave.example.com")
    first = await http.get(url)
    assert first.headers["cache-control"].startswith("private, max-age=")
    again = await http.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert await store.rotate_feed(slack_user_id="U0A", kind="company")
    old, nowhere = await http.get(url), await http.get("/no/such/path")
    assert old.status_code == nowhere.status_code == 404
    assert old.content == nowhere.content and old.headers["content-type"] == nowhere.headers["content-type"]
    fresh = await store.feed_of(slack_user_id="U0A", kind="company")
    assert (
        await http.get(services.feeds.url(fresh).removeprefix("https://leave.example.com"))
    ).status_code == 200


async def test_home_without_a_public_url_says_feeds_need_it(bot) -> None:  # type: ignore[no-untyped-def]
    """With LEAVEBOT_PUBLIC_URL unset the App Home names the setting instead of showing broken links."""
    from test_home import open_home

    view = await open_home(bot, "U0ALICE")
    text = str(view)
    assert "LEAVEBOT_PUBLIC_URL" in text and "/ical/" not in text


async def test_home_links_open_their_feeds_and_a_new_link_retires_the_old(served, store: Store) -> None:  # type: ignore[no-untyped-def]
    """The Home's links work; after New link the Home shows another link and the old one is 404."""
    http, services = served
    await store.save_slack_user(
        user=SlackUser(slack_user_id="U0A", email=ALICE.email, name="Alice", person_id=ALICE.id)
    )
    await mirror(store, absence("1", ALICE, Status.APPROVED))
    links = await services.feeds.links("U0A")
    assert links is not None and set(links) == {"mine", "department", "company"}
    for url in links.values():
        await fetch(http, url)
    await services.feeds.rotate("U0A", "mine")
    after = await services.feeds.links("U0A")
    assert after is not None and after["mine"] != links["mine"] and after["company"] == links["company"]
    gone = await http.get(links["mine"].removeprefix("https://leave.example.com"))
    assert gone.status_code == 404


def test_a_public_url_that_is_not_https_is_one_line_naming_the_variable() -> None:
    """LEAVEBOT_PUBLIC_URL must be https (http only on 127.0.0.1 / localhost); the error names it."""
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, leavebot_public_url="http://leave.example.com")
    assert str(caught.value).startswith("LEAVEBOT_PUBLIC_URL: must be an https:// URL")
    assert (
        load_settings(_env_file=None, leavebot_public_url="https://x.example/").leavebot_public_url
        == "https://x.example"
    )


async def test_with_approvers_only_a_non_approver_has_no_team_feed(store: Store) -> None:
    """ICAL_TEAM_FEEDS=approvers: someone never asked to approve gets their own feed only, and an old team link is 404."""
    services = Services(
        provider=LocalProvider(LocalProvider.Config(), engine=store.engine),
        store=store,
        slack=None,
        feeds=FeedPolicy(public_url="https://leave.example.com", team_feeds="approvers"),
    )
    assert set(await services.feeds.links("U0A") or {}) == {"mine"}
    old = await store.feed_of(slack_user_id="U0A", kind="company")
    assert await services.feeds.render(old.secret) is None


async def test_an_unchanged_feed_keeps_its_bytes_and_an_edit_replaces_the_event_with_a_higher_sequence(
    served, store: Store
) -> None:  # type: ignore[no-untyped-def]
    """Two GETs with no change between them (a sync pass or not) give the same ETag and bytes; moving the
    booking keeps its UID, raises SEQUENCE and DTSTAMP / LAST-MODIFIED; a cancelled booking drops out."""
    http, services = served
    await mirror(store, absence("1", ALICE, Status.APPROVED), absence("2", BOB, Status.APPROVED))
    url = services.feeds.url(await store.feed_of(slack_user_id="U0A", kind="company"))
    first, [event, other] = await fetch(http, url)
    assert (int(event["SEQUENCE"]), int(other["SEQUENCE"])) == (0, 0)
    assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED")
    await mirror(store, absence("1", ALICE, Status.APPROVED), absence("2", BOB, Status.APPROVED))
    second, _ = await fetch(http, url)
    assert second.headers["etag"] == first.headers["etag"] and second.content == first.content

    moved = absence(
        "1", ALICE, Status.APPROVED, start_date=DAY + timedelta(days=1), end_date=DAY + timedelta(days=2)
    )
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10), tick=True):  # DTSTAMP is in seconds
        await mirror(store, moved, absence("2", BOB, Status.APPROVED))
        third, events = await fetch(http, url)
    assert third.headers["etag"] != first.headers["etag"]
    by_uid = {str(e["UID"]): e for e in events}
    edited, untouched = by_uid[str(event["UID"])], by_uid[str(other["UID"])]
    assert edited.decoded("DTSTART") == DAY + timedelta(days=1) and int(edited["SEQUENCE"]) == 1
    assert edited.decoded("DTSTAMP") > event.decoded("DTSTAMP")
    assert edited.decoded("LAST-MODIFIED") == edited.decoded("DTSTAMP")
    assert untouched.to_ical() == other.to_ical()  # the other booking's revision is its own
    again, _ = await fetch(http, url)
    assert again.headers["etag"] == third.headers["etag"]

    await mirror(
        store, moved.model_copy(update={"status": Status.CANCELLED}), absence("2", BOB, Status.APPROVED)
    )
    _, events = await fetch(http, url)
    assert [str(e["UID"]) for e in events] == [str(other["UID"])]


@pytest.mark.bot(public_url="https://leave.example.com")
async def test_a_request_keeps_its_uid_through_a_change_of_dates_and_drops_out_when_cancelled(bot) -> None:  # type: ignore[no-untyped-def]
    """Alice's own feed shows her pending afternoon; changing its dates (a new request replacing it) keeps
    the UID with SEQUENCE 1; the company feed never shows it pending nor the reason; cancelled, it is gone."""
    from helpers.cards import approval_cards, button_value, submitted_request
    from test_change import NEW_END, NEW_START, submit_change
    from test_home import click_in_home

    old_id = await submitted_request(bot)
    feeds = bot.service.feeds
    mine = feeds.url(await bot.service.deps.store.feed_of(slack_user_id=ALICE_ID, kind="mine"))
    company = feeds.url(await bot.service.deps.store.feed_of(slack_user_id=ALICE_ID, kind="company"))
    _, [before] = await fetch(bot.http, mine)
    assert str(before["UID"]) == f"request-{old_id}@local.leavebot" and int(before["SEQUENCE"]) == 0
    assert str(before["STATUS"]) == "TENTATIVE" and before.decoded("DTSTART").hour == 13
    assert (await fetch(bot.http, company))[1] == []

    await submit_change(bot, old_id)
    response, [after] = await fetch(bot.http, mine)
    assert str(after["UID"]) == str(before["UID"]) and int(after["SEQUENCE"]) == 1
    assert (after.decoded("DTSTART"), after.decoded("DTEND")) == (NEW_START, NEW_END + timedelta(days=1))
    assert after.decoded("DTSTAMP") >= before.decoded("DTSTAMP")  # strictly later: the test above
    assert b"dentist" not in response.content

    new_id = int(button_value(approval_cards(bot)[-1].args["blocks"], ids.APPROVE))
    await bot.click(ids.APPROVE, str(new_id), user=BOB_ID, hook="approve")
    await bot.drain()
    _, [approved] = await fetch(bot.http, mine)
    assert str(approved["STATUS"]) == "CONFIRMED" and int(approved["SEQUENCE"]) == 2
    response, [shown] = await fetch(bot.http, company)
    assert str(shown["UID"]) == str(before["UID"]) and str(shown["SUMMARY"]).startswith("Alice Archer · ")
    assert b"dentist" not in response.content and b"DESCRIPTION" not in response.content

    await click_in_home(bot, ids.HOME_CANCEL, str(new_id), user=ALICE_ID)
    await bot.drain()
    assert (await fetch(bot.http, mine))[1] == [] and (await fetch(bot.http, company))[1] == []


async def test_hours_and_half_days_are_timed_in_each_persons_zone_from_the_workday_settings(
    store: Store,
) -> None:
    """With WORKDAY_START 08:30, _SPLIT 12:15, _END 16:45: an hourly leave (540..720) is 09:00-12:00, a
    morning is 08:30-12:15, an afternoon 12:15-16:45, each in its person's zone with that zone's VTIMEZONE."""
    from bot.config import load_settings

    settings = load_settings(
        _env_file=None,
        leavebot_public_url="https://leave.example.com",
        workday_start="08:30",
        workday_split="12:15",
        workday_end="16:45",
    )
    for slack_id, person, zone in (("U0A", ALICE, "Europe/Berlin"), ("U0D", DAN, "America/New_York")):
        await store.save_slack_user(
            user=SlackUser(
                slack_user_id=slack_id, email=person.email, name=person.name, tz=zone, person_id=person.id
            )
        )
    later = DAY + timedelta(days=3)
    await mirror(
        store,
        absence("1", ALICE, Status.APPROVED, start=540, end=720),
        absence("2", ALICE, Status.APPROVED, start_date=later, end_date=later, end="AM"),
        absence("3", DAN, Status.APPROVED, start="PM"),
        absence(
            "4",
            DAN,
            Status.APPROVED,
            start_date=later,
            end_date=later + timedelta(days=1),
            start="PM",
            end="AM",
        ),
    )
    async with serving(store, FeedPolicy.from_settings(settings)) as (http, services):
        url = services.feeds.url(await store.feed_of(slack_user_id="U0A", kind="company"))
        response, events = await fetch(http, url)
    calendar = icalendar.Calendar.from_ical(response.content)
    offsets = {  # what each VTIMEZONE itself says its zone's offsets are
        str(tz["TZID"]): {p.decoded("TZOFFSETTO") for p in tz.walk() if p.name in ("STANDARD", "DAYLIGHT")}
        for tz in calendar.walk("VTIMEZONE")
    }
    assert sorted(offsets) == ["America/New_York", "Europe/Berlin"]
    expected = {
        "booking-1@local.leavebot": (
            "Europe/Berlin",
            datetime.combine(DAY, time(9)),
            datetime.combine(DAY, time(12)),
        ),
        "booking-2@local.leavebot": (
            "Europe/Berlin",
            datetime.combine(later, time(8, 30)),
            datetime.combine(later, time(12, 15)),
        ),
        "booking-3@local.leavebot": (
            "America/New_York",
            datetime.combine(DAY, time(12, 15)),
            datetime.combine(DAY, time(16, 45)),
        ),
        "booking-4@local.leavebot": (
            "America/New_York",
            datetime.combine(later, time(12, 15)),
            datetime.combine(later + timedelta(days=1), time(12, 15)),
        ),
    }
    assert {str(e["UID"]) for e in events} == set(expected)
    for event in events:
        zone, start, end = expected[str(event["UID"])]
        for name, wall in (("DTSTART", start), ("DTEND", end)):
            assert event[name].params["TZID"] == zone
            assert event.decoded(name) == wall.replace(tzinfo=ZoneInfo(zone))
            assert ZoneInfo(zone).utcoffset(wall) in offsets[zone]
        person = ALICE if "Berlin" in zone else DAN
        assert (
            str(event["SUMMARY"]) == f"{person.name} · Annual leave" and str(event["STATUS"]) == "CONFIRMED"
        )


def home_links(view: dict[str, object]) -> dict[str, str]:
    """The feed links a published Home shows, by their title."""
    found = re.findall(r"\*([^*]+):\* `(https://leave\.example\.com/ical/[^`]+\.ics)`", json.dumps(view))
    return dict(found)


@pytest.mark.bot(public_url="https://leave.example.com")
async def test_new_link_clicked_in_the_home_retires_the_old_secret_and_republishes_the_home(bot) -> None:  # type: ignore[no-untyped-def]
    """A signed block_actions click on "New link" of the own feed: the old URL gets the 404 of any unknown
    path, the Home is published again with a new URL that works, and the other feeds' links stay."""
    from test_home import click_in_home, open_home

    links = home_links(await open_home(bot, ALICE_ID))
    assert set(links) == {"Your leave", "Everyone"}  # no department known for Alice: no department feed
    for url in links.values():
        await fetch(bot.http, url)
    before = len(bot.slack.calls_to("views.publish"))
    await click_in_home(bot, ids.FEED_ROTATE, "mine", user=ALICE_ID)
    calls = await bot.slack.wait_for("views.publish", count=before + 1)
    [republished] = [c.args["view"] for c in calls[before:] if c.args["user_id"] == ALICE_ID][-1:]
    after = home_links(republished)
    assert after["Everyone"] == links["Everyone"] and after["Your leave"] != links["Your leave"]
    assert "the old one no longer works" in json.dumps(republished)
    old = await bot.http.get(links["Your leave"].removeprefix("https://leave.example.com"))
    nowhere = await bot.http.get("/ical/" + "x" * 43 + ".ics")
    assert old.status_code == nowhere.status_code == 404
    assert (old.content, old.headers["content-type"]) == (nowhere.content, nowhere.headers["content-type"])
    assert "etag" not in old.headers and "cache-control" not in old.headers
    await fetch(bot.http, after["Your leave"])


@pytest.mark.bot(public_url="https://leave.example.com", team_feeds="approvers")
async def test_with_approvers_only_the_home_offers_team_feeds_to_approvers_and_a_kept_link_stops_working(
    bot,
) -> None:  # type: ignore[no-untyped-def]
    """ICAL_TEAM_FEEDS=approvers: Alice's Home has her own feed only, and a company link she kept from
    before is 404; Bob, once asked to approve, has the company feed, which shows approved leave only."""
    from helpers.cards import submitted_request
    from test_home import open_home

    kept = await bot.service.deps.store.feed_of(slack_user_id=ALICE_ID, kind="company")
    await submitted_request(bot)
    assert set(home_links(await open_home(bot, ALICE_ID))) == {"Your leave"}
    gone = await bot.http.get(bot.service.feeds.url(kept).removeprefix("https://leave.example.com"))
    assert gone.status_code == 404
    bobs = home_links(await open_home(bot, BOB_ID))
    assert set(bobs) == {"Your leave", "Everyone"}
    response, events = await fetch(bot.http, bobs["Everyone"])
    assert events == [] and b"dentist" not in response.content  # Alice's leave is still pending


async def test_two_instances_serving_the_same_change_raise_the_sequence_once(database_url: str) -> None:
    """Two stores on one database revising at once: a new event is 0 for both, a changed one 1 for both."""
    from bot.store import create_engine

    engines = [create_engine(database_url) for _ in range(2)]
    await upgrade(engines[0])
    first, second = (Store(engine) for engine in engines)
    try:
        seen = await asyncio.gather(*(s.revise_events(fingerprints={"e@x": "a"}) for s in (first, second)))
        assert [revision["e@x"][0] for revision in seen] == [0, 0] and seen[0] == seen[1]
        changed = await asyncio.gather(*(s.revise_events(fingerprints={"e@x": "b"}) for s in (first, second)))
        assert [revision["e@x"][0] for revision in changed] == [1, 1]
        assert (await first.revise_events(fingerprints={"e@x": "b"})) == changed[0]
    finally:
        for engine in engines:
            await engine.dispose()
