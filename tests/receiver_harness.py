"""The end-to-end harness started the way ``bot.app.run`` starts the bot: through
:class:`bot.receiver.Receiver`, in polling or webhook mode as the config says."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

from bot.app import build_application, shutdown, startup
from bot.receiver import Receiver
from tests.conftest import Harness

PUBLIC = "https://bot.example.org"
WEBHOOK_URL = f"{PUBLIC}/telegram/quartierbot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReceiverHarness(Harness):
    receiver: Receiver | None = None

    async def start(self) -> None:
        app = build_application(self.config, clock=self.clock, i18n=self.i18n)
        self.watch(app)
        receiver = Receiver(app, poll_interval=0, poll_timeout=1)
        await app.initialize()
        await startup(app)
        await app.start()
        await receiver.start()
        self.app = app
        self.receiver = receiver

    async def stop(self) -> None:
        app, receiver = self.app, self.receiver
        if app is None or receiver is None:
            return
        self.app = self.receiver = None
        await receiver.stop()
        await app.stop()
        await shutdown(app)
        await app.shutdown()

    @property
    def local_url(self) -> str:
        """The listener's own address (what the reverse proxy forwards to)."""
        assert self.receiver is not None and self.receiver.listener is not None
        host, _ = self.config.webhook_listen
        return f"http://{host}:{self.receiver.listener.port}"


async def started(harness: ReceiverHarness) -> AsyncIterator[ReceiverHarness]:
    await harness.start()
    try:
        yield harness
        if harness.app is not None:
            await harness.idle()
    finally:
        await harness.stop()
    assert not harness.errors, f"the bot raised: {harness.errors!r}"
