"""A typed request's preview: read in the typist's own locale and time zone, warning of what would surprise.

It runs before the ack when all it needs is in memory; otherwise (a numeric date whose order only the
person's locale decides, never read from Slack yet, or no leave types known) the listener acks first and
``typist`` learns what is missing: each Slack user's locale is read once, then remembered like their zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.parsing import ParseError, order_matters, parse_request, reads_day_first
from bot.services.calendar import country_calendar
from bot.services.deps import Deps
from bot.services.requests import Requests, Submitted
from bot.views import requests as views
from bot.views.blocks import Blocks
from providers.errors import ProviderError

TYPES_BUDGET = 2.0  # seconds the HR system's leave types are waited for after the ack


@dataclass(frozen=True)
class Typist:
    """Who typed a request, as far as it decides how it is read: their today and Slack locale."""

    today: date
    locale: str | None = None

    @property
    def day_first(self) -> bool:
        """Numeric dates day first (every locale but en-US, and an unknown one)."""
        return reads_day_first(self.locale)


class Previews:
    """Parses typed requests for the person who typed them and builds the preview."""

    def __init__(self, deps: Deps, requests: Requests) -> None:
        self.deps = deps
        self.requests = requests

    def typist_known(self, slack_user_id: str | None) -> Typist:
        """The typist as remembered: no I/O, for an ack."""
        people = self.deps.people
        locale = people.remembered_locale(slack_user_id) if slack_user_id else None
        return Typist(self.deps.today_known(slack_user_id), locale)

    def ready(self, text: str, typist: Typist, *, country: str | None) -> bool:
        """True when ``text`` can be previewed with what is known: else learn the typist first."""
        if not self.requests.types_known():
            return False
        return typist.locale is not None or not order_matters(text, today=typist.today, country=country)

    async def typist(self, slack_user_id: str) -> Typist:
        """The typist with their locale (read from Slack the first time), and the leave types tried once more."""
        locale = await self.deps.people.locale_of(slack_user_id)
        if not self.requests.types_known():
            with contextlib.suppress(TimeoutError, ProviderError):  # the preview says the type is not known
                await asyncio.wait_for(self.requests.leave_types(), TYPES_BUDGET)
        return Typist(await self.deps.today_for(slack_user_id), locale)

    def preview(self, text: str, typist: Typist, *, country: str | None) -> Blocks:
        """The preview of ``text`` as ``typist`` means it (ParseError when it cannot be read)."""
        types = self.requests.cached_leave_types()
        draft = parse_request(
            text, today=typist.today, leave_types=types, country=country, dates_day_first=typist.day_first
        )
        workdays = country_calendar(self.deps.plan, draft.start_date, draft.end_date).workdays(
            draft.start_date, draft.end_date
        )
        typed = {"text": text, "today": typist.today.isoformat(), "day_first": typist.day_first}
        return views.preview(
            draft,
            uuid.uuid4().hex,
            typist.today,
            month_first=not typist.day_first,
            no_workday=not workdays,
            type_note=self.type_note(draft.leave_type),
            typed=typed,
        )

    async def submit(self, value: str, *, slack_user_id: str, country: str | None) -> Submitted:
        """Submit a preview's request (its button ``value``); made while the leave types were not known,
        its text is read again for the type it names, now that they may be."""
        draft_id, draft = views.read_preview_value(value)
        typeless = views.preview_typeless(value)
        if isinstance(typeless, dict) and draft.leave_type is None:
            draft = draft.model_copy(update={"leave_type": await self._type_named(typeless, country)})
        return await self.requests.submit(
            draft=draft, key=f"draft:{draft_id}", slack_user_id=slack_user_id, typeless=bool(typeless)
        )

    async def _type_named(self, typed: dict[str, Any], country: str | None) -> str | None:
        """The leave type a text names, read with the HR system's types if it lists them now."""
        try:
            types = await self.requests.leave_types()
            draft = parse_request(
                str(typed["text"]),
                today=date.fromisoformat(str(typed["today"])),
                leave_types=types,
                country=country,
                dates_day_first=bool(typed["day_first"]),
            )
        except (ProviderError, ParseError):
            return None  # still unknown: the HR system's default, which the confirmation names
        return draft.leave_type

    def type_note(self, named: str | None) -> str | None:
        """What the preview says of the leave type while the HR system's types are not known: none could
        be matched, and Submit names the one it went in as."""
        if self.requests.types_known():
            return None
        return views.types_unknown_line(self.deps.provider.display_name)
