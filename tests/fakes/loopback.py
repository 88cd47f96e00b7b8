"""What every fake shares: a real HTTP server on 127.0.0.1, on a free port, in a daemon thread, and one
set of transport faults (``fail_next``, ``stall_next``, ``drop_next``) applied before the fake's own routing, and
a count of the requests being served at once (``in_flight``, its high-water mark ``peak_in_flight``).

A fake subclasses ``Loopback`` and writes two hooks, both run on server threads:
``_record(incoming)`` keeps the call where its tests look (every call is recorded, faulted or not), and
``_answer(incoming)`` does the work and returns a ``Reply``. ``_fault_body`` shapes the body of an
injected failure as the real API would.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Incoming:
    """One request as the server read it."""

    method: str
    path: str  # without the query
    target: str  # the path with its query, as sent
    query: dict[str, str]
    raw: bytes
    headers: Message

    def json(self, empty: Any = None) -> Any:
        """The body as JSON, ``empty`` when there is none, the text as sent when it is not JSON."""
        if not self.raw:
            return empty
        try:
            return json.loads(self.raw)
        except ValueError:
            return self.raw.decode(errors="replace")

    def lower_headers(self) -> dict[str, str]:
        """The headers, names in lower case."""
        return {k.lower(): v for k, v in self.headers.items()}


@dataclass
class Reply:
    """What a fake answers: a ``str`` body is sent as text, ``bytes`` as given, ``None`` as nothing, else JSON."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: Literal["fail", "stall", "drop", "late"]
    times: int
    path: str
    method: str
    status: int = 503
    retry_after: int | str | None = None
    message: str = ""
    seconds: float = 0.0

    def matches(self, incoming: Incoming) -> bool:
        return self.path in incoming.path and self.method in ("", incoming.method)


class LoopbackServer(ThreadingHTTPServer):
    """The server behind a fake; its handler reaches the fake as ``self.server.fake``."""

    daemon_threads = True
    request_queue_size = 256  # a provider opens several connections at once

    def __init__(self, fake: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.fake = fake


class LoopbackHandler(BaseHTTPRequestHandler):
    """Reads a request, lets the fake answer it (faults first), and sends the reply or drops the connection."""

    server: LoopbackServer
    _counted = False  # this request is counted in its fake's in_flight

    def do_GET(self) -> None:
        """Serve a GET."""
        self._handle()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._handle()

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._handle()

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _handle(self) -> None:
        fake: Loopback = self.server.fake
        fake._flying(+1)
        self._counted = True
        try:
            self._handle_counted(fake)
        finally:
            self._answered(fake)

    def _answered(self, fake: Loopback) -> None:
        """No longer in flight; called before the body goes out, as the client cannot finish reading sooner."""
        if self._counted:
            self._counted = False
            fake._flying(-1)

    def _handle_counted(self, fake: Loopback) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        reply = fake._serve(Incoming(self.command, url.path, self.path, query, raw, self.headers))
        if reply is None:
            self.close_connection = True  # the work is done; the answer never comes
            return
        if isinstance(reply.body, bytes):
            payload, content_type = reply.body, fake.json_type
        elif isinstance(reply.body, str):
            payload, content_type = reply.body.encode(), "text/plain; charset=utf-8"
        elif reply.body is None:
            payload, content_type = b"", fake.json_type
        else:
            payload, content_type = json.dumps(reply.body).encode(), fake.json_type
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self._answered(fake)
        self.wfile.write(payload)


class Loopback:
    """A fake served over real HTTP: ``with Fake() as fake:`` starts and stops it."""

    handler: ClassVar[type[BaseHTTPRequestHandler]] = LoopbackHandler
    json_type: ClassVar[str] = "application/json; charset=utf-8"
    # fail_next statuses that stand for a server the call never reached (a fake whose tests count the calls
    # that reached its work leaves these out of ``calls``); every other call is recorded, faulted or not.
    unrecorded: ClassVar[frozenset[int]] = frozenset()
    _server: LoopbackServer | None = None
    _thread: threading.Thread | None = None

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._fault_lock = threading.Lock()
        self.in_flight = 0  # requests read and not yet answered (or dropped), faulted ones too
        self.peak_in_flight = 0  # the most at once since start (a test may set it back to 0)
        self._flight_lock = threading.Lock()

    # -- faults ----------------------------------------------------------------------------------

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 503,
        retry_after: int | str | None = None,
        path: str = "",
        method: str = "",
        message: str = "",
    ) -> None:
        """Answer the next ``times`` calls whose path contains ``path`` (and of ``method``, when given) with
        ``status``, undone, with Retry-After when given; ``message`` goes where the real API puts its error text."""
        self._add_fault(_Fault("fail", times, path, method, status, retry_after, message))

    def stall_next(self, times: int = 1, *, seconds: float, path: str = "", method: str = "") -> None:
        """Do the next ``times`` matching calls, then wait ``seconds`` before answering: a timeout after the work."""
        self._add_fault(_Fault("stall", times, path, method, seconds=seconds))

    def delay_next(self, times: int = 1, *, seconds: float, path: str = "", method: str = "") -> None:
        """Let the next ``times`` matching calls reach the API ``seconds`` late (a slow network), then serve them."""
        self._add_fault(_Fault("late", times, path, method, seconds=seconds))

    def drop_next(self, times: int = 1, *, path: str = "", method: str = "") -> None:
        """Do the next ``times`` matching calls, then close the connection without answering."""
        self._add_fault(_Fault("drop", times, path, method))

    def _flying(self, change: int) -> None:
        """One more request read (+1), or one answered or dropped (-1)."""
        with self._flight_lock:
            self.in_flight += change
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _add_fault(self, fault: _Fault) -> None:
        with self._fault_lock:
            self._faults.append(fault)

    def _take_fault(self, incoming: Incoming) -> _Fault | None:
        with self._fault_lock:
            fault = next((f for f in self._faults if f.matches(incoming)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault

    def _serve(self, incoming: Incoming) -> Reply | None:
        """Record the call, then apply a fault or answer it (None: drop the connection)."""
        fault = self._take_fault(incoming)
        if fault is not None and fault.kind == "late":
            time.sleep(fault.seconds)
        if fault is None or fault.kind != "fail" or fault.status not in self.unrecorded:
            self._record(incoming)
        if fault is not None and fault.kind == "fail":
            retry = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return Reply(fault.status, self._fault_body(fault.status, fault.message), retry)
        reply = self._answer(incoming)
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.seconds)
        return None if fault is not None and fault.kind == "drop" else reply

    # -- the fake's own hooks --------------------------------------------------------------------

    def _record(self, incoming: Incoming) -> None:
        """Keep the call for the tests to read."""

    def _answer(self, incoming: Incoming) -> Reply:
        raise NotImplementedError

    def _fault_body(self, status: int, message: str) -> Any:
        """The body of an injected failure; plain text unless the fake's API shapes its errors."""
        return message or "Service Unavailable"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        self._server = LoopbackServer(self, self.handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and release its socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"
