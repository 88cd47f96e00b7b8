"""What a user is told when something goes wrong: one place turns every failure into plain words."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

SLACK_PASSING = {"ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"}


def passing(exc: BaseException) -> bool:
    """True for a failure that may pass: the HR system or Slack down, slow or rate-limiting.

    False for a refusal, bad credentials, or a Slack error that repeating cannot mend
    (``channel_not_found``, ``message_not_found``…).
    """
    if isinstance(exc, ProviderUnavailable | ProviderRateLimited):
        return True
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return status >= 500 or status == 429 or exc.response.get("error") in SLACK_PASSING
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError)


class UserError(Exception):
    """A failure the user can understand or fix; its message is shown to them as it is."""


class NotAnApprover(UserError):
    """Someone who is not an approver of a request pressed its buttons."""


def friendly(exc: BaseException) -> str:
    """The message a Slack user sees for ``exc``; never a stack trace, never a secret."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ProviderRejected):
        return f"The HR system said no: {exc.message}"
    if isinstance(exc, ProviderRateLimited):
        return "The HR system is busy right now: please try again in a minute."
    if isinstance(exc, ProviderUnavailable):
        return "The HR system isn't answering right now: please try again in a few minutes."
    if isinstance(exc, ProviderAuthError):
        return "leavebot can't sign in to the HR system (its credentials were refused). Your admin has been told in the logs."
    if isinstance(exc, ProviderNotFound):
        return f"The HR system doesn't know that: {exc.message}"
    if isinstance(exc, ProviderError):
        return f"The HR system had a problem: {exc.message}"
    # Never "nothing was lost" here: only a message that knows its work was stored may say so.
    return "Something went wrong on leavebot's side: please try again, and tell your admin if it keeps happening."
