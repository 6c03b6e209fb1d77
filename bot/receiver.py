"""How updates reach the bot: long polling, or a webhook when QUARTIERBOT_WEBHOOK_URL is set,
each with its ``/healthz``. ``bot.app.run`` and the tests start the bot through this one
class, so both take the same path."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.context import SERVICES, Services
from bot.health import Health, Listener, Liveness, health_app
from bot.updates import Throttled, TolerantBot, UpdateStats
from bot.webhook import listener_path, webhook_app, webhook_secret

log = logging.getLogger(__name__)

UPDATE_TYPES: tuple[str, ...] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)
"""The update types the handlers use, asked for in ``allowed_updates`` (both modes).

One list in one place; ``tests/test_ops_webhook.py`` derives the types from the registered
handlers and fails when a handler needs a type that is missing here (or one here is unused).
"""


class Receiver:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        clock: Clock | None = None,
        poll_interval: float = 0.0,
        poll_timeout: int = 10,
    ) -> None:
        self.application = application
        services: Services = application.bot_data[SERVICES]
        self.services = services
        self.config = services.config
        self.clock = clock or services.clock
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.liveness = Liveness(self.clock, "webhook" if self.config.webhook_url else "polling")
        # The app factory's bot counts every successful getUpdates; the webhook listener
        # counts its calls in the same place. Either way the liveness hears of it.
        bot = application.bot
        self.stats = bot.update_stats if isinstance(bot, TolerantBot) else UpdateStats()
        self.stats.on_fetch(self.liveness.record)
        self.health = Health(
            services.storage, self.clock, self.liveness, services.health_probes, self.stats
        )
        self.listener: Listener | None = None
        self._polling = False

    @property
    def webhook(self) -> bool:
        return self.config.webhook_url is not None

    async def start(self) -> None:
        """After ``application.start()``."""
        config = self.config
        if config.webhook_url is not None:
            secret = webhook_secret(config)
            self.listener = Listener(
                webhook_app(
                    self.application,
                    path=listener_path(config.webhook_url),
                    secret=secret,
                    stats=self.stats,
                    health=self.health,
                )
            )
            await self.listener.start(*config.webhook_listen)
            try:
                await self.application.bot.set_webhook(
                    url=config.webhook_url,
                    secret_token=secret,
                    allowed_updates=list(UPDATE_TYPES),
                )
            except BaseException:
                await self.listener.stop()
                self.listener = None
                raise
            host, _ = config.webhook_listen
            log.info(
                "webhook set; listening on %s:%s%s (and %s)",
                host,
                self.listener.port,
                listener_path(config.webhook_url),
                "/healthz",
            )
            return
        updater = self.application.updater
        assert updater is not None
        # start_polling deletes a webhook left from webhook mode (PTB's bootstrap calls
        # deleteWebhook whenever it polls), so switching back needs nothing else.
        # PTB's retry loop backs off (up to 30 s) but logs every failed getUpdates with a
        # traceback; one line a minute with a count says the same.
        polling_errors = Throttled(log, 60.0)
        await updater.start_polling(
            poll_interval=self.poll_interval,
            timeout=self.poll_timeout,
            allowed_updates=list(UPDATE_TYPES),
            error_callback=lambda exc: polling_errors.warning(
                type(exc).__name__, "getUpdates failed: %s; trying again", exc
            ),
        )
        self._polling = True
        if config.health_listen is not None:
            self.listener = Listener(health_app(self.health))
            await self.listener.start(*config.health_listen)
            log.info(
                "health check on http://%s:%s/healthz", config.health_listen[0], self.listener.port
            )

    async def stop(self) -> None:
        """Stop taking updates; the caller's ``application.stop()`` then finishes those
        already queued (it waits for the update queue to drain)."""
        if self.listener is not None:
            listener, self.listener = self.listener, None
            await listener.stop()
        if self._polling:
            self._polling = False
            updater = self.application.updater
            assert updater is not None
            await updater.stop()
