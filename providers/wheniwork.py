"""When I Work: time-off requests booked pending, decided by status changes, as one manager's account.

Everything here follows When I Work's API document (the legacy ``/2`` reference) and the facts
gathered in the provider research; what neither states is marked *[inferred]* where it is decided
(docs/providers.md's When I Work section lists both). Vendor JSON is read into the private ``_`` models
below and turned into the normalized models by one function each; no When I Work field name
leaves this module.

When I Work has no morning or afternoon: a request is a ``start_time``..``end_time`` range. Half
days become the configured times (``WHENIWORK_MORNING``, ``WHENIWORK_AFTERNOON``), full days run
from midnight to midnight, hours are sent as they are; reading back maps those times to the
normalized parts again, so a booking reads back as it was made.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from providers.base import ApprovalMode, Capabilities, LeaveProvider, RateLimit, SessionAuth, SessionProvider
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
)
from providers.models import (
    Absence,
    Booking,
    BookingState,
    HolidayRequest,
    LeaveSpan,
    LeaveType,
    Outcome,
    Person,
    Status,
)

log = logging.getLogger(__name__)

BASE_URL = "https://api.wheniwork.com/2"
PAGE_SIZE = 200  # the largest ``limit`` the requests list allows
MAX_PAGES = 500  # a list that still says ``more`` after 100,000 requests is not trusted further
TYPES_FRESH_FOR = 3600.0  # seconds the request-type names are trusted when reading absences
DAY_END = 24 * 60

# Request ``user_status`` (``status`` cannot show Denied, so ``user_status`` is read first).
PENDING, CANCELED, ACCEPTED, EXPIRED, DENIED = 0, 1, 2, 3, 4
STATUS = {
    PENDING: Status.PENDING,
    CANCELED: Status.CANCELLED,
    ACCEPTED: Status.APPROVED,
    EXPIRED: Status.CANCELLED,  # lapsed undecided: nobody declined it [inferred]
    DENIED: Status.DECLINED,
}
# User roles: 1 Admin, 2 Manager, 3 Employee, 4 Lead (unused), 5 Supervisor.
ADMIN, MANAGER, EMPLOYEE, LEAD, SUPERVISOR = 1, 2, 3, 4, 5

# The four built-in request types (the deprecated ``type`` field), offered when an account has no
# ``/requesttypes``. Their ids carry a prefix so they never clash with a request type's id.
BUILT_IN_PREFIX = "type:"
BUILT_IN_TYPES = {0: "Unpaid Time Off", 1: "Paid Time Off", 2: "Sick Leave", 3: "Holiday"}


class Assumed:
    """What the documents leave open, decided here in one place so a real tenant can correct it [inferred]."""

    # The reason for a decline (and the requester's own reason) is posted as a message on the
    # request: the request object has no field for it.
    MESSAGES_PATH = "/messages"
    DECLINE_TITLE = "Request denied"
    REASON_TITLE = "Reason"
    # The account's time zone, which every request time is written in.
    ACCOUNT_PATH = "/account"
    # The newer login service: POST {WHENIWORK_LOGIN_URL}/login, then GET {base}/login for workplaces.
    LOGIN_SERVICE_PATH = "/login"
    # Words in a 403 (or 429) body that mean "slow down", not "not allowed".
    RATE_LIMIT_WORDS = ("rate limit", "too many requests", "slow down")
    # Whether the requests list's ``start``/``end`` match by overlap is not documented: the range is
    # widened by this many days on each side and the overlap checked here.
    LIST_MARGIN_DAYS = 1


# The legacy error table, as plain words and the typed error each becomes (401 and 429 are the base's).
ERRORS: dict[int, tuple[type[ProviderError], str]] = {
    400: (ProviderRejected, "When I Work could not accept the request"),
    403: (
        ProviderAuthError,
        "When I Work does not let leavebot's account do this (it needs the admin or manager role)",
    ),
    404: (ProviderNotFound, "When I Work could not find it"),
    405: (ProviderError, "When I Work does not allow that method there"),
    406: (ProviderError, "When I Work could not answer in JSON"),
    410: (ProviderNotFound, "When I Work has removed it"),
    418: (ProviderError, "When I Work answered that it is a teapot"),
    500: (ProviderUnavailable, "When I Work had a problem on its side; try again later"),
    503: (ProviderUnavailable, "When I Work is offline for maintenance; try again later"),
}

# -- When I Work's JSON, as the documents describe it ----------------------------------------------


def _moment(value: Any) -> Any:
    """Both date formats: ``Fri, 14 Mar 2014 00:00:00 -0500`` (legacy) and ISO 8601 (current)."""
    if isinstance(value, str) and value[:3].isalpha():
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return value  # let pydantic say what is wrong with it
    return value


Moment = Annotated[datetime, BeforeValidator(_moment)]


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _User(_Vendor):
    id: int
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    role: int = EMPLOYEE
    locations: list[int] = Field(default_factory=list)
    is_deleted: bool = False


class _Request(_Vendor):
    id: int
    user_id: int
    status: int = PENDING
    user_status: int | None = None
    type: int | None = None
    type_id: int | None = None
    type_label: str | None = None
    start_time: Moment
    end_time: Moment

    @property
    def state(self) -> int:
        return self.status if self.user_status is None else self.user_status


class _RequestEnvelope(_Vendor):
    request: _Request


class _RequestPage(_Vendor):
    requests: list[_Request] = Field(default_factory=list)
    users: list[_User] = Field(default_factory=list)
    more: bool = False


class _Users(_Vendor):
    users: list[_User] = Field(default_factory=list)


class _UserEnvelope(_Vendor):
    user: _User


class _RequestType(_Vendor):
    id: int
    name: str
    enabled: bool = True
    is_deleted: bool = False


class _RequestTypes(_Vendor):
    request_types: list[_RequestType] = Field(default_factory=list, alias="request-types")


class _Token(_Vendor):
    token: str | None = None


class _LegacyLogin(_Vendor):
    login: _Token | None = None  # the token to use; the users' own are legacy copies
    token: str | None = None
    users: list[_Token] = Field(default_factory=list)


class _PersonLogin(_Vendor):
    token: str | None = None
    person: _Token | None = None


class _Account(_Vendor):
    timezone_name: str | None = None


class _AccountEnvelope(_Vendor):
    account: _Account = Field(default_factory=_Account)


# -- one conversion per entity --------------------------------------------------------------------


def _person(user: _User) -> Person:
    name = f"{user.first_name} {user.last_name}".strip() or f"When I Work user {user.id}"
    # Lower-cased: Slack and the bot's own tables match people by address, whatever its case.
    email = (user.email or "").strip().lower() or None
    return Person(id=str(user.id), name=name, email=email)


def _status(request: _Request) -> Status:
    return STATUS.get(request.state, Status.CANCELLED)


@dataclass(frozen=True)
class DayParts:
    """The times a morning and an afternoon stand for, in minutes of the day."""

    morning: tuple[int, int]
    afternoon: tuple[int, int]


def _at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, dt_time(minute // 60, minute % 60), tzinfo=zone)


def _times(leave: LeaveSpan, parts: DayParts, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A span as When I Work's start and end times, in the account's zone (so with its offset)."""
    one_day = leave.start_date == leave.end_date
    if isinstance(leave.start, int) and isinstance(leave.end, int):
        return _at(leave.start_date, leave.start, zone), _at(leave.end_date, leave.end, zone)
    if one_day and (leave.start, leave.end) == ("AM", "AM"):
        start, end = parts.morning
        return _at(leave.start_date, start, zone), _at(leave.end_date, end, zone)
    if one_day and (leave.start, leave.end) == ("PM", "PM"):
        start, end = parts.afternoon
        return _at(leave.start_date, start, zone), _at(leave.end_date, end, zone)
    # Full days run from midnight to the next midnight; a half day at either end uses its time.
    first = _at(leave.start_date, 0 if leave.start == "AM" else parts.afternoon[0], zone)
    if leave.end == "AM":
        return first, _at(leave.end_date, parts.morning[1], zone)
    return first, _at(leave.end_date + timedelta(days=1), 0, zone)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    # A time without an offset (the current API's examples) is the account's local time [inferred].
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _span(start_time: datetime, end_time: datetime, parts: DayParts, zone: ZoneInfo) -> dict[str, Any]:
    """When I Work's times as the dates and parts of a LeaveSpan: the inverse of ``_times``."""
    start, end = _local(start_time, zone), _local(end_time, zone)
    first, begin = start.date(), start.hour * 60 + start.minute
    last, finish = end.date(), end.hour * 60 + end.minute
    if finish == 0 and last > first:  # midnight ends the day before
        last, finish = last - timedelta(days=1), DAY_END
    elif finish >= DAY_END - 1:  # 23:59 (or 23:59:59) written for the end of the day
        finish = DAY_END
    if first == last:
        fixed = {parts.morning: ("AM", "AM"), parts.afternoon: ("PM", "PM"), (0, DAY_END): ("AM", "PM")}
        begin_part, end_part = fixed.get((begin, finish), (begin, min(finish, DAY_END - 1)))
    else:
        begin_part = "PM" if begin >= parts.afternoon[0] else "AM"
        end_part = "AM" if finish <= parts.morning[1] else "PM"
    return {"start_date": first, "start": begin_part, "end_date": last, "end": end_part}


def _minutes(text: str) -> tuple[int, int]:
    """'09:00-13:00' as (540, 780)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError("must be two times such as 09:00-13:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (m1 < 60 and m2 < 60 and 0 <= start < end <= DAY_END - 1):
        raise ValueError("must be two times of one day, the first earlier, such as 09:00-13:00")
    return start, end


class _Login(SessionAuth["WhenIWorkProvider"]):
    """When I Work's session: a token from logging in with the developer key and the account's password."""

    def __init__(self, provider: WhenIWorkProvider) -> None:
        super().__init__(provider)
        self._token: SecretStr | None = None
        self._bearer = False  # the newer login's token goes in Authorization, the legacy one in W-Token
        self._workplace = provider.config.user_id

    async def sign_in(self) -> None:
        """Log in with the developer key and the account's password; keep the token."""
        if self.provider.config.login_url:
            await self._sign_in_person()
        else:
            await self._sign_in_legacy()

    async def _sign_in_legacy(self) -> None:
        # POST /2/login with W-Key; "for legacy reasons there are tokens in both" the login object
        # and the users: the login's is the one to use.
        config = self.provider.config
        answer = await self.provider._json(
            "POST",
            "/login",
            _LegacyLogin,
            session=False,
            headers={"W-Key": config.api_key.get_secret_value()},
            json={"username": config.username, "password": config.password.get_secret_value()},
        )
        tokens = [
            answer.login.token if answer.login else None,
            answer.token,
            *(u.token for u in answer.users),
        ]
        self._keep(next((t for t in tokens if t), None), bearer=False)

    async def _sign_in_person(self) -> None:
        # The login service answers a person and a token (a JWT) used as a bearer token; the person's
        # workplaces come from GET /2/login, and W-UserId picks one.
        config = self.provider.config
        answer = await self.provider._json(
            "POST",
            f"{config.login_url}{Assumed.LOGIN_SERVICE_PATH}",
            _PersonLogin,
            session=False,
            headers={"W-Key": config.api_key.get_secret_value()},
            json={"email": config.username, "password": config.password.get_secret_value()},
        )
        self._keep(answer.token or (answer.person.token if answer.person else None), bearer=True)
        if self._workplace is None:
            self._workplace = await self._only_workplace()

    def _keep(self, token: str | None, *, bearer: bool) -> None:
        if not token:
            raise ProviderAuthError(
                "When I Work's login answered without a token", provider=self.provider.name
            )
        self._token, self._bearer = SecretStr(token), bearer

    async def _only_workplace(self) -> int | None:
        assert self._token is not None
        bearer = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        workplaces = await self.provider._json(
            "GET", "/login", _Users, session=False, params={"show_pending": "true"}, headers=bearer
        )
        users = workplaces.users
        if len(users) > 1:
            ids = ", ".join(str(u.id) for u in users)
            raise ProviderAuthError(
                f"the When I Work login belongs to several workplaces: set WHENIWORK_USER_ID to one of {ids}",
                provider=self.provider.name,
            )
        return users[0].id if users else None

    def headers(self) -> dict[str, str]:
        if self._token is None:
            return {}
        token = self._token.get_secret_value()
        headers = {"Authorization": f"Bearer {token}"} if self._bearer else {"W-Token": token}
        if self._workplace is not None:
            headers["W-UserId"] = str(self._workplace)
        return headers


class WhenIWorkProvider(SessionProvider):
    """When I Work books requests pending; approving, declining and cancelling change their status."""

    name = "wheniwork"
    display_name = "When I Work"
    capabilities = Capabilities(approval=ApprovalMode.NATIVE, half_days=True, hourly=True, balances=False)
    # Legacy documentation: 100 requests a minute for one user on one developer key.
    rate_limit = RateLimit(calls=100, per=61.0)
    auth_hint = "check WHENIWORK_API_KEY, WHENIWORK_USERNAME and WHENIWORK_PASSWORD"
    Session = _Login
    built_in_types: ClassVar[list[LeaveType]] = [
        LeaveType(id=f"{BUILT_IN_PREFIX}{code}", name=name) for code, name in BUILT_IN_TYPES.items()
    ]

    class Config(LeaveProvider.Config):
        """Developer key, the manager account leavebot signs in as, URLs, workplace, and half-day times."""

        api_key: SecretStr  # the developer key, sent as W-Key when signing in
        username: str  # e-mail address of the account leavebot acts as (an admin or manager)
        password: SecretStr
        base_url: str = BASE_URL
        login_url: str | None = None  # the newer login service, e.g. https://api.login.wheniwork.com
        user_id: int | None = None  # W-UserId: which workplace, when the login has several
        morning: str = "09:00-13:00"  # what a morning off means in When I Work
        afternoon: str = "13:00-17:00"
        # "location": the requester's own managers and supervisors (those sharing a location with them);
        # "all": every admin and manager of the account, and the supervisors of the requester's locations.
        approvers: Literal["location", "all"] = "location"

        @field_validator("base_url", "login_url")
        @classmethod
        def _http_url(cls, value: str | None) -> str | None:
            if value is None or not value.strip():
                return None
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http(s) URL such as https://api.wheniwork.com/2")
            return value.rstrip("/")

        @field_validator("morning", "afternoon")
        @classmethod
        def _day_part(cls, value: str, info: ValidationInfo) -> str:
            start, _ = _minutes(value)
            morning = info.data.get("morning")
            if info.field_name == "afternoon" and morning and _minutes(morning)[1] > start:
                raise ValueError("must start when the morning ends or later")
            return value

    config: Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._zone: ZoneInfo | None = None
        self._type_names: dict[int, str] = {}
        self._types_read_at = -math.inf
        self._people: dict[int, Person] = {}
        self._parts = DayParts(
            morning=_minutes(self.config.morning), afternoon=_minutes(self.config.afternoon)
        )

    # -- HTTP ------------------------------------------------------------------------------------

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; a 403 that means "slow down" is handed on as the 429 it stands for.

        The current API signals its rolling-window rate limit with 403-level errors, the legacy one
        with 429: both then get the same waiting and retrying [inferred: how to tell them apart].
        """
        response = await super()._send(method, url, **kwargs)
        if response.status_code == 403 and self._slow_down(response):
            return httpx.Response(
                429, headers=response.headers, content=response.content, request=response.request
            )
        return response

    def _slow_down(self, response: httpx.Response) -> bool:
        if "retry-after" in response.headers or response.headers.get("w-limit-remaining") == "0":
            return True
        detail = self._error_detail(response).lower()
        return any(words in detail for words in Assumed.RATE_LIMIT_WORDS)

    def _check(self, response: httpx.Response) -> httpx.Response:
        """Every documented error code as a typed error in plain words, with When I Work's own."""
        status = response.status_code
        known = ERRORS.get(status) or (ERRORS[500] if status > 500 else None)
        if status < 400 or status in (401, 429) or known is None:
            return super()._check(response)
        kind, words = known
        detail = self._error_detail(response)
        raise kind(f"{words}: {detail}" if detail else words, provider=self.name)

    def _error_detail(self, response: httpx.Response) -> str:
        """The ``error`` of When I Work's ``{"error", "code"}`` body, else its plain text (often empty)."""
        try:
            data = response.json()
        except ValueError:
            return response.text.strip()[:300]
        message = data.get("error") or data.get("message") if isinstance(data, dict) else None
        return str(message or "").strip()[:300]

    def _decode(self, response: httpx.Response, path: str) -> Any:
        """The body's JSON object: every When I Work answer is one."""
        data = super()._decode(response, path)
        if not isinstance(data, dict):
            raise ProviderResponseError(
                f"When I Work answered {path} in a shape leavebot does not know", provider=self.name
            )
        return data

    async def _account_zone(self) -> ZoneInfo:
        """The account's time zone (``timezone_name``), read once; UTC where the account names none."""
        if self._zone is None:
            account = (await self._json("GET", Assumed.ACCOUNT_PATH, _AccountEnvelope)).account
            try:
                self._zone = ZoneInfo(account.timezone_name or "UTC")
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("When I Work's time zone %r is unknown here; using UTC", account.timezone_name)
                self._zone = ZoneInfo("UTC")
        return self._zone

    # -- people ----------------------------------------------------------------------------------

    async def find_person(self, email: str) -> Person:
        """The user ``GET /users?search=`` finds with exactly this e-mail address, whatever its case."""
        key = email.strip().lower()
        users = (await self._json("GET", "/users", _Users, params={"search": key})).users
        found = [u for u in users if (u.email or "").strip().lower() == key and not u.is_deleted]
        if not found:
            raise ProviderNotFound(
                f"When I Work has no user with the e-mail address {email}", provider=self.name
            )
        return _person(found[0])

    async def approvers(self, person: Person) -> list[Person]:
        """The requester's own managers and the supervisors of their locations (WHENIWORK_APPROVERS=all:
        every admin and manager too).

        When I Work names no approver per user: its roles and locations decide. A manager or supervisor
        manages the locations they are assigned to; a supervisor approves only people below a manager;
        above a manager, and for someone whose locations have no manager or supervisor, are the
        account's admins [inferred: so that a request never waits for nobody].
        """
        users = (await self._json("GET", "/users", _Users)).users
        user_id = _number(person.id, "user", self.name)
        me = next((u for u in users if u.id == user_id), None) or await self._user(user_id)
        if me is None:
            raise ProviderNotFound(f"When I Work has no user {person.id}", provider=self.name)
        others = [u for u in users if u.id != me.id and not u.is_deleted]
        if self.config.approvers == "all":
            return [_person(u) for u in others if u.role in (ADMIN, MANAGER) or _supervises(u, me)]
        chosen = [u for u in others if _manages(u, me) or _supervises(u, me)]
        chosen = chosen or [u for u in others if u.role == ADMIN]
        return [_person(u) for u in chosen]

    async def _user(self, user_id: int) -> _User | None:
        try:
            return (await self._json("GET", f"/users/{user_id}", _UserEnvelope)).user
        except ProviderNotFound:
            return None

    async def _person_by_id(self, user_id: int, side_loaded: dict[int, _User]) -> Person:
        """The user from the list's side-loaded users, else one read (and remembered) per id."""
        if user_id in side_loaded:
            self._people[user_id] = _person(side_loaded[user_id])
        elif user_id not in self._people:
            user = await self._user(user_id)
            self._people[user_id] = (
                _person(user) if user else Person(id=str(user_id), name=f"When I Work user {user_id}")
            )
        return self._people[user_id]

    # -- leave types -----------------------------------------------------------------------------

    async def leave_types(self) -> list[LeaveType]:
        """The account's enabled request types; the four built-in types where it has none."""
        try:
            listed = await self._json("GET", "/requesttypes", _RequestTypes)
        except ProviderNotFound:
            types: list[_RequestType] = []
        else:
            types = [t for t in listed.request_types if t.enabled and not t.is_deleted]
        self._type_names = {t.id: t.name for t in types}
        self._types_read_at = time.monotonic()
        return [LeaveType(id=str(t.id), name=t.name) for t in types] or list(self.built_in_types)

    async def _type_name(self, request: _Request) -> str | None:
        if request.type_label:
            return request.type_label
        if request.type_id:
            if time.monotonic() - self._types_read_at > TYPES_FRESH_FOR:
                await self.leave_types()
            if request.type_id in self._type_names:
                return self._type_names[request.type_id]
        return BUILT_IN_TYPES.get(request.type) if request.type is not None else None

    # -- bookings --------------------------------------------------------------------------------

    async def submit(self, request: HolidayRequest) -> Booking:
        """Create the request pending, with explicit offsets; the reason follows as a message on it."""
        leave_type = request.leave_type or next(iter(await self.leave_types()), None)
        zone = await self._account_zone()
        start, end = _times(request, self._parts, zone)
        body: dict[str, Any] = {
            "user_id": _number(request.requester.id, "user", self.name),
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "status": PENDING,
            **_type_field(leave_type),
        }
        created = (await self._json("POST", "/requests", _RequestEnvelope, json=body)).request
        if request.reason.strip():
            await self._post_message(created.id, Assumed.REASON_TITLE, request.reason)
        return Booking(id=str(created.id), status=_status(created))

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Pending and accepted requests touching ``start``..``end``."""
        return await self._absences(start, end, {})

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's pending and accepted requests (the list's ``user_id`` filter)."""
        return await self._absences(start, end, {"user_id": _number(person.id, "user", self.name)})

    async def _absences(self, start: date, end: date, only: dict[str, Any]) -> list[Absence]:
        zone = await self._account_zone()
        margin = timedelta(days=Assumed.LIST_MARGIN_DAYS)
        params = {"start": (start - margin).isoformat(), "end": (end + margin).isoformat(), **only}
        requests, users = await self._requests(params)
        found = []
        for request in requests:
            if request.state not in (PENDING, ACCEPTED):
                continue
            absence = await self._absence(request, users, zone)
            if absence is not None and absence.start_date <= end and absence.end_date >= start:
                found.append(absence)
        return sorted(found, key=lambda a: (a.start_date, int(a.id)))

    async def booking(self, booking_id: str) -> BookingState | None:
        """The request whatever its status (``GET /requests/{id}``); ProviderNotFound once deleted."""
        absence = await self._absence(
            await self._request_by_id(int(booking_id)), {}, await self._account_zone()
        )
        return BookingState(absence=absence) if absence else None

    async def _absence(self, request: _Request, users: dict[int, _User], zone: ZoneInfo) -> Absence | None:
        """The request as an absence; None for times our model cannot hold."""
        try:
            span = LeaveSpan(**_span(request.start_time, request.end_time, self._parts, zone))
        except ValidationError:  # a shape our model cannot hold (hours over several days, say)
            log.warning("skipping When I Work request %s: its times cannot be read", request.id)
            return None
        return Absence(
            id=str(request.id),
            person=await self._person_by_id(request.user_id, users),
            status=_status(request),
            leave_type=await self._type_name(request),
            **dict(span),
        )

    async def _requests(self, params: dict[str, Any]) -> tuple[list[_Request], dict[int, _User]]:
        """Every page of a requests query, from page 0 while ``more``, with the side-loaded users."""
        requests: dict[int, _Request] = {}
        users: dict[int, _User] = {}
        for page in range(MAX_PAGES):
            query = {**params, "page": page, "limit": PAGE_SIZE}
            answer = await self._json("GET", "/requests", _RequestPage, params=query)
            fresh = {r.id: r for r in answer.requests if r.id not in requests}
            requests |= fresh
            users |= {u.id: u for u in answer.users}
            if not answer.more or not fresh:
                break
        return list(requests.values()), users

    async def _request_by_id(self, request_id: int) -> _Request:
        return (await self._json("GET", f"/requests/{request_id}", _RequestEnvelope)).request

    # -- decisions -------------------------------------------------------------------------------

    async def approve(self, booking_id: str) -> Outcome:
        """Accept: ``PUT /requests/{id}`` with status 2."""
        return await self._move(booking_id, ACCEPTED)

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """Deny (status 4); the reason is posted as a message on the request, which its requester sees."""
        outcome = await self._move(booking_id, DENIED)
        if not outcome.already_actioned and reason.strip():
            await self._post_message(_number(booking_id, "request", self.name), Assumed.DECLINE_TITLE, reason)
        return outcome

    async def cancel(self, booking_id: str) -> Outcome:
        """Cancel (status 1), pending or accepted."""
        return await self._move(booking_id, CANCELED)

    async def _move(self, booking_id: str, target: int) -> Outcome:
        """Set a status once: a request no longer open to the change reports where it stands now."""
        request_id = _number(booking_id, "request", self.name)
        before = await self._request_by_id(request_id)
        open_states = (PENDING, ACCEPTED) if target == CANCELED else (PENDING,)
        if before.state not in open_states:
            return Outcome(status=_status(before), already_actioned=True)
        try:
            await self._json("PUT", f"/requests/{request_id}", Any, json={"status": target})
        except ProviderRejected:
            # Refused: someone moved it between our read and our write (a racing click, or a
            # manager in When I Work). Report the state it is in now; refuse anything else as it came.
            now = await self._request_by_id(request_id)
            if now.state == before.state:
                raise
            return Outcome(status=_status(now), already_actioned=True)
        return Outcome(status=STATUS[target])

    async def _post_message(self, request_id: int, title: str, content: str) -> None:
        """Attach words to a request; the decision stands even if they cannot be attached."""
        body = {"request_id": request_id, "title": title, "content": content}
        try:
            await self._json("POST", Assumed.MESSAGES_PATH, Any, json=body)
        except ProviderError as exc:
            log.warning("could not attach a message to When I Work request %s: %s", request_id, exc.message)


def _shares_location(user: _User, requester: _User) -> bool:
    return bool(set(user.locations) & set(requester.locations))


def _manages(user: _User, requester: _User) -> bool:
    """A manager of one of the requester's locations, for someone below a manager."""
    below_manager = requester.role in (EMPLOYEE, LEAD, SUPERVISOR)
    return user.role == MANAGER and below_manager and _shares_location(user, requester)


def _supervises(user: _User, requester: _User) -> bool:
    """A supervisor of one of the requester's locations, for an employee, lead or another supervisor."""
    below_manager = requester.role in (EMPLOYEE, LEAD, SUPERVISOR)
    return user.role == SUPERVISOR and below_manager and _shares_location(user, requester)


def _type_field(leave_type: LeaveType | None) -> dict[str, int]:
    """A request type as ``type_id``; a built-in one as the deprecated ``type`` code."""
    if leave_type is None:
        return {}
    if leave_type.id.startswith(BUILT_IN_PREFIX):
        return {"type": int(leave_type.id.removeprefix(BUILT_IN_PREFIX))}
    return {"type_id": int(leave_type.id)} if leave_type.id.isdigit() else {}


def _number(value: str, kind: str, provider: str) -> int:
    if not value.isdigit():
        raise ProviderNotFound(f"When I Work has no {kind} {value!r}", provider=provider)
    return int(value)
