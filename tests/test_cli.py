"""The `leavebot` command, run as a real process in an empty directory with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fakes.slack import FakeSlack

from bot.store.migrate import alembic_config

OWN_PREFIXES = ("SLACK_", "LEAVEBOT_", "DIGEST_", "LOCAL_")
OWN_NAMES = ("DATABASE_URL", "PORT")
APPROVERS = "*=boss@example.com"
LATEST_MIGRATION = ScriptDirectory.from_config(alembic_config()).get_current_head()


def clean_env(**values: str) -> dict[str, str]:
    """The test runner's environment without any leavebot setting, plus ``values``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(OWN_PREFIXES) and name not in OWN_NAMES
    }
    return {**env, **values}


def leavebot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `leavebot ARGS` in ``cwd`` with only ``env`` configured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=clean_env(**env),
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *, code: int, naming: str) -> None:
    """The command failed with ``code`` and one plain stderr line that mentions ``naming``."""
    lines = result.stderr.splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert naming in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def sqlite_file(tmp_path: Path) -> str:
    """A plain sqlite:/// URL, as an operator would write it."""
    return f"sqlite:///{tmp_path}/lb.db"


def test_help_lists_every_command(tmp_path: Path) -> None:
    """`leavebot --help` succeeds and names every command."""
    result = leavebot(tmp_path, "--help")

    assert result.returncode == 0, result.stderr
    for command in ("serve", "socket", "digest", "db", "request", "who", "parse"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "variable"),
    [
        pytest.param(["who"], {"DIGEST_TIME": "25:00"}, "DIGEST_TIME", id="digest-time"),
        pytest.param(["who"], {"DIGEST_TIMEZONE": "Mars/Base"}, "DIGEST_TIMEZONE", id="timezone"),
        pytest.param(["who"], {"LEAVEBOT_PROVIDER": "nosuch"}, "LEAVEBOT_PROVIDER", id="provider"),
        pytest.param(["who"], {"PORT": "abc"}, "PORT", id="port"),
        pytest.param(["who"], {"DATABASE_URL": "nonsense"}, "DATABASE_URL", id="database-url"),
        pytest.param(["serve"], {}, "SLACK_BOT_TOKEN", id="serve-without-token"),
        pytest.param(["digest"], {"SLACK_BOT_TOKEN": "xoxb-test"}, "DIGEST_CHANNEL", id="digest-no-channel"),
    ],
)
def test_configuration_error_is_one_line_naming_the_variable(
    tmp_path: Path, args: list[str], env: dict[str, str], variable: str
) -> None:
    """A bad or missing setting exits 2 with one stderr line that names the variable, and no traceback."""
    result = leavebot(tmp_path, *args, **env)

    assert_one_line_error(result, code=2, naming=variable)


def test_configuration_error_never_echoes_a_secret(tmp_path: Path) -> None:
    """A configuration error shows nothing of the secrets that were set alongside the bad value."""
    result = leavebot(tmp_path, "who", SLACK_SIGNING_SECRET="supersecretvalue", DIGEST_TIME="25:00")

    assert_one_line_error(result, code=2, naming="DIGEST_TIME")
    assert "supersecretvalue" not in result.stdout + result.stderr


def test_dotenv_in_working_directory_is_read(tmp_path: Path) -> None:
    """Settings in a `.env` file in the working directory are read like the environment."""
    (tmp_path / ".env").write_text("DIGEST_TIME=26:00\n")

    result = leavebot(tmp_path, "who")

    assert_one_line_error(result, code=2, naming="DIGEST_TIME")


def test_request_from_the_shell_is_pending_so_nobody_is_off(tmp_path: Path) -> None:
    """`leavebot request` books pending leave for the LOCAL_APPROVERS approver, so `who` lists nobody."""
    env = {"LOCAL_APPROVERS": APPROVERS, "DATABASE_URL": sqlite_file(tmp_path)}

    booked = leavebot(
        tmp_path, "request", "2026-12-24 pm for the dentist", "--as", "alice@example.com", **env
    )

    assert booked.returncode == 0, booked.stderr
    assert "Thu 24 Dec (afternoon)" in booked.stdout
    assert "status: pending" in booked.stdout
    assert "approvers: boss@example.com" in booked.stdout

    who = leavebot(tmp_path, "who", "2026-12-24", **env)

    assert who.returncode == 0, who.stderr
    assert "Who's off on Thu 24 Dec 2026: nobody" in who.stdout


def test_who_takes_the_days_slash_leave_who_takes(tmp_path: Path) -> None:
    """`leavebot who tomorrow` (as the README's front page says) lists tomorrow; words it can't read are one line."""
    env = {"DATABASE_URL": sqlite_file(tmp_path), "DIGEST_TIMEZONE": "UTC"}
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)

    who = leavebot(tmp_path, "who", "tomorrow", **env)

    assert who.returncode == 0, who.stderr
    assert who.stdout.startswith(f"Who's off on {tomorrow:%a} {tomorrow.day} {tomorrow:%b %Y}: ")
    assert_one_line_error(leavebot(tmp_path, "who", "blah", "blah", **env), code=1, naming="blah blah")


def test_request_with_text_not_understood_is_one_plain_line(tmp_path: Path) -> None:
    """A request whose text is not understood exits 1 with a one-line message and no traceback."""
    result = leavebot(
        tmp_path,
        "request",
        "blah",
        "--as",
        "alice@example.com",
        LOCAL_APPROVERS=APPROVERS,
        DATABASE_URL=sqlite_file(tmp_path),
    )

    assert_one_line_error(result, code=1, naming="blah")
    assert "/leave tomorrow" in result.stderr


def test_parse_prints_the_draft_as_json(tmp_path: Path) -> None:
    """`leavebot parse --json` prints the draft a text becomes, relative to --today."""
    result = leavebot(tmp_path, "parse", "fri pm for the dentist", "--today", "2026-11-23", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "start_date": "2026-11-27",
        "end_date": "2026-11-27",
        "start": "PM",
        "end": "PM",
        "leave_type": None,
        "reason": "the dentist",
    }


def test_db_upgrade_is_idempotent(tmp_path: Path, database_url: str) -> None:
    """`leavebot db upgrade` says what it applied to a fresh database, and that it is up to date the second time."""
    first = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=database_url)
    second = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=database_url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"applied 0001…{LATEST_MIGRATION}"
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "database is up to date"


def test_db_upgrade_accepts_the_plain_url_form(tmp_path: Path, database_url: str) -> None:
    """`leavebot db upgrade` accepts sqlite:/// and postgresql:// URLs, without naming the async driver."""
    plain = database_url.replace("+asyncpg", "").replace("+aiosqlite", "")
    assert "+" not in plain.partition("://")[0]

    result = leavebot(tmp_path, "db", "upgrade", DATABASE_URL=plain)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("applied 0001")


def test_digest_posts_once_per_day(tmp_path: Path, slack: FakeSlack) -> None:
    """`leavebot digest` posts to DIGEST_CHANNEL once; a second run says it was already posted."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url,
        "DIGEST_CHANNEL": "C0DIGEST",
        "DATABASE_URL": sqlite_file(tmp_path),
    }

    first = leavebot(tmp_path, "digest", **env)

    assert first.returncode == 0, first.stderr
    assert "C0DIGEST: posted" in first.stdout
    posts = slack.calls_to("chat.postMessage")
    assert [call.args["channel"] for call in posts] == ["C0DIGEST"]

    second = leavebot(tmp_path, "digest", **env)

    assert second.returncode == 0, second.stderr
    assert "C0DIGEST: already posted" in second.stdout
    assert len(slack.calls_to("chat.postMessage")) == 1
