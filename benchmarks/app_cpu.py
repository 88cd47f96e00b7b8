"""CPU per `/leave <text>` preview of the ASGI app alone: leavebot beside the bare `process_before_response` app.

No uvicorn, h11 or sockets (which every server pays alike): each app is called directly in this process,
in turns, and the main thread's CPU time (``time.thread_time``) is divided by the requests of a round. Each
requester's locale is learnt first (a numeric text, previewed after the ack), as the mix's warm-up in
``sustained.py`` does. To measure another tree with this harness: ``PYTHONPATH=/path/to/tree``.

    .venv/bin/python benchmarks/app_cpu.py [--requests 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import ack  # noqa: E402
import servers  # noqa: E402
from ack import Process, Requests  # noqa: E402


def to_asgi(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """An HTTP/1.1 request's bytes as an ASGI scope and body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ")
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(b":") for line in lines[1:])]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.decode(),
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    return scope, body


async def call(app: Any, scope: dict[str, Any], body: bytes) -> list[dict[str, Any]]:
    """One request through ``app``; the messages it sent."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client never disconnects during a request
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def measure(count: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="leavebot-app-cpu-") as workdir:
        work = Path(workdir)
        world = await Process.start("world.py", log=work / "world.log", cwd=work)
        try:
            slack, hr = world.info["slack_url"], world.info["hr_url"]
            hooks = slack.removesuffix("/api/") + "/hooks"
            pbr = servers.bare_bolt(slack_url=slack, process_before_response=True)
            leavebot, _, _ = await servers.leavebot(slack_url=slack, hr_url=hr, remote=True, workdir=work)
            async with leavebot.router.lifespan_context(leavebot):
                await asyncio.sleep(3)  # the warm-up and the leave types
                requests = Requests(80, hooks)
                text, ack.TEXT = ack.TEXT, "7/4"  # previewed after the ack: every requester's locale learnt
                for raw in requests.build("slash-text", 200):
                    await call(leavebot, *to_asgi(raw))
                ack.TEXT = text
                await asyncio.sleep(2)
                apps = {"bare-pbr": pbr, "leavebot": leavebot}
                for name, app in apps.items():  # warm, and check each answers as it should
                    for raw in requests.build("slash-text", 50):
                        sent = await call(app, *to_asgi(raw))
                    preview = name == "bare-pbr" or b'"blocks"' in sent[-1].get("body", b"")
                    assert sent[0]["status"] == 200 and preview, f"{name} answered {sent}"
                found: dict[str, list[float]] = {name: [] for name in apps}
                for _ in range(rounds):
                    for name, app in apps.items():
                        built = [to_asgi(raw) for raw in requests.build("slash-text", count)]
                        began = time.thread_time()
                        for scope, body in built:
                            await call(app, scope, body)
                        found[name].append((time.thread_time() - began) / count * 1000)
                return found
        finally:
            await world.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    found = asyncio.run(measure(args.requests, args.rounds))
    for name, values in found.items():
        print(f"{name:9} " + " ".join(f"{v:.3f}" for v in values) + f"  (min {min(values):.3f} ms a preview)")
    print(f"leavebot / bare-pbr, minimum of each: {min(found['leavebot']) / min(found['bare-pbr']):.2f}×")


if __name__ == "__main__":
    main()
