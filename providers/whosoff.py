"""WhosOff: nonce/SHA-512 sign-in with renewable tokens, the Data/Errors envelope, approval kept by the bot.

Verified against WhosOff's API document (the seed) and its v4 pages as gathered in the reference:
signing in with credentials or an access token (a fresh nonce every time, ``secret =
SHA512(nonce + client secret)``, app id, IP address), ``Authorization: Bearer`` plus ``app-id`` on
every call, ``TOK004`` (HTTP 400) for a token no longer valid, gzip bodies, the
``{"Data": …, "Errors": [{"Code", "Message"}]}`` envelope, end-exclusive times with AM =
00:00–12:00, PM = 12:00–24:00 and hours in 15-minute steps, minutes for allowances and work patterns.

Not in the public documents, and so decided here: no approve or decline route is published, so
leavebot keeps the approval and books approved leave as an admin once an approver approves; the
routes, request bodies and answer fields marked *[inferred]* below. Every route sits in ``ROUTES``
and every inferred body in the ``_…_body`` functions under it, so a real tenant corrects them in
one place. Vendor JSON is read into the private ``_`` models and turned into normalized models by
one function each; no WhosOff field name leaves this module.
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import httpx
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from providers.base import ApprovalMode, Capabilities, LeaveProvider, SessionAuth, SessionProvider
from providers.bot_kept import BotKeptApproval
from providers.directory import Directory
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderResponseError,
)
from providers.models import (
    Absence,
    Balance,
    Booking,
    HolidayRequest,
    LeaveSpan,
    LeaveType,
    Outcome,
    Part,
    Person,
    Status,
    format_minute,
)

log = logging.getLogger(__name__)

# == What the documents leave open: correct these against a real tenant ==============================


@dataclass(frozen=True)
class Route:
    """One WhosOff call: its method and its path under WHOSOFF_BASE_URL."""

    method: str
    path: str


@dataclass(frozen=True)
class Routes:
    """Every route leavebot calls. [C] = on WhosOff's v4 pages; [I] = inferred, verify in the sandbox."""

    sign_in: Route = Route("POST", "/v4/authenticate/with-credentials")  # [C] (the seed's curl says GET)
    renew: Route = Route("POST", "/v4/authenticate/with-access-token")  # [C] route; v4 prefix and POST [I]
    validate: Route = Route("POST", "/v4/leave/validate")  # [C]
    submit: Route = Route("POST", "/v4/leave/submit")  # [C] route; body as validate's [I]
    leave: Route = Route("GET", "/v4/leave/get-by-id/{leave_id}")  # [C]
    cancel: Route = Route("POST", "/v4/leave/cancel")  # [I]: no cancel route is published
    whos_off: Route = Route("POST", "/v4/whosoff/retrieve")  # [C]
    users: Route = Route("POST", "/v4/user/retrieve")  # [C]
    leave_types: Route = Route("POST", "/v4/leave-type/retrieve")  # [C]
    allowances: Route = Route("POST", "/v4/user-allowance/retrieve")  # [I]: only 'create' is published


ROUTES = Routes()


def _leave_body(
    user_id: int, leave_type_id: int, start: datetime, end: datetime, note: str
) -> dict[str, Any]:
    """For leave/validate [C] and leave/submit [I: the same fields]; ``admin: true`` books it approved [I]."""
    return {
        "user_id": user_id,
        "leave_type_id": leave_type_id,
        "start_date": _stamp(start),
        "end_date": _stamp(end),
        "admin": True,  # leavebot's approver has already approved: book it as an admin booking
        "note": note[:500],  # "note (≤500)" [C]
    }


def _cancel_body(leave_id: int) -> dict[str, Any]:
    """For ROUTES.cancel [I]."""
    return {"leave_id": leave_id}


def _allowances_body(user_id: int) -> dict[str, Any]:
    """For ROUTES.allowances [I]."""
    return {"user_id": user_id}


def _users_body() -> dict[str, Any]:
    """Every active user of the company: map type 0 (company) and status 1 (active) [C]; map_id 0 [I]."""
    return {"map_type_id": COMPANY, "map_id": 0, "status_id": 1}


def _whos_off_body(start: date, end: date, map_type: int, map_id: int, *, only_off: bool) -> dict[str, Any]:
    """For whosoff/retrieve [C fields]; map_id 0 for the whole company [I]."""
    return {
        "map_type_id": map_type,
        "map_id": map_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "include_free_restricted": False,
        "include_only_whosoff": only_off,
    }


# Leave record status_id values [I]; the list filters document 1 pending, 100 approved, 900 cancelled,
# 930 declined, so records presumably carry the same numbers.
STATUS_OF = {1: Status.PENDING, 100: Status.APPROVED, 900: Status.CANCELLED, 930: Status.DECLINED}
APPROVED, CANCELLED = 100, 900
COMPANY, STAFF = 0, 3  # map_type_id [C]
SUPER_USER = 300  # user_type_id [C]: the approvers of last resort for someone whom nobody approves [I]

# -- fixed values ----------------------------------------------------------------------------------------

TOKEN_INVALID = "TOK004"  # HTTP 400 {"Code": "TOK004", "Message": "Invalid Token"}
QUARTER_HOUR = 15  # "15-minute increments only"
MAX_RANGE_DAYS = 365  # "Date range can only be for a maximum of 365 days" (004a): longer ranges are split
NOON = timedelta(hours=12)
RENEW_BEFORE = timedelta(minutes=2)  # renew a token this long before token_expiry_date
USERS_FRESH_FOR = 3600.0  # seconds the user list is trusted (approvers change rarely)
REFRESH_AFTER_MISS = 10.0  # seconds: an unknown e-mail or leave type re-reads its list at most this often
LEAVE_TYPES_FRESH_FOR = 3600.0


class WhosOffRejected(ProviderRejected):
    """WhosOff answered with a non-empty ``Errors`` list; ``code`` is its first error's code."""

    def __init__(self, errors: list[tuple[str, str]], *, provider: str) -> None:
        words = "; ".join(f"{message or 'no message'} (WhosOff {code})" for code, message in errors)
        super().__init__(words, provider=provider)
        self.errors = errors
        self.code = errors[0][0]


# -- WhosOff's JSON ------------------------------------------------------------------------------------


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _keys_in_lower_case(cls, data: Any) -> Any:
        # The document writes keys both ways ("Data", "Code", "Record_ID", "Name" beside
        # "access_token", "user_id"): read them whatever their case.
        return {str(k).lower(): v for k, v in data.items()} if isinstance(data, dict) else data


class _Error(_Vendor):
    code: str | int = ""
    message: str = ""


class _Envelope(_Vendor):
    data: Any = None
    errors: list[_Error] | None = None


class _Token(_Vendor):
    access_token: str
    token_expiry_date: datetime | None = None


class _User(_Vendor):
    user_id: int
    first_name: str = ""
    last_name: str = ""
    # ``email_address`` in the sign-in answer, ``email_contact`` when creating a user [C]
    email: str | None = Field(default=None, validation_alias=AliasChoices("email_address", "email_contact"))
    user_type_id: int = 100
    department_name: str | None = None  # [I]
    approver_id: int | None = None
    notifier_2_id: int | None = None
    notifier_3_id: int | None = None


class _SignedIn(_Vendor):
    token: _Token  # nesting under Data [I]
    user: _User | None = None


class _LeaveType(_Vendor):
    leave_type_id: int = Field(validation_alias=AliasChoices("leave_type_id", "id"))  # [I]
    name: str


class _Leave(_Vendor):
    leave_id: int = Field(validation_alias=AliasChoices("leave_id", "record_id", "id"))  # [I]
    user_id: int | None = None
    leave_type_id: int | None = None
    start_date: datetime
    end_date: datetime
    status_id: int = APPROVED  # [I] who's off lists approved leave unless told otherwise


class _Work(_Vendor):
    """Minutes worked on each weekday [C: minutes; field names I]."""

    monday: int = 0
    tuesday: int = 0
    wednesday: int = 0
    thursday: int = 0
    friday: int = 0
    saturday: int = 0
    sunday: int = 0

    def minutes_per_day(self) -> float | None:
        days = [m for m in (self.monday, self.tuesday, self.wednesday, self.thursday, self.friday) if m > 0]
        days += [m for m in (self.saturday, self.sunday) if m > 0]
        return sum(days) / len(days) if days else None


class _Off(_Vendor):
    """One person in whosoff/retrieve's answer: their work pattern and leave [C]; field names [I]."""

    user_id: int
    first_name: str = ""
    last_name: str = ""
    work: _Work | None = None
    leave: list[_Leave] = []


class _Allowance(_Vendor):
    """One allowance year, in minutes [C: the create route's fields]."""

    start_date: datetime
    opening: int = 0
    remaining: int = 0
    carryover_remaining: int = 0


# -- one conversion per entity --------------------------------------------------------------------------


def _person(user: _User) -> Person:
    name = f"{user.first_name} {user.last_name}".strip() or f"WhosOff user {user.user_id}"
    email = (user.email or "").strip().lower() or None
    return Person(id=str(user.user_id), name=name, email=email, department=user.department_name or None)


def _leave_type(leave_type: _LeaveType) -> LeaveType:
    return LeaveType(id=str(leave_type.leave_type_id), name=leave_type.name)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")  # as the document writes them: 2023-03-28T12:00


def _moment(day: date, part: Part, *, end: bool) -> datetime:
    """Where a part starts or ends: AM is 00:00–12:00, PM 12:00–24:00, and an end is exclusive."""
    midnight = datetime.combine(day, dt_time())
    if isinstance(part, int):
        return midnight + timedelta(minutes=part)
    if end:
        return midnight + (NOON if part == "AM" else timedelta(days=1))
    return midnight + (NOON if part == "PM" else timedelta())


def _times(leave: LeaveSpan) -> tuple[datetime, datetime]:
    """A span as WhosOff's start and (exclusive) end."""
    return _moment(leave.start_date, leave.start, end=False), _moment(leave.end_date, leave.end, end=True)


def _span(start: datetime, end: datetime) -> tuple[date, Part, date, Part]:
    """WhosOff's start and exclusive end read back as dates and parts (the inverse of ``_times``)."""
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    half_days = all(m.time() in (dt_time(0), dt_time(12)) for m in (start, end))
    if not half_days:  # hours on one day; 00:00–12:00 or 12:00–24:00 in hours read back as AM or PM
        return start.date(), _minute(start), end.date(), _minute(end)
    first: Part = "PM" if start.hour == 12 else "AM"
    if end.hour == 12:
        return start.date(), first, end.date(), "AM"
    return start.date(), first, (end - timedelta(days=1)).date(), "PM"


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _absence(leave: _Leave, person: Person, leave_type: str | None) -> Absence:
    start_date, start, end_date, end = _span(leave.start_date, leave.end_date)
    return Absence(
        id=str(leave.leave_id),
        person=person,
        start_date=start_date,
        end_date=end_date,
        start=start,
        end=end,
        status=STATUS_OF.get(leave.status_id, Status.APPROVED),
        leave_type=leave_type,
    )


def _off_quarter_hour(leave: LeaveSpan) -> int | None:
    """The first time of an hourly span that is not on a quarter hour, if any."""
    return next((p for p in (leave.start, leave.end) if isinstance(p, int) and p % QUARTER_HOUR), None)


def _new_leave_id(data: Any) -> int | None:
    """The id of a booking just made: ``{"leave_id": 5}`` or, as the typical response shows, ``[{"Record_ID": "5"}]``."""
    record = data[0] if isinstance(data, list) and data else data
    if isinstance(record, dict):
        keys = {str(k).lower(): v for k, v in record.items()}
        record = keys.get("leave_id", keys.get("record_id"))
    return int(record) if isinstance(record, int | str) and str(record).isdigit() else None


class _AccessToken(SessionAuth["WhosOffProvider"]):
    """WhosOff's session: an access token from signing in (renewed with itself), with the app id on every call."""

    _token: SecretStr | None = None
    _expires: datetime | None = None

    async def sign_in(self) -> None:
        """Renew with the access token while there is one; else (or if refused) sign in with credentials."""
        if self._token is not None:
            try:
                await self._authenticate(ROUTES.renew, {"access_token": self._token.get_secret_value()})
                return
            except (ProviderAuthError, ProviderNotFound):
                log.info("WhosOff did not renew the access token; signing in with credentials")
        config = self.provider.config
        credentials = {"username": config.username, "password": config.password.get_secret_value()}
        await self._authenticate(ROUTES.sign_in, credentials | {"delay": False})

    async def _authenticate(self, route: Route, credentials: dict[str, Any]) -> None:
        provider, config = self.provider, self.provider.config
        nonce = uuid.uuid4().hex  # 32 characters, never reused
        secret = hashlib.sha512((nonce + config.client_secret.get_secret_value()).encode()).hexdigest()
        body = credentials | {
            "ip_address": config.ip_address,
            "nonce": nonce,
            "secret": secret,
            "app_id": config.app_id,
        }
        try:
            signed_in = await provider._json(
                route.method,
                route.path,
                _SignedIn,
                session=False,
                json=body,
                headers={"app-id": config.app_id},
            )
        except ProviderRejected as exc:  # a 400 with WhosOff's code: the sign-in itself was refused
            raise ProviderAuthError(
                f"WhosOff refused to sign in: {exc.message} ({provider.auth_hint})", provider=provider.name
            ) from exc
        self._token = SecretStr(signed_in.token.access_token)
        expiry = signed_in.token.token_expiry_date
        # An expiry without an offset is read as UTC [inferred].
        self._expires = expiry.replace(tzinfo=UTC) if expiry and expiry.tzinfo is None else expiry

    def headers(self) -> dict[str, str]:
        token = self._token.get_secret_value() if self._token else ""
        return {"Authorization": f"Bearer {token}", "app-id": self.provider.config.app_id}

    def fresh(self) -> bool:
        return self._expires is None or datetime.now(UTC) < self._expires - RENEW_BEFORE

    def expired(self, response: httpx.Response) -> bool:
        if response.status_code == 401:
            return True
        codes = [code for code, _ in self.provider._errors(response)]
        return response.status_code == 400 and TOKEN_INVALID in codes


class WhosOffProvider(BotKeptApproval, SessionProvider):
    """WhosOff signs leavebot in per token; the bot keeps the approval and books approved leave as an admin."""

    name = "whosoff"
    display_name = "WhosOff"
    approvers_field = "the user's Approver"
    capabilities = Capabilities(approval=ApprovalMode.BOT, half_days=True, hourly=True, balances=True)
    auth_hint = (
        "check WHOSOFF_USERNAME, WHOSOFF_PASSWORD, WHOSOFF_APP_ID and WHOSOFF_CLIENT_SECRET, and that "
        "WHOSOFF_IP_ADDRESS is allowed under Company settings → API Access"
    )
    Session = _AccessToken

    class Config(LeaveProvider.Config):
        """``WHOSOFF_*``: the API root, the app's id and client secret, a Super User's sign-in, the public IP."""

        base_url: str
        app_id: str
        client_secret: SecretStr
        username: str
        password: SecretStr
        ip_address: str
        # WhosOff's second and third notifiers may approve in Slack too.
        notifiers_approve: bool = False

        @field_validator("base_url")
        @classmethod
        def _http_url(cls, value: str) -> str:
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http(s) URL: the API root from WhosOff's Company settings")
            # Company settings may show the root with or without the version: the routes add "/v4".
            return value.rstrip("/").removesuffix("/v4")

        @field_validator("ip_address")
        @classmethod
        def _ip(cls, value: str) -> str:
            try:
                return str(ipaddress.ip_address(value.strip()))
            except ValueError:
                raise ValueError(
                    "must be the public IP address WhosOff allows, such as 203.0.113.7"
                ) from None

    config: Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._users = Directory(
            self._read_users,
            key=lambda u: u.user_id,
            email=lambda u: u.email,
            fresh_for=USERS_FRESH_FOR,
            refresh_after_miss=lambda: REFRESH_AFTER_MISS,
        )
        self._type_names: dict[int, str] = {}
        self._types_read_at = -math.inf

    # -- HTTP ------------------------------------------------------------------------------------

    async def _call(self, route: Route, body: dict[str, Any] | None = None, **path: Any) -> Any:
        """One signed call; WhosOff's ``Data``."""
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        return await self._json(route.method, route.path.format(**path), Any, **kwargs)

    def _body(self, response: httpx.Response) -> Any:
        content = response.content
        # httpx undoes a declared gzip; a body still starting with gzip's magic bytes was gzipped
        # without saying so in Content-Encoding, which the document tells clients to check.
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
        return json.loads(content)

    def _envelope(self, response: httpx.Response) -> _Envelope | None:
        try:
            return _Envelope.model_validate(self._body(response))
        except (ValueError, OSError, EOFError, ValidationError):
            return None

    def _errors(self, response: httpx.Response) -> list[tuple[str, str]]:
        envelope = self._envelope(response)
        return [(str(e.code), e.message.strip()) for e in (envelope.errors or [])] if envelope else []

    def _decode(self, response: httpx.Response, path: str) -> Any:
        """WhosOff's ``Data``, out of its envelope."""
        envelope = self._envelope(response)
        if envelope is None:
            raise ProviderResponseError(
                "WhosOff answered with something that is not its JSON envelope", provider=self.name
            )
        return envelope.data

    def _check(self, response: httpx.Response) -> httpx.Response:
        """A non-empty ``Errors`` (on 200 or 400) is WhosOff refusing, in its own words and code."""
        errors = self._errors(response)
        if errors and response.status_code in (200, 400):
            raise WhosOffRejected(errors, provider=self.name)
        return super()._check(response)

    def _error_detail(self, response: httpx.Response) -> str:
        errors = self._errors(response)
        return "; ".join(f"{m} ({c})" for c, m in errors) if errors else response.text.strip()[:300]

    # -- people ----------------------------------------------------------------------------------

    async def _read_users(self) -> list[_User]:
        """Every active user."""
        return self._parse(list[_User], await self._call(ROUTES.users, _users_body()) or [])

    async def find_person(self, email: str) -> Person:
        """The WhosOff user with this e-mail address, whatever its case."""
        user = await self._users.find(email)
        if user is None:
            raise ProviderNotFound(f"WhosOff has no user with the e-mail address {email}", provider=self.name)
        return _person(user)

    async def approvers(self, person: Person) -> list[Person]:
        """The user's WhosOff approver (and notifiers, if configured); Super Users when nobody else is named [I]."""
        user = await self._users.get(_number(person.id, "user", self.name))
        if user is None:
            raise ProviderNotFound(f"WhosOff has no user {person.id}", provider=self.name)
        users = self._users.known()
        named = [user.approver_id]
        if self.config.notifiers_approve:
            named += [user.notifier_2_id, user.notifier_3_id]
        chosen = [i for i in named if i and i != user.user_id and i in users]
        if not chosen:
            chosen = [
                u.user_id
                for u in users.values()
                if u.user_type_id >= SUPER_USER and u.user_id != user.user_id
            ]
        return [_person(users[i]) for i in dict.fromkeys(chosen)]

    async def escalation_approvers(self, person: Person) -> list[Person]:
        """The user's second and third notifiers not approving already; [] with WHOSOFF_NOTIFIERS_APPROVE."""
        if self.config.notifiers_approve:  # the notifiers were asked with the approver: nobody is left
            return []
        user = await self._users.get(_number(person.id, "user", self.name))
        if user is None:
            raise ProviderNotFound(f"WhosOff has no user {person.id}", provider=self.name)
        approvers = {p.id for p in await self.approvers(person)}
        users = self._users.known()
        notifiers = dict.fromkeys(i for i in (user.notifier_2_id, user.notifier_3_id) if i in users)
        return [_person(users[i]) for i in notifiers if i != user.user_id and str(i) not in approvers]

    async def balance(self, person: Person) -> Balance | None:
        """The current allowance year's remaining minutes (with carry-over), in days by the work pattern."""
        user_id = _number(person.id, "user", self.name)
        allowances = self._parse(
            list[_Allowance], await self._call(ROUTES.allowances, _allowances_body(user_id)) or []
        )
        today = date.today()
        current = [a for a in allowances if a.start_date.date() <= today]
        if not current:
            return None
        year = max(current, key=lambda a: a.start_date)
        minutes = year.remaining + year.carryover_remaining
        me = next(iter(await self._whos_off(today, today, STAFF, user_id, only_off=False)), None)
        per_day = me.work.minutes_per_day() if me and me.work else None
        if per_day:
            return Balance(remaining=round(minutes / per_day, 2), unit="days")
        return Balance(remaining=round(minutes / 60, 2), unit="hours")

    # -- leave types -------------------------------------------------------------------------------

    async def leave_types(self) -> list[LeaveType]:
        """WhosOff's leave types, in its order."""
        types = self._parse(list[_LeaveType], await self._call(ROUTES.leave_types, {"status_id": "0"}) or [])
        self._type_names = {t.leave_type_id: t.name for t in types}
        self._types_read_at = time.monotonic()
        return [_leave_type(t) for t in types]

    async def _type_name(self, leave_type_id: int | None) -> str | None:
        """A leave type's name, from types read within the hour (re-read on a miss, at most so often)."""
        age = time.monotonic() - self._types_read_at
        missing = leave_type_id not in self._type_names and age > REFRESH_AFTER_MISS
        if leave_type_id is not None and (age > LEAVE_TYPES_FRESH_FOR or missing):
            await self.leave_types()
        return self._type_names.get(leave_type_id) if leave_type_id is not None else None

    # -- booking -----------------------------------------------------------------------------------

    async def validate(self, request: HolidayRequest) -> None:
        """Ask leave/validate now, so a refusal reaches the requester before any approver sees the request."""
        await self._call(ROUTES.validate, await self._booking_body(request))

    async def submit(self, request: HolidayRequest) -> Booking:
        """Book approved leave (called once an approver approved): leave/validate, then leave/submit as admin."""
        body = await self._booking_body(request)
        await self._call(ROUTES.validate, body)
        leave_id = _new_leave_id(await self._call(ROUTES.submit, body))
        if leave_id is None:
            raise ProviderError("WhosOff took the booking but did not say its id", provider=self.name)
        return Booking(id=str(leave_id), status=Status.APPROVED)

    async def _booking_body(self, request: HolidayRequest) -> dict[str, Any]:
        off = _off_quarter_hour(request)
        if off is not None:
            earlier = off - off % QUARTER_HOUR
            raise ProviderRejected(
                f"WhosOff books hours in 15-minute steps: {format_minute(off)} is not one "
                f"(try {format_minute(earlier)} or {format_minute(earlier + QUARTER_HOUR)}).",
                provider=self.name,
            )
        leave_type = request.leave_type or next(iter(await self.leave_types()), None)
        if leave_type is None:
            raise ProviderRejected("WhosOff has no leave types to book", provider=self.name)
        user_id = _number(request.requester.id, "user", self.name)
        start, end = _times(request)
        return _leave_body(
            user_id, _number(leave_type.id, "leave type", self.name), start, end, request.reason
        )

    async def cancel(self, booking_id: str) -> Outcome:
        """Withdraw approved leave (ROUTES.cancel, inferred); a booking already cancelled says so."""
        leave_id = _number(booking_id, "booking", self.name)
        leave = await self._leave(leave_id)
        if leave is None:
            raise ProviderNotFound(f"WhosOff has no booking {leave_id}", provider=self.name)
        if leave.status_id == CANCELLED:
            return Outcome(status=Status.CANCELLED, already_actioned=True)
        try:
            await self._call(ROUTES.cancel, _cancel_body(leave_id))
        except ProviderNotFound as exc:  # the booking exists: it is the route that WhosOff does not know
            raise ProviderError(
                f"WhosOff has no cancel route at {ROUTES.cancel.path} (an inferred route: correct ROUTES "
                "in providers/whosoff.py); cancel the leave in WhosOff itself",
                provider=self.name,
            ) from exc
        return Outcome(status=Status.CANCELLED)

    async def _leave(self, leave_id: int) -> _Leave | None:
        data = await self._call(ROUTES.leave, leave_id=leave_id)
        record = data[0] if isinstance(data, list) and data else data
        return self._parse(_Leave, record) if record else None

    # -- listing -----------------------------------------------------------------------------------

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Pending and approved leave touching ``start``..``end``, from whosoff/retrieve for the company."""
        return await self._absences(start, end, COMPANY, 0)

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's leave touching ``start``..``end`` (whosoff/retrieve for one member of staff)."""
        return await self._absences(start, end, STAFF, _number(person.id, "user", self.name))

    async def _absences(self, start: date, end: date, map_type: int, map_id: int) -> list[Absence]:
        """Asked for in spans of at most 365 days (WhosOff refuses longer with 004a); a leave that
        crosses from one span into the next is kept once."""
        found: dict[str, Absence] = {}
        while start <= end:
            last = min(end, start + timedelta(days=MAX_RANGE_DAYS - 1))
            for absence in await self._absences_in(start, last, map_type, map_id):
                found.setdefault(absence.id, absence)
            start = last + timedelta(days=1)
        return list(found.values())

    async def _absences_in(self, start: date, end: date, map_type: int, map_id: int) -> list[Absence]:
        people = await self._whos_off(start, end, map_type, map_id, only_off=True)
        users = await self._users.everyone()
        absences = []
        for off in people:
            user = users.get(off.user_id)
            person = (
                _person(user)
                if user
                else _person(_User(user_id=off.user_id, first_name=off.first_name, last_name=off.last_name))
            )
            for leave in off.leave:
                try:
                    absence = _absence(leave, person, await self._type_name(leave.leave_type_id))
                except ValidationError:  # a shape our model cannot hold (say, hours past midnight)
                    log.warning("skipping WhosOff leave %s: its times cannot be read", leave.leave_id)
                    continue
                if (
                    absence.status in (Status.PENDING, Status.APPROVED)
                    and absence.start_date <= end
                    and absence.end_date >= start
                ):
                    absences.append(absence)
        return sorted(absences, key=lambda a: (a.start_date, int(a.id)))

    async def _whos_off(
        self, start: date, end: date, map_type: int, map_id: int, *, only_off: bool
    ) -> list[_Off]:
        body = _whos_off_body(start, end, map_type, map_id, only_off=only_off)
        return self._parse(list[_Off], await self._call(ROUTES.whos_off, body) or [])


def _number(value: str, what: str, provider: str) -> int:
    if not value.isdigit():
        raise ProviderNotFound(f"{value!r} is not a WhosOff {what} id", provider=provider)
    return int(value)
