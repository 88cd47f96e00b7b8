"""Nobody let in, nothing leaked: forged and malformed requests over real HTTP, and secrets kept out of logs.

Every forged request must be refused with no side effect: no Slack call, no provider call, no row.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest
import slack_requests as sr
from conftest import ALICE, BOB, MALLORY, SECRET, Bot
from helpers.cards import approval_cards, preview_value, submitted_request
from test_e2e import DAY

from bot.views import ids
from providers.models import Status


async def nothing_happened(bot: Bot) -> None:
    """No Slack call, no provider call and no request row after the work that follows an ack."""
    await bot.drain()
    assert bot.slack.calls == []
    assert sum(bot.provider.calls.values()) == 0
    assert await bot.service.deps.store.requests_of(slack_user_id=ALICE, since=DAY.replace(year=2000)) == []


def submit_click(bot: Bot, user: str = ALICE) -> str:
    """A Submit click on a fresh preview, as a signed form body (the preview is built locally)."""
    draft = {"start_date": DAY.isoformat(), "end_date": DAY.isoformat(), "start": "AM", "end": "PM"}
    value = json.dumps({"id": "forged-draft", "draft": draft})
    payload = sr.block_action(
        user_id=user, action_id=ids.SUBMIT, value=value, response_url=bot.response_url("x")
    )
    return sr.interactive(payload)


# -- forged requests ---------------------------------------------------------------------------------


async def test_tampered_body_is_refused(bot: Bot) -> None:
    """A body changed after signing (another user id) fails the signature check: 401, nothing done."""
    body = sr.slash_command("tomorrow", user_id=ALICE, response_url=bot.response_url("x"))
    headers = sr.signed_headers(body, SECRET)
    forged = body.replace(ALICE, MALLORY)
    response = await bot.http.post("/slack/events", content=forged, headers=headers)
    assert response.status_code == 401
    await nothing_happened(bot)


async def test_missing_signature_headers_are_refused(bot: Bot) -> None:
    """No signature at all: 401."""
    body = sr.slash_command("tomorrow", user_id=ALICE, response_url=bot.response_url("x"))
    response = await bot.http.post(
        "/slack/events", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 401
    await nothing_happened(bot)


async def test_future_timestamp_is_refused(bot: Bot) -> None:
    """A signature dated ten minutes ahead is outside the five-minute window too."""
    body = sr.slash_command("tomorrow", user_id=ALICE, response_url=bot.response_url("x"))
    response = await bot.post(body, timestamp=int(time.time()) + 600)
    assert response.status_code == 401


async def test_forged_button_value_cannot_decide_someone_elses_request(bot: Bot) -> None:
    """Mallory crafts an Approve click naming Alice's request: the store says she is no approver."""
    request_id = await submitted_request(bot)
    cards_before = len(approval_cards(bot))
    await bot.click(ids.APPROVE, str(request_id), user=MALLORY, hook="mallory")
    [refusal] = await bot.slack.wait_for("hooks/mallory")
    assert "Only an approver" in refusal.args["text"]
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == Status.PENDING
    assert bot.provider.calls["approve"] == 0 and len(approval_cards(bot)) == cards_before


async def test_only_the_requester_may_cancel(bot: Bot) -> None:
    """Bob (an approver) pressing Cancel on Alice's leave in his Home is refused; her leave stays."""
    request_id = await submitted_request(bot)
    with pytest.raises(Exception, match="only cancel your own"):
        await bot.service.requests.cancel(request_id=request_id, slack_user_id=BOB)
    request = await bot.service.deps.store.request(request_id=request_id)
    assert request is not None and request.status == Status.PENDING


# -- malformed input ---------------------------------------------------------------------------------

MALFORMED = {
    "payload that is not JSON": "payload=%7Bnot-json",
    "payload without a user": "payload=" + json.dumps({"type": "block_actions", "actions": []}),
    "unknown action id": sr.interactive(
        sr.block_action(
            user_id=ALICE, action_id="no_such_action", value="1", response_url="http://127.0.0.1:9/"
        )
    ),
    "button value that is not a request id": sr.interactive(
        sr.block_action(
            user_id=BOB, action_id=ids.APPROVE, value="'; DROP TABLE", response_url="http://127.0.0.1:9/"
        )
    ),
    "empty body": "",
    "JSON body of no known kind": json.dumps({"hello": "world"}),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_input_gets_a_4xx_never_a_500(bot: Bot, body: str, caplog: Any) -> None:
    """Correctly signed but malformed bodies are refused or ignored with a 4xx or an empty ack, no stack trace."""
    json_body = body.startswith("{")
    response = await bot.post(body, json_body=json_body)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    await bot.drain()
    assert sum(bot.provider.calls.values()) == 0


async def test_huge_body_is_refused_before_it_is_read_whole(bot: Bot) -> None:
    """A body over the limit gets 413, signed or not."""
    body = "text=" + "x" * 2_000_000
    response = await bot.post(body)
    assert response.status_code == 413
    await nothing_happened(bot)


async def test_webhook_to_an_unknown_provider_is_404(bot: Bot) -> None:
    """Webhooks exist only for the configured provider."""
    response = await bot.http.post("/webhooks/timetastic", content=b"{}")
    assert response.status_code in (401, 404)


# -- user text in Block Kit --------------------------------------------------------------------------


async def test_reason_with_mentions_and_links_pings_nobody(bot: Bot) -> None:
    """A reason with <!channel>, a user mention and a disguised link reaches the card as plain text."""
    reason = "<!channel> <@U0BOB> <https://evil.example|click> *bold*"
    preview = await bot.command(f"{DAY.isoformat()} for {reason}")
    assert preview.status_code == 200
    await bot.click(ids.SUBMIT, preview_value(preview.json()), user=ALICE, hook="submit")
    cards = await bot.slack.wait_for("chat.postMessage", count=2)
    text = json.dumps(cards[0].args["blocks"])
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U0BOB>" not in text
    assert "&lt;!channel&gt;" in text


# -- secrets -----------------------------------------------------------------------------------------


async def test_no_secret_reaches_a_log_line_or_a_slack_message(bot: Bot, caplog: Any) -> None:
    """A whole run (request, approval, a refused forgery, an outage) logged at DEBUG holds no secret."""
    caplog.set_level(logging.DEBUG)
    request_id = await submitted_request(bot)
    await bot.click(ids.APPROVE, str(request_id), user=BOB)
    await bot.slack.wait_for("chat.update", count=2)
    await bot.post(
        sr.slash_command("tomorrow", user_id=ALICE, response_url=bot.response_url("x")), secret="wrong"
    )
    await bot.post(submit_click(bot))
    await bot.drain()
    secrets = [SECRET, "xoxb-test"]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    said = json.dumps([c.args for c in bot.slack.calls])
    for secret in secrets:
        assert secret not in logged
        assert secret not in said
    assert len(caplog.records) > 10  # the run did log: the check above was not vacuous


async def test_malformed_or_forged_webhooks_are_refused(tmp_path: Any, slack: Any) -> None:
    """Timetastic webhooks: a wrong secret is 401, a verified body that is not JSON 400, a huge one 413."""
    from fakes.timetastic import TOKEN, WEBHOOK_SECRET, FakeTimetastic
    from remote_bot import provider_bot

    from providers.timetastic import TimetasticProvider

    with FakeTimetastic() as fake:
        config = TimetasticProvider.Config(api_token=TOKEN, base_url=fake.url, webhook_secret=WEBHOOK_SECRET)
        async with provider_bot(TimetasticProvider(config, http=httpx.AsyncClient()), slack, tmp_path) as bot:
            url = "/webhooks/timetastic"
            forged = await bot.http.post(url, content=b"{}", headers={"Timetastic-Secret": "guess"})
            garbage = await bot.http.post(
                url, content=b"{not json", headers={"Timetastic-Secret": WEBHOOK_SECRET}
            )
            huge = await bot.http.post(
                url, content=b"x" * 2_000_000, headers={"Timetastic-Secret": WEBHOOK_SECRET}
            )
    assert (forged.status_code, garbage.status_code, huge.status_code) == (401, 400, 413)
