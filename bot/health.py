"""``/healthz``: what an office's monitoring asks the running bot.

One JSON answer: the database (reachable, writable, migrations current), how long ago
updates last arrived from Telegram, the work waiting in the outboxes, and a small list of
pluggable checks (translation and voice engines add theirs when they are configured).
HTTP 503 when something needs a person; the answer is computed on every request, so it
turns 200 again as soon as the problem is mended.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.clock import Clock
from bot.config import HEALTH_PATH
from bot.updates import UpdateStats
from storage import Storage
from storage.health import HealthQueries

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)
"""Polling that has not succeeded for this long means residents are not being heard."""
CHECK_TIMEOUT = 5.0
"""No single check may hold up the answer longer than this (seconds)."""

JSON = dict[str, Any]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


Probe = Callable[[], Awaitable[Check]]
"""A pluggable check, e.g. "is the translation server reachable"."""


def http_probe(name: str, url: str, *, timeout: float = 3.0) -> Probe:
    """A check that an HTTP service answers at all (any status below 500), for engines
    such as a LibreTranslate server (``GET /languages``)."""

    async def probe() -> Check:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.get(url) as response,
            ):
                if response.status >= 500:
                    return Check(name, False, f"HTTP {response.status}")
                return Check(name, True)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Check(name, False, f"unreachable ({type(exc).__name__})")

    return probe


class Liveness:
    """When updates last arrived from Telegram: a successful ``getUpdates`` or a webhook call."""

    def __init__(self, clock: Clock, mode: str) -> None:
        self.clock = clock
        self.mode = mode
        self.started_at = clock.now()
        self.last_success: datetime | None = None

    def record(self) -> None:
        self.last_success = self.clock.now()

    def seconds_since(self) -> float:
        """Since the last success, or since the start when there was none yet."""
        return (self.clock.now() - (self.last_success or self.started_at)).total_seconds()

    @property
    def stale(self) -> bool:
        """Only polling can be stale: a webhook is quiet whenever residents are."""
        return self.mode == "polling" and self.seconds_since() > STALE_AFTER.total_seconds()


class Health:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        liveness: Liveness,
        probes: Sequence[Probe] = (),
        stats: UpdateStats | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.liveness = liveness
        self.probes = probes
        self.stats = stats

    async def report(self) -> tuple[bool, JSON]:
        problems: list[str] = []
        queries = HealthQueries(self.storage.db)
        database: JSON = {"reachable": False, "writable": False, "migrations_current": False}
        backlog: JSON | None = None
        try:
            pending = await asyncio.wait_for(queries.pending_migrations(), CHECK_TIMEOUT)
            unknown = await asyncio.wait_for(queries.unknown_migrations(), CHECK_TIMEOUT)
            database["reachable"] = True
            database["migrations_current"] = not pending and not unknown
            if pending:
                problems.append(f"database: {len(pending)} migration(s) not applied")
            if unknown:
                problems.append("database: written by a newer version of the bot")
            counts = await asyncio.wait_for(queries.backlog(), CHECK_TIMEOUT)
            backlog = {
                "staff_outbox": counts.staff_outbox,
                "broadcast_outbox": counts.broadcast_outbox,
                "pending_reminders": counts.pending_reminders,
            }
        except Exception as exc:
            problems.append(f"database: not reachable ({_reason(exc)})")
        if database["reachable"]:
            try:
                await asyncio.wait_for(queries.write_probe(self.clock.now()), CHECK_TIMEOUT)
                database["writable"] = True
            except Exception as exc:
                problems.append(f"database: cannot write ({_reason(exc)})")
        since = round(self.liveness.seconds_since(), 1)
        if self.liveness.stale:
            problems.append(f"updates: no successful getUpdates for {since:.0f} s")
        checks: JSON = {}
        for probe in self.probes:
            try:
                check = await asyncio.wait_for(probe(), CHECK_TIMEOUT)
            except Exception as exc:
                check = Check(getattr(probe, "__name__", "check"), False, _reason(exc))
            checks[check.name] = {"ok": check.ok, "detail": check.detail}
            if not check.ok:
                problems.append(f"{check.name}: {check.detail or 'failing'}")
        report: JSON = {
            "ok": not problems,
            "problems": problems,
            "database": database,
            "updates": {
                "mode": self.liveness.mode,
                "seconds_since_last": since,
                "unreadable": self.stats.unreadable if self.stats is not None else 0,
            },
            "backlog": backlog,
            "checks": checks,
        }
        return not problems, report


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def health_route(health: Health) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(request: web.Request) -> web.Response:
        ok, report = await health.report()
        if not ok:
            log.warning("health check failing: %s", "; ".join(report["problems"]))
        return web.json_response(report, status=200 if ok else 503)

    return healthz


class Listener:
    """A small aiohttp server on one address; the webhook and the health check share it."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=10.0)
        await runner.setup()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        sock.setblocking(False)
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.port = int(sock.getsockname()[1])

    async def stop(self) -> None:
        """Stop accepting, let requests being answered finish."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            started = time.monotonic()
            await runner.cleanup()
            log.debug("listener stopped in %.2f s", time.monotonic() - started)


def health_app(health: Health) -> web.Application:
    app = web.Application()
    app.router.add_get(HEALTH_PATH, health_route(health))
    return app
