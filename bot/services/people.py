"""Slack users ↔ provider people, matched by e-mail address and remembered in the store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError, passing
from bot.store import Store
from bot.store.tables import SlackUser, now
from bot.views.blocks import escape
from providers.base import LeaveProvider
from providers.errors import ProviderNotFound
from providers.models import Absence, Person

log = logging.getLogger(__name__)

FRESH_FOR = timedelta(hours=12)  # how long a Slack profile read is trusted before reading it again


class People:
    """Finds who a Slack user is in the HR system, and who an HR person is in Slack."""

    def __init__(self, *, store: Store, provider: LeaveProvider, slack: AsyncWebClient | None) -> None:
        self.store = store
        self.provider = provider
        self.slack = slack
        self._zones: dict[str, tzinfo | None] = {}  # Slack user id -> their time zone, as Slack last said
        self._locales: dict[str, str] = {}  # Slack user id -> their locale (en-US…), as Slack last said

    async def remember_zones(self) -> None:
        """Load every known person's time zone and locale, so the acks that need one never wait for the database."""
        for slack_user_id, name in (await self.store.slack_zones()).items():
            self._zones.setdefault(slack_user_id, _zone(name))
        for slack_user_id, locale in (await self.store.slack_locales()).items():
            self._locales.setdefault(slack_user_id, locale)

    def remembered_locale(self, slack_user_id: str) -> str | None:
        """A Slack user's locale if it is in memory (loaded at start or learnt since); no I/O."""
        return self._locales.get(slack_user_id)

    async def locale_of(self, slack_user_id: str) -> str | None:
        """A Slack user's locale: remembered, else from the store, else read from Slack once and remembered."""
        if known := self._locales.get(slack_user_id):
            return known
        user = await self.store.slack_user(slack_user_id=slack_user_id)
        if user is not None and user.locale:
            self._locales[slack_user_id] = user.locale
            return user.locale
        if self.slack is None:
            return None
        try:
            profile = (await self.slack.users_info(user=slack_user_id, include_locale=True))["user"]
        except SlackApiError as exc:
            log.info("no locale for %s: %s", slack_user_id, exc.response.get("error"))
            return None
        await self._remember_profile(slack_user_id, profile, user)
        return self._locales.get(slack_user_id)

    async def _remember_profile(
        self, slack_user_id: str, profile: dict[str, Any], known: SlackUser | None
    ) -> None:
        """Keep what a users.info said of someone not yet matched to the HR system: zone and locale."""
        if locale := profile.get("locale"):
            self._locales[slack_user_id] = locale
        self._zones[slack_user_id] = _zone(profile.get("tz"))
        user = known or SlackUser(
            slack_user_id=slack_user_id,
            email=((profile.get("profile") or {}).get("email") or "").lower() or None,
            name=profile.get("real_name") or profile.get("name") or slack_user_id,
        )
        user.tz, user.locale = profile.get("tz") or user.tz, locale or user.locale
        await self.store.save_slack_user(user=user)

    def remembered_zone(self, slack_user_id: str) -> tzinfo | None:
        """A Slack user's time zone if it is in memory (loaded at start or learnt since); no I/O."""
        return self._zones.get(slack_user_id)

    async def zone_of(self, slack_user_id: str, *, ask_slack: bool = True) -> tzinfo | None:
        """A Slack user's own time zone: remembered, else from the store, else (``ask_slack``) from Slack.

        With ``ask_slack=False``: no Slack call, at most one store read. Before an ack use ``remembered_zone``.
        """
        if slack_user_id in self._zones:
            known = self._zones[slack_user_id]
            if known is not None or not ask_slack:  # an unknown zone is asked of Slack when allowed
                return known
        else:
            user = await self.store.slack_user(slack_user_id=slack_user_id)
            self._zones[slack_user_id] = _zone(user.tz if user is not None else None)
            if self._zones[slack_user_id] is not None or not ask_slack:
                return self._zones[slack_user_id]
        if self.slack is None:
            return None
        try:
            name = (await self.slack.users_info(user=slack_user_id))["user"].get("tz")
        except SlackApiError as exc:
            log.info("no time zone for %s: %s", slack_user_id, exc.response.get("error"))
            return None
        self._zones[slack_user_id] = zone = _zone(name)
        return zone

    async def person_for(self, slack_user_id: str) -> Person:
        """The provider's person for a Slack user; UserError when they can't be found."""
        user = await self.store.slack_user(slack_user_id=slack_user_id)
        known = user is not None and user.person_id is not None
        if user is None or not known or now() - _aware(user) > FRESH_FOR:
            try:
                user = await self._refresh(slack_user_id)
            except Exception as exc:
                if not (known and passing(exc)):
                    raise
                # HR system or Slack down: who someone was a while ago is who they are now
        assert user is not None and user.person_id is not None
        return Person(id=user.person_id, name=user.name, email=user.email, slack_user_id=slack_user_id)

    async def _refresh(self, slack_user_id: str) -> SlackUser:
        if self.slack is None:
            raise UserError("Slack is not configured, so I can't tell who you are.")
        profile = (await self.slack.users_info(user=slack_user_id, include_locale=True))["user"]
        email = (profile.get("profile") or {}).get("email")
        if not email:
            raise UserError("I can't see your e-mail address in Slack, so I can't find you in the HR system.")
        try:
            person = await self.provider.find_person(email)
        except ProviderNotFound:
            raise UserError(
                f"I couldn't find {email} in {self.provider.display_name}. Ask your admin to add you there."
            ) from None
        name = profile.get("real_name") or (profile.get("profile") or {}).get("real_name") or person.name
        user = SlackUser(
            slack_user_id=slack_user_id,
            email=email.lower(),
            name=name,
            tz=profile.get("tz"),
            locale=profile.get("locale"),
            person_id=person.id,
        )
        self._zones[slack_user_id] = _zone(user.tz)  # a person may have moved: Slack's word is the latest
        if user.locale:
            self._locales[slack_user_id] = user.locale
        return await self.store.save_slack_user(user=user)

    async def slack_id_for(self, person: Person | None) -> str | None:
        """The Slack user id of a provider person, or None when Slack doesn't know them (or no person)."""
        if person is None:
            return None
        if person.slack_user_id:
            return person.slack_user_id
        if not person.email:
            return None
        known = await self.store.slack_user_by_email(email=person.email)
        if known is not None:
            return known.slack_user_id
        if self.slack is None:
            return None
        try:
            found = (await self.slack.users_lookupByEmail(email=person.email))["user"]
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        user = SlackUser(
            slack_user_id=found["id"],
            email=person.email.lower(),
            name=found.get("real_name") or person.name,
            tz=found.get("tz"),
            person_id=person.id,
        )
        await self.store.save_slack_user(user=user)
        return user.slack_user_id

    async def slack_ids_for(self, people: Iterable[Person]) -> list[str | None]:
        """``slack_id_for`` of each person, the store asked once for all of them (Slack only for the unknown)."""
        people = list(people)
        emails = {p.email for p in people if p.email and not p.slack_user_id}
        known = await self.store.slack_users_by_emails(emails=emails) if emails else {}
        found = []
        for person in people:
            user = None if person.slack_user_id else known.get((person.email or "").lower())
            found.append(user.slack_user_id if user else await self.slack_id_for(person))
        return found

    async def namer(self, absences: Iterable[Absence]) -> Callable[[Person], str]:
        """Names people by their Slack mention when the store knows them (one query for all), else by name."""
        emails = {a.person.email for a in absences if a.person.email and not a.person.slack_user_id}
        known = await self.store.slack_users_by_emails(emails=emails)

        def name(person: Person) -> str:
            user = known.get((person.email or "").lower())
            slack_id = person.slack_user_id or (user.slack_user_id if user else None)
            return f"<@{slack_id}>" if slack_id else escape(person.name)

        return name


def _zone(name: str | None) -> tzinfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _aware(user: SlackUser) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
    stamp = user.updated_at
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=now().tzinfo)
