"""Calendar feeds: what each feed shows, read from the absence mirror and leavebot's own requests (never the HR system)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
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


def workday_of(settings: Settings | None = None) -> Workday:
    """The working day of the settings (their defaults without any): where half days start and end."""
    fields = ("workday_start", "workday_split", "workday_end")
    if settings is None:
        return Workday(*(Settings.model_fields[f].default for f in fields))
    return Workday(*(getattr(settings, f) for f in fields))


@dataclass(frozen=True)
class FeedPolicy:
    """LEAVEBOT_PUBLIC_URL (None: no links) and ICAL_TEAM_FEEDS."""

    public_url: str | None = None
    team_feeds: str = "everyone"
    workday: Workday = field(default_factory=workday_of)

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedPolicy:
        """From the settings."""
        return cls(
            public_url=settings.leavebot_public_url,
            team_feeds=settings.ical_team_feeds,
            workday=workday_of(settings),
        )


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
        """What the feed shows, each event with its revision (SEQUENCE and DTSTAMP) from the store.

        A cancelled, declined or withdrawn booking simply drops out rather than staying as
        ``STATUS:CANCELLED``: a subscribed feed (no ``METHOD``) is replaced whole on every refresh, and
        Google, Apple and Outlook all remove an event the new copy lacks, while a cancelled one in a
        subscription is shown by some clients as if it still stood.
        """
        absences = await self._absences(since)
        own = feed.kind == "mine"
        if own:
            user = await self.deps.store.slack_user(slack_user_id=feed.slack_user_id)
            mine = {feed.slack_user_id, user.person_id if user else None} - {None}
            absences = [(a, u) for a, u in absences if a.person.id in mine or a.person.slack_user_id in mine]
        elif feed.kind == "department":
            absences = [(a, u) for a, u in absences if a.person.department == feed.department]
        wanted = (Status.APPROVED, Status.PENDING) if own else (Status.APPROVED,)
        absences = [(a, u) for a, u in absences if a.status in wanted]
        zones = await self._zones([a for a, _ in absences])
        zone_of = {a.person.id: zones.get(a.person.id, self.deps.zone) for a, _ in absences}
        revisions = await self.deps.store.revise_events(
            fingerprints={uid: _fingerprint(a, zone_of[a.person.id]) for a, uid in absences}
        )
        items = []
        for absence, uid in absences:
            kind = absence.leave_type or "Leave"
            if not own and self.deps.plan.is_private(absence.leave_type, self.deps.marked_private()):
                kind = OUT_OF_OFFICE
            summary = kind if own else f"{absence.person.name} · {kind}"
            pending = absence.status == Status.PENDING
            sequence, changed = revisions[uid]
            items.append(
                FeedItem(
                    uid=uid,
                    summary=f"{summary} (pending)" if pending else summary,
                    span=absence,
                    zone=zone_of[absence.person.id],
                    tentative=pending,
                    sequence=sequence,
                    stamp=_aware(changed),
                )
            )
        return items

    async def _absences(self, since: date) -> list[tuple[Absence, str]]:
        """(absence, UID) of every booking, one per UID: the mirror's, where leavebot's own request is not newer.

        A change of dates is a new request replacing the old: it keeps the UID of the first, so calendars
        replace the event, and where both still show, the newest request wins.
        """
        store, provider = self.deps.store, self.deps.provider.name
        requests = await store.requests_since(provider=provider, since=since)
        by_id = {r.id: r for r in requests}
        by_booking = {r.booking_id: r for r in requests if r.booking_id}
        found: dict[str, tuple[int, Absence]] = {}  # UID -> (request id, 0 for none; the absence)

        def keep(absence: Absence, request: LeaveRequest | None, booking_id: str | None) -> None:
            uid = _uid(provider, _first(request, by_id), booking_id)
            rank = (request.id or 0) if request else 0
            if uid not in found or found[uid][0] < rank:
                found[uid] = (rank, absence)

        seen: set[str] = set()
        departments: dict[str, str | None] = {}
        for row in await store.mirror_rows(provider=provider, since=since):
            departments[row.person_id] = row.department
            request = by_booking.get(row.booking_id)
            if request is not None and _aware(request.updated_at) > _aware(row.last_seen):
                continue  # leavebot changed it after the last pass saw it: the request says how it stands
            seen.add(row.booking_id)
            keep(row.absence, request, row.booking_id)
        for request in requests:
            if request.booking_id in seen or request.status not in (
                RequestState.PENDING,
                RequestState.APPROVED,
            ):
                continue
            absence = request.as_absence()
            person = absence.person.model_copy(update={"department": departments.get(absence.person.id)})
            keep(absence.model_copy(update={"person": person}), request, None)
        return [(absence, uid) for uid, (_, absence) in found.items()]

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


def _uid(provider: str, first: int | None, booking_id: str | None) -> str:
    """The same for a booking's whole life: leavebot's first request id where it made it, else the HR system's id."""
    if first is not None:
        return f"request-{first}@{provider}.leavebot"
    return f"booking-{booking_id}@{provider}.leavebot"


def _first(request: LeaveRequest | None, by_id: Mapping[int | None, LeaveRequest]) -> int | None:
    """The id of the request a chain of date changes began with (as far back as ``by_id`` reaches)."""
    if request is None:
        return None
    first = request.id
    seen = {first}
    while (earlier := by_id.get(first)) is not None and earlier.replaces_request_id not in (None, *seen):
        first = earlier.replaces_request_id
        seen.add(first)
    return first


def _fingerprint(absence: Absence, zone: tzinfo) -> str:
    """What a calendar shows of a booking, whatever the feed: a change of it is a new revision."""
    fields = [
        absence.start_date.isoformat(),
        absence.end_date.isoformat(),
        str(absence.start),
        str(absence.end),
        str(absence.status),
        absence.person.name,
        str(zone),
        absence.leave_type or "",
    ]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC
