"""A real loopback HTTP server that behaves as TimeTap's Time Off document says, for tests.

What it holds to, from the document and the clients it cites: ``GET /sessionToken`` checks
``apiKey``, a numeric ``timestamp`` and ``signature`` = md5(apiKey + privateKey) and hands out a
bearer token (a test can expire every token, or refuse them all); ``POST /timeOffBulk`` checks the
documented fields and answers an **array**, one time off per staff id, with string times and the
document's copy-paste status; ``GET /timeOff/{id}`` answers integer times and ``Open``;
``PUT``; ``DELETE`` is soft (``active`` false, the record stays readable); the appointments report
lists time off only with ``excludeTimeOff=false`` and only time off with ``onlyTimeOff=1``, as
stored (a test may store ``900`` or ``"0900"``, ``Open`` or ``OPEN``), dropping deleted ones; the
paged report needs ``pageNumber`` and ``pageSize``; and 429 with ``Retry-After`` on demand.

Where the document is silent the fake follows ``providers.timetap.Assumed`` (routes, the report's
``startDate``/``endDate`` filter by start date, the paged answer's ``count``/``objects``).
It runs in a daemon thread; ``url`` is the API base, as TIMETAP_BASE_URL.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from fakes.loopback import Incoming, Loopback, Reply

API_KEY = "43111"  # in practice the business id
PRIVATE_KEY = "c0ffee-private-key-0b2d"
BUSINESS_ID = 43111
SIGNATURE = hashlib.md5((API_KEY + PRIVATE_KEY).encode(), usedforsecurity=False).hexdigest()

ALICE, BOB, CAROL, MALLORY = 80891, 80892, 80893, 80894
VACATION, SICK, HAIRCUT = 1001, 1002, 2001  # two PERSONAL reasons and a service clients book


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


def _staff(staff_id: int, first: str, last: str, email: str) -> dict[str, Any]:
    return {
        "professionalId": staff_id,
        "businessId": BUSINESS_ID,
        "firstName": first,
        "lastName": last,
        "fullName": f"{first} {last}",
        "email": email,
        "active": True,
    }


def default_staff() -> list[dict[str, Any]]:
    """Alice (her address stored with capitals, as people type them), Bob, Carol and Mallory."""
    return [
        _staff(ALICE, "Alice", "Archer", "Alice@Example.com"),
        _staff(BOB, "Bob", "Boss", "bob@example.com"),
        _staff(CAROL, "Carol", "Chief", "carol@example.com"),
        _staff(MALLORY, "Mallory", "Meddler", "mallory@example.com"),
    ]


def default_reasons() -> list[dict[str, Any]]:
    """Vacation and Sick (PERSONAL: time off) and a haircut (a service clients book)."""
    return [
        {"reasonId": VACATION, "reasonDesc": "Vacation", "reasonType": "PERSONAL", "active": True},
        {"reasonId": SICK, "reasonDesc": "Sick", "reasonType": "PERSONAL", "active": True},
        {"reasonId": HAIRCUT, "reasonDesc": "Haircut", "reasonType": "SERVICE", "active": True},
    ]


def _military(value: Any) -> int | None:
    text = str(value)
    if not text.isdigit() or len(text) > 4 or int(text) % 100 > 59 or int(text) > 2400:
        return None
    return int(text)


Answer = tuple[int, Any, dict[str, str]]


class FakeTimeTap(Loopback):
    """Loopback stand-in for TimeTap's API that records every call."""

    json_type = "application/json"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.staff = default_staff()
        self.reasons = default_reasons()
        self.time_off: dict[int, dict[str, Any]] = {}
        self.appointments: list[dict[str, Any]] = []  # client bookings, which the time-off listing leaves out
        self.tokens: set[str] = set()
        self.expired_status = 401  # what a stale session gets; TimeTap's answer is undocumented
        self.refuse_sessions = False  # every token is refused, even a new one
        self._lock = threading.RLock()
        self._ids = itertools.count(17_360_947)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API base, as TIMETAP_BASE_URL."""
        return f"{self.root}/test"

    # -- test set-up and queries -----------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every token handed out so far stops working, as a session that timed out."""
        with self._lock:
            self.tokens.clear()

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Recorded calls of one method to one path (``/timeOffBulk``), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def add_time_off(
        self,
        staff_id: int,
        start: date,
        end: date,
        *,
        start_time: int | str = "0900",
        end_time: int | str = "1700",
        status: str = "Open",
        reason: int = VACATION,
    ) -> int:
        """Put time off straight into TimeTap's data, times and status stored as given; returns its id."""
        with self._lock:
            record = self._new(staff_id, start, end, start_time, end_time, reason, "", status)
            return int(record["timeOffId"])

    def book_by_itself(self, person: int, day: date) -> str:
        """Staff time off for a whole day entered in TimeTap's UI; returns its id."""
        return str(self.add_time_off(person, day, day))

    def move_by_itself(self, booking_id: str, day: date) -> None:
        """The time off's dates are changed to ``day`` in TimeTap's UI."""
        with self._lock:
            self.time_off[int(booking_id)] |= {"startDate": day.isoformat(), "endDate": day.isoformat()}

    def remove_by_itself(self, booking_id: str) -> None:
        """The time off is removed in TimeTap's UI (soft, as its DELETE is)."""
        with self._lock:
            self.time_off[int(booking_id)]["active"] = False

    def add_appointment(self, staff_id: int, day: date) -> None:
        """A client's appointment with a staff member: in the report, never in the time-off listing."""
        with self._lock:
            self.appointments.append(
                {
                    "calendarId": next(self._ids),
                    "staff": self._staff(staff_id),
                    "startDate": day.isoformat(),
                    "endDate": day.isoformat(),
                    "startTime": 1000,
                    "endTime": 1100,
                    "status": "OPEN",
                    "reason": self._reason(HAIRCUT),
                }
            )

    # -- routing (server threads) -----------------------------------------------------------------

    def _record(self, incoming: Incoming) -> None:
        call = Call(
            incoming.method,
            incoming.path.removeprefix("/test"),
            incoming.query,
            incoming.json(),
            incoming.headers.get("Authorization"),
        )
        with self._lock:
            self.calls.append(call)

    def _fault_body(self, status: int, message: str) -> Any:
        return {"message": message or "Service unavailable"}

    def _answer(self, incoming: Incoming) -> Reply:
        return Reply(*self._route(incoming))

    def _route(self, incoming: Incoming) -> Answer:
        method, path, query = incoming.method, incoming.path, incoming.query
        body = json.loads(incoming.raw) if incoming.raw else None
        authorization = incoming.headers.get("Authorization")
        with self._lock:
            path = path.removeprefix("/test")
            if (method, path) == ("GET", "/sessionToken"):
                return self._session(query)
            token = (authorization or "").removeprefix("Bearer ")
            if self.refuse_sessions or token not in self.tokens:
                return self.expired_status, {"message": "Session token is not valid"}, {}
            return self._dispatch(method, path.strip("/").split("/"), query, body)

    def _session(self, query: dict[str, str]) -> Answer:
        signed = query.get("apiKey") == API_KEY and query.get("signature") == SIGNATURE
        if not signed or not query.get("timestamp", "").isdigit():
            return 401, {"message": "Invalid signature"}, {}
        token = f"st:api:api:{uuid.uuid4().hex}"
        self.tokens.add(token)
        return 200, {"sessionToken": token}, {}

    def _dispatch(self, method: str, parts: list[str], query: dict[str, str], body: Any) -> Answer:
        match method, parts:
            case "GET", ["staff"]:
                return 200, self.staff, {}
            case "GET", ["services"]:
                return 200, self.reasons, {}
            case "POST", ["timeOffBulk"]:
                return self._create(body if isinstance(body, dict) else {})
            case "GET", ["timeOff", time_off_id]:
                return self._read(time_off_id, lambda r: self._json(r, times=int))
            case "PUT", ["timeOff", time_off_id]:
                return self._update(time_off_id, body if isinstance(body, dict) else {})
            case "DELETE", ["timeOff", time_off_id]:
                return self._delete(time_off_id)
            case "GET", ["appointments", "report"]:
                return 200, self._report(query), {}
            case "GET", ["appointmentList", "reportWithCount"]:
                return self._paged(query)
        return 404, {"message": f"no route {method} /{'/'.join(parts)}"}, {}

    # -- time off ----------------------------------------------------------------------------------

    def _staff(self, staff_id: int) -> dict[str, Any]:
        return next(s for s in self.staff if s["professionalId"] == staff_id)

    def _reason(self, reason_id: int) -> dict[str, Any]:
        return next(r for r in self.reasons if r["reasonId"] == reason_id)

    def _new(
        self,
        staff_id: int,
        start: date,
        end: date,
        start_time: Any,
        end_time: Any,
        reason: int,
        description: str,
        status: str,
    ) -> dict[str, Any]:
        record = {
            "timeOffId": next(self._ids),
            "businessId": BUSINESS_ID,
            "staffId": staff_id,
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "startTime": start_time,
            "endTime": end_time,
            "status": status,
            "reasonId": reason,
            "description": description,
            "active": True,
        }
        self.time_off[record["timeOffId"]] = record
        return record

    def _json(self, record: dict[str, Any], *, times: type = str) -> dict[str, Any]:
        """A record as TimeTap writes it: integer times from GET, string times from the writes."""
        return {
            "timeOffId": record["timeOffId"],
            "businessId": record["businessId"],
            "staffId": record["staffId"],
            "staff": self._staff(record["staffId"]),
            "startDate": record["startDate"],
            "endDate": record["endDate"],
            "startTime": times(record["startTime"]),
            "endTime": times(record["endTime"]),
            "status": record["status"],
            "reason": self._reason(record["reasonId"]),
            "description": record["description"],
            "active": record["active"],
            "createdUser": "api",
        }

    def _create(self, body: dict[str, Any]) -> Answer:
        required = ("appliesTo", "assignedTo", "businessId", "staffId", "startDate", "endDate")
        missing = [k for k in (*required, "startTime", "endTime", "reason", "repeats") if k not in body]
        if missing:
            return 400, {"message": f"Missing {', '.join(missing)}"}, {}
        if (body["appliesTo"], body["assignedTo"], str(body["businessId"])) != (
            "staff",
            "select",
            str(BUSINESS_ID),
        ):
            return 400, {"message": "appliesTo, assignedTo or businessId is not valid"}, {}
        staff_ids = body["staffId"]
        known = {s["professionalId"] for s in self.staff}
        if not isinstance(staff_ids, list) or not staff_ids or set(staff_ids) - known:
            return 400, {"message": "staffId must be a list of staff ids"}, {}
        reason = body["reason"] if isinstance(body["reason"], dict) else {}
        personal = [r["reasonId"] for r in self.reasons if r["reasonType"] == "PERSONAL"]
        if reason.get("reasonId") not in personal:
            return 400, {"message": "reason must be a PERSONAL reason"}, {}
        start_time, end_time = _military(body["startTime"]), _military(body["endTime"])
        start, end = date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])
        if start_time is None or end_time is None or (start, start_time) >= (end, end_time):
            return 400, {"message": "the time off must end after it starts"}, {}
        created = [
            self._new(
                staff_id,
                start,
                end,
                body["startTime"],
                body["endTime"],
                reason["reasonId"],
                body.get("description") or "",
                "Open",
            )
            for staff_id in staff_ids
        ]
        # The document's sample answer repeats startTime as the status; so does the fake.
        return 200, [self._json(r) | {"status": str(r["startTime"])} for r in created], {}

    def _read(self, time_off_id: str, render: Any) -> Answer:
        record = self.time_off.get(int(time_off_id)) if time_off_id.isdigit() else None
        if record is None:
            return 404, {"message": f"Time off {time_off_id} not found"}, {}
        return 200, render(record), {}

    def _update(self, time_off_id: str, body: dict[str, Any]) -> Answer:
        def change(record: dict[str, Any]) -> dict[str, Any]:
            for field in ("startDate", "endDate", "startTime", "endTime", "status", "description"):
                if field in body:
                    record[field] = body[field]
            return self._json(record)

        return self._read(time_off_id, change)

    def _delete(self, time_off_id: str) -> Answer:
        def soft(record: dict[str, Any]) -> dict[str, Any]:
            record["active"] = (
                False  # "removes a timeOff object from view by setting its active property to false"
            )
            return self._json(record)

        return self._read(time_off_id, soft)

    # -- the report --------------------------------------------------------------------------------

    def _report(self, query: dict[str, str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if query.get("onlyTimeOff") != "1":
            rows += self.appointments
        if query.get("excludeTimeOff") == "false":
            rows += [self._row(r) for r in self.time_off.values() if r["active"]]
        # Taken as the provider assumes: a row is in the range when it *starts* in it.
        if query.get("startDate"):
            rows = [r for r in rows if r["startDate"] >= query["startDate"]]
        if query.get("endDate"):
            rows = [r for r in rows if r["startDate"] <= query["endDate"]]
        return sorted(rows, key=lambda r: (r["startDate"], r["calendarId"]))

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A time off as the report lists it: appointment-shaped, with the stored times and status."""
        row = {k: v for k, v in self._json(record).items() if k not in ("timeOffId", "staffId")}
        return row | {
            "calendarId": record["timeOffId"],
            "startTime": record["startTime"],
            "endTime": record["endTime"],
        }

    def _paged(self, query: dict[str, str]) -> Answer:
        number, size = query.get("pageNumber", ""), query.get("pageSize", "")
        if not (number.isdigit() and size.isdigit()) or int(number) < 1 or int(size) < 1:
            return 400, {"message": "pageNumber and pageSize are required"}, {}
        rows = self._report(query)
        first = (int(number) - 1) * int(size)
        return 200, {"count": len(rows), "objects": rows[first : first + int(size)]}, {}
