"""What leavebot accepts from Slack: a model for each payload shape, checked before any listener runs.

Slack signs what it sends, so a signed body that fails here is a bug or an attack, not a person's mistake:
it is refused with a 400 and one log line, where a listener reading it would fail half-way (``int()`` of a
button value, a missing ``trigger_id``, ``actions`` that is a string) and answer 500. The models say only
what the listeners read; everything else Slack adds is let through untouched.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.views import ids
from providers.models import Draft

MAX_DEPTH = 48  # Slack's deepest payloads (a modal's rich-text blocks) nest about 15 levels

Text = Annotated[str, StringConstraints(max_length=4_000)]
SlackId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
REQUEST_ID = re.compile(r"[1-9][0-9]{0,17}")  # a leavebot request id: a row id, below 2**63

# The buttons whose value is a leavebot request id, and those that carry a preview's draft.
REQUEST_ID_ACTIONS = {
    ids.APPROVE,
    ids.DECLINE,
    ids.HOME_APPROVE,
    ids.HOME_DECLINE,
    ids.HOME_CANCEL,
    ids.MINE_CANCEL,
    ids.MINE_CHANGE,
}
PREVIEW_ACTIONS = {ids.SUBMIT, ids.EDIT}


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value


WebUrl = Annotated[Text, AfterValidator(_web_url)]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class User(Model):
    id: SlackId


class Preview(Model):
    """What a preview's Submit and Edit buttons carry (``views.requests.preview_value``)."""

    id: Text
    draft: Draft


class Action(Model):
    action_id: Text
    value: Text | None = None

    @model_validator(mode="after")
    def _value_fits_the_button(self) -> Action:
        if self.action_id in REQUEST_ID_ACTIONS:
            require_request_id(self.value)
        elif self.action_id in PREVIEW_ACTIONS:
            try:
                Preview.model_validate_json(self.value or "")
            except ValueError:
                raise ValueError("not a preview's value") from None
        return self


def require_request_id(value: str | None) -> None:
    if value is None or not REQUEST_ID.fullmatch(value):
        raise ValueError("not a request id")


class Option(Model):
    value: Text


class StateElement(Model):
    """One input's state, as the request and decline modals read it."""

    value: Text | None = None
    selected_date: date | None = None
    selected_time: Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] | None = None
    selected_option: Option | None = None


class ViewState(Model):
    values: dict[Text, dict[Text, StateElement]]


class View(Model):
    id: SlackId
    callback_id: Text = ""
    private_metadata: Text = ""
    state: ViewState

    @model_validator(mode="after")
    def _metadata_fits_the_modal(self) -> View:
        # The decline modal keeps the request it declines; the request modal the one it changes, if any.
        if self.callback_id == ids.DECLINE_MODAL or (
            self.callback_id == ids.REQUEST_MODAL and self.private_metadata
        ):
            require_request_id(self.private_metadata)
        return self


class ActionView(Model):
    """The view a click was made in: a modal's state is read to lay it out again."""

    id: SlackId
    state: ViewState | None = None


class BlockActions(Model):
    type: Literal["block_actions"]
    user: User
    actions: list[Action] = Field(min_length=1, max_length=25)
    trigger_id: Text
    response_url: WebUrl | None = None
    view: ActionView | None = None  # a click in the Home or a modal carries that view


class ViewSubmission(Model):
    type: Literal["view_submission"]
    user: User
    view: View


class ViewClosed(Model):
    type: Literal["view_closed"]
    user: User


class SlashCommand(Model):
    command: Text
    text: Text = ""
    user_id: SlackId
    trigger_id: Text
    response_url: WebUrl


class Event(Model):
    type: Text
    user: Any = None  # an id where leavebot reads it; other events (user_change) carry an object here

    @model_validator(mode="after")
    def _user_where_read(self) -> Event:
        if self.type == "app_home_opened" and not (isinstance(self.user, str) and 0 < len(self.user) <= 64):
            raise ValueError("app_home_opened without a user id")
        return self


class EventCallback(Model):
    type: Literal["event_callback"]
    event_id: Text
    event: Event


class UrlVerification(Model):
    type: Literal["url_verification"]
    challenge: Text


SHAPES: dict[str, type[Model]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "view_closed": ViewClosed,
    "event_callback": EventCallback,
    "url_verification": UrlVerification,
}


class Refused(ValueError):
    """A signed payload leavebot does not accept; its message is one short line for the log."""


def check(body: Any) -> None:
    """Raise :class:`Refused` unless ``body`` (Slack's payload, parsed) has a shape leavebot accepts."""
    if not isinstance(body, dict):
        raise Refused("not an object")
    if depth(body) > MAX_DEPTH:
        raise Refused(f"nested deeper than {MAX_DEPTH}")
    kind = body.get("type")
    shape = SlashCommand if "command" in body else SHAPES.get(kind) if isinstance(kind, str) else None
    if shape is None:
        raise Refused(f"no payload of type {str(kind)[:40]!r} is accepted")
    try:
        shape.model_validate(body)
    except ValueError as error:  # pydantic's ValidationError: name the first field at fault, briefly
        errors = getattr(error, "errors", lambda: [])()
        where = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
        what = errors[0]["msg"] if errors else str(error)
        raise Refused(f"{shape.__name__}: {where or 'payload'}: {what}"[:200]) from None


def depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (walked without recursion)."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 1, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest
