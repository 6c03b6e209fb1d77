"""Callback data: short, versioned, and parsed in this one place.

Format: ``<version>:<kind>[:<arg>…]``. Telegram allows 1–64 bytes. Anything that does not
parse, carries an old version or an unknown kind is stale or forged; handlers never see it
and the fallback handler answers it politely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
SEP = ":"
MAX_BYTES = 64
_ARG_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


@dataclass(frozen=True)
class Callback:
    kind: str
    args: tuple[str, ...]

    def arg(self, index: int, default: str = "") -> str:
        return self.args[index] if index < len(self.args) else default

    def int_arg(self, index: int) -> int | None:
        value = self.arg(index)
        return int(value) if value.isdigit() else None


# kind -> (min args, max args); each handler module declares its kinds here by calling
# ``kind()`` at import time, so unknown kinds are rejected before any handler runs.
_KINDS: dict[str, tuple[int, int]] = {}


def kind(name: str, min_args: int = 0, max_args: int | None = None) -> str:
    if not re.fullmatch(r"[a-z]{1,8}", name):
        raise ValueError(f"bad callback kind {name!r}")
    _KINDS[name] = (min_args, min_args if max_args is None else max_args)
    return name


def make(name: str, *args: object) -> str:
    if name not in _KINDS:
        raise ValueError(f"unknown callback kind {name!r}")
    parts = [str(a) for a in args]
    for part in parts:
        if not _ARG_RE.match(part):
            raise ValueError(f"callback argument {part!r} is not allowed")
    data = SEP.join([VERSION, name, *parts])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def parse(data: object) -> Callback | None:
    if not isinstance(data, str) or not 0 < len(data.encode()) <= MAX_BYTES:
        return None
    version, _, rest = data.partition(SEP)
    if version != VERSION or not rest:
        return None
    name, *args = rest.split(SEP)
    limits = _KINDS.get(name)
    if limits is None or not limits[0] <= len(args) <= limits[1]:
        return None
    if not all(_ARG_RE.match(a) for a in args):
        return None
    return Callback(name, tuple(args))
