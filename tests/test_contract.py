"""The contract every provider passes, run once per provider harness.

A new provider adds one ``Harness`` subclass to ``HARNESSES``: it starts the provider (against its fake
HTTP server, or the database) and names the test data it knows. Every test below then runs against it::

    class TimetasticHarness(Harness):
        provider_class = TimetasticProvider

        @asynccontextmanager
        async def start(self) -> AsyncIterator[Ready]:
            async with FakeTimetastic() as fake, httpx.AsyncClient(base_url=fake.url) as http:
                provider = TimetasticProvider(TimetasticProvider.Config(api_token="t"), http=http)
                yield Ready(provider, known_email=fake.alice_email, unknown_email="nobody@example.com")
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from inspect import isabstract
from typing import Any, ClassVar

import httpx
import pytest
from fakes import offiserv, timetap, wheniwork, whosoff
from fakes.timetastic import TOKEN, FakeTimetastic

import providers
from bot.store import Store
from providers import PROVIDERS, ApprovalMode, Capabilities, LeaveProvider
from providers.errors import ProviderNotFound
from providers.local import LocalProvider
from providers.models import Booking, HolidayRequest, LeaveSpan, Outcome, Part, Person, Status
from providers.offiserv import OffiServProvider
from providers.timetap import TimeTapProvider
from providers.timetastic import TimetasticProvider
from providers.wheniwork import WhenIWorkProvider
from providers.whosoff import WhosOffProvider

# A Monday some weeks ahead: in the future for every HR system, and a working week long.
MONDAY = date.today() + timedelta(weeks=8, days=-date.today().weekday())
TUESDAY = MONDAY + timedelta(days=1)
DATABASE_FIXTURES = {"store", "database_url"}


@dataclass(frozen=True)
class Ready:
    """A started provider and what its harness knows about the data behind it."""

    provider: LeaveProvider
    known_email: str  # a person with at least one approver
    unknown_email: str  # nobody the provider knows
    unknown_booking_id: str = "999999"


class Harness(ABC):
    """How the contract suite starts one provider; subclasses declare the class and the fixtures they need."""

    provider_class: ClassVar[type[LeaveProvider]]
    fixtures: ClassVar[tuple[str, ...]] = ()  # pytest fixtures passed to ``start`` by name

    @abstractmethod
    def start(self, **fixtures: Any) -> AbstractAsyncContextManager[Ready]:
        """Yield a ready provider (and its fake server, if any) for one test, then tear it down."""


class LocalHarness(Harness):
    """The local provider on the bot's own database, SQLite and PostgreSQL."""

    provider_class = LocalProvider
    fixtures = ("store",)

    @asynccontextmanager
    async def start(self, *, store: Store) -> AsyncIterator[Ready]:
        """The local provider with one default approver."""
        provider = LocalProvider(LocalProvider.Config(approvers="*=boss@example.com"), engine=store.engine)
        # Every address is a person here, so the only unknown "e-mail" is one that is not an address.
        yield Ready(provider, known_email="alice@example.com", unknown_email="alice.example.com")
        await provider.aclose()


class TimetasticHarness(Harness):
    """Timetastic against its fake over real HTTP, under the documented 5 calls per second."""

    provider_class = TimetasticProvider

    @asynccontextmanager
    async def start(self) -> AsyncIterator[Ready]:
        """The provider with the fake's token; Alice's address is stored with capitals there."""
        with FakeTimetastic() as fake:
            config = TimetasticProvider.Config(api_token=TOKEN, base_url=fake.url)
            provider = TimetasticProvider(config, http=httpx.AsyncClient())
            yield Ready(provider, known_email="alice@example.com", unknown_email="nobody@example.com")
            await provider.aclose()


class OffiServHarness(Harness):
    """OffiServ against its fake over real HTTP: a cookie session and links to follow."""

    provider_class = OffiServProvider

    @asynccontextmanager
    async def start(self) -> AsyncIterator[Ready]:
        """The provider signed in as the fake's HR account; Alice's address is stored with capitals there."""
        with offiserv.FakeOffiServ() as fake:
            config = OffiServProvider.Config(
                email=offiserv.EMAIL, password=offiserv.PASSWORD, base_url=fake.url
            )
            provider = OffiServProvider(config, http=httpx.AsyncClient())
            yield Ready(provider, known_email="alice@example.com", unknown_email="nobody@example.com")
            await provider.aclose()


class TimeTapHarness(Harness):
    """TimeTap against its fake over real HTTP: a signed session, approvers from configuration."""

    provider_class = TimeTapProvider

    @asynccontextmanager
    async def start(self) -> AsyncIterator[Ready]:
        """The provider with the fake's keys; Alice's address is stored with capitals there."""
        with timetap.FakeTimeTap() as fake:
            config = TimeTapProvider.Config(
                api_key=timetap.API_KEY,
                private_key=timetap.PRIVATE_KEY,
                business_id=timetap.BUSINESS_ID,
                base_url=fake.url,
                approvers="*=bob@example.com,carol@example.com",  # type: ignore[arg-type]  # parsed from text
            )
            provider = TimeTapProvider(config, http=httpx.AsyncClient())
            yield Ready(provider, known_email="alice@example.com", unknown_email="nobody@example.com")
            await provider.aclose()


class WhenIWorkHarness(Harness):
    """When I Work against its fake over real HTTP: a login token, statuses changed by PUT."""

    provider_class = WhenIWorkProvider

    @asynccontextmanager
    async def start(self) -> AsyncIterator[Ready]:
        """The provider signed in as the fake's admin; Alice's address is stored with capitals there."""
        with wheniwork.FakeWhenIWork() as fake:
            config = WhenIWorkProvider.Config(
                api_key=wheniwork.API_KEY,
                username=wheniwork.USERNAME,
                password=wheniwork.PASSWORD,
                base_url=fake.url,
            )
            provider = WhenIWorkProvider(config, http=httpx.AsyncClient())
            yield Ready(provider, known_email="alice@example.com", unknown_email="nobody@example.com")
            await provider.aclose()


class WhosOffHarness(Harness):
    """WhosOff against its fake over real HTTP: nonce-signed tokens, gzip, approval kept by the bot."""

    provider_class = WhosOffProvider

    @asynccontextmanager
    async def start(self) -> AsyncIterator[Ready]:
        """The provider signed in as the fake's Super User; Alice's address is stored with capitals there."""
        with whosoff.FakeWhosOff() as fake:
            config = WhosOffProvider.Config(
                base_url=fake.url,
                app_id=whosoff.APP_ID,
                client_secret=whosoff.CLIENT_SECRET,
                username=whosoff.USERNAME,
                password=whosoff.PASSWORD,
                ip_address=whosoff.IP_ADDRESS,
            )
            provider = WhosOffProvider(config, http=httpx.AsyncClient())
            yield Ready(provider, known_email="alice@example.com", unknown_email="nobody@example.com")
            await provider.aclose()


HARNESSES: list[type[Harness]] = [
    LocalHarness,
    TimetasticHarness,
    OffiServHarness,
    TimeTapHarness,
    WhenIWorkHarness,
    WhosOffHarness,
]


def _cases() -> Iterator[Any]:
    # Pytest fixes a test's fixtures before parametrizing, so ``database_url`` is in every contract
    # test's closure: harnesses that use the database run on both, the others get an unused SQLite path.
    for harness in HARNESSES:
        name = harness.provider_class.name
        if DATABASE_FIXTURES & set(harness.fixtures):
            yield pytest.param(harness, "sqlite", id=f"{name}-sqlite")
            yield pytest.param(harness, "postgresql", id=f"{name}-postgresql", marks=pytest.mark.postgres)
        else:
            yield pytest.param(harness, "sqlite", id=name)


# Synchronous on purpose: it resolves async fixtures such as ``store``, which cannot be awaited from
# inside another async fixture's running event loop.
@pytest.fixture
def harness(request: pytest.FixtureRequest, database_url: str) -> tuple[Harness, dict[str, Any]]:
    """The harness for this case and the fixtures it asked for."""
    harness = request.param()
    return harness, {name: request.getfixturevalue(name) for name in harness.fixtures}


@pytest.fixture
async def ready(harness: tuple[Harness, dict[str, Any]]) -> AsyncIterator[Ready]:
    """A started provider."""
    started, fixtures = harness
    async with started.start(**fixtures) as ready:
        yield ready


def bounds(leave: LeaveSpan) -> tuple[date, Part, date, Part]:
    """A span's dates and parts, without whatever a subclass adds."""
    return (leave.start_date, leave.start, leave.end_date, leave.end)


def span(start_date: date, start: Part, end_date: date, end: Part) -> LeaveSpan:
    """A span from its four parts, in reading order."""
    return LeaveSpan(start_date=start_date, start=start, end_date=end_date, end=end)


async def book(ready: Ready, leave: LeaveSpan | None = None) -> Booking:
    """Submit a request for the known person (Monday, all day, unless told)."""
    leave = leave or span(MONDAY, "AM", MONDAY, "PM")
    person = await ready.provider.find_person(ready.known_email)
    leave_type = (await ready.provider.leave_types())[0]
    request = HolidayRequest(requester=person, leave_type=leave_type, reason="contract", **dict(leave))
    return await ready.provider.submit(request)


def native(provider: LeaveProvider) -> bool:
    """True where the provider holds pending requests itself."""
    return provider.capabilities.approval is ApprovalMode.NATIVE


async def booked(ready: Ready) -> Booking:
    """A booking awaiting a decision; skips the test where the provider has no pending state."""
    if not native(ready.provider):
        pytest.skip(f"{ready.provider.name}: approval is kept by the bot, not the provider")
    return await book(ready)


async def status_on(ready: Ready, booking: Booking, day: date = MONDAY) -> Status:
    """The status absences() reports for a booking on one day."""
    (absence,) = [a for a in await ready.provider.absences(day, day) if a.id == booking.id]
    return absence.status


def test_every_provider_has_a_harness() -> None:
    """Each registered provider is run through the contract: a new one without a harness fails here."""
    harnessed = {h.provider_class.name: h.provider_class for h in HARNESSES}
    assert harnessed == PROVIDERS


def test_provider_names_are_unique_lowercase_slugs() -> None:
    """Every provider class in the package is registered under its own lowercase slug, once."""
    for module in pkgutil.iter_modules(providers.__path__):
        importlib.import_module(f"providers.{module.name}")
    found = [
        cls
        for cls in _subclasses(LeaveProvider)
        if cls.__module__.startswith("providers.") and not isabstract(cls)
    ]
    names = [cls.name for cls in found]
    assert len(names) == len(set(names)), names
    assert all(re.fullmatch(r"[a-z][a-z0-9]*", name) for name in names), names
    assert {cls.name: cls for cls in found} == PROVIDERS


@pytest.mark.parametrize("cls", PROVIDERS.values(), ids=PROVIDERS.keys())
def test_provider_class_declares_its_metadata(cls: type[LeaveProvider]) -> None:
    """A provider class sets name, display_name, capabilities and its own Config itself."""
    declared = vars(cls)
    assert {"name", "display_name", "capabilities", "Config"} <= declared.keys()
    assert isinstance(cls.display_name, str) and cls.display_name
    assert isinstance(cls.capabilities, Capabilities)
    assert issubclass(cls.Config, LeaveProvider.Config) and cls.Config is not LeaveProvider.Config


def _subclasses(cls: type[LeaveProvider]) -> set[type[LeaveProvider]]:
    direct = set(cls.__subclasses__())
    return direct.union(*(_subclasses(c) for c in direct))


PARTS = {
    "full day": (span(MONDAY, "AM", MONDAY, "PM"), ["all day"]),
    "afternoon": (span(MONDAY, "PM", MONDAY, "PM"), ["afternoon"]),
    "morning": (span(MONDAY, "AM", MONDAY, "AM"), ["morning"]),
    "two full days": (span(MONDAY, "AM", TUESDAY, "PM"), ["all day", "all day"]),
    "afternoon to morning": (span(MONDAY, "PM", TUESDAY, "AM"), ["afternoon", "morning"]),
    "hourly": (span(MONDAY, 540, MONDAY, 720), ["09:00–12:00"]),
}


@pytest.mark.parametrize(("harness", "database_url"), list(_cases()), indirect=True)
class TestContract:
    """What the bot relies on from every provider."""

    async def test_check_connection_succeeds(self, ready: Ready) -> None:
        """A provider with good settings passes its own connection check."""
        await ready.provider.check_connection()

    async def test_find_person_by_email_ignores_case(self, ready: Ready) -> None:
        """find_person finds the same person whatever the e-mail's case, and ProviderNotFound for nobody."""
        person = await ready.provider.find_person(ready.known_email)
        assert isinstance(person, Person)
        assert (person.email or "").lower() == ready.known_email.lower()
        assert await ready.provider.find_person(ready.known_email.upper()) == person
        with pytest.raises(ProviderNotFound):
            await ready.provider.find_person(ready.unknown_email)

    async def test_leave_types_have_unique_ids(self, ready: Ready) -> None:
        """leave_types offers at least one type, each with its own id."""
        types = await ready.provider.leave_types()
        assert types
        assert len({t.id for t in types}) == len(types)

    async def test_submitted_leave_is_absent_on_its_days(self, ready: Ready) -> None:
        """A submitted booking shows in absences() on each of its days, with the right part, and on no other."""
        for weeks, (shape, (same_week, parts)) in enumerate(PARTS.items()):
            if same_week.is_hourly and not ready.provider.capabilities.hourly:
                continue
            # A week apart, so no HR system refuses one booking as overlapping another.
            later = timedelta(weeks=weeks)
            leave = span(
                same_week.start_date + later, same_week.start, same_week.end_date + later, same_week.end
            )
            booking = await book(ready, leave)
            # Where the bot keeps approval, the provider is only called to book approved leave.
            assert booking.status is (Status.PENDING if native(ready.provider) else Status.APPROVED), shape
            for day, part in zip(leave.days(), parts, strict=True):
                (absence,) = [a for a in await ready.provider.absences(day, day) if a.id == booking.id]
                assert bounds(absence) == bounds(leave), shape
                assert (absence.part_on(day), absence.status) == (part, booking.status), shape
                assert (absence.person.email or "").lower() == ready.known_email.lower(), shape
            for day in (leave.start_date - timedelta(days=1), leave.end_date + timedelta(days=1)):
                assert booking.id not in [a.id for a in await ready.provider.absences(day, day)], shape

    async def test_approve_approves(self, ready: Ready) -> None:
        """Approving a pending booking approves it, and absences() says so."""
        booking = await booked(ready)
        outcome = await ready.provider.approve(booking.id)
        assert (outcome.status, outcome.already_actioned) == (Status.APPROVED, False)
        assert await status_on(ready, booking) is Status.APPROVED

    async def test_approving_twice_reports_already_actioned(self, ready: Ready) -> None:
        """A second approve is no error: it reports the booking already approved."""
        booking = await booked(ready)
        await ready.provider.approve(booking.id)
        outcome = await ready.provider.approve(booking.id)
        assert (outcome.status, outcome.already_actioned) == (Status.APPROVED, True)

    async def test_decline_with_reason_declines(self, ready: Ready) -> None:
        """Declining a pending booking with a reason declines it."""
        booking = await booked(ready)
        outcome = await ready.provider.decline(booking.id, "Too many people off that week")
        assert (outcome.status, outcome.already_actioned) == (Status.DECLINED, False)

    async def test_cancel_of_approved_booking_cancels(self, ready: Ready) -> None:
        """An approved booking can be cancelled."""
        booking = await book(ready)
        if booking.status is Status.PENDING:
            await ready.provider.approve(booking.id)
        outcome = await ready.provider.cancel(booking.id)
        assert (outcome.status, outcome.already_actioned) == (Status.CANCELLED, False)

    async def test_unknown_booking_is_not_found(self, ready: Ready) -> None:
        """Approve, decline or cancel of a booking id the provider never issued raises ProviderNotFound."""
        actions = [lambda i: ready.provider.cancel(i)]
        if native(ready.provider):
            actions += [lambda i: ready.provider.approve(i), lambda i: ready.provider.decline(i, "no")]
        for action in actions:
            with pytest.raises(ProviderNotFound):
                await action(ready.unknown_booking_id)

    async def test_approvers_are_people_other_than_the_requester(self, ready: Ready) -> None:
        """approvers() returns Person objects, at least one for the known person, never the person asked about."""
        person = await ready.provider.find_person(ready.known_email)
        approvers = await ready.provider.approvers(person)
        assert approvers
        assert all(isinstance(a, Person) for a in approvers)
        assert person.id not in {a.id for a in approvers}
        for approver in approvers:
            assert approver.id not in {a.id for a in await ready.provider.approvers(approver)}

    async def test_concurrent_approvals_move_the_booking_once(self, ready: Ready) -> None:
        """Of two approvals racing on one booking, exactly one does it; the other reports it done."""
        booking = await booked(ready)
        outcomes: list[Outcome] = await asyncio.gather(
            ready.provider.approve(booking.id), ready.provider.approve(booking.id)
        )
        assert sorted(o.already_actioned for o in outcomes) == [False, True]
        assert {o.status for o in outcomes} == {Status.APPROVED}
