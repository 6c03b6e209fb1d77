"""What the sandbox's local servers (the Bot API, the fake LibreTranslate) share: started and
stopped by ``async with``, named by ``url``."""

from __future__ import annotations

from types import TracebackType
from typing import Self


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
