"""What only OffiServ does, against its fake over real HTTP: the cookie session and its renewal, links
followed rather than built, the organisation's time zone, approvers and balance from linked resources,
the assumed leave body, and the whole Slack flow with approval kept by leavebot.

The contract every provider passes is in test_contract.py; this file holds the rest.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import BOB as U_BOB
from conftest import CAROL as U_CAROL
from fakes.offiserv import EMAIL, OVERLAP, PASSWORD, FakeOffiServ, FakeUser, whole_days
from fakes.slack import FakeSlack
from helpers.bots import ProviderBot
from helpers.bots import submitted as submit
from helpers.kit import ProviderKit

from bot.config import ConfigError, load_provider_config, load_settings
from bot.store.tables import LeaveRequest
from bot.views import ids
from providers.errors import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderRejected
from providers.models import Balance, LeaveType, Status
from providers.offiserv import OffiServProvider

# A Monday some weeks ahead; the fake's organisation is in Warsaw, always ahead of UTC.
MONDAY = date.today() + timedelta(weeks=8, days=-date.today().weekday())
TUESDAY = MONDAY + timedelta(days=1)
WARSAW = ZoneInfo("Europe/Warsaw")
VACATION = LeaveType(id="Vacation", name="Vacation")
ROOTS = {"/data/login", "/data/users/me", "/data/companies/my"}


# The fake's HR account.
KIT = ProviderKit(
    OffiServProvider,
    FakeOffiServ,
    lambda fake: {"email": EMAIL, "password": PASSWORD, "base_url": fake.url},
    MONDAY,
    VACATION,
)
fake, provider = KIT.fixtures()
connect, request_for = KIT.connect, KIT.request_for


def local(day: date, hour: int, zone: ZoneInfo = WARSAW) -> datetime:
    """``hour``:00 on ``day`` in a zone."""
    return datetime.combine(day, time(hour), zone)


def logins(fake: FakeOffiServ) -> int:
    """How many times the provider signed in."""
    return len(fake.calls_to("POST", "/data/login"))


# -- the session ---------------------------------------------------------------------------------------


async def test_signs_in_once_and_sends_the_cookie_on_every_call(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """The first call posts the e-mail and password to /data/login; every later call carries its cookie."""
    await provider.find_person("bob@example.com")
    await provider.leave_types()
    [login] = fake.calls_to("POST", "/data/login")
    assert login.body == {"email": EMAIL, "password": PASSWORD} and fake.calls[0] == login
    later = fake.calls[1:]
    assert later and len({c.cookie for c in later}) == 1 and later[0].cookie is not None


async def test_wrong_password_is_an_operator_error_asked_once(fake: FakeOffiServ) -> None:
    """A refused sign-in raises ProviderAuthError naming the settings, without the password, after one try."""
    provider = connect(fake, password="guessed-wrong")
    with pytest.raises(ProviderAuthError) as caught:
        await provider.check_connection()
    await provider.aclose()
    assert "OFFISERV_PASSWORD" in caught.value.message and "guessed-wrong" not in caught.value.message
    assert [c.path for c in fake.calls] == ["/data/login"]


@pytest.mark.parametrize("expired", [401, 302])
async def test_expired_session_is_renewed_once_and_the_call_repeated(
    fake: FakeOffiServ, provider: OffiServProvider, expired: int
) -> None:
    """A 401, or a redirect to the login page, signs in again once; the call then succeeds."""
    fake.expired_answer = expired
    await provider.leave_types()
    fake.expire_sessions()
    assert [t.name for t in await provider.leave_types()] == ["Vacation", "On-demand leave", "Training"]
    assert logins(fake) == 2
    refused = [c for c in fake.calls if c.path == "/data/users/me"]
    assert len(refused) == 3 and refused[1].cookie != refused[2].cookie


async def test_password_changed_while_signed_out_never_loops(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """The session lapses and the password was changed: one new sign-in is refused and reported, no more."""
    await provider.leave_types()
    fake.expire_sessions()
    fake.password = "changed by an admin"
    with pytest.raises(ProviderAuthError):
        await provider.leave_types()
    assert logins(fake) == 2


async def test_sign_in_answered_by_a_redirect_into_the_app_works(fake: FakeOffiServ) -> None:
    """A form sign-in that sets the cookie and redirects to the app (not the login page) is a success."""
    fake.login_answer = 302
    provider = connect(fake)
    await provider.check_connection()
    await provider.aclose()
    assert logins(fake) == 1


async def test_retry_after_is_honoured_and_a_long_wait_reported(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """A 429 with a short Retry-After is waited out and repeated; a long one raises ProviderRateLimited."""
    await provider.leave_types()
    fake.fail_next(1, status=429, retry_after="0")
    before = len(fake.calls)
    assert await provider.leave_types()
    assert len(fake.calls) == before + 3  # me refused, me again, the limits
    fake.fail_next(1, status=429, retry_after="120")
    with pytest.raises(ProviderRateLimited) as caught:
        await provider.leave_types()
    assert caught.value.retry_after == 120.0


def staff(fake: FakeOffiServ, people: int) -> list[str]:
    """``people`` more users, each with a whole Monday off booked in OffiServ; their keys."""
    keys = [f"p{n:03d}" for n in range(people)]
    with fake._lock:
        fake.users |= {k: FakeUser(k, "Person", k, f"{k}@example.com") for k in keys}
    for key in keys:
        fake.book_by_itself(key, MONDAY)
    return keys


def listings(fake: FakeOffiServ) -> list[float]:
    """When each call for someone's leave arrived, in order."""
    return sorted(c.at for c in fake.calls if c.path.endswith("/time-off"))


async def test_everyones_leave_is_read_at_most_concurrency_calls_at_a_time(fake: FakeOffiServ) -> None:
    """A pass over everyone keeps OFFISERV_CONCURRENCY listings in flight, never more, and reads them all."""
    keys = staff(fake, 24)
    provider = connect(fake, concurrency=4)
    await provider.find_person("alice@example.com")  # the directory, read one call at a time
    fake.stall_next(30, seconds=0.25, path="/time-off")  # slow answers: the calls pile up if they can
    fake.peak_in_flight = 0
    found = await provider.absences(MONDAY, MONDAY)
    assert fake.peak_in_flight == 4
    assert sorted(a.person.email or "" for a in found) == sorted(f"{k}@example.com" for k in keys)
    assert len(listings(fake)) == len(fake.users)  # one call per person, none repeated
    await provider.aclose()


async def test_a_429_in_a_pass_holds_every_listing_for_its_retry_after_and_loses_nothing(
    fake: FakeOffiServ,
) -> None:
    """One listing answered 429 (Retry-After: 1): no new listing starts for that second, the refused one is
    sent again, every absence is read, and the calls in flight stay within the limit."""
    keys = staff(fake, 16)
    provider = connect(fake, concurrency=4)
    await provider.find_person("alice@example.com")
    fake.fail_next(
        1, status=429, retry_after=1, path="/time-off"
    )  # the first listing (faults match in order)
    fake.stall_next(30, seconds=0.3, path="/time-off")  # then the rest slow: more would start if they could
    fake.peak_in_flight = 0
    found = await provider.absences(MONDAY, MONDAY)
    assert sorted(a.person.email or "" for a in found) == sorted(f"{k}@example.com" for k in keys)
    arrived = listings(fake)
    assert len(arrived) == len(fake.users) + 1  # the refused one, sent again
    first = arrived[0]  # the 429 went to one of the first calls, sent together before it came back
    before_the_wait = [t for t in arrived if t < first + 1.0]
    assert 1 <= len(before_the_wait) <= 4
    assert fake.peak_in_flight <= 4
    await provider.aclose()


# -- links -------------------------------------------------------------------------------------------


async def test_only_the_roots_and_links_given_are_requested(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """Finding people, approvers, balance, booking, listing and cancelling never request a path built by hand."""
    alice = await provider.find_person("alice@example.com")
    await provider.approvers(alice)
    await provider.balance(alice)
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    await provider.absences(MONDAY, MONDAY)
    await provider.cancel(booking.id)
    requested = {c.path for c in fake.calls}
    assert requested - ROOTS and requested <= ROOTS | fake.issued
    assert f"{fake.link('alice', 'limits')}" in requested  # a link with its own query string


async def test_without_a_users_link_people_are_found_through_admins_reports_and_managers(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """With no (assumed) usersUri, the documented links reach Alice; Mallory, linked from nobody, is not found."""
    fake.company_links_users = False
    alice = await provider.find_person("ALICE@example.com")
    assert (alice.name, alice.email) == ("Alice Archer", "alice@example.com")
    with pytest.raises(ProviderError):
        await provider.find_person("mallory@example.com")


# -- time zone ------------------------------------------------------------------------------------


async def test_days_are_the_organisations_days(fake: FakeOffiServ, provider: OffiServProvider) -> None:
    """Monday afternoon in Warsaw is sent with Warsaw's offset, held by OffiServ in UTC (ending on Monday
    there), and read back as Monday afternoon only."""
    booking = await provider.submit(await request_for(provider, "alice@example.com", "PM", "PM"))
    [call] = fake.calls_to("POST", fake.link("alice", "leaves"))
    assert (call.body["start"], call.body["end"]) == (
        local(MONDAY, 12).isoformat(),
        local(TUESDAY, 0).isoformat(),
    )
    assert call.body["start"].endswith(("+01:00", "+02:00"))
    [held] = fake.leaves_of("alice")
    assert held["end"] == local(TUESDAY, 0).astimezone(UTC) and held["end"].date() == MONDAY
    [absence] = await provider.absences(MONDAY, MONDAY)
    assert (absence.id, absence.start_date, absence.part_on(MONDAY)) == (booking.id, MONDAY, "afternoon")
    assert await provider.absences(TUESDAY, TUESDAY) == []


async def test_another_time_zone_moves_the_offsets(fake: FakeOffiServ, provider: OffiServProvider) -> None:
    """An organisation in New York books 09:00–12:00 at New York's offset, and leave held in UTC reads as its days."""
    fake.timezone = "America/New_York"
    new_york = ZoneInfo("America/New_York")
    await provider.submit(await request_for(provider, "alice@example.com", 540, 720))
    [call] = fake.calls_to("POST", fake.link("alice", "leaves"))
    assert (call.body["start"], call.body["end"]) == (
        local(MONDAY, 9, new_york).isoformat(),
        local(MONDAY, 12, new_york).isoformat(),
    )
    fake.add_leave("bob", *whole_days(MONDAY, 2, zone="America/New_York"))
    bob = await provider.find_person("bob@example.com")
    [absence] = await provider.absences_of(bob, MONDAY, MONDAY)
    assert (absence.start_date, absence.end_date, absence.start, absence.end) == (
        MONDAY,
        TUESDAY,
        "AM",
        "PM",
    )


# -- people, balance, leave types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "approvers"),
    [
        ("alice@example.com", ["bob@example.com"]),  # her approvers chain, not her manager
        ("mallory@example.com", ["carol@example.com", "bob@example.com"]),  # the whole chain, in order
        ("bob@example.com", ["carol@example.com"]),  # no chain: his manager
        ("carol@example.com", ["dave@example.com"]),  # neither: the organisation's admins
    ],
)
async def test_approvers_come_from_the_chain_then_the_manager_then_the_admins(
    provider: OffiServProvider, email: str, approvers: list[str]
) -> None:
    """approversChainUri first, then managerUri, then the organisation's admins."""
    person = await provider.find_person(email)
    assert [a.email for a in await provider.approvers(person)] == approvers


async def test_balance_is_the_first_leave_day_limit_left(provider: OffiServProvider) -> None:
    """Alice has 26 Vacation days and has used 4.5: 21.5 days left."""
    alice = await provider.find_person("alice@example.com")
    assert await provider.balance(alice) == Balance(remaining=21.5, unit="days")


# -- booking and cancelling ------------------------------------------------------------------------


async def test_approved_leave_is_posted_to_the_requesters_own_leaves(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """The assumed body goes to Alice's leavesUri (not the signed-in account's), already accepted."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    [call] = fake.calls_to("POST", fake.link("alice", "leaves"))
    assert call.body == {
        "start": local(MONDAY, 0).isoformat(),
        "end": local(TUESDAY, 0).isoformat(),
        "leaveType": "Vacation",
        "reason": "tests",
        "state": "ACCEPTED",
    }
    assert booking.status is Status.APPROVED and booking.id in fake.issued
    assert fake.leaves_of("dave") == []


async def test_refusal_carries_offiserv_words(fake: FakeOffiServ, provider: OffiServProvider) -> None:
    """Leave overlapping Alice's own is refused with OffiServ's message."""
    fake.add_leave("alice", *whole_days(MONDAY))
    with pytest.raises(ProviderRejected) as caught:
        await provider.submit(await request_for(provider, "alice@example.com", "PM", "PM"))
    assert caught.value.message == OVERLAP


async def test_someone_whose_leave_is_out_of_sight_is_refused_at_request_time(
    fake: FakeOffiServ, provider: OffiServProvider
) -> None:
    """validate() refuses a request for someone whose leavesUri leavebot's account is not shown."""
    fake.users["alice"].leaves_link = ""
    with pytest.raises(ProviderRejected, match="leave is kept"):
        await provider.validate(await request_for(provider, "alice@example.com"))


async def test_a_link_to_another_site_is_not_followed(fake: FakeOffiServ, provider: OffiServProvider) -> None:
    """A leavesUri pointing off OffiServ's origin is refused rather than sent the session."""
    fake.users["alice"].leaves_link = "https://elsewhere.example/data/leaves"
    with pytest.raises(ProviderError, match="linked outside"):
        await provider.submit(await request_for(provider, "alice@example.com"))
    assert leave_posts_to(fake) == []


def leave_posts_to(fake: FakeOffiServ) -> list[Any]:
    """Every POST the fake received apart from sign-ins."""
    return [c for c in fake.calls if c.method == "POST" and c.path != "/data/login"]


async def test_cancel_changes_the_state_once(fake: FakeOffiServ, provider: OffiServProvider) -> None:
    """Cancelling PUTs the cancelled state on the leave's own link; a second cancel reports it done."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    first, second = await provider.cancel(booking.id), await provider.cancel(booking.id)
    assert (first.already_actioned, second.already_actioned) == (False, True)
    assert [c.body for c in fake.calls_to("PUT", booking.id)] == [{"state": "CANCELLED"}]
    assert await provider.absences(MONDAY, MONDAY) == []


async def test_approve_and_decline_are_leavebots(provider: OffiServProvider) -> None:
    """OffiServ documents no approval verb: approve and decline say leavebot holds the approval."""
    for action in (provider.approve("/data/lv/x"), provider.decline("/data/lv/x", "no")):
        with pytest.raises(ProviderError, match="leavebot holds the approval"):
            await action


# -- configuration ---------------------------------------------------------------------------------


def test_settings_come_from_offiserv_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """OFFISERV_* fill the settings; http:// is refused outside 127.0.0.1/localhost, naming the variable."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("OFFISERV_")]:
        monkeypatch.delenv(name)
    settings = load_settings(leavebot_provider="offiserv", _env_file=None)
    monkeypatch.setenv("OFFISERV_EMAIL", EMAIL)
    with pytest.raises(ConfigError, match="OFFISERV_PASSWORD"):
        load_provider_config(settings)
    monkeypatch.setenv("OFFISERV_PASSWORD", "pa55")
    config = load_provider_config(settings)
    assert isinstance(config, OffiServProvider.Config)
    assert config.base_url == "https://offiserv-app.appspot.com"
    monkeypatch.setenv("OFFISERV_BASE_URL", "http://offiserv-app.appspot.com")
    with pytest.raises(ConfigError, match="OFFISERV_BASE_URL: must be an https:// URL") as caught:
        load_provider_config(settings)
    assert "pa55" not in str(caught.value)
    monkeypatch.setenv("OFFISERV_BASE_URL", "http://localhost:8080/")
    assert load_provider_config(settings).base_url == "http://localhost:8080"  # type: ignore[attr-defined]
    assert load_provider_config(settings).concurrency == 10  # type: ignore[attr-defined]
    monkeypatch.setenv("OFFISERV_CONCURRENCY", "0")
    with pytest.raises(ConfigError, match=r"OFFISERV_CONCURRENCY: .*greater than or equal to 1"):
        load_provider_config(settings)


# -- end to end over real HTTP, approval kept by leavebot --------------------------------------------


OffiServBot = ProviderBot[FakeOffiServ]


@pytest.fixture
async def osb(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[OffiServBot]:
    """leavebot with LEAVEBOT_PROVIDER=offiserv, served by uvicorn, talking to the fake Slack and OffiServ."""
    async with KIT.bot(slack, tmp_path) as bot:
        yield bot


async def requested(osb: OffiServBot) -> LeaveRequest:
    """Alice types a request and presses Submit; returns it once its approval card is out."""
    return await submit(osb, f"{MONDAY.isoformat()} pm for the dentist")


async def test_request_waits_in_leavebot_and_goes_to_the_chain(osb: OffiServBot) -> None:
    """Alice's request books nothing at OffiServ yet; only Bob (her chain) gets a card; Carol cannot decide."""
    request = await requested(osb)
    assert request.status == "pending" and request.booking_id is None
    assert leave_posts_to(osb.fake) == [] and osb.fake.leaves == {}
    assert [c.args["channel"] for c in osb.slack.calls_to("chat.postMessage")] == [U_BOB]
    await osb.click(ids.APPROVE, str(request.id), user=U_CAROL, hook="carol")
    [refusal] = await osb.slack.wait_for("hooks/carol")
    assert "Only an approver" in refusal.args["text"] and leave_posts_to(osb.fake) == []
