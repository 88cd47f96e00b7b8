"""Calendar feeds: what each feed shows, read from the absence mirror and leavebot's own requests (never the HR system)."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings
from bot.domain import RequestState
from bot.services.calendar import OUT_OF_OFFICE
from bot.services.deps import Deps
from bot.store.tables import CalendarFeed, LeaveRequest
from bot.views.ical import FeedItem, Workday, build_feed
from providers.models import Absence, Status

HISTORY = timedelta(days=60)  # how far back a feed shows leave
KINDS = ("mine", "department", "company")


@dataclass(frozen=True)
class FeedPolicy:
    """LEAVEBOT_PUBLIC_URL (None: no links) and ICAL_TEAM_FEEDS."""

    public_url: str | None = None
    team_feeds: str = "everyone"
    workday: Workday = field(default_factory=Workday)

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedPolicy:
        """From the settings."""
        return cls(public_url=settings.leavebot_public_url, team_feeds=settings.ical_team_feeds)


@dataclass(frozen=True)
class Rendered:
    """A feed's body and its entity tag."""

    body: bytes
    etag: str


class Feeds:
    """Everyone's calendar feeds."""

    def __init__(self, deps: Deps, policy: FeedPolicy) -> None:
        self.deps = deps
        self.policy = policy

    def url(self, feed: CalendarFeed) -> str:
        """The secret link of a feed."""
        assert self.policy.public_url
        return f"{self.policy.public_url}/ical/{feed.secret}.ics"

    async def links(self, slack_user_id: str) -> dict[str, str] | None:
        """Someone's feed links by kind (None without LEAVEBOT_PUBLIC_URL); team feeds as ICAL_TEAM_FEEDS allows."""
        if not self.policy.public_url:
            return None
        store = self.deps.store
        kinds = ["mine"]
        if self.policy.team_feeds == "everyone" or await store.is_approver(slack_user_id=slack_user_id):
            department = await self._department(slack_user_id)
            kinds += ["department", "company"] if department else ["company"]
        else:
            department = None
        feeds = [
            await store.feed_of(
                slack_user_id=slack_user_id, kind=k, department=department if k == "department" else None
            )
            for k in kinds
        ]
        return {feed.kind: self.url(feed) for feed in feeds}

    async def rotate(self, slack_user_id: str, kind: str) -> None:
        """A new secret for one of someone's feeds: the old link gets 404 from now on."""
        if kind in KINDS:
            await self.deps.store.rotate_feed(slack_user_id=slack_user_id, kind=kind)

    async def _department(self, slack_user_id: str) -> str | None:
        """Someone's department as the mirror knows it (no HR call); None where unknown or none."""
        user = await self.deps.store.slack_user(slack_user_id=slack_user_id)
        if user is None or user.person_id is None:
            return None
        return await self.deps.store.department_of(provider=self.deps.provider.name, person_id=user.person_id)

    async def render(self, secret: str, *, today: date | None = None) -> Rendered | None:
        """The feed a secret opens, or None (unknown, rotated, or no longer allowed)."""
        store = self.deps.store
        feed = await store.feed_by_secret(secret=secret)
        if feed is None:
            return None
        team = feed.kind != "mine" and self.policy.team_feeds == "approvers"
        if team and not await store.is_approver(slack_user_id=feed.slack_user_id):
            return None
        since = (today or datetime.now(self.deps.zone).date()) - HISTORY
        items = await self._items(feed, since)
        name = {"mine": "My leave", "department": f"{feed.department} leave", "company": "Company leave"}
        body = build_feed(
            name[feed.kind], items, workday=self.policy.workday, refresh=self.deps.sync_interval
        )
        return Rendered(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')

    async def _items(self, feed: CalendarFeed, since: date) -> list[FeedItem]:
        absences = await self._absences(since)
        own = feed.kind == "mine"
        if own:
            user = await self.deps.store.slack_user(slack_user_id=feed.slack_user_id)
            mine = {feed.slack_user_id, user.person_id if user else None} - {None}
            absences = [
                (a, u, s) for a, u, s in absences if a.person.id in mine or a.person.slack_user_id in mine
            ]
        elif feed.kind == "department":
            absences = [(a, u, s) for a, u, s in absences if a.person.department == feed.department]
        wanted = (Status.APPROVED, Status.PENDING) if own else (Status.APPROVED,)
        zones = await self._zones([a for a, _, _ in absences])
        items = []
        for absence, uid, stamp in absences:
            if absence.status not in wanted:
                continue
            kind = absence.leave_type or "Leave"
            if not own and self.deps.plan.is_private(absence.leave_type, self.deps.marked_private()):
                kind = OUT_OF_OFFICE
            summary = kind if own else f"{absence.person.name} · {kind}"
            pending = absence.status == Status.PENDING
            items.append(
                FeedItem(
                    uid=uid,
                    summary=f"{summary} (pending)" if pending else summary,
                    span=absence,
                    zone=zones.get(absence.person.id, self.deps.zone),
                    tentative=pending,
                    stamp=stamp,
                )
            )
        return items

    async def _absences(self, since: date) -> list[tuple[Absence, str, datetime]]:
        """(absence, UID, last change) of every booking: the mirror's, where leavebot's own request is not newer."""
        store, provider = self.deps.store, self.deps.provider.name
        requests = await store.requests_since(provider=provider, since=since)
        by_booking = {r.booking_id: r for r in requests if r.booking_id}
        found: list[tuple[Absence, str, datetime]] = []
        seen: set[str] = set()
        departments: dict[str, str | None] = {}
        for row in await store.mirror_rows(provider=provider, since=since):
            departments[row.person_id] = row.department
            request = by_booking.get(row.booking_id)
            if request is not None and _aware(request.updated_at) > _aware(row.last_seen):
                continue  # leavebot changed it after the last pass saw it: the request says how it stands
            seen.add(row.booking_id)
            uid = _uid(provider, request, row.booking_id)
            stamp = (
                _aware(request.updated_at)
                if request
                else datetime.combine(row.start_date, datetime.min.time(), UTC)
            )
            found.append((row.absence, uid, stamp))
        for request in requests:
            if request.booking_id in seen or request.status not in (
                RequestState.PENDING,
                RequestState.APPROVED,
            ):
                continue
            absence = request.as_absence()
            person = absence.person.model_copy(update={"department": departments.get(absence.person.id)})
            found.append(
                (
                    absence.model_copy(update={"person": person}),
                    _uid(provider, request, None),
                    _aware(request.updated_at),
                )
            )
        return found

    async def _zones(self, absences: list[Absence]) -> dict[str, tzinfo]:
        """Each person's own time zone, where Slack told it."""
        emails = {a.person.email for a in absences if a.person.email}
        users = await self.deps.store.slack_users_by_emails(emails=emails)
        zones: dict[str, tzinfo] = {}
        for absence in absences:
            user = users.get((absence.person.email or "").lower())
            if user and user.tz:
                with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                    zones[absence.person.id] = ZoneInfo(user.tz)
        return zones


def _uid(provider: str, request: LeaveRequest | None, booking_id: str | None) -> str:
    """The same for a booking's whole life: leavebot's request id where it made it, else the HR system's id."""
    if request is not None:
        return f"request-{request.id}@{provider}.leavebot"
    return f"booking-{booking_id}@{provider}.leavebot"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC
