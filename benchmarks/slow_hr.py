"""A fake remote HR system that takes ``delay`` seconds to answer every call, and the provider that talks to it.

The server is a Starlette app (run by `world.py` under uvicorn); the provider is an ordinary
`HttpProvider`, so the bot pays for real HTTP round trips through httpx, as with Timetastic.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from providers.base import HttpProvider
from providers.models import Absence, Booking, HolidayRequest, LeaveType, Outcome, Person, Status

LEAVE_TYPES = [{"id": "1", "name": "Annual leave"}, {"id": "2", "name": "Sick leave"}]


def hr_app(
    *, delay: float, approvers: Callable[[str], list[str]], extra: list[Route] | None = None
) -> Starlette:
    """The fake HR API: people by e-mail, leave types, bookings; every answer ``delay`` seconds late."""
    bookings: dict[str, dict[str, Any]] = {}
    ids = itertools.count(1)
    calls = {"count": 0}

    async def slow() -> None:
        calls["count"] += 1
        await asyncio.sleep(delay)

    async def person(request: Request) -> JSONResponse:
        await slow()
        email = request.query_params["email"].lower()
        return JSONResponse({"id": email, "name": email.split("@")[0], "email": email})

    async def leave_types(_: Request) -> JSONResponse:
        await slow()
        return JSONResponse(LEAVE_TYPES)

    async def approvers_of(request: Request) -> JSONResponse:
        await slow()
        found = approvers(request.path_params["id"])  # a person's id is their e-mail address here
        return JSONResponse([{"id": a, "name": a.split("@")[0], "email": a} for a in found])

    async def book(request: Request) -> JSONResponse:
        await slow()
        booking_id = str(next(ids))
        bookings[booking_id] = {**await request.json(), "id": booking_id, "status": "pending"}
        return JSONResponse({"id": booking_id, "status": "pending"})

    async def absences(request: Request) -> JSONResponse:
        await slow()
        start, end = request.query_params["start"], request.query_params["end"]
        found = [b for b in bookings.values() if b["start_date"] <= end and b["end_date"] >= start]
        return JSONResponse(found)

    async def decide(request: Request) -> JSONResponse:
        await slow()
        booking = bookings.get(request.path_params["id"])
        if booking is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        target = {"approve": "approved", "decline": "declined", "cancel": "cancelled"}[
            request.path_params["verb"]
        ]
        done = booking["status"] == target
        booking["status"] = target
        return JSONResponse({"status": target, "already_actioned": done})

    async def stats(_: Request) -> JSONResponse:
        return JSONResponse({"hr_calls": calls["count"], "bookings": len(bookings)})

    routes = [
        Route("/people", person),
        Route("/leave-types", leave_types),
        Route("/people/{id}/approvers", approvers_of),
        Route("/bookings", book, methods=["POST"]),
        Route("/absences", absences),
        Route("/bookings/{id}/{verb}", decide, methods=["POST"]),
        Route("/hr-stats", stats),
        *(extra or []),
    ]
    return Starlette(routes=routes)


class SlowHrProvider(HttpProvider):
    """The benchmark's remote provider: every method is one HTTP call to the slow fake HR system."""

    name = "slowhr"
    display_name = "Slow HR"

    class Config(HttpProvider.Config):
        """Where the fake HR system listens."""

        base_url: str = "http://127.0.0.1:1"

    config: Config

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    async def find_person(self, email: str) -> Person:
        """One GET /people?email=…"""
        response = await self._request("GET", self._url("/people"), params={"email": email})
        return Person.model_validate(response.json())

    async def leave_types(self) -> list[LeaveType]:
        """One GET /leave-types."""
        response = await self._request("GET", self._url("/leave-types"))
        return [LeaveType.model_validate(t) for t in response.json()]

    async def submit(self, request: HolidayRequest) -> Booking:
        """One POST /bookings."""
        body = request.model_dump(mode="json")
        response = await self._request("POST", self._url("/bookings"), json=body)
        return Booking.model_validate(response.json())

    async def absences(self, start: date, end: date) -> list[Absence]:
        """One GET /absences."""
        params = {"start": start.isoformat(), "end": end.isoformat()}
        response = await self._request("GET", self._url("/absences"), params=params)
        return [_absence(b) for b in response.json()]

    async def approve(self, booking_id: str) -> Outcome:
        """One POST /bookings/{id}/approve."""
        return await self._decide(booking_id, "approve")

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """One POST /bookings/{id}/decline."""
        return await self._decide(booking_id, "decline")

    async def cancel(self, booking_id: str) -> Outcome:
        """One POST /bookings/{id}/cancel."""
        return await self._decide(booking_id, "cancel")

    async def approvers(self, person: Person) -> list[Person]:
        """One GET /people/{id}/approvers."""
        response = await self._request("GET", self._url(f"/people/{person.id}/approvers"))
        return [Person.model_validate(p) for p in response.json()]

    async def _decide(self, booking_id: str, verb: str) -> Outcome:
        response = await self._request("POST", self._url(f"/bookings/{booking_id}/{verb}"))
        data = response.json()
        return Outcome(status=Status(data["status"]), already_actioned=data["already_actioned"])


def _absence(booking: dict[str, Any]) -> Absence:
    """A stored booking (a HolidayRequest as JSON, plus id and status) as an absence."""
    return Absence(
        id=booking["id"],
        person=Person.model_validate(booking["requester"]),
        start_date=booking["start_date"],
        end_date=booking["end_date"],
        start=booking["start"],
        end=booking["end"],
        status=Status(booking["status"]),
        leave_type=(booking.get("leave_type") or {}).get("name"),
    )
