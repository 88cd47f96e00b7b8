"""A real loopback HTTP server that behaves as WhosOff's API document says, for tests.

What it holds to, from the document and the reference: signing in with credentials or an access
token, each with a nonce never used before and ``secret = SHA512(nonce + client secret)`` in
lowercase hex, the app id and an allowed IP address; ``Authorization: Bearer`` and ``app-id`` on
every other call; a token that expired (``expire_tokens``) or is unknown answered HTTP 400
``TOK004`` "Invalid Token"; every answer in the ``{"Data": …, "Errors": [{"Code", "Message"}]}``
envelope and gzipped (with ``Content-Encoding`` as configured); ``004a`` for a date range over 365
days and for a user with no allowance; AM 00:00–12:00, PM 12:00–24:00, ends exclusive, hours in
15-minute steps; leave ids answered as ``[{"Record_ID": "…"}]`` like the typical response sample.

Where the document is silent it follows providers/whosoff.py's inferred routes and fields, and the
error codes marked *invented* are its own (WhosOff publishes only 004a, 00422 and TOK004).

It runs in a daemon thread; ``url`` is the API root (as WHOSOFF_BASE_URL).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fakes.loopback import Incoming, Loopback, Reply

APP_ID = "MN500Q8lk5jp0rEm"
CLIENT_SECRET = "QtOSeNmh3DY6AuMO"
USERNAME = "leavebot@example.com"
PASSWORD = "correct-horse-battery"
IP_ADDRESS = "203.0.113.7"

ALICE, BOB, CAROL, MALLORY, DAVE = 2001, 2002, 2003, 2004, 2005
HOLIDAY, SICK, TRAINING = 234, 235, 236
PENDING, APPROVED, CANCELLED = 1, 100, 900
STAFF_TYPE, APPROVER_TYPE, SUPER_USER_TYPE = 100, 200, 300

INVALID_TOKEN = ("TOK004", "Invalid Token")
TOO_LONG = ("004a", "Date range can only be for a maximum of 365 days")
NO_ALLOWANCE = ("004a", "No allowances set")
NOT_AUTHENTICATED = ("401", "Can't authenticate with those credentials")  # the status table's words
FORBIDDEN = ("403", "Permission not granted to execute API call/action")
ENDPOINT_NOT_VALID = ("404", "Endpoint not valid")
NONCE_USED = ("AUTH002", "Nonce has already been used")  # invented
BAD_SECRET = ("AUTH003", "Secret is not valid")  # invented
ALREADY_OFF = ("LEA002", "Leave already booked for this period")  # invented
QUARTER_HOURS = ("LEA015", "Times must be in 15 minute increments")  # invented

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass(frozen=True)
class Call:
    """One request the fake received; header names in lower case."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class _Reply:
    status: int = 200
    data: Any = None
    errors: list[tuple[str, str]] | None = None


def _work(*minutes: int) -> dict[str, int]:
    return dict(zip(WEEKDAYS, [*minutes, *[0] * 7][:7], strict=True))


def _user(user_id: int, first: str, last: str, email: str, **fields: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "first_name": first,
        "last_name": last,
        "email_address": email,
        "user_type_id": STAFF_TYPE,
        "status_id": 1,
        "department_name": "Engineering",
        "approver_id": 0,
        "approver_role_id": 0,
        "notifier_2_id": 0,
        "notifier_3_id": 0,
        "work": _work(),
    } | fields


def default_users() -> list[dict[str, Any]]:
    """Alice (approver Bob, notifier Carol), Bob (approver Carol), Carol and Dave the Super Users, Mallory
    (approver Carol, notifiers Carol and Dave).

    Alice's e-mail is stored with capitals, as people type them. Alice works 7.5 hours Monday to
    Friday, Bob 8 hours Monday to Thursday; Carol's pattern is empty. Dave is leavebot's API user.
    """
    return [
        _user(
            ALICE,
            "Alice",
            "Archer",
            "Alice@Example.com",
            approver_id=BOB,
            notifier_2_id=CAROL,
            work=_work(*[450] * 5),
        ),
        _user(
            BOB,
            "Bob",
            "Boss",
            "bob@example.com",
            approver_id=CAROL,
            user_type_id=APPROVER_TYPE,
            work=_work(*[480] * 4),
        ),
        _user(CAROL, "Carol", "Chief", "carol@example.com", user_type_id=SUPER_USER_TYPE),
        _user(
            MALLORY,
            "Mallory",
            "Meddler",
            "mallory@example.com",
            approver_id=CAROL,
            notifier_2_id=CAROL,
            notifier_3_id=DAVE,
            department_name="Sales",
        ),
        _user(
            DAVE, "Dave", "Admin", "dave@example.com", user_type_id=SUPER_USER_TYPE, department_name="Sales"
        ),
    ]


def default_allowances() -> dict[int, list[dict[str, Any]]]:
    """Allowances in minutes, by user: last year's and this year's. Mallory has none."""
    year = date.today().year

    def allowance(y: int, remaining: int, carryover: int = 0) -> dict[str, Any]:
        return {
            "start_date": f"{y}-01-01T00:00:00",
            "opening": 11250,
            "remaining": remaining,
            "carryover_opening": carryover,
            "carryover_remaining": carryover,
            "locked": False,
        }

    return {
        ALICE: [allowance(year - 1, 0), allowance(year, 9000, 675)],  # 9675 min / 450 = 21.5 days
        BOB: [allowance(year, 3840)],  # 8 days of 480 minutes
        CAROL: [allowance(year, 600)],  # no work pattern: 10 hours
        DAVE: [allowance(year, 4500)],
    }


def _now() -> datetime:
    # Expiry dates are written without an offset: in UTC here, as the provider reads them [inferred].
    return datetime.now(UTC).replace(tzinfo=None)


def secret_for(nonce: str, client_secret: str = CLIENT_SECRET) -> str:
    """``SHA512(nonce + client secret)`` as lowercase hex, as WhosOff checks it."""
    return hashlib.sha512((nonce + client_secret).encode()).hexdigest()


class FakeWhosOff(Loopback):
    """Loopback stand-in for WhosOff's v4 API that records every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.users = default_users()
        self.allowances = default_allowances()
        self.leave_types = [  # keys written as the document's 200 sample writes "Name"
            {"Leave_Type_ID": HOLIDAY, "Name": "Holiday / Vacation"},
            {"Leave_Type_ID": SICK, "Name": "Sickness"},
            {"Leave_Type_ID": TRAINING, "Name": "Out of Office"},
        ]
        self.leaves: dict[int, dict[str, Any]] = {}
        self.password = PASSWORD
        self.allowed_ips = {IP_ADDRESS}
        self.token_lifetime = timedelta(hours=1)
        self.refuse_every_token = False  # answer TOK004 even to a token just issued
        self.gzip = True
        self.gzip_header: str | None = "gzip"  # None: gzip the body without saying so
        self.missing_routes: set[str] = set()  # paths to answer 404 "Endpoint not valid"
        self.tokens: dict[str, datetime] = {}  # access token -> expiry
        self.nonces: set[str] = set()
        self._lock = threading.RLock()
        self._ids = itertools.count(9_387_447)
        self._token_ids = itertools.count(1)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API root, as WHOSOFF_BASE_URL."""
        return self.root

    # -- test set-up and queries -----------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (it can still be renewed with with-access-token)."""
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, _now() - timedelta(seconds=1))

    def revoke_tokens(self) -> None:
        """Forget every token issued: only credentials sign in again."""
        with self._lock:
            self.tokens.clear()

    def calls_to(self, path: str) -> list[Call]:
        """Recorded calls to one path (``/v4/leave/submit``), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.path == path]

    def add_leave(
        self, user_id: int, start: str, end: str, *, status_id: int = APPROVED, leave_type_id: int = HOLIDAY
    ) -> int:
        """Put leave straight into WhosOff's data (``start``/``end`` as ``2026-08-06T12:00``); returns its id."""
        with self._lock:
            leave_id = next(self._ids)
            self.leaves[leave_id] = {
                "leave_id": leave_id,
                "user_id": user_id,
                "leave_type_id": leave_type_id,
                "start": datetime.fromisoformat(start),
                "end": datetime.fromisoformat(end),
                "status_id": status_id,
                "note": "",
            }
            return leave_id

    def book_by_itself(self, person: int, day: date) -> str:
        """An admin books a whole day for ``person`` in WhosOff's UI, approved; returns its id."""
        return str(self.add_leave(person, f"{day}T00:00", f"{day + timedelta(days=1)}T00:00"))

    def move_by_itself(self, booking_id: str, day: date) -> None:
        """The leave's dates are changed to the whole of ``day`` in WhosOff's UI."""
        with self._lock:
            self.leaves[int(booking_id)] |= {
                "start": datetime.combine(day, time()),
                "end": datetime.combine(day + timedelta(days=1), time()),
            }

    def remove_by_itself(self, booking_id: str) -> None:
        """The leave is cancelled in WhosOff's UI."""
        with self._lock:
            self.leaves[int(booking_id)]["status_id"] = CANCELLED

    def user(self, user_id: int) -> dict[str, Any] | None:
        """A user record by id."""
        return next((u for u in self.users if u["user_id"] == user_id), None)

    # -- routing (server threads) -----------------------------------------------------------------

    @staticmethod
    def _body(incoming: Incoming) -> tuple[Any, bool]:
        try:
            return (json.loads(incoming.raw) if incoming.raw else {}), True
        except ValueError:
            return None, False

    def _record(self, incoming: Incoming) -> None:
        body, parsed = self._body(incoming)
        if parsed:
            with self._lock:
                self.calls.append(Call(incoming.method, incoming.path, body, incoming.lower_headers()))

    def _fault_body(self, status: int, message: str) -> Any:
        return {"Data": [], "Errors": [{"Code": "000", "Message": message or "Service unavailable"}]}

    def _answer(self, incoming: Incoming) -> Reply:
        headers = incoming.lower_headers()
        reply = self._route(incoming.method, incoming.path, incoming, headers)
        errors = [{"Code": c, "Message": m} for c, m in reply.errors or []]
        payload = json.dumps({"Data": [] if reply.data is None else reply.data, "Errors": errors}).encode()
        extra = {}
        if self.gzip and "gzip" in headers.get("accept-encoding", "").lower():
            payload = gzip.compress(payload)
            if self.gzip_header:
                extra["Content-Encoding"] = self.gzip_header
        return Reply(reply.status, payload, extra)

    def _route(self, method: str, path: str, incoming: Incoming, headers: dict[str, str]) -> _Reply:
        body, parsed = self._body(incoming)
        if not parsed:
            return _Reply(400, errors=[("000", "Request body is not valid JSON")])
        with self._lock:
            if path in self.missing_routes:
                return _Reply(404, errors=[ENDPOINT_NOT_VALID])
            match method, path:
                case "POST", "/v4/authenticate/with-credentials":
                    return self._authenticate(body, headers, with_token=False)
                case "POST", "/v4/authenticate/with-access-token":
                    return self._authenticate(body, headers, with_token=True)
            if (refused := self._refused(headers)) is not None:
                return refused
            return self._dispatch(method, path, body if isinstance(body, dict) else {})

    def _dispatch(self, method: str, path: str, body: dict[str, Any]) -> _Reply:
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["v4", "user", "retrieve"]:
                status = int(body.get("status_id", 1))
                return _Reply(
                    data=[self._user_json(u) for u in self.users if status == 99 or u["status_id"] == status]
                )
            case "POST", ["v4", "leave-type", "retrieve"]:
                return _Reply(data=self.leave_types)
            case "POST", ["v4", "leave", "validate"]:
                checked = self._check_leave(body)
                return checked if isinstance(checked, _Reply) else _Reply(data=[])
            case "POST", ["v4", "leave", "submit"]:
                return self._submit(body)
            case "GET", ["v4", "leave", "get-by-id", leave_id]:
                leave = self.leaves.get(int(leave_id)) if leave_id.isdigit() else None
                return _Reply(data=self._leave_json(leave) if leave else [])
            case "POST", ["v4", "leave", "cancel"]:
                return self._cancel(body)
            case "POST", ["v4", "whosoff", "retrieve"]:
                return self._whos_off(body)
            case "POST", ["v4", "user-allowance", "retrieve"]:
                return _Reply(data=self.allowances.get(int(body.get("user_id", 0)), []))
        return _Reply(404, errors=[ENDPOINT_NOT_VALID])

    # -- authentication ----------------------------------------------------------------------------

    def _authenticate(self, body: Any, headers: dict[str, str], *, with_token: bool) -> _Reply:
        if not isinstance(body, dict) or body.get("app_id") != APP_ID or headers.get("app-id") != APP_ID:
            return _Reply(401, errors=[NOT_AUTHENTICATED])
        nonce = str(body.get("nonce") or "")
        if not nonce or nonce in self.nonces:
            return _Reply(400, errors=[NONCE_USED])
        self.nonces.add(nonce)
        if body.get("secret") != secret_for(nonce):
            return _Reply(400, errors=[BAD_SECRET])
        if body.get("ip_address") not in self.allowed_ips:
            return _Reply(403, errors=[FORBIDDEN])
        if with_token:
            # "This should be used to refresh an expired token": an expired one renews, an unknown one not.
            if self.tokens.pop(str(body.get("access_token")), None) is None:
                return _Reply(400, errors=[INVALID_TOKEN])
        elif (body.get("username"), body.get("password")) != (USERNAME, self.password):
            return _Reply(401, errors=[NOT_AUTHENTICATED])
        token = f"wo-token-{next(self._token_ids)}"
        expiry = _now() + self.token_lifetime
        self.tokens[token] = expiry
        user = self._user_json(self.user(DAVE) or {})
        return _Reply(
            data={
                "token": {"access_token": token, "token_expiry_date": expiry.strftime("%Y-%m-%dT%H:%M:%S")},
                "user": user,
            }
        )

    def _refused(self, headers: dict[str, str]) -> _Reply | None:
        if headers.get("app-id") != APP_ID:
            return _Reply(401, errors=[NOT_AUTHENTICATED])
        token = headers.get("authorization", "").removeprefix("Bearer ")
        expiry = self.tokens.get(token)
        if self.refuse_every_token or expiry is None or expiry <= _now():
            return _Reply(400, errors=[INVALID_TOKEN])
        return None

    # -- leave -------------------------------------------------------------------------------------

    def _check_leave(self, body: dict[str, Any]) -> _Reply | dict[str, Any]:
        """The leave a validate or submit body describes, or WhosOff's refusal."""
        missing = [
            k for k in ("user_id", "leave_type_id", "start_date", "end_date", "admin") if k not in body
        ]
        if missing:
            return _Reply(400, errors=[("000", f"{missing[0]} is required")])  # invented
        try:
            start, end = datetime.fromisoformat(body["start_date"]), datetime.fromisoformat(body["end_date"])
        except (TypeError, ValueError):
            return _Reply(400, errors=[("000", "Dates must be written 2023-03-28T09:00")])  # invented
        user_id, type_id = int(body["user_id"]), int(body["leave_type_id"])
        user = self.user(user_id)
        if user is None or type_id not in [t["Leave_Type_ID"] for t in self.leave_types]:
            return _Reply(400, errors=[("000", "User or leave type not found")])  # invented
        if end <= start:
            return _Reply(400, errors=[("000", "End date must be after the start date")])  # invented
        if any(m.second or m.minute % 15 for m in (start, end)):
            return _Reply(400, errors=[QUARTER_HOURS])
        if (end - start).days > 365:
            return _Reply(400, errors=[TOO_LONG])
        if len(str(body.get("note") or "")) > 500:
            return _Reply(400, errors=[("000", "Note can be at most 500 characters")])  # invented
        if not self.allowances.get(user_id):
            return _Reply(400, errors=[NO_ALLOWANCE])
        if any(
            leave["user_id"] == user_id
            and leave["status_id"] in (PENDING, APPROVED)
            and leave["start"] < end
            and leave["end"] > start
            for leave in self.leaves.values()
        ):
            return _Reply(400, errors=[ALREADY_OFF])
        return {"user_id": user_id, "leave_type_id": type_id, "start": start, "end": end}

    def _submit(self, body: dict[str, Any]) -> _Reply:
        checked = self._check_leave(body)
        if isinstance(checked, _Reply):
            return checked
        leave_id = next(self._ids)
        self.leaves[leave_id] = checked | {
            "leave_id": leave_id,
            "status_id": APPROVED if body["admin"] is True else PENDING,  # an admin booking needs no approval
            "note": str(body.get("note") or ""),
        }
        return _Reply(data=[{"Record_ID": str(leave_id)}])

    def _cancel(self, body: dict[str, Any]) -> _Reply:
        leave = self.leaves.get(int(body.get("leave_id") or 0))
        if leave is None:
            return _Reply(400, errors=[("LEA404", "Leave not found")])  # invented
        leave["status_id"] = CANCELLED
        return _Reply(data=[])

    def _whos_off(self, body: dict[str, Any]) -> _Reply:
        try:
            first, last = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
            map_type, map_id = int(body["map_type_id"]), int(body["map_id"])
        except (KeyError, TypeError, ValueError):
            return _Reply(400, errors=[("000", "start_date, end_date, map_type_id and map_id are required")])
        if (last - first).days + 1 > 365:
            return _Reply(400, errors=[TOO_LONG])
        start, end = (
            datetime.combine(first, datetime.min.time()),
            datetime.combine(last + timedelta(days=1), datetime.min.time()),
        )
        people = [u for u in self.users if u["status_id"] == 1 and (map_type == 0 or u["user_id"] == map_id)]
        answer = []
        for user in people:
            leave = [
                self._leave_json(lv)
                for lv in sorted(self.leaves.values(), key=lambda lv: lv["start"])
                if lv["user_id"] == user["user_id"]
                and lv["status_id"] in (PENDING, APPROVED)
                and lv["start"] < end
                and lv["end"] > start
            ]
            if leave or not body.get("include_only_whosoff"):
                answer.append(
                    {k: user[k] for k in ("user_id", "first_name", "last_name", "work")} | {"leave": leave}
                )
        return _Reply(data=answer)

    # -- JSON ----------------------------------------------------------------------------------------

    @staticmethod
    def _user_json(user: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in user.items() if k != "work"}

    @staticmethod
    def _leave_json(leave: dict[str, Any]) -> dict[str, Any]:
        return {
            "leave_id": leave["leave_id"],
            "user_id": leave["user_id"],
            "leave_type_id": leave["leave_type_id"],
            "start_date": leave["start"].strftime("%Y-%m-%dT%H:%M:%S"),
            "end_date": leave["end"].strftime("%Y-%m-%dT%H:%M:%S"),
            "status_id": leave["status_id"],
            "note": leave["note"],
        }
