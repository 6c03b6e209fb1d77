"""The files an office installs: the systemd units pass ``systemd-analyze verify`` and say
what the README promises; the README's configuration table names every variable the loader
reads, its example settings load, and its nginx example forwards the example webhook URL."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.config import load_config
from bot.webhook import listener_path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNITS = ("quartierbot.service", "backup.service", "backup.timer")


def directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / unit).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip(
            "systemd-analyze is not installed (Debian package systemd; .ci/run installs it)"
        )
    # verify checks that ExecStart's program exists: point /opt/quartierbot at this checkout.
    for unit in UNITS:
        text = (DEPLOY / unit).read_text(encoding="utf-8")
        (tmp_path / unit).write_text(text.replace("/opt/quartierbot", str(ROOT)), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / u) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    # Unknown keys and bad values are only warnings (exit code 0): none may be printed.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_the_service_is_what_the_readme_promises() -> None:
    service = directives("quartierbot.service")
    assert service["User"] == ["quartierbot"] and service["StateDirectory"] == ["quartierbot"]
    assert service["Restart"] == ["on-failure"]
    assert service["NoNewPrivileges"] == ["yes"] and service["ProtectSystem"] == ["strict"]
    assert service["EnvironmentFile"] == ["/etc/quartierbot/quartierbot.env"]
    assert service["ExecStart"] == ["/opt/quartierbot/.venv/bin/python -m bot run"]
    assert service["Environment"] == ["QUARTIERBOT_DB=/var/lib/quartierbot/quartierbot.sqlite3"]
    backup = directives("backup.service")
    assert backup["ExecStart"] == ["/opt/quartierbot/.venv/bin/python -m bot backup"]
    assert backup["User"] == service["User"] and backup["Environment"] == service["Environment"]
    assert directives("backup.timer")["Persistent"] == ["true"]
    for unit in UNITS:
        assert f"deploy/{unit}" in README, unit


def test_readme_documents_every_variable() -> None:
    source = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    names = set(re.findall(r'get\("([A-Z_]+)"\)', source))
    assert {"WEBHOOK_URL", "WEBHOOK_LISTEN", "WEBHOOK_SECRET", "HEALTH_PORT", "LOG_FORMAT"} <= names
    table = set(re.findall(r"^\| `QUARTIERBOT_([A-Z_]+)` \|", README, re.MULTILINE))
    assert names <= table, f"not in the README's table: {sorted(names - table)}"


def test_readme_example_settings_load_and_the_proxy_forwards_the_webhook(tmp_path: Path) -> None:
    [block] = [
        b for b in re.findall(r"```sh\n(.*?)```", README, re.DOTALL) if "QUARTIERBOT_TOKEN=" in b
    ]
    settings = {k: v for k, v in dotenv_values(stream=io.StringIO(block)).items() if v}
    config = load_config(settings, env_file=None)
    assert config.token is not None and config.staff_chat is not None and config.admins
    example = re.search(r"# QUARTIERBOT_WEBHOOK_URL=(\S+)", block)
    assert example is not None
    webhook = load_config({**settings, "QUARTIERBOT_WEBHOOK_URL": example.group(1)}, env_file=None)
    assert webhook.webhook_url is not None
    [nginx] = re.findall(r"```nginx\n(.*?)```", README, re.DOTALL)
    location = re.search(r"location (\S+) \{", nginx)
    assert location is not None and listener_path(webhook.webhook_url).startswith(location.group(1))
    host, port = webhook.webhook_listen
    assert f"proxy_pass http://{host}:{port};" in nginx


def test_the_quick_start_says_what_a_fresh_debian_needs_and_how_to_stop() -> None:
    """A newcomer on a fresh Debian has Python without ``venv`` and no ``make``: the quick
    start (before the first section) names both packages and how to stop the demo."""
    quick_start = README.split("\n## ", 1)[0]
    install = re.search(r"apt-get install ([^\n#]+)", quick_start)
    assert install is not None, "the quick start does not say what to install"
    assert {"python3-venv", "make"} <= set(install.group(1).split())
    assert "make run" in quick_start and "Ctrl+C" in quick_start
