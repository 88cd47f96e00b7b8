"""What only Timetastic does, against its fake over real HTTP: the booking rules, actions, paging and
range semantics, the rate limit, people and approvers, webhooks, and the whole Slack flow end to end.

The contract every provider passes is in test_contract.py; this file holds the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import httpx
import pytest
import slack_requests as sr
from conftest import ALICE as U_ALICE
from conftest import BOB as U_BOB
from conftest import CAROL as U_CAROL
from conftest import Bot
from fakes.slack import FakeSlack
from fakes.timetastic import (
    ALICE,
    ALREADY_OFF,
    BOB,
    CAROL,
    DAVE,
    MALLORY,
    SICK,
    TOKEN,
    TRAINING,
    WEBHOOK_SECRET,
    FakeTimetastic,
)
from helpers.bots import decline_in_the_modal, dms_to, has_dm
from helpers.bots import submitted as submitted_as_alice
from helpers.cards import buttons, preview_value
from helpers.kit import ProviderKit
from remote_bot import provider_bot, until
from test_who import ask

from bot.config import ConfigError, load_provider_config, load_settings
from bot.services.digest import post_digest
from bot.store import Store
from bot.store.tables import LeaveRequest
from bot.views import ids
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
)
from providers.models import Balance, LeaveType, Status
from providers.timetastic import TimetasticProvider

DAY = date.today() + timedelta(days=30)
ANNUAL_LEAVE = LeaveType(id="100", name="Annual Leave")


# The fake's token and webhook secret; the fake is rate limited as the real one.
KIT = ProviderKit(
    TimetasticProvider,
    FakeTimetastic,
    lambda fake: {"api_token": TOKEN, "base_url": fake.url, "webhook_secret": WEBHOOK_SECRET},
    DAY,
    ANNUAL_LEAVE,
)
fake, provider = KIT.fixtures()
connect, request_for = KIT.connect, KIT.request_for


# -- credentials -------------------------------------------------------------------------------------


async def test_every_call_carries_the_bearer_token(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """Each request sends Authorization: Bearer <TIMETASTIC_API_TOKEN>."""
    await provider.find_person("bob@example.com")
    await provider.leave_types()
    assert {c.authorization for c in fake.calls} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize("answer", [302, 401])
async def test_wrong_token_is_an_operator_error_and_no_redirect_is_followed(
    fake: FakeTimetastic, answer: int
) -> None:
    """A redirect (to the login page) or a 401 raises ProviderAuthError naming TIMETASTIC_API_TOKEN."""
    fake.unauthorized_status = answer
    fake.token = "renewed-token"
    provider = connect(fake)
    with pytest.raises(ProviderAuthError) as caught:
        await provider.check_connection()
    await provider.aclose()
    assert "TIMETASTIC_API_TOKEN" in caught.value.message and TOKEN not in caught.value.message
    assert len(fake.calls) == 1


# -- booking -----------------------------------------------------------------------------------------


async def test_booking_sends_the_documented_body(fake: FakeTimetastic, provider: TimetasticProvider) -> None:
    """An afternoon is booked PM to PM, as the requestee, for the user, and comes back pending."""
    booking = await provider.submit(await request_for(provider, "alice@example.com", "PM", "PM"))
    [call] = fake.calls_to("POST", "/holidays")
    assert call.body == {
        "from": DAY.isoformat(),
        "to": DAY.isoformat(),
        "fromTime": "PM",
        "toTime": "PM",
        "leaveTypeId": 100,
        "reason": "tests",
        "userOrDepartmentId": ALICE,
        "bookFor": 0,
        "bookAsRequestee": True,
        "suppressEmails": True,
    }
    assert booking.status is Status.PENDING
    assert fake.holidays[int(booking.id)]["startType"] == "Afternoon"


async def test_hours_are_sent_as_minutes_since_midnight(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """09:00–12:00 is sent as fromTime 540, toTime 720, and read back as the same minutes."""
    booking = await provider.submit(await request_for(provider, "alice@example.com", 540, 720))
    [call] = fake.calls_to("POST", "/holidays")
    assert (call.body["fromTime"], call.body["toTime"]) == ("540", "720")
    [absence] = await provider.absences(DAY, DAY)
    assert (absence.id, absence.start, absence.end) == (booking.id, 540, 720)


async def test_leave_type_without_approval_is_booked_approved(provider: TimetasticProvider) -> None:
    """Timetastic books a leave type that needs no approval at once: the booking is approved."""
    sick = LeaveType(id=str(SICK), name="Sick Leave")
    booking = await provider.submit(await request_for(provider, "alice@example.com", leave_type=sick))
    assert booking.status is Status.APPROVED


@pytest.mark.parametrize(
    ("setup", "email", "part", "words"),
    [
        ("overlap", "alice@example.com", "AM", ALREADY_OFF),
        ("none", "bob@example.com", 540, "Hourly bookings need an allowance in hours"),
        ("locked", "alice@example.com", "AM", "dates are locked in Timetastic; ask a Timetastic admin"),
        ("max off", "mallory@example.com", "AM", "more people off at once than the department allows"),
    ],
)
async def test_refusal_carries_timetastic_words(
    fake: FakeTimetastic, provider: TimetasticProvider, setup: str, email: str, part: Any, words: str
) -> None:
    """A booking refused with HTTP 200 and success false raises ProviderRejected with Timetastic's words."""
    if setup == "overlap":
        fake.add_holiday(ALICE, DAY - timedelta(days=1), DAY + timedelta(days=1))
    elif setup == "locked":
        fake.locked_dates.add(DAY)
    elif setup == "max off":
        fake.add_holiday(DAVE, DAY, DAY)  # Sales allows one person off at a time
    end = part + 60 if isinstance(part, int) else "PM"
    with pytest.raises(ProviderRejected) as caught:
        await provider.submit(await request_for(provider, email, part, end))
    assert words in caught.value.message


# -- actions -----------------------------------------------------------------------------------------


async def test_decline_sends_the_reason(fake: FakeTimetastic, provider: TimetasticProvider) -> None:
    """The decline reason reaches Timetastic in the action's body."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    await provider.decline(booking.id, "Release week")
    holiday = fake.holidays[int(booking.id)]
    assert (holiday["status"], holiday["declineReason"]) == ("Declined", "Release week")
    [call] = fake.calls_to("POST", f"/holidays/{booking.id}")
    assert call.query == {"holidayUpdateAction": "1"}


async def test_timetastic_sends_its_own_emails_only_when_told(fake: FakeTimetastic) -> None:
    """With TIMETASTIC_SUPPRESS_EMAILS=false the booking and its decline send Timetastic's e-mails; by default neither."""
    quiet, loud = connect(fake), connect(fake, suppress_emails=False)
    hushed = await quiet.submit(await request_for(quiet, "alice@example.com"))
    await quiet.decline(hushed.id, "Release week")
    told = await loud.submit(await request_for(loud, "bob@example.com"))
    await loud.decline(told.id, "Release week")
    await quiet.aclose()
    await loud.aclose()
    assert fake.emails == [("requested", int(told.id)), ("decline", int(told.id))]
    assert [c.body["suppressEmails"] for c in fake.calls_to("POST", f"/holidays/{hushed.id}")] == [True]


async def test_already_actioned_reports_the_state_and_who_decided(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """After a decision inside Timetastic, approving reports its state from GET /holidays/{id} and its actioner."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    fake.decide_in_timetastic(int(booking.id), "Decline", by=BOB, reason="no")
    outcome = await provider.approve(booking.id)
    assert (outcome.status, outcome.already_actioned) == (Status.DECLINED, True)
    assert outcome.decided_by is not None and outcome.decided_by.email == "bob@example.com"
    assert fake.calls_to("GET", f"/holidays/{booking.id}")


@pytest.mark.parametrize(
    ("result", "error", "words"),
    [
        ("NotAllowed", ProviderRejected, "did not allow"),
        ("DoesntExist", ProviderNotFound, "has no booking"),
        ("UnknownError", ProviderError, "could not do it"),
    ],
)
async def test_action_results_become_plain_errors(
    fake: FakeTimetastic, provider: TimetasticProvider, result: str, error: type[Exception], words: str
) -> None:
    """NotAllowed, DoesntExist and UnknownError each become their own error with plain words."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    fake.forced_results[int(booking.id)] = result
    with pytest.raises(error) as caught:
        await provider.approve(booking.id)
    assert words in str(caught.value)


async def test_cancel_deletes(fake: FakeTimetastic, provider: TimetasticProvider) -> None:
    """Cancelling sends holidayUpdateAction=2 and Timetastic then holds the booking cancelled."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    outcome = await provider.cancel(booking.id)
    assert outcome.status is Status.CANCELLED
    assert fake.calls_to("POST", f"/holidays/{booking.id}")[0].query == {"holidayUpdateAction": "2"}


# -- listing -----------------------------------------------------------------------------------------


async def test_booking_that_began_last_week_is_off_today(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """A booking from last week to next week is in today's absences, though Timetastic's own filter misses it."""
    today = date.today()
    holiday_id = fake.add_holiday(ALICE, today - timedelta(days=7), today + timedelta(days=4))
    [absence] = await provider.absences(today, today)
    assert absence.id == str(holiday_id) and absence.person.email == "alice@example.com"
    # The documented semantics, taken literally by the fake: a query for just today leaves it out.
    literal = httpx.get(
        f"{fake.url}/holidays",
        params={"Start": today.isoformat(), "End": today.isoformat()},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert literal.json()["holidays"] == []


async def test_every_page_is_read(fake: FakeTimetastic, provider: TimetasticProvider) -> None:
    """250 bookings come in three pages of 100; pages 2 and 3 are asked for by number once the first gives the total."""
    for n in range(250):
        fake.add_holiday([ALICE, BOB, CAROL, MALLORY][n % 4], DAY, DAY + timedelta(days=n % 3))
    absences = await provider.absences(DAY, DAY)
    assert len(absences) == 250 and len({a.id for a in absences}) == 250
    pages = sorted(c.query.get("PageNumber", "1") for c in fake.calls_to("GET", "/holidays"))
    assert pages == ["1", "2", "3"]


async def test_absences_show_pending_and_approved_only(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """The list asks for the Pending|Approved bit mask: declined and cancelled bookings are not absences."""
    fake.add_holiday(ALICE, DAY, DAY, status="Declined")
    fake.add_holiday(BOB, DAY, DAY, status="Pending")
    [absence] = await provider.absences(DAY, DAY)
    assert absence.status is Status.PENDING
    assert {c.query["Status"] for c in fake.calls_to("GET", "/holidays")} == {"3"}


async def test_one_persons_absences_use_the_user_filter(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """absences_of asks Timetastic for that user's bookings only (UserIds)."""
    fake.add_holiday(ALICE, DAY, DAY)
    fake.add_holiday(BOB, DAY, DAY)
    alice = await provider.find_person("alice@example.com")
    [absence] = await provider.absences_of(alice, DAY, DAY)
    assert absence.person == alice
    assert fake.calls_to("GET", "/holidays")[-1].query["UserIds"] == str(ALICE)


# -- rate limit --------------------------------------------------------------------------------------


def test_fake_answers_429_after_five_calls_in_a_second(fake: FakeTimetastic) -> None:
    """The fake holds to the documented limit: the sixth call within a second gets 429 and Retry-After."""
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        answers = [client.get(f"{fake.url}/leavetypes") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].headers["Retry-After"] == "1" and "5 per 1s" in answers[-1].text


async def test_client_side_limiter_stays_under_the_limit(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """Six calls at once: the sixth waits for the next window, and none is refused."""
    started = time.monotonic()
    await asyncio.gather(*(provider.leave_types() for _ in range(6)))
    assert time.monotonic() - started >= 1.0
    assert len(fake.calls) == 6  # a 429 would have been retried, adding calls


async def test_calls_that_reach_timetastic_late_leave_room_for_the_next(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """Five calls reach Timetastic half a second late, a sixth on time: it is not refused, because each call's
    place in the window runs from its answer (a window run from the sending would let six land in one second)."""
    fake.delay_next(5, seconds=0.5)
    await asyncio.gather(*(provider.leave_types() for _ in range(6)))
    assert len(fake.calls) == 6  # a 429 would have been retried, adding calls


async def test_retry_after_is_honoured(fake: FakeTimetastic, provider: TimetasticProvider) -> None:
    """A 429 with Retry-After: 1 is waited out and the call sent again."""
    fake.fail_next(1, status=429, retry_after="1")
    started = time.monotonic()
    assert await provider.leave_types()
    assert time.monotonic() - started >= 1.0 and len(fake.calls) == 2


@pytest.mark.parametrize(("times", "retry_after", "calls"), [(1, "58", 1), (5, "0", 3)])
async def test_long_or_repeated_rate_limits_are_reported(
    fake: FakeTimetastic, provider: TimetasticProvider, times: int, retry_after: str, calls: int
) -> None:
    """A wait longer than a Slack user should bear, or a third 429 in a row, raises ProviderRateLimited."""
    fake.fail_next(times, status=429, retry_after=retry_after)
    with pytest.raises(ProviderRateLimited) as caught:
        await provider.leave_types()
    assert caught.value.retry_after == float(retry_after) and len(fake.calls) == calls


# -- people ------------------------------------------------------------------------------------------


async def test_users_are_listed_once_and_again_on_a_miss(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """Several look-ups read /users once; an e-mail not seen yet re-reads it and finds someone added since."""
    for email in ("ALICE@example.com", "bob@example.com", "carol@EXAMPLE.com"):
        await provider.find_person(email)
    assert len(fake.calls_to("GET", "/users")) == 1
    fake.add_user(1010, "Erin", "New", "erin@example.com")
    provider.refresh_users_after_miss = 0.0
    assert (await provider.find_person("erin@example.com")).id == "1010"
    with pytest.raises(ProviderNotFound):
        await provider.find_person("nobody@example.com")
    assert len(fake.calls_to("GET", "/users")) == 3


@pytest.mark.parametrize(
    ("email", "approvers"),
    [
        ("alice@example.com", ["bob@example.com"]),  # her own approverId, not the department's manager
        ("bob@example.com", ["carol@example.com"]),  # no approverId: deptManagerId
        ("mallory@example.com", ["carol@example.com"]),  # neither on the user: the department's manager
        ("carol@example.com", ["dave@example.com"]),  # her own manager: the admins
    ],
)
async def test_approvers_are_the_ones_timetastic_names(
    provider: TimetasticProvider, email: str, approvers: list[str]
) -> None:
    """approverId first, then the department manager; someone who would approve themself gets the admins."""
    person = await provider.find_person(email)
    assert [a.email for a in await provider.approvers(person)] == approvers


async def test_admins_approve_too_when_configured(fake: FakeTimetastic) -> None:
    """With TIMETASTIC_ADMINS_APPROVE, Timetastic's admins are offered the buttons as well."""
    provider = connect(fake, admins_approve=True)
    alice = await provider.find_person("alice@example.com")
    assert [a.email for a in await provider.approvers(alice)] == ["bob@example.com", "dave@example.com"]
    await provider.aclose()


async def test_balance_is_the_allowance_remaining_in_its_unit(provider: TimetasticProvider) -> None:
    """Alice's allowance is kept in hours, Bob's in days."""
    alice, bob = [await provider.find_person(f"{n}@example.com") for n in ("alice", "bob")]
    assert await provider.balance(alice) == Balance(remaining=150.0, unit="hours")
    assert await provider.balance(bob) == Balance(remaining=20.5, unit="days")


async def test_leave_types_say_which_timetastic_marks_private(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """A leave type with isPrivate is a private LeaveType; the others are not."""
    fake.leave_types[2]["isPrivate"] = True
    assert [(t.name, t.private) for t in await provider.leave_types()] == [
        ("Annual Leave", False),
        ("Sick Leave", False),
        ("Training", True),
    ]


async def test_public_holidays_are_read_per_year_and_kept(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """Christmas Day is found in a range around it, not outside it; the year is read once."""
    christmas = date(date.today().year, 12, 25)
    [holiday] = await provider.public_holidays(christmas - timedelta(days=3), christmas)
    assert (holiday.day, holiday.name, holiday.country) == (christmas, "Christmas Day", "GB")
    assert await provider.public_holidays(christmas + timedelta(days=1), christmas + timedelta(days=2)) == []
    assert len(fake.calls_to("GET", "/publicholidays")) == 1


async def test_whose_public_holidays_are_whose_comes_from_the_users(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """Each user's countryCode; None for one without public holidays; from the one user list, no call per person."""
    fake.user(MALLORY)["countryCode"] = "DE"
    fake.user(DAVE)["hasPublicHolidays"] = False
    countries = await provider.holiday_countries()
    assert (countries[str(ALICE)], countries[str(MALLORY)], countries[str(DAVE)]) == ("GB", "DE", None)
    await provider.holiday_countries()
    assert len(fake.calls_to("GET", "/users")) == 1 and fake.calls_to("GET", "/publicholidays") == []


# -- webhook parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "verified"),
    [
        ({"Timetastic-Secret": WEBHOOK_SECRET}, True),
        ({"timetastic-secret": f'"{WEBHOOK_SECRET}"'}, True),  # the document prints it in quotes
        ({"Timetastic-Secret": WEBHOOK_SECRET[:-1] + "0"}, False),
        ({}, False),
    ],
)
async def test_webhook_secret_is_checked(
    provider: TimetasticProvider, headers: dict[str, str], verified: bool
) -> None:
    """Only a delivery carrying TIMETASTIC_WEBHOOK_SECRET is accepted."""
    assert provider.verify_webhook(headers) is verified


async def test_without_a_configured_secret_no_webhook_is_accepted(fake: FakeTimetastic) -> None:
    """An unset TIMETASTIC_WEBHOOK_SECRET refuses every delivery rather than trusting any."""
    provider = TimetasticProvider(TimetasticProvider.Config(api_token=TOKEN, base_url=fake.url))
    assert provider.verify_webhook({"Timetastic-Secret": ""}) is False


async def test_webhook_event_becomes_a_normalized_event(
    fake: FakeTimetastic, provider: TimetasticProvider
) -> None:
    """An AbsenceDeclined event reads as the booking, its new status, a UTC updatedAt and who did it."""
    booking = await provider.submit(await request_for(provider, "alice@example.com", "AM", "AM"))
    event = fake.decide_in_timetastic(int(booking.id), "Decline", by=BOB, reason="Release week")
    parsed = await provider.parse_webhook(json.dumps(event).encode())
    assert parsed is not None
    assert (parsed.event_id, parsed.booking.id, parsed.booking.status) == (
        str(event["eventId"]),
        booking.id,
        Status.DECLINED,
    )
    assert (parsed.booking.start, parsed.booking.end, parsed.decline_reason) == ("AM", "AM", "Release week")
    assert parsed.updated_at.tzinfo is not None and parsed.updated_at.utcoffset() == timedelta(0)
    assert parsed.actor is not None and parsed.actor.email == "bob@example.com"
    assert parsed.booking.person.email == "alice@example.com"


async def test_test_events_and_garbage(fake: FakeTimetastic, provider: TimetasticProvider) -> None:
    """The dashboard's TestEvent is ignored; a body that is not an event is rejected."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    test_event = fake.events[-1] | {"eventType": "TestEvent", "recordId": -99999}
    assert test_event["recordData"]["id"] == int(booking.id)
    assert await provider.parse_webhook(json.dumps(test_event).encode()) is None
    with pytest.raises(ProviderRejected):
        await provider.parse_webhook(b"<html>")


# -- the store -----------------------------------------------------------------------------------------


async def test_provider_state_is_set_only_if_unchanged(store: Store) -> None:
    """set_provider_state is a compare-and-set on status and provider time, on SQLite and PostgreSQL."""
    row, _ = await store.create_request(
        request=LeaveRequest(
            idempotency_key="k",
            provider="timetastic",
            booking_id="42",
            status="pending",
            requester_person_id="1001",
            requester_name="Alice",
            start_date=DAY,
            end_date=DAY,
            start_part="AM",
            end_part="PM",
        )
    )
    assert row.id is not None

    def stamp(hour: int) -> datetime:
        return datetime.combine(date.today(), dt_time(hour), tzinfo=UTC)

    moved = await store.set_provider_state(
        request_id=row.id, seen_status="pending", seen_updated_at=None, status="approved", updated_at=stamp(9)
    )
    stale = await store.set_provider_state(
        request_id=row.id,
        seen_status="pending",
        seen_updated_at=None,
        status="declined",
        updated_at=stamp(10),
    )
    found = await store.request_by_booking(provider="timetastic", booking_id="42")
    assert (moved, stale) == (True, False)
    assert found is not None and found.status == "approved"
    again = await store.set_provider_state(
        request_id=row.id,
        seen_status="approved",
        seen_updated_at=found.provider_updated_at,
        status="cancelled",
        updated_at=stamp(11),
    )
    assert again is True
    assert await store.first_provider_event(key="timetastic:90") is True
    assert await store.first_provider_event(key="timetastic:90") is False


# -- end to end over real HTTP -------------------------------------------------------------------------


@dataclass
class TimetasticBot(Bot):
    """The app on the Timetastic provider, its fake, and the webhook URL it serves."""

    fake: FakeTimetastic
    timetastic: TimetasticProvider


@pytest.fixture
async def tt(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[TimetasticBot]:
    """leavebot with LEAVEBOT_PROVIDER=timetastic, served by uvicorn; the fake pushes its webhooks to it.

    On SQLite only: what Timetastic adds to the store is tested on both databases above, and the
    Slack flow itself on both in test_e2e.py.
    """
    with FakeTimetastic() as fake:
        provider = connect(fake)
        async with provider_bot(provider, slack, tmp_path) as bot:
            fake.webhook_url = f"{str(bot.http.base_url).rstrip('/')}/webhooks/timetastic"
            fake.deliver_automatically = True
            yield TimetasticBot(**vars(bot), fake=fake, timetastic=provider)
        fake.deliver_automatically = False


async def submitted(tt: TimetasticBot, text: str = f"{DAY.isoformat()} pm for the dentist") -> LeaveRequest:
    """Alice types a request and presses Submit; returns it once its approval card is out."""
    return await submitted_as_alice(tt, text)


async def echoes_applied(tt: TimetasticBot) -> None:
    """Wait until every event the fake raised was delivered and the bot has applied it."""
    await until(lambda: _delivered(tt))
    await tt.drain()


async def _delivered(tt: TimetasticBot) -> bool:
    return len(tt.fake.deliveries) >= len(tt.fake.events)


async def test_request_goes_to_the_approver_timetastic_names_only(tt: TimetasticBot) -> None:
    """Alice's request is booked pending as herself; only Bob (her approverId) gets a card; Carol can't decide."""
    request = await submitted(tt)
    [call] = tt.fake.calls_to("POST", "/holidays")
    assert call.body["bookAsRequestee"] is True and call.body["userOrDepartmentId"] == ALICE
    assert [c.args["channel"] for c in tt.slack.calls_to("chat.postMessage")] == [U_BOB]
    await tt.click(ids.APPROVE, str(request.id), user=U_CAROL, hook="carol")
    [refusal] = await tt.slack.wait_for("hooks/carol")
    assert "Only an approver" in refusal.args["text"]
    assert tt.fake.holidays[int(request.booking_id or 0)]["status"] == "Pending"


async def test_approve_in_slack_approves_in_timetastic_and_tells_alice_once(tt: TimetasticBot) -> None:
    """Bob approves: Timetastic approves, his card loses its buttons, Alice hears once despite the echoed webhook."""
    request = await submitted(tt)
    await tt.click(ids.APPROVE, str(request.id), user=U_BOB)
    [update] = await tt.slack.wait_for("chat.update")
    assert buttons(update.args["blocks"]) == [] and f"Approved by <@{U_BOB}>" in json.dumps(
        update.args["blocks"]
    )
    assert tt.fake.holidays[int(request.booking_id or 0)]["status"] == "Approved"
    await until(lambda: has_dm(tt, U_ALICE, "approved"))
    await echoes_applied(tt)
    assert [e["eventType"] for e in tt.fake.events] == ["AbsenceRequested", "AbsenceApproved"]
    assert len([t for t in dms_to(tt, U_ALICE) if "approved" in t]) == 1
    assert len(tt.slack.calls_to("chat.update")) == 1


async def test_timetastic_sends_no_emails_of_its_own_by_default(tt: TimetasticBot) -> None:
    """Alice's request and Bob's approval in Slack reach Timetastic with suppressEmails: nobody is e-mailed twice."""
    request = await submitted(tt)
    await tt.click(ids.APPROVE, str(request.id), user=U_BOB)
    await tt.slack.wait_for("chat.update")
    [booked] = tt.fake.calls_to("POST", "/holidays")
    [approved] = tt.fake.calls_to("POST", f"/holidays/{request.booking_id}")
    assert booked.body["suppressEmails"] is True and approved.body == {"suppressEmails": True}
    assert tt.fake.emails == []


async def test_decline_in_slack_sends_the_reason_to_timetastic(tt: TimetasticBot) -> None:
    """Bob declines with a reason in the modal: Timetastic holds it declined with that reason; Alice is told."""
    request = await submitted(tt)
    await tt.click(ids.DECLINE, str(request.id), user=U_BOB)
    await decline_in_the_modal(tt, "Release week", user=U_BOB)
    await tt.slack.wait_for("chat.update")
    holiday = tt.fake.holidays[int(request.booking_id or 0)]
    assert (holiday["status"], holiday["declineReason"]) == ("Declined", "Release week")
    await until(lambda: has_dm(tt, U_ALICE, "> Release week"))


async def test_decision_inside_timetastic_reaches_slack_by_webhook(tt: TimetasticBot) -> None:
    """Bob declines in Timetastic's app: the webhook edits his card, and Alice is told once, with the reason."""
    request = await submitted(tt)
    tt.fake.decide_in_timetastic(int(request.booking_id or 0), "Decline", by=BOB, reason="Team offsite")
    [update] = await tt.slack.wait_for("chat.update")
    assert buttons(update.args["blocks"]) == []
    assert f"Declined by <@{U_BOB}>: Team offsite" in json.dumps(update.args["blocks"])
    await until(lambda: has_dm(tt, U_ALICE, "declined"))
    await echoes_applied(tt)
    assert [t for t in dms_to(tt, U_ALICE) if "declined" in t] == [
        f"❌ Your leave for {request.span.describe()} was declined by <@{U_BOB}>.\n> Team offsite"
    ]
    log = await tt.service.deps.store.audit_log(request_id=request.id or 0)
    assert [e.action for e in log][-1] == "declined in Timetastic"


async def test_webhook_without_the_secret_is_refused(tt: TimetasticBot) -> None:
    """A delivery with a wrong or missing Timetastic-Secret gets 401 and changes nothing."""
    request = await submitted(tt)
    tt.fake.deliver_automatically = False
    event = tt.fake.decide_in_timetastic(int(request.booking_id or 0), "Approve", by=BOB)
    assert (await tt.fake.deliver(event, secret="guess")).status_code == 401
    assert (await tt.fake.deliver(event, secret="")).status_code == 401
    assert (await tt.http.post("/webhooks/wheniwork", content=b"{}")).status_code == 404
    await tt.drain()
    row = await tt.service.deps.store.request(request_id=request.id or 0)
    assert row is not None and row.status == "pending" and tt.slack.calls_to("chat.update") == []


async def test_redelivered_event_is_applied_once(tt: TimetasticBot) -> None:
    """Timetastic retries with the same eventId: the second delivery is answered and ignored."""
    request = await submitted(tt)
    tt.fake.deliver_automatically = False
    event = tt.fake.decide_in_timetastic(int(request.booking_id or 0), "Approve", by=BOB)
    answers = [await tt.fake.deliver(event), await tt.fake.deliver(event)]
    assert [a.status_code for a in answers] == [200, 200]
    await tt.drain()
    assert len(tt.slack.calls_to("chat.update")) == 1
    assert len([t for t in dms_to(tt, U_ALICE) if "approved" in t]) == 1


async def test_older_event_never_overwrites_a_newer_state(tt: TimetasticBot) -> None:
    """Approved then cancelled in Timetastic, delivered cancelled first: the request ends cancelled."""
    request = await submitted(tt)
    await echoes_applied(tt)
    tt.fake.deliver_automatically = False
    booking = int(request.booking_id or 0)
    approved = tt.fake.decide_in_timetastic(booking, "Approve", by=BOB)
    cancelled = tt.fake.decide_in_timetastic(booking, "Delete", by=BOB)
    await tt.fake.deliver(cancelled)
    [update] = await tt.slack.wait_for("chat.update")
    assert "Cancelled" in json.dumps(update.args["blocks"])
    await tt.fake.deliver(approved)
    await tt.drain()
    row = await tt.service.deps.store.request(request_id=request.id or 0)
    assert row is not None and row.status == "cancelled"
    assert len(tt.slack.calls_to("chat.update")) == 1
    assert [t for t in dms_to(tt, U_ALICE) if "approved" in t or "cancelled" in t] == [
        f"🚫 Your leave for {request.span.describe()} was cancelled by <@{U_BOB}>."
    ]


async def test_webhook_is_answered_before_it_is_applied(tt: TimetasticBot) -> None:
    """While a decision is in flight the event waits, but Timetastic has its 200 at once."""
    request = await submitted(tt)
    await echoes_applied(tt)
    tt.fake.deliver_automatically = False
    assert await tt.service.deps.store.move_request(
        request_id=request.id or 0, from_status=["pending"], to_status="deciding"
    )
    event = tt.fake.decide_in_timetastic(int(request.booking_id or 0), "Approve", by=BOB)
    answer = await tt.fake.deliver(event)
    assert answer.status_code == 200
    # Had it been applied before the answer, the event would have waited out the decision in flight
    # and then edited the cards: answered first, it is still being applied, and nothing is edited yet.
    assert tt.webhooks is not None and tt.webhooks.applying == 1
    assert tt.slack.calls_to("chat.update") == []
    await tt.service.deps.store.move_request(
        request_id=request.id or 0, from_status=["deciding"], to_status="pending"
    )
    await tt.slack.wait_for("chat.update")


async def test_click_after_a_decision_inside_timetastic_shows_its_state(tt: TimetasticBot) -> None:
    """Dave (an admin, not in Slack) approved in Timetastic unseen; Bob's click refreshes the card from Timetastic."""
    request = await submitted(tt)
    await echoes_applied(tt)
    tt.fake.deliver_automatically = False
    tt.fake.decide_in_timetastic(int(request.booking_id or 0), "Approve", by=DAVE)
    await tt.click(ids.APPROVE, str(request.id), user=U_BOB)
    [update] = await tt.slack.wait_for("chat.update")
    assert update.args["blocks"][1]["elements"][0]["text"] == "✅ Approved"  # nobody in Slack to name
    await until(lambda: has_dm(tt, U_ALICE, "was approved."))
    log = await tt.service.deps.store.audit_log(request_id=request.id or 0)
    assert [e.action for e in log] == ["submitted", "already decided in the HR system"]


async def test_refused_booking_shows_timetastic_message(tt: TimetasticBot) -> None:
    """Alice already off that day: she is told Timetastic's own words, and no card goes out."""
    tt.fake.add_holiday(ALICE, DAY, DAY)
    preview = await tt.command(DAY.isoformat())
    await tt.click(ids.SUBMIT, preview_value(preview.json()), user=U_ALICE, hook="refused")
    [told] = await tt.slack.wait_for("hooks/refused")
    assert ALREADY_OFF in told.args["text"]
    assert tt.slack.calls_to("chat.postMessage") == []


async def test_bookings_made_in_timetastic_show_in_home_and_digest(tt: TimetasticBot) -> None:
    """A request and a booking made in Timetastic reach the App Home (both sides) and that day's digest."""
    weekday = date.today()
    while weekday.weekday() >= 5:  # the digest is posted on working days
        weekday += timedelta(days=1)
    tt.fake.request_in_timetastic(ALICE, DAY, leave_type=TRAINING)
    tt.fake.book_in_timetastic(ALICE, weekday)
    await echoes_applied(tt)
    for user, words in ((U_ALICE, "waiting for approval"), (U_BOB, "Waiting for you")):
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": "1.0",
        }
        await tt.post(sr.event_callback(event, event_id=f"Ev{user}"), json_body=True)
        await until(lambda user=user, words=words: _home_says(tt, user, words))
    assert await post_digest(tt.service.deps, channels=["C0DIGEST"], day=weekday) == {"C0DIGEST": True}
    posted = [c for c in tt.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
    assert f"<@{U_ALICE}>" in json.dumps([c.args for c in posted])
    assert dms_to(tt, U_ALICE) == []  # nothing was decided: nobody is told anything


def next_weekday(after: date) -> date:
    """The first Monday-to-Friday after ``after`` that is no Christmas Day (the fake's public holiday)."""
    day = after + timedelta(days=1)
    while day.weekday() >= 5 or (day.month, day.day) == (12, 25):
        day += timedelta(days=1)
    return day


async def test_leave_types_timetastic_marks_private_are_out_of_office(
    slack: FakeSlack, tmp_path: Path
) -> None:
    """Alice's Training, which Timetastic marks isPrivate, is "Out of office" in the digest and `/leave who`,
    with no PRIVATE_LEAVE_TYPES naming it; Bob's Annual Leave is shown as it is."""
    day = next_weekday(date.today())
    with FakeTimetastic() as fake:
        fake.leave_types[2]["isPrivate"] = True
        fake.add_holiday(ALICE, day, day, leave_type=TRAINING)
        fake.add_holiday(BOB, day, day)
        async with provider_bot(connect(fake), slack, tmp_path) as bot:
            assert await post_digest(bot.service.deps, channels=["C0DIGEST"], day=day) == {"C0DIGEST": True}
            [who_day] = await ask(bot, day.isoformat(), "who-day")
            [who_alice] = await ask(bot, f"&lt;@{U_ALICE}|alice&gt;", "who-alice")
    posted = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
    digest = json.dumps(posted)
    for answer in (digest, json.dumps(who_day.args), json.dumps(who_alice.args)):
        assert "Out of office" in answer and "Training" not in answer
    assert "Alice Archer: Out of office, all day" in digest
    assert "Bob Boss: Annual Leave, all day" in digest


def bank_holiday_week() -> date:
    """A Monday over five weeks ahead (the tests' public holidays fall in its week)."""
    day = date.today() + timedelta(days=36)
    return day - timedelta(days=day.weekday())


async def test_the_card_counts_the_requesters_own_public_holidays(tt: TimetasticBot) -> None:
    """Alice, in Germany, asks for a week with two UK bank holidays and one German one: the card counts 4 days."""
    monday = bank_holiday_week()
    tt.fake.user(ALICE)["countryCode"] = "DE"
    tt.fake.add_public_holiday(monday, "Spring bank holiday", "GB")
    tt.fake.add_public_holiday(monday + timedelta(days=1), "Extra bank holiday", "GB")
    tt.fake.add_public_holiday(monday + timedelta(days=2), "Tag der Arbeit", "DE")
    await tt.service.deps.holidays.read(monday.year, monday.year + 1)  # as the sync's pass does
    await submitted(tt, f"{monday.isoformat()} to {(monday + timedelta(days=4)).isoformat()}")
    [card] = tt.slack.calls_to("chat.postMessage")
    assert "*Takes:* 4 working days (Tag der Arbeit not counted)" in json.dumps(card.args["blocks"])


async def test_the_digest_is_posted_on_a_bank_holiday_of_some_and_says_when_each_is_back(
    tt: TimetasticBot,
) -> None:
    """Alice (Germany) and Bob (UK) are off on Friday; Monday is a UK bank holiday: Alice is back Monday, Bob
    Tuesday; Monday's digest still goes out (Alice works), naming the UK holiday."""
    monday = bank_holiday_week()
    friday = monday - timedelta(days=3)
    tt.fake.user(ALICE)["countryCode"] = "DE"
    tt.fake.add_public_holiday(monday, "Spring bank holiday", "GB")
    await tt.service.deps.holidays.read(friday.year, monday.year + 1)
    tt.fake.add_holiday(ALICE, friday, friday)
    tt.fake.add_holiday(BOB, friday, friday)
    deps = tt.service.deps
    assert await post_digest(deps, channels=["C0DIGEST"], day=friday) == {"C0DIGEST": True}
    assert await post_digest(deps, channels=["C0DIGEST"], day=monday) == {"C0DIGEST": True}
    fridays, mondays = [
        c.args for c in tt.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"
    ]
    said = json.dumps(fridays)
    assert f"Alice Archer: Annual Leave, all day, back {monday:%a} {monday.day} {monday:%b}" in said
    tuesday = monday + timedelta(days=1)
    assert f"Bob Boss: Annual Leave, all day, back {tuesday:%a} {tuesday.day} {tuesday:%b}" in said
    assert "Spring bank holiday (GB)" in json.dumps(mondays)


async def _home_says(tt: TimetasticBot, user: str, words: str) -> bool:
    homes = [c.args["view"] for c in tt.slack.calls_to("views.publish") if c.args["user_id"] == user]
    return bool(homes) and words in json.dumps(homes[-1], ensure_ascii=False)


# -- the command line ------------------------------------------------------------------------------------


def leavebot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `leavebot ARGS` with only ``env`` configured (no leavebot or Timetastic settings inherited)."""
    own = ("SLACK_", "LEAVEBOT_", "DIGEST_", "LOCAL_", "TIMETASTIC_", "DATABASE_URL")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=clean | env,
    )


def test_who_checks_the_token_from_a_shell(fake: FakeTimetastic, tmp_path: Path) -> None:
    """`leavebot who` with LEAVEBOT_PROVIDER=timetastic lists Timetastic's absences, and a wrong token fails plainly."""
    fake.add_holiday(ALICE, DAY, DAY)
    env = {
        "LEAVEBOT_PROVIDER": "timetastic",
        "TIMETASTIC_BASE_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/lb.db",
    }
    good = leavebot(tmp_path, "who", DAY.isoformat(), TIMETASTIC_API_TOKEN=TOKEN, **env)
    assert good.returncode == 0, good.stderr
    assert "Alice Archer <alice@example.com>: Annual Leave, all day" in good.stdout
    bad = leavebot(tmp_path, "who", DAY.isoformat(), TIMETASTIC_API_TOKEN="old-token", **env)
    assert bad.returncode == 1 and "refused our credentials" in bad.stderr and "Traceback" not in bad.stderr
    assert "TIMETASTIC_API_TOKEN" in bad.stderr and "old-token" not in bad.stderr


def test_settings_come_from_timetastic_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TIMETASTIC_* variables fill the provider's settings; a missing token is a configuration error naming it."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("TIMETASTIC_")]:
        monkeypatch.delenv(name)
    settings = load_settings(leavebot_provider="timetastic", _env_file=None)
    with pytest.raises(ConfigError, match="TIMETASTIC_API_TOKEN"):
        load_provider_config(settings)
    monkeypatch.setenv("TIMETASTIC_API_TOKEN", "t0k3n")
    monkeypatch.setenv("TIMETASTIC_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("TIMETASTIC_ADMINS_APPROVE", "true")
    config = load_provider_config(settings)
    assert isinstance(config, TimetasticProvider.Config)
    assert (config.api_token.get_secret_value(), config.base_url) == (
        "t0k3n",
        "https://app.timetastic.co.uk/api",
    )
    assert config.admins_approve is True and config.webhook_secret is not None
    assert config.suppress_emails is True
    monkeypatch.setenv("TIMETASTIC_SUPPRESS_EMAILS", "false")
    assert load_provider_config(settings).suppress_emails is False  # type: ignore[attr-defined]
    monkeypatch.setenv("TIMETASTIC_SUPPRESS_EMAILS", "sometimes")
    with pytest.raises(ConfigError, match="TIMETASTIC_SUPPRESS_EMAILS"):
        load_provider_config(settings)


def test_a_request_from_a_shell_while_timetastic_is_down_is_queued(
    fake: FakeTimetastic, tmp_path: Path
) -> None:
    """`leavebot request` while Timetastic answers 503 says the request is queued, not failed or booked."""
    fake.fail_next(1, status=503, method="POST", path="/holidays")
    env = {
        "LEAVEBOT_PROVIDER": "timetastic",
        "TIMETASTIC_BASE_URL": fake.url,
        "TIMETASTIC_API_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path}/lb.db",
    }
    done = leavebot(tmp_path, "request", f"{DAY.isoformat()} pm", "--as", "alice@example.com", **env)
    assert done.returncode == 0, done.stderr
    assert "status: queued" in done.stdout and fake.holidays == {}
