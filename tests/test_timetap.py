"""What only TimeTap does, against its fake over real HTTP: the signed session and its renewal, military
times both ways, mixed value forms, one block for several days, soft delete, the time-off listing,
and the whole Slack flow with the approval kept by leavebot.

The contract every provider passes is in test_contract.py; this file holds the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ALICE as U_ALICE
from conftest import BOB as U_BOB
from conftest import CAROL as U_CAROL
from fakes.slack import FakeSlack
from fakes.timetap import (
    ALICE,
    API_KEY,
    BOB,
    BUSINESS_ID,
    CAROL,
    HAIRCUT,
    MALLORY,
    PRIVATE_KEY,
    SICK,
    VACATION,
    FakeTimeTap,
)
from helpers.bots import ProviderBot, has_dm
from helpers.bots import submitted as submit
from helpers.kit import ProviderKit
from remote_bot import until
from test_home import click_in_home

from bot.config import ConfigError, load_provider_config, load_settings
from bot.store.tables import LeaveRequest
from bot.views import ids
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
)
from providers.models import LeaveType, Part, Person, Status
from providers.timetap import TimeTapProvider

# A Monday some weeks ahead, so Monday to Wednesday is one working week.
DAY = date.today() + timedelta(weeks=6, days=-date.today().weekday())
VACATION_TYPE = LeaveType(id=str(VACATION), name="Vacation")
APPROVERS = "alice@example.com=bob@example.com; *=carol@example.com"


# Alice's approver is Bob, everyone else's Carol.
KIT = ProviderKit(
    TimeTapProvider,
    FakeTimeTap,
    lambda fake: {
        "api_key": API_KEY,
        "private_key": PRIVATE_KEY,
        "business_id": BUSINESS_ID,
        "base_url": fake.url,
        "approvers": APPROVERS,
    },
    DAY,
    VACATION_TYPE,
)
fake, provider = KIT.fixtures()
connect, request_for = KIT.connect, KIT.request_for


def sent_times(fake: FakeTimeTap) -> list[tuple[str, str]]:
    """startTime and endTime of every timeOffBulk call."""
    return [(c.body["startTime"], c.body["endTime"]) for c in fake.calls_to("POST", "/timeOffBulk")]


# -- the session -------------------------------------------------------------------------------------


async def test_session_is_signed_with_md5_of_the_api_key_then_the_private_key(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """One GET /sessionToken with apiKey, a unix timestamp and md5(apiKey + privateKey); then Bearer on every call."""
    await provider.leave_types()
    await provider.find_person("bob@example.com")
    [session] = fake.calls_to("GET", "/sessionToken")
    expected = hashlib.md5((API_KEY + PRIVATE_KEY).encode(), usedforsecurity=False).hexdigest()
    assert (session.query["apiKey"], session.query["signature"]) == (API_KEY, expected)
    assert abs(int(session.query["timestamp"]) - time.time()) < 600
    [token] = fake.tokens
    assert {c.authorization for c in fake.calls if c.path != "/sessionToken"} == {f"Bearer {token}"}


async def test_wrong_private_key_is_an_operator_error_without_secrets(fake: FakeTimeTap) -> None:
    """A refused signature raises ProviderAuthError naming TIMETAP_PRIVATE_KEY, never a key or the signature."""
    provider = connect(fake, private_key="not-the-key")
    with pytest.raises(ProviderAuthError) as caught:
        await provider.check_connection()
    await provider.aclose()
    message = caught.value.message
    assert "TIMETAP_PRIVATE_KEY" in message
    assert all(
        secret not in message for secret in ("not-the-key", PRIVATE_KEY, fake.calls[0].query["signature"])
    )
    assert [c.path for c in fake.calls] == ["/sessionToken"]


@pytest.mark.parametrize("status", [401, 403])
async def test_expired_session_is_renewed_once_and_the_call_repeated(
    fake: FakeTimeTap, provider: TimeTapProvider, status: int
) -> None:
    """A session refused with 401 or 403 is signed in again once, and the refused call repeated."""
    fake.expired_status = status
    await provider.leave_types()
    fake.expire_sessions()
    assert [t.name for t in await provider.leave_types()] == ["Vacation", "Sick"]
    assert len(fake.calls_to("GET", "/sessionToken")) == 2
    assert len(fake.calls_to("GET", "/services")) == 3  # the first, the refused one, its repeat


async def test_a_new_session_refused_at_once_is_never_retried_in_a_loop(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """When even a fresh token is refused, the provider gives up after one renewal with ProviderAuthError."""
    fake.refuse_sessions = True
    with pytest.raises(ProviderAuthError):
        await provider.leave_types()
    assert len(fake.calls_to("GET", "/sessionToken")) == 2
    assert len(fake.calls_to("GET", "/services")) == 2


async def test_concurrent_first_calls_share_one_sign_in(fake: FakeTimeTap, provider: TimeTapProvider) -> None:
    """Five calls at once sign in once."""
    await asyncio.gather(*(provider.leave_types() for _ in range(5)))
    assert len(fake.calls_to("GET", "/sessionToken")) == 1


# -- booking -----------------------------------------------------------------------------------------


async def test_booking_sends_the_documented_body(fake: FakeTimeTap, provider: TimeTapProvider) -> None:
    """An afternoon is one POST /timeOffBulk for Alice's staff id, 1300 to 1700, with the reason as TimeTap sent it."""
    booking = await provider.submit(await request_for(provider, start="PM", end="PM"))
    [call] = fake.calls_to("POST", "/timeOffBulk")
    assert call.body == {
        "appliesTo": "staff",
        "assignedTo": "select",
        "businessId": str(BUSINESS_ID),
        "staffId": [ALICE],
        "startDate": DAY.isoformat(),
        "endDate": DAY.isoformat(),
        "startTime": "1300",
        "endTime": "1700",
        "reason": fake.reasons[0],
        "repeats": False,
        "description": "tests",
    }
    [record] = fake.time_off.values()
    assert (booking.id, booking.status) == (str(record["timeOffId"]), Status.APPROVED)


@pytest.mark.parametrize(
    ("start", "end", "military"),
    [
        ("AM", "AM", ("0900", "1300")),
        ("PM", "PM", ("1300", "1700")),
        ("AM", "PM", ("0900", "1700")),
        (570, 720, ("0930", "1200")),
    ],
)
async def test_parts_are_sent_as_military_times_and_read_back_as_booked(
    fake: FakeTimeTap, provider: TimeTapProvider, start: Part, end: Part, military: tuple[str, str]
) -> None:
    """A morning is 0900–1300, an afternoon 1300–1700, hours as they are; each reads back as it was made."""
    booking = await provider.submit(await request_for(provider, start=start, end=end))
    assert sent_times(fake) == [military]
    [absence] = await provider.absences(DAY, DAY)
    assert (absence.id, absence.start, absence.end, absence.status) == (
        booking.id,
        start,
        end,
        Status.APPROVED,
    )


async def test_working_hours_come_from_configuration(fake: FakeTimeTap) -> None:
    """With an 08:30–16:30 day split at 12:00, a morning is 0830–1200, and 0900–1300 reads as plain hours."""
    provider = connect(fake, day_start="08:30", day_split="12:00", day_end="16:30")
    await provider.submit(await request_for(provider, start="AM", end="AM"))
    fake.add_time_off(BOB, DAY, DAY, start_time="0900", end_time="1300")
    assert sent_times(fake) == [("0830", "1200")]
    parts = {a.person.email: (a.start, a.end) for a in await provider.absences(DAY, DAY)}
    assert parts == {"alice@example.com": ("AM", "AM"), "bob@example.com": (540, 780)}
    await provider.aclose()


async def test_times_and_statuses_are_read_in_either_form(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """Times as 900 or "0900", statuses as Open, OPEN or Closed read alike; Cancelled in any case is not an absence."""
    fake.add_time_off(ALICE, DAY, DAY, start_time=900, end_time="1300", status="OPEN")
    fake.add_time_off(BOB, DAY, DAY, start_time="1300", end_time=1700, status="open")
    fake.add_time_off(CAROL, DAY, DAY, start_time="0900", end_time=1700, status="Closed")
    fake.add_time_off(MALLORY, DAY, DAY, status="CANCELLED")
    found = {a.person.email: (a.part_on(DAY), a.status) for a in await provider.absences(DAY, DAY)}
    assert found == {
        "alice@example.com": ("morning", Status.APPROVED),
        "bob@example.com": ("afternoon", Status.APPROVED),
        "carol@example.com": ("all day", Status.APPROVED),
    }


@pytest.mark.parametrize(
    ("days", "times", "parts"),
    [
        (0, ("0000", "2359"), ("AM", "PM")),  # a whole day blocked in TimeTap's calendar
        (0, (1000, 1130), (600, 690)),
        (2, ("0800", "1200"), ("AM", "AM")),  # several days with other hours: the nearest half days
        (2, ("1400", "1800"), ("PM", "PM")),
    ],
)
async def test_other_hours_booked_in_timetap_read_as_the_nearest_parts(
    fake: FakeTimeTap, provider: TimeTapProvider, days: int, times: tuple[Any, Any], parts: tuple[Part, Part]
) -> None:
    """Time off made in TimeTap with hours other than the working day's still reads as a valid span."""
    fake.add_time_off(ALICE, DAY, DAY + timedelta(days=days), start_time=times[0], end_time=times[1])
    [absence] = await provider.absences(DAY, DAY)
    assert (absence.start, absence.end) == parts


async def test_several_days_are_one_block_from_the_first_start_to_the_last_end(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """Monday afternoon to Wednesday morning is one time off, Mon 1300 to Wed 1300; Tuesday reads as all day."""
    wednesday = DAY + timedelta(days=2)
    booking = await provider.submit(await request_for(provider, start="PM", end="AM", end_date=wednesday))
    [call] = fake.calls_to("POST", "/timeOffBulk")
    assert (call.body["startDate"], call.body["endDate"]) == (DAY.isoformat(), wednesday.isoformat())
    assert sent_times(fake) == [("1300", "1300")] and len(fake.time_off) == 1
    words = []
    for day in (DAY, DAY + timedelta(days=1), wednesday):
        [absence] = await provider.absences(day, day)
        assert absence.id == booking.id
        words.append(absence.part_on(day))
    assert words == ["afternoon", "all day", "morning"]


async def test_request_naming_no_leave_type_books_the_configured_reason(fake: FakeTimeTap) -> None:
    """TIMETAP_REASON_NAME picks the reason (whatever its case) and puts it first among the leave types."""
    provider = connect(fake, reason_name="sick")
    assert [t.name for t in await provider.leave_types()] == ["Sick", "Vacation"]
    await provider.submit(await request_for(provider, leave_type=None))
    [call] = fake.calls_to("POST", "/timeOffBulk")
    assert call.body["reason"]["reasonId"] == SICK
    await provider.aclose()


async def test_a_configured_reason_timetap_lacks_fails_the_connection_check(fake: FakeTimeTap) -> None:
    """A TIMETAP_REASON_ID that is no PERSONAL reason (a haircut is a service) is reported at start, by name."""
    provider = connect(fake, reason_id=HAIRCUT)
    with pytest.raises(ProviderError, match=f"TIMETAP_REASON_ID {HAIRCUT}"):
        await provider.check_connection()
    await provider.aclose()


async def test_validate_refuses_what_timetap_could_not_book(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """A leave type that is no time-off reason, or someone who is not staff, is refused before anyone approves."""
    haircut = LeaveType(id=str(HAIRCUT), name="Haircut")
    with pytest.raises(ProviderRejected, match="Haircut is not a time-off reason"):
        await provider.validate(await request_for(provider, leave_type=haircut))
    stranger = (await request_for(provider)).model_copy(
        update={"requester": Person(id="123", name="Stranger")}
    )
    with pytest.raises(ProviderRejected, match="Stranger is not TimeTap staff"):
        await provider.validate(stranger)
    await provider.validate(await request_for(provider))
    assert fake.calls_to("POST", "/timeOffBulk") == []


async def test_approve_and_decline_are_never_asked_of_timetap(provider: TimeTapProvider) -> None:
    """TimeTap has no pending state: approve and decline raise, saying leavebot holds the approval."""
    with pytest.raises(ProviderError, match="leavebot holds the approval"):
        await provider.approve("1")
    with pytest.raises(ProviderError, match="leavebot holds the approval"):
        await provider.decline("1", "no")


# -- cancel ------------------------------------------------------------------------------------------


async def test_cancel_is_a_soft_delete_reported_once(fake: FakeTimeTap, provider: TimeTapProvider) -> None:
    """Cancel DELETEs the time off, which TimeTap keeps inactive; it leaves the listing; a second cancel says so."""
    booking = await provider.submit(await request_for(provider))
    first = await provider.cancel(booking.id)
    assert (first.status, first.already_actioned) == (Status.CANCELLED, False)
    assert fake.time_off[int(booking.id)]["active"] is False
    assert await provider.absences(DAY, DAY) == []
    again = await provider.cancel(booking.id)
    assert (again.status, again.already_actioned) == (Status.CANCELLED, True)
    assert len(fake.calls_to("DELETE", f"/timeOff/{booking.id}")) == 1


# -- listing and people ------------------------------------------------------------------------------


async def test_listing_asks_the_report_for_time_off_only(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """The report is asked with onlyTimeOff=1 and excludeTimeOff=false: a client's appointment is not an absence."""
    fake.add_appointment(ALICE, DAY)
    holiday = fake.add_time_off(BOB, DAY, DAY)
    assert [a.id for a in await provider.absences(DAY, DAY)] == [str(holiday)]
    [call] = fake.calls_to("GET", "/appointments/report")
    assert (call.query["onlyTimeOff"], call.query["excludeTimeOff"]) == ("1", "false")
    assert call.query["endDate"] == DAY.isoformat()


async def test_time_off_that_began_before_the_range_is_found(
    fake: FakeTimeTap, provider: TimeTapProvider
) -> None:
    """A block from five days earlier to two days later is off on DAY, though the report filters by start date."""
    holiday = fake.add_time_off(ALICE, DAY - timedelta(days=5), DAY + timedelta(days=2))
    [absence] = await provider.absences(DAY, DAY)
    assert absence.id == str(holiday) and absence.person.name == "Alice Archer"


async def test_long_ranges_are_read_page_by_page(fake: FakeTimeTap, provider: TimeTapProvider) -> None:
    """250 time offs over 60 days come from the paged report, pages 1 to 3, each once."""
    for n in range(250):
        fake.add_time_off(
            [ALICE, BOB, CAROL, MALLORY][n % 4], DAY + timedelta(days=n % 60), DAY + timedelta(days=n % 60)
        )
    absences = await provider.absences(DAY, DAY + timedelta(days=59))
    assert len({a.id for a in absences}) == 250
    pages = sorted(
        int(c.query["pageNumber"]) for c in fake.calls_to("GET", "/appointmentList/reportWithCount")
    )
    assert pages == [1, 2, 3] and fake.calls_to("GET", "/appointments/report") == []


async def test_staff_are_matched_by_email_whatever_its_case(provider: TimeTapProvider) -> None:
    """Alice's address is stored with capitals: any case finds her, lower-cased; nobody else is ProviderNotFound."""
    alice = await provider.find_person("ALICE@example.COM")
    assert (alice.id, alice.name, alice.email) == (str(ALICE), "Alice Archer", "alice@example.com")
    with pytest.raises(ProviderNotFound):
        await provider.find_person("nobody@example.com")


async def test_approvers_come_from_timetap_approvers(provider: TimeTapProvider) -> None:
    """TIMETAP_APPROVERS names Bob for Alice and Carol for everyone else, as LOCAL_APPROVERS would."""
    alice, bob = [await provider.find_person(f"{n}@example.com") for n in ("alice", "bob")]
    assert [a.email for a in await provider.approvers(alice)] == ["bob@example.com"]
    assert [a.email for a in await provider.approvers(bob)] == ["carol@example.com"]


# -- rate limits -------------------------------------------------------------------------------------


async def test_a_short_429_is_waited_out(fake: FakeTimeTap, provider: TimeTapProvider) -> None:
    """A 429 with Retry-After 0 is retried and the call succeeds."""
    fake.fail_next(1, status=429, retry_after="0")
    assert await provider.leave_types()
    assert len(fake.calls_to("GET", "/sessionToken")) == 2


async def test_a_long_429_is_reported_with_its_wait(fake: FakeTimeTap, provider: TimeTapProvider) -> None:
    """A 429 asking for two minutes is ProviderRateLimited carrying retry_after, without waiting."""
    fake.fail_next(1, status=429, retry_after="120")
    with pytest.raises(ProviderRateLimited) as caught:
        await provider.leave_types()
    assert caught.value.retry_after == 120.0


# -- settings ----------------------------------------------------------------------------------------


def test_settings_come_from_timetap_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TIMETAP_* variables fill the settings; missing approvers or a disordered day name the variable, not a key."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("TIMETAP_")]:
        monkeypatch.delenv(name)
    settings = load_settings(leavebot_provider="timetap", _env_file=None)
    for name, value in {"API_KEY": "k3y", "PRIVATE_KEY": "s3cret", "BUSINESS_ID": "43111"}.items():
        monkeypatch.setenv(f"TIMETAP_{name}", value)
    with pytest.raises(ConfigError, match="TIMETAP_APPROVERS"):
        load_provider_config(settings)
    monkeypatch.setenv("TIMETAP_APPROVERS", "*=boss@example.com")
    monkeypatch.setenv("TIMETAP_DAY_START", "08:00")
    monkeypatch.setenv("TIMETAP_REASON_ID", "1002")
    config = load_provider_config(settings)
    assert isinstance(config, TimeTapProvider.Config)
    assert (config.base_url, config.business_id, config.reason_id) == (
        "https://api.timetap.com/live",
        43111,
        1002,
    )
    assert config.approvers == {"*": ["boss@example.com"]} and config.day_start.hour == 8
    monkeypatch.setenv("TIMETAP_DAY_SPLIT", "18:00")
    with pytest.raises(ConfigError, match="DAY_START < DAY_SPLIT < DAY_END") as caught:
        load_provider_config(settings)
    assert "s3cret" not in str(caught.value) and "k3y" not in str(caught.value)


# -- end to end over real HTTP -------------------------------------------------------------------------


TimeTapBot = ProviderBot[FakeTimeTap]


@pytest.fixture
async def tp(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[TimeTapBot]:
    """leavebot with LEAVEBOT_PROVIDER=timetap, served by uvicorn; Alice's approver is Bob."""
    async with KIT.bot(slack, tmp_path) as bot:
        yield bot


async def submitted(tp: TimeTapBot) -> LeaveRequest:
    """Alice types a request and presses Submit; returns it once its approval card is out."""
    return await submit(tp, f"{DAY.isoformat()} pm for the dentist")


async def test_nothing_reaches_timetap_before_approval_and_only_the_approver_decides(tp: TimeTapBot) -> None:
    """Alice asks: nothing reaches TimeTap and only Bob gets a card; Carol's approval is refused, TimeTap still
    empty (Bob's approval booking it is in test_bot_kept_approval.py)."""
    request = await submitted(tp)
    assert [c.args["channel"] for c in tp.slack.calls_to("chat.postMessage")] == [U_BOB]
    assert tp.fake.calls_to("POST", "/timeOffBulk") == [] and tp.fake.time_off == {}
    await tp.click(ids.APPROVE, str(request.id), user=U_CAROL, hook="carol")
    [refusal] = await tp.slack.wait_for("hooks/carol")
    assert "Only an approver" in refusal.args["text"] and tp.fake.time_off == {}


async def test_cancel_after_approval_deletes_the_time_off(tp: TimeTapBot) -> None:
    """Alice cancels approved leave from her Home: TimeTap's time off is deleted (kept inactive) and leaves the listing."""
    request = await submitted(tp)
    await tp.click(ids.APPROVE, str(request.id), user=U_BOB)
    await until(lambda: has_dm(tp, U_ALICE, "was approved"))
    await click_in_home(tp, ids.HOME_CANCEL, str(request.id), user=U_ALICE)
    [record] = tp.fake.time_off.values()
    await until(lambda: _deleted(tp, record))
    assert len(tp.fake.calls_to("DELETE", f"/timeOff/{record['timeOffId']}")) == 1
    assert await tp.provider.absences(DAY, DAY) == []


async def _deleted(tp: TimeTapBot, record: dict[str, Any]) -> bool:
    return record["active"] is False
