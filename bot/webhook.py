"""Webhook mode: Telegram posts each update to the office's public https URL; the reverse
proxy hands it to this listener, which checks the secret and queues the update for PTB.

PTB's own webhook server needs tornado and serves nothing but updates; this one is a small
aiohttp app that also answers ``/healthz`` on the same address, and puts updates on
``application.update_queue`` exactly as PTB's would.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram.ext import Application

from bot.config import HEALTH_PATH, SECRET_RE, Config
from bot.health import Health, health_route
from bot.updates import UpdateStats, parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_FILE = "webhook-secret"
"""Kept next to the database (mode 600) when QUARTIERBOT_WEBHOOK_SECRET is not given."""


def secret_path(config: Config) -> Path:
    return config.db_path.parent / SECRET_FILE


def webhook_secret(config: Config) -> str:
    """The given secret, or the one generated on the first start and kept since: a new
    secret on every start would be harmless, but one stable value lets an operator put it
    into the reverse proxy's configuration as an extra filter if they want to."""
    if config.webhook_secret is not None:
        return config.webhook_secret
    path = secret_path(config)
    if path.is_file():
        kept = path.read_text(encoding="ascii").strip()
        if SECRET_RE.match(kept):
            return kept
        log.warning("the kept webhook secret is not valid; making a new one")
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)  # 64 characters of A-Z a-z 0-9 _ -
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secret + "\n")
    os.chmod(path, 0o600)
    log.info("generated a webhook secret in %s", path)
    return secret


def listener_path(webhook_url: str) -> str:
    """The path the listener serves: the public URL's own path, as a reverse proxy passes
    it on unchanged (nginx ``proxy_pass http://127.0.0.1:8443;`` without a URI part)."""
    return urlsplit(webhook_url).path or "/"


def webhook_app(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    path: str,
    secret: str,
    stats: UpdateStats,
    health: Health,
) -> web.Application:
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(), expected):
            # Logged without the header's value: a wrong secret may be someone's typo.
            log.warning(
                "refused a webhook request (%s secret token)", "no" if given is None else "wrong"
            )
            return web.Response(status=403, text="Forbidden")
        try:
            payload = await request.json()
            if not isinstance(payload, dict):
                raise ValueError("not an object")
            # Read as getUpdates' batches are: an update PTB cannot parse is skipped by id.
            update = parse_update(payload, application.bot, stats)
        except Exception as exc:  # not JSON, or not even an update id to skip it by
            log.warning("refused a webhook request: not an update (%s)", type(exc).__name__)
            return web.Response(status=400, text="Bad Request")
        stats.fetched()
        await application.update_queue.put(update)
        log.debug("update %s queued", update.update_id)
        return web.Response(status=200)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    app.router.add_get(HEALTH_PATH, health_route(health))
    return app
