"""What only WhosOff does, against its fake over real HTTP: nonce/SHA-512 sign-in and token renewal,
gzip, the Data/Errors envelope, end-exclusive times, listing, balances, and the whole Slack flow with
the approval kept by the bot.

The contract every provider passes is in test_contract.py; this file holds the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import BOB as U_BOB
from conftest import CAROL as U_CAROL
from conftest import MALLORY as U_MALLORY
from fakes.slack import FakeSlack
from fakes.whosoff import (
    ALICE,
    ALREADY_OFF,
    APP_ID,
    APPROVED,
    BOB,
    CANCELLED,
    CLIENT_SECRET,
    HOLIDAY,
    IP_ADDRESS,
    NO_ALLOWANCE,
    PASSWORD,
    TOO_LONG,
    USERNAME,
    FakeWhosOff,
    secret_for,
)
from helpers.bots import ProviderBot
from helpers.bots import submitted as submit
from helpers.cards import preview_value
from helpers.kit import ProviderKit

from bot.config import ConfigError, load_provider_config, load_settings
from bot.errors import friendly
from bot.store.tables import LeaveRequest
from bot.views import ids
from providers.errors import ProviderAuthError, ProviderError, ProviderNotFound, ProviderRejected
from providers.models import Balance, LeaveType, Status
from providers.whosoff import WhosOffProvider, WhosOffRejected

DAY = date.today() + timedelta(days=30)
HOLIDAY_TYPE = LeaveType(id=str(HOLIDAY), name="Holiday / Vacation")
SIGN_IN = "/v4/authenticate/with-credentials"
RENEW = "/v4/authenticate/with-access-token"
LEAVE_TYPES = "/v4/leave-type/retrieve"


KIT = ProviderKit(
    WhosOffProvider,
    FakeWhosOff,
    lambda fake: {
        "base_url": fake.url,
        "app_id": APP_ID,
        "client_secret": CLIENT_SECRET,
        "username": USERNAME,
        "password": PASSWORD,
        "ip_address": IP_ADDRESS,
    },
    DAY,
    HOLIDAY_TYPE,
)
fake, provider = KIT.fixtures()
connect, request_for = KIT.connect, KIT.request_for


def paths(fake: FakeWhosOff) -> list[str]:
    """The paths the fake was called at, in order."""
    return [c.path for c in fake.calls]


# -- signing in ----------------------------------------------------------------------------------------


async def test_each_sign_in_sends_a_fresh_nonce_and_its_sha512_secret(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """Every authentication carries a new 32-character nonce, SHA512(nonce + client secret) in lowercase hex, the app id and IP."""
    await provider.leave_types()
    fake.revoke_tokens()
    await provider.leave_types()
    signs = fake.calls_to(SIGN_IN)
    assert len(signs) == 2
    nonces = [c.body["nonce"] for c in signs]
    assert len(set(nonces)) == 2 and all(len(n) == 32 for n in nonces)
    for call in signs:
        expected = hashlib.sha512((call.body["nonce"] + CLIENT_SECRET).encode()).hexdigest()
        assert call.body["secret"] == expected == expected.lower()
        assert (call.body["app_id"], call.body["ip_address"], call.headers["app-id"]) == (
            APP_ID,
            IP_ADDRESS,
            APP_ID,
        )
        assert CLIENT_SECRET not in json.dumps(call.body)


async def test_every_call_carries_the_bearer_token_and_app_id(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """Calls after signing in send Authorization: Bearer <token> and the app-id header."""
    await provider.find_person("bob@example.com")
    await provider.leave_types()
    calls = [c for c in fake.calls if c.path != SIGN_IN]
    assert len(calls) == 2
    assert {(c.headers["authorization"], c.headers["app-id"]) for c in calls} == {
        (f"Bearer {next(iter(fake.tokens))}", APP_ID)
    }


def test_fake_refuses_a_reused_nonce_and_a_wrong_secret(fake: FakeWhosOff) -> None:
    """The fake checks what the provider is tested for: a nonce used twice, or a secret not made from it, is refused."""
    body = {
        "username": USERNAME,
        "password": PASSWORD,
        "ip_address": IP_ADDRESS,
        "app_id": APP_ID,
        "nonce": "2029-03-14T13:24:10.832Z",
        "secret": secret_for("2029-03-14T13:24:10.832Z"),
    }
    headers = {"app-id": APP_ID}
    first = httpx.post(fake.url + SIGN_IN, json=body, headers=headers)
    again = httpx.post(fake.url + SIGN_IN, json=body, headers=headers)
    wrong = httpx.post(
        fake.url + SIGN_IN, json=body | {"nonce": "other", "secret": "ab" * 64}, headers=headers
    )
    assert first.status_code == 200 and first.json()["Data"]["token"]["access_token"]
    assert (again.status_code, again.json()["Errors"][0]["Code"]) == (400, "AUTH002")
    assert (wrong.status_code, wrong.json()["Errors"][0]["Code"]) == (400, "AUTH003")


async def test_token_is_renewed_with_the_access_token_before_it_expires(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """A token within two minutes of token_expiry_date is renewed with with-access-token before the next call."""
    fake.token_lifetime = timedelta(seconds=60)
    await provider.leave_types()
    first = next(iter(fake.tokens))
    await provider.leave_types()
    assert paths(fake) == [SIGN_IN, LEAVE_TYPES, RENEW, LEAVE_TYPES]
    [renew] = fake.calls_to(RENEW)
    assert renew.body["access_token"] == first
    assert renew.body["secret"] == secret_for(renew.body["nonce"])
    assert fake.calls[-1].headers["authorization"] == f"Bearer {next(iter(fake.tokens))}" != f"Bearer {first}"


async def test_expired_token_tok004_is_renewed_once_and_the_call_repeated(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """A call answered TOK004 renews the token and is sent again, once."""
    await provider.leave_types()
    fake.expire_tokens()
    assert next(t.name for t in await provider.leave_types()) == "Holiday / Vacation"
    assert paths(fake) == [SIGN_IN, LEAVE_TYPES, LEAVE_TYPES, RENEW, LEAVE_TYPES]


async def test_unknown_token_falls_back_to_credentials(fake: FakeWhosOff, provider: WhosOffProvider) -> None:
    """When WhosOff no longer renews the token, leavebot signs in with the credentials again."""
    await provider.leave_types()
    fake.revoke_tokens()
    await provider.leave_types()
    assert paths(fake) == [SIGN_IN, LEAVE_TYPES, LEAVE_TYPES, RENEW, SIGN_IN, LEAVE_TYPES]


async def test_bad_credentials_never_loop_and_never_show_the_password(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """A changed password: one renewal attempt, one credential sign-in, then ProviderAuthError naming the settings."""
    await provider.leave_types()
    fake.revoke_tokens()
    fake.password = "changed-in-whosoff"
    with pytest.raises(ProviderAuthError) as caught:
        await provider.leave_types()
    assert paths(fake) == [SIGN_IN, LEAVE_TYPES, LEAVE_TYPES, RENEW, SIGN_IN]
    assert "WHOSOFF_PASSWORD" in caught.value.message and PASSWORD not in caught.value.message


async def test_token_refused_straight_after_renewal_is_an_auth_error(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """If even a fresh token is answered TOK004, the call is tried twice in all, never in a loop."""
    fake.refuse_every_token = True
    with pytest.raises(ProviderAuthError, match="refused a new session"):
        await provider.leave_types()
    assert paths(fake) == [SIGN_IN, LEAVE_TYPES, RENEW, LEAVE_TYPES]


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"client_secret": "not-the-secret"}, "Secret is not valid"),
        ({"ip_address": "198.51.100.9"}, "refused our credentials (403"),
    ],
)
async def test_refused_sign_in_is_an_operator_error(
    fake: FakeWhosOff, setting: dict[str, str], words: str
) -> None:
    """A wrong client secret or an IP address WhosOff does not allow is ProviderAuthError, said plainly."""
    provider = connect(fake, **setting)
    with pytest.raises(ProviderAuthError) as caught:
        await provider.check_connection()
    await provider.aclose()
    assert words in caught.value.message and "not-the-secret" not in caught.value.message
    assert paths(fake) == [SIGN_IN]


# -- envelope, gzip, errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["gzip", "Gzip", None], ids=["gzip", "Gzip", "undeclared"])
async def test_gzip_answers_are_decoded(
    fake: FakeWhosOff, provider: WhosOffProvider, header: str | None
) -> None:
    """Answers gzipped with Content-Encoding gzip, Gzip, or none at all are read."""
    fake.gzip_header = header
    assert [t.name for t in await provider.leave_types()] == [
        "Holiday / Vacation",
        "Sickness",
        "Out of Office",
    ]
    assert all("gzip" in c.headers.get("accept-encoding", "") for c in fake.calls)


async def test_error_codes_reach_the_requester_in_words(fake: FakeWhosOff, provider: WhosOffProvider) -> None:
    """A non-empty Errors list is a WhosOffRejected carrying the code, and reads as WhosOff's own sentence."""
    with pytest.raises(
        WhosOffRejected
    ) as caught:  # absences() splits long ranges: the route is asked directly
        await provider._whos_off(DAY, DAY + timedelta(days=400), 0, 0, only_off=True)
    assert (caught.value.code, caught.value.errors) == ("004a", [TOO_LONG])
    assert friendly(caught.value) == f"The HR system said no: {TOO_LONG[1]} (WhosOff 004a)"
    with pytest.raises(ProviderRejected, match=NO_ALLOWANCE[1]):
        await provider.validate(await request_for(provider, "mallory@example.com"))


async def test_a_range_over_365_days_is_asked_for_in_spans(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """WhosOff lists at most 365 days a call: a sync's full window (a month back, a year ahead) is split,
    and leave lying across the split is listed once."""
    start = DAY - timedelta(days=31)
    split = start + timedelta(days=365)
    leave = fake.add_leave(ALICE, f"{split - timedelta(days=1)}T00:00", f"{split + timedelta(days=1)}T00:00")
    listed = await provider.absences(start, DAY + timedelta(days=365))
    assert [a.id for a in listed] == [str(leave)]
    assert len([p for p in paths(fake) if p.endswith("whosoff/retrieve")]) == 2


async def test_unknown_route_is_not_found(fake: FakeWhosOff, provider: WhosOffProvider) -> None:
    """404 "Endpoint not valid" on an inferred route says which route to correct, not that the leave is missing."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    fake.missing_routes = {"/v4/leave/cancel"}
    with pytest.raises(ProviderError, match="ROUTES") as caught:
        await provider.cancel(booking.id)
    assert not isinstance(caught.value, ProviderNotFound)
    assert fake.leaves[int(booking.id)]["status_id"] == APPROVED


# -- booking ---------------------------------------------------------------------------------------------


NEXT = DAY + timedelta(days=1)
SHAPES = {
    "full day": (("AM", "PM", DAY), (f"{DAY}T00:00", f"{NEXT}T00:00")),
    "morning": (("AM", "AM", DAY), (f"{DAY}T00:00", f"{DAY}T12:00")),
    "afternoon": (("PM", "PM", DAY), (f"{DAY}T12:00", f"{NEXT}T00:00")),
    "two days": (("AM", "PM", NEXT), (f"{DAY}T00:00", f"{NEXT + timedelta(days=1)}T00:00")),
    "afternoon to morning": (("PM", "AM", NEXT), (f"{DAY}T12:00", f"{NEXT}T12:00")),
    "a quarter hour": ((540, 555, DAY), (f"{DAY}T09:00", f"{DAY}T09:15")),
}


@pytest.mark.parametrize(("parts", "sent"), SHAPES.values(), ids=SHAPES.keys())
async def test_leave_is_sent_end_exclusive_and_reads_back_as_made(
    fake: FakeWhosOff, provider: WhosOffProvider, parts: tuple[Any, Any, date], sent: tuple[str, str]
) -> None:
    """AM is 00:00–12:00, PM 12:00–24:00, ends are exclusive; the booking reads back with the same parts."""
    start, end, end_date = parts
    request = await request_for(provider, "alice@example.com", start, end, end_date=end_date)
    booking = await provider.submit(request)
    [call] = fake.calls_to("/v4/leave/submit")
    assert (call.body["start_date"], call.body["end_date"]) == sent
    (absence,) = await provider.absences(DAY, DAY)
    assert (absence.id, absence.start_date, absence.start, absence.end_date, absence.end) == (
        booking.id,
        DAY,
        start,
        end_date,
        end,
    )


async def test_submit_validates_then_books_approved_as_an_admin(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """submit sends leave/validate then leave/submit with admin true and the note; WhosOff holds it approved."""
    booking = await provider.submit(await request_for(provider, "alice@example.com", reason="Dentist"))
    [validate] = fake.calls_to("/v4/leave/validate")
    [submit] = fake.calls_to("/v4/leave/submit")
    assert paths(fake).index(validate.path) < paths(fake).index(submit.path)
    assert validate.body == submit.body
    assert submit.body | {"start_date": "", "end_date": ""} == {
        "user_id": ALICE,
        "leave_type_id": HOLIDAY,
        "start_date": "",
        "end_date": "",
        "admin": True,
        "note": "Dentist",
    }
    assert booking.status is Status.APPROVED and fake.leaves[int(booking.id)]["status_id"] == APPROVED


async def test_validate_refusal_carries_whosoff_words_and_books_nothing(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """Alice already off that day: validate says so in WhosOff's words; nothing reaches leave/submit."""
    fake.add_leave(ALICE, f"{DAY}T00:00", f"{NEXT}T00:00")
    request = await request_for(provider, "alice@example.com", "PM", "PM")
    for attempt in (provider.validate, provider.submit):
        with pytest.raises(ProviderRejected, match=ALREADY_OFF[1]):
            await attempt(request)
    assert fake.calls_to("/v4/leave/submit") == []


async def test_times_off_the_quarter_hour_are_refused_before_sending(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """09:10 is refused with the two nearest quarter hours to choose from, without calling WhosOff's leave routes."""
    request = await request_for(provider, "alice@example.com", 550, 600)
    with pytest.raises(ProviderRejected, match="15-minute steps: 09:10 is not one \\(try 09:00 or 09:15\\)"):
        await provider.validate(request)
    assert not [p for p in paths(fake) if p.startswith("/v4/leave/")]


async def test_leave_entered_in_whosoff_reads_back_in_parts(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """Leave written with seconds reads back as parts: 00:00–12:00 is a morning, 12:00–next midnight an afternoon."""
    fake.add_leave(ALICE, f"{DAY}T00:00:00", f"{DAY}T12:00:00")
    fake.add_leave(BOB, f"{DAY}T12:00:00", f"{NEXT + timedelta(days=1)}T00:00:00")
    fake.add_leave(BOB, f"{DAY - timedelta(days=3)}T13:30:00", f"{DAY - timedelta(days=3)}T17:45:00")
    alice, bob = await provider.absences(DAY, DAY)
    assert alice.part_on(DAY) == "morning" and alice.end_date == DAY
    assert (bob.part_on(DAY), bob.part_on(NEXT), bob.end_date) == ("afternoon", "all day", NEXT)
    (hours,) = await provider.absences(DAY - timedelta(days=3), DAY - timedelta(days=3))
    assert hours.part_on(hours.start_date) == "13:30–17:45"


# -- listing and people ------------------------------------------------------------------------------------


async def test_absences_list_the_company_with_people_matched_by_email(
    fake: FakeWhosOff, provider: WhosOffProvider
) -> None:
    """whosoff/retrieve for the company, for the days asked; people come with their user/retrieve e-mail and type names."""
    fake.add_leave(ALICE, f"{DAY}T00:00", f"{NEXT}T00:00")
    fake.add_leave(BOB, f"{DAY}T00:00", f"{NEXT}T00:00", leave_type_id=HOLIDAY + 1)
    fake.add_leave(BOB, f"{NEXT}T00:00", f"{NEXT}T12:00", status_id=CANCELLED)
    absences = await provider.absences(DAY, NEXT)
    assert [(a.person.email, a.person.name, a.leave_type) for a in absences] == [
        ("alice@example.com", "Alice Archer", "Holiday / Vacation"),
        ("bob@example.com", "Bob Boss", "Sickness"),
    ]
    [call] = fake.calls_to("/v4/whosoff/retrieve")
    assert call.body == {
        "map_type_id": 0,
        "map_id": 0,
        "start_date": DAY.isoformat(),
        "end_date": NEXT.isoformat(),
        "include_free_restricted": False,
        "include_only_whosoff": True,
    }
    assert await provider.absences(NEXT, NEXT) == []


async def test_one_persons_absences_use_the_staff_map(fake: FakeWhosOff, provider: WhosOffProvider) -> None:
    """absences_of asks whosoff/retrieve for one member of staff (map type 3, their id)."""
    fake.add_leave(ALICE, f"{DAY}T00:00", f"{NEXT}T00:00")
    fake.add_leave(BOB, f"{DAY}T00:00", f"{NEXT}T00:00")
    alice = await provider.find_person("ALICE@example.com")
    assert [a.person for a in await provider.absences_of(alice, DAY, DAY)] == [alice]
    [call] = fake.calls_to("/v4/whosoff/retrieve")
    assert (call.body["map_type_id"], call.body["map_id"]) == (3, ALICE)


async def test_approvers_are_the_approver_whosoff_names(fake: FakeWhosOff) -> None:
    """Alice's approver_id (Bob); with WHOSOFF_NOTIFIERS_APPROVE her notifier Carol too; Carol, approved by nobody, gets the Super Users."""
    for config, expected in (
        ({}, ["bob@example.com"]),
        ({"notifiers_approve": True}, ["bob@example.com", "carol@example.com"]),
    ):
        provider = connect(fake, **config)
        alice = await provider.find_person("alice@example.com")
        assert [p.email for p in await provider.approvers(alice)] == expected
        await provider.aclose()
    provider = connect(fake)
    carol = await provider.find_person("carol@example.com")
    assert [p.email for p in await provider.approvers(carol)] == ["dave@example.com"]
    await provider.aclose()


async def test_escalation_goes_to_the_notifiers_who_are_not_approvers_already(fake: FakeWhosOff) -> None:
    """Alice's notifier Carol is next; Mallory's notifiers Carol (her approver) and Dave give Dave; Bob has none; with WHOSOFF_NOTIFIERS_APPROVE nobody is left."""
    for config, expected in (
        ({}, {"alice": ["carol@example.com"], "mallory": ["dave@example.com"], "bob": []}),
        ({"notifiers_approve": True}, {"alice": [], "mallory": [], "bob": []}),
    ):
        provider = connect(fake, **config)
        for name, emails in expected.items():
            person = await provider.find_person(f"{name}@example.com")
            assert [p.email for p in await provider.escalation_approvers(person)] == emails, (name, config)
        await provider.aclose()


async def test_balance_is_minutes_in_days_of_the_work_pattern(provider: WhosOffProvider) -> None:
    """This year's remaining minutes plus carry-over, over the minutes of a working day; hours without a pattern."""
    balances = {}
    for name in ("alice", "bob", "carol", "mallory"):
        balances[name] = await provider.balance(await provider.find_person(f"{name}@example.com"))
    assert balances == {
        "alice": Balance(remaining=21.5, unit="days"),  # (9000 + 675) / 450
        "bob": Balance(remaining=8.0, unit="days"),  # 3840 / 480, four days a week
        "carol": Balance(remaining=10.0, unit="hours"),  # no work pattern shown
        "mallory": None,  # no allowance set
    }


async def test_cancel_withdraws_approved_leave_once(fake: FakeWhosOff, provider: WhosOffProvider) -> None:
    """cancel marks the leave cancelled; a second cancel reports it already done; unknown ids are not found."""
    booking = await provider.submit(await request_for(provider, "alice@example.com"))
    first, second = await provider.cancel(booking.id), await provider.cancel(booking.id)
    assert (first.status, first.already_actioned) == (Status.CANCELLED, False)
    assert (second.status, second.already_actioned) == (Status.CANCELLED, True)
    assert fake.leaves[int(booking.id)]["status_id"] == CANCELLED
    assert len(fake.calls_to("/v4/leave/cancel")) == 1
    with pytest.raises(ProviderNotFound):
        await provider.cancel("123")


async def test_approve_and_decline_are_never_sent(fake: FakeWhosOff, provider: WhosOffProvider) -> None:
    """WhosOff keeps no pending requests: approve and decline are errors and call nothing."""
    for action in (provider.approve("1"), provider.decline("1", "no")):
        with pytest.raises(ProviderError, match="leavebot holds the approval"):
            await action
    assert fake.calls == []


# -- configuration ---------------------------------------------------------------------------------------


def test_settings_come_from_whosoff_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """WHOSOFF_* variables fill the settings; the root may be given with /v4; a bad IP names its variable."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("WHOSOFF_")]:
        monkeypatch.delenv(name)
    settings = load_settings(leavebot_provider="whosoff", _env_file=None)
    with pytest.raises(ConfigError, match="WHOSOFF_"):
        load_provider_config(settings)
    values = {
        "BASE_URL": "https://sandbox.example.com/v4/",
        "APP_ID": APP_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "USERNAME": USERNAME,
        "PASSWORD": PASSWORD,
        "IP_ADDRESS": "not-an-ip",
    }
    for name, value in values.items():
        monkeypatch.setenv(f"WHOSOFF_{name}", value)
    with pytest.raises(ConfigError, match="WHOSOFF_IP_ADDRESS"):
        load_provider_config(settings)
    monkeypatch.setenv("WHOSOFF_IP_ADDRESS", IP_ADDRESS)
    config = load_provider_config(settings)
    assert isinstance(config, WhosOffProvider.Config)
    assert (config.base_url, config.password.get_secret_value()) == ("https://sandbox.example.com", PASSWORD)


# -- end to end over real HTTP, the approval kept by the bot ----------------------------------------------


WhosOffBot = ProviderBot[FakeWhosOff]


@pytest.fixture
async def wo(tmp_path: Path, slack: FakeSlack, fake: FakeWhosOff) -> AsyncIterator[WhosOffBot]:
    """leavebot with LEAVEBOT_PROVIDER=whosoff, served by uvicorn on SQLite, talking to the fake Slack."""
    async with KIT.bot(slack, tmp_path, fake) as bot:
        yield bot


async def submitted(wo: WhosOffBot, text: str = f"{DAY.isoformat()} pm for the dentist") -> LeaveRequest:
    """Alice types a request and presses Submit; returns it once its approval card is out."""
    return await submit(wo, text)


async def test_request_is_validated_not_booked_and_goes_to_the_approver_only(wo: WhosOffBot) -> None:
    """Alice asks: WhosOff validates it but holds nothing yet; only Bob (her approver_id) gets a card; Carol can't decide."""
    request = await submitted(wo)
    assert request.status == "pending" and request.booking_id is None
    [validate] = wo.fake.calls_to("/v4/leave/validate")
    assert (validate.body["user_id"], validate.body["start_date"]) == (ALICE, f"{DAY}T12:00")
    assert wo.fake.calls_to("/v4/leave/submit") == [] and wo.fake.leaves == {}
    assert [c.args["channel"] for c in wo.slack.calls_to("chat.postMessage")] == [U_BOB]
    await wo.click(ids.APPROVE, str(request.id), user=U_CAROL, hook="carol")
    [refusal] = await wo.slack.wait_for("hooks/carol")
    assert "Only an approver" in refusal.args["text"] and wo.fake.leaves == {}


async def test_refusal_at_request_time_reaches_the_requester_in_words(wo: WhosOffBot) -> None:
    """Mallory has no allowance: she hears WhosOff's '004a No allowances set' at once, and no approver is asked."""
    preview = await wo.command(DAY.isoformat(), user=U_MALLORY)
    await wo.click(ids.SUBMIT, preview_value(preview.json()), user=U_MALLORY, hook="refused")
    [told] = await wo.slack.wait_for("hooks/refused")
    assert f"{NO_ALLOWANCE[1]} (WhosOff 004a)" in told.args["text"]
    assert wo.slack.calls_to("chat.postMessage") == [] and wo.fake.leaves == {}
