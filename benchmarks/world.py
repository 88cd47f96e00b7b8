"""The world around the bot, in its own process: the tests' fake Slack Web API and the slow fake HR system.

Prints one JSON line ``{"slack_url": …, "hr_url": …}`` once both listen, then serves until terminated.
`GET {hr_url}/slack-stats` counts the calls the fake Slack received, by method.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes import slack as fake_slack
from fakes.loopback import LoopbackServer
from people import approvers_of, slack_users
from slow_hr import hr_app


async def main(delay: float, parent: int | None) -> None:
    """Start the fake Slack (a thread) and the fake HR system (uvicorn), then announce their URLs."""
    # The bot's background work opens many connections at once; socketserver's default backlog is 5.
    LoopbackServer.request_queue_size = 1024
    slack = fake_slack.FakeSlack().start()
    for user_id, (email, name) in slack_users().items():
        slack.add_user(user_id, email=email, name=user_id.lower(), real_name=name)

    async def slack_stats(_: Request) -> JSONResponse:
        with slack._lock:
            counts = Counter(call.method.split("/")[0] for call in slack.calls)
        return JSONResponse(counts)

    app = hr_app(delay=delay, approvers=approvers_of, extra=[Route("/slack-stats", slack_stats)])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none", backlog=4096)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    watchdog = asyncio.create_task(exit_with(parent)) if parent else None  # noqa: F841
    print(json.dumps({"slack_url": slack.url, "hr_url": f"http://127.0.0.1:{port}"}), flush=True)
    await serving
    slack.stop()


async def exit_with(parent: int) -> None:
    """Stop when the benchmark that started us is gone (killed before it could stop us)."""
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    os._exit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the fake HR system takes per call")
    parser.add_argument("--parent", type=int, help="exit when this process (the benchmark) is gone")
    args = parser.parse_args()
    asyncio.run(main(args.delay, args.parent))
