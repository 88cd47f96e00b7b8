"""Build the HTTP requests Slack sends to the app (signed headers, slash commands, interactivity, events)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

APP_ID = "A0001"
TEAM_DOMAIN = "acme"
# Slack still sends the deprecated verification token in every payload; apps must not trust it.
VERIFICATION_TOKEN = "verification-token-unused"

_trigger_seq = itertools.count(1)


def _trigger_id() -> str:
    """A fresh trigger_id shaped like Slack's ("13345224609.738474920.8088930838d88f008e0")."""
    return f"{13345224609 + next(_trigger_seq)}.738474920.{secrets.token_hex(10)}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _user(user_id: str, team_id: str) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _channel_name(channel_id: str) -> str:
    return "directmessage" if channel_id.startswith("D") else "general"


def signature(body: str, secret: str, timestamp: int | str) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    basestring = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


def signed_headers(
    body: str,
    secret: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    retry_num: int | None = None,
) -> dict[str, str]:
    """Headers Slack sends with ``body``, signed with ``secret`` (timestamp defaults to now)."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, secret, ts),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def slash_command(
    text: str,
    *,
    user_id: str,
    command: str = "/leave",
    channel_id: str = "C0001",
    response_url: str,
    trigger_id: str | None = None,
    team_id: str = "T0001",
    user_name: str = "alice",
) -> str:
    """Form-encoded slash-command body with every field Slack sends, in Slack's order."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": _channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or _trigger_id(),
        }
    )


def interactive(payload: dict[str, Any]) -> str:
    """Form body for an interactivity payload: ``payload=<url-encoded JSON>``."""
    return "payload=" + quote(json.dumps(payload))


def block_action(
    *,
    user_id: str,
    action_id: str,
    value: str,
    block_id: str = "b",
    response_url: str | None = None,
    channel_id: str = "C0001",
    message_ts: str = "1764000000.000001",
    container_type: str = "message",
    trigger_id: str | None = None,
    team_id: str = "T0001",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload for a button click on a message."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": container_type,
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": _channel_name(channel_id)},
        "message": message or _bot_message(message_ts),
        "state": {"values": {}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": _action_ts(),
            }
        ],
    }
    # Slack omits response_url where there is none (e.g. actions inside modals); never sends null.
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def modal_choice(
    *,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, Any],
    action_id: str,
    selected: str,
    team_id: str = "T0001",
) -> dict[str, Any]:
    """The block_actions payload of a choice in a select with ``dispatch_action`` inside an open modal:
    ``view`` as Slack holds it (its id and hash), its state ``values`` as they are now; no response_url."""
    return {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {**view, "state": {"values": values}},
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": action_id,
                "selected_option": {"text": {"type": "plain_text", "text": selected}, "value": selected},
                "action_ts": _action_ts(),
            }
        ],
    }


def _bot_message(ts: str) -> dict[str, Any]:
    return {"type": "message", "user": "UBOT", "bot_id": "B0001", "app_id": APP_ID, "ts": ts, "text": ""}


def view_submission(
    *,
    user_id: str,
    callback_id: str,
    values: dict[str, Any],
    private_metadata: str = "",
    view_id: str = "V0001",
    trigger_id: str | None = None,
    team_id: str = "T0001",
) -> dict[str, Any]:
    """A view_submission payload whose ``view.state.values`` is ``values``."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Request leave", "emoji": True},
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "B0001",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(event: dict[str, Any], *, event_id: str = "Ev0001", team_id: str = "T0001") -> str:
    """JSON body of an Events API ``event_callback`` envelope around ``event``."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )
