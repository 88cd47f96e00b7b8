"""The admin commands, run as real processes against the fake Slack: what they print, and what Slack saw."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import ALICE, BOB
from fakes.slack import FakeSlack
from test_cli import assert_one_line_error, leavebot, sqlite_file

DAY = "2026-12-24"


@pytest.fixture
def env(tmp_path: Path, slack: FakeSlack) -> dict[str, str]:
    """Slack is the fake, Bob approves everyone, the database is a fresh SQLite file."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url,
        "LOCAL_APPROVERS": "*=bob@example.com",
        "DATABASE_URL": sqlite_file(tmp_path),
    }


def requested(tmp_path: Path, env: dict[str, str], text: str = f"{DAY} pm for the dentist") -> int:
    """Alice's request made from the shell; its number."""
    result = leavebot(tmp_path, "request", text, "--as", "alice@example.com", **env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[1].strip("#:"))


def bobs_card_has_buttons(slack: FakeSlack) -> bool:
    """Whether Bob's approval card (his first DM) still carries the Approve / Decline buttons."""
    card = slack.messages_in(f"D{BOB}")[0]
    return any(block["type"] == "actions" for block in card["blocks"])


def test_approve_from_the_shell_edits_the_card_and_tells_the_requester(
    tmp_path: Path, env: dict[str, str], slack: FakeSlack
) -> None:
    """`leavebot approve ID --as APPROVER` approves, edits the approver's card and DMs the requester."""
    request_id = requested(tmp_path, env)
    assert bobs_card_has_buttons(slack)

    result = leavebot(tmp_path, "approve", str(request_id), "--as", "bob@example.com", **env)

    assert result.returncode == 0, result.stderr
    assert f"request #{request_id}: approved" in result.stdout
    assert [call.args["channel"] for call in slack.calls_to("chat.update")] == [f"D{BOB}"]
    assert not bobs_card_has_buttons(slack)
    assert any(call.args["channel"] in (ALICE, f"D{ALICE}") for call in slack.calls_to("chat.postMessage"))
    who = leavebot(tmp_path, "who", DAY, **env)
    assert "alice@example.com" in who.stdout


def test_decline_from_the_shell_gives_the_reason_to_the_requester(
    tmp_path: Path, env: dict[str, str], slack: FakeSlack
) -> None:
    """`leavebot decline --reason` declines and the requester's DM carries the reason."""
    request_id = requested(tmp_path, env)

    result = leavebot(
        tmp_path, "decline", str(request_id), "--as", "bob@example.com", "--reason", "team offsite", **env
    )

    assert result.returncode == 0, result.stderr
    assert f"request #{request_id}: declined" in result.stdout
    told = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] in (ALICE, f"D{ALICE}")]
    assert "team offsite" in str(told)


def test_only_an_approver_may_decide_from_the_shell(
    tmp_path: Path, env: dict[str, str], slack: FakeSlack
) -> None:
    """Someone who is not an approver is refused in one line, and no card changes."""
    request_id = requested(tmp_path, env)

    result = leavebot(tmp_path, "approve", str(request_id), "--as", "mallory@example.com", **env)

    assert_one_line_error(result, code=1, naming="Only an approver")
    assert slack.calls_to("chat.update") == []
    assert "pending" in leavebot(tmp_path, "requests", "--pending", **env).stdout


def test_a_decided_request_is_not_decided_again(
    tmp_path: Path, env: dict[str, str], slack: FakeSlack
) -> None:
    """A second decision exits 1 saying the request is decided already, and edits nothing more."""
    request_id = requested(tmp_path, env)
    assert leavebot(tmp_path, "approve", str(request_id), "--as", "bob@example.com", **env).returncode == 0

    again = leavebot(tmp_path, "decline", str(request_id), "--as", "bob@example.com", **env)

    assert_one_line_error(again, code=1, naming="is approved")
    assert len(slack.calls_to("chat.update")) == 1


def test_the_requester_may_cancel_from_the_shell(
    tmp_path: Path, env: dict[str, str], slack: FakeSlack
) -> None:
    """The requester (by e-mail, though the request was made from the shell) cancels; the card shows it."""
    request_id = requested(tmp_path, env)

    result = leavebot(tmp_path, "cancel", str(request_id), "--as", "alice@example.com", **env)

    assert result.returncode == 0, result.stderr
    assert f"request #{request_id}: cancelled" in result.stdout
    assert not bobs_card_has_buttons(slack)


def test_someone_else_may_not_cancel(tmp_path: Path, env: dict[str, str], slack: FakeSlack) -> None:
    """Neither requester nor approver: refused in one line."""
    request_id = requested(tmp_path, env)

    result = leavebot(tmp_path, "cancel", str(request_id), "--as", "mallory@example.com", **env)

    assert_one_line_error(result, code=1, naming="Only the requester or an approver")
    assert slack.calls_to("chat.update") == []


def test_requests_lists_by_state_and_person(tmp_path: Path, env: dict[str, str], slack: FakeSlack) -> None:
    """`leavebot requests` lists newest first; --pending and --person narrow it."""
    first = requested(tmp_path, env)
    second = requested(tmp_path, env, "2026-12-28 for the skiing")
    leavebot(tmp_path, "approve", str(first), "--as", "bob@example.com", **env)

    everything = leavebot(tmp_path, "requests", **env)
    pending = leavebot(tmp_path, "requests", "--pending", **env)
    nobody = leavebot(tmp_path, "requests", "--person", "carol@example.com", **env)

    assert everything.returncode == 0, everything.stderr
    assert [line.split()[:2] for line in everything.stdout.splitlines()] == [
        [f"#{second}", "pending"],
        [f"#{first}", "approved"],
    ]
    assert f"by {BOB}" in everything.stdout
    assert pending.stdout.splitlines()[0].startswith(f"#{second} pending  alice <alice@example.com>")
    assert len(pending.stdout.splitlines()) == 1
    assert nobody.stdout.strip() == "no requests"


def test_audit_shows_who_did_what(tmp_path: Path, env: dict[str, str], slack: FakeSlack) -> None:
    """`leavebot audit ID` prints the request and its trail, oldest first, naming the approver."""
    request_id = requested(tmp_path, env)
    leavebot(tmp_path, "decline", str(request_id), "--as", "bob@example.com", "--reason", "offsite", **env)

    result = leavebot(tmp_path, "audit", str(request_id), **env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"#{request_id} declined")
    assert "submitted" in lines[1]
    assert lines[2].endswith(f"Bob Boss ({BOB})  decline: offsite")


def test_audit_of_an_unknown_request_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    """An unknown request number: exit 1, one line."""
    result = leavebot(tmp_path, "audit", "999", **env)

    assert_one_line_error(result, code=1, naming="no longer exists")


def test_export_prints_approved_absences_as_csv(
    tmp_path: Path, env: dict[str, str], slack: FakeSlack
) -> None:
    """`leavebot export --csv` has a header and one row per approved absence in the range, pending ones left out."""
    approved = requested(tmp_path, env)
    requested(tmp_path, env, "2026-12-23 for the skiing")
    leavebot(tmp_path, "approve", str(approved), "--as", "bob@example.com", **env)

    result = leavebot(tmp_path, "export", "--from", "2026-12-21", "--to", "2026-12-27", "--csv", **env)
    plain = leavebot(tmp_path, "export", "--from", "2026-12-21", "--to", "2026-12-27", **env)

    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [
        (r["name"], r["email"], r["start_date"], r["start_part"], r["end_part"], r["status"]) for r in rows
    ] == [("alice", "alice@example.com", DAY, "PM", "PM", "approved")]
    assert plain.stdout.strip().startswith("Thu 24 Dec (afternoon)  alice")


def test_export_with_the_range_backwards_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    """--to before --from: exit 1, one line naming both."""
    result = leavebot(tmp_path, "export", "--from", "2026-12-24", "--to", "2026-12-01", **env)

    assert_one_line_error(result, code=1, naming="before --from")


def test_version_is_printed(tmp_path: Path) -> None:
    """`leavebot --version` prints the installed version and exits 0."""
    result = leavebot(tmp_path, "--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("leavebot 0.")
