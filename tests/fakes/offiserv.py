"""A real loopback HTTP server that behaves as OffiServ's API document says, for tests.

From the document: ``POST /data/login`` with a JSON ``email`` and ``password`` sets a session
cookie, and every other call needs it; the roots ``/data/users/me`` and ``/data/companies/my``;
Users carrying their links (``managerUri``, ``reports``, ``approversChainUri``, ``leavesUri``,
``leavesForApprovalUri``, ``leaveDaysLimitsUri``, ``companyUri``) and an organisation with its
``admins`` and ``timezone``. Every linked resource lives at a path no client could guess, so a
client must follow the links it is given (``issued`` records them all).

What the document leaves open is served in the shapes leavebot assumes (providers/offiserv.py,
``ASSUMED``), written out here independently: users carry ``email``; the organisation links its
users at ``usersUri``; a leave request is ``{uri, id, start, end, leaveType, reason, state}`` with
UTC date-times, created by POST on a user's ``leavesUri`` and changed by PUT ``{state}`` on its
``uri``; leave-day limits are ``[{leaveType, limit, used}]``.

An expired session is answered 401, or (``expired_answer = 302``) with a redirect to the login
page; ``fail_next(status=429, retry_after=…)`` throttles. It runs in a daemon thread.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fakes.loopback import Incoming, Loopback, Reply

EMAIL = "dave@example.com"  # the account leavebot signs in with: HR, sees everyone's leave
PASSWORD = "correct horse battery staple"
COOKIE = "OFFISERV_SID"
STATES = ("NEW", "ACCEPTED", "REJECTED", "CANCELLED")
LIVE = ("NEW", "ACCEPTED")
OVERLAP = "These dates overlap another leave request."
LEAVE_TYPES = ("Vacation", "On-demand leave", "Training")
RESOURCES = ("user", "leaves", "approval", "chain", "limits")  # what ``link`` names for each user


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str  # with its query string, as sent
    body: Any
    cookie: str | None  # the session cookie's value, if sent
    at: float = field(default_factory=time.monotonic)  # when it arrived (the provider's clock too)


@dataclass
class FakeUser:
    """Someone in the organisation; ``chain`` and ``manager`` name other users' keys."""

    key: str
    first: str
    last: str
    email: str
    manager: str | None = None
    chain: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=lambda: ["USER"])
    limits: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"leaveType": "Vacation", "limit": 26, "used": 4.5},
            {"leaveType": "On-demand leave", "limit": 4, "used": 0},
        ]
    )
    token: str = field(default_factory=lambda: secrets.token_hex(6))  # 3 bytes collided at 10,000 users
    leaves_link: str | None = None  # a test's own leavesUri for this user ("" leaves it out)


def default_users() -> dict[str, FakeUser]:
    """Alice (chain: Bob; manager Carol), Bob (no chain; manager Carol), Carol (neither), Mallory
    (chain: Carol then Bob), and Dave, the HR admin whose account leavebot uses."""
    users = [
        FakeUser("alice", "Alice", "Archer", "Alice@Example.com", manager="carol", chain=["bob"]),
        FakeUser("bob", "Bob", "Boss", "bob@example.com", manager="carol"),
        FakeUser("carol", "Carol", "Chief", "carol@example.com"),
        FakeUser("mallory", "Mallory", "Meddler", "mallory@example.com", chain=["carol", "bob"]),
        FakeUser(
            "dave",
            "Dave",
            "Admin",
            EMAIL,
            manager="carol",
            roles=["USER", "ADMIN"],
            limits=[{"leaveType": t, "limit": 26, "used": 0} for t in LEAVE_TYPES],
        ),
    ]
    return {u.key: u for u in users}


class FakeOffiServ(Loopback):
    """Loopback stand-in for OffiServ that records every call."""

    def __init__(self) -> None:
        super().__init__()
        self.email, self.password = EMAIL, PASSWORD
        self.users = default_users()
        self.timezone = "Europe/Warsaw"
        self.company_links_users = True  # serve the (assumed) usersUri on the organisation
        self.expired_answer = 401  # or 302: a redirect to the login page
        self.login_answer = 200  # or 302: a form sign-in redirecting into the app
        self.calls: list[Call] = []
        self.leaves: dict[str, dict[str, Any]] = {}  # leave token -> stored leave (UTC date-times)
        self.issued: set[str] = set()  # every link handed out
        self._sessions: set[str] = set()
        self._company = secrets.token_hex(3)
        self._ids = itertools.count(70_001)
        self._lock = threading.RLock()
        self._routes: dict[str, tuple[str, str]] = {}  # link -> (user key, resource): O(1) at 10,000 users

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, as OFFISERV_BASE_URL."""
        return self.root

    # -- test set-up and queries -------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every session cookie handed out so far stops working."""
        with self._lock:
            self._sessions.clear()

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Recorded calls of one method to one path (query string included)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def link(self, key: str, what: str) -> str:
        """The link the fake hands out for one of a user's resources ('user', 'leaves', 'chain', …)."""
        token = self.users[key].token
        return {
            "user": f"/data/people/{token}",
            "leaves": f"/data/people/{token}/time-off",
            "approval": f"/data/tickets/awaiting/{token}",
            "chain": f"/graph/{token}/approvers",
            "limits": f"/data/limits?owner={token}",
        }[what]

    def leaves_of(self, key: str) -> list[dict[str, Any]]:
        """A user's stored leave requests (date-times in UTC), oldest first."""
        with self._lock:
            return [leave for leave in self.leaves.values() if leave["user"] == key]

    def add_leave(self, key: str, start: datetime, end: datetime, *, state: str = "ACCEPTED") -> str:
        """Put a leave request straight into OffiServ's data; returns its uri."""
        with self._lock:
            return str(self._store_leave(key, start, end, "Vacation", "", state)["uri"])

    def book_by_itself(self, person: str, day: date) -> str:
        """HR enters a whole day of leave for ``person`` in OffiServ's UI, accepted; returns its uri."""
        return self.add_leave(person, *whole_days(day))

    def move_by_itself(self, booking_id: str, day: date) -> None:
        """The leave's dates are changed to the whole of ``day`` in OffiServ's UI."""
        start, end = whole_days(day)
        with self._lock:
            self._by_uri(booking_id).update(start=start.astimezone(UTC), end=end.astimezone(UTC))

    def remove_by_itself(self, booking_id: str) -> None:
        """The leave is cancelled in OffiServ's UI."""
        with self._lock:
            self._by_uri(booking_id)["state"] = "CANCELLED"

    def _by_uri(self, uri: str) -> dict[str, Any]:
        return next(leave for leave in self.leaves.values() if leave["uri"] == uri)

    # -- routing (server threads) -------------------------------------------------------------------

    @staticmethod
    def _cookie(incoming: Incoming) -> str | None:
        header = incoming.headers.get("Cookie", "")
        return dict(part.strip().split("=", 1) for part in header.split(";") if "=" in part).get(COOKIE)

    def _record(self, incoming: Incoming) -> None:
        with self._lock:
            self.calls.append(Call(incoming.method, incoming.target, incoming.json(), self._cookie(incoming)))

    def _fault_body(self, status: int, message: str) -> Any:
        return {"message": message or "Service unavailable"}

    def _answer(self, incoming: Incoming) -> Reply:
        method, target, body, cookie = (
            incoming.method,
            incoming.target,
            incoming.json(),
            self._cookie(incoming),
        )
        with self._lock:
            if (method, target) == ("POST", "/data/login"):
                return self._login(body)
            if cookie not in self._sessions:
                if self.expired_answer == 302:
                    return Reply(302, None, {"Location": f"/login?next={target}"})
                return Reply(401, {"message": "Not signed in"})
            return self._dispatch(method, target, body)

    def _login(self, body: Any) -> Reply:
        given = body if isinstance(body, dict) else {}
        if (str(given.get("email", "")).lower(), given.get("password")) != (self.email, self.password):
            return Reply(401, {"message": "Wrong e-mail or password"})
        session = secrets.token_urlsafe(16)
        self._sessions.add(session)
        headers = {"Set-Cookie": f"{COOKIE}={session}; Path=/; HttpOnly"}
        if self.login_answer == 302:
            return Reply(302, None, headers | {"Location": "/"})
        return Reply(200, {"uri": self._issue(self.link("dave", "user"))}, headers)

    def _dispatch(self, method: str, target: str, body: Any) -> Reply:
        if (method, target) == ("GET", "/data/users/me"):
            return Reply(200, self._user_json(self.users["dave"]))
        if (method, target) == ("GET", "/data/companies/my"):
            return Reply(200, self._company_json())
        if target not in self.issued:  # the client built a path instead of following a link
            return Reply(404, {"message": f"No resource at {target}"})
        if target == self._company_uri():
            return Reply(200, self._company_json())
        if target == f"{self._company_uri()}/people":
            reports = self._reports()  # once for the whole listing: 10,000 users stay linear
            return Reply(200, [self._user_json(u, reports) for u in self.users.values()])
        if target.startswith("/data/lv/"):
            return self._leave(method, target.removeprefix("/data/lv/"), body)
        route = self._route(target)
        if route is None:
            return Reply(404, {"message": f"No resource at {target}"})
        return self._user_resource(method, *route, body)

    def _route(self, target: str) -> tuple[str, str] | None:
        """The user and resource a link names; the index is rebuilt when users came or went since."""
        route = self._routes.get(target)
        if route is None or route[0] not in self.users or self.link(*route) != target:
            self._routes = {self.link(k, what): (k, what) for k in self.users for what in RESOURCES}
            route = self._routes.get(target)
        return route

    def _user_resource(self, method: str, key: str, what: str, body: Any) -> Reply:
        user = self.users[key]
        match method, what:
            case "GET", "user":
                return Reply(200, self._user_json(user))
            case "GET", "leaves":
                return Reply(200, [self._leave_json(leave) for leave in self.leaves_of(key)])
            case "POST", "leaves":
                return self._create(key, body if isinstance(body, dict) else {})
            case "GET", "approval":
                waiting = [
                    leave
                    for leave in self.leaves.values()
                    if leave["state"] == "NEW" and key in self.users[leave["user"]].chain
                ]
                return Reply(200, [self._leave_json(leave) for leave in waiting])
            case "GET", "chain":
                return Reply(200, [self._brief(self.users[k]) for k in user.chain])
            case "GET", "limits":
                return Reply(200, user.limits)
        return Reply(405, {"message": "Method not allowed"})

    # -- JSON -----------------------------------------------------------------------------------

    def _issue(self, link: str) -> str:
        self.issued.add(link)
        return link

    def _company_uri(self) -> str:
        return f"/data/organisations/{self._company}"

    def _company_json(self) -> dict[str, Any]:
        company = {
            "uri": self._issue(self._company_uri()),
            "name": "Example Ltd",
            "employeesCount": len(self.users),
            "domain": "",
            "admins": [self._user_json(u) for u in self.users.values() if "ADMIN" in u.roles],
            "created": "2019-03-01",
            "country": "PL",
            "timezone": self.timezone,
            "features": ["leaves", "tickets"],
        }
        if self.company_links_users:
            company["usersUri"] = self._issue(f"{self._company_uri()}/people")
        return company

    def _brief(self, user: FakeUser) -> dict[str, Any]:
        """A reference to a user, as lists of Users carry them: its uri and name only."""
        return {"uri": self._issue(self.link(user.key, "user")), "displayName": f"{user.first} {user.last}"}

    def _reports(self) -> dict[str | None, list[FakeUser]]:
        """Each manager's key -> the users reporting to them."""
        by_manager: dict[str | None, list[FakeUser]] = {}
        for u in self.users.values():
            by_manager.setdefault(u.manager, []).append(u)
        return by_manager

    def _user_json(
        self, user: FakeUser, by_manager: dict[str | None, list[FakeUser]] | None = None
    ) -> dict[str, Any]:
        reports = (by_manager if by_manager is not None else self._reports()).get(user.key, [])
        return {
            "uri": self._issue(self.link(user.key, "user")),
            "id": f"u-{user.token}",
            "firstname": user.first,
            "lastname": user.last,
            "email": user.email,
            "phone": "",
            "mobile": "",
            "displayName": f"{user.first} {user.last}",
            "managerUri": self._issue(self.link(user.manager, "user")) if user.manager else None,
            "reports": [self._brief(u) for u in reports],
            "roles": user.roles,
            "leavesUri": self._issue(self.link(user.key, "leaves"))
            if user.leaves_link is None
            else (user.leaves_link or None),
            "leavesForApprovalUri": self._issue(self.link(user.key, "approval")),
            "approversChainUri": self._issue(self.link(user.key, "chain")),
            "leaveDaysLimitsUri": self._issue(self.link(user.key, "limits")),
            "companyUri": self._issue(self._company_uri()),
        }

    def _leave_json(self, leave: dict[str, Any]) -> dict[str, Any]:
        return {
            "uri": self._issue(leave["uri"]),
            "id": leave["id"],
            "start": leave["start"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": leave["end"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "leaveType": leave["leaveType"],
            "reason": leave["reason"],
            "state": leave["state"],
            "userUri": self.link(leave["user"], "user"),
        }

    # -- leave requests ---------------------------------------------------------------------------

    def _moment(self, text: Any) -> datetime | None:
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            return None
        zone = ZoneInfo(self.timezone)  # one without an offset is the organisation's local time
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)

    def _create(self, key: str, body: dict[str, Any]) -> Reply:
        start, end = self._moment(body.get("start")), self._moment(body.get("end"))
        kind, state = body.get("leaveType"), body.get("state", "NEW")
        if start is None or end is None or end <= start:
            return Reply(400, {"message": "start and end must be date-times, end after start"})
        if kind not in {limit["leaveType"] for limit in self.users[key].limits}:
            return Reply(400, {"message": f"Unknown leave type {kind!r}"})
        if state not in LIVE:
            return Reply(400, {"message": f"A new leave request cannot be {state!r}"})
        if any(
            leave["state"] in LIVE and leave["start"] < end and leave["end"] > start
            for leave in self.leaves_of(key)
        ):
            return Reply(409, {"message": OVERLAP})
        leave = self._store_leave(key, start, end, str(kind), str(body.get("reason") or ""), str(state))
        return Reply(201, self._leave_json(leave), {"Location": leave["uri"]})

    def _store_leave(
        self, key: str, start: datetime, end: datetime, kind: str, reason: str, state: str
    ) -> dict[str, Any]:
        token = secrets.token_hex(4)
        leave = {
            "uri": self._issue(f"/data/lv/{token}"),
            "id": str(next(self._ids)),
            "user": key,
            "start": start.astimezone(UTC),
            "end": end.astimezone(UTC),
            "leaveType": kind,
            "reason": reason,
            "state": state,
        }
        self.leaves[token] = leave
        return leave

    def _leave(self, method: str, token: str, body: Any) -> Reply:
        leave = self.leaves.get(token)
        if leave is None:
            return Reply(404, {"message": "No such leave request"})
        if method == "GET":
            return Reply(200, self._leave_json(leave))
        if method == "PUT":
            state = body.get("state") if isinstance(body, dict) else None
            if state not in STATES:
                return Reply(400, {"message": f"Unknown state {state!r}"})
            leave["state"] = state
            return Reply(200, self._leave_json(leave))
        return Reply(405, {"message": "Method not allowed"})


def local_midnight(day: date, zone: str = "Europe/Warsaw") -> datetime:
    """Midnight starting ``day`` in a zone, as an aware date-time."""
    return datetime.combine(day, datetime.min.time(), ZoneInfo(zone))


def whole_days(day: date, days: int = 1, zone: str = "Europe/Warsaw") -> tuple[datetime, datetime]:
    """From midnight starting ``day`` to midnight ``days`` later, in a zone."""
    start = local_midnight(day, zone)
    return start, local_midnight(day + timedelta(days=days), zone)
