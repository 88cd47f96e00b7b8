"""What an operator sees from the CLI: every problem in one line, `leavebot check`, a request saved once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import POSTGRES_UP, POSTGRES_URL
from fakes.slack import MISSING_CHANNEL, NOT_IN_CHANNEL, FakeSlack
from fakes.timetastic import FakeTimetastic
from test_cli import APPROVERS, assert_one_line_error, leavebot, sqlite_file

PG = POSTGRES_URL.rpartition("/")[0]  # postgresql://postgres@127.0.0.1:5432
needs_postgres = pytest.mark.skipif(not POSTGRES_UP, reason=f"no PostgreSQL at {PG}")


@pytest.fixture
def timetastic() -> Iterator[FakeTimetastic]:
    """A fake Timetastic to check against."""
    with FakeTimetastic() as server:
        yield server


def slack_env(slack: FakeSlack, tmp_path: Path, **more: str) -> dict[str, str]:
    """A working configuration against the fake Slack and a SQLite file."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": slack.url,
        "DIGEST_CHANNEL": "C0DIGEST",
        "DATABASE_URL": sqlite_file(tmp_path),
        "LOCAL_APPROVERS": APPROVERS,
        **more,
    }


def test_every_configuration_problem_is_named_in_one_line(tmp_path: Path) -> None:
    """Missing and invalid variables, leavebot's and the provider's, come together in one wording."""
    result = leavebot(tmp_path, "digest", DIGEST_TIME="25:00", PORT="abc", LEAVEBOT_PROVIDER="timetastic")

    assert_one_line_error(result, code=2, naming="configuration error")
    for problem in (
        "DIGEST_TIME:",
        "PORT:",
        "SLACK_BOT_TOKEN: not set",
        "DIGEST_CHANNEL: not set",
        "TIMETASTIC_API_TOKEN: not set",
    ):
        assert problem in result.stderr
    assert "Field required" not in result.stderr


def test_unknown_variable_is_warned_with_the_closest_known_one(tmp_path: Path) -> None:
    """A leavebot-looking variable it does not read is named with the one it was probably meant to be."""
    result = leavebot(tmp_path, "parse", "tomorrow", DIGEST_CHANEL="C0DIGEST")

    assert result.returncode == 0, result.stderr
    assert "DIGEST_CHANEL" in result.stderr
    assert "did you mean DIGEST_CHANNEL?" in result.stderr


@pytest.mark.parametrize(
    ("url", "naming"),
    [
        pytest.param("mysql://u@h/db", "mysql://", id="mysql"),
        pytest.param("postgresq://u@h/db", "did you mean postgresql://", id="typo"),
        pytest.param("postgresql://u:hunter2@h:x/db", "DATABASE_URL", id="bad-port"),
    ],
)
def test_unusable_database_url_is_a_configuration_error(tmp_path: Path, url: str, naming: str) -> None:
    """A database leavebot does not speak, or a URL that is not one, exits 2 naming it, password hidden."""
    result = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=url)

    assert_one_line_error(result, code=2, naming=naming)
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    ("url", "naming"),
    [
        pytest.param("sqlite:////proc/leavebot/lb.db", "can't open the SQLite file", id="sqlite-unwritable"),
        pytest.param(f"{PG.replace('5432', '5999')}/test", "connection refused", id="refused-port"),
        pytest.param("postgresql://u:hunter2@nohost.invalid/db", "unknown host", id="unknown-host"),
        pytest.param(
            f"{PG}/nosuchdb",
            'database "nosuchdb" does not exist',
            id="missing-database",
            marks=needs_postgres,
        ),
        pytest.param(
            f"{PG.replace('postgres@', 'nobody@')}/test",
            'role "nobody" does not exist',
            id="unknown-role",
            marks=needs_postgres,
        ),
    ],
)
def test_unreachable_database_is_one_line(tmp_path: Path, url: str, naming: str) -> None:
    """A database that can't be reached or opened exits 1 with one line saying why, password masked."""
    result = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=url)

    assert_one_line_error(result, code=1, naming=naming)
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sslmode_in_the_url_is_understood(tmp_path: Path, database_url: str) -> None:
    """libpq's ?sslmode= is passed on as asyncpg's ssl: disable works, require is refused by a server without TLS."""
    plain = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=f"{database_url}?sslmode=disable")
    assert plain.returncode == 0, plain.stderr

    tls = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=f"{database_url}?sslmode=require")
    assert_one_line_error(tls, code=1, naming="SSL")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    """--debug shows the traceback the one line stands for."""
    result = leavebot(tmp_path, "--debug", "db", "upgrade", DATABASE_URL="sqlite:////proc/leavebot/lb.db")

    assert result.returncode == 1
    assert "Traceback" in result.stderr


@pytest.mark.parametrize(
    ("token", "channel", "naming"),
    [
        pytest.param(
            "xoxb-wrong", "C0DIGEST", "Slack refused SLACK_BOT_TOKEN (invalid_auth)", id="invalid-auth"
        ),
        pytest.param("xoxb-test", NOT_IN_CHANNEL, "invite it there", id="not-in-channel"),
    ],
)
def test_digest_slack_refusal_is_one_line(
    tmp_path: Path, slack: FakeSlack, token: str, channel: str, naming: str
) -> None:
    """`leavebot digest` refused by Slack exits 1 with one line saying what to fix."""
    env = slack_env(slack, tmp_path, SLACK_BOT_TOKEN=token, DIGEST_CHANNEL=channel)

    assert_one_line_error(leavebot(tmp_path, "digest", **env), code=1, naming=naming)


def test_digest_without_an_answer_from_slack_is_one_line(tmp_path: Path, slack: FakeSlack) -> None:
    """`leavebot digest` with Slack not answering exits 1 with one line."""
    env = slack_env(slack, tmp_path, SLACK_API_URL="http://127.0.0.1:9/api/")

    assert_one_line_error(leavebot(tmp_path, "digest", **env), code=1, naming="Slack did not answer")


def test_serve_refuses_a_bad_token(tmp_path: Path, slack: FakeSlack) -> None:
    """`leavebot serve` with a token Slack refuses does not start: one line, exit 2."""
    env = slack_env(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-wrong")

    assert_one_line_error(leavebot(tmp_path, "serve", **env), code=2, naming="invalid_auth")


def test_serve_refuses_an_unusable_database(tmp_path: Path, slack: FakeSlack) -> None:
    """`leavebot serve` with a database it can't open does not start: one line, exit 2."""
    env = slack_env(slack, tmp_path, DATABASE_URL="sqlite:////proc/leavebot/lb.db")

    assert_one_line_error(leavebot(tmp_path, "serve", **env), code=2, naming="SQLite")


@pytest.mark.parametrize(
    ("app_token", "code", "naming"),
    [
        pytest.param("xoxb-test", 2, "SLACK_APP_TOKEN: must be an app-level token", id="bot-token"),
        pytest.param("xapp-wrong", 2, "Slack app token: refused (invalid_auth)", id="invalid"),
    ],
)
def test_socket_refuses_a_bad_app_token(
    tmp_path: Path, slack: FakeSlack, app_token: str, code: int, naming: str
) -> None:
    """`leavebot socket` with a bot token as app token, or one Slack refuses, stops at once: one line."""
    env = slack_env(slack, tmp_path, SLACK_APP_TOKEN=app_token)

    assert_one_line_error(leavebot(tmp_path, "socket", **env), code=code, naming=naming)


def test_check_passes_when_everything_works(tmp_path: Path, slack: FakeSlack) -> None:
    """`leavebot check` with good settings shows ✓ for each part and exits 0; the probe leaves no message."""
    env = slack_env(slack, tmp_path, SLACK_APP_TOKEN="xapp-test")
    assert leavebot(tmp_path, "db", "upgrade", **env).returncode == 0

    result = leavebot(tmp_path, "check", **env)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in (
        "Slack token",
        "Slack scopes",
        "Digest channel C0DIGEST",
        "Slack app token",
        "Database",
        "HR system",
    ):
        assert any(line.startswith(f"✓ {name}") for line in lines), result.stdout
    assert "bot @leavebot (UBOT) in Acme (T0001)" in result.stdout
    assert slack.scheduled == {}


def test_check_shows_what_is_wrong_with_the_fix(tmp_path: Path, slack: FakeSlack) -> None:
    """A refused token, missing scopes, a channel, a database not migrated: ✗ each, with a fix, exit 1."""
    slack.scopes = ("commands", "chat:write")
    env = slack_env(slack, tmp_path, DIGEST_CHANNEL=f"{NOT_IN_CHANNEL},{MISSING_CHANNEL}")

    result = leavebot(tmp_path, "check", **env)

    assert result.returncode == 1
    out = result.stdout
    assert "✗ Slack scopes" in out and "missing users:read, users:read.email" in out
    assert f"✗ Digest channel {NOT_IN_CHANNEL}" in out and "/invite @leavebot" in out
    assert f"✗ Digest channel {MISSING_CHANNEL}" in out and "no such channel" in out
    assert "✗ Database" in out and "leavebot db upgrade" in out

    refused = leavebot(tmp_path, "check", **{**env, "SLACK_BOT_TOKEN": "xoxb-wrong"})
    assert refused.returncode == 1
    assert "✗ Slack token" in refused.stdout and "refused (invalid_auth)" in refused.stdout
    assert "fix: set SLACK_BOT_TOKEN" in refused.stdout


def test_check_shows_an_unreachable_database(tmp_path: Path, slack: FakeSlack) -> None:
    """A database that can't be opened is ✗ in `leavebot check`, saying why."""
    env = slack_env(slack, tmp_path, DATABASE_URL="sqlite:////proc/leavebot/lb.db")

    result = leavebot(tmp_path, "check", **env)

    assert result.returncode == 1
    assert "✗ Database" in result.stdout and "can't open the SQLite file" in result.stdout


def test_check_against_the_hr_system(tmp_path: Path, slack: FakeSlack, timetastic: FakeTimetastic) -> None:
    """The HR system is ✓ with its token, ✗ with the credentials to check when it refuses it."""
    env = slack_env(slack, tmp_path, LEAVEBOT_PROVIDER="timetastic", TIMETASTIC_BASE_URL=timetastic.url)

    good = leavebot(tmp_path, "check", **env, TIMETASTIC_API_TOKEN=timetastic.token)
    assert "✓ HR system (timetastic)" in good.stdout, good.stdout

    bad = leavebot(tmp_path, "check", **env, TIMETASTIC_API_TOKEN="wrong")
    assert bad.returncode == 1
    assert "✗ HR system (timetastic)" in bad.stdout and "TIMETASTIC_" in bad.stdout


def test_request_with_slack_refusing_is_saved_once(tmp_path: Path, slack: FakeSlack) -> None:
    """With the placeholder token, `request` says it saved the request; the same command finds it again."""
    env = slack_env(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-...")
    args = ("request", "2026-12-24 pm", "--as", "alice@example.com")

    first = leavebot(tmp_path, *args, **env)
    assert_one_line_error(first, code=0, naming="saved request #1, but could not tell its approvers in Slack")
    assert "request #1:" in first.stdout

    second = leavebot(tmp_path, *args, **env)
    assert second.returncode == 0, second.stderr
    assert "request #1:" in second.stdout and "made before" in second.stdout
    assert "Traceback" not in second.stderr


def test_serve_refuses_when_slack_does_not_answer(tmp_path: Path, slack: FakeSlack) -> None:
    """`leavebot serve` with no answer from Slack does not start: one line (no retry notices), exit 2."""
    env = slack_env(slack, tmp_path, SLACK_API_URL="http://127.0.0.1:9/api/")

    assert_one_line_error(leavebot(tmp_path, "serve", **env), code=2, naming="Slack did not answer")
