"""A real loopback HTTP server that behaves as Timetastic's API document says, for tests.

What it holds to, from the document: a bearer token on every call (a wrong one is bounced
to the login page, as clients report); ``POST /holidays`` with the AM / PM / minutes rules
and refusals answered HTTP 200 with ``success: false``; the action endpoint with every
``approvalResult``; 100 holidays per page with ``totalRecords`` and ``nextPageLink``; the
list's range filters taken literally ("start after ``Start``", "end up to ``End``");
429 with ``Retry-After`` past 5 calls in a second; webhooks with ``Timetastic-Secret``.

It runs in a daemon thread. ``url`` is the API base (``http://127.0.0.1:PORT/api``).
Webhooks go to ``webhook_url`` when set: from a thread of their own when
``deliver_automatically`` (as Timetastic pushes them), or when a test awaits ``deliver``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from fakes.loopback import Incoming, Loopback, Reply

TOKEN = "tt-test-token"
WEBHOOK_SECRET = "800dce29-fc6b-420b-8654-0f0170a9c572"
LOGIN_URL = "https://app.timetastic.co.uk/Account/Login"
PAGE_SIZE = 100
RATE_LIMIT = 5  # calls per second per key
QUOTA_MESSAGE = "API calls quota exceeded! maximum admitted 5 per 1s."
ALREADY_OFF = "You already have an absence booked during this period. Please check the dates."
STATUS_BITS = {"Pending": 1, "Approved": 2, "Cancelled": 4, "Declined": 8}
ACTIONS = {
    "0": "Approve",
    "1": "Decline",
    "2": "Delete",
    "approve": "Approve",
    "decline": "Decline",
    "delete": "Delete",
}

ALICE, BOB, CAROL, MALLORY, DAVE = 1001, 1002, 1003, 1004, 1005
ENGINEERING, SALES = 10, 20
ANNUAL, SICK, TRAINING = 100, 101, 102


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


def _user(
    user_id: int,
    first: str,
    last: str,
    email: str,
    department: int,
    *,
    approver: int = 0,
    manager: int = 0,
    admin: bool = False,
    unit: str = "Days",
) -> dict[str, Any]:
    names = {ENGINEERING: "Engineering", SALES: "Sales"}
    return {
        "id": user_id,
        "firstname": first,
        "surname": last,
        "email": email,
        "admin": admin,
        "organisationId": 10,
        "departmentId": department,
        "allowanceUnit": unit,
        "managerOfDepartments": [],
        "endDate": None,
        "departmentName": names.get(department, ""),
        "allowanceRemaining": 150.0 if unit == "Hours" else 20.5,
        "isArchived": False,
        "approverId": approver,
        "deptManagerId": manager,
        "deptBossId": manager,
        "hasPublicHolidays": True,
        "countryCode": "GB",
        "currentYearAllowance": 25,
        "yearStart": 1,
    }


def default_users() -> list[dict[str, Any]]:
    """Alice (approver Bob), Bob and Carol (manager of Engineering), Mallory in Sales, Dave the admin.

    Alice's e-mail is stored with capitals, as people type them; her allowance is in hours.
    Mallory's record names no manager, so hers comes from the Sales department.
    """
    return [
        _user(
            ALICE,
            "Alice",
            "Archer",
            "Alice@Example.com",
            ENGINEERING,
            approver=BOB,
            manager=CAROL,
            unit="Hours",
        ),
        _user(BOB, "Bob", "Boss", "bob@example.com", ENGINEERING, manager=CAROL),
        _user(CAROL, "Carol", "Chief", "carol@example.com", ENGINEERING, manager=CAROL),
        _user(MALLORY, "Mallory", "Meddler", "mallory@example.com", SALES),
        _user(DAVE, "Dave", "Admin", "dave@example.com", SALES, manager=CAROL, admin=True),
    ]


def _stamp(moment: datetime, *, offset: bool) -> str:
    # The REST answers write local times without an offset; webhook records carry one, with 7 digits.
    if offset:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class FakeTimetastic(Loopback):
    """Loopback stand-in for Timetastic's API that records every call."""

    # Its tests count the calls that reached Timetastic: a 503 did not, a 429 (Timetastic's refusal) did.
    unrecorded = frozenset({500, 502, 503, 504})

    def __init__(self, token: str = TOKEN, *, rate_limit: int | None = RATE_LIMIT) -> None:
        super().__init__()
        self.token = token
        self.rate_limit = rate_limit
        self.retry_after = "1"
        self.unauthorized_status = 302  # clients report a bounce to the login page; set 401 to try that
        self.calls: list[Call] = []
        self.users = default_users()
        self.departments = [
            {"id": ENGINEERING, "name": "Engineering", "managerId": CAROL, "maxOff": 0, "archived": False},
            {"id": SALES, "name": "Sales", "managerId": CAROL, "maxOff": 1, "archived": False},
        ]
        self.leave_types = [
            {
                "id": ANNUAL,
                "name": "Annual Leave",
                "deducted": True,
                "requiresApproval": True,
                "isPrivate": False,
            },
            {
                "id": SICK,
                "name": "Sick Leave",
                "deducted": False,
                "requiresApproval": False,
                "isPrivate": False,
            },
            {
                "id": TRAINING,
                "name": "Training",
                "deducted": False,
                "requiresApproval": True,
                "isPrivate": False,
            },
        ]
        year = date.today().year
        self.public_holidays = [
            {"id": 9000 + y, "name": "Christmas Day", "date": f"{y}-12-25T00:00:00", "countryCode": "GB"}
            for y in (year - 1, year, year + 1)
        ]
        self.holidays: dict[int, dict[str, Any]] = {}
        self.locked_dates: set[date] = set()
        self.forced_results: dict[int, str] = {}  # holiday id -> approvalResult to answer
        self.admin_id = DAVE  # the admin whose token this is: the API acts as them
        self.webhook_url: str | None = None
        self.webhook_secret = WEBHOOK_SECRET
        self.deliver_automatically = False
        self.events: list[dict[str, Any]] = []  # every event raised, in order
        self.deliveries: list[tuple[int, int]] = []  # (eventId, HTTP status) of each delivery
        self.emails: list[tuple[str, int]] = []  # (what, holiday id) of each e-mail Timetastic sent
        self._lock = threading.RLock()
        self._ids = itertools.count(5_000_001)
        self._event_ids = itertools.count(90)
        self._window: dict[str | None, deque[float]] = {}
        self._last_update = datetime.now(UTC)
        self._senders: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Wait for webhooks in flight, then shut the server down."""
        for sender in self._senders:
            sender.join(timeout=5)
        super().stop()

    @property
    def url(self) -> str:
        """The API base, as TIMETASTIC_BASE_URL."""
        return f"{self.root}/api"

    # -- test set-up and queries -----------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        """A user record by id."""
        return next(u for u in self.users if u["id"] == user_id)

    def add_user(self, user_id: int, first: str, last: str, email: str, **kwargs: Any) -> None:
        """Add someone to the organisation (in Engineering unless told)."""
        with self._lock:
            self.users.append(
                _user(user_id, first, last, email, kwargs.pop("department", ENGINEERING), **kwargs)
            )

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Recorded calls of one method to one path (``/holidays``), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def add_holiday(
        self,
        user_id: int,
        start: date,
        end: date,
        *,
        status: str = "Approved",
        start_type: str = "Morning",
        end_type: str = "Afternoon",
        leave_type: int = ANNUAL,
    ) -> int:
        """Put a booking straight into Timetastic's data (no event); returns its id."""
        with self._lock:
            holiday = self._new_holiday(user_id, start, end, start_type, end_type, leave_type, "", status)
            return int(holiday["id"])

    # -- things done inside Timetastic (they raise webhook events) -------------------------------

    def request_in_timetastic(self, user_id: int, day: date, *, leave_type: int = ANNUAL) -> int:
        """Someone requests a full day in Timetastic's own app: pending, AbsenceRequested."""
        with self._lock:
            holiday = self._new_holiday(
                user_id, day, day, "Morning", "Afternoon", leave_type, "booked in Timetastic", "Pending"
            )
            self._raise("AbsenceRequested", holiday, user_id)
            return int(holiday["id"])

    def book_in_timetastic(self, user_id: int, day: date, *, by: int = DAVE, leave_type: int = SICK) -> int:
        """An approver books a day in for someone: approved at once, AbsenceBooked."""
        with self._lock:
            holiday = self._new_holiday(user_id, day, day, "Morning", "Afternoon", leave_type, "", "Approved")
            holiday["autoApproved"] = True
            self._raise("AbsenceBooked", holiday, by)
            return int(holiday["id"])

    def decide_in_timetastic(
        self, holiday_id: int, action: str, *, by: int, reason: str = ""
    ) -> dict[str, Any]:
        """An approver approves, declines or deletes in Timetastic's app; returns the event raised."""
        with self._lock:
            result = self._act(holiday_id, action, by, reason)
            assert result == "Success", result
            return self.events[-1]

    # -- changes made in Timetastic's UI, in the shape every fake HR system has (no webhook raised) --------

    def book_by_itself(self, person: int, day: date) -> str:
        """An approver books a whole day for ``person`` in Timetastic's UI; returns the booking id."""
        return str(self.add_holiday(person, day, day, leave_type=SICK))

    def move_by_itself(self, booking_id: str, day: date) -> None:
        """The booking's dates are changed to the whole of ``day`` in Timetastic's UI."""
        with self._lock:
            self.holidays[int(booking_id)] |= {"start": day, "end": day}

    def decide_by_itself(self, booking_id: str, *, approve: bool) -> None:
        """Bob approves or declines the booking in Timetastic's UI."""
        with self._lock:
            assert self._act(int(booking_id), "Approve" if approve else "Decline", BOB, "") == "Success"

    def remove_by_itself(self, booking_id: str) -> None:
        """The booking is deleted in Timetastic's UI."""
        with self._lock:
            del self.holidays[int(booking_id)]

    # -- webhooks ----------------------------------------------------------------------------------

    def _raise(self, kind: str, holiday: dict[str, Any], by: int) -> None:
        performer = self.user(by)
        event = {
            "eventId": next(self._event_ids),
            "eventType": kind,
            "url": self.webhook_url or "",
            "recordId": holiday["id"],
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "performingUser": {
                "id": by,
                "firstname": performer["firstname"],
                "surname": performer["surname"],
                "fullname": f"{performer['firstname']} {performer['surname']}",
            },
            "recordData": self._holiday_json(holiday, offset=True),
        }
        self.events.append(event)
        if self.deliver_automatically and self.webhook_url:
            sender = threading.Thread(target=self._send, args=(event,), daemon=True)
            self._senders.append(sender)
            sender.start()

    def _send(self, event: dict[str, Any], secret: str | None = None) -> None:
        assert self.webhook_url is not None
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(
                self.webhook_url, content=json.dumps(event), headers=self._webhook_headers(secret)
            )
            with self._lock:
                self.deliveries.append((event["eventId"], answer.status_code))

    def _webhook_headers(self, secret: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        secret = self.webhook_secret if secret is None else secret
        return headers | ({"Timetastic-Secret": secret} if secret else {})

    async def deliver(self, event: dict[str, Any], *, secret: str | None = None) -> httpx.Response:
        """Deliver one event now (again, if it was delivered before), with the right secret unless told."""
        assert self.webhook_url is not None
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                self.webhook_url, content=json.dumps(event), headers=self._webhook_headers(secret)
            )
        with self._lock:
            self.deliveries.append((event["eventId"], answer.status_code))
        return answer

    # -- routing (server threads) -----------------------------------------------------------------

    def _fault_body(self, status: int, message: str) -> Any:
        return message or (QUOTA_MESSAGE if status == 429 else "Service Unavailable")

    def _record(self, incoming: Incoming) -> None:
        with self._lock:
            self.calls.append(
                Call(
                    incoming.method,
                    incoming.path.removeprefix("/api"),
                    incoming.query,
                    incoming.json(),
                    incoming.headers.get("Authorization"),
                )
            )

    def _answer(self, incoming: Incoming) -> Reply:
        path, authorization = incoming.path, incoming.headers.get("Authorization")
        with self._lock:
            if authorization != f"Bearer {self.token}":
                if self.unauthorized_status == 401:
                    return Reply(401, {"message": "Authorization has been denied for this request."})
                return Reply(302, "", {"Location": f"{LOGIN_URL}?ReturnUrl={path}"})
            if (limited := self._rate_limited(authorization)) is not None:
                return limited
            content_type = incoming.headers.get("Content-Type", "")
            if incoming.method == "POST" and incoming.raw and "application/json" not in content_type:
                return Reply(415, {"message": "The request entity's media type is not supported."})
            query = {k.lower(): v for k, v in incoming.query.items()}
            reply = self._dispatch(incoming.method, path.removeprefix("/api"), query, incoming.json())
            reply.headers |= self._usage_headers(authorization)
            return reply

    def _rate_limited(self, key: str | None) -> Reply | None:
        moment = time.monotonic()
        window = self._window.setdefault(key, deque())
        while window and moment - window[0] >= 1.0:
            window.popleft()
        if self.rate_limit is not None and len(window) >= self.rate_limit:
            return Reply(429, QUOTA_MESSAGE, {"Retry-After": self.retry_after})
        window.append(moment)
        return None

    def _usage_headers(self, key: str | None) -> dict[str, str]:
        used = len(self._window.get(key, ()))
        reset = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        limit = self.rate_limit or 0
        return {
            "X-Rate-Limit-Limit": "1s",
            "X-Rate-Limit-Remaining": str(max(0, limit - used)),
            "X-Rate-Limit-Reset": reset,
        }

    def _dispatch(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        parts = path.strip("/").split("/")
        match method, parts:
            case "GET", ["users"]:
                return Reply(200, [u for u in self.users if not u["isArchived"]])
            case "GET", ["users", user_id]:
                return self._user_detail(user_id)
            case "GET", ["departments"]:
                return Reply(200, self.departments)
            case "GET", ["leavetypes"]:
                return Reply(200, self.leave_types)
            case "GET", ["publicholidays"]:
                return Reply(200, self._public_holidays(query))
            case "GET", ["holidays"]:
                return self._list(query)
            case "GET", ["holidays", holiday_id]:
                holiday = self.holidays.get(int(holiday_id)) if holiday_id.isdigit() else None
                return Reply(200, self._holiday_json(holiday)) if holiday else Reply(404, "")
            case "POST", ["holidays"]:
                return self._book(body if isinstance(body, dict) else {})
            case "POST", ["holidays", holiday_id]:
                return self._action(holiday_id, query, body)
        return Reply(404, {"message": f"No HTTP resource was found that matches {path}"})

    def _public_holidays(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """The documented filters: ``year``, ``countryCode``, and ``userId`` (that user's country's, if they have any)."""
        found = [h for h in self.public_holidays if h["date"].startswith(query.get("year", ""))]
        country = query.get("countrycode")
        if user_id := query.get("userid"):
            user = next((u for u in self.users if str(u["id"]) == user_id), None)
            country = user["countryCode"] if user and user["hasPublicHolidays"] else "-"
        return [h for h in found if not country or h["countryCode"] == country]

    def add_public_holiday(self, day: date, name: str, country: str = "GB") -> None:
        """A public holiday of ``country``'s set."""
        with self._lock:
            self.public_holidays.append(
                {
                    "id": 9100 + len(self.public_holidays),
                    "name": name,
                    "date": f"{day}T00:00:00",
                    "countryCode": country,
                }
            )

    def _user_detail(self, user_id: str) -> Reply:
        user = next((u for u in self.users if str(u["id"]) == user_id), None)
        if user is None:
            return Reply(404, "")
        year = date.today().year
        allowance = {"year": year, "allowance": 25, "remaining": user["allowanceRemaining"], "used": -4.5}
        return Reply(200, {"workingDays": [], "allowances": [allowance], **user})

    # -- holidays: create ----------------------------------------------------------------------

    def _book(self, body: dict[str, Any]) -> Reply:
        missing = [
            k
            for k in ("from", "to", "fromTime", "toTime", "leaveTypeId", "userOrDepartmentId", "bookFor")
            if k not in body
        ]
        if missing:
            return Reply(400, {"message": f"Missing {', '.join(missing)}"})
        user = next((u for u in self.users if u["id"] == body["userOrDepartmentId"]), None)
        leave_type = next((t for t in self.leave_types if t["id"] == body["leaveTypeId"]), None)
        if user is None or leave_type is None or body["bookFor"] != 0:
            return self._refused("The user or leave type could not be found.")
        start, end = date.fromisoformat(body["from"]), date.fromisoformat(body["to"])
        times = self._times(str(body["fromTime"]), str(body["toTime"]), start, end, user, leave_type)
        if isinstance(times, Reply):
            return times
        if self.locked_dates & {start + timedelta(days=i) for i in range((end - start).days + 1)}:
            return self._refused("Some of these dates are locked.", overrideLockedDateRequired=True)
        if self._overlaps(user["id"], start, end):
            return self._refused(ALREADY_OFF, rejections=True)
        if self._over_max_off(user, start, end):
            return self._refused(
                "Too many people are off in this department at the same time.", overrideRequired=True
            )
        approval = leave_type["requiresApproval"] and body.get("bookAsRequestee") and not user["admin"]
        status = "Pending" if approval else "Approved"
        holiday = self._new_holiday(
            user["id"], start, end, *times, leave_type["id"], body.get("reason") or "", status
        )
        holiday["autoApproved"] = not approval
        if times[0] == "Hours":
            holiday["minutes"] = (str(body["fromTime"]), str(body["toTime"]))
        self._raise(
            "AbsenceRequested" if approval else "AbsenceBooked",
            holiday,
            user["id"] if approval else self.admin_id,
        )
        if not body.get("suppressEmails"):  # "prevent any leave request emails from being sent"
            self.emails.append(("requested" if approval else "booked", holiday["id"]))
        approver = self.user(user["approverId"] or user["deptManagerId"] or CAROL)
        said = f"Request sent to {approver['firstname']} {approver['surname']}" if approval else "Booked!"
        return Reply(200, self._result(True, said, holidayId=holiday["id"], autoApproved=not approval))

    def _times(
        self,
        from_time: str,
        to_time: str,
        start: date,
        end: date,
        user: dict[str, Any],
        leave_type: dict[str, Any],
    ) -> tuple[str, str] | Reply:
        """The start and end types for fromTime / toTime, or the refusal."""
        if end < start:
            return self._refused("The end date must be after the start date.")
        if from_time.isdigit() or to_time.isdigit():
            if (
                not (from_time.isdigit() and to_time.isdigit())
                or start != end
                or int(to_time) <= int(from_time)
            ):
                return self._refused("An hourly booking needs a start and end time on one day.")
            if user["allowanceUnit"] != "Hours" and leave_type["deducted"]:
                return self._refused(
                    "Hourly bookings need an allowance in hours, or a leave type that isn't deducted."
                )
            return "Hours", "Hours"
        if {from_time, to_time} - {"AM", "PM"}:
            return Reply(400, {"message": "fromTime and toTime must be AM, PM or a number of minutes"})
        if start == end and (from_time, to_time) == ("PM", "AM"):
            return self._refused("The booking ends before it starts.")
        return ("Morning" if from_time == "AM" else "Afternoon"), (
            "Morning" if to_time == "AM" else "Afternoon"
        )

    def _overlaps(self, user_id: int, start: date, end: date) -> bool:
        return any(
            h["userId"] == user_id
            and h["status"] in ("Pending", "Approved")
            and h["start"] <= end
            and h["end"] >= start
            for h in self.holidays.values()
        )

    def _over_max_off(self, user: dict[str, Any], start: date, end: date) -> bool:
        department = next(d for d in self.departments if d["id"] == user["departmentId"])
        colleagues = {
            u["id"] for u in self.users if u["departmentId"] == department["id"] and u["id"] != user["id"]
        }
        off = {
            h["userId"]
            for h in self.holidays.values()
            if h["userId"] in colleagues
            and h["status"] in ("Pending", "Approved")
            and h["start"] <= end
            and h["end"] >= start
        }
        return bool(department["maxOff"]) and len(off) >= department["maxOff"]

    @staticmethod
    def _result(success: bool, response: str, **flags: Any) -> dict[str, Any]:
        return {
            "success": success,
            "response": response,
            "rejections": False,
            "autoApproved": False,
            "holidayId": 0,
            "overrideRequired": False,
            "overrideLockedDateRequired": False,
        } | flags

    def _refused(self, response: str, **flags: Any) -> Reply:
        return Reply(200, self._result(False, response, **flags))

    def _touch(self) -> datetime:
        # Strictly increasing, so every change has its own updatedAt.
        self._last_update = max(datetime.now(UTC), self._last_update + timedelta(microseconds=1))
        return self._last_update

    def _new_holiday(
        self,
        user_id: int,
        start: date,
        end: date,
        start_type: str,
        end_type: str,
        leave_type: int,
        reason: str,
        status: str,
    ) -> dict[str, Any]:
        holiday = {
            "id": next(self._ids),
            "userId": user_id,
            "start": start,
            "end": end,
            "startType": start_type,
            "endType": end_type,
            "leaveTypeId": leave_type,
            "reason": reason,
            "declineReason": None,
            "status": status,
            "actionerId": None,
            "autoApproved": False,
            "createdAt": self._touch(),
        }
        holiday["updatedAt"] = holiday["createdAt"]
        self.holidays[holiday["id"]] = holiday
        return holiday

    # -- holidays: read --------------------------------------------------------------------------

    def _holiday_json(self, holiday: dict[str, Any], *, offset: bool = False) -> dict[str, Any]:
        user = self.user(holiday["userId"])
        leave_type = next(t for t in self.leave_types if t["id"] == holiday["leaveTypeId"])
        start, end = holiday["start"], holiday["end"]
        times = [f"{int(t) // 60:02d}:{int(t) % 60:02d}:00" for t in holiday.get("minutes", ("0", "0"))]
        if holiday["startType"] != "Hours":
            times = ["00:00:00", "00:00:00"]
        zone = "+00:00" if offset else ""
        return {
            "id": holiday["id"],
            "dateRangeString": f"{start:%-d %b} – {end:%-d %b}",
            "startDate": f"{start.isoformat()}T{times[0]}{zone}",
            "startType": holiday["startType"],
            "endDate": f"{end.isoformat()}T{times[1]}{zone}",
            "endType": holiday["endType"],
            "userId": user["id"],
            "userName": f"{user['firstname']} {user['surname']}",
            "requestedById": user["id"],
            "leaveTypeId": leave_type["id"],
            "duration": (end - start).days + 1,
            "deduction": (end - start).days + 1 if leave_type["deducted"] else 0,
            "actionerId": holiday["actionerId"],
            "createdAt": _stamp(holiday["createdAt"], offset=offset),
            "updatedAt": _stamp(holiday["updatedAt"], offset=offset),
            "reason": holiday["reason"],
            "declineReason": holiday["declineReason"],
            "status": holiday["status"],
            "autoApproved": holiday["autoApproved"],
            "bookingUnit": "Hours" if holiday["startType"] == "Hours" else "Days",
            "leaveType": leave_type["name"],
        }

    def _list(self, query: dict[str, str]) -> Reply:
        mask = int(query.get("status") or 3)
        found = [h for h in self.holidays.values() if STATUS_BITS[h["status"]] & mask]
        # Taken as written: "only include holidays that start after this date" / "that end up to this date".
        if query.get("start"):
            found = [h for h in found if h["start"] >= date.fromisoformat(query["start"][:10])]
        if query.get("end"):
            found = [h for h in found if h["end"] <= date.fromisoformat(query["end"][:10])]
        if query.get("userids"):
            found = [h for h in found if str(h["userId"]) in query["userids"].split(",")]
        found.sort(key=lambda h: (h["start"], h["id"]))
        page = int(query.get("pagenumber") or 1)
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return Reply(
            200,
            {
                "holidays": [self._holiday_json(h) for h in shown],
                "totalRecords": len(found),
                "pageNumber": page,
                "nextPageLink": self._page_link(query, page + 1) if page < pages else "",
                "previousPageLink": self._page_link(query, page - 1) if page > 1 else "",
            },
        )

    def _page_link(self, query: dict[str, str], page: int) -> str:
        return f"{self.url}/holidays?{urlencode({**query, 'pagenumber': page})}"

    # -- holidays: act -------------------------------------------------------------------------

    def _action(self, holiday_id: str, query: dict[str, str], body: Any) -> Reply:
        action = ACTIONS.get(query.get("holidayupdateaction", "").lower())
        if not holiday_id.isdigit() or action is None:
            # Clients report a plain-text 400, not the JSON result, for an id or action that is not valid.
            return Reply(400, "The request is invalid.")
        options = body if isinstance(body, dict) else {}
        result = self._act(int(holiday_id), action, self.admin_id, options.get("reason") or "")
        if result == "Success" and not options.get("suppressEmails"):  # the requestee hears of the update
            self.emails.append((action.lower(), int(holiday_id)))
        return Reply(
            200, {"approvalResult": result, "message": "Successful" if result == "Success" else result}
        )

    def _act(self, holiday_id: int, action: str, by: int, reason: str) -> str:
        holiday = self.holidays.get(holiday_id)
        if holiday_id in self.forced_results:
            return self.forced_results[holiday_id]
        if holiday is None:
            return "DoesntExist"
        allowed = {"Approve": ("Pending",), "Decline": ("Pending",), "Delete": ("Pending", "Approved")}
        if holiday["status"] not in allowed[action.capitalize()]:
            return "AlreadyActioned"
        status, kind = {
            "Approve": ("Approved", "AbsenceApproved"),
            "Decline": ("Declined", "AbsenceDeclined"),
            "Delete": ("Cancelled", "AbsenceCancelled"),
        }[action.capitalize()]
        holiday |= {"status": status, "actionerId": by, "updatedAt": self._touch()}
        if action.capitalize() == "Decline" or reason:
            holiday["declineReason"] = reason or None
        self._raise(kind, holiday, by)
        return "Success"
