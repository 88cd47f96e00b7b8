"""What only When I Work does, against its fake over real HTTP: both logins and re-login, request times
with offsets, both date formats, status changes and decline messages, paging, approvers by role and
location, leave types, error mapping, and the whole Slack flow end to end.

The contract every provider passes is in test_contract.py; this file holds the rest.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import ALICE as U_ALICE
from conftest import BOB as U_BOB
from conftest import CAROL as U_CAROL
from conftest import MALLORY as U_MALLORY
from fakes.slack import FakeSlack
from fakes.wheniwork import (
    ACCEPTED,
    ALICE,
    API_KEY,
    BOB,
    CANCELED,
    CAROL,
    DAVE,
    DENIED,
    EXPIRED,
    MALLORY,
    MANAGER,
    PASSWORD,
    PENDING,
    SICK,
    UPTOWN,
    USERNAME,
    VACATION,
    FakeWhenIWork,
)
from helpers.bots import ProviderBot
from helpers.cards import button_value, buttons, preview_value
from helpers.kit import ProviderKit
from remote_bot import until

from bot.config import ConfigError, load_provider_config, load_settings
from bot.store.tables import LeaveRequest
from bot.views import ids
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.models import LeaveSpan, LeaveType, Part, Status
from providers.wheniwork import WhenIWorkProvider

DAY = date.today() + timedelta(days=30)
WINTER_MONDAY = date(2031, 1, 13)  # Chicago is on CST (-06:00)
SUMMER_MONDAY = date(2031, 7, 14)  # CDT (-05:00)
VACATION_TYPE = LeaveType(id=str(VACATION), name="Vacation")
UNA = 106  # a manager of Uptown only, added where a test needs her


# The fake's admin account, on the legacy login unless told.
KIT = ProviderKit(
    WhenIWorkProvider,
    FakeWhenIWork,
    lambda fake: {"api_key": API_KEY, "username": USERNAME, "password": PASSWORD, "base_url": fake.url},
    DAY,
    VACATION_TYPE,
    reason="",
)
fake, provider = KIT.fixtures()
connect, request_for = KIT.connect, KIT.request_for


def bounds(leave: LeaveSpan) -> tuple[date, Part, date, Part]:
    """A span's dates and parts."""
    return (leave.start_date, leave.start, leave.end_date, leave.end)


# -- logging in ----------------------------------------------------------------------------------------


async def test_legacy_login_sends_the_key_and_uses_the_login_objects_token(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """POST /2/login carries W-Key and the credentials; later calls carry W-Token from ``login``, not W-Key."""
    await provider.find_person("bob@example.com")
    login, search = fake.calls
    assert (login.method, login.path, login.headers) == ("POST", "/2/login", {"w-key": API_KEY})
    assert login.body == {"username": USERNAME, "password": PASSWORD}
    assert (search.path, search.query) == ("/2/users", {"search": "bob@example.com"})
    # The users in the login answer carry legacy tokens of their own, which the fake refuses.
    assert search.headers == {"w-token": next(iter(fake.tokens))}


async def test_newer_login_uses_a_bearer_token_and_the_only_workplace(fake: FakeWhenIWork) -> None:
    """With WHENIWORK_LOGIN_URL: the login service, then GET /2/login for the workplace, then Bearer + W-UserId."""
    provider = connect(fake, login_url=fake.login_url)
    await provider.find_person("bob@example.com")
    await provider.aclose()
    login, workplaces, search = fake.calls
    assert (login.path, login.headers, login.body) == (
        "/login-service/login",
        {"w-key": API_KEY},
        {"email": USERNAME, "password": PASSWORD},
    )
    token = next(iter(fake.tokens))
    assert (workplaces.path, workplaces.headers) == ("/2/login", {"authorization": f"Bearer {token}"})
    assert search.headers == {"authorization": f"Bearer {token}", "w-userid": str(DAVE)}


async def test_a_login_with_several_workplaces_needs_the_user_id(fake: FakeWhenIWork) -> None:
    """Several workplaces and no WHENIWORK_USER_ID is an operator error naming it; with it, W-UserId is sent."""
    fake.workplaces = [DAVE, BOB]
    provider = connect(fake, login_url=fake.login_url)
    with pytest.raises(ProviderAuthError, match="WHENIWORK_USER_ID"):
        await provider.leave_types()
    await provider.aclose()
    provider = connect(fake, login_url=fake.login_url, user_id=BOB)
    await provider.leave_types()
    await provider.aclose()
    assert fake.calls[-1].headers["w-userid"] == str(BOB)


async def test_an_expired_token_is_renewed_once_and_the_call_repeated(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """A 401 logs in again and repeats the call, which then succeeds."""
    await provider.leave_types()
    fake.expire_tokens()
    assert [t.name for t in await provider.leave_types()] == ["Vacation", "Sick"]
    assert [(c.method, c.path) for c in fake.calls] == [
        ("POST", "/2/login"),
        ("GET", "/2/requesttypes"),
        ("GET", "/2/requesttypes"),
        ("POST", "/2/login"),
        ("GET", "/2/requesttypes"),
    ]


async def test_a_wrong_password_is_an_operator_error_and_never_loops(fake: FakeWhenIWork) -> None:
    """A refused login raises ProviderAuthError naming the variables, once, without the password."""
    fake.password = "changed-in-when-i-work"
    provider = connect(fake)
    with pytest.raises(ProviderAuthError) as caught:
        await provider.check_connection()
    assert "WHENIWORK_PASSWORD" in caught.value.message and PASSWORD not in caught.value.message
    assert len(fake.calls_to("POST", "/2/login")) == 1
    # Expired token and a changed password: one renewal attempt, then the error.
    fake.password = PASSWORD
    await provider.leave_types()
    fake.password, before = "changed-again", len(fake.calls)
    fake.expire_tokens()
    with pytest.raises(ProviderAuthError):
        await provider.leave_types()
    await provider.aclose()
    assert [c.path for c in fake.calls[before:]] == ["/2/requesttypes", "/2/login"]


# -- booking -------------------------------------------------------------------------------------------

SHAPES = {
    "full day": (
        WINTER_MONDAY,
        "AM",
        WINTER_MONDAY,
        "PM",
        "2031-01-13T00:00:00-06:00",
        "2031-01-14T00:00:00-06:00",
    ),
    "morning": (
        WINTER_MONDAY,
        "AM",
        WINTER_MONDAY,
        "AM",
        "2031-01-13T09:00:00-06:00",
        "2031-01-13T13:00:00-06:00",
    ),
    "afternoon": (
        SUMMER_MONDAY,
        "PM",
        SUMMER_MONDAY,
        "PM",
        "2031-07-14T13:00:00-05:00",
        "2031-07-14T17:00:00-05:00",
    ),
    "hours": (
        SUMMER_MONDAY,
        570,
        SUMMER_MONDAY,
        690,
        "2031-07-14T09:30:00-05:00",
        "2031-07-14T11:30:00-05:00",
    ),
    "afternoon to morning": (
        WINTER_MONDAY,
        "PM",
        WINTER_MONDAY + timedelta(days=2),
        "AM",
        "2031-01-13T13:00:00-06:00",
        "2031-01-15T13:00:00-06:00",
    ),
    "across the clock change": (
        date(2031, 3, 8),
        "AM",
        date(2031, 3, 10),
        "PM",
        "2031-03-08T00:00:00-06:00",
        "2031-03-11T00:00:00-05:00",
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
async def test_request_times_carry_the_accounts_offset(
    fake: FakeWhenIWork, provider: WhenIWorkProvider, shape: str
) -> None:
    """Mornings, afternoons, hours and full days become times in the account's zone, with its offset that day."""
    first, start, last, end, start_time, end_time = SHAPES[shape]
    request = await request_for(provider, "alice@example.com", start, end, day=first, end_date=last)  # type: ignore[arg-type]
    booking = await provider.submit(request)
    [call] = fake.calls_to("POST", "/2/requests")
    assert call.body == {
        "user_id": ALICE,
        "start_time": start_time,
        "end_time": end_time,
        "status": PENDING,
        "type_id": VACATION,
    }
    assert booking.status is Status.PENDING


@pytest.mark.parametrize("iso_dates", [False, True], ids=["legacy dates", "ISO 8601 dates"])
async def test_bookings_read_back_as_they_were_made_in_both_date_formats(
    fake: FakeWhenIWork, provider: WhenIWorkProvider, iso_dates: bool
) -> None:
    """Whether When I Work writes 'Fri, 14 Mar 2014 00:00:00 -0500' or ISO 8601, every shape reads back the same."""
    fake.iso_dates = iso_dates
    for first, start, last, end, *_ in SHAPES.values():
        request = await request_for(provider, "alice@example.com", start, end, day=first, end_date=last)  # type: ignore[arg-type]
        booking = await provider.submit(request)
        (absence,) = [a for a in await provider.absences(last, last) if a.id == booking.id]
        assert bounds(absence) == bounds(request)
        assert (absence.person.email, absence.leave_type, absence.status) == (
            "alice@example.com",
            "Vacation",
            Status.PENDING,
        )


async def test_times_written_in_when_i_work_are_read_as_parts(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """A day ending 23:59, a shift-length range over days and a short range read as all day, AM..PM and hours."""
    whole = fake.add_request(ALICE, fake.local(DAY), fake.local(DAY, 23, 59))
    later = DAY + timedelta(days=7)
    days = fake.add_request(ALICE, fake.local(later, 8), fake.local(later + timedelta(days=2), 17))
    short = fake.add_request(MALLORY, fake.local(DAY, 10), fake.local(DAY, 12, 30))
    found = {a.id: a for a in await provider.absences(DAY, later + timedelta(days=2))}
    assert bounds(found[str(whole)]) == (DAY, "AM", DAY, "PM")
    assert bounds(found[str(days)]) == (later, "AM", later + timedelta(days=2), "PM")
    assert bounds(found[str(short)]) == (DAY, 600, DAY, 750)


async def test_half_day_times_are_configurable(fake: FakeWhenIWork) -> None:
    """WHENIWORK_MORNING=08:00-12:00 books a morning as 08:00–12:00, which reads back as a morning."""
    provider = connect(fake, morning="08:00-12:00", afternoon="12:30-16:30")
    booking = await provider.submit(
        await request_for(provider, "alice@example.com", "AM", "AM", day=WINTER_MONDAY)
    )
    [absence] = await provider.absences(WINTER_MONDAY, WINTER_MONDAY)
    await provider.aclose()
    [call] = fake.calls_to("POST", "/2/requests")
    assert (call.body["start_time"], call.body["end_time"]) == (
        "2031-01-13T08:00:00-06:00",
        "2031-01-13T12:00:00-06:00",
    )
    assert (absence.id, absence.start, absence.end) == (booking.id, "AM", "AM")


async def test_the_requesters_reason_is_posted_as_a_message(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """The request has no reason field: the reason goes on it as a message."""
    booking = await provider.submit(await request_for(provider, "alice@example.com", reason="dentist"))
    [message] = fake.messages_on(int(booking.id))
    assert (message["title"], message["content"]) == ("Reason", "dentist")


async def test_built_in_types_are_offered_and_sent_when_the_account_has_none(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """No /requesttypes (404): the four built-in types, booked with the ``type`` code and read back by name."""
    fake.request_types = None
    types = await provider.leave_types()
    assert [t.name for t in types] == ["Unpaid Time Off", "Paid Time Off", "Sick Leave", "Holiday"]
    booking = await provider.submit(await request_for(provider, "alice@example.com", leave_type=types[2]))
    [call] = fake.calls_to("POST", "/2/requests")
    assert call.body["type"] == 2 and "type_id" not in call.body
    [absence] = await provider.absences(DAY, DAY)
    assert (absence.id, absence.leave_type) == (booking.id, "Sick Leave")


async def test_only_enabled_request_types_are_offered(
    provider: WhenIWorkProvider, fake: FakeWhenIWork
) -> None:
    """Deleted or disabled request types are left out; an empty list also falls back to the built-ins."""
    assert [(t.id, t.name) for t in await provider.leave_types()] == [
        (str(VACATION), "Vacation"),
        (str(SICK), "Sick"),
    ]
    fake.request_types = []
    assert len(await provider.leave_types()) == 4


# -- decisions -------------------------------------------------------------------------------------------


async def test_approve_sets_status_2_once(fake: FakeWhenIWork, provider: WhenIWorkProvider) -> None:
    """Approve PUTs status 2; a second approve reads the request and reports it already accepted, with no PUT."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    first = await provider.approve(booking.id)
    second = await provider.approve(booking.id)
    assert [c.body for c in fake.calls_to("PUT", f"/2/requests/{booking.id}")] == [{"status": ACCEPTED}]
    assert fake.requests[int(booking.id)]["user_status"] == ACCEPTED
    assert (first.status, first.already_actioned) == (Status.APPROVED, False)
    assert (second.status, second.already_actioned) == (Status.APPROVED, True)


async def test_decline_sets_status_4_and_posts_the_reason(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """Decline PUTs status 4 (read back from user_status) and attaches the reason as a message on the request."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    outcome = await provider.decline(booking.id, "Stocktake that week")
    assert (outcome.status, outcome.already_actioned) == (Status.DECLINED, False)
    assert fake.requests[int(booking.id)]["user_status"] == DENIED
    [message] = fake.messages_on(int(booking.id))
    assert (message["title"], message["content"]) == ("Request denied", "Stocktake that week")
    assert await provider.absences(DAY, DAY) == []  # a denied request is nobody's absence
    again = await provider.cancel(booking.id)
    assert (again.status, again.already_actioned) == (Status.DECLINED, True)


async def test_a_decision_made_in_when_i_work_first_is_reported(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """A request a manager already denied in When I Work: approve reports it declined, and changes nothing."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    fake.requests[int(booking.id)]["user_status"] = DENIED
    outcome = await provider.approve(booking.id)
    assert (outcome.status, outcome.already_actioned) == (Status.DECLINED, True)
    assert fake.calls_to("PUT", f"/2/requests/{booking.id}") == []


async def test_cancel_sets_status_1_and_the_request_can_then_be_deleted(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """The fake holds to the document: only a canceled request can be deleted (500 before)."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    await provider.approve(booking.id)
    url, headers = f"{fake.url}/requests/{booking.id}", {"W-Token": next(iter(fake.tokens))}
    async with httpx.AsyncClient() as raw:
        refused = await raw.delete(url, headers=headers)
        outcome = await provider.cancel(booking.id)
        deleted = await raw.delete(url, headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (
        500,
        "The request must be canceled before it can be deleted",
    )
    assert (outcome.status, outcome.already_actioned) == (Status.CANCELLED, False)
    assert fake.calls_to("PUT", f"/2/requests/{booking.id}")[-1].body == {"status": CANCELED}
    assert (deleted.status_code, deleted.json()) == (200, {"success": True})


# -- listing ---------------------------------------------------------------------------------------------


async def test_every_page_is_read_and_side_loaded_users_are_used(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """450 requests come in pages of 200 while ``more``; people come from the side-loaded users, not extra calls."""
    for n in range(450):
        fake.add_request((ALICE, MALLORY)[n % 2], fake.local(DAY, 9), fake.local(DAY, 10))
    found = await provider.absences(DAY, DAY)
    assert len(found) == 450 and {a.person.name for a in found} == {"Alice Archer", "Mallory Meddler"}
    pages = fake.calls_to("GET", "/2/requests")
    assert [(c.query["page"], c.query["limit"]) for c in pages] == [("0", "200"), ("1", "200"), ("2", "200")]
    assert [c.path for c in fake.calls if c.path.startswith("/2/users")] == []


async def test_absences_are_pending_and_accepted_requests_only(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """Canceled, expired and denied requests are not absences."""
    made = {s: fake.add_request(ALICE, fake.local(DAY), fake.local(DAY, 23, 59), status=s) for s in range(5)}
    statuses = {a.id: a.status for a in await provider.absences(DAY, DAY)}
    assert statuses == {str(made[PENDING]): Status.PENDING, str(made[ACCEPTED]): Status.APPROVED}
    assert {EXPIRED, CANCELED, DENIED}.isdisjoint(int(i) for i in statuses)


async def test_one_persons_absences_use_the_user_filter(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """absences_of asks When I Work for that user's requests only."""
    mine = fake.add_request(ALICE, fake.local(DAY, 9), fake.local(DAY, 13))
    fake.add_request(MALLORY, fake.local(DAY, 9), fake.local(DAY, 13))
    alice = await provider.find_person("alice@example.com")
    assert [a.id for a in await provider.absences_of(alice, DAY, DAY)] == [str(mine)]
    assert fake.calls_to("GET", "/2/requests")[-1].query["user_id"] == str(ALICE)


async def test_a_booking_that_began_last_week_is_off_today(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """A two-week request overlapping the asked day is listed, whatever day it started."""
    long = fake.add_request(BOB, fake.local(DAY - timedelta(days=7)), fake.local(DAY + timedelta(days=7)))
    assert [a.id for a in await provider.absences(DAY, DAY)] == [str(long)]


# -- people ----------------------------------------------------------------------------------------------


async def test_people_match_their_exact_address_only(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """The search matches parts of names and addresses; only the exact address (any case) is taken."""
    fake.users.append({**fake.users[0], "id": 199, "email": "alice@example.com.evil", "first_name": "Eve"})
    alice = await provider.find_person("ALICE@example.com")
    assert (alice.id, alice.name, alice.email) == (str(ALICE), "Alice Archer", "alice@example.com")
    with pytest.raises(ProviderNotFound):
        await provider.find_person("alice@example")


async def test_approvers_are_the_managers_and_supervisors_of_the_requesters_locations(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """Alice (Downtown): Bob (manager there) and Carol (supervisor there), not Una (Uptown's manager) nor the
    admin; Mallory (Uptown): Bob and Una; a manager (Bob): the admin; someone with no manager or supervisor
    at their location: the admin."""
    fake.users.append({**fake.users[1], "id": 198, "email": "gone@example.com", "is_deleted": True})
    fake.add_user(UNA, "Una Uptown", "una@example.com", role=MANAGER, locations=[UPTOWN])
    fake.add_user(107, "Zed Nowhere", "zed@example.com", locations=[99])

    async def approvers_of(email: str) -> set[int]:
        return {int(p.id) for p in await provider.approvers(await provider.find_person(email))}

    assert await approvers_of("alice@example.com") == {BOB, CAROL}
    assert await approvers_of("mallory@example.com") == {BOB, UNA}
    assert await approvers_of("bob@example.com") == {DAVE}
    assert await approvers_of("carol@example.com") == {BOB}
    assert await approvers_of("zed@example.com") == {DAVE}
    assert await approvers_of(USERNAME) == set()  # the only admin: nobody above


async def test_approvers_all_keeps_every_admin_and_manager(fake: FakeWhenIWork) -> None:
    """WHENIWORK_APPROVERS=all: admins and managers approve everyone, supervisors their locations' people."""
    fake.add_user(UNA, "Una Uptown", "una@example.com", role=MANAGER, locations=[UPTOWN])
    provider = connect(fake, approvers="all")

    async def approvers_of(email: str) -> set[int]:
        return {int(p.id) for p in await provider.approvers(await provider.find_person(email))}

    try:
        assert await approvers_of("alice@example.com") == {BOB, CAROL, DAVE, UNA}
        assert await approvers_of("mallory@example.com") == {BOB, DAVE, UNA}
        assert await approvers_of("bob@example.com") == {DAVE, UNA}
    finally:
        await provider.aclose()


# -- errors and limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (400, ProviderRejected, "When I Work could not accept the request: Bad dates."),
        (403, ProviderAuthError, "admin or manager role"),
        (404, ProviderNotFound, "When I Work could not find it: Bad dates."),
        (405, ProviderError, "does not allow that method"),
        (406, ProviderError, "could not answer in JSON"),
        (410, ProviderNotFound, "When I Work has removed it"),
        (418, ProviderError, "teapot"),
        (500, ProviderUnavailable, "try again later: Bad dates."),
        (503, ProviderUnavailable, "offline for maintenance"),
    ],
)
async def test_the_error_table_becomes_typed_errors_in_plain_words(
    fake: FakeWhenIWork, provider: WhenIWorkProvider, status: int, error: type[ProviderError], words: str
) -> None:
    """Each documented code raises its typed error, with When I Work's own ``error`` text after ours."""
    await provider.absences(DAY, DAY)  # signed in, the account's zone read
    fake.fail_next(status=status, message="Bad dates.")
    with pytest.raises(error) as caught:
        await provider.absences(DAY, DAY)
    assert words in caught.value.message and type(caught.value) is error


async def test_an_empty_400_still_says_what_happened(
    fake: FakeWhenIWork, provider: WhenIWorkProvider
) -> None:
    """The documented empty text/plain 400 becomes a plain refusal."""
    await provider.absences(DAY, DAY)
    fake.fail_next(status=400)
    with pytest.raises(ProviderRejected, match=r"^When I Work could not accept the request$"):
        await provider.absences(DAY, DAY)


async def test_unknown_request_and_unknown_type_are_plain_errors(provider: WhenIWorkProvider) -> None:
    """A request id When I Work never issued is not found; an unknown request type is refused in its words."""
    with pytest.raises(ProviderNotFound, match="Request not found"):
        await provider.approve("424242")
    with pytest.raises(ProviderRejected, match="Unknown request type"):
        await provider.submit(
            await request_for(provider, "alice@example.com", leave_type=LeaveType(id="9", name="?"))
        )


@pytest.mark.parametrize("status", [429, 403])
async def test_a_rate_limit_is_waited_out(
    fake: FakeWhenIWork, provider: WhenIWorkProvider, status: int
) -> None:
    """A 429, or a 403 that says to slow down, is retried after its Retry-After."""
    await provider.absences(DAY, DAY)
    fake.fail_next(1, status=status, retry_after="0")
    assert await provider.absences(DAY, DAY) == []
    assert len(fake.calls_to("GET", "/2/requests")) == 3


@pytest.mark.parametrize("status", [429, 403])
async def test_a_long_rate_limit_is_reported(
    fake: FakeWhenIWork, provider: WhenIWorkProvider, status: int
) -> None:
    """A wait longer than a Slack user should bear raises ProviderRateLimited with it."""
    await provider.absences(DAY, DAY)
    fake.fail_next(1, status=status, retry_after="60")
    with pytest.raises(ProviderRateLimited) as caught:
        await provider.absences(DAY, DAY)
    assert caught.value.retry_after == 60


async def test_a_foreign_workplace_is_a_permission_error(fake: FakeWhenIWork) -> None:
    """A W-UserId the login has no access to is a 403 that names the role needed, not a rate limit."""
    provider = connect(fake, user_id=MALLORY)
    with pytest.raises(ProviderAuthError, match="access to that workplace") as caught:
        await provider.leave_types()
    await provider.aclose()
    assert "admin or manager" in caught.value.message


def test_settings_come_from_wheniwork_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """WHENIWORK_* variables fill the settings; a missing key or a bad half day is an error naming its variable."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("WHENIWORK_")]:
        monkeypatch.delenv(name)
    settings = load_settings(leavebot_provider="wheniwork", _env_file=None)
    with pytest.raises(ConfigError, match="WHENIWORK_API_KEY"):
        load_provider_config(settings)
    for name, value in {"API_KEY": "k", "USERNAME": "bot@x.com", "PASSWORD": "p", "USER_ID": "4364"}.items():
        monkeypatch.setenv(f"WHENIWORK_{name}", value)
    config = load_provider_config(settings)
    assert isinstance(config, WhenIWorkProvider.Config)
    assert (config.base_url, config.login_url, config.user_id, config.morning) == (
        "https://api.wheniwork.com/2",
        None,
        4364,
        "09:00-13:00",
    )
    monkeypatch.setenv("WHENIWORK_AFTERNOON", "12:00-17:00")
    with pytest.raises(ConfigError, match="WHENIWORK_AFTERNOON: must start when the morning ends"):
        load_provider_config(settings)
    monkeypatch.setenv("WHENIWORK_AFTERNOON", "1pm")
    with pytest.raises(ConfigError, match="WHENIWORK_AFTERNOON"):
        load_provider_config(settings)


# -- end to end over real HTTP ---------------------------------------------------------------------------


WhenIWorkBot = ProviderBot[FakeWhenIWork]


@pytest.fixture
async def wiw(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[WhenIWorkBot]:
    """leavebot with LEAVEBOT_PROVIDER=wheniwork, served by uvicorn (SQLite; the Slack flow runs on both in test_e2e.py)."""
    async with KIT.bot(slack, tmp_path) as bot:
        yield bot


async def submitted(wiw: WhenIWorkBot) -> LeaveRequest:
    """Alice asks for an afternoon and presses Submit; returns the request once both approval cards are out."""
    preview = await wiw.command(f"{DAY.isoformat()} pm for the dentist")
    await wiw.click(ids.SUBMIT, preview_value(preview.json()), user=U_ALICE, hook="submit")
    cards = await wiw.slack.wait_for("chat.postMessage", count=2)
    request = await wiw.service.deps.store.request(
        request_id=int(button_value(cards[0].args["blocks"], ids.APPROVE))
    )
    assert request is not None and request.booking_id is not None
    return request


def dms_to(wiw: WhenIWorkBot, user: str) -> list[str]:
    """Texts of the messages the bot sent to a user's DM."""
    return [c.args["text"] for c in wiw.slack.calls_to("chat.postMessage") if c.args["channel"] == user]


async def test_approve_in_slack_accepts_the_request_in_when_i_work(wiw: WhenIWorkBot) -> None:
    """Alice's afternoon is booked pending as her; her manager and supervisor get cards; Bob approves → status 2."""
    request = await submitted(wiw)
    [call] = wiw.fake.calls_to("POST", "/2/requests")
    assert call.body["user_id"] == ALICE and call.body["start_time"].endswith(
        ("T13:00:00-05:00", "T13:00:00-06:00")
    )
    assert sorted(c.args["channel"] for c in wiw.slack.calls_to("chat.postMessage")) == [U_BOB, U_CAROL]
    booking = int(request.booking_id or 0)
    assert wiw.fake.requests[booking]["user_status"] == PENDING
    await wiw.click(ids.APPROVE, str(request.id), user=U_BOB)
    [update, *_] = await wiw.slack.wait_for("chat.update")
    assert buttons(update.args["blocks"]) == []
    assert wiw.fake.requests[booking]["user_status"] == ACCEPTED
    await until(lambda: _has_dm(wiw, U_ALICE, "approved"))
    assert [c.body for c in wiw.fake.calls_to("PUT", f"/2/requests/{booking}")] == [{"status": ACCEPTED}]


async def test_decline_in_slack_denies_it_with_the_reason_as_a_message(wiw: WhenIWorkBot) -> None:
    """Carol declines with a reason: When I Work holds it denied with her reason on it; Alice is told."""
    request = await submitted(wiw)
    await wiw.click(ids.DECLINE, str(request.id), user=U_CAROL)
    [opened] = await wiw.slack.wait_for("views.open")
    reason = {
        ids.DECLINE_REASON: {ids.DECLINE_REASON: {"type": "plain_text_input", "value": "Inventory day"}}
    }
    await wiw.submit_view(
        ids.DECLINE_MODAL, reason, user=U_CAROL, private_metadata=opened.args["view"]["private_metadata"]
    )
    await wiw.slack.wait_for("chat.update")
    booking = int(request.booking_id or 0)
    assert wiw.fake.requests[booking]["user_status"] == DENIED
    assert [m["content"] for m in wiw.fake.messages_on(booking)] == ["the dentist", "Inventory day"]
    await until(lambda: _has_dm(wiw, U_ALICE, "> Inventory day"))


async def _has_dm(wiw: WhenIWorkBot, user: str, words: str) -> bool:
    return any(words in t for t in dms_to(wiw, user))


@pytest.mark.parametrize(
    ("setting", "carded"), [({}, [U_BOB, U_CAROL]), ({"approvers": "all"}, [U_BOB, U_CAROL, U_MALLORY])]
)
async def test_cards_go_to_the_requesters_own_managers_unless_every_manager_is_asked(
    slack: FakeSlack, tmp_path: Path, setting: dict[str, str], carded: list[str]
) -> None:
    """Mallory manages Uptown only: Alice's (Downtown) request reaches Bob and Carol, and Mallory only with
    WHENIWORK_APPROVERS=all; a manager not asked cannot approve it."""
    with FakeWhenIWork() as server:
        server.set_user(MALLORY, role=MANAGER, locations=[UPTOWN])
        async with KIT.bot(slack, tmp_path, server, **setting) as wiw:
            preview = await wiw.command(f"{DAY.isoformat()} pm for the dentist")
            await wiw.click(ids.SUBMIT, preview_value(preview.json()), user=U_ALICE, hook="submit")
            cards = await wiw.slack.wait_for("chat.postMessage", count=len(carded))
            await wiw.drain()
            assert sorted(c.args["channel"] for c in wiw.slack.calls_to("chat.postMessage")) == carded
            if U_MALLORY not in carded:
                request_id = button_value(cards[0].args["blocks"], ids.APPROVE)
                await wiw.click(ids.APPROVE, request_id, user=U_MALLORY, hook="mallory")
                [refusal] = await wiw.slack.wait_for("hooks/mallory")
                assert "Only an approver" in refusal.args["text"]
                await wiw.drain()
                assert [r["user_status"] for r in server.requests.values()] == [PENDING]
