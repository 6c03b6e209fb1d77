"""``python -m bot check`` on a healthy setup and on broken ones: the database folder
read-only, the staff group unknown, a database from a newer version, a broken directory
file, an unknown token. One line per problem, exit code 1."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.check import check
from bot.config import Config
from sandbox.server import Sandbox
from storage import Storage
from tests.conftest import STAFF_CHAT, TOKEN, with_config
from tests.receiver_harness import free_port

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534


async def test_healthy_setup_has_no_problems(config: Config) -> None:
    assert await check(config) == [], "a first start: no database yet, folder writable"
    storage = Storage(config.db_path)
    await storage.open()
    await storage.close()
    assert await check(config) == []
    config.db_path.chmod(0o644)
    [problem] = await check(config)
    assert problem.endswith("other users may read residents' data (chmod 600 bot.sqlite3)")


async def test_database_of_a_newer_version_and_broken_directory(
    config: Config, tmp_path: Path
) -> None:
    storage = Storage(config.db_path)
    await storage.open()
    await storage.close()
    with sqlite3.connect(config.db_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future.sql', 'now')")
    directory = tmp_path / "directory.yaml"
    directory.write_text("version: 1\ntopics: [{id: work}]\n", encoding="utf-8")
    problems = await check(with_config(config, directory=directory))
    assert any("newer version" in p and "9999" in p for p in problems), problems
    assert any(p.startswith(f"directory {directory}:") for p in problems), problems
    assert all("\n" not in p for p in problems)


async def test_unknown_token_and_forum_rules(sandbox: Sandbox, config: Config) -> None:
    assert await check(with_config(config, token="4242:WRONG-token")) == [
        "QUARTIERBOT_TOKEN: Telegram does not know this token (ask @BotFather)"
    ]
    plain = sandbox.add_group("Team without topics", is_forum=False)
    [problem] = await check(with_config(config, staff_chat=plain["id"]))
    assert "topics are off" in problem


async def test_bot_rights_in_the_staff_group(sandbox: Sandbox, config: Config) -> None:
    sandbox.set_bot_membership(STAFF_CHAT, "administrator", can_manage_topics=False)
    assert await check(config) == [
        f"staff group {STAFF_CHAT}: the bot may not manage topics (admin rights)"
    ]
    sandbox.set_bot_membership(STAFF_CHAT, "member")
    assert await check(config) == [
        f"staff group {STAFF_CHAT}: the bot is not an administrator there"
    ]


async def test_failing_webhook_deliveries_are_reported(sandbox: Sandbox, config: Config) -> None:
    url = "https://bot.example.org/telegram/quartierbot"
    sandbox.route_webhook("https://bot.example.org", f"http://127.0.0.1:{free_port()}")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.base_url}{sandbox.token}/setWebhook", json={"url": url}
        ) as response,
    ):
        assert response.status == 200
    sandbox.send_text(sandbox.add_user("Aylin"), "hello")  # nobody listens: delivery fails
    await sandbox.wait_for(lambda: sandbox.webhook and sandbox.webhook.last_error_message)
    [problem] = await check(with_config(config, webhook_url=url))
    assert problem.startswith("webhook: 1 update(s) waiting; Telegram's last delivery failed")
    assert await check(config) == [], "polling: the next start deletes the webhook"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder an unprivileged user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="quartierbot-check-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path)


async def test_read_only_database_folder_and_unknown_staff_group(
    sandbox: Sandbox, shared_dir: Path
) -> None:
    """As the service user would run it: ``python -m bot check`` in a subprocess. Root may
    write anywhere, so under root the command runs as ``nobody`` via setpriv."""
    data = shared_dir / "data"
    db = data / "quartierbot.sqlite3"
    storage = Storage(db)
    await storage.open()
    await storage.close()
    db.chmod(0o644)
    data.chmod(0o555)
    command = [sys.executable, "-m", "bot", "check"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a folder read-only")
        command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIERBOT_")}
    env |= {
        "QUARTIERBOT_TOKEN": TOKEN,
        "QUARTIERBOT_API_URL": sandbox.url,
        "QUARTIERBOT_DB": str(db),
        "QUARTIERBOT_STAFF_CHAT": str(STAFF_CHAT - 1),  # no such group
        "QUARTIERBOT_ADMINS": "1",
        "PYTHONPATH": str(ROOT),
        "HOME": str(shared_dir),
    }
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=shared_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = out.decode().splitlines()
    assert process.returncode == 1, (out + err).decode()
    assert any(line.startswith(f"database folder {data} is not writable") for line in lines), lines
    assert any(
        line.startswith(f"staff group {STAFF_CHAT - 1}: the bot cannot see it") for line in lines
    ), lines
    assert f"{len(lines)} problem(s) found" in err.decode()
