"""The fake Slack Web API and the request builders behave like Slack when driven by the real SDK and Bolt."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import slack_requests as sr
from fakes.slack import FakeSlack
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"
TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A started fake with one known user."""
    with FakeSlack(token=TOKEN) as server:
        server.add_user("U111", email="Alice@Example.com", name="alice", real_name="Alice A")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    """The real async SDK client pointed at the fake."""
    return AsyncWebClient(token=TOKEN, base_url=fake.url)


async def test_post_message_to_user_id_lands_in_dm(fake: FakeSlack, client: AsyncWebClient) -> None:
    """chat.postMessage to a user id answers a D channel and a Slack-shaped ts, and stores the message."""
    resp = await client.chat_postMessage(channel="U111", text="hello", blocks=[{"type": "divider"}])

    assert resp["channel"] == "DU111"
    assert TS_PATTERN.match(resp["ts"])
    assert resp["message"]["user"] == "UBOT"
    assert fake.messages_in("DU111") == [
        {"ts": resp["ts"], "text": "hello", "blocks": [{"type": "divider"}], "thread_ts": None}
    ]


async def test_timestamps_are_unique_and_increasing(client: AsyncWebClient) -> None:
    """Successive posts get strictly increasing ts values."""
    first = await client.chat_postMessage(channel="C0001", text="a")
    second = await client.chat_postMessage(channel="C0001", text="b")

    assert float(second["ts"]) > float(first["ts"])


async def test_update_of_unknown_ts_raises_message_not_found(client: AsyncWebClient) -> None:
    """chat.update of a ts that was never posted raises SlackApiError message_not_found."""
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C0001", ts="1764000000.999999", text="x")

    assert err.value.response["error"] == "message_not_found"


async def test_update_replaces_text_and_keeps_omitted_blocks(fake: FakeSlack, client: AsyncWebClient) -> None:
    """chat.update replaces the text it is given and keeps blocks it is not given, as Slack does."""
    posted = await client.chat_postMessage(channel="C0001", text="pending", blocks=[{"type": "divider"}])

    resp = await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved")

    assert resp["text"] == "approved"
    assert fake.messages[("C0001", posted["ts"])]["blocks"] == [{"type": "divider"}]


async def test_not_in_channel_is_simulated(client: AsyncWebClient) -> None:
    """Posting to C_NOT_IN raises not_in_channel."""
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C_NOT_IN", text="digest")

    assert err.value.response["error"] == "not_in_channel"


async def test_wrong_token_is_invalid_auth_and_recorded(fake: FakeSlack) -> None:
    """A token other than the configured one answers invalid_auth, and the call is still recorded."""
    stranger = AsyncWebClient(token="xoxb-wrong", base_url=fake.url)

    with pytest.raises(SlackApiError) as err:
        await stranger.auth_test()

    assert err.value.response["error"] == "invalid_auth"
    assert [c.token for c in fake.calls_to("auth.test")] == ["xoxb-wrong"]


async def test_revoked_token_answers_token_revoked(fake: FakeSlack, client: AsyncWebClient) -> None:
    """After revoke() every call answers token_revoked."""
    fake.revoke()

    with pytest.raises(SlackApiError) as err:
        await client.auth_test()

    assert err.value.response["error"] == "token_revoked"


async def test_auth_test_identifies_the_bot(client: AsyncWebClient) -> None:
    """auth.test answers the team and bot identity Bolt needs."""
    resp = await client.auth_test()

    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T0001", "UBOT", "B0001")


async def test_ratelimited_post_succeeds_on_retry(fake: FakeSlack, client: AsyncWebClient) -> None:
    """A 429 with Retry-After is retried by the SDK's rate-limit handler and the fake saw both calls."""
    fake.fail_next(status=429, retry_after=0, path="chat.postMessage")
    # AsyncWebClient only runs async retry handlers; the sync RateLimitErrorRetryHandler has no async hooks.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))

    resp = await client.chat_postMessage(channel="C0001", text="hi")

    assert resp["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_ratelimit_without_retry_handler_surfaces(fake: FakeSlack, client: AsyncWebClient) -> None:
    """Without a retry handler the 429 surfaces as SlackApiError ratelimited with its Retry-After."""
    fake.fail_next(status=429, retry_after=7, path="chat.postMessage")

    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0001", text="hi")

    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "7"


async def test_logical_fault_answers_200_error_once(fake: FakeSlack, client: AsyncWebClient) -> None:
    """error_next injects a logical error (HTTP 200) for exactly `times` calls."""
    posted = await client.chat_postMessage(channel="C0001", text="a")
    fake.error_next("chat.update", "message_not_found")

    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C0001", ts=posted["ts"], text="b")
    resp = await client.chat_update(channel="C0001", ts=posted["ts"], text="b")

    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "message_not_found"
    assert resp["ok"] is True


async def test_lookup_by_email_is_case_insensitive(client: AsyncWebClient) -> None:
    """users.lookupByEmail matches regardless of case and answers users_not_found otherwise."""
    resp = await client.users_lookupByEmail(email="alice@EXAMPLE.com")

    assert resp["user"]["id"] == "U111"
    with pytest.raises(SlackApiError) as err:
        await client.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"


async def test_users_info_shape(client: AsyncWebClient) -> None:
    """users.info answers Slack's user object with profile email, and user_not_found for strangers."""
    user = (await client.users_info(user="U111"))["user"]

    assert user["profile"]["email"] == "Alice@Example.com"
    assert (user["real_name"], user["tz"], user["is_bot"]) == ("Alice A", "Europe/London", False)
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U999")
    assert err.value.response["error"] == "user_not_found"


async def test_users_info_gives_the_locale_only_when_asked(client: AsyncWebClient) -> None:
    """As Slack: ``locale`` is in users.info's user only with include_locale=true."""
    assert "locale" not in (await client.users_info(user="U111"))["user"]
    assert (await client.users_info(user="U111", include_locale=True))["user"]["locale"] == "en-GB"


async def test_conversations_open_gives_dm_channel(client: AsyncWebClient) -> None:
    """conversations.open with one user answers that user's D channel."""
    resp = await client.conversations_open(users="U111")

    assert resp["channel"]["id"] == "DU111"


async def test_views_open_requires_trigger_id(client: AsyncWebClient) -> None:
    """views.open without a trigger_id is invalid_arguments; with one it answers the view with an id."""
    view = {"type": "modal", "callback_id": "leave_request", "title": {"type": "plain_text", "text": "Leave"}}

    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="", view=view)
    resp = await client.views_open(trigger_id="123.456.abc", view=view)

    assert err.value.response["error"] == "invalid_arguments"
    assert resp["view"]["id"].startswith("V")
    assert resp["view"]["callback_id"] == "leave_request"


async def test_views_update_by_external_id(client: AsyncWebClient) -> None:
    """views.update finds a view by external_id and keeps its id."""
    opened = await client.views_open(trigger_id="t", view={"type": "modal", "external_id": "req-1"})

    resp = await client.views_update(external_id="req-1", view={"type": "modal", "external_id": "req-1"})

    assert resp["view"]["id"] == opened["view"]["id"]


async def test_views_publish_keeps_latest_home_per_user(fake: FakeSlack, client: AsyncWebClient) -> None:
    """views.publish stores the latest published home view per user."""
    await client.views_publish(user_id="U111", view={"type": "home", "blocks": []})
    await client.views_publish(user_id="U111", view={"type": "home", "blocks": [{"type": "divider"}]})

    assert fake.home["U111"]["blocks"] == [{"type": "divider"}]


async def test_form_encoded_json_fields_are_decoded(fake: FakeSlack, client: AsyncWebClient) -> None:
    """Form-encoded bodies are parsed and JSON-string blocks are decoded into objects."""
    form = {"channel": "C0001", "blocks": json.dumps([{"type": "x"}])}
    await client.api_call("chat.postMessage", data=form)

    assert fake.calls_to("chat.postMessage")[0].args == {"channel": "C0001", "blocks": [{"type": "x"}]}


async def test_unknown_method(client: AsyncWebClient) -> None:
    """An unimplemented method answers unknown_method."""
    with pytest.raises(SlackApiError) as err:
        await client.api_call("leave.teleport")

    assert err.value.response["error"] == "unknown_method"


async def test_response_url_post_is_recorded(fake: FakeSlack) -> None:
    """A JSON POST to a response_url stand-in is recorded as hooks/<name> and answered `ok`."""
    resp = await AsyncWebhookClient(fake.response_url("r7")).send(text="done", replace_original=True)

    assert (resp.status_code, resp.body) == (200, "ok")
    assert fake.calls_to("hooks/r7")[0].args == {"text": "done", "replace_original": True}


async def test_wait_for_timeout_lists_methods_seen(fake: FakeSlack, client: AsyncWebClient) -> None:
    """wait_for raises AssertionError naming the methods that were called instead."""
    await client.auth_test()

    with pytest.raises(AssertionError, match=r"auth\.test"):
        await fake.wait_for("chat.postMessage", timeout=0.05)


def test_wait_for_sync_works_without_event_loop(fake: FakeSlack) -> None:
    """The sync client works against the fake and wait_for_sync sees its calls; reset() clears them."""
    WebClient(token=TOKEN, base_url=fake.url).chat_postMessage(channel="U111", text="hi")

    assert fake.wait_for_sync("chat.postMessage")[0].args["channel"] == "U111"
    fake.reset()
    assert fake.calls == []


def test_signature_matches_sdk_verifier() -> None:
    """signed_headers produces the signature slack_sdk's SignatureVerifier generates and accepts."""
    body = sr.slash_command("2025-12-01 to 2025-12-05", user_id="U111", response_url="http://x/hooks/r1")
    ts = int(time.time())
    headers = sr.signed_headers(body, SECRET, timestamp=ts)
    verifier = SignatureVerifier(SECRET)

    assert headers["X-Slack-Signature"] == verifier.generate_signature(timestamp=str(ts), body=body)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not verifier.is_valid(body + "x", str(ts), headers["X-Slack-Signature"])


def test_stale_signature_is_rejected_by_verifier() -> None:
    """A correctly signed but 6-minute-old request fails the replay window."""
    stale = int(time.time()) - 360
    headers = sr.signed_headers("{}", SECRET, timestamp=stale, content_type="application/json", retry_num=1)

    assert not SignatureVerifier(SECRET).is_valid("{}", str(stale), headers["X-Slack-Signature"])
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("1", "http_timeout")


def test_slash_command_body_has_slack_fields() -> None:
    """slash_command form-encodes every field Slack sends, with a unique trigger_id per call."""
    first = parse_qs(sr.slash_command("next week", user_id="U111", response_url="http://x/hooks/r1"))
    second = parse_qs(sr.slash_command("next week", user_id="U111", response_url="http://x/hooks/r1"))

    assert first["command"] == ["/leave"] and first["text"] == ["next week"]
    assert {"token", "team_domain", "channel_name", "api_app_id", "is_enterprise_install"} <= first.keys()
    assert first["trigger_id"] != second["trigger_id"]


def _signed(body: str, content_type: str = "application/x-www-form-urlencoded") -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body, headers=sr.signed_headers(body, SECRET, content_type=content_type))


async def test_bolt_accepts_built_requests_end_to_end(fake: FakeSlack, client: AsyncWebClient) -> None:
    """AsyncApp verifies and routes the built slash command, block action, view submission and event."""
    app = AsyncApp(client=client, signing_secret=SECRET)
    seen: list[str] = []

    @app.command("/leave")
    async def on_leave(ack, command, respond, client) -> None:
        await ack()
        await client.chat_postMessage(channel=command["user_id"], text=command["text"])
        await respond("noted")

    @app.action("approve")
    async def on_approve(ack, body) -> None:
        await ack()
        seen.append(body["actions"][0]["value"])

    @app.view("leave_request")
    async def on_submit(ack, view) -> None:
        await ack()
        seen.append(view["state"]["values"]["dates"]["start"]["selected_date"])

    @app.event("app_home_opened")
    async def on_home(event, client) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    command = sr.slash_command("tomorrow", user_id="U111", response_url=fake.response_url())
    action = sr.block_action(user_id="U222", action_id="approve", value="req-1")
    values = {"dates": {"start": {"type": "datepicker", "selected_date": "2025-12-01"}}}
    submission = sr.view_submission(user_id="U111", callback_id="leave_request", values=values)
    event = sr.event_callback({"type": "app_home_opened", "user": "U111", "tab": "home"})

    assert (await app.async_dispatch(_signed(command))).status == 200
    assert (await app.async_dispatch(_signed(sr.interactive(action)))).status == 200
    assert (await app.async_dispatch(_signed(sr.interactive(submission)))).status == 200
    assert (await app.async_dispatch(_signed(event, "application/json"))).status == 200
    posted = await fake.wait_for("chat.postMessage")
    await fake.wait_for("hooks/r1")
    await fake.wait_for("views.publish")

    assert posted[0].args["channel"] == "U111" and posted[0].args["text"] == "tomorrow"
    assert sorted(seen) == ["2025-12-01", "req-1"]
    assert "U111" in fake.home
