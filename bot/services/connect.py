"""Opting in to "my leave in my Slack status": the OAuth v2 user-token flow, run by leavebot itself, and the
tokens it yields, kept encrypted with LEAVEBOT_SECRET_KEY.

Bolt's own OAuth (``OAuthFlow``, installation stores) is for installing an app in many workspaces, and would
take over the bot token's authorisation; here one workspace's members each grant a user token, so the
flow is ``AuthorizeUrlGenerator`` and ``oauth.v2.access`` from slack_sdk, with a state of our own: signed
(HMAC) so a forged one is refused without a database read, and stored so it is used once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import time, timedelta

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.services.deps import Deps

log = logging.getLogger(__name__)

# users.profile:write sets the status, dnd:write snoozes notifications, users.profile:read reads the status
# someone had before their leave, to give it back afterwards.
USER_SCOPES = ("users.profile:read", "users.profile:write", "dnd:write")
STATE_LIFETIME = timedelta(minutes=10)  # as Bolt's own state store
REDIRECT_PATH = "/slack/oauth_redirect"


class ConnectRefused(Exception):
    """The OAuth callback is refused; the message is for the person in the browser."""


@dataclass(frozen=True)
class AwayConfig:
    """What connecting and the status job need from the settings."""

    client_id: str
    client_secret: str
    public_url: str
    secret_key: str
    emoji: str = ":palm_tree:"
    workday_start: time = time(9, 0)
    workday_split: time = time(13, 0)
    workday_end: time = time(17, 30)

    @classmethod
    def from_settings(cls, settings: Settings) -> AwayConfig | None:
        """The configuration, or None while any of the four settings it needs is missing (the feature is off)."""
        if not settings.oauth_ready:
            return None
        assert settings.slack_client_id and settings.slack_client_secret and settings.leavebot_public_url
        assert settings.leavebot_secret_key
        return cls(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            public_url=settings.leavebot_public_url,
            secret_key=settings.leavebot_secret_key.get_secret_value(),
            emoji=settings.away_status_emoji,
            workday_start=settings.workday_start,
            workday_split=settings.workday_split,
            workday_end=settings.workday_end,
        )

    @property
    def redirect_uri(self) -> str:
        """Where Slack sends the person back: registered in manifest.yml's oauth_config.redirect_urls."""
        return self.public_url + REDIRECT_PATH


class Connections:
    """Who connected their Slack status, and the flow that connects them."""

    def __init__(self, deps: Deps, config: AwayConfig) -> None:
        self.deps = deps
        self.config = config
        self._fernet = Fernet(config.secret_key)
        # The state's signing key is derived, so the Fernet key itself never signs anything readable.
        self._signing = hmac.new(config.secret_key.encode(), b"leavebot oauth state", hashlib.sha256).digest()
        self._urls = AuthorizeUrlGenerator(
            client_id=config.client_id,
            redirect_uri=config.redirect_uri,
            scopes=[],
            user_scopes=list(USER_SCOPES),
        )

    async def authorize_url(self, slack_user_id: str) -> str:
        """Slack's consent page for this person, with a fresh single-use state (10 minutes)."""
        nonce = secrets.token_urlsafe(18)
        await self.deps.store.issue_state(nonce=nonce, slack_user_id=slack_user_id, lifetime=STATE_LIFETIME)
        return self._urls.generate(state=f"{nonce}.{slack_user_id}.{self._sign(nonce, slack_user_id)}")

    async def finish(self, *, code: str, state: str) -> str:
        """Exchange the callback's code for the person's user token and keep it; their Slack user id.

        ConnectRefused for a forged, expired or used state, a code Slack refuses, or a token of someone else.
        """
        nonce, user = self._verified(state)
        if not await self.deps.store.consume_state(nonce=nonce, slack_user_id=user):
            raise ConnectRefused(
                "This link was used already or is too old. Press the button in leavebot's Home again."
            )
        answer = await self._exchange(code)
        authed = answer.get("authed_user") or {}
        granted = set(str(authed.get("scope", "")).split(","))
        if authed.get("id") != user or authed.get("token_type") != "user" or not authed.get("access_token"):
            log.warning(
                "refused an OAuth callback: the token Slack gave is not the user's who asked (%s)", user
            )
            raise ConnectRefused(
                "Slack gave leavebot a token for someone else. Press the button in your own Home."
            )
        if missing := set(USER_SCOPES) - granted:
            raise ConnectRefused(
                f"Slack did not grant {', '.join(sorted(missing))}. Press the button again and allow it."
            )
        token = self._fernet.encrypt(str(authed["access_token"]).encode()).decode()
        team = (answer.get("team") or {}).get("id")
        await self.deps.store.save_token(
            slack_user_id=user, team_id=team, token=token, scopes=",".join(sorted(granted))
        )
        log.info("%s connected their Slack status to their leave", user)
        return user

    async def token_for(self, slack_user_id: str) -> str | None:
        """Someone's user token in the clear, or None when they never connected (or the key cannot read it)."""
        row = await self.deps.store.user_token(slack_user_id=slack_user_id)
        if row is None:
            return None
        try:
            return self._fernet.decrypt(row.token.encode()).decode()
        except InvalidToken:
            log.error(
                "the user token of %s cannot be read with LEAVEBOT_SECRET_KEY (was the key changed?)",
                slack_user_id,
            )
            return None

    async def connected(self, slack_user_id: str) -> bool:
        """True once someone connected (and until they disconnect, or Slack revokes the token)."""
        return await self.deps.store.user_token(slack_user_id=slack_user_id) is not None

    async def disconnect(self, slack_user_ids: list[str] | None = None) -> int:
        """Forget these people's tokens (None: everyone's, the app was uninstalled); how many were forgotten."""
        return await self.deps.store.delete_tokens(slack_user_ids=slack_user_ids)

    def _sign(self, nonce: str, user: str) -> str:
        return hmac.new(self._signing, f"{nonce}.{user}".encode(), hashlib.sha256).hexdigest()[:32]

    def _verified(self, state: str) -> tuple[str, str]:
        nonce, _, rest = state.partition(".")
        user, _, signature = rest.partition(".")
        if not (nonce and user and signature) or not hmac.compare_digest(signature, self._sign(nonce, user)):
            log.warning("refused an OAuth callback with a forged state")
            raise ConnectRefused("This link is not one leavebot made. Press the button in leavebot's Home.")
        return nonce, user

    async def _exchange(self, code: str) -> dict[str, object]:
        slack = self.deps.slack
        client = AsyncWebClient(base_url=slack.base_url if slack else "https://slack.com/api/")
        try:
            # oauth.v2.access as slack_sdk's ``oauth_v2_access`` makes it, but with the client id and secret
            # in the form body (which Slack accepts as well as HTTP Basic auth): slack_sdk 3.47 sends Basic auth
            # through aiohttp's BasicAuth, deprecated in aiohttp 3.14 (a DeprecationWarning on every call).
            answer = await client.api_call(
                "oauth.v2.access",
                data={
                    "client_id": self.config.client_id,
                    "client_secret": self.config.client_secret,
                    "code": code,
                    "redirect_uri": self.config.redirect_uri,
                },
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("Slack refused an OAuth code (%s)", error)
            if error in ("invalid_client_id", "bad_client_secret", "bad_redirect_uri"):
                log.error(
                    "Slack refused leavebot's OAuth settings (%s): check SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and LEAVEBOT_PUBLIC_URL",
                    error,
                )
            raise ConnectRefused(
                "Slack did not accept this sign-in (it may have been used already). Press the button in leavebot's Home again."
            ) from None
        return dict(answer.data) if isinstance(answer.data, dict) else {}
