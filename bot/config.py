"""Settings: the one reader of the environment (and of ``.env``)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from providers import PROVIDERS

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///leavebot.db"
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "KEY")  # values of these are never echoed
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = frozenset(range(5))
NOT_SET = "not set"


class ConfigError(Exception):
    """Settings missing or invalid: each problem names its variable and says what is wrong."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems = list(problems)

    def __str__(self) -> str:
        return "; ".join(self.problems)


class Settings(BaseSettings):
    """Everything leavebot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    leavebot_provider: str = "local"
    port: int = Field(default=3000, ge=1, le=65535)
    digest_channel: str | None = None
    digest_time: time = time(9, 0)
    digest_timezone: str = "UTC"
    # Which weekdays have a digest: "Mon-Fri" (the default), "Sun-Thu", "mon,wed,fri".
    digest_days: Annotated[frozenset[int], NoDecode] = WEEKDAYS
    # Whose public holidays close the company when the provider knows none: "GB", "US-CA", "DE-BY".
    digest_country: str | None = None
    digest_skip_empty: bool = False
    # The most people of one team (department; everyone where the HR system has none) off on a day;
    # the approval card warns when approving would go over it. Unset: only the HR system's own limit.
    max_off_per_team: int | None = Field(default=None, ge=1)
    # Leave types whose name contains one of these words (any case) show as "Out of office" in the
    # digest and `/leave who`; the approver's card still shows them.
    private_leave_types: Annotated[frozenset[str], NoDecode] = frozenset({"sick"})
    # A pending request's approvers are reminded once a working day at REMINDER_TIME (DIGEST_TIMEZONE),
    # at most REMINDER_LIMIT times; then it escalates to the next approver the HR system names, else
    # to ESCALATION_APPROVER (an e-mail address or a Slack user id). Someone with no approver of their
    # own goes the same way at once: the HR system's next approver, else ESCALATION_APPROVER.
    reminder_time: time = time(10, 0)
    reminder_limit: int = Field(default=3, ge=0)
    escalation_approver: str | None = None
    # Seconds a stopping `leavebot serve` (SIGTERM) gives the work after the last acks before it hands
    # what is left to another instance, or to itself restarted.
    shutdown_grace: float = Field(default=20.0, ge=0, le=600)
    # Seconds before the work of an instance that died (a click after its ack, a provider call) is taken
    # over by another; a live instance renews its leases three times as often.
    work_lease: float = Field(default=30.0, ge=1, le=3600)
    # How often the absence mirror is brought in step with the HR system: seconds, or 30s / 5m / 1h.
    sync_interval: timedelta = Field(
        default=timedelta(minutes=5), ge=timedelta(seconds=1), le=timedelta(days=1)
    )
    # The log's threshold and shape (bot/logs.py): text lines, or one JSON object per line.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Slack's OAuth credentials of the app (Basic Information → App Credentials): only for the user tokens
    # of people who ask for their leave in their Slack status. Bolt's own OAuth mode is never switched on.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # The https base of the links leavebot hands out (the OAuth redirect URL, calendar feeds).
    leavebot_public_url: str | None = None
    # A Fernet key (`leavebot check` prints a fresh one when it is missing): encrypts the stored user tokens.
    leavebot_secret_key: SecretStr | None = None
    # The emoji of the status set while someone is on leave, and their working day (their own time zone).
    away_status_emoji: str = ":palm_tree:"
    workday_start: time = time(9, 0)
    workday_split: time = time(13, 0)  # where a morning ends and an afternoon begins
    workday_end: time = time(17, 30)
    # Who sees the department and company calendar feeds in their App Home: everyone, or only approvers.
    ical_team_feeds: Literal["everyone", "approvers"] = "everyone"

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("leavebot_public_url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        url = value.strip().rstrip("/")
        local = url.startswith(("http://127.0.0.1", "http://localhost"))
        if not (url.startswith("https://") or local):
            raise ValueError("must be an https:// URL (http:// only for 127.0.0.1 or localhost)")
        return url

    @field_validator("ical_team_feeds", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("sync_interval", mode="before")
    @classmethod
    def _read_duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("leavebot_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from cryptography.fernet import Fernet

        try:
            Fernet(value.get_secret_value().strip())
        except ValueError:
            raise ValueError(
                "must be a Fernet key: 32 url-safe base64-encoded bytes "
                '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
            ) from None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("away_status_emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        name = value.strip().strip(":")
        if not re.fullmatch(r"[a-z0-9_+\-']{1,100}", name):
            raise ValueError("must be an emoji name such as :palm_tree:")
        return f":{name}:"

    @property
    def oauth_ready(self) -> bool:
        """True when people can connect their Slack status: client id and secret, public URL and secret key."""
        return bool(
            self.slack_client_id
            and self.slack_client_secret
            and self.leavebot_public_url
            and self.leavebot_secret_key
        )

    @field_validator("slack_api_url")
    @classmethod
    def _slash_terminated(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_app_token")
    @classmethod
    def _app_level(cls, value: SecretStr | None) -> SecretStr | None:
        if value and value.get_secret_value().startswith(("xoxb-", "xoxp-")):
            raise ValueError("must be an app-level token (xapp-…), not a bot or user token")
        return value

    @field_validator("leavebot_provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in PROVIDERS:
            raise ValueError(f"unknown provider; choose one of {', '.join(sorted(PROVIDERS))}")
        return name

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (try Europe/London or UTC)") from None
        return value

    @field_validator("digest_days", mode="before")
    @classmethod
    def _read_days(cls, value: Any) -> Any:
        return parse_days(value) if isinstance(value, str) else value

    @field_validator("private_leave_types", mode="before")
    @classmethod
    def _read_words(cls, value: Any) -> Any:
        return parse_words(value) if isinstance(value, str) else value

    @field_validator("digest_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        import holidays  # only when set: the package is large

        code = value.strip().upper()
        country, _, region = code.partition("-")
        regions = holidays.list_supported_countries().get(country)
        if regions is None:
            raise ValueError("unknown country code (try GB, US, DE, FR)")
        if region and region not in regions:
            raise ValueError(f"unknown region of {country}; choose one of {', '.join(regions)}")
        return code

    @property
    def zone(self) -> ZoneInfo:
        """The digest's time zone."""
        return ZoneInfo(self.digest_timezone)

    @property
    def digest_channels(self) -> list[str]:
        """``DIGEST_CHANNEL`` may name several channels, comma-separated."""
        return list(self.digest_routes)

    @property
    def digest_routes(self) -> Mapping[str, frozenset[str] | None]:
        """Each digest channel and the departments it shows (None: everyone).

        ``DIGEST_CHANNEL=C0ALL,Engineering=C0ENG,Support=C0ENG`` posts everyone to C0ALL and
        Engineering and Support to C0ENG.
        """
        routes: dict[str, frozenset[str] | None] = {}
        for entry in filter(None, (e.strip() for e in (self.digest_channel or "").split(","))):
            department, sep, channel = entry.rpartition("=")
            channel = channel.strip()
            if not sep:
                routes[channel] = None
            elif channel not in routes or routes[channel] is not None:
                routes[channel] = (routes.get(channel) or frozenset()) | {department.strip()}
        return routes

    def require(self, *names: str) -> None:
        """Raise one ConfigError naming every one of these settings that is unset."""
        if missing := [f"{name.upper()}: {NOT_SET}" for name in names if not getattr(self, name)]:
            raise ConfigError(*missing)


def parse_days(text: str) -> frozenset[int]:
    """``Mon-Fri``, ``sun-thu`` or ``mon,wed,fri`` as weekday numbers (Monday is 0)."""
    days: set[int] = set()
    for entry in filter(None, (e.strip().lower() for e in text.replace("–", "-").split(","))):
        first, _, last = (part.strip() for part in entry.partition("-"))
        start, end = _day_number(first), _day_number(last or first)
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    if not days:
        raise ValueError("name at least one day, e.g. Mon-Fri")
    return frozenset(days)


def parse_words(text: str) -> frozenset[str]:
    """``Sick, Medical`` as lower-case words; empty text names none."""
    return frozenset(w.strip().lower() for w in text.split(",") if w.strip())


def _day_number(word: str) -> int:
    for number, name in enumerate(DAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return number
    raise ValueError(f"{word!r} is not a day of the week (use Mon, Tue, … Sun)")


DATABASE_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def async_database_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, sqlite:///, ?sslmode=) and pick the async driver."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must be a URL such as sqlite:///leavebot.db or postgresql://user@host/db")
    driver = DATABASE_DRIVERS.get(scheme.lower())
    if driver is None:
        close = difflib.get_close_matches(scheme.lower(), ["postgresql", "sqlite"], n=1)
        hint = f"did you mean {close[0]}://?" if close else "use postgresql:// or sqlite:///"
        raise ValueError(f"leavebot does not speak {scheme}:// ({hint})")
    if driver.startswith("postgresql"):
        rest = _asyncpg_query(rest)
    try:
        make_url(f"{driver}://{rest}").port  # noqa: B018 - reading the port checks it is a number
    except (ArgumentError, ValueError):
        raise ValueError("is not a database URL (postgresql://user:password@host:port/db)") from None
    return f"{driver}://{rest}"


def _asyncpg_query(rest: str) -> str:
    """libpq's ``sslmode`` (in the URLs managed PostgreSQL hands out) is asyncpg's ``ssl``, same values."""
    path, sep, query = rest.partition("?")
    if not sep:
        return rest
    pairs = [("ssl" if key == "sslmode" else key, value) for key, value in parse_qsl(query)]
    return f"{path}?{urlencode(pairs)}"


def mask_url(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ***."""
    return re.sub(r"(://[^/\s:@]*:)[^@\s]*@", r"\1***@", text)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; every bad value at once, in one ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(*_problems(exc)) from None


def load_config(*, require: Iterable[str] = (), provider: bool = True, **overrides: Any) -> Settings:
    """The settings a command needs, with every problem found at once in one ConfigError: invalid values,
    the ``require``d settings left unset, and (with ``provider``) the chosen provider's own settings."""
    problems: list[str] = []
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += _problems(exc)
        # Carry on with the defaults for what was bad, to find the problems that remain.
        bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        defaults = {name: Settings.model_fields[name].get_default(call_default_factory=True) for name in bad}
        settings = Settings(**{**overrides, **defaults})
    problems += [f"{name.upper()}: {NOT_SET}" for name in require if not getattr(settings, name)]
    if provider:
        try:
            load_provider_config(settings)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(*problems)
    return settings


def known_variables() -> list[str]:
    """Every variable leavebot reads: its own settings and each provider's."""
    names = [name.upper() for name in Settings.model_fields]
    for provider in PROVIDERS.values():
        names += [f"{provider.name}_{field}".upper() for field in provider.Config.model_fields]
    return names


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(variable, closest known one) for each variable set with one of leavebot's prefixes that it does not
    read but that is one typo away from one it does (``DIGEST_CHANEL`` → ``DIGEST_CHANNEL``)."""
    from dotenv import dotenv_values  # pydantic-settings reads .env with it

    known = known_variables()
    prefixes = tuple({name.partition("_")[0] + "_" for name in known if "_" in name})
    names = {*dotenv_values(".env"), *(os.environ if environ is None else environ)}
    found = []
    for name in sorted(n.upper() for n in names if n.upper().startswith(prefixes) and n.upper() not in known):
        if close := difflib.get_close_matches(name, known, n=1, cutoff=0.8):
            found.append((name, close[0]))
    return found


def load_provider_config(settings: Settings) -> BaseModel:
    """The chosen provider's own settings, from ``<PROVIDER>_*`` variables."""
    provider = PROVIDERS[settings.leavebot_provider]
    prefix = f"{provider.name.upper()}_"
    config_cls = type(
        f"{provider.__name__}Settings",
        (BaseSettings, provider.Config),
        {"model_config": SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")},
    )
    try:
        return config_cls()  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise ConfigError(*_problems(exc, prefix=prefix)) from None


def _problems(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """One ``NAME: what is wrong (got 'value')`` per bad variable, secrets and passwords never shown."""
    problems = []
    for error in exc.errors():
        name = (prefix + "_".join(str(p) for p in error["loc"][:1])).upper()
        if error["type"] == "missing":
            problems.append(f"{name}: {NOT_SET}")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        secret = any(word in name for word in SECRET_WORDS)
        shown = f" (got {mask_url(repr(value))})" if isinstance(value, str) and not secret else ""
        problems.append(f"{name}: {message}{shown}")
    return problems


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> timedelta:
    """'300', '30s', '5m' or '1h' as a timedelta."""
    value = text.strip().lower()
    number, unit = (value[:-1], value[-1]) if value[-1:] in DURATION_UNITS else (value, "s")
    try:
        return timedelta(seconds=float(number) * DURATION_UNITS[unit])
    except ValueError:
        raise ValueError("must be seconds, or a duration like 30s, 5m or 1h") from None
