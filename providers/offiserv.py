"""OffiServ: a cookie session and a graph of linked resources; approval is kept by leavebot.

Verified against OffiServ's API document: HTTPS only; ``POST /data/login`` with a JSON body of
``email`` and ``password`` answers with a session cookie sent on every later call; the roots
``/data/users/me`` and ``/data/companies/my``; a User's links (``uri``, ``managerUri``,
``reports``, ``approversChainUri``, ``leavesUri``, ``leavesForApprovalUri``,
``leaveDaysLimitsUri``, ``companyUri``) and the organisation's ``admins`` and ``timezone``.
Resources are hierarchical, so this module follows the links the API returns and builds no path
beyond the two roots and the sign-in form.

Everything else is *[assumed]* and written in ``ASSUMED`` below, in one place a real tenant can
correct: the body of a leave request, its states and their change, the shape of the leave-day
limits, a user's e-mail field and the organisation's link to its users. The document names no
approval verb, so approval is kept by leavebot (ApprovalMode.BOT): a request reaches OffiServ
only once an approver has approved it in Slack.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

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
)

log = logging.getLogger(__name__)

BASE_URL = "https://offiserv-app.appspot.com"
SIGN_IN = "/data/login"
ME = "/data/users/me"
MY_COMPANY = "/data/companies/my"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DIRECTORY_FRESH_FOR = 3600.0  # seconds the company's users are trusted (people and approvers change rarely)
CONCURRENCY = 10  # listings in flight at once, by default: OffiServ documents no limit


# -- What the document leaves open [assumed] -----------------------------------------------------


@dataclass(frozen=True)
class Assumptions:
    """Every OffiServ shape the document does not give, decided once here; correct it on a real tenant.

    Nothing else in this module names an undocumented field or value.
    """

    # A User carries its sign-in address under this key (the document lists no e-mail field,
    # but sign-in is by e-mail).
    user_email: str = "email"
    # The organisation links to all its users under this key. Without it, the directory is what
    # the documented links reach: the signed-in user, the organisation's admins, and everyone
    # reachable through ``reports`` and ``managerUri``.
    company_users: str = "usersUri"
    # A leave request (an item of ``leavesUri``, a Ticket of ``leavesForApprovalUri``) is JSON with
    # these keys. ``start`` and ``end`` are ISO 8601 date-times; a full day runs from 00:00 to 00:00
    # the next day and a half day ends or starts at 12:00, in the organisation's time zone (one
    # without an offset is read in that zone). Its own link is ``uri``, which is its booking id here.
    leave_start: str = "start"
    leave_end: str = "end"
    leave_type: str = "leaveType"
    leave_reason: str = "reason"
    leave_state: str = "state"
    states: Mapping[str, Status] = field(
        default_factory=lambda: {
            "NEW": Status.PENDING,
            "ACCEPTED": Status.APPROVED,
            "REJECTED": Status.DECLINED,
            "CANCELLED": Status.CANCELLED,
        }
    )
    # leavebot books leave for someone else by POSTing those keys to *that person's* ``leavesUri``
    # (found through the company's users), with this state since an approver has already said yes.
    # The answer is the new leave request, with its ``uri``.
    booked_state: str = "ACCEPTED"
    # A state change is ``{leave_state: value}`` sent with this method to the item's ``uri``: cancel
    # uses it; approve and decline would (on ``leavesForApprovalUri`` items) once a tenant confirms.
    change_method: str = "PUT"
    approve_state: str = "ACCEPTED"
    decline_state: str = "REJECTED"
    cancel_state: str = "CANCELLED"
    # ``leaveDaysLimitsUri`` answers a list of ``{limit_type, limit_days, limit_used}`` in days; its
    # types are the leave types offered, the first one is the balance shown.
    limit_type: str = "leaveType"
    limit_days: str = "limit"
    limit_used: str = "used"


ASSUMED = Assumptions()


# -- OffiServ's JSON, as the document describes it -------------------------------------------------


class _Vendor(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class _User(_Vendor):
    uri: str
    id: str | None = None
    firstname: str = ""
    lastname: str = ""
    display_name: str = ""
    email: str | None = None  # read from ASSUMED.user_email
    manager_uri: str | None = None
    reports: list[Any] = []
    leaves_uri: str | None = None
    approvers_chain_uri: str | None = None
    leave_days_limits_uri: str | None = None


class _Company(_Vendor):
    uri: str = ""
    name: str = ""
    timezone: str = "UTC"
    admins: list[Any] = []


# -- one conversion per entity ----------------------------------------------------------------------


def _read_user(data: Any) -> _User:
    user = _User.model_validate(data)
    email = data.get(ASSUMED.user_email) if isinstance(data, dict) else None
    return user.model_copy(update={"email": email if isinstance(email, str) else None})


def _person(user: _User) -> Person:
    name = user.display_name or f"{user.firstname} {user.lastname}".strip() or user.uri
    # Lower-cased: Slack and the bot's own tables match people by address, whatever its case.
    email = (user.email or "").strip().lower() or None
    return Person(id=user.id or user.uri, name=name, email=email)


def _link_of(entry: Any) -> str | None:
    """A reference to a resource: a link itself, or an object carrying its ``uri``."""
    if isinstance(entry, str):
        return entry
    uri = entry.get("uri") if isinstance(entry, dict) else None
    return uri if isinstance(uri, str) else None


START_MINUTE = {"AM": 0, "PM": 720}  # where a start part begins, in minutes from that day's midnight
END_MINUTE = {"AM": 720, "PM": 1440}  # where an end part ends


def _moments(leave: LeaveSpan, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end of a span as local date-times: AM from 00:00, PM from 12:00, to 12:00 or 24:00."""
    start = leave.start if isinstance(leave.start, int) else START_MINUTE[leave.start]
    end = leave.end if isinstance(leave.end, int) else END_MINUTE[leave.end]
    # Wall-clock arithmetic on aware date-times: 00:00 + 24 h is the next midnight, whatever DST does.
    return (
        datetime.combine(leave.start_date, datetime.min.time(), zone) + timedelta(minutes=start),
        datetime.combine(leave.end_date, datetime.min.time(), zone) + timedelta(minutes=end),
    )


def _local(text: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _span(start: datetime, end: datetime) -> tuple[date, Part, date, Part]:
    """Local start and end as dates and parts; a time off the half-day grid makes the span hourly."""
    first = {(0, 0): "AM", (12, 0): "PM"}.get((start.hour, start.minute))
    last = {(0, 0): "PM", (12, 0): "AM"}.get((end.hour, end.minute))
    if first is None or last is None:
        return start.date(), start.hour * 60 + start.minute, end.date(), end.hour * 60 + end.minute
    # An end at midnight closes the whole previous day.
    last_day = end.date() - timedelta(days=1) if last == "PM" else end.date()
    return start.date(), _half(first), last_day, _half(last)


def _half(part: str) -> Part:
    return "AM" if part == "AM" else "PM"


def _absence(item: Any, person: Person, zone: ZoneInfo) -> Absence:
    start_date, start, end_date, end = _span(
        _local(item[ASSUMED.leave_start], zone), _local(item[ASSUMED.leave_end], zone)
    )
    return Absence(
        id=str(item["uri"]),
        person=person,
        start_date=start_date,
        start=start,
        end_date=end_date,
        end=end,
        status=ASSUMED.states[item[ASSUMED.leave_state]],
        leave_type=item.get(ASSUMED.leave_type),
    )


def _leave_body(request: HolidayRequest, leave_type: LeaveType, zone: ZoneInfo) -> dict[str, Any]:
    start, end = _moments(request, zone)
    return {
        ASSUMED.leave_start: start.isoformat(),
        ASSUMED.leave_end: end.isoformat(),
        ASSUMED.leave_type: leave_type.id,
        ASSUMED.leave_reason: request.reason,
        ASSUMED.leave_state: ASSUMED.booked_state,
    }


class _Cookie(SessionAuth["OffiServProvider"]):
    """OffiServ's session: the cookie its sign-in form sets, kept by the client's cookie jar."""

    async def sign_in(self) -> None:
        """POST the e-mail and password to the sign-in form; the client's cookie jar keeps the cookie."""
        provider = self.provider
        if provider._http is not None:
            provider._http.cookies.clear()  # never offer the lapsed cookie to the sign-in form
        body = {"email": provider.config.email, "password": provider.config.password.get_secret_value()}
        response = await provider._request_unchecked("POST", provider._url(SIGN_IN), json=body)
        if response.status_code >= 400:
            provider._check(response)  # 401/403: the credentials, with the hint; 5xx: OffiServ is down
        # A form sign-in may answer 200 or redirect into the app; a redirect back to the login page refuses.
        if self.expired(response) or not response.headers.get_list("set-cookie"):
            raise ProviderAuthError(
                f"OffiServ did not sign us in ({provider.auth_hint})", provider=provider.name
            )

    def expired(self, response: httpx.Response) -> bool:
        """A 401, or a redirect to the sign-in page."""
        if response.status_code == 401:
            return True
        location = response.headers.get("location", "")
        return response.is_redirect and "login" in urlsplit(location).path.lower()


class OffiServProvider(BotKeptApproval, SessionProvider):
    """OffiServ over one account's cookie session; leavebot holds each request until it is approved."""

    name = "offiserv"
    display_name = "OffiServ"
    approvers_field = "the user's approvers chain or manager"
    capabilities = Capabilities(approval=ApprovalMode.BOT, half_days=True, hourly=True, balances=True)
    auth_hint = (
        "check OFFISERV_EMAIL and OFFISERV_PASSWORD: an OffiServ account that can see the team's leave"
    )
    error_fields = ("message", "error")  # OffiServ's error body [assumed]
    Session = _Cookie
    refresh_after_miss = 10.0  # seconds: an unknown e-mail re-reads the users at most this often

    class Config(LeaveProvider.Config):
        """``OFFISERV_EMAIL`` and ``OFFISERV_PASSWORD`` of an account that sees the team's leave; the base URL."""

        email: str
        password: SecretStr
        base_url: str = BASE_URL
        # OffiServ lists leave per person: a pass over everyone sends one call per person, this many at once.
        concurrency: int = Field(default=CONCURRENCY, ge=1, le=100)

        @field_validator("base_url")
        @classmethod
        def _https_url(cls, value: str) -> str:
            parts = urlsplit(value.strip())
            local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
            if not parts.hostname or (parts.scheme != "https" and not local):
                raise ValueError(
                    "must be an https:// URL such as https://offiserv-app.appspot.com "
                    "(OffiServ requires HTTPS; http:// is accepted only for 127.0.0.1 or localhost)"
                )
            return value.strip().rstrip("/")

    config: Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._people = Directory(
            self._read_people,
            key=lambda u: _person(u).id,
            email=lambda u: u.email,
            fresh_for=DIRECTORY_FRESH_FOR,
            refresh_after_miss=lambda: self.refresh_after_miss,
        )
        self._admins: list[str] = []  # uris of the organisation's admins, read with the people
        self._org_zone = ZoneInfo("UTC")  # the organisation's time zone, read with the people
        # Shared by every caller (a pass, the digest, one person's leave), so the total stays bounded.
        self._listings = asyncio.Semaphore(self.config.concurrency)

    # -- HTTP ------------------------------------------------------------------------------------

    def _url(self, link: str) -> str:
        """A link OffiServ returned, made absolute; links to another site are not followed (the cookie stays home)."""
        url = urljoin(self.config.base_url + "/", link)
        here, there = urlsplit(self.config.base_url), urlsplit(url)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise ProviderError(f"OffiServ linked outside {self.config.base_url}: {link}", provider=self.name)
        return url

    async def _get(self, link: str) -> Any:
        return await self._json("GET", link, Any)

    def _user(self, data: Any) -> _User:
        try:
            return _read_user(data)
        except ValidationError as exc:
            raise ProviderResponseError(
                "OffiServ answered a user leavebot cannot read", provider=self.name
            ) from exc

    # -- people ------------------------------------------------------------------------------------

    async def _read_people(self) -> list[_User]:
        """Walk from the roots: me, the organisation's admins and users, then reports and managers."""
        data = await self._get(MY_COMPANY)
        company = self._parse(_Company, data)
        users_link = data.get(ASSUMED.company_users) if isinstance(data, dict) else None
        to_visit: list[Any] = [await self._get(ME), *company.admins]
        if isinstance(users_link, str):
            to_visit += self._parse(list[Any], await self._get(users_link))
        found: dict[str, _User] = {}
        while to_visit:
            user = await self._resolve(to_visit.pop(0), found)
            if user is not None and user.uri not in found:
                found[user.uri] = user
                to_visit += [*user.reports, *([user.manager_uri] if user.manager_uri else [])]
        self._admins = [link for link in map(_link_of, company.admins) if link in found]
        self._org_zone = self._zone(company)
        return list(found.values())

    def _by_uri(self) -> dict[str, _User]:
        return {u.uri: u for u in self._people.known().values()}

    async def _resolve(self, entry: Any, known: Mapping[str, _User]) -> _User | None:
        """A user from a reference: known already, complete as given, or read through its link."""
        link = _link_of(entry)
        if link is None:
            return None
        if link in known:
            return known[link]
        if isinstance(entry, dict) and "leavesUri" in entry:
            return self._user(entry)
        return self._user(await self._get(link))

    def _zone(self, company: _Company) -> ZoneInfo:
        try:
            return ZoneInfo(company.timezone)  # an IANA name such as Europe/Warsaw [assumed]
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("OffiServ's time zone %r is unknown here; reading dates in UTC", company.timezone)
            return ZoneInfo("UTC")

    async def _known(self, person: Person) -> _User:
        user = await self._people.get(person.id)
        if user is None:
            raise ProviderNotFound(f"OffiServ has no user {person.id}", provider=self.name)
        return user

    async def find_person(self, email: str) -> Person:
        """The OffiServ user with this e-mail address, whatever its case."""
        user = await self._people.find(email)
        if user is None:
            raise ProviderNotFound(
                f"OffiServ has no user with the e-mail address {email}", provider=self.name
            )
        return _person(user)

    async def approvers(self, person: Person) -> list[Person]:
        """The person's approvers chain, else their manager, else the organisation's admins.

        Anyone in the chain may approve [assumed]: leavebot asks for one approval, not each in turn.
        """
        user = await self._known(person)
        chain: list[str] = []
        if user.approvers_chain_uri:
            chain = [
                link
                for link in map(_link_of, self._parse(list[Any], await self._get(user.approvers_chain_uri)))
                if link and link != user.uri
            ]
        manager = [user.manager_uri] if user.manager_uri and user.manager_uri != user.uri else []
        links = chain or manager or [link for link in self._admins if link != user.uri]
        by_uri = self._by_uri()
        chosen = [await self._resolve(link, by_uri) for link in dict.fromkeys(links)]
        return [_person(approver) for approver in chosen if approver is not None]

    async def balance(self, person: Person) -> Balance | None:
        """Days left of the first leave-day limit (the document's ``leaveDaysLimitsUri``)."""
        user = await self._known(person)
        limits = await self._limits(user)
        if not limits:
            return None
        first = limits[0]
        return Balance(remaining=float(first[ASSUMED.limit_days]) - float(first.get(ASSUMED.limit_used) or 0))

    async def _limits(self, user: _User) -> list[dict[str, Any]]:
        if not user.leave_days_limits_uri:
            return []
        limits = self._parse(list[dict[str, Any]], await self._get(user.leave_days_limits_uri))
        return [item for item in limits if isinstance(item.get(ASSUMED.limit_type), str)]

    # -- leave types -------------------------------------------------------------------------------

    async def leave_types(self) -> list[LeaveType]:
        """The kinds of leave in the signed-in account's leave-day limits, in OffiServ's order."""
        limits = await self._limits(self._user(await self._get(ME)))
        names = dict.fromkeys(str(item[ASSUMED.limit_type]) for item in limits)
        if not names:
            raise ProviderRejected(
                "OffiServ lists no leave-day limits, so no leave types", provider=self.name
            )
        return [LeaveType(id=name, name=name) for name in names]

    # -- bookings ----------------------------------------------------------------------------------

    async def validate(self, request: HolidayRequest) -> None:
        """Refuse at once a request leavebot could not book later: a person whose leave it cannot reach."""
        user = await self._known(request.requester)
        if not user.leaves_uri:
            raise ProviderRejected(
                f"OffiServ does not show leavebot's account where {request.requester.name}'s leave is kept",
                provider=self.name,
            )

    async def submit(self, request: HolidayRequest) -> Booking:
        """Book approved leave (an approver has said yes) on the requester's own ``leavesUri``."""
        await self.validate(request)
        user = await self._known(request.requester)
        assert user.leaves_uri is not None  # checked by validate
        leave_type = request.leave_type or (await self.leave_types())[0]
        body = _leave_body(request, leave_type, self._org_zone)
        created = await self._json("POST", user.leaves_uri, dict[str, Any], json=body)
        uri = created.get("uri")
        if not isinstance(uri, str):
            raise ProviderError("OffiServ booked the leave but did not say where", provider=self.name)
        state = created.get(ASSUMED.leave_state)
        if state != ASSUMED.booked_state:
            log.warning("OffiServ holds leave %s as %r, not %r", uri, state, ASSUMED.booked_state)
        return Booking(id=uri, status=Status.APPROVED)

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Pending and approved leave touching ``start``..``end``: every user's ``leavesUri``, ``concurrency``
        at a time (OffiServ has no listing of everyone's leave, nor a date filter).

        The first failure stops the rest, so a failed pass does not go on calling for everyone.
        """
        await self._people.everyone()
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._leave_of(u, start, end)) for u in self._by_uri().values()]
        except ExceptionGroup as failed:
            first = failed.exceptions[0]  # the first failure, as one call would raise it, its cause kept
            raise first from first.__cause__
        return sorted((a for task in tasks for a in task.result()), key=lambda a: (a.start_date, a.id))

    async def absences_of(self, person: Person, start: date, end: date) -> list[Absence]:
        """One person's pending and approved leave touching ``start``..``end``."""
        return await self._leave_of(await self._known(person), start, end)

    async def _leave_of(self, user: _User, start: date, end: date) -> list[Absence]:
        if not user.leaves_uri:
            return []
        async with self._listings:
            items = self._parse(list[Any], await self._get(user.leaves_uri))
        person, zone = _person(user), self._org_zone
        absences = []
        for item in items:
            try:
                absence = _absence(item, person, zone)
            except (KeyError, TypeError, ValueError):  # ValidationError is a ValueError
                log.warning("skipping an OffiServ leave request of %s: it cannot be read", person.id)
                continue
            if (
                absence.status in (Status.PENDING, Status.APPROVED)
                and absence.start_date <= end
                and absence.end_date >= start
            ):
                absences.append(absence)
        return absences

    # -- decisions ---------------------------------------------------------------------------------

    async def cancel(self, booking_id: str) -> Outcome:
        """Withdraw booked leave by the ticket state change; leave cancelled already is reported so."""
        if not booking_id.startswith(("/", self.config.base_url + "/")):
            raise ProviderNotFound(f"OffiServ has no leave request {booking_id!r}", provider=self.name)
        leave = await self._get(booking_id)
        state = leave.get(ASSUMED.leave_state) if isinstance(leave, dict) else None
        if state == ASSUMED.cancel_state:
            return Outcome(status=Status.CANCELLED, already_actioned=True)
        await self._json(
            ASSUMED.change_method, booking_id, Any, json={ASSUMED.leave_state: ASSUMED.cancel_state}
        )
        return Outcome(status=Status.CANCELLED)
