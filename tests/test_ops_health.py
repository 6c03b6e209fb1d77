"""``/healthz``: healthy, database not writable, polling stalled for more than two minutes,
an engine down, and healthy again once mended; time moves by the FakeClock, never by
sleeping. Plus the configuration of webhook, health and log variables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.clock import FakeClock
from bot.config import Config, ConfigError, load_config
from bot.health import Check, Health, Liveness, http_probe
from bot.i18n import I18n
from sandbox.server import Sandbox
from storage import Storage
from tests.conftest import START, with_config
from tests.receiver_harness import ReceiverHarness, free_port, started

JSON = dict[str, Any]


# -- configuration ----------------------------------------------------------------------------
def test_webhook_health_and_log_variables() -> None:
    config = load_config(
        {
            "QUARTIERBOT_WEBHOOK_URL": "https://bot.example.org/telegram",
            "QUARTIERBOT_HEALTH_PORT": "8081",
            "QUARTIERBOT_LOG_FORMAT": "JSON",
        },
        env_file=None,
    )
    assert config.webhook_url == "https://bot.example.org/telegram"
    assert config.webhook_listen == ("127.0.0.1", 8443)
    assert config.webhook_secret is None
    assert config.health_listen == ("127.0.0.1", 8081)
    assert config.log_format == "json"
    other = load_config(
        {"QUARTIERBOT_WEBHOOK_LISTEN": "[::1]:9000", "QUARTIERBOT_HEALTH_PORT": "0.0.0.0:81"},
        env_file=None,
    )
    assert other.webhook_listen == ("::1", 9000) and other.health_listen == ("0.0.0.0", 81)
    assert other.webhook_url is None and other.health_listen is not None


def test_webhook_and_health_problems_one_line_each() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            {
                "QUARTIERBOT_WEBHOOK_URL": "http://bot.example.org/telegram",
                "QUARTIERBOT_WEBHOOK_LISTEN": "localhost:eighty",
                "QUARTIERBOT_WEBHOOK_SECRET": "has spaces",
                "QUARTIERBOT_HEALTH_PORT": "99999",
                "QUARTIERBOT_LOG_FORMAT": "xml",
            },
            env_file=None,
        )
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "QUARTIERBOT_WEBHOOK_URL",
        "QUARTIERBOT_WEBHOOK_LISTEN",
        "QUARTIERBOT_WEBHOOK_SECRET",
        "QUARTIERBOT_HEALTH_PORT",
        "QUARTIERBOT_LOG_FORMAT",
    ]
    assert "https" in problems[0]
    assert all("\n" not in p for p in problems)
    with pytest.raises(ConfigError, match="health check"):
        load_config({"QUARTIERBOT_WEBHOOK_URL": "https://x.org/healthz"}, env_file=None)
    with pytest.raises(ConfigError, match="443, 80, 88 or 8443"):
        load_config({"QUARTIERBOT_WEBHOOK_URL": "https://x.org:9443/tg"}, env_file=None)
    assert load_config(
        {"QUARTIERBOT_WEBHOOK_URL": "https://x.org:8443/tg"}, env_file=None
    ).webhook_url


# -- the report -------------------------------------------------------------------------------
@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    yield storage
    await storage.close()


async def test_healthy_then_database_read_only_then_mended(storage: Storage) -> None:
    clock = FakeClock(START)
    liveness = Liveness(clock, "polling")
    liveness.record()
    health = Health(storage, clock, liveness)
    ok, report = await health.report()
    assert ok, report
    assert report["database"] == {"reachable": True, "writable": True, "migrations_current": True}
    assert report["backlog"] == {"staff_outbox": 0, "broadcast_outbox": 0, "pending_reminders": 0}
    assert report["updates"] == {"mode": "polling", "seconds_since_last": 0.0, "unreadable": 0}

    # The file turns read-only under the running bot (as after a full disk or a bad mount).
    await storage.db.execute("PRAGMA query_only = ON")
    ok, report = await health.report()
    assert not ok
    assert report["database"]["writable"] is False and report["database"]["reachable"] is True
    assert any(p.startswith("database: cannot write") for p in report["problems"])

    await storage.db.execute("PRAGMA query_only = OFF")
    clock.advance(seconds=30)
    liveness.record()
    ok, report = await health.report()
    assert ok, report


async def test_polling_silent_for_more_than_two_minutes_fails(storage: Storage) -> None:
    clock = FakeClock(START)
    liveness = Liveness(clock, "polling")
    health = Health(storage, clock, liveness)
    liveness.record()
    clock.advance(minutes=2)
    ok, report = await health.report()
    assert ok and report["updates"]["seconds_since_last"] == 120.0
    clock.advance(seconds=1)
    ok, report = await health.report()
    assert not ok and report["problems"] == ["updates: no successful getUpdates for 121 s"]
    liveness.record()  # the next poll succeeds
    assert (await health.report())[0]

    # A webhook is quiet whenever residents are: never stale.
    quiet = Health(storage, clock, Liveness(clock, "webhook"))
    clock.advance(timedelta(hours=5))
    ok, report = await quiet.report()
    assert ok and report["updates"]["seconds_since_last"] == 5 * 3600


async def test_pluggable_checks_engine_down_and_up(storage: Storage) -> None:
    clock = FakeClock(START)
    liveness = Liveness(clock, "webhook")

    async def languages(request: web.Request) -> web.Response:
        return web.json_response([{"code": "de", "name": "German", "targets": ["en"]}])

    app = web.Application()
    app.router.add_get("/languages", languages)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        up = http_probe("translation", f"http://127.0.0.1:{port}/languages")
        down = http_probe("voice", f"http://127.0.0.1:{free_port()}/", timeout=1.0)
        ok, report = await Health(storage, clock, liveness, [up]).report()
        assert ok and report["checks"] == {"translation": {"ok": True, "detail": ""}}
        ok, report = await Health(storage, clock, liveness, [up, down]).report()
        assert not ok
        assert report["checks"]["voice"]["ok"] is False
        assert report["problems"] == ["voice: unreachable (ClientConnectorError)"]
    finally:
        await runner.cleanup()

    async def broken() -> Check:
        raise RuntimeError("engine crashed")

    ok, report = await Health(storage, clock, liveness, [broken]).report()
    assert not ok and "engine crashed" in report["problems"][0]


async def test_database_closed_is_not_reachable(tmp_path: Path) -> None:
    clock = FakeClock(START)
    health = Health(Storage(tmp_path / "never-opened.sqlite3"), clock, Liveness(clock, "webhook"))
    ok, report = await health.report()
    assert not ok
    assert report["database"]["reachable"] is False and report["backlog"] is None


# -- polling, with the health listener on QUARTIERBOT_HEALTH_PORT -----------------------------
@pytest.fixture
async def polling(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[ReceiverHarness]:
    with_health = with_config(config, health_listen=("127.0.0.1", 0))
    async for harness in started(ReceiverHarness(sandbox, with_health, clock, i18n)):
        yield harness


async def healthz(harness: ReceiverHarness) -> tuple[int, JSON]:
    assert harness.receiver is not None and harness.receiver.listener is not None
    url = f"http://127.0.0.1:{harness.receiver.listener.port}/healthz"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_polling_health_endpoint_follows_get_updates(polling: ReceiverHarness) -> None:
    sandbox, clock = polling.sandbox, polling.clock
    receiver = polling.receiver
    assert receiver is not None
    await sandbox.wait_for(lambda: receiver.liveness.last_success is not None)
    status, report = await healthz(polling)
    assert status == 200 and report["ok"] and report["updates"]["mode"] == "polling"

    # Telegram's side breaks: every getUpdates fails; more than two minutes pass.
    sandbox.fail_next("getUpdates", 502, "Bad Gateway", times=10_000)
    failed_at = len(sandbox.calls("getUpdates"))
    await sandbox.wait_for(lambda: any(not c.ok for c in sandbox.calls("getUpdates")[failed_at:]))
    clock.advance(minutes=3)
    status, report = await healthz(polling)
    assert status == 503, report
    assert report["problems"][0].startswith("updates: no successful getUpdates for 18")

    # Mended: the next poll succeeds and the check is green again at once.
    sandbox.world.faults.clear()
    mended = clock.now()
    before = receiver.liveness.last_success
    assert before is not None and before < mended
    await sandbox.wait_for(lambda: receiver.liveness.last_success == mended, timeout=15)
    status, report = await healthz(polling)
    assert status == 200, report
