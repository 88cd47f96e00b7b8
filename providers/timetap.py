"""TimeTap: staff time off, booked once one of leavebot's approvers approves (TimeTap has no pending state).

Verified against TimeTap's Time Off document: ``POST /timeOffBulk`` with ``appliesTo``, ``assignedTo``,
``businessId``, ``staffId`` (a list), dates, military ``startTime``/``endTime``, ``reason`` and
``repeats``, answered with an array; ``GET``/``PUT``/``DELETE /timeOff/{id}``, DELETE being soft
(``active`` false); the listing through ``GET /appointments/report?onlyTimeOff=1&excludeTimeOff=false``;
time-off reasons are Services of ``reasonType`` PERSONAL; statuses Open / Closed / Cancelled and no
approval verb. Public clients confirm ``GET /sessionToken`` signed with md5(apiKey + privateKey) and
``Authorization: Bearer``. Everything else is decided in ``Assumed`` below, in one place, so a live
tenant can correct it in one edit. No TimeTap field name leaves this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from datetime import date, timedelta
from datetime import time as clock
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_settings import NoDecode

from providers.approver_table import configured, parse_approvers
from providers.base import ApprovalMode, Capabilities, LeaveProvider, SessionAuth, SessionProvider
from providers.bot_kept import BotKeptApproval
from providers.directory import Directory
from providers.errors import ProviderError, ProviderNotFound, ProviderRejected
from providers.models import (
    Absence,
    Booking,
    HolidayRequest,
    LeaveType,
    Outcome,
    Part,
    Person,
    Status,
)

log = logging.getLogger(__name__)

BASE_URL = "https://api.timetap.com/live"  # the test environment is https://api.timetap.com/test
STAFF_FRESH_FOR = 3600.0  # seconds the staff list is trusted
REFRESH_STAFF_AFTER_MISS = 10.0  # an unknown e-mail re-reads the staff at most this often

M = TypeVar("M")


class Assumed:
    """What TimeTap's documents leave open, decided here [inferred]: check each against a live tenant."""

    # Staff are listed by the Staff API's GET /staff [C]; its e-mail field is read as "email" (_Staff).
    STAFF = "/staff"
    # Reasons are Services [C]; timetappy lists them with GET /services [C-3p].
    REASONS = "/services"
    PERSONAL = "PERSONAL"  # the reasonType of time-off reasons [C]
    # The report's date filters are undocumented [U]; these are the names third-party clients send.
    FROM, TO = "startDate", "endDate"
    # The date filter is taken to match a block by its start date, so a query starts this much earlier
    # to catch a block already running; a longer block that began earlier still is missed.
    LOOKBACK_DAYS = 31
    # The paged report [C: pageNumber & pageSize required]; used for ranges longer than UNPAGED_DAYS,
    # where the count can be large. Its answer: the total under "count", the rows under "objects" [U].
    PAGED_REPORT = "/appointmentList/reportWithCount"
    UNPAGED_DAYS = 31
    PAGE_SIZE = 100
    PAGE_TOTAL, PAGE_ROWS = "count", "objects"
    # Session lifetime and its refusal are undocumented [U]: either status renews the session once.
    SESSION_EXPIRED = (401, 403)


# -- TimeTap's JSON ------------------------------------------------------------------------------------


def _minutes(value: Any) -> int:
    """A military time, sent as 1300 or "1300" (the document shows both), as minutes of the day."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 4:
        raise ValueError(f"{value!r} is not a military time")
    hours, minutes = divmod(int(text), 100)
    if hours > 24 or minutes > 59 or hours * 60 + minutes > 1440:
        raise ValueError(f"{value!r} is not a military time")
    return hours * 60 + minutes


Military = Annotated[int, BeforeValidator(_minutes)]


def _military(minute: int) -> str:
    """540 -> "0900", as the document's create example writes times."""
    return f"{minute // 60:02d}{minute % 60:02d}"


class _Vendor(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class _Session(_Vendor):
    session_token: str


class _Staff(_Vendor):
    professional_id: int  # the staff id [C]
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    email: str | None = None


class _Reason(_Vendor):
    reason_id: int
    reason_desc: str = ""
    reason_type: str = ""
    active: bool = True


class _TimeOff(_Vendor):
    time_off_id: int | None = None
    calendar_id: int | None = None  # the report's name for the same id [C: "interchangeable"]
    staff: _Staff | None = None
    staff_id: int | list[int] | None = None
    start_date: date
    end_date: date
    start_time: Military
    end_time: Military
    status: str = ""
    active: bool = True  # false once deleted [C]
    reason: _Reason | None = None

    @property
    def id(self) -> int:
        found = self.time_off_id or self.calendar_id
        if found is None:
            raise ValueError("a time off without an id")
        return found

    @property
    def staff_member(self) -> int | None:
        if self.staff is not None:
            return self.staff.professional_id
        if isinstance(self.staff_id, list):  # a list on create, a number on PUT [C]
            return self.staff_id[0] if self.staff_id else None
        return self.staff_id

    @property
    def cancelled(self) -> bool:
        # Statuses come as Open, OPEN, Closed, Cancelled (and "1100" in two of the document's samples).
        return not self.active or self.status.strip().lower() in ("cancelled", "canceled")


# -- one conversion per entity -------------------------------------------------------------------------


def _person(staff: _Staff) -> Person:
    name = staff.full_name or f"{staff.first_name} {staff.last_name}".strip()
    email = (staff.email or "").strip().lower() or None
    return Person(
        id=str(staff.professional_id), name=name or f"TimeTap staff {staff.professional_id}", email=email
    )


def _leave_type(reason: _Reason) -> LeaveType:
    return LeaveType(id=str(reason.reason_id), name=reason.reason_desc or f"Reason {reason.reason_id}")


class _Hours:
    """The working day in minutes: a full day runs start–end, a morning start–split, an afternoon split–end."""

    def __init__(self, start: clock, split: clock, end: clock) -> None:
        self.start, self.split, self.end = (t.hour * 60 + t.minute for t in (start, split, end))

    def clock(self, part: Part, *, starting: bool) -> int:
        """The minute a part starts (``starting``) or ends at."""
        if isinstance(part, int):
            return part
        if starting:
            return self.start if part == "AM" else self.split
        return self.split if part == "AM" else self.end

    def parts(self, start: int, end: int, *, one_day: bool) -> tuple[Part, Part]:
        """Times read back as parts, so 0900–1300 is a morning again; other times on one day stay minutes."""
        first: Part | None = "AM" if start <= self.start else "PM" if start == self.split else None
        last: Part | None = "PM" if end >= self.end else "AM" if end == self.split else None
        if first and last and not (one_day and (first, last) == ("PM", "AM")):
            return first, last
        if one_day:
            return start, min(end, 1439)  # 2400 (or 2359) ends the day
        # A block over several days booked with other hours in TimeTap: the nearest half days.
        return ("AM" if start < self.split else "PM"), ("AM" if end <= self.split else "PM")


def _absence(time_off: _TimeOff, person: Person, hours: _Hours) -> Absence:
    one_day = time_off.start_date == time_off.end_date
    start, end = hours.parts(time_off.start_time, time_off.end_time, one_day=one_day)
    return Absence(
        id=str(time_off.id),
        person=person,
        start_date=time_off.start_date,
        end_date=time_off.end_date,
        start=start,
        end=end,
        status=Status.CANCELLED if time_off.cancelled else Status.APPROVED,  # it exists, so it was approved
        leave_type=time_off.reason.reason_desc if time_off.reason and time_off.reason.reason_desc else None,
    )


class _SessionToken(SessionAuth["TimeTapProvider"]):
    """TimeTap's session: a token from GET /sessionToken, sent as a bearer token."""

    _token: SecretStr | None = None

    async def sign_in(self) -> None:
        """A new session token, signed as TimeTap's clients sign it: md5 of the API key then the private key."""
        config = self.provider.config
        key = config.api_key.get_secret_value()
        signed = (key + config.private_key.get_secret_value()).encode()
        params = {
            "apiKey": key,
            "timestamp": str(int(time.time())),
            "signature": hashlib.md5(signed, usedforsecurity=False).hexdigest(),
        }
        session = await self.provider._json("GET", "/sessionToken", _Session, session=False, params=params)
        self._token = SecretStr(session.session_token)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get_secret_value()}"} if self._token else {}

    def expired(self, response: httpx.Response) -> bool:
        return response.status_code in Assumed.SESSION_EXPIRED


class TimeTapProvider(BotKeptApproval, SessionProvider):
    """TimeTap holds only approved time off: leavebot keeps the request and books it once approved."""

    name = "timetap"
    display_name = "TimeTap"
    approvers_setting = "TIMETAP_APPROVERS"  # TimeTap knows no approvers
    capabilities = Capabilities(approval=ApprovalMode.BOT, half_days=True, hourly=True, balances=False)
    auth_hint = "check TIMETAP_API_KEY and TIMETAP_PRIVATE_KEY (TimeTap: Settings → Integrations → API Key)"
    Session = _SessionToken

    class Config(LeaveProvider.Config):
        """Keys, business, the reason to book against, working hours and approvers (``TIMETAP_*``)."""

        api_key: SecretStr
        private_key: SecretStr
        business_id: int
        # Approvers live in leavebot, written as LOCAL_APPROVERS is: "alice@x.com=bob@x.com; *=carol@x.com".
        approvers: Annotated[dict[str, list[str]], NoDecode]
        base_url: str = BASE_URL
        # The PERSONAL reason booked when a request names no leave type: by id, else by name, else the first.
        reason_id: int | None = None
        reason_name: str | None = None
        day_start: clock = clock(9, 0)
        day_split: clock = clock(13, 0)
        day_end: clock = clock(17, 0)

        @field_validator("approvers", mode="before")
        @classmethod
        def _read_approvers(cls, value: Any) -> dict[str, list[str]]:
            approvers = parse_approvers(value)
            if not approvers:
                raise ValueError("name at least one approver, e.g. *=boss@example.com")
            return approvers

        @field_validator("base_url")
        @classmethod
        def _http_url(cls, value: str) -> str:
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http(s) URL such as https://api.timetap.com/live")
            return value.rstrip("/")

        @model_validator(mode="after")
        def _ordered_day(self) -> TimeTapProvider.Config:
            if not self.day_start < self.day_split < self.day_end:
                raise ValueError("the working day needs DAY_START < DAY_SPLIT < DAY_END")
            return self

    config: Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hours = _Hours(self.config.day_start, self.config.day_split, self.config.day_end)
        self._staff = Directory(
            self._read_staff,
            key=lambda s: s.professional_id,
            email=lambda s: s.email,
            fresh_for=STAFF_FRESH_FOR,
            refresh_after_miss=lambda: REFRESH_STAFF_AFTER_MISS,
        )

    # -- people and approvers -------------------------------------------------------------------------

    async def _read_staff(self) -> list[_Staff]:
        return await self._json("GET", Assumed.STAFF, list[_Staff])

    async def find_person(self, email: str) -> Person:
        """The staff member with this e-mail address, whatever its case."""
        staff = await self._staff.find(email)
        if staff is None:
            raise ProviderNotFound(
                f"TimeTap has no staff member with the e-mail address {email}", provider=self.name
            )
        return _person(staff)

    async def _person_of(self, time_off: _TimeOff) -> Person:
        staff_id = time_off.staff_member
        known = (await self._staff.everyone()).get(staff_id) if staff_id is not None else None
        staff = known or time_off.staff
        return _person(staff) if staff else Person(id=str(staff_id), name=f"TimeTap staff {staff_id}")

    async def approvers(self, person: Person) -> list[Person]:
        """The approvers TIMETAP_APPROVERS names for the person (TimeTap knows none)."""
        return configured(self.config.approvers, person)

    # -- leave types (PERSONAL reasons) ---------------------------------------------------------------

    async def _reasons(self) -> list[tuple[_Reason, dict[str, Any]]]:
        """Active PERSONAL reasons, each with the object exactly as TimeTap sent it (a booking sends it back)."""
        data = await self._json("GET", Assumed.REASONS, Any)
        rows = data if isinstance(data, list) else []
        reasons = [(self._parse(_Reason, row), row) for row in rows if isinstance(row, dict)]
        return [(r, raw) for r, raw in reasons if r.reason_type.upper() == Assumed.PERSONAL and r.active]

    def _configured(self, reasons: list[tuple[_Reason, dict[str, Any]]]) -> tuple[_Reason, dict[str, Any]]:
        wanted_id, wanted_name = self.config.reason_id, (self.config.reason_name or "").strip().lower()
        for reason, raw in reasons:
            if reason.reason_id == wanted_id or (
                wanted_id is None and reason.reason_desc.strip().lower() == wanted_name
            ):
                return reason, raw
        if wanted_id is None and not wanted_name and reasons:
            return reasons[0]
        setting = (
            f"TIMETAP_REASON_ID {wanted_id}"
            if wanted_id is not None
            else f"TIMETAP_REASON_NAME {wanted_name!r}"
        )
        what = (
            f"names no PERSONAL reason in TimeTap ({setting})"
            if wanted_id or wanted_name
            else "has no PERSONAL reason"
        )
        raise ProviderError(f"TimeTap {what}: time off needs one", provider=self.name)

    async def leave_types(self) -> list[LeaveType]:
        """TimeTap's PERSONAL reasons, the configured one first (it is the default)."""
        reasons = await self._reasons()
        default = self._configured(reasons)[0]
        ordered = [default] + [r for r, _ in reasons if r.reason_id != default.reason_id]
        return [_leave_type(r) for r in ordered]

    async def _reason_for(self, leave_type: LeaveType | None) -> dict[str, Any]:
        reasons = await self._reasons()
        if leave_type is None:
            return self._configured(reasons)[1]
        found = next((raw for r, raw in reasons if str(r.reason_id) == leave_type.id), None)
        if found is None:
            raise ProviderRejected(
                f"{leave_type.name} is not a time-off reason in TimeTap", provider=self.name
            )
        return found

    # -- bookings ------------------------------------------------------------------------------------

    async def validate(self, request: HolidayRequest) -> None:
        """Refuse at request time what TimeTap could not book: an unknown reason or staff member."""
        await self._reason_for(request.leave_type)
        staff_id = _number(request.requester.id, "staff member", self.name)
        if await self._staff.get(staff_id) is None:
            raise ProviderRejected(f"{request.requester.name} is not TimeTap staff", provider=self.name)

    async def submit(self, request: HolidayRequest) -> Booking:
        """Book the approved request as one time-off block, first day's start to last day's end.

        One block, not one per day: the object has its own end date, and daily repetition is what
        ``repeats`` is for, so a non-repeating block over several dates is one continuous period; one
        id also makes a cancellation one DELETE [inferred].
        """
        body = {
            "appliesTo": "staff",
            "assignedTo": "select",
            "businessId": str(self.config.business_id),  # a string in the document's create example
            "staffId": [_number(request.requester.id, "staff member", self.name)],
            "startDate": request.start_date.isoformat(),
            "endDate": request.end_date.isoformat(),
            "startTime": _military(self._hours.clock(request.start, starting=True)),
            "endTime": _military(self._hours.clock(request.end, starting=False)),
            "reason": await self._reason_for(request.leave_type),
            "repeats": False,
            "description": request.reason,
        }
        created = await self._json("POST", "/timeOffBulk", list[_TimeOff], json=body)
        if not created:
            raise ProviderError("TimeTap created no time off", provider=self.name)
        return Booking(id=str(created[0].id), status=Status.APPROVED)

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Time off touching ``start``..``end``, from the appointments report filtered to time off."""
        params = {
            "onlyTimeOff": 1,
            "excludeTimeOff": "false",
            Assumed.FROM: (start - timedelta(days=Assumed.LOOKBACK_DAYS)).isoformat(),
            Assumed.TO: end.isoformat(),
        }
        paged = (end - start).days >= Assumed.UNPAGED_DAYS
        rows = await (self._paged_report(params) if paged else self._report(params))
        found = {t.id: t for t in rows if not t.cancelled and t.start_date <= end and t.end_date >= start}
        absences = []
        for time_off in found.values():
            try:
                absences.append(_absence(time_off, await self._person_of(time_off), self._hours))
            except ValidationError:  # times our model cannot hold (say, a block ending before it starts)
                log.warning("skipping TimeTap time off %s: its times cannot be read", time_off.id)
        return sorted(absences, key=lambda a: (a.start_date, int(a.id)))

    async def _report(self, params: dict[str, Any]) -> list[_TimeOff]:
        return await self._json("GET", "/appointments/report", list[_TimeOff], params=params)

    async def _paged_report(self, params: dict[str, Any]) -> list[_TimeOff]:
        """Every page: the first tells the total, the rest are read at once."""
        first, total = await self._page(params, 1)
        count = math.ceil(total / Assumed.PAGE_SIZE)
        rest = await asyncio.gather(*(self._page(params, n) for n in range(2, count + 1)))
        return first + [t for page, _ in rest for t in page]

    async def _page(self, params: dict[str, Any], number: int) -> tuple[list[_TimeOff], int]:
        query = {**params, "pageNumber": number, "pageSize": Assumed.PAGE_SIZE}
        data = await self._json("GET", Assumed.PAGED_REPORT, Any, params=query)
        if isinstance(data, list):  # a bare page: no total, so no further pages are asked for
            return self._parse(list[_TimeOff], data), len(data)
        if not isinstance(data, dict):
            raise ProviderError("TimeTap answered the paged report in an unknown shape", provider=self.name)
        rows = self._parse(list[_TimeOff], data.get(Assumed.PAGE_ROWS) or [])
        return rows, int(data.get(Assumed.PAGE_TOTAL) or len(rows))

    async def cancel(self, booking_id: str) -> Outcome:
        """Delete the time off (TimeTap keeps it, inactive); a second cancel reports it already done."""
        time_off_id = _number(booking_id, "time off", self.name)
        current = await self._json("GET", f"/timeOff/{time_off_id}", _TimeOff)
        if current.cancelled:
            return Outcome(status=Status.CANCELLED, already_actioned=True)
        await self._json("DELETE", f"/timeOff/{time_off_id}", Any)
        return Outcome(status=Status.CANCELLED)


def _number(value: str, what: str, provider: str) -> int:
    if not value.isdigit():
        raise ProviderNotFound(f"TimeTap has no {what} {value!r}", provider=provider)
    return int(value)
