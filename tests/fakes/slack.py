"""A real loopback HTTP server that stands in for Slack's Web API (and response_url hooks) in tests.

Point ``AsyncWebClient(token=..., base_url=fake.url)`` at it. It runs in a daemon thread, so it works
from sync tests and from any asyncio event loop. Listener work in Bolt happens after the HTTP ack, so
tests should ``await fake.wait_for("chat.postMessage")`` before asserting on recorded calls.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fakes.loopback import Incoming, Loopback, Reply

TEAM_ID = "T0001"
TEAM_NAME = "Acme"
TEAM_URL = "https://acme.slack.com/"
BOT_USER_ID = "UBOT"
BOT_ID = "B0001"
APP_ID = "A0001"
NOT_IN_CHANNEL = "C_NOT_IN"
MISSING_CHANNEL = "C_MISSING"
APP_TOKEN = "xapp-test"
# The bot scopes an installed leavebot is granted; Slack names them in every answer's x-oauth-scopes header.
GRANTED_SCOPES = ("commands", "chat:write", "users:read", "users:read.email")
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"
# The user scopes someone grants when they connect their status (what leavebot asks for).
USER_SCOPES = ("users.profile:read", "users.profile:write", "dnd:write")
# Slack's methods that only a user token may call, and the user scope each needs.
_USER_METHODS = {
    "users.profile.get": "users.profile:read",
    "users.profile.set": "users.profile:write",
    "dnd.setSnooze": "dnd:write",
    "dnd.endSnooze": "dnd:write",
}
STATUS_LIMIT = 100

# Fields slack_sdk (and other clients) may send as JSON strings inside a form body.
_JSON_FIELDS = ("blocks", "view", "attachments", "profile")
_TS_EPOCH = 1764000000


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    args: dict[str, Any]
    token: str | None


class SlackError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _is_user_id(channel: str) -> bool:
    return channel[:1] in ("U", "W")


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            # Undecodable JSON is left as sent so the method answers invalid_arguments like Slack.
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(value)
    return args


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    text = raw.decode("utf-8")
    if "json" in content_type or text.lstrip().startswith("{"):
        parsed = json.loads(text)
        return parsed if isinstance(parsed, dict) else {"_body": parsed}
    return dict(parse_qsl(text, keep_blank_values=True))


def _tz_offset(tz: str) -> int:
    offset = datetime.now(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


class FakeSlack(Loopback):
    """Loopback stand-in for Slack's Web API that records every call."""

    def __init__(self, token: str = "xoxb-test", *, app_token: str = APP_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.app_token = app_token
        self.scopes: tuple[str, ...] = GRANTED_SCOPES
        self.scheduled: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._errors: dict[str, deque[str]] = defaultdict(deque)
        self._revoked = False
        self._down = False
        self._seq = itertools.count(1)
        # OAuth: codes handed out by Slack's consent page, user tokens, and each member's profile and DND.
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.redirect_uri: str | None = None  # the one registered; None: any
        self.codes: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.user_tokens: dict[str, tuple[str, tuple[str, ...]]] = {}  # token -> (user, scopes)
        self.revoked_users: set[str] = set()
        self.profiles: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"status_text": "", "status_emoji": "", "status_expiration": 0}
        )
        self.snoozes: dict[str, float] = {}  # user -> snooze end (epoch seconds)
        self._caller: tuple[str, tuple[str, ...]] | None = None  # the user token's owner, during a call
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "chat.scheduleMessage": self._chat_schedule_message,
            "chat.deleteScheduledMessage": self._chat_delete_scheduled_message,
            "users.profile.get": self._users_profile_get,
            "users.profile.set": self._users_profile_set,
            "dnd.setSnooze": self._dnd_set_snooze,
            "dnd.endSnooze": self._dnd_end_snooze,
        }

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Web API base URL to pass as ``AsyncWebClient(base_url=...)``."""
        return f"{self.root}/api/"

    # -- test set-up -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        email: str,
        name: str,
        real_name: str | None = None,
        tz: str = "Europe/London",
        locale: str = "en-GB",
        is_bot: bool = False,
    ) -> None:
        """Register a workspace member for users.info / users.lookupByEmail (``locale`` only with include_locale)."""
        with self._lock:
            self.users[user_id] = {
                "id": user_id,
                "email": email,
                "name": name,
                "real_name": real_name or name,
                "tz": tz,
                "locale": locale,
                "is_bot": is_bot,
            }

    def consent(self, user_id: str, scopes: tuple[str, ...] = USER_SCOPES) -> str:
        """What Slack's consent page does when ``user_id`` presses Allow: a one-time code for oauth.v2.access."""
        with self._lock:
            code = f"code-{next(self._seq)}-{user_id}"
            self.codes[code] = (user_id, scopes)
            return code

    def revoke_user(self, user_id: str) -> None:
        """Make every later call with ``user_id``'s user token answer ``token_revoked``."""
        with self._lock:
            self.revoked_users.add(user_id)

    def set_status(self, user_id: str, text: str, emoji: str = "", expiration: int = 0) -> None:
        """The member sets their own status in Slack."""
        with self._lock:
            self.profiles[user_id].update(status_text=text, status_emoji=emoji, status_expiration=expiration)

    def status_of(self, user_id: str) -> dict[str, Any]:
        """A member's status as Slack shows it now (an expired one is gone)."""
        with self._lock:
            return dict(self._profile(user_id))

    def snoozed_until(self, user_id: str) -> float | None:
        """When a member's DND snooze ends, while one is on."""
        with self._lock:
            end = self.snoozes.get(user_id)
            return end if end and end > time.time() else None

    def revoke(self) -> None:
        """Make every later Web API call answer ``token_revoked``."""
        with self._lock:
            self._revoked = True

    def outage(self, down: bool = True) -> None:
        """While ``down``, every Web API call and response_url post answers 503 and does nothing (an outage)."""
        with self._lock:
            self._down = down

    def error_next(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with the API error ``{"ok": false, "error": error}``
        (HTTP 200, as Slack answers them); ``fail_next`` is the transport-level fault."""
        with self._lock:
            self._errors[method].extend([error] * times)

    def response_url(self, name: str = "r1") -> str:
        """A response_url whose POSTs are recorded as method ``hooks/<name>``."""
        return f"{self.root}/hooks/{name}"

    # -- queries ---------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to ``method``, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Stored (non-deleted) messages in ``channel``, oldest first."""
        with self._lock:
            found = [msg for (chan, _), msg in self.messages.items() if chan == channel]
        return sorted(found, key=lambda msg: msg["ts"])

    def reset(self) -> None:
        """Forget recorded calls (stored messages, views and users are kept)."""
        with self._lock:
            self.calls.clear()

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` calls to ``method`` were recorded; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls_to(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(method, count, len(found), timeout))
            await asyncio.sleep(0.01)
        return found

    def wait_for_sync(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Blocking twin of :meth:`wait_for` for non-async tests."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls_to(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(method, count, len(found), timeout))
            time.sleep(0.01)
        return found

    def _timeout_message(self, method: str, count: int, got: int, timeout: float) -> str:
        with self._lock:
            seen = [call.method for call in self.calls]
        return f"expected {count} call(s) to {method} within {timeout}s, got {got}; calls seen: {seen}"

    # -- request routing (runs on server threads) ------------------------------------------------

    @staticmethod
    def _args(incoming: Incoming) -> dict[str, Any]:
        body = _parse_body(incoming.raw, incoming.headers.get("Content-Type", ""))
        return _decode_json_fields({**incoming.query, **body})

    def _serve(self, incoming: Incoming) -> Reply | None:
        # A call is seen in ``calls`` only once its work is done, as before the shared base (tests read the
        # bot's stored results as soon as they see the call).
        with self._lock:
            return super()._serve(incoming)

    def _record(self, incoming: Incoming) -> None:
        if self._down:
            return
        with self._lock:
            if incoming.path.startswith("/hooks/"):
                self.calls.append(Call(incoming.path.removeprefix("/"), self._args(incoming), None))
            elif incoming.path.startswith("/api/"):
                args = self._args(incoming)
                token = self._token(args, incoming.headers.get("Authorization"))
                self.calls.append(Call(incoming.path.removeprefix("/api/"), args, token))

    def _answer(self, incoming: Incoming) -> Reply:
        if self._down:
            return Reply(503, "upstream connect error")
        if incoming.path.startswith("/hooks/"):
            return Reply(200, "ok")
        if not incoming.path.startswith("/api/"):
            return Reply(404, "not found")
        args = self._args(incoming)
        authorization = incoming.headers.get("Authorization")
        token = self._token(args, authorization)
        with self._lock:
            return self._call(incoming.path.removeprefix("/api/"), args, token, authorization)

    def _fault_body(self, status: int, message: str) -> Any:
        return {"ok": False, "error": message or ("ratelimited" if status == 429 else "internal_error")}

    @staticmethod
    def _token(args: dict[str, Any], authorization: str | None) -> str | None:
        # Slack also accepts the legacy `token` body field when no Authorization header is sent.
        body_token = args.pop("token", None)
        if authorization and authorization.startswith("Bearer "):
            return authorization.removeprefix("Bearer ")
        return body_token

    def _call(
        self, method: str, args: dict[str, Any], token: str | None, authorization: str | None = None
    ) -> Reply:
        if method == "apps.connections.open":
            return self._connections_open(token)
        if method == "oauth.v2.access":  # authenticated by the app's client id and secret, not a token
            return self._oauth_v2_access(args, authorization)
        try:
            self._check_auth(token)
            self._caller = self.user_tokens.get(token or "")
            if method in _USER_METHODS:
                self._check_user_scope(method)
        except SlackError as err:
            return Reply(200, {"ok": False, "error": err.error, **err.extra})
        # Like Slack, an answer to an authenticated call names the token's scopes.
        granted = {"x-oauth-scopes": ",".join(self.scopes)}
        try:
            if queue := self._errors.get(method):
                raise SlackError(queue.popleft())
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            return Reply(200, {"ok": True, **handler(args)}, granted)
        except SlackError as err:
            return Reply(200, {"ok": False, "error": err.error, **err.extra}, granted)

    def _connections_open(self, token: str | None) -> Reply:
        """Socket Mode's apps.connections.open: only the app-level token may call it."""
        if not token:
            error = "not_authed"
        elif token.startswith(("xoxb-", "xoxp-")):
            error = "not_allowed_token_type"
        elif token != self.app_token:
            error = "invalid_auth"
        else:
            return Reply(200, {"ok": True, "url": f"{self.root.replace('http', 'ws', 1)}/link/?ticket=t"})
        return Reply(200, {"ok": False, "error": error})

    def _check_auth(self, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if token in self.user_tokens:
            if self.user_tokens[token][0] in self.revoked_users:
                raise SlackError("token_revoked")
            return
        if token != self.token:
            raise SlackError("invalid_auth")
        if self._revoked:
            raise SlackError("token_revoked")

    def _next_ts(self) -> str:
        micros = next(self._seq) * 100
        return f"{_TS_EPOCH + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._seq):08d}"

    # -- auth / chat -----------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": "leavebot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    @staticmethod
    def _channel(args: dict[str, Any]) -> str:
        channel = args.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        if channel == NOT_IN_CHANNEL:
            raise SlackError("not_in_channel")
        if channel == MISSING_CHANNEL:
            raise SlackError("channel_not_found")
        # Posting to a user id delivers to the bot's DM with that user.
        return f"D{channel}" if _is_user_id(channel) else channel

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise SlackError("no_text")
        ts = self._next_ts()
        stored = {"ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks") or []}
        stored["thread_ts"] = args.get("thread_ts")
        self.messages[(channel, ts)] = stored
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, **stored}
        if message["thread_ts"] is None:
            del message["thread_ts"]
        return {"channel": channel, "ts": ts, "message": message}

    def _stored_message(self, args: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        stored = self.messages.get((channel, ts))
        if stored is None:
            raise SlackError("message_not_found")
        return channel, ts, stored

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts, stored = self._stored_message(args)
        # Like Slack, omitted text/blocks keep their previous value.
        for key in ("text", "blocks"):
            if key in args:
                stored[key] = args[key]
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, **stored}
        return {"channel": channel, "ts": ts, "text": stored["text"], "message": message}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self._channel(args)
        if not args.get("user"):
            raise SlackError("user_not_in_channel")
        return {"message_ts": self._next_ts()}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts, _ = self._stored_message(args)
        del self.messages[(channel, ts)]
        return {"channel": channel, "ts": ts}

    def _chat_schedule_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        post_at = int(args.get("post_at") or 0)
        if post_at <= time.time():
            raise SlackError("time_in_past")
        if post_at > time.time() + 120 * 86400:
            raise SlackError("time_too_far")
        message_id = self._next_id("Q")
        self.scheduled[message_id] = {"channel": channel, "post_at": post_at, "text": args.get("text", "")}
        return {"channel": channel, "scheduled_message_id": message_id, "post_at": post_at}

    def _chat_delete_scheduled_message(self, args: dict[str, Any]) -> dict[str, Any]:
        scheduled = self.scheduled.get(args.get("scheduled_message_id", ""))
        if scheduled is None or scheduled["channel"] != args.get("channel"):
            raise SlackError("invalid_scheduled_message_id")
        del self.scheduled[args["scheduled_message_id"]]
        return {}

    # -- views -----------------------------------------------------------------------------------

    @staticmethod
    def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `view`"]})
        return view

    @staticmethod
    def _require_trigger(args: dict[str, Any]) -> None:
        if not args.get("trigger_id"):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]})

    def _store_view(self, view: dict[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
        view_id = view_id or self._next_id("V")
        stored = {
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._seq):08d}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = stored
        return stored

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require_trigger(args)
        return {"view": self._store_view(self._view_arg(args))}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require_trigger(args)
        return {"view": self._store_view(self._view_arg(args))}

    def _find_view(self, args: dict[str, Any]) -> dict[str, Any]:
        if view_id := args.get("view_id"):
            found = self.views.get(view_id)
        elif external_id := args.get("external_id"):
            found = next((v for v in self.views.values() if v.get("external_id") == external_id), None)
        else:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["missing `view_id`"]})
        if found is None:
            raise SlackError("not_found")
        return found

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        current = self._find_view(args)
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._store_view(self._view_arg(args), view_id=current["id"])}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["missing `user_id`"]})
        view = self._view_arg(args)
        current = self.home.get(user_id)
        if args.get("hash") and current and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view(view, view_id=current["id"] if current else None)
        self.home[user_id] = stored
        return {"view": stored}

    # -- users / conversations -------------------------------------------------------------------

    @staticmethod
    def _user_json(user: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": user["id"],
            "team_id": TEAM_ID,
            "name": user["name"],
            "deleted": False,
            "real_name": user["real_name"],
            "tz": user["tz"],
            "tz_offset": _tz_offset(user["tz"]),
            "is_bot": user["is_bot"],
            "profile": {
                "email": user["email"],
                "real_name": user["real_name"],
                "display_name": user["name"],
            },
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        found = self._user_json(user)
        # As Slack: the locale only when asked for (include_locale=true; slack_sdk sends a bool as 1).
        if str(args.get("include_locale", "")).lower() in ("1", "true"):
            found["locale"] = user["locale"]
        return {"user": found}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).casefold()
        user = next((u for u in self.users.values() if u["email"].casefold() == email), None)
        if user is None:
            raise SlackError("users_not_found")
        return {"user": self._user_json(user)}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) == 1:
            return {"channel": {"id": f"D{users[0]}"}}
        return {"channel": {"id": "G" + "".join(sorted(users))}}

    # -- OAuth, profiles and Do Not Disturb ------------------------------------------------------

    def _oauth_v2_access(self, args: dict[str, Any], authorization: str | None) -> Reply:
        """oauth.v2.access: a code from the consent page for a user token, once; client id and secret by HTTP
        Basic auth (as slack_sdk sends them) or in the body."""
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        code = str(args.get("code", ""))
        if client_id != self.client_id:
            error = "invalid_client_id"
        elif client_secret != self.client_secret:
            error = "bad_client_secret"
        elif code not in self.codes:
            error = "invalid_code"  # unknown, or used already: a code works once
        elif self.redirect_uri is not None and args.get("redirect_uri") != self.redirect_uri:
            error = "bad_redirect_uri"
        else:
            user, scopes = self.codes.pop(code)
            token = f"xoxp-{user}-{next(self._seq)}"
            self.user_tokens[token] = (user, scopes)
            return Reply(
                200,
                {
                    "ok": True,
                    "app_id": APP_ID,
                    "authed_user": {
                        "id": user,
                        "scope": ",".join(scopes),
                        "access_token": token,
                        "token_type": "user",
                    },
                    "team": {"id": TEAM_ID, "name": TEAM_NAME},
                    "enterprise": None,
                    "is_enterprise_install": False,
                },
            )
        return Reply(200, {"ok": False, "error": error})

    def _check_user_scope(self, method: str) -> None:
        if self._caller is None:
            raise SlackError("not_allowed_token_type")  # a bot token cannot set someone's status or DND
        needed = _USER_METHODS[method]
        if needed not in self._caller[1]:
            raise SlackError("missing_scope", needed=needed, provided=",".join(self._caller[1]))

    def _profile(self, user: str) -> dict[str, Any]:
        profile = self.profiles[user]
        expiration = profile.get("status_expiration") or 0
        if expiration and expiration <= time.time():  # Slack clears a status when it expires
            profile.update(status_text="", status_emoji="", status_expiration=0)
        return profile

    def _users_profile_get(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self._caller is not None
        user = self._caller[0]
        known = self.users.get(user, {})
        return {
            "profile": {
                "real_name": known.get("real_name", ""),
                "email": known.get("email"),
                **self._profile(user),
            }
        }

    def _users_profile_set(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self._caller is not None
        if args.get("user") and args["user"] != self._caller[0]:
            raise SlackError("cannot_update_admin_user")
        changes = args.get("profile")
        if not isinstance(changes, dict):
            raise SlackError("invalid_profile")
        if len(str(changes.get("status_text", ""))) > STATUS_LIMIT:
            raise SlackError("too_long")
        profile = self._profile(self._caller[0])
        for key in ("status_text", "status_emoji", "status_expiration"):
            if key in changes:
                profile[key] = int(changes[key] or 0) if key == "status_expiration" else str(changes[key])
        return {"profile": dict(profile)}

    def _dnd_set_snooze(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self._caller is not None
        try:
            minutes = int(args.get("num_minutes", ""))
        except ValueError:
            raise SlackError("invalid_arguments") from None
        end = int(time.time()) + minutes * 60
        self.snoozes[self._caller[0]] = end
        return {"snooze_enabled": True, "snooze_endtime": end, "snooze_remaining": minutes * 60}

    def _dnd_end_snooze(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self._caller is not None
        end = self.snoozes.pop(self._caller[0], None)
        if not end or end <= time.time():
            raise SlackError("snooze_not_active")
        return {"dnd_enabled": True, "next_dnd_start_ts": 0, "next_dnd_end_ts": 0, "snooze_enabled": False}
