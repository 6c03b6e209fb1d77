"""What the sandbox's local servers (the Bot API, the fake LibreTranslate) share: started and
stopped by ``async with``, named by ``url``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def client_gone(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A client that closes its connection before its request was read is no error of the
    server's: a bot that stops cancels what it was sending (and a loaded machine makes that
    moment likelier), and Telegram does not tell the bot either. aiohttp would log the
    handler's ``ConnectionResetError`` as an error (and the tests fail on logged errors);
    it is logged at debug level here, only when the connection is really gone. Any other
    error, and a reset on a connection that is still open, stays an error."""
    try:
        return await handler(request)
    except ConnectionResetError:
        if request.transport is not None and not request.transport.is_closing():
            raise
        log.debug("client closed the connection during %s %s", request.method, request.path)
        return web.Response(status=499)  # nobody reads it


class LoopbackServer:
    _host = "127.0.0.1"
    _port: int | None = None

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"
