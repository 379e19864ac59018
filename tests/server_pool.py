"""One way for the loopback-server fixtures (HTTP, SMTP, DNS) to start servers and stop them all after a test."""

from __future__ import annotations

from typing import Callable, Iterator, Protocol, TypeVar


class _Startable(Protocol):
    def start(self): ...  # type: ignore[no-untyped-def]  # returns the server itself
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Startable)


def server_pool(build: Callable[..., S]) -> Iterator[Callable[..., S]]:
    """A fixture body: yields ``make(...)``, which builds a server with ``build(...)`` and starts it; every
    server it made is stopped when the test ends."""
    servers: list[S] = []

    def make(*args: object, **kwargs: object) -> S:
        server = build(*args, **kwargs)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()
