"""Offline checks of manifest.yml: Slack's JSON schema (v1) plus the cross-field rules it does not encode."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_PATH = REPO_ROOT / "manifest.yml"
SOCKET_MANIFEST_PATH = REPO_ROOT / "manifest.socket.yml"  # the same app for `leavebot socket`
# Shared, read-only copy of slackapi/manifest-schema next to the repository (never copied into it):
# beside the project (the main checkout, a fresh clone) or beside the folder of worktrees that holds it.
SCHEMA_V1_PATHS = [
    base / "shared" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"
    for base in (REPO_ROOT.parent, REPO_ROOT.parent.parent)
]
SCHEMA_V1_PATH = next((path for path in SCHEMA_V1_PATHS if path.is_file()), SCHEMA_V1_PATHS[0])

# The fewest bot scopes leavebot needs; widening this set must be a deliberate, reviewed change.
# commands: /leave; chat:write: DMs to user ids and the digest in channels the bot was invited to;
# users:read + users:read.email: users.info (with email) and users.lookupByEmail.
EXPECTED_BOT_SCOPES = {"commands", "chat:write", "users:read", "users:read.email"}


def _load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), "manifest.yml must be a YAML mapping"
    return data


def _schema_errors(validator: Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    return ["/" + "/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors]


def _cross_field_errors(manifest: dict[str, Any]) -> list[str]:
    """Slack's server-side rules (apps.manifest.validate) that the JSON schema cannot express."""
    problems: list[str] = []
    settings = manifest.get("settings") or {}
    if settings.get("socket_mode_enabled", False):
        return problems  # Socket Mode: Slack ignores request URLs, so none are required.

    def require_https(pointer: str, url: object) -> None:
        if not url:
            problems.append(f"{pointer}: missing (required unless socket_mode_enabled is true)")
        elif not (isinstance(url, str) and url.startswith("https://")):
            problems.append(f"{pointer}: {url!r} is not an https:// URL")

    commands = (manifest.get("features") or {}).get("slash_commands") or []
    for i, command in enumerate(commands):
        require_https(f"/features/slash_commands/{i}/url", command.get("url"))
    if "event_subscriptions" in settings:
        require_https(
            "/settings/event_subscriptions/request_url",
            (settings["event_subscriptions"] or {}).get("request_url"),
        )
    interactivity = settings.get("interactivity") or {}
    if interactivity.get("is_enabled"):
        require_https("/settings/interactivity/request_url", interactivity.get("request_url"))
    return problems


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not SCHEMA_V1_PATH.is_file():
        pytest.skip(
            f"Slack manifest schema not found at {SCHEMA_V1_PATH}; the shared copy of "
            "slackapi/manifest-schema must sit at ../shared/slack-manifest-schema/ to validate offline"
        )
    with SCHEMA_V1_PATH.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    Draft7Validator.check_schema(data)
    return data


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema)


@pytest.fixture
def manifest() -> dict[str, Any]:
    return _load_manifest()


def test_manifest_is_valid_against_slack_schema_v1(
    validator: Draft7Validator, manifest: dict[str, Any]
) -> None:
    """manifest.yml validates against Slack's published app manifest schema v1."""
    assert _schema_errors(validator, manifest) == []


def test_schema_validator_rejects_a_broken_manifest(
    validator: Draft7Validator, manifest: dict[str, Any]
) -> None:
    """The same validator rejects a copy whose command lacks the leading slash, so it is not vacuous."""
    broken = copy.deepcopy(manifest)
    broken["features"]["slash_commands"][0]["command"] = "leave"
    errors = list(validator.iter_errors(broken))
    assert [list(e.absolute_path) for e in errors] == [["features", "slash_commands", 0, "command"]]


def test_background_color_is_a_hex_colour(schema: dict[str, Any], manifest: dict[str, Any]) -> None:
    """background_color is hex, which the schema states only under a keyword validators ignore."""
    display_schema = schema["definitions"]["app-manifests.v1.display_information.schema"]
    pattern = display_schema["properties"]["background_color"]["regex"]
    assert re.fullmatch(pattern, manifest["display_information"]["background_color"])


def test_request_urls_are_present_and_https_without_socket_mode(manifest: dict[str, Any]) -> None:
    """With Socket Mode off, every slash command, event and interactivity request URL is set and https."""
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert _cross_field_errors(manifest) == []


def test_cross_field_check_rejects_missing_or_plain_http_urls(manifest: dict[str, Any]) -> None:
    """The URL rule flags a missing command URL, an http event URL and a missing interactivity URL."""
    broken = copy.deepcopy(manifest)
    del broken["features"]["slash_commands"][0]["url"]
    broken["settings"]["event_subscriptions"]["request_url"] = "http://leavebot.example.com/slack/events"
    del broken["settings"]["interactivity"]["request_url"]
    pointers = [p.split(":", 1)[0] for p in _cross_field_errors(broken)]
    assert pointers == [
        "/features/slash_commands/0/url",
        "/settings/event_subscriptions/request_url",
        "/settings/interactivity/request_url",
    ]
    broken["settings"]["socket_mode_enabled"] = True
    assert _cross_field_errors(broken) == []


def test_subscribes_to_app_home_opened(manifest: dict[str, Any]) -> None:
    """The manifest subscribes the bot to app_home_opened so the Home tab can be published."""
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_bot_scopes_are_exactly_the_minimal_set(manifest: dict[str, Any]) -> None:
    """Bot scopes are exactly commands, chat:write, users:read, users:read.email; the user scopes are exactly
    what the status opt-in asks for (bot.services.connect.USER_SCOPES), with its redirect URL."""
    from bot.services.connect import REDIRECT_PATH, USER_SCOPES

    scopes = manifest["oauth_config"]["scopes"]
    bot = scopes["bot"]
    assert len(bot) == len(set(bot)), f"duplicate bot scopes: {bot}"
    assert set(bot) == EXPECTED_BOT_SCOPES
    assert set(scopes) == {"bot", "user"}, "no optional scopes are requested"
    assert sorted(scopes["user"]) == sorted(USER_SCOPES)
    assert [u.endswith(REDIRECT_PATH) for u in manifest["oauth_config"]["redirect_urls"]] == [True]


def test_only_slash_command_is_leave(manifest: dict[str, Any]) -> None:
    """The app declares exactly one slash command, /leave."""
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/leave"]


def test_leavebot_check_expects_the_manifests_bot_scopes(manifest: dict[str, Any]) -> None:
    """`leavebot check` compares the granted scopes with exactly manifest.yml's bot scopes."""
    from bot.check import BOT_SCOPES

    assert set(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES


def _without_urls(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with every request URL removed and Socket Mode on."""
    bare = copy.deepcopy(manifest)
    for command in bare["features"]["slash_commands"]:
        command.pop("url", None)
    bare["settings"]["event_subscriptions"].pop("request_url", None)
    bare["settings"]["interactivity"].pop("request_url", None)
    bare["oauth_config"].pop("redirect_urls", None)  # no public URL: the status opt-in needs `leavebot serve`
    bare["settings"]["socket_mode_enabled"] = True
    return bare


def test_socket_manifest_is_valid_against_slack_schema_v1(validator: Draft7Validator) -> None:
    """manifest.socket.yml validates against Slack's manifest schema v1 and needs no request URL."""
    socket = _load_manifest(SOCKET_MANIFEST_PATH)

    assert _schema_errors(validator, socket) == []
    assert _cross_field_errors(socket) == []


def test_socket_manifest_is_the_same_app_without_request_urls(manifest: dict[str, Any]) -> None:
    """manifest.socket.yml differs from manifest.yml only by Socket Mode on and no request URLs (same scopes)."""
    socket = _load_manifest(SOCKET_MANIFEST_PATH)

    assert socket == _without_urls(manifest)
    assert "https://" not in SOCKET_MANIFEST_PATH.read_text(encoding="utf-8").split("display_information:")[1]
