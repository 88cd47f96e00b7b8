"""A remote HR system for the digest's tests and benchmark, and the provider that talks to it.

``FakeHR`` is a loopback HTTP server (a daemon thread, like the fake Slack) with what makes a
remote HR API costly: a latency on every call, a rate limit per key (429 with ``Retry-After``
past ``rate_limit`` calls in a second) and absences listed by date in pages of 100 with a total.
People carry a department, and the system knows public holidays.

``FakeHRProvider`` is an ordinary ``HttpProvider``: a week's absences are one date-filtered
listing, its pages fetched at once after the first tells the total (the limiter paces them).
It counts the time its requests spent waiting for the rate limiter.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, SecretStr

from fakes.loopback import Incoming, Loopback, Reply
from providers.base import HttpProvider, LeaveProvider, RateLimit, RateLimiter
from providers.models import (
    Absence,
    Booking,
    HolidayRequest,
    LeaveType,
    Outcome,
    Person,
    PublicHoliday,
    Status,
)

TOKEN = "hr-test-token"
PAGE_SIZE = 100
DEPARTMENTS = [
    "Engineering",
    "Sales",
    "Support",
    "Marketing",
    "Finance",
    "People",
    "Legal",
    "Operations",
    "Design",
    "Product",
    "Data",
    "Security",
]
FIRST = ["Ada", "Ben", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lena"]
LAST = ["Archer", "Brook", "Castro", "Dubois", "Eklund", "Fox", "García", "Hughes", "Ito", "Jones"]
LEAVE_TYPES = ["Annual leave", "Sick leave", "Parental leave", "Training"]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]


class FakeHR(Loopback):
    """Loopback stand-in for a remote HR API: people, absences by date, public holidays."""

    json_type = "application/json"

    def __init__(self, *, latency: float = 0.0, rate_limit: int | None = 5) -> None:
        super().__init__()
        self.latency = latency
        self.rate_limit = rate_limit
        self.people: dict[str, dict[str, Any]] = {}
        self.absences: dict[str, dict[str, Any]] = {}
        self.holidays: list[dict[str, Any]] = []
        self.calls: list[Call] = []
        self.throttled = 0  # 429s answered
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._window: deque[float] = deque()

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API's base URL."""
        return self.root

    # -- test set-up -----------------------------------------------------------------------------

    def add_person(self, name: str, email: str, department: str | None = None) -> str:
        """Add someone; returns their id."""
        person_id = f"P{len(self.people) + 1:05d}"
        self.people[person_id] = {"id": person_id, "name": name, "email": email, "department": department}
        return person_id

    def add_absence(
        self,
        person_id: str,
        start: date,
        end: date | None = None,
        *,
        start_part: str | int = "AM",
        end_part: str | int = "PM",
        status: str = "approved",
        leave_type: str = "Annual leave",
    ) -> str:
        """Book an absence as the HR system holds it (approved unless told otherwise); returns its id."""
        absence_id = str(next(self._ids))
        self.absences[absence_id] = {
            "id": absence_id,
            "personId": person_id,
            "start": start.isoformat(),
            "end": (end or start).isoformat(),
            "startPart": start_part,
            "endPart": end_part,
            "status": status,
            "leaveType": leave_type,
        }
        return absence_id

    def add_holiday(self, day: date, name: str, country: str | None = "GB") -> None:
        """A public holiday the HR system knows."""
        self.holidays.append({"date": day.isoformat(), "name": name, "country": country})

    def calls_to(self, path: str) -> list[Call]:
        """Recorded calls to ``path`` (without its query)."""
        with self._lock:
            return [c for c in self.calls if c.path == path]

    # -- routing (server threads) ----------------------------------------------------------------

    def _record(self, incoming: Incoming) -> None:
        with self._lock:
            self.calls.append(Call(incoming.method, incoming.path, incoming.query))

    def _fault_body(self, status: int, message: str) -> Any:
        return {"error": message or "unavailable"}

    def _answer(self, incoming: Incoming) -> Reply:
        with self._lock:
            if incoming.headers.get("Authorization") != f"Bearer {TOKEN}":
                return Reply(401, {"error": "bad token"})
            if self._limited():
                self.throttled += 1
                return Reply(429, {"error": "slow down"}, {"Retry-After": "1"})
        time.sleep(self.latency)  # outside the lock: calls overlap as on a real server
        parts, body = incoming.path.strip("/").split("/"), json.loads(incoming.raw or b"null")
        with self._lock:
            return Reply(*self._dispatch(incoming.method, parts, incoming.query, body))

    def _limited(self) -> bool:
        moment = time.monotonic()
        while self._window and moment - self._window[0] >= 1.0:
            self._window.popleft()
        if self.rate_limit is not None and len(self._window) >= self.rate_limit:
            return True
        self._window.append(moment)
        return False

    def _dispatch(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        match method, parts:
            case "GET", ["people"]:
                email = query.get("email", "").lower()
                found = [p for p in self.people.values() if (p["email"] or "").lower() == email]
                return (200, found[0], {}) if found else (404, {"error": "no such person"}, {})
            case "GET", ["leave-types"]:
                return 200, [{"id": str(i), "name": n} for i, n in enumerate(LEAVE_TYPES, 1)], {}
            case "GET", ["absences"]:
                return 200, self._page(query), {}
            case "GET", ["public-holidays"]:
                start, end = query["start"], query["end"]
                return 200, [h for h in self.holidays if start <= h["date"] <= end], {}
            case "POST", ["absences"]:
                absence_id = self.add_absence(
                    body["personId"],
                    date.fromisoformat(body["start"]),
                    date.fromisoformat(body["end"]),
                    start_part=body["startPart"],
                    end_part=body["endPart"],
                    status="pending",
                )
                return 200, {"id": absence_id, "status": "pending"}, {}
            case "POST", ["absences", absence_id, action]:
                return self._act(absence_id, action)
        return 404, {"error": "no such endpoint"}, {}

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        start, end, statuses = query["start"], query["end"], set(query.get("status", "").split(","))
        found = [
            {**a, "person": self.people[a["personId"]]}
            for a in self.absences.values()
            if a["start"] <= end
            and a["end"] >= start
            and (statuses == {""} or a["status"] in statuses)
            and query.get("person") in (None, a["personId"])
        ]
        page = int(query.get("page", "1"))
        return {
            "absences": found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            "total": len(found),
            "pageSize": PAGE_SIZE,
        }

    def _act(self, absence_id: str, action: str) -> tuple[int, Any, dict[str, str]]:
        absence = self.absences.get(absence_id)
        if absence is None:
            return 404, {"error": "no such absence"}, {}
        target = {"approve": "approved", "decline": "declined", "cancel": "cancelled"}[action]
        allowed = ("pending", "approved") if action == "cancel" else ("pending",)
        if absence["status"] not in allowed:
            return 200, {"status": absence["status"], "alreadyActioned": True}, {}
        absence["status"] = target
        return 200, {"status": target, "alreadyActioned": False}, {}


def company(hr: FakeHR, *, people: int, absences: int, day: date, seed: int = 9) -> list[tuple[str, str]]:
    """Fill ``hr`` with a company of ``people`` in 12 departments, ``absences`` of them off on ``day``.

    Those absences mix whole days, half days, hours and spans of up to two weeks; ``absences // 4``
    more people are off later that week, and as many have pending, declined or cancelled leave on
    ``day`` (which must never show). Returns every person's (id, e-mail).
    """
    rng = random.Random(seed)
    everyone = []
    for n in range(people):
        name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]} {n:05d}"
        email = f"person{n:05d}@example.com"
        everyone.append((hr.add_person(name, email, DEPARTMENTS[n % len(DEPARTMENTS)]), email))
    chosen = rng.sample(everyone, absences + 2 * (absences // 4))
    later_days = max(1, 6 - day.weekday())
    for index, (person_id, _) in enumerate(chosen):
        start = day - timedelta(days=rng.choice([0, 0, 0, 1, 2, 4]))
        if absences <= index < absences + absences // 4:
            start = day + timedelta(days=rng.randrange(1, later_days + 1))
        end = max(start + timedelta(days=rng.choice([0, 0, 1, 2, 4, 9])), day)
        parts: dict[str, Any] = {}
        if start == end:
            parts = rng.choice(
                [{}, {}, {"start_part": "PM"}, {"end_part": "AM"}, {"start_part": 540, "end_part": 720}]
            )
        status = (
            "approved"
            if index < absences + absences // 4
            else rng.choice(["pending", "declined", "cancelled"])
        )
        hr.add_absence(person_id, start, end, status=status, leave_type=rng.choice(LEAVE_TYPES), **parts)
    return everyone


class TimedRateLimiter(RateLimiter):
    """The provider's limiter, adding up how long requests waited for it."""

    def __init__(self, limit: RateLimit) -> None:
        super().__init__(limit)
        self.waited = 0.0  # summed over requests, which wait side by side
        self.longest = 0.0  # the longest one request waited: for pages fetched at once, the delay it caused

    async def wait(self) -> None:
        """Wait as the limiter does, and count the time."""
        began = time.monotonic()
        await super().wait()
        waited = time.monotonic() - began
        self.waited += waited
        self.longest = max(self.longest, waited)


class FakeHRProvider(HttpProvider):
    """The provider for ``FakeHR``: one date-filtered listing per range, pages fetched at once."""

    name: ClassVar[str] = "fakehr"
    display_name: ClassVar[str] = "Acme HR"
    rate_limit: ClassVar[RateLimit | None] = RateLimit(calls=5, per=1.1)

    class Config(LeaveProvider.Config):
        """Where the fake is and the token."""

        base_url: str
        token: SecretStr = SecretStr(TOKEN)
        paced: bool = True  # False: no client-side rate limiting (for a FakeHR without one)

    config: Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert self.rate_limit is not None
        self.limiter = TimedRateLimiter(self.rate_limit)
        self._limiter = self.limiter if self.config.paced else None
        self.calls: Counter[str] = Counter()

    async def _get(self, path: str, **params: Any) -> Any:
        self.calls[path] += 1
        headers = {"Authorization": f"Bearer {self.config.token.get_secret_value()}"}
        response = await self._request("GET", f"{self.config.base_url}{path}", params=params, headers=headers)
        return response.json()

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        self.calls[path] += 1
        headers = {"Authorization": f"Bearer {self.config.token.get_secret_value()}"}
        response = await self._request("POST", f"{self.config.base_url}{path}", json=body, headers=headers)
        return response.json()

    async def find_person(self, email: str) -> Person:
        """The person with this e-mail."""
        return _person(await self._get("/people", email=email))

    async def leave_types(self) -> list[LeaveType]:
        """The leave types."""
        return [LeaveType(**t) for t in await self._get("/leave-types")]

    async def submit(self, request: HolidayRequest) -> Booking:
        """Book as pending."""
        body = {
            "personId": request.requester.id,
            "start": request.start_date.isoformat(),
            "end": request.end_date.isoformat(),
            "startPart": request.start,
            "endPart": request.end,
        }
        answer = await self._post("/absences", body)
        return Booking(id=answer["id"], status=Status(answer["status"]))

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Every absence touching the range: the first page, then the others at once."""
        return await self._listing(start=start.isoformat(), end=end.isoformat())

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's absences, filtered by the server."""
        return await self._listing(start=start.isoformat(), end=end.isoformat(), person=person.id)

    async def _listing(self, **params: Any) -> list[Absence]:
        first = await self._get("/absences", **params)
        pages = math.ceil(first["total"] / first["pageSize"])
        rest = await asyncio.gather(*(self._get("/absences", **params, page=n) for n in range(2, pages + 1)))
        return [_absence(a) for page in [first, *rest] for a in page["absences"]]

    async def public_holidays(self, start: date, end: date) -> list[PublicHoliday]:
        """The HR system's public holidays."""
        found = await self._get("/public-holidays", start=start.isoformat(), end=end.isoformat())
        return [
            PublicHoliday(day=date.fromisoformat(h["date"]), name=h["name"], country=h["country"])
            for h in found
        ]

    async def approve(self, booking_id: str) -> Outcome:
        """Approve."""
        return _outcome(await self._post(f"/absences/{booking_id}/approve"))

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """Decline."""
        return _outcome(await self._post(f"/absences/{booking_id}/decline"))

    async def cancel(self, booking_id: str) -> Outcome:
        """Cancel."""
        return _outcome(await self._post(f"/absences/{booking_id}/cancel"))

    async def approvers(self, person: Person) -> list[Person]:
        """Nobody: these tests need no approvers."""
        return []


def _person(data: dict[str, Any]) -> Person:
    return Person(id=data["id"], name=data["name"], email=data["email"], department=data["department"])


def _absence(data: dict[str, Any]) -> Absence:
    return Absence(
        id=data["id"],
        person=_person(data["person"]),
        start_date=date.fromisoformat(data["start"]),
        end_date=date.fromisoformat(data["end"]),
        start=data["startPart"],
        end=data["endPart"],
        status=Status(data["status"]),
        leave_type=data["leaveType"],
    )


def _outcome(data: dict[str, Any]) -> Outcome:
    return Outcome(status=Status(data["status"]), already_actioned=data["alreadyActioned"])


def provider_config(hr: FakeHR) -> BaseModel:
    """The provider's settings for a running fake."""
    return FakeHRProvider.Config(base_url=hr.url)
