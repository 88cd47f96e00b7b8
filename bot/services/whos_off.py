"""Who is off on a day, and the daily digest posted once per channel per day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from bot.services.requests import LeaveService
from bot.views.whos_off import whos_off
from providers.models import Absence, Status

log = logging.getLogger(__name__)

CLAIM_STALE_AFTER = timedelta(minutes=10)  # a claim older than this, never posted, died with its instance


async def absent_on(service: LeaveService, day: date) -> list[Absence]:
    """Approved absences covering ``day``: pending, declined and cancelled ones are not 'off'."""
    absences = await service.provider.absences(day, day)
    return [a for a in absences if a.status == Status.APPROVED and a.covers(day)]


async def mentions(service: LeaveService, absences: list[Absence]) -> Callable[[Absence], str]:
    """A function naming each absent person: their Slack mention when known, else their name."""
    known: dict[str, str] = {}
    for absence in absences:
        person = absence.person
        if person.slack_user_id:
            known[person.id] = person.slack_user_id
        elif person.email and (user := await service.store.slack_user_by_email(email=person.email)):
            known[person.id] = user.slack_user_id
    return lambda a: f"<@{known[a.person.id]}>" if a.person.id in known else a.person.name


async def render(service: LeaveService, day: date, *, title: str) -> tuple[str, list[dict[str, object]]]:
    """Fallback text and blocks of who is off on ``day``."""
    absences = await absent_on(service, day)
    return whos_off(absences, day, await mentions(service, absences), title=title)


async def post_digest(service: LeaveService, *, channels: list[str], day: date) -> dict[str, bool]:
    """Post the day's digest to each channel that has none yet; {channel: posted now}."""
    assert service.slack is not None
    results: dict[str, bool] = {}
    content = None
    for channel in channels:
        if not await service.store.claim_digest(channel=channel, day=day, stale_after=CLAIM_STALE_AFTER):
            results[channel] = False
            continue
        try:
            content = content or await render(service, day, title="Who's off today")
            answer = await service.slack.chat_postMessage(channel=channel, text=content[0], blocks=content[1])
        except Exception:
            await service.store.release_digest(channel=channel, day=day)  # so the next run retries it
            raise
        await service.store.digest_posted(channel=channel, day=day, ts=answer["ts"])
        results[channel] = True
    return results
