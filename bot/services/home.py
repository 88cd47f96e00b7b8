"""The App Home of each person, published when they open it and again after every change that concerns them."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.errors import UserError
from bot.store.tables import LeaveRequest
from bot.views.home import HomeSummary, build_home
from providers.errors import ProviderError
from providers.models import Balance

if TYPE_CHECKING:
    from bot.services.requests import LeaveService

log = logging.getLogger(__name__)


async def home_summary(service: LeaveService, slack_user_id: str, *, today: date) -> HomeSummary:
    """Their upcoming requests, the requests waiting for their decision, and their balance."""
    mine, to_decide = await service.upcoming_of(slack_user_id, today=today)
    return HomeSummary(mine=mine, to_decide=to_decide, balance=await _balance(service, slack_user_id))


async def _balance(service: LeaveService, slack_user_id: str) -> Balance | None:
    if not service.provider.capabilities.balances:
        return None
    try:
        return await service.provider.balance(await service.people.person_for(slack_user_id))
    except (UserError, ProviderError) as exc:  # the Home still shows, without the balance
        log.info("no balance for %s in the Home: %s", slack_user_id, exc)
        return None


async def publish_home(
    service: LeaveService, slack_user_id: str, *, today: date | None = None, notice: str | None = None
) -> None:
    """Publish someone's Home tab as it stands now."""
    if service.slack is None:
        return
    today = today or await service.today_for(slack_user_id)
    summary = await home_summary(service, slack_user_id, today=today)
    await service.slack.views_publish(
        user_id=slack_user_id, view=build_home(summary, today=today, notice=notice)
    )


async def refresh_homes(service: LeaveService, request: LeaveRequest) -> None:
    """Publish again the Home of the requester and of every approver of ``request``; failures are only logged."""
    if service.slack is None:
        return
    cards = await service.store.cards(request_id=request.id)
    users = dict.fromkeys(u for u in [request.requester_slack_id, *(c.approver_slack_id for c in cards)] if u)
    results = await asyncio.gather(*(publish_home(service, u) for u in users), return_exceptions=True)
    for user, result in zip(users, results, strict=True):
        # The change itself is done: a Home that could not be refreshed must not report it as failed.
        if isinstance(result, SlackApiError | ProviderError | UserError):
            log.warning("could not refresh the Home of %s: %s", user, result)
        elif isinstance(result, Exception):
            log.error("could not refresh the Home of %s", user, exc_info=result)
        elif isinstance(result, BaseException):
            raise result
