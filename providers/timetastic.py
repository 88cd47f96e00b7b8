"""Timetastic: native approvals, webhooks, balances and public holidays over its REST API.

Everything here follows Timetastic's API document; what it leaves open is marked
*[inferred]* where it is decided (docs/providers.md's Timetastic section lists both).
Vendor JSON is read into the private ``_`` models below and turned into the
normalized models by one function each; no Timetastic field name leaves this module.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import time
from collections.abc import Generator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from providers.base import ApprovalMode, Capabilities, HttpProvider, LeaveProvider, RateLimit
from providers.directory import Directory
from providers.errors import ProviderError, ProviderNotFound, ProviderRejected
from providers.models import (
    Absence,
    Balance,
    Booking,
    BookingEvent,
    BookingState,
    HolidayRequest,
    LeaveType,
    Outcome,
    Part,
    Person,
    PublicHoliday,
    Status,
    part_to_text,
)

log = logging.getLogger(__name__)

BASE_URL = "https://app.timetastic.co.uk/api"
PAGE_SIZE = 100  # "You are limited to 100 holidays in any response"
PENDING_OR_APPROVED = (
    1 | 2
)  # the holidays list's Status bit mask: Pending 1, Approved 2, Cancelled 4, Declined 8
APPROVE, DECLINE, DELETE = 0, 1, 2  # holidayUpdateAction
USERS_FRESH_FOR = 3600.0  # seconds the user list is trusted (approvers change rarely)
PUBLIC_HOLIDAYS_FRESH_FOR = 12 * 3600.0
SECRET_HEADER = "timetastic-secret"
TEST_RECORD_ID = -99999  # "Test events will always have a record ID of -99999"
EVENT_TYPES = [  # webhook event ids, in the document's order
    "TestEvent",
    "AbsenceRequested",
    "AbsenceApproved",
    "AbsenceDeclined",
    "AbsenceCancelled",
    "AbsenceBooked",
]
STATUS_OF_EVENT = {
    "AbsenceRequested": Status.PENDING,
    "AbsenceApproved": Status.APPROVED,
    "AbsenceDeclined": Status.DECLINED,
    "AbsenceCancelled": Status.CANCELLED,
    "AbsenceBooked": Status.APPROVED,
}
OVERRIDE_WORDS = {
    "override_required": "It would put more people off at once than the department allows; "
    "a Timetastic admin can book it with an override.",
    "override_locked_date_required": "Some of these dates are locked in Timetastic; "
    "ask a Timetastic admin to book it.",
    "override_accrued_allowance_required": "It needs more allowance than has been accrued so far; "
    "a Timetastic admin can book it with an override.",
}

# -- Timetastic's JSON, as the document describes it ------------------------------------------------


class _Vendor(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class _User(_Vendor):
    id: int
    firstname: str = ""
    surname: str = ""
    email: str | None = None
    admin: bool = False
    department_id: int | None = None
    department_name: str | None = None
    allowance_unit: str | None = None
    allowance_remaining: float | None = None
    approver_id: int | None = None
    dept_manager_id: int | None = None
    dept_boss_id: int | None = None  # the old name of deptManagerId, "may be removed in future"
    is_archived: bool = False
    has_public_holidays: bool = True
    country_code: str | None = None  # "the country this user is assigned to (for public holidays)"


class _Department(_Vendor):
    id: int
    name: str = ""
    manager_id: int | None = None
    boss_id: int | None = None  # the single-department answer's name for managerId
    max_off: int = 0  # the most people off at once; 0 means no limit


class _LeaveType(_Vendor):
    id: int
    name: str
    is_private: bool = False  # "Leave types with this set to false are public"


class _Holiday(_Vendor):
    id: int
    start_date: datetime
    start_type: str
    end_date: datetime
    end_type: str
    user_id: int
    user_name: str = ""
    leave_type: str | None = None
    status: str = ""
    reason: str | None = None
    decline_reason: str | None = None
    actioner_id: int | None = None
    updated_at: datetime | None = None


class _HolidayPage(_Vendor):
    holidays: list[_Holiday]
    total_records: int = 0
    next_page_link: str | None = None


class _BookingResult(_Vendor):
    success: bool
    response: str = ""
    auto_approved: bool = False
    holiday_id: int = 0
    override_required: bool = False
    override_locked_date_required: bool = False
    override_accrued_allowance_required: bool = False


class _ActionResult(_Vendor):
    approval_result: str
    message: str | None = None


class _PublicHoliday(_Vendor):
    name: str
    date: datetime
    country_code: str | None = None


class _PerformingUser(_Vendor):
    id: int
    fullname: str = ""


class _WebhookEvent(_Vendor):
    event_id: int
    event_type: str | int
    record_id: int
    performing_user: _PerformingUser | None = None
    record_data: _Holiday | None = None


# -- one conversion per entity --------------------------------------------------------------------


def _person(user: _User) -> Person:
    name = f"{user.firstname} {user.surname}".strip() or f"Timetastic user {user.id}"
    # Lower-cased: Slack and the bot's own tables match people by address, whatever its case.
    email = (user.email or "").strip().lower() or None
    return Person(id=str(user.id), name=name, email=email, department=user.department_name or None)


def _leave_type(leave_type: _LeaveType) -> LeaveType:
    return LeaveType(id=str(leave_type.id), name=leave_type.name, private=leave_type.is_private)


def _status(text: str) -> Status:
    return Status(text.strip().lower())  # 'Pending', 'Approved', 'Cancelled', 'Declined'


def _part(kind: str, moment: datetime) -> Part:
    # Start: Morning = from the start of the day, Afternoon = from lunchtime; end: Morning = to
    # lunchtime, Afternoon = to the end of the day; Hours = the time written in the date.
    if kind == "Hours":
        return moment.hour * 60 + moment.minute
    return "AM" if kind == "Morning" else "PM"


def _absence(holiday: _Holiday, person: Person, status: Status | None = None) -> Absence:
    return Absence(
        id=str(holiday.id),
        person=person,
        start_date=holiday.start_date.date(),
        end_date=holiday.end_date.date(),
        start=_part(holiday.start_type, holiday.start_date),
        end=_part(holiday.end_type, holiday.end_date),
        status=status or _status(holiday.status),
        leave_type=holiday.leave_type,
    )


def _public_holiday(holiday: _PublicHoliday) -> PublicHoliday:
    return PublicHoliday(day=holiday.date.date(), name=holiday.name, country=holiday.country_code or None)


def _refusal(result: _BookingResult) -> str:
    # A refused booking is HTTP 200 with success false; Timetastic's own words come first.
    words = [result.response.strip() or "Timetastic refused the booking."]
    words += [text for flag, text in OVERRIDE_WORDS.items() if getattr(result, flag)]
    return " ".join(words)


def _utc(moment: datetime) -> datetime:
    # Webhook times carry an offset; one without is read as UTC [inferred].
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _event_type(value: str | int) -> str:
    if isinstance(value, int):
        return EVENT_TYPES[value] if 0 <= value < len(EVENT_TYPES) else str(value)
    return value


class _Bearer(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


class TimetasticProvider(HttpProvider):
    """Timetastic books requests as pending and approves them itself; Slack mirrors its decisions."""

    name = "timetastic"
    display_name = "Timetastic"
    capabilities = Capabilities(approval=ApprovalMode.NATIVE, half_days=True, hourly=True, balances=True)
    # Documented: 5 requests per second per key; the window (run from each answer) 10% wider for its clock.
    rate_limit = RateLimit(calls=5, per=1.1)
    auth_hint = "the API token is wrong or was renewed in Timetastic: set TIMETASTIC_API_TOKEN"
    refresh_users_after_miss = 10.0  # seconds: an unknown e-mail re-reads the users at most this often

    class Config(LeaveProvider.Config):
        """``TIMETASTIC_API_TOKEN`` (an admin's token), base URL, webhook secret and approval options."""

        api_token: SecretStr
        base_url: str = BASE_URL
        webhook_secret: SecretStr | None = None
        # Timetastic admins may approve anyone's leave; offer them the Slack buttons too.
        admins_approve: bool = False
        # The holidays list filters "start after Start" and "end up to End", so a range query is
        # widened by the longest absence that must still be seen, then filtered here.
        longest_absence_days: int = Field(default=366, ge=1, le=3660)
        # Timetastic's own e-mails for a booking and its decision: leavebot already tells both sides in Slack.
        suppress_emails: bool = True

        @field_validator("base_url")
        @classmethod
        def _http_url(cls, value: str) -> str:
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http(s) URL such as https://app.timetastic.co.uk/api")
            return value.rstrip("/")

    config: Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auth = _Bearer(self.config.api_token)
        self._users = Directory(
            self._read_users,
            key=lambda u: u.id,
            email=lambda u: u.email,
            fresh_for=USERS_FRESH_FOR,
            refresh_after_miss=lambda: self.refresh_users_after_miss,
        )
        self._department_managers: dict[int, int] = {}
        self._department_limits: dict[str, int] = {}
        self._public_holidays: dict[int, tuple[float, list[PublicHoliday]]] = {}

    # -- people ----------------------------------------------------------------------------------

    async def _read_users(self) -> list[_User]:
        self._department_managers = {}  # read again with the users: managers change with them
        return await self._json("GET", "/users", list[_User])

    async def _person_by_id(self, user_id: int, fallback_name: str = "") -> Person:
        user = await self._users.get(user_id)
        return (
            _person(user)
            if user
            else Person(id=str(user_id), name=fallback_name or f"Timetastic user {user_id}")
        )

    async def find_person(self, email: str) -> Person:
        """The Timetastic user with this e-mail address, whatever its case."""
        user = await self._users.find(email)
        if user is None:
            raise ProviderNotFound(
                f"Timetastic has no user with the e-mail address {email}", provider=self.name
            )
        return _person(user)

    async def approvers(self, person: Person) -> list[Person]:
        """The approver Timetastic names (approverId, else the department's manager), plus admins if configured.

        Someone who would approve their own leave (a manager without an approver) falls back to
        the admins [inferred: Timetastic admins can approve anyone].
        """
        user = await self._users.get(_user_id(person.id, self.name))
        if user is None:
            raise ProviderNotFound(f"Timetastic has no user {person.id}", provider=self.name)
        users = self._users.known()
        named = [i for i in [await self._approver_id(user)] if i and i != user.id and i in users]
        admins = [u.id for u in users.values() if u.admin and u.id != user.id and not u.is_archived]
        chosen = named + admins if self.config.admins_approve or not named else named
        return [_person(users[i]) for i in dict.fromkeys(chosen)]

    async def escalation_approvers(self, person: Person) -> list[Person]:
        """The department's manager, where the person's own approverId names someone else.

        [inferred: a department's manager may approve their department's leave, as its default approver.]
        """
        user = await self._users.get(_user_id(person.id, self.name))
        if user is None:
            raise ProviderNotFound(f"Timetastic has no user {person.id}", provider=self.name)
        manager = await self._manager_id(user)
        if (
            not manager
            or manager in (user.id, await self._approver_id(user))
            or manager not in self._users.known()
        ):
            return []
        return [_person(self._users.known()[manager])]

    async def _approver_id(self, user: _User) -> int | None:
        # approverId 0 means "default to their department boss".
        return user.approver_id or await self._manager_id(user)

    async def _manager_id(self, user: _User) -> int | None:
        """The manager of the user's department, as the user's record or the department names them."""
        direct = user.dept_manager_id or user.dept_boss_id
        if direct or user.department_id is None:
            return direct
        await self._departments()
        return self._department_managers.get(user.department_id) or None

    async def _departments(self) -> None:
        """Read the departments' managers and limits once per reading of the users."""
        if not self._department_managers:
            departments = await self._json("GET", "/departments", list[_Department])
            self._department_managers = {d.id: d.manager_id or d.boss_id or 0 for d in departments}
            self._department_limits = {d.name: d.max_off for d in departments}

    async def max_off(self, department: str) -> int | None:
        """The department's "maxOff" (people off at once); None where it is 0, Timetastic's "no limit"."""
        await self._users.everyone()  # a stale user list also drops the departments, so they are re-read
        await self._departments()
        return self._department_limits.get(department) or None

    async def balance(self, person: Person) -> Balance | None:
        """The allowance remaining this leave year, in the user's own unit (days or hours)."""
        user = await self._json("GET", f"/users/{_user_id(person.id, self.name)}", _User)
        if user.allowance_remaining is None:
            return None
        unit = "hours" if (user.allowance_unit or "").lower() == "hours" else "days"
        return Balance(remaining=user.allowance_remaining, unit=unit)

    # -- leave types, public holidays ----------------------------------------------------------

    async def leave_types(self) -> list[LeaveType]:
        """Timetastic's leave types, in its order."""
        types = await self._json("GET", "/leavetypes", list[_LeaveType])
        return [_leave_type(t) for t in types]

    async def public_holidays(self, start: date, end: date) -> list[PublicHoliday]:
        """Public holidays of every set in the organisation, read per year and kept for hours."""
        found: list[PublicHoliday] = []
        for year in range(start.year, end.year + 1):
            found += [h for h in await self._public_holidays_of(year) if start <= h.day <= end]
        return sorted(dict.fromkeys(found), key=lambda h: (h.day, h.country or "", h.name))

    async def _public_holidays_of(self, year: int) -> list[PublicHoliday]:
        read_at, holidays = self._public_holidays.get(year, (-math.inf, []))
        if time.monotonic() - read_at > PUBLIC_HOLIDAYS_FRESH_FOR:
            listed = await self._json("GET", "/publicholidays", list[_PublicHoliday], params={"year": year})
            holidays = [_public_holiday(h) for h in listed]
            self._public_holidays[year] = (time.monotonic(), holidays)
        return holidays

    async def holiday_countries(self) -> dict[str, str | None]:
        """Each user's ``countryCode``, whose public holidays are theirs; None where ``hasPublicHolidays`` is off.

        Matched against the holidays' own ``countryCode`` [inferred: the set a user is given is their country's],
        so the digest's people cost the one kept user list, not a ``/publicholidays?userId=`` call each.
        """
        # The users as last read (approvers and people re-read them): `/leave who` never waits for Timetastic.
        users = (self._users.known() or await self._users.everyone()).values()
        # A user with holidays but no country is left out: the company's holidays are theirs.
        return {
            str(u.id): u.country_code if u.has_public_holidays else None
            for u in users
            if u.country_code or not u.has_public_holidays
        }

    # -- bookings --------------------------------------------------------------------------------

    async def submit(self, request: HolidayRequest) -> Booking:
        """Book as the requestee, so Timetastic's normal approval applies; a refusal carries its words."""
        leave_type = request.leave_type or next(iter(await self.leave_types()), None)
        if leave_type is None:
            raise ProviderRejected("Timetastic has no leave types to book", provider=self.name)
        body = {
            "from": request.start_date.isoformat(),
            "to": request.end_date.isoformat(),
            "fromTime": part_to_text(request.start),  # AM, PM, or minutes since midnight
            "toTime": part_to_text(request.end),
            "leaveTypeId": int(leave_type.id),
            "reason": request.reason,
            "userOrDepartmentId": _user_id(request.requester.id, self.name),
            "bookFor": 0,  # the user in userOrDepartmentId
            "bookAsRequestee": True,  # without it, the admin's token books it approved
            "suppressEmails": self.config.suppress_emails,
        }
        result = await self._json("POST", "/holidays", _BookingResult, json=body)
        if not result.success:
            raise ProviderRejected(_refusal(result), provider=self.name)
        return Booking(
            id=str(result.holiday_id), status=Status.APPROVED if result.auto_approved else Status.PENDING
        )

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Pending and approved bookings touching ``start``..``end``.

        Timetastic keeps bookings that *start after* ``Start`` and *end up to* ``End``, so one that
        began before ``start`` or runs past ``end`` would be missed: the query is widened on both
        sides by the longest absence and the overlap is checked here.
        """
        return await self._absences(start, end, {})

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's pending and approved bookings touching ``start``..``end`` (the list's UserIds filter)."""
        return await self._absences(start, end, {"UserIds": _user_id(person.id, self.name)})

    async def _absences(self, start: date, end: date, only: dict[str, Any]) -> list[Absence]:
        wider = timedelta(days=self.config.longest_absence_days)
        params = {
            "Start": (start - wider).isoformat(),
            "End": (end + wider).isoformat(),
            "Status": PENDING_OR_APPROVED,
            **only,
        }
        holidays = [
            h
            for h in await self._holidays(params)
            if h.start_date.date() <= end and h.end_date.date() >= start
        ]
        absences = []
        for holiday in holidays:
            person = await self._person_by_id(holiday.user_id, holiday.user_name)
            try:
                absences.append(_absence(holiday, person))
            except ValidationError:  # a shape our model cannot hold (say, hours over several days)
                log.warning("skipping Timetastic booking %s: its dates cannot be read", holiday.id)
        return sorted(absences, key=lambda a: (a.start_date, int(a.id)))

    async def booking(self, booking_id: str) -> BookingState:
        """The booking whatever its status, and who actioned it (GET /holidays/{id}); ProviderNotFound once deleted."""
        holiday = await self._holiday(int(booking_id))
        actor = await self._person_by_id(holiday.actioner_id) if holiday.actioner_id else None
        person = await self._person_by_id(holiday.user_id, holiday.user_name)
        return BookingState(absence=_absence(holiday, person), decided_by=actor)

    async def _holidays(self, params: dict[str, Any]) -> list[_Holiday]:
        """Every page of a holidays query: the first, then the rest at once (the limiter paces them)."""
        first = await self._json("GET", "/holidays", _HolidayPage, params=params)
        pages = [first]
        if first.next_page_link:
            count = math.ceil(first.total_records / PAGE_SIZE)
            pages += await asyncio.gather(*(self._page(params, n) for n in range(2, count + 1)))
        unique = {h.id: h for page in pages for h in page.holidays}  # a page may repeat one if data moved
        return list(unique.values())

    async def _page(self, params: dict[str, Any], number: int) -> _HolidayPage:
        return await self._json("GET", "/holidays", _HolidayPage, params={**params, "PageNumber": number})

    async def _holiday(self, holiday_id: int) -> _Holiday:
        return await self._json("GET", f"/holidays/{holiday_id}", _Holiday)

    # -- decisions ---------------------------------------------------------------------------------

    async def approve(self, booking_id: str) -> Outcome:
        """Approve through Timetastic's action endpoint."""
        return await self._action(booking_id, APPROVE, Status.APPROVED)

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """Decline with a reason, which Timetastic passes on to the requester."""
        return await self._action(booking_id, DECLINE, Status.DECLINED, {"reason": reason})

    async def cancel(self, booking_id: str) -> Outcome:
        """Delete the booking (Timetastic then reports it cancelled)."""
        return await self._action(booking_id, DELETE, Status.CANCELLED)

    async def _action(
        self, booking_id: str, action: int, target: Status, body: dict[str, str] | None = None
    ) -> Outcome:
        holiday_id = _booking_id(booking_id, self.name)
        path, query = f"/holidays/{holiday_id}", {"holidayUpdateAction": action}
        # The action's body takes suppressEmails too: the requestee is told of the update in Slack.
        options = {**(body or {}), "suppressEmails": self.config.suppress_emails}
        result = await self._json("POST", path, _ActionResult, params=query, json=options)
        said = f" ({result.message})" if result.message and result.message != "Successful" else ""
        match result.approval_result:
            case "Success":
                return Outcome(status=target)
            case "AlreadyActioned":
                # Someone decided first (in Timetastic, or another click): report the state it is in now.
                holiday = await self._holiday(holiday_id)
                actor = await self._person_by_id(holiday.actioner_id) if holiday.actioner_id else None
                return Outcome(
                    status=_status(holiday.status),
                    already_actioned=True,
                    message=result.message,
                    decided_by=actor,
                )
            case "DoesntExist":
                raise ProviderNotFound(f"Timetastic has no booking {holiday_id}{said}", provider=self.name)
            case "NotAllowed":
                raise ProviderRejected(
                    f"Timetastic did not allow leavebot's admin token to do this{said}", provider=self.name
                )
            case other:
                raise ProviderError(f"Timetastic could not do it: {other}{said}", provider=self.name)

    # -- webhooks ----------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str]) -> bool:
        """True when ``Timetastic-Secret`` equals TIMETASTIC_WEBHOOK_SECRET (compared in constant time)."""
        secret = self.config.webhook_secret
        sent = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), None)
        if secret is None or sent is None:
            return False
        # The document prints the header's value in quotes; accept it with or without [inferred].
        given = sent.strip().strip('"').encode()
        return hmac.compare_digest(given, secret.get_secret_value().strip().encode())

    async def parse_webhook(self, body: bytes) -> BookingEvent | None:
        """A booking's change, or None for test events and kinds leavebot does not follow."""
        try:
            event = _WebhookEvent.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            raise ProviderRejected("not a Timetastic webhook event", provider=self.name) from exc
        kind = _event_type(event.event_type)
        holiday = event.record_data
        if kind not in STATUS_OF_EVENT or event.record_id == TEST_RECORD_ID or holiday is None:
            return None
        person = await self._person_by_id(holiday.user_id, holiday.user_name)
        try:
            # The record's status is the booking's state; the event's kind stands in when it is missing.
            booking = _absence(holiday, person, None if holiday.status else STATUS_OF_EVENT[kind])
        except (ValueError, ValidationError) as exc:
            raise ProviderRejected(
                f"Timetastic event {event.event_id} has a booking leavebot cannot read", provider=self.name
            ) from exc
        actor = event.performing_user
        return BookingEvent(
            event_id=str(event.event_id),
            booking=booking,
            updated_at=_utc(holiday.updated_at or datetime.now(UTC)),
            reason=holiday.reason or "",
            decline_reason=holiday.decline_reason or None,
            actor=await self._person_by_id(actor.id, actor.fullname) if actor else None,
        )


def _user_id(person_id: str, provider: str) -> int:
    if not person_id.isdigit():
        raise ProviderNotFound(f"{person_id!r} is not a Timetastic user id", provider=provider)
    return int(person_id)


def _booking_id(booking_id: str, provider: str) -> int:
    if not booking_id.isdigit():
        raise ProviderNotFound(f"Timetastic has no booking {booking_id!r}", provider=provider)
    return int(booking_id)
