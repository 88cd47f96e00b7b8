"""While you're away: connecting one's Slack status (OAuth v2, a signed single-use state), the tokens kept
encrypted, and the status job setting status and DND at the start of leave and restoring them at its end,
in each person's zone, once across two instances."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import slack_requests as sr
import time_machine
from conftest import (
    ALICE,
    APPROVERS,
    BOB,
    CAROL,
    MALLORY,
    USERS,
    Bot,
    SpyProvider,
    fake_slack_settings,
    served_on_loopback,
)
from cryptography.fernet import Fernet
from fakes.slack import CLIENT_ID, CLIENT_SECRET, FakeSlack
from pydantic import SecretStr

from bot.app import create_app, slack_client
from bot.listeners import ListenerDeps
from bot.oauth import OAuthRedirect
from bot.server import create_server
from bot.services.calendar import DigestPlan
from bot.services.connect import USER_SCOPES, AwayConfig
from bot.services.wiring import Services
from bot.store import Store, create_engine, upgrade
from bot.store.away_tables import AwayPeriod
from bot.views import ids
from providers.local import LocalProvider
from providers.models import Absence, BookingEvent, Decision, Draft, Person, Status

KEY = Fernet.generate_key().decode()
PUBLIC = "https://leavebot.example.com"
LONDON, TOKYO = "Europe/London", "Asia/Tokyo"
MONDAY, TUESDAY = date(2027, 1, 4), date(2027, 1, 5)
MONDAY_START_LONDON = datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC)  # just after 09:00 on Monday in London
PLAN = DigestPlan(routes={}, country="GB")  # the local provider knows no public holidays: England's


def away_config(**changes: Any) -> AwayConfig:
    """The settings the tests run with."""
    return AwayConfig(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, public_url=PUBLIC, secret_key=KEY, **changes
    )


@pytest.fixture
async def bot(database_url: str, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    """leavebot as `serve` runs it with statuses set up, and SLACK_CLIENT_ID / _SECRET in the environment
    (where Bolt, left to itself, would turn into a multi-workspace app)."""
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    slack.redirect_uri = PUBLIC + "/slack/oauth_redirect"
    settings = fake_slack_settings(slack, database_url)
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    provider = SpyProvider(LocalProvider.Config(approvers=APPROVERS), engine=engine)
    client = slack_client(settings)
    service = Services(
        provider=provider,
        store=Store(engine),
        slack=client,
        zone=settings.zone,
        away=away_config(),
        plan=PLAN,
    )
    listeners = ListenerDeps(services=service, settings=settings)
    app = create_app(listeners, slack=client)
    assert app.oauth_flow is None and app.installation_store is None
    server = create_server(
        app, service.deps.store, stopping=listeners.stop, oauth_redirect=OAuthRedirect(service).answer
    )
    async with served_on_loopback(server) as http:
        yield Bot(
            http=http, slack=slack, service=service, provider=provider, settings=settings, listeners=listeners
        )
    await engine.dispose()


@pytest.fixture
async def second(bot: Bot) -> AsyncIterator[Services]:
    """A second instance's services on the same database (its own engine and connections)."""
    engine = create_engine(bot.settings.database_url)
    provider = LocalProvider(LocalProvider.Config(approvers=APPROVERS), engine=engine)
    yield Services(
        provider=provider,
        store=Store(engine),
        slack=slack_client(bot.settings),
        zone=bot.settings.zone,
        away=away_config(),
        plan=PLAN,
    )
    await engine.dispose()


def live_in(slack: FakeSlack, zones: dict[str, str]) -> None:
    """Put Slack users in time zones, as their Slack profiles say."""
    for user, zone in zones.items():
        email, name = USERS[user]
        slack.add_user(user, email=email, name=name.split()[0].lower(), real_name=name, tz=zone)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds, for work done after the ack."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


async def click_in_home(bot: Bot, action_id: str, value: str, *, user: str) -> None:
    """Press a button in the Home tab: no response_url, the container is the view."""
    payload = sr.block_action(user_id=user, action_id=action_id, value=value, container_type="view")
    del payload["message"], payload["channel"]
    payload["view"] = {"id": "VHOME", "type": "home", "blocks": []}
    assert (await bot.post(sr.interactive(payload))).status_code == 200


def home_buttons(bot: Bot, user: str) -> dict[str, dict[str, Any]]:
    """The buttons of someone's Home as last published, by action id."""
    found = {}
    for block in bot.slack.home.get(user, {}).get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


async def consent_link(bot: Bot, user: str) -> str:
    """Press "Show my leave in my Slack status"; the consent link the Home then offers."""
    before = home_buttons(bot, user).get(ids.HOME_AWAY_LINK, {}).get("url")
    await click_in_home(bot, ids.HOME_AWAY_CONNECT, "connect", user=user)
    await eventually(
        lambda: home_buttons(bot, user).get(ids.HOME_AWAY_LINK, {}).get("url") not in (None, before)
    )
    return str(home_buttons(bot, user)[ids.HOME_AWAY_LINK]["url"])


def state_of(link: str) -> str:
    """The state in a consent link."""
    return parse_qs(urlsplit(link).query)["state"][0]


async def come_back(bot: Bot, **params: str) -> httpx.Response:
    """Slack sends the browser back to leavebot."""
    return await bot.http.get("/slack/oauth_redirect", params=params)


async def connect(bot: Bot, user: str) -> None:
    """``user`` connects their status: the button, Slack's consent page (Allow), the way back."""
    link = await consent_link(bot, user)
    answer = await come_back(bot, code=bot.slack.consent(user), state=state_of(link))
    assert answer.status_code == 200, answer.text
    await eventually(lambda: ids.HOME_AWAY_DISCONNECT in home_buttons(bot, user))


def calls_of(slack: FakeSlack, method: str, user: str) -> list[Any]:
    """Calls to ``method`` made with ``user``'s user token."""
    return [c for c in slack.calls_to(method) if slack.user_tokens.get(c.token or "", ("",))[0] == user]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def about(moment: datetime) -> Callable[[float | None], bool]:
    """Within the minute after ``moment``: a snooze is asked for in whole minutes."""
    return lambda end: end is not None and epoch(moment) <= end < epoch(moment) + 60


# -- Bolt stays a one-workspace app ---------------------------------------------------------------


async def test_client_credentials_in_the_environment_leave_the_bot_token_app_as_it_was(bot: Bot) -> None:
    """With SLACK_CLIENT_ID and _SECRET set, /leave answers as before on the bot token, Bolt serves no
    /slack/install, and the variables are back in the environment once the app is built."""
    import os

    assert os.environ["SLACK_CLIENT_ID"] == CLIENT_ID
    await bot.service.requests.leave_types()  # known types: the preview is in the ack itself
    answer = await bot.command("tomorrow pm")
    assert answer.status_code == 200 and "Submit" in json.dumps(answer.json())
    assert (await bot.http.get("/slack/install")).status_code == 404
    assert {c.token for c in bot.slack.calls if c.token} <= {"xoxb-test"}


# -- connecting -----------------------------------------------------------------------------------


async def test_connecting_asks_slack_for_user_scopes_and_keeps_the_token_encrypted(bot: Bot) -> None:
    """The consent link asks for the three user scopes (no bot scope) with our redirect URL; after Allow
    the token is stored encrypted, the Home offers Disconnect."""
    link = await consent_link(bot, ALICE)
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).netloc == "slack.com" and query["client_id"] == [CLIENT_ID]
    assert set(query["user_scope"][0].split(",")) == set(USER_SCOPES) and query.get("scope", [""]) == [""]
    assert query["redirect_uri"] == [PUBLIC + "/slack/oauth_redirect"]
    answer = await come_back(bot, code=bot.slack.consent(ALICE), state=state_of(link))
    assert answer.status_code == 200 and "will now follow your approved leave" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    row = await bot.service.deps.store.user_token(slack_user_id=ALICE)
    assert row is not None and "xoxp-" not in row.token
    [token] = bot.slack.user_tokens
    assert Fernet(KEY).decrypt(row.token.encode()).decode() == token
    await eventually(lambda: ids.HOME_AWAY_DISCONNECT in home_buttons(bot, ALICE))


async def test_a_forged_or_replayed_state_and_a_used_code_are_refused(bot: Bot) -> None:
    """A state not signed by leavebot, one made for someone else, one used already, and a code used already
    are each refused with a page saying what to do; only the honest first try stores a token."""
    link = await consent_link(bot, ALICE)
    state = state_of(link)
    nonce, user, signature = state.split(".")
    forged = [f"{nonce}.{user}.{'0' * len(signature)}", f"{nonce}.{MALLORY}.{signature}", "nonsense", ""]
    for bad in forged:
        answer = await come_back(bot, code=bot.slack.consent(MALLORY), state=bad)
        assert answer.status_code == 400, bad
    assert bot.slack.calls_to("oauth.v2.access") == []  # refused before asking Slack
    code = bot.slack.consent(ALICE)
    assert (await come_back(bot, code=code, state=state)).status_code == 200
    replayed = await come_back(bot, code=code, state=state)
    assert replayed.status_code == 400 and "used already" in replayed.text
    assert bot.service.connections is not None
    fresh = state_of(await bot.service.connections.authorize_url(ALICE))
    reused_code = await come_back(bot, code=code, state=fresh)
    assert reused_code.status_code == 400 and "did not accept" in reused_code.text
    assert await bot.service.deps.store.count_user_tokens() == 1


async def test_a_token_for_someone_else_or_without_the_scopes_is_not_kept(bot: Bot) -> None:
    """Alice's link brought back with Mallory's consent, or a consent missing dnd:write, stores nothing;
    pressing Cancel on Slack's page says nothing was changed."""
    state = state_of(await consent_link(bot, ALICE))
    answer = await come_back(bot, code=bot.slack.consent(MALLORY), state=state)
    assert answer.status_code == 400 and "someone else" in answer.text
    state = state_of(await consent_link(bot, ALICE))
    partial = bot.slack.consent(ALICE, scopes=("users.profile:read", "users.profile:write"))
    answer = await come_back(bot, code=partial, state=state)
    assert answer.status_code == 400 and "dnd:write" in answer.text
    cancelled = await come_back(bot, error="access_denied", state=state_of(await consent_link(bot, ALICE)))
    assert cancelled.status_code == 200 and "Nothing was changed" in cancelled.text
    assert await bot.service.deps.store.count_user_tokens() == 0


async def test_disconnect_and_slack_revoking_or_uninstalling_delete_the_tokens(bot: Bot) -> None:
    """Disconnect in the Home forgets Alice's token; tokens_revoked forgets Bob's; app_uninstalled all."""
    for user in (ALICE, BOB, CAROL):
        await connect(bot, user)
    store = bot.service.deps.store
    await click_in_home(bot, ids.HOME_AWAY_DISCONNECT, "disconnect", user=ALICE)
    await eventually(lambda: ids.HOME_AWAY_CONNECT in home_buttons(bot, ALICE))
    assert await store.user_token(slack_user_id=ALICE) is None
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [BOB], "bot": []}, "event_ts": "1.0"}
    assert (
        await bot.post(sr.event_callback(revoked, event_id="EvRevoked"), json_body=True)
    ).status_code == 200
    await bot.drain()
    assert [t.slack_user_id for t in await store.user_tokens()] == [CAROL]
    uninstalled = {"type": "app_uninstalled", "event_ts": "2.0"}
    assert (
        await bot.post(sr.event_callback(uninstalled, event_id="EvGone"), json_body=True)
    ).status_code == 200
    await bot.drain()
    assert await store.count_user_tokens() == 0


# -- the status job -------------------------------------------------------------------------------


async def mirror_leave(bot: Bot, user: str, booking: str, first: date, last: date, **fields: Any) -> None:
    """The sync pass brought an approved booking of ``user`` into the mirror."""
    email, name = USERS[user]
    person = Person(id=email, name=name, email=email, slack_user_id=user)
    absence = Absence(
        id=booking, person=person, status=Status.APPROVED, start_date=first, end_date=last, **fields
    )
    await bot.service.deps.store.mirror_one(provider="local", absence=absence)


async def run_both(bot: Bot, second: Services) -> None:
    """One tick of the status job on each instance at once."""
    assert bot.service.away and second.away
    moment = datetime.now(UTC)
    await asyncio.gather(bot.service.away.run(moment), second.away.run(moment))


async def periods(bot: Bot) -> list[AwayPeriod]:
    return await bot.service.deps.store.periods()


async def test_status_and_dnd_follow_leave_in_each_zone_once_across_two_instances(
    bot: Bot, second: Services
) -> None:
    """Carol in Tokyo and Alice in London are off Mon 4 – Tue 5 Jan: each gets "On leave · back Wed 6 Jan"
    at 09:00 their time (expiring 17:30 Tuesday) and DND each working day, set once by two instances; at the
    end Carol's own status comes back, and the one Alice set during her leave is left alone."""
    live_in(bot.slack, {ALICE: LONDON, CAROL: TOKYO})
    slack = bot.slack
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        for user in (ALICE, CAROL):
            await connect(bot, user)
        slack.set_status(CAROL, "Commuting", ":train:")
        await mirror_leave(bot, ALICE, "b-alice", MONDAY, TUESDAY, leave_type="Annual leave")
        await mirror_leave(bot, CAROL, "b-carol", MONDAY, TUESDAY, leave_type="Annual leave")

        clock.move_to(datetime(2027, 1, 3, 23, 59, tzinfo=UTC))  # Monday 08:59 in Tokyo
        await run_both(bot, second)
        assert slack.calls_to("users.profile.set") == []

        clock.move_to(datetime(2027, 1, 4, 0, 0, 30, tzinfo=UTC))  # Monday 09:00 in Tokyo, midnight in London
        await run_both(bot, second)
        assert (
            len(calls_of(slack, "users.profile.set", CAROL)) == 1
            and calls_of(slack, "users.profile.set", ALICE) == []
        )
        tuesday_end_tokyo = datetime(2027, 1, 5, 8, 30, tzinfo=UTC)
        assert slack.status_of(CAROL) == {
            "status_text": "On leave · back Wed 6 Jan",
            "status_emoji": ":palm_tree:",
            "status_expiration": epoch(tuesday_end_tokyo),
        }
        assert about(datetime(2027, 1, 4, 8, 30, tzinfo=UTC))(slack.snoozed_until(CAROL))

        clock.move_to(MONDAY_START_LONDON)
        await run_both(bot, second)
        assert len(calls_of(slack, "users.profile.set", ALICE)) == 1
        assert slack.status_of(ALICE)["status_expiration"] == epoch(datetime(2027, 1, 5, 17, 30, tzinfo=UTC))
        assert about(datetime(2027, 1, 4, 17, 30, tzinfo=UTC))(slack.snoozed_until(ALICE))
        slack.set_status(ALICE, "Back early!", ":wave:")  # her own, during her leave

        clock.move_to(datetime(2027, 1, 5, 0, 0, 30, tzinfo=UTC))  # Tuesday 09:00 in Tokyo
        await run_both(bot, second)
        assert len(calls_of(slack, "dnd.setSnooze", CAROL)) == 2

        clock.move_to(datetime(2027, 1, 5, 8, 30, 30, tzinfo=UTC))  # Tuesday 17:30 in Tokyo: Carol's end
        await run_both(bot, second)
        assert slack.status_of(CAROL) == {
            "status_text": "Commuting",
            "status_emoji": ":train:",
            "status_expiration": 0,
        }
        assert len(calls_of(slack, "users.profile.set", CAROL)) == 2

        clock.move_to(datetime(2027, 1, 5, 9, 0, 30, tzinfo=UTC))  # Tuesday 09:00 in London
        await run_both(bot, second)
        assert len(calls_of(slack, "dnd.setSnooze", ALICE)) == 2

        clock.move_to(datetime(2027, 1, 5, 17, 30, 30, tzinfo=UTC))  # Tuesday 17:30 in London: Alice's end
        await run_both(bot, second)
        assert slack.status_of(ALICE)["status_text"] == "Back early!"
        assert len(calls_of(slack, "users.profile.set", ALICE)) == 1
        assert len(calls_of(slack, "dnd.setSnooze", ALICE)) == 2
        assert await periods(bot) == []


async def test_half_days_hours_and_private_types_read_as_they_should(bot: Bot, second: Services) -> None:
    """An afternoon starts at 13:00 and says back the next working day; hours say "back 15:00"; a private
    leave type says "Out of office"; nothing is set before it starts."""
    live_in(bot.slack, {ALICE: LONDON, BOB: LONDON, CAROL: LONDON})
    friday = date(2027, 1, 8)
    with time_machine.travel(datetime(2027, 1, 8, 8, 0, tzinfo=UTC), tick=True) as clock:
        for user in (ALICE, BOB, CAROL):
            await connect(bot, user)
        await mirror_leave(bot, ALICE, "pm", friday, friday, start="PM")
        await mirror_leave(bot, BOB, "hours", friday, friday, start=600, end=900)
        await mirror_leave(bot, CAROL, "sick", friday, friday, leave_type="Sick leave")
        clock.move_to(datetime(2027, 1, 8, 9, 0, 30, tzinfo=UTC))
        await run_both(bot, second)
        assert bot.slack.status_of(CAROL)["status_text"] == "Out of office · back Mon 11 Jan"
        assert calls_of(bot.slack, "users.profile.set", ALICE) == []
        clock.move_to(datetime(2027, 1, 8, 10, 0, 30, tzinfo=UTC))
        await run_both(bot, second)
        assert bot.slack.status_of(BOB)["status_text"] == "On leave · back 15:00"
        assert about(datetime(2027, 1, 8, 15, 0, tzinfo=UTC))(bot.slack.snoozed_until(BOB))
        clock.move_to(datetime(2027, 1, 8, 13, 0, 30, tzinfo=UTC))
        await run_both(bot, second)
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Mon 11 Jan"


async def test_public_holidays_are_no_working_days_to_come_back_on_or_snooze(bot: Bot) -> None:
    """Alice is off Thu 24 – Fri 25 Dec (Christmas Day; Boxing Day observed Mon 28): "back Tue 29 Dec", and
    DND is snoozed on Thursday only, not on Christmas Day inside her leave."""
    live_in(bot.slack, {ALICE: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2026, 12, 21, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        await mirror_leave(bot, ALICE, "b-xmas", date(2026, 12, 24), date(2026, 12, 25))
        clock.move_to(datetime(2026, 12, 24, 9, 0, 30, tzinfo=UTC))
        await service.away.run(datetime.now(UTC))
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Tue 29 Dec"
        assert about(datetime(2026, 12, 24, 17, 30, tzinfo=UTC))(bot.slack.snoozed_until(ALICE))
        clock.move_to(datetime(2026, 12, 25, 9, 0, 30, tzinfo=UTC))
        await service.away.run(datetime.now(UTC))
        assert len(calls_of(bot.slack, "dnd.setSnooze", ALICE)) == 1
        clock.move_to(datetime(2026, 12, 25, 17, 30, 30, tzinfo=UTC))
        await service.away.run(datetime.now(UTC))
        assert bot.slack.status_of(ALICE)["status_text"] == ""


THURSDAY, FRIDAY, NEXT_MONDAY, NEXT_TUESDAY = (date(2027, 1, d) for d in (7, 8, 11, 12))


async def test_back_to_back_leave_reads_as_one_absence(bot: Bot, second: Services) -> None:
    """Alice is off Thu–Fri and again Mon–Tue: one status "back Wed 13 Jan" from Thursday, not given back
    over the weekend, and her own status back on Tuesday evening; set once and restored once by two instances."""
    live_in(bot.slack, {ALICE: LONDON})
    slack = bot.slack
    with time_machine.travel(datetime(2027, 1, 6, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        slack.set_status(ALICE, "Commuting", ":train:")
        await mirror_leave(bot, ALICE, "b-first", THURSDAY, FRIDAY)
        await mirror_leave(bot, ALICE, "b-then", NEXT_MONDAY, NEXT_TUESDAY)
        clock.move_to(datetime(2027, 1, 7, 9, 0, 30, tzinfo=UTC))
        await run_both(bot, second)
        assert slack.status_of(ALICE) == {
            "status_text": "On leave · back Wed 13 Jan",
            "status_emoji": ":palm_tree:",
            "status_expiration": epoch(datetime(2027, 1, 12, 17, 30, tzinfo=UTC)),
        }
        clock.move_to(datetime(2027, 1, 8, 17, 30, 30, tzinfo=UTC))  # Friday's end: not the end
        await run_both(bot, second)
        clock.move_to(datetime(2027, 1, 11, 9, 0, 30, tzinfo=UTC))
        await run_both(bot, second)
        assert len(calls_of(slack, "users.profile.set", ALICE)) == 1
        assert (
            len(calls_of(slack, "dnd.setSnooze", ALICE)) == 2
        )  # Thursday and Monday (no tick on Friday by day)
        clock.move_to(datetime(2027, 1, 12, 17, 30, 30, tzinfo=UTC))
        await run_both(bot, second)
    assert slack.status_of(ALICE)["status_text"] == "Commuting"
    assert len(calls_of(slack, "users.profile.set", ALICE)) == 2
    assert await periods(bot) == []


async def test_leave_approved_right_after_leave_under_way_extends_it_without_a_gap(
    bot: Bot, second: Services
) -> None:
    """Alice is away Thu–Fri when her Mon–Tue leave is approved on Friday: her status says "back Wed 13 Jan"
    at once, nothing is given back meanwhile, and Tuesday evening her own status (from before) comes back."""
    live_in(bot.slack, {ALICE: LONDON})
    slack = bot.slack
    with time_machine.travel(datetime(2027, 1, 6, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        slack.set_status(ALICE, "Commuting", ":train:")
        await mirror_leave(bot, ALICE, "b-first", THURSDAY, FRIDAY)
        clock.move_to(datetime(2027, 1, 8, 9, 0, 30, tzinfo=UTC))
        await run_both(bot, second)
        assert slack.status_of(ALICE)["status_text"] == "On leave · back Mon 11 Jan"
        clock.move_to(datetime(2027, 1, 8, 10, 0, tzinfo=UTC))
        await mirror_leave(bot, ALICE, "b-then", NEXT_MONDAY, NEXT_TUESDAY)
        await run_both(bot, second)
        assert slack.status_of(ALICE)["status_text"] == "On leave · back Wed 13 Jan"
        assert len(calls_of(slack, "users.profile.set", ALICE)) == 2
        assert slack.calls_to("dnd.endSnooze") == [] and len(calls_of(slack, "dnd.setSnooze", ALICE)) == 1
        clock.move_to(datetime(2027, 1, 12, 17, 30, 30, tzinfo=UTC))
        await run_both(bot, second)
    assert slack.status_of(ALICE)["status_text"] == "Commuting"
    assert len(calls_of(slack, "users.profile.set", ALICE)) == 3
    assert await periods(bot) == []


async def approved_monday_to_tuesday(bot: Bot, *, key: str) -> int:
    """Alice's leave on Monday and Tuesday, requested and approved by Bob; its request id."""
    requests = bot.service.requests
    submitted = await requests.submit(
        draft=Draft(start_date=MONDAY, end_date=TUESDAY), key=key, slack_user_id=ALICE
    )
    request_id = submitted.request.id
    assert request_id is not None
    await requests.decide(request_id=request_id, slack_user_id=BOB, decision=Decision.APPROVE)
    return request_id


async def test_cancelling_mid_leave_restores_status_and_dnd_at_once(bot: Bot) -> None:
    """Alice's approved leave has begun; she cancels it in her Home (a signed request): the status she had
    comes back and the snooze ends with no tick of the job loop, nor the leave's end, nor a sync pass."""
    live_in(bot.slack, {ALICE: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        bot.slack.set_status(ALICE, "Writing the plan", ":memo:", epoch(datetime(2027, 2, 1, tzinfo=UTC)))
        request_id = await approved_monday_to_tuesday(bot, key="away-cancel")
        clock.move_to(MONDAY_START_LONDON)
        await service.away.run(datetime.now(UTC))
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Wed 6 Jan"
        assert bot.slack.snoozed_until(ALICE)
        await click_in_home(bot, ids.HOME_CANCEL, str(request_id), user=ALICE)
        await bot.slack.wait_for("dnd.endSnooze")
        assert bot.slack.status_of(ALICE)["status_text"] == "Writing the plan"
        assert bot.slack.snoozed_until(ALICE) is None
        await bot.drain()
        request = await service.deps.store.request(request_id=request_id)
        assert request is not None and request.status == Status.CANCELLED
        assert len(calls_of(bot.slack, "users.profile.set", ALICE)) == 2
        assert await periods(bot) == []


async def test_disconnecting_mid_leave_gives_back_the_status_first(bot: Bot) -> None:
    """Alice disconnects in her Home while away: her own status comes back and the snooze ends (with her
    token, before it is forgotten); then her token and periods are gone."""
    live_in(bot.slack, {ALICE: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        bot.slack.set_status(ALICE, "Writing the plan", ":memo:")
        await mirror_leave(bot, ALICE, "b-alice", MONDAY, TUESDAY)
        clock.move_to(MONDAY_START_LONDON)
        await service.away.run(datetime.now(UTC))
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Wed 6 Jan"
        await click_in_home(bot, ids.HOME_AWAY_DISCONNECT, "disconnect", user=ALICE)
        await eventually(lambda: ids.HOME_AWAY_CONNECT in home_buttons(bot, ALICE))
    assert bot.slack.status_of(ALICE)["status_text"] == "Writing the plan"
    assert bot.slack.snoozed_until(ALICE) is None and len(calls_of(bot.slack, "dnd.endSnooze", ALICE)) == 1
    assert await service.deps.store.user_token(slack_user_id=ALICE) is None
    assert await periods(bot) == []


async def test_a_date_changed_in_the_hr_system_mid_leave_changes_the_status_at_once(bot: Bot) -> None:
    """Alice is away Mon–Tue when the HR system tells (an event) that her leave now runs to Wednesday: her
    status says "back Thu 7 Jan" with no tick of the job loop, and nothing was given back meanwhile."""
    live_in(bot.slack, {ALICE: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        request_id = await approved_monday_to_tuesday(bot, key="away-moved")
        clock.move_to(MONDAY_START_LONDON)
        await service.away.run(datetime.now(UTC))
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Wed 6 Jan"
        request = await service.deps.store.request(request_id=request_id)
        assert request is not None and request.booking_id
        email, name = USERS[ALICE]
        moved = Absence(
            id=request.booking_id,
            person=Person(id=email, name=name, email=email, slack_user_id=ALICE),
            status=Status.APPROVED,
            start_date=MONDAY,
            end_date=date(2027, 1, 6),
        )
        event = BookingEvent(event_id="moved-1", booking=moved, updated_at=datetime.now(UTC))
        await service.events.apply_event(event)
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Thu 7 Jan"
        assert bot.slack.status_of(ALICE)["status_expiration"] == epoch(
            datetime(2027, 1, 6, 17, 30, tzinfo=UTC)
        )
    assert len(calls_of(bot.slack, "users.profile.set", ALICE)) == 2
    assert bot.slack.calls_to("dnd.endSnooze") == []


async def test_an_approval_after_the_leave_began_sets_the_status_at_once(bot: Bot) -> None:
    """Bob approves Alice's leave at 10:00 on its first day (a signed click on his card): her status is set
    then, without a tick of the job loop."""
    live_in(bot.slack, {ALICE: LONDON})
    service = bot.service
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        submitted = await service.requests.submit(
            draft=Draft(start_date=MONDAY, end_date=TUESDAY), key="away-late", slack_user_id=ALICE
        )
        clock.move_to(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
        assert (await bot.click(ids.APPROVE, str(submitted.request.id), user=BOB)).status_code == 200
        await bot.slack.wait_for("dnd.setSnooze")
        assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Wed 6 Jan"
        assert about(datetime(2027, 1, 4, 17, 30, tzinfo=UTC))(bot.slack.snoozed_until(ALICE))


async def test_a_revoked_token_stops_everything_for_that_person_with_one_log_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack answers token_revoked for Alice's token: one warning, her token and periods are gone, and no
    later tick calls Slack for her; Carol's status is set all the same."""
    live_in(bot.slack, {ALICE: LONDON, CAROL: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        for user in (ALICE, CAROL):
            await connect(bot, user)
        await mirror_leave(bot, ALICE, "b-alice", MONDAY, TUESDAY)
        await mirror_leave(bot, CAROL, "b-carol", MONDAY, TUESDAY)
        bot.slack.revoke_user(ALICE)
        clock.move_to(MONDAY_START_LONDON)
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                await service.away.run(datetime.now(UTC))
            clock.move_to(datetime(2027, 1, 5, 9, 0, 30, tzinfo=UTC))
            await service.away.run(datetime.now(UTC))
    said = [
        r.getMessage() for r in caplog.records if ALICE in r.getMessage() and r.levelno >= logging.WARNING
    ]
    assert len(said) == 1 and "token_revoked" in said[0]
    assert [t.slack_user_id for t in await service.deps.store.user_tokens()] == [CAROL]
    alice_calls = [c for c in bot.slack.calls if bot.slack.user_tokens.get(c.token or "", ("",))[0] == ALICE]
    assert [c.method for c in alice_calls] == ["users.profile.get"]
    assert bot.slack.status_of(CAROL)["status_text"] == "On leave · back Wed 6 Jan"


async def test_a_tokens_revoked_event_mid_leave_stops_everything_with_one_log_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack's tokens_revoked names Bob while he is away: one log line, his token and periods are gone, and
    neither his next day nor his leave's end calls Slack for him."""
    live_in(bot.slack, {BOB: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, BOB)
        await mirror_leave(bot, BOB, "b-bob", MONDAY, TUESDAY)
        clock.move_to(MONDAY_START_LONDON)
        await service.away.run(datetime.now(UTC))
        assert bot.slack.status_of(BOB)["status_text"] == "On leave · back Wed 6 Jan"
        before = len(bot.slack.calls)
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [BOB], "bot": []}, "event_ts": "1.0"}
        with caplog.at_level(logging.INFO):
            answer = await bot.post(sr.event_callback(revoked, event_id="EvRevokedBob"), json_body=True)
            assert answer.status_code == 200
            await bot.drain()
            for moment in (
                datetime(2027, 1, 5, 9, 0, 30, tzinfo=UTC),
                datetime(2027, 1, 5, 17, 30, 30, tzinfo=UTC),
            ):
                clock.move_to(moment)
                await service.away.run(datetime.now(UTC))
    said = [r.getMessage() for r in caplog.records if BOB in r.getMessage()]
    assert len(said) == 1 and "revoked" in said[0]
    assert await service.deps.store.user_token(slack_user_id=BOB) is None and await periods(bot) == []
    assert [c.method for c in bot.slack.calls[before:] if c.token != "xoxb-test"] == []


async def test_a_429_waits_for_its_retry_after(bot: Bot) -> None:
    """Slack rate-limits the status call: the client waits Retry-After and tries again; set once."""
    live_in(bot.slack, {ALICE: LONDON})
    service = bot.service
    assert service.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        await mirror_leave(bot, ALICE, "b-alice", MONDAY, TUESDAY)
        clock.move_to(MONDAY_START_LONDON)
        bot.slack.fail_next(status=429, retry_after=1, path="/api/users.profile.set")
        began = time.monotonic()
        await service.away.run(datetime.now(UTC))
        assert time.monotonic() - began >= 0.9
    sets = calls_of(bot.slack, "users.profile.set", ALICE)
    assert bot.slack.status_of(ALICE)["status_text"] == "On leave · back Wed 6 Jan"
    assert len(sets) == 2  # the try answered 429, and the one after its Retry-After


async def test_restart_keeps_what_was_claimed(bot: Bot, second: Services) -> None:
    """A period begun by one instance is ended by another (the state lives in the store, not a process)."""
    live_in(bot.slack, {ALICE: LONDON})
    assert bot.service.away and second.away
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True) as clock:
        await connect(bot, ALICE)
        await mirror_leave(bot, ALICE, "b-alice", MONDAY, MONDAY)
        clock.move_to(MONDAY_START_LONDON)
        await bot.service.away.run(datetime.now(UTC))
        clock.move_to(datetime(2027, 1, 4, 17, 31, tzinfo=UTC))
        await second.away.run(datetime.now(UTC))
    assert bot.slack.status_of(ALICE)["status_text"] == ""
    assert len(calls_of(bot.slack, "users.profile.set", ALICE)) == 2


async def test_check_fails_without_the_right_key_once_anyone_connected(bot: Bot) -> None:
    """`leavebot check`: skipped while nobody connected; ✗ without LEAVEBOT_SECRET_KEY or with another key; ✓ with it."""
    from bot.check import check_user_tokens

    settings = bot.settings
    assert (await check_user_tokens(settings)).ok is None
    await connect(bot, ALICE)
    assert (await check_user_tokens(settings)).ok is False
    other = settings.model_copy(update={"leavebot_secret_key": SecretStr(Fernet.generate_key().decode())})
    assert "cannot be read" in (await check_user_tokens(other)).detail
    right = settings.model_copy(update={"leavebot_secret_key": SecretStr(KEY)})
    assert (await check_user_tokens(right)).ok is True
