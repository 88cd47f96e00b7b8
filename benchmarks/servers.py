"""One server under test per process: ``python benchmarks/servers.py KIND --slack-url … --hr-url …``.

Kinds: ``trivial-raw`` (a bare asyncio socket answering 200: the load generator's ceiling),
``trivial-asgi`` (the smallest ASGI app under uvicorn), ``bare-default`` and ``bare-pbr`` (a Bolt
AsyncApp whose listeners only ack, default / ``process_before_response=True``), ``leavebot-local``
and ``leavebot-remote`` (leavebot built as ``leavebot serve`` builds it, on the local provider or on
the slow fake HR system). Every uvicorn server runs with the same settings on 127.0.0.1.

Prints one JSON line ``{"port": …, "ready_s": …}`` when ready (``ready_s``: from this module's first
line, before any import of Bolt or leavebot, to accepting requests). ``GET /bench/stats`` reports the
process's tasks, memory and, for leavebot, its leave requests by status.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (the clock starts before any import)
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-test"  # the fake Slack's token
Stats = Callable[[], Awaitable[dict[str, Any]]]


def memory() -> dict[str, float]:
    """Resident and peak resident memory of this process, in MB (from /proc where there is one)."""
    status = Path("/proc/self/status")
    if not status.exists():
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
            1024 * 1024 if sys.platform == "darwin" else 1024
        )
        return {"rss_mb": peak, "peak_rss_mb": peak}
    found: dict[str, float] = {}
    for line in status.read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found["rss_mb" if name == "VmRSS" else "peak_rss_mb"] = int(value.split()[0]) / 1024
    return found


def with_stats(app: Any, extra: Stats | None = None, reset: Stats | None = None) -> Any:
    """Wrap an ASGI app so that GET /bench/stats and /bench/reset answer, and everything else goes to ``app``."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in ("/bench/stats", "/bench/reset"):
            await app(scope, receive, send)
            return
        if scope["path"] == "/bench/reset" and reset:
            await reset()
        stats = {"tasks": len(asyncio.all_tasks()), **memory(), **(await extra() if extra else {})}
        body = json.dumps(stats).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return asgi


async def trivial_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """200 "ok" to every HTTP request (lifespan events are declined)."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def bare_bolt(*, slack_url: str, process_before_response: bool) -> Any:
    """The app most Bolt apps start from: listeners that only ack, behind Bolt's Starlette adapter."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    client = AsyncWebClient(token=TOKEN, base_url=slack_url)
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=process_before_response)

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/leave")(only_ack)
    app.action("leave_submit")(only_ack)
    app.view("leave_request_modal")(only_ack)
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Any:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def leavebot(*, slack_url: str, hr_url: str, remote: bool, workdir: Path) -> tuple[Any, Stats, Stats]:
    """leavebot as `leavebot serve` builds it (warm-up, job loop), on the local or the slow remote provider."""
    import httpx
    from sqlalchemy import text
    from sqlmodel import SQLModel

    from bot.app import create_app, slack_client
    from bot.config import Settings
    from bot.listeners import ListenerDeps
    from bot.runtime import PROVIDER_TIMEOUT, run_beside, running
    from bot.server import create_server
    from bot.services.wiring import Services
    from bot.store import Store, create_engine, upgrade
    from bot.webhooks import WebhookReceiver

    settings = Settings(
        _env_file=None,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack_url,
        database_url=os.environ.get("LEAVEBOT_BENCH_DATABASE_URL") or f"sqlite:///{workdir}/leavebot.db",
    )
    if remote:
        from slow_hr import SlowHrProvider

        engine = create_engine(settings.database_url)
        await upgrade(engine)
        provider = SlowHrProvider(
            SlowHrProvider.Config(base_url=hr_url), http=httpx.AsyncClient(timeout=PROVIDER_TIMEOUT)
        )
        service = Services(
            provider=provider, store=Store(engine), slack=slack_client(settings), zone=settings.zone
        )
    else:
        from people import local_approvers

        os.environ["LOCAL_APPROVERS"] = local_approvers()
        service = await running(settings).__aenter__()  # lives as long as the process
    assert service.deps.slack is not None
    listeners = ListenerDeps(services=service, settings=settings)
    server = create_server(
        create_app(listeners, slack=service.deps.slack),
        service.deps.store,
        background=lambda: run_beside(service, settings, resume=listeners.resume_abandoned),
        webhooks=WebhookReceiver(service).receive,
        stopping=listeners.stop,
    )

    async def stats() -> dict[str, Any]:
        async with service.deps.store.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT status, count(*) FROM leave_request GROUP BY status")
            )
            requests = {status: count for status, count in rows}
        # Work after the acks still to do: the backlog, and submissions not yet handed to the provider.
        busy = len(listeners.backlog.waiting) + len(listeners.backlog.running) + requests.get("submitting", 0)
        return {"requests": requests, "busy": busy}

    async def reset() -> dict[str, Any]:
        # Every cell starts from the same database: no leave yet, people already known.
        async with service.deps.store.engine.begin() as connection:
            for table in reversed(SQLModel.metadata.sorted_tables):
                if table.name not in ("slack_user", "alembic_version"):
                    await connection.execute(table.delete())
        return {}

    return server, stats, reset


class TrivialProtocol(asyncio.Protocol):
    """Answers 200 "ok" to each request head it reads (the generator sends no bodies here)."""

    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

    def connection_made(self, transport: Any) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            self.buffer = self.buffer[end + 4 :]
            self.transport.write(self.RESPONSE)


async def serve_raw() -> None:
    """The trivial endpoint on a bare asyncio socket: no HTTP framework at all."""
    server = await asyncio.get_running_loop().create_server(TrivialProtocol, "127.0.0.1", 0, backlog=4096)
    announce(server.sockets[0].getsockname()[1])
    await server.serve_forever()


async def exit_with(parent: int) -> None:
    """Stop when the benchmark that started us is gone (killed before it could stop us)."""
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    os._exit(1)


def announce(port: int) -> None:
    """Tell the parent where we listen and how long starting took."""
    print(json.dumps({"port": port, "ready_s": time.perf_counter() - STARTED}), flush=True)


async def main(args: argparse.Namespace) -> None:
    """Build the server of ``args.kind`` and serve it until terminated."""
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    watchdog = asyncio.create_task(exit_with(args.parent)) if args.parent else None  # noqa: F841
    if args.kind == "trivial-raw":
        await serve_raw()
        return
    stats: Stats | None = None
    reset: Stats | None = None
    if args.kind == "trivial-asgi":
        app: Any = trivial_asgi
    elif args.kind.startswith("bare-"):
        app = bare_bolt(slack_url=args.slack_url, process_before_response=args.kind == "bare-pbr")
    else:
        remote = args.kind == "leavebot-remote"
        app, stats, reset = await leavebot(
            slack_url=args.slack_url, hr_url=args.hr_url, remote=remote, workdir=Path(args.workdir)
        )
    # The same settings for every server: loopback, no access log, the asyncio loop and h11.
    config = uvicorn.Config(
        with_stats(app, stats, reset),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        http="h11",
        loop="asyncio",
        ws="none",
        backlog=4096,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.005)
    announce(server.servers[0].sockets[0].getsockname()[1])
    await serving


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "kind",
        choices=[
            "trivial-raw",
            "trivial-asgi",
            "bare-default",
            "bare-pbr",
            "leavebot-local",
            "leavebot-remote",
        ],
    )
    parser.add_argument("--slack-url", default="http://127.0.0.1:1/api/")
    parser.add_argument("--hr-url", default="http://127.0.0.1:1")
    parser.add_argument("--workdir", default=".")
    parser.add_argument("--parent", type=int, help="exit when this process (the benchmark) is gone")
    asyncio.run(main(parser.parse_args()))
