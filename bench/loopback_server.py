"""A tiny asyncio HTTP/1.1 responder on loopback, the target of bench/probe_throughput.py.

Every request (any method, any path) gets ``200 OK`` with a small HTML body after ``--delay-ms``, then
the connection is closed (``Connection: close``), as a partner's page would be for a probe that opens a
new connection each time. It runs in its own process so it never competes with the worker for a GIL.

    python bench/loopback_server.py [--port 0] [--delay-ms 0] [--backlog 4096]

Prints ``PORT <n>`` on stdout once listening. On SIGTERM/SIGINT it prints ``SERVED <count>`` and exits.
Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys

BODY = (b"<!doctype html><html><head><title>Partner</title></head><body>"
        b"<h1>Make a claim</h1><p>Call us on 0800 000 000.</p></body></html>\n")
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + BODY)
MAX_HEAD = 64 * 1024


class Responder(asyncio.Protocol):
    __slots__ = ("transport", "buffer", "answered", "loop", "delay", "stats")

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float, stats: list[int]) -> None:
        self.loop, self.delay, self.stats = loop, delay, stats
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.answered = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return
        self.buffer += data
        if b"\r\n\r\n" in self.buffer or len(self.buffer) > MAX_HEAD:
            self.answered = True
            self.buffer = b""
            if self.delay > 0:
                self.loop.call_later(self.delay, self.respond)
            else:
                self.respond()

    def respond(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(RESPONSE)
        transport.close()
        self.stats[0] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, delay: float, backlog: int) -> None:
    loop = asyncio.get_running_loop()
    stats = [0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = await loop.create_server(lambda: Responder(loop, delay, stats), sock=sock, backlog=backlog)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(f"SERVED {stats[0]}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--backlog", type=int, default=4096)
    args = parser.parse_args(argv)
    try:
        import uvloop  # type: ignore[import-not-found]  # optional: faster if present
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port, args.delay_ms / 1000.0, args.backlog))
    sys.exit(0)


if __name__ == "__main__":
    main()
