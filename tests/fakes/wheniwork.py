"""A real loopback HTTP server that behaves as When I Work's API document says, for tests.

What it holds to, from the document and the provider research: ``POST /2/login`` with ``W-Key``
(header, or ``key`` in the body) and username/password, answering a ``login`` object whose token is
the one to use (the users' own tokens are stale legacy copies here, so a client must pick the right
one); the newer login service (``POST {login_url}/login`` → person and bearer token, ``GET /2/login``
→ the person's workplaces, ``W-UserId`` to pick one); the token on every other call (``W-Token``
header or query, or ``Authorization: Bearer``), answered 401 once a test expires it; requests with
``status``/``user_status`` (0 pending, 1 canceled, 2 accepted, 3 expired, 4 denied) whose transitions
are checked under one lock, so of two racing changes only one wins; a request must be canceled
before it can be deleted; ``GET /2/requests`` needing ``start`` and ``end`` (a 400 with an empty
text body otherwise), paged by ``page`` (from 0) and ``limit`` (default 5, at most 200) with
``more``, side-loading ``users`` and ``messages``; ``/users?search=&location_id=`` (one location or
several, ``1,5,3``); users with a ``role`` (1 admin, 2 manager, 3 employee, 5 supervisor) and the
``locations`` they are assigned to, and ``/locations`` (``/locations/{id}``); ``/requesttypes`` (404 when a
test sets ``request_types = None``); messages on requests; errors as ``{"error", "code"}``; 429
with ``Retry-After``, or the newer API's 403 that means "slow down".

Dates are answered in the legacy form (``Fri, 14 Mar 2014 00:00:00 -0500``) unless ``iso_dates``.
The error codes and wordings are this fake's own where the documents give none.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from fakes.loopback import Incoming, Loopback, Reply

API_KEY = "wiw-developer-key"
USERNAME = "leavebot@example.com"  # the account leavebot signs in as: Dave, an admin
PASSWORD = "correct-horse-battery"
ZONE = ZoneInfo("America/Chicago")
ACCOUNT_ID = 7000

ALICE, BOB, CAROL, MALLORY, DAVE = 101, 102, 103, 104, 105
DOWNTOWN, UPTOWN = 1, 2
ADMIN, MANAGER, EMPLOYEE, SUPERVISOR = 1, 2, 3, 5
PENDING, CANCELED, ACCEPTED, EXPIRED, DENIED = 0, 1, 2, 3, 4
VACATION, SICK = 501, 502  # request type ids
ALLOWED = {PENDING: {CANCELED, ACCEPTED, DENIED}, ACCEPTED: {CANCELED}}  # status changes a manager may make
NAMES = {PENDING: "pending", CANCELED: "canceled", ACCEPTED: "accepted", EXPIRED: "expired", DENIED: "denied"}
MAX_LIMIT = 200


@dataclass(frozen=True)
class Call:
    """One request the fake received, with the headers that carry credentials."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


def _error(status: int, message: str, code: int) -> Reply:
    return Reply(status, {"error": message, "code": code})


def _user(user_id: int, first: str, last: str, email: str, role: int, locations: list[int]) -> dict[str, Any]:
    return {
        "id": user_id,
        "account_id": ACCOUNT_ID,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone_number": "555-555-5555",
        "role": role,
        "locations": locations,
        "positions": [],
        "activated": True,
        "is_deleted": False,
        "token": f"legacy-user-token-{user_id}",  # "for legacy reasons": not the session token
    }


def default_users() -> list[dict[str, Any]]:
    """Alice (employee, Downtown), Bob (manager), Carol (supervisor, Downtown), Mallory (employee,
    Uptown) and Dave, the admin account leavebot signs in as. Alice's e-mail is stored with capitals."""
    return [
        _user(ALICE, "Alice", "Archer", "Alice@Example.com", EMPLOYEE, [DOWNTOWN]),
        _user(BOB, "Bob", "Boss", "bob@example.com", MANAGER, [DOWNTOWN, UPTOWN]),
        _user(CAROL, "Carol", "Chief", "carol@example.com", SUPERVISOR, [DOWNTOWN]),
        _user(MALLORY, "Mallory", "Meddler", "mallory@example.com", EMPLOYEE, [UPTOWN]),
        _user(DAVE, "Dave", "Admin", USERNAME, ADMIN, [DOWNTOWN, UPTOWN]),
    ]


def _read_time(value: Any) -> datetime | None:
    """A request time in either documented form; None unless it carries an explicit offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = parsedate_to_datetime(value) if value[:3].isalpha() else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


class FakeWhenIWork(Loopback):
    """Loopback stand-in for When I Work's API (and its newer login service) that records every call."""

    json_type = "application/json"

    def __init__(self) -> None:
        super().__init__()
        self.api_key = API_KEY
        self.username = USERNAME
        self.password = PASSWORD
        self.zone = ZONE
        self.iso_dates = False
        self.users = default_users()
        self.locations = {
            DOWNTOWN: {"id": DOWNTOWN, "name": "Downtown", "address": "9303 Lyon Drive, Hill Valley"},
            UPTOWN: {"id": UPTOWN, "name": "Uptown", "address": "100 Courthouse Square, Hill Valley"},
        }
        self.workplaces = [DAVE]  # the users the newer login's person has
        self.request_types: list[dict[str, Any]] | None = [
            {
                "id": VACATION,
                "account_id": ACCOUNT_ID,
                "name": "Vacation",
                "built_in": False,
                "enabled": True,
            },
            {"id": SICK, "account_id": ACCOUNT_ID, "name": "Sick", "built_in": True, "enabled": True},
            {"id": 503, "account_id": ACCOUNT_ID, "name": "Old type", "enabled": False, "is_deleted": True},
        ]
        self.requests: dict[int, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.calls: list[Call] = []
        self.tokens: set[str] = set()
        self.logins = 0
        self._lock = threading.RLock()
        self._ids = itertools.count(9001)
        self._token_ids = itertools.count(1)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API base, as WHENIWORK_BASE_URL."""
        return f"{self.root}/2"

    @property
    def login_url(self) -> str:
        """The newer login service, as WHENIWORK_LOGIN_URL."""
        return f"{self.root}/login-service"

    # -- test set-up and queries -----------------------------------------------------------------

    def add_user(
        self, user_id: int, name: str, email: str, *, role: int = EMPLOYEE, locations: list[int] | None = None
    ) -> None:
        """Another user of the account, with a role and the locations they are assigned to."""
        first, _, last = name.partition(" ")
        with self._lock:
            self.users.append(_user(user_id, first, last, email, role, list(locations or [])))

    def set_user(self, user_id: int, **fields: Any) -> None:
        """Change a user's record (``role``, ``locations``…), as a manager would in When I Work."""
        with self._lock:
            self._user(user_id).update(fields)

    def expire_tokens(self) -> None:
        """Every token given out so far stops working (the next call answers 401)."""
        with self._lock:
            self.tokens.clear()

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Recorded calls of one method to one path (``/2/requests``), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def add_request(
        self,
        user_id: int,
        start: datetime,
        end: datetime,
        *,
        status: int = ACCEPTED,
        type_id: int | None = VACATION,
        kind: int | None = None,
    ) -> int:
        """Put a request straight into When I Work's data; returns its id."""
        with self._lock:
            return int(self._new_request(user_id, start, end, status, type_id, kind, creator=user_id)["id"])

    def book_by_itself(self, person: int, day: date) -> str:
        """A manager books a whole day for ``person`` in When I Work's app, accepted; returns its id."""
        return str(self.add_request(person, self.local(day), self.local(day + timedelta(days=1))))

    def move_by_itself(self, booking_id: str, day: date) -> None:
        """The request's dates are changed to the whole of ``day`` in When I Work's app."""
        with self._lock:
            request = self.requests[int(booking_id)]
            request |= {"start": self.local(day), "end": self.local(day + timedelta(days=1))}
            request["updated_at"] = datetime.now(self.zone)

    def decide_by_itself(self, booking_id: str, *, approve: bool) -> None:
        """A manager accepts or denies the request in When I Work's app."""
        with self._lock:
            status = ACCEPTED if approve else DENIED
            self.requests[int(booking_id)] |= {"user_status": status, "updated_at": datetime.now(self.zone)}

    def remove_by_itself(self, booking_id: str) -> None:
        """The request is canceled in When I Work's app."""
        with self._lock:
            self.requests[int(booking_id)] |= {"user_status": CANCELED, "updated_at": datetime.now(self.zone)}

    def messages_on(self, request_id: int) -> list[dict[str, Any]]:
        """Messages attached to one request, oldest first."""
        with self._lock:
            return [m for m in self.messages if m["request_id"] == request_id]

    def local(self, day: date, hour: int = 0, minute: int = 0) -> datetime:
        """A wall-clock time in the account's zone."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    # -- routing (server threads) ----------------------------------------------------------------

    @staticmethod
    def _body(incoming: Incoming) -> tuple[Any, bool]:
        try:
            return (json.loads(incoming.raw) if incoming.raw else None), True
        except ValueError:
            return None, False

    def _record(self, incoming: Incoming) -> None:
        body, parsed = self._body(incoming)
        if not parsed:
            return
        wanted = ("w-key", "w-token", "authorization", "w-userid")
        kept = {k: v for k, v in incoming.lower_headers().items() if k in wanted}
        with self._lock:
            self.calls.append(Call(incoming.method, incoming.path, incoming.query, body, kept))

    def _fault_body(self, status: int, message: str) -> Any:
        return {"error": message, "code": status} if message else ""

    def _answer(self, incoming: Incoming) -> Reply:
        method, path, query, headers = (
            incoming.method,
            incoming.path,
            incoming.query,
            incoming.lower_headers(),
        )
        body, parsed = self._body(incoming)
        if not parsed:
            return _error(400, "The request body must be JSON.", 1001)
        with self._lock:
            if path == "/login-service/login" and method == "POST":
                return self._person_login(headers, body)
            if path == "/2/login" and method == "POST":
                return self._legacy_login(headers, body)
            if not path.startswith("/2/"):
                return _error(404, f"No route {path}", 1004)
            if (refused := self._refused(headers, query)) is not None:
                return refused
            return self._dispatch(method, path.removeprefix("/2"), query, body)

    def _legacy_login(self, headers: dict[str, str], body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        if (headers.get("w-key") or body.get("key")) != self.api_key:
            return _error(401, "Your API key is wrong or you're in the wrong place.", 1100)
        if (body.get("username"), body.get("password")) != (self.username, self.password):
            return _error(401, "Incorrect username or password.", 1101)
        token = self._new_token("legacy")
        dave = self._user(DAVE)
        return Reply(
            200,
            {
                "login": {"id": 90, "email": self.username, "token": token},
                "users": [dave],
                "accounts": [self._account()],
            },
        )

    def _person_login(self, headers: dict[str, str], body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        if headers.get("w-key") != self.api_key:
            return _error(401, "Invalid developer key.", 1100)
        if (body.get("email"), body.get("password")) != (self.username, self.password):
            return _error(401, "Incorrect email or password.", 1101)
        token = self._new_token("eyJhbGciOiJSUzI1NiIs")
        return Reply(200, {"person": {"id": "90", "email": self.username}, "token": token})

    def _new_token(self, prefix: str) -> str:
        self.logins += 1
        token = f"{prefix}.{next(self._token_ids)}"
        self.tokens.add(token)
        return token

    def _refused(self, headers: dict[str, str], query: dict[str, str]) -> Reply | None:
        bearer = headers.get("authorization", "")
        token = headers.get("w-token") or query.get("W-Token") or bearer.removeprefix("Bearer ")
        if token not in self.tokens:
            return _error(401, "Your session has expired or the token is not valid; log in again.", 1110)
        workplace = headers.get("w-userid")
        if workplace is not None and workplace not in {str(w) for w in self.workplaces}:
            return _error(403, "You do not have access to that workplace.", 1112)
        return None

    def _dispatch(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        parts = path.strip("/").split("/")
        match method, parts:
            case "GET", ["login"]:
                return Reply(200, {"users": [self._user(w) for w in self.workplaces], "accounts": []})
            case "GET", ["account"]:
                return Reply(200, {"account": self._account()})
            case "GET", ["users"]:
                return Reply(200, {"users": self._search(query)})
            case "GET", ["users", user_id]:
                found = next((u for u in self.users if str(u["id"]) == user_id), None)
                return Reply(200, {"user": found}) if found else _error(404, "User not found.", 1404)
            case "GET", ["locations"]:
                return Reply(200, {"locations": list(self.locations.values())})
            case "GET", ["locations", location_id]:
                where = self.locations.get(int(location_id) if location_id.isdigit() else -1)
                return Reply(200, {"location": where}) if where else _error(404, "Location not found.", 1404)
            case "GET", ["requesttypes"]:
                if self.request_types is None:
                    return _error(404, "Not found.", 1404)
                return Reply(200, {"request-types": self.request_types})
            case "GET", ["requests"]:
                return self._list(query)
            case "GET", ["requests", request_id]:
                request = self._find(request_id)
                return self._envelope(request) if request else _error(404, "Request not found.", 1404)
            case "POST", ["requests"]:
                return self._create(body if isinstance(body, dict) else {})
            case "PUT", ["requests", request_id]:
                return self._update(request_id, body if isinstance(body, dict) else {})
            case "DELETE", ["requests", request_id]:
                return self._delete(request_id)
            case "POST", ["messages"]:
                return self._message(body if isinstance(body, dict) else {})
            case "GET", ["messages"]:
                return Reply(200, {"messages": self.messages_on(int(query.get("request_id") or 0))})
        return _error(404, f"No route {method} {path}", 1004)

    # -- people ----------------------------------------------------------------------------------

    def _account(self) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID,
            "company": "Hill Valley Cafe",
            "timezone_id": 11,
            "timezone_name": self.zone.key,
        }

    def _user(self, user_id: int) -> dict[str, Any]:
        return next(u for u in self.users if u["id"] == user_id)

    def _search(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Users whose first name, last name or e-mail contain ``search`` (any case)."""
        words = (query.get("search") or "").lower()
        found = [
            u
            for u in self.users
            if not u["is_deleted"]
            and any(words in str(u[k]).lower() for k in ("first_name", "last_name", "email"))
        ]
        if query.get("location_id"):
            wanted = {int(i) for i in query["location_id"].split(",") if i.strip().isdigit()}
            found = [u for u in found if wanted & set(u["locations"])]
        return found

    # -- requests --------------------------------------------------------------------------------

    def _stamp(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return local.isoformat() if self.iso_dates else local.strftime("%a, %d %b %Y %H:%M:%S %z")

    def _json(self, request: dict[str, Any]) -> dict[str, Any]:
        state = request["user_status"]
        return {
            "id": request["id"],
            "account_id": ACCOUNT_ID,
            "user_id": request["user_id"],
            "creator_id": request["creator_id"],
            # "status" cannot show Denied (the docs say to read user_status): this fake shows it canceled.
            "status": CANCELED if state == DENIED else state,
            "user_status": state,
            "type": request["type"],
            "type_id": request["type_id"],
            "start_time": self._stamp(request["start"]),
            "end_time": self._stamp(request["end"]),
            "created_at": self._stamp(request["created_at"]),
            "updated_at": self._stamp(request["updated_at"]),
        }

    def _envelope(self, request: dict[str, Any]) -> Reply:
        return Reply(
            200,
            {
                "request": self._json(request),
                "messages": self.messages_on(request["id"]),
                "users": [self._user(request["user_id"])],
            },
        )

    def _find(self, request_id: str) -> dict[str, Any] | None:
        return self.requests.get(int(request_id)) if request_id.isdigit() else None

    def _new_request(
        self,
        user_id: int,
        start: datetime,
        end: datetime,
        status: int,
        type_id: int | None,
        kind: int | None,
        *,
        creator: int,
    ) -> dict[str, Any]:
        moment = datetime.now(self.zone)
        request = {
            "id": next(self._ids),
            "user_id": user_id,
            "creator_id": creator,
            "user_status": status,
            "type": kind if kind is not None else (0 if type_id is None else 1),
            "type_id": type_id,
            "start": start,
            "end": end,
            "created_at": moment,
            "updated_at": moment,
        }
        self.requests[request["id"]] = request
        return request

    def _create(self, body: dict[str, Any]) -> Reply:
        missing = [k for k in ("user_id", "start_time", "end_time") if k not in body]
        if missing:
            return _error(400, f"Missing {', '.join(missing)}.", 1201)
        start, end = _read_time(body["start_time"]), _read_time(body["end_time"])
        if start is None or end is None:
            return _error(
                400, "start_time and end_time must be dates and times with a time zone offset.", 1202
            )
        if end <= start:
            return _error(400, "The request must end after it starts.", 1203)
        if not any(u["id"] == body["user_id"] for u in self.users):
            return _error(404, "User not found.", 1404)
        type_id, kind = body.get("type_id"), body.get("type")
        known_types = {t["id"] for t in self.request_types or [] if t.get("enabled")}
        if type_id is not None and type_id not in known_types:
            return _error(400, "Unknown request type.", 1204)
        if kind is not None and kind not in (0, 1, 2, 3):
            return _error(400, "Unknown request type.", 1204)
        status = body.get("status", PENDING)
        if status not in (PENDING, ACCEPTED):
            return _error(400, "A new request is pending or accepted.", 1205)
        request = self._new_request(body["user_id"], start, end, status, type_id, kind, creator=DAVE)
        return Reply(201, {"request": self._json(request)})

    def _update(self, request_id: str, body: dict[str, Any]) -> Reply:
        request = self._find(request_id)
        if request is None:
            return _error(404, "Request not found.", 1404)
        target = body.get("status")
        if target not in NAMES:
            return _error(400, "status must be 0, 1, 2, 3 or 4.", 1206)
        current = request["user_status"]
        if target not in ALLOWED.get(current, set()):
            return _error(400, f"This request is {NAMES[current]} and cannot be made {NAMES[target]}.", 1207)
        request["user_status"] = target
        request["updated_at"] = datetime.now(self.zone)
        return Reply(200, {"request": self._json(request)})

    def _delete(self, request_id: str) -> Reply:
        request = self._find(request_id)
        if request is None:
            return _error(404, "Request not found.", 1404)
        if request["user_status"] != CANCELED:
            return _error(500, "The request must be canceled before it can be deleted", 1208)
        del self.requests[request["id"]]
        return Reply(200, {"success": True})

    def _list(self, query: dict[str, str]) -> Reply:
        try:
            first, last = date.fromisoformat(query["start"]), date.fromisoformat(query["end"])
        except (KeyError, ValueError):
            return Reply(400, "")  # documented: bad or missing dates answer an empty text/plain 400
        begin = datetime.combine(first, time(0), tzinfo=self.zone)
        finish = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self.zone)
        found = [r for r in self.requests.values() if r["start"] < finish and r["end"] > begin]
        if query.get("user_id"):
            found = [r for r in found if str(r["user_id"]) in query["user_id"].split(",")]
        found.sort(key=lambda r: (r["start"], r["id"]))
        page = int(query.get("page") or 0)
        limit = min(int(query.get("limit") or 5), MAX_LIMIT)
        shown = found[page * limit : (page + 1) * limit]
        people = sorted({r["user_id"] for r in shown})
        return Reply(
            200,
            {
                "requests": [self._json(r) for r in shown],
                "users": [self._user(u) for u in people],
                "messages": [m for m in self.messages if m["request_id"] in {r["id"] for r in shown}],
                "more": (page + 1) * limit < len(found),
                "page": page,
                "total": -(-len(found) // limit),
            },
        )

    def _message(self, body: dict[str, Any]) -> Reply:
        request = self._find(str(body.get("request_id", "")))
        if request is None:
            return _error(404, "Request not found.", 1404)
        message = {
            "id": next(self._ids),
            "account_id": ACCOUNT_ID,
            "user_id": DAVE,
            "request_id": request["id"],
            "title": str(body.get("title") or ""),
            "content": str(body.get("content") or ""),
        }
        self.messages.append(message)
        return Reply(201, {"message": message})
