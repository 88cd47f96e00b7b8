"""The provider kit: every HTTP provider maps every failure family to its typed error, and the shared parts behave.

Each HTTP provider runs against its own fake server over real HTTP; one call (the listing of people)
is answered instead by a fault: a refused connection, a timeout, an error status, a 429 with
``Retry-After``, a body that is not JSON, or JSON of a shape the provider does not know. Every other
call (signing in included) reaches the fake as usual, so the fault is met where a provider parses.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import test_offiserv
import test_timetap
import test_timetastic
import test_wheniwork
import test_whosoff
from helpers.kit import ProviderKit

from providers import PROVIDERS, ApprovalMode, HttpProvider
from providers.approver_table import configured, parse_approvers
from providers.directory import Directory
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
)
from providers.local import LocalProvider
from providers.models import Person


@dataclass
class Fault:
    """What the faulty call gets instead of the fake's answer, ``times`` times (then the fake answers)."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    raise_: type[httpx.TransportError] | None = None
    times: int = 1_000


class FaultyTransport(httpx.AsyncBaseTransport):
    """Real HTTP to the fake, except requests for ``path``, which meet the fault."""

    def __init__(self, path: str, fault: Fault) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._path, self._fault = path, fault
        self.faulted = 0
        self.seen: Counter[str] = Counter()  # requests per path, faulted or not

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The fault for the probed path while it lasts; the fake's answer otherwise."""
        self.seen[request.url.path] += 1
        if request.url.path.endswith(self._path) and self.faulted < self._fault.times:
            self.faulted += 1
            if self._fault.raise_ is not None:
                raise self._fault.raise_("injected", request=request)
            return httpx.Response(self._fault.status, headers=self._fault.headers, content=self._fault.body)
        return await self._real.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the real transport."""
        await self._real.aclose()


@dataclass(frozen=True)
class Kit:
    """How to start one HTTP provider against its fake (its test file's ProviderKit), and the path of its listing of people."""

    name: str
    provider: ProviderKit[Any, Any]
    people_path: str
    sign_in_paths: tuple[str, ...] = ()  # where a session provider signs in (or renews)


KITS = [
    Kit("timetastic", test_timetastic.KIT, "/users"),
    Kit("wheniwork", test_wheniwork.KIT, "/users", ("/login",)),
    Kit(
        "whosoff",
        test_whosoff.KIT,
        "/v4/user/retrieve",
        ("/v4/authenticate/with-credentials", "/v4/authenticate/with-access-token"),
    ),
    Kit("timetap", test_timetap.KIT, "/staff", ("/sessionToken",)),
    Kit("offiserv", test_offiserv.KIT, "/data/companies/my", ("/data/login",)),
]

RETRY_LATER = (("Retry-After", "60"),)
FAMILIES = {
    "connection refused": (Fault(raise_=httpx.ConnectError), ProviderUnavailable),
    "timeout": (Fault(raise_=httpx.ReadTimeout), ProviderUnavailable),
    "server error": (Fault(status=500, body=b"oops"), ProviderUnavailable),
    "unavailable": (Fault(status=503), ProviderUnavailable),
    "credentials refused": (Fault(status=401), ProviderAuthError),
    "not found": (Fault(status=404, body=b'{"message": "gone"}'), ProviderNotFound),
    "refused": (Fault(status=400, body=b'{"message": "no"}'), ProviderRejected),
    "rate limited": (Fault(status=429, headers=RETRY_LATER), ProviderRateLimited),
    "not JSON": (Fault(body=b"<html>maintenance</html>"), ProviderResponseError),
    "unknown shape": (Fault(body=b"[1, 2, 3]"), ProviderResponseError),
}


def _kit_cases() -> Iterator[object]:
    for kit in KITS:
        for family, (fault, error) in FAMILIES.items():
            yield pytest.param(kit, fault, error, id=f"{kit.name}-{family}")


@asynccontextmanager
async def started(kit: Kit, fault: Fault) -> AsyncIterator[tuple[HttpProvider, FaultyTransport]]:
    """The kit's provider against its fake, its listing of people answered by ``fault``."""
    with kit.provider.fake() as fake:
        transport = FaultyTransport(kit.people_path, fault)
        provider = kit.provider.connect(fake, http=httpx.AsyncClient(transport=transport))
        try:
            yield provider, transport
        finally:
            await provider.aclose()


def test_every_http_provider_has_a_kit() -> None:
    """Each registered HTTP provider is driven through the failure families below."""
    http = {name for name, cls in PROVIDERS.items() if issubclass(cls, HttpProvider)}
    assert http == {kit.name for kit in KITS}


@pytest.mark.parametrize(("kit", "fault", "error"), list(_kit_cases()))
async def test_each_failure_family_becomes_its_typed_error(
    kit: Kit, fault: Fault, error: type[ProviderError]
) -> None:
    """A fault on a call surfaces as the one typed error of its family, named for the provider."""
    async with started(kit, fault) as (provider, transport):
        with pytest.raises(error) as raised:
            await provider.find_person("alice@example.com")
    assert transport.faulted >= 1
    assert raised.value.provider == kit.name
    if isinstance(raised.value, ProviderRateLimited):
        assert raised.value.retry_after == 60.0


@pytest.mark.parametrize("kit", KITS, ids=[k.name for k in KITS])
async def test_a_short_rate_limit_is_waited_out(kit: Kit) -> None:
    """A 429 asking for no wait is sent again, and the call then succeeds."""
    fault = Fault(status=429, headers=(("Retry-After", "0"),), times=1)
    async with started(kit, fault) as (provider, transport):
        person = await provider.find_person("alice@example.com")
    assert transport.faulted == 1
    assert person.email == "alice@example.com"


SESSION_KITS = [kit for kit in KITS if kit.sign_in_paths]


def _calls(transport: FaultyTransport, *paths: str) -> int:
    return sum(n for seen, n in transport.seen.items() if seen.endswith(paths))


@pytest.mark.parametrize("kit", SESSION_KITS, ids=[k.name for k in SESSION_KITS])
async def test_concurrent_first_calls_sign_in_once(kit: Kit) -> None:
    """Ten callers at once on a fresh provider share one sign-in."""
    async with started(kit, Fault(times=0)) as (provider, transport):
        found = await asyncio.gather(*(provider.find_person("alice@example.com") for _ in range(10)))
    assert {p.email for p in found} == {"alice@example.com"}
    assert _calls(transport, *kit.sign_in_paths) == 1


@pytest.mark.parametrize("kit", SESSION_KITS, ids=[k.name for k in SESSION_KITS])
async def test_an_expired_session_signs_in_once_more_and_repeats_the_call(kit: Kit) -> None:
    """A 401 on a call signs in again once and repeats it, which then succeeds."""
    async with started(kit, Fault(status=401, times=1)) as (provider, transport):
        person = await provider.find_person("alice@example.com")
    assert person.email == "alice@example.com"
    assert _calls(transport, *kit.sign_in_paths) == 2
    assert _calls(transport, kit.people_path) == 2


@pytest.mark.parametrize("kit", SESSION_KITS, ids=[k.name for k in SESSION_KITS])
async def test_a_session_refused_after_signing_in_is_never_retried_in_a_loop(kit: Kit) -> None:
    """A call refused again straight after a new sign-in raises ProviderAuthError after two sign-ins."""
    async with started(kit, Fault(status=401)) as (provider, transport):
        with pytest.raises(ProviderAuthError):
            await provider.find_person("alice@example.com")
    assert _calls(transport, *kit.sign_in_paths) == 2
    assert _calls(transport, kit.people_path) == 2


def test_bot_kept_providers_refuse_approve_and_decline() -> None:
    """Every provider whose approval leavebot keeps refuses approve and decline with a ProviderError."""
    kept = [
        cls
        for cls in PROVIDERS.values()
        if cls.capabilities.approval is ApprovalMode.BOT and cls is not LocalProvider
    ]
    assert {cls.name for cls in kept} == {"offiserv", "timetap", "whosoff"}
    for cls in kept:
        provider = cls.__new__(cls)  # approve/decline need no configuration: they refuse at once
        for call in (provider.approve("1"), provider.decline("1", "no")):
            with pytest.raises(ProviderError, match="leavebot holds the approval"):
                asyncio.run(call)


async def test_the_directory_reads_once_for_concurrent_misses() -> None:
    """Ten lookups at once of an unknown address read the people once, then once more for the miss."""
    reads = 0

    async def read() -> list[Person]:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0)
        return [Person(id="1", name="Alice", email="Alice@Example.com")]

    people = Directory(
        read, key=lambda p: p.id, email=lambda p: p.email, fresh_for=60, refresh_after_miss=lambda: 60
    )
    found = await asyncio.gather(*(people.find("alice@example.COM") for _ in range(10)))
    assert [p and p.id for p in found] == ["1"] * 10
    assert reads == 1
    assert await people.find("nobody@example.com") is None
    assert reads == 1  # read moments ago: a miss does not read again within refresh_after_miss


async def test_the_directory_rereads_on_a_miss_once_allowed() -> None:
    """A newcomer is found by re-reading on a miss when the list is older than refresh_after_miss."""
    listed = [[Person(id="1", name="Alice")], [Person(id="1", name="Alice"), Person(id="2", name="Bob")]]

    async def read() -> list[Person]:
        return listed.pop(0)

    people = Directory(
        read, key=lambda p: p.id, email=lambda p: p.email, fresh_for=60, refresh_after_miss=lambda: 0
    )
    assert (await people.get("1")) is not None
    bob = await people.get("2")
    assert bob is not None and bob.name == "Bob"


def test_the_approver_table_serves_local_and_timetap_alike() -> None:
    """Both providers resolve approvers through the one table, never naming the requester."""
    table = parse_approvers("alice@x.com=bob@x.com,alice@x.com; *=carol@x.com")
    alice = Person(id="7", name="Alice", email="Alice@X.com")
    assert [p.email for p in configured(table, alice)] == ["bob@x.com"]
    assert [p.email for p in configured(table, Person(id="8", name="Dan", email="dan@x.com"))] == [
        "carol@x.com"
    ]
